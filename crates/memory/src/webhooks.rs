//! Webhook endpoints, in process memory.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use onboard_domain::OrgId;
use onboard_domain::ports::{HookDeliveries, Unavailable, WebhookEndpoints};
use onboard_domain::webhook_events::{HookDeliveryState, WebhookDelivery};
use onboard_domain::webhooks::WebhookEndpoint;
use time::{Duration, OffsetDateTime};

/// The embedded store of webhook endpoints.
#[derive(Default)]
pub struct InMemoryWebhookEndpoints {
    endpoints: Mutex<HashMap<String, WebhookEndpoint>>,
}

impl std::fmt::Debug for InMemoryWebhookEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryWebhookEndpoints").field("endpoints", &self.lock().len()).finish()
    }
}

impl InMemoryWebhookEndpoints {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, WebhookEndpoint>> {
        self.endpoints.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl WebhookEndpoints for InMemoryWebhookEndpoints {
    async fn put_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), Unavailable> {
        self.lock().insert(endpoint.id.clone(), endpoint.clone());
        Ok(())
    }

    async fn endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, Unavailable> {
        Ok(self.lock().get(id).cloned())
    }

    async fn endpoints<'a>(&self, org: Option<&'a OrgId>) -> Result<Vec<WebhookEndpoint>, Unavailable> {
        Ok(self.lock().values().filter(|e| org.is_none_or(|o| &e.org == o)).cloned().collect())
    }

    async fn remove_endpoint(&self, id: &str) -> Result<bool, Unavailable> {
        Ok(self.lock().remove(id).is_some())
    }
}

/// One endpoint's deliveries: by id, with the order each was added (or
/// made pending again) in.
#[derive(Default)]
struct Queue {
    by_id: HashMap<String, (u64, WebhookDelivery)>,
    next: u64,
}

/// The embedded store of webhook deliveries, per endpoint.
#[derive(Default)]
pub struct InMemoryHookDeliveries {
    endpoints: Mutex<HashMap<String, Queue>>,
    leases: Mutex<HashMap<String, (String, OffsetDateTime)>>,
}

impl std::fmt::Debug for InMemoryHookDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryHookDeliveries").finish_non_exhaustive()
    }
}

impl InMemoryHookDeliveries {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Queue>> {
        self.endpoints.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sorted(&self, endpoint: &str, keep: impl Fn(&WebhookDelivery) -> bool) -> Vec<(u64, WebhookDelivery)> {
        let all = self.lock();
        let mut found: Vec<_> =
            all.get(endpoint).map(|q| q.by_id.values().filter(|(_, d)| keep(d)).cloned().collect()).unwrap_or_default();
        found.sort_by_key(|(order, _)| *order);
        found
    }
}

#[async_trait]
impl HookDeliveries for InMemoryHookDeliveries {
    async fn add_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, Unavailable> {
        let mut all = self.lock();
        let queue = all.entry(delivery.endpoint_id.clone()).or_default();
        if queue.by_id.contains_key(&delivery.id) {
            return Ok(false);
        }
        queue.next += 1;
        let order = queue.next;
        queue.by_id.insert(delivery.id.clone(), (order, delivery.clone()));
        Ok(true)
    }

    async fn put_delivery(&self, delivery: &WebhookDelivery) -> Result<(), Unavailable> {
        let mut all = self.lock();
        let queue = all.entry(delivery.endpoint_id.clone()).or_default();
        queue.next += 1;
        let fresh = queue.next;
        let order = match queue.by_id.get(&delivery.id) {
            // Pending again (a retry by hand): after every pending one.
            Some((_, was))
                if was.state != HookDeliveryState::Pending && delivery.state == HookDeliveryState::Pending =>
            {
                fresh
            }
            Some((order, _)) => *order,
            None => fresh,
        };
        queue.by_id.insert(delivery.id.clone(), (order, delivery.clone()));
        Ok(())
    }

    async fn pending_deliveries(&self, endpoint: &str, limit: usize) -> Result<Vec<WebhookDelivery>, Unavailable> {
        let pending = self.sorted(endpoint, |d| d.state == HookDeliveryState::Pending);
        Ok(pending.into_iter().take(limit).map(|(_, d)| d).collect())
    }

    async fn recent_deliveries(&self, endpoint: &str, limit: usize) -> Result<Vec<WebhookDelivery>, Unavailable> {
        let all = self.sorted(endpoint, |_| true);
        Ok(all.into_iter().rev().take(limit).map(|(_, d)| d).collect())
    }

    async fn delivery(&self, endpoint: &str, id: &str) -> Result<Option<WebhookDelivery>, Unavailable> {
        Ok(self.lock().get(endpoint).and_then(|q| q.by_id.get(id)).map(|(_, d)| d.clone()))
    }

    async fn lease_endpoint(
        &self,
        endpoint: &str,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<bool, Unavailable> {
        let mut leases = self.leases.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match leases.get(endpoint) {
            Some((other, until)) if other != holder && *until > now => Ok(false),
            _ => {
                leases.insert(endpoint.to_owned(), (holder.to_owned(), now + ttl));
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn behaves_as_every_endpoint_store_must() {
        onboard_domain::testkit::check_webhook_endpoints(
            Arc::new(InMemoryWebhookEndpoints::new()),
            Arc::new(crate::InMemoryDirectory::new()),
        )
        .await;
    }

    #[tokio::test]
    async fn keeps_deliveries_as_every_delivery_store_must() {
        onboard_domain::testkit::check_hook_deliveries(&InMemoryHookDeliveries::new()).await;
    }

    #[tokio::test]
    async fn records_webhook_events_as_every_store_must() {
        onboard_domain::testkit::check_hook_queue(&crate::InMemoryStore::new()).await;
    }

    #[tokio::test]
    async fn schedules_reminders_as_every_store_must() {
        let store = crate::InMemoryStore::new().with_reminders(onboard_domain::testkit::reminder_offsets());
        onboard_domain::testkit::check_reminder_schedule(&store, None).await;
    }
}
