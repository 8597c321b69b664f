//! Webhook endpoints, in process memory.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use onboard_domain::OrgId;
use onboard_domain::ports::{Unavailable, WebhookEndpoints};
use onboard_domain::webhooks::WebhookEndpoint;

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
}
