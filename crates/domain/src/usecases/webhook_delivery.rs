//! Delivery of webhook events: fanned out from the partitions' queue into
//! each endpoint's deliveries, then posted per endpoint in order, retried
//! with exponential backoff and jitter, dead-lettered at last.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::ids::OrgId;
use crate::ports::{
    Clock, HookDeliveries, HookQueue, Unavailable, UserRepository, WebhookEndpoints, WebhookError, WebhookTransport,
};
use crate::webhook_events::{HookData, HookDeliveryState, HookEvent, WebhookDelivery, expired_event};
use crate::webhooks::{WebhookEndpoint, WebhookMessage};

/// How webhook delivery behaves.
#[derive(Debug, Clone, Copy)]
pub struct WebhookConfig {
    /// Wait before the first retry, doubled for each further one up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// A delivery still failing this long after its event is dead-lettered.
    pub retry_period: Duration,
    /// Events fanned out per round and partition; deliveries looked at per round and endpoint.
    pub batch: usize,
    /// How long a node holds what it claimed (events, an endpoint) before another may take it.
    pub lease: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            retry_base: Duration::seconds(5),
            retry_cap: Duration::hours(1),
            retry_period: Duration::hours(24),
            batch: 200,
            lease: Duration::seconds(30),
        }
    }
}

impl WebhookConfig {
    /// The wait before attempt `attempts + 1`: `retry_base` doubled per
    /// attempt made, at most `retry_cap`, less up to a fifth at random so
    /// that endpoints coming back are not hit by every retry at once.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doubled = self.retry_base.saturating_mul(1 << attempts.saturating_sub(1).min(20));
        let wait = doubled.min(self.retry_cap);
        let mut byte = [0u8; 1];
        getrandom::getrandom(&mut byte).expect("the operating system's randomness");
        wait - wait * (f64::from(byte[0]) / 255.0 / 5.0)
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookRound {
    pub fanned_out: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead_lettered: usize,
}

/// Fans events out and delivers them.
#[derive(Clone)]
pub struct WebhookDispatcher {
    queue: Arc<dyn HookQueue>,
    deliveries: Arc<dyn HookDeliveries>,
    endpoints: Arc<dyn WebhookEndpoints>,
    users: Arc<dyn UserRepository>,
    transport: Arc<dyn WebhookTransport>,
    clock: Arc<dyn Clock>,
    config: WebhookConfig,
    node: String,
}

impl std::fmt::Debug for WebhookDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDispatcher").field("node", &self.node).finish_non_exhaustive()
    }
}

impl WebhookDispatcher {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        queue: Arc<dyn HookQueue>,
        deliveries: Arc<dyn HookDeliveries>,
        endpoints: Arc<dyn WebhookEndpoints>,
        users: Arc<dyn UserRepository>,
        transport: Arc<dyn WebhookTransport>,
        clock: Arc<dyn Clock>,
        config: WebhookConfig,
        node: &str,
    ) -> Self {
        Self { queue, deliveries, endpoints, users, transport, clock, config, node: node.to_owned() }
    }

    pub fn partitions(&self) -> usize {
        self.queue.hook_partitions()
    }

    pub fn config(&self) -> WebhookConfig {
        self.config
    }

    /// Every endpoint's id, for the caller to run [`Self::deliver`] for each.
    pub async fn endpoint_ids(&self) -> Result<Vec<String>, Unavailable> {
        Ok(self.endpoints.endpoints(None).await?.into_iter().map(|e| e.id).collect())
    }

    /// Fans the oldest events of `partition` out to the endpoints of their
    /// users' organizations that want them, then removes them from the
    /// queue. An event whose user is gone (or whose organization has no
    /// endpoint for it) is dropped.
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn fan_out(&self, partition: usize) -> Result<usize, Unavailable> {
        let events = self.queue.claim_hook_events(partition, self.config.batch, self.config.lease).await?;
        let expired = self.record_expired(partition).await?;
        if events.is_empty() {
            // Expiries just recorded are fanned out by the next round.
            return Ok(expired);
        }
        let users = self.users.get_many(&events.iter().map(|e| e.user_id.clone()).collect::<Vec<_>>()).await?;
        let mut by_org: HashMap<OrgId, Vec<WebhookEndpoint>> = HashMap::new();
        let mut added = 0;
        for (event, user) in events.iter().zip(users) {
            let Some(user) = user else { continue };
            if !by_org.contains_key(&user.org) {
                let endpoints = self.endpoints.endpoints(Some(&user.org)).await?;
                by_org.insert(user.org.clone(), endpoints);
            }
            let data = HookData {
                user_id: user.id.clone(),
                org: user.org.clone(),
                login_name: user.user_name.as_str().to_owned(),
                email: event.email.clone(),
                notification_id: event.notification_id.clone(),
                reason: event.reason.clone(),
                sequence: if event.sequence == 0 { user.sequence } else { event.sequence },
            };
            for endpoint in by_org[&user.org].iter().filter(|e| e.wants(event.event_type)) {
                if self.deliveries.add_delivery(&self.delivery_of(event, endpoint, data.clone())).await? {
                    added += 1;
                }
            }
        }
        self.queue.ack_hook_events(partition, &events).await?;
        Ok(added)
    }

    /// Turns the partition's expiries due now into `invitation.expired`
    /// events (for users still waiting with an expired code) in the
    /// partition's queue; how many were recorded. The event's id makes one
    /// told twice (a node dying before it settled) one delivery.
    async fn record_expired(&self, partition: usize) -> Result<usize, Unavailable> {
        let now = self.clock.now();
        let due = self.queue.due_expiries(partition, now, self.config.batch, self.config.lease).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let users = self.users.get_many(&due.iter().map(|d| d.user_id.clone()).collect::<Vec<_>>()).await?;
        let expired: Vec<HookEvent> = users.iter().filter_map(|u| expired_event(u.as_ref(), now)).collect();
        self.queue.settle_expiries(partition, &expired, &due).await?;
        Ok(expired.len())
    }

    /// An endpoint that failed a delivery for a whole retry period is
    /// disabled (re-read, so a change made meanwhile is kept), with one
    /// error line; an administrator enables it again.
    async fn disable_failing(&self, endpoint_id: &str, last: &WebhookDelivery) -> Result<(), Unavailable> {
        let Some(mut endpoint) = self.endpoints.endpoint(endpoint_id).await? else { return Ok(()) };
        if endpoint.enabled {
            endpoint.enabled = false;
            self.endpoints.put_endpoint(&endpoint).await?;
            tracing::error!(
                endpoint = %endpoint_id,
                org = %endpoint.org,
                url = %endpoint.url.as_str(),
                last_status = ?last.last_status,
                last_error = ?last.last_error,
                "webhook endpoint disabled: it failed for the whole retry period"
            );
        }
        Ok(())
    }

    fn delivery_of(&self, event: &HookEvent, endpoint: &WebhookEndpoint, data: HookData) -> WebhookDelivery {
        let now = self.clock.now();
        WebhookDelivery {
            id: format!("{}.{}", event.id, endpoint.id),
            endpoint_id: endpoint.id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type,
            at: event.at,
            data,
            state: HookDeliveryState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_attempt_at: None,
            last_status: None,
            last_error: None,
            created_at: now,
        }
    }

    /// Posts the endpoint's due deliveries, oldest first, one at a time (so
    /// each user's events arrive in order): a delivery waiting for its
    /// retry holds back the later ones of its user, not those of others.
    /// Does nothing unless this node holds the endpoint's lease. Returns the
    /// round's figures and when the endpoint next has something due.
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn deliver(&self, endpoint_id: &str) -> Result<(HookRound, Option<OffsetDateTime>), Unavailable> {
        let mut round = HookRound::default();
        let now = self.clock.now();
        if !self.deliveries.lease_endpoint(endpoint_id, &self.node, now, self.config.lease).await? {
            return Ok((round, None));
        }
        let Some(endpoint) = self.endpoints.endpoint(endpoint_id).await? else { return Ok((round, None)) };
        if !endpoint.enabled {
            return Ok((round, None));
        }
        let pending = self.deliveries.pending_deliveries(endpoint_id, self.config.batch).await?;
        let mut held: HashSet<String> = HashSet::new();
        let mut next: Option<OffsetDateTime> = None;
        let started = now;
        let mut exhausted = false;
        for mut d in pending {
            let user = d.data.user_id.as_str().to_owned();
            if held.contains(&user) {
                continue;
            }
            let now = self.clock.now();
            // The lease must outlast the round: another node takes the
            // endpoint over once it runs out.
            if now - started > self.config.lease / 2 {
                next = Some(now);
                break;
            }
            if d.next_attempt_at > now {
                held.insert(user);
                next = Some(next.map_or(d.next_attempt_at, |n| n.min(d.next_attempt_at)));
                continue;
            }
            let message = WebhookMessage { id: d.event_id.clone(), timestamp: now, body: d.body() };
            let secrets: Vec<_> = endpoint.signing_secrets(now).into_iter().cloned().collect();
            let sent = self.transport.post(&endpoint.url, &secrets, &message).await;
            d.attempts += 1;
            d.last_attempt_at = Some(now);
            match sent {
                Ok(status) => {
                    d.state = HookDeliveryState::Delivered;
                    d.last_status = Some(status);
                    d.last_error = None;
                    round.delivered += 1;
                }
                Err(WebhookError::Retry { status, reason, retry_after }) => {
                    d.last_status = status;
                    d.last_error = Some(reason);
                    let mut wait = self.config.backoff(d.attempts);
                    if let Some(after) = retry_after.and_then(|a| Duration::try_from(a).ok()) {
                        wait = wait.max(after.min(self.config.retry_cap));
                    }
                    if now + wait > d.created_at + self.config.retry_period {
                        d.state = HookDeliveryState::DeadLetter;
                        round.dead_lettered += 1;
                        exhausted = true;
                    } else {
                        d.next_attempt_at = now + wait;
                        held.insert(user);
                        next = Some(next.map_or(d.next_attempt_at, |n| n.min(d.next_attempt_at)));
                        round.retried += 1;
                    }
                }
                Err(WebhookError::Permanent { status, reason }) => {
                    d.last_status = status;
                    d.last_error = Some(reason);
                    d.state = HookDeliveryState::DeadLetter;
                    round.dead_lettered += 1;
                }
            }
            if d.state == HookDeliveryState::DeadLetter {
                tracing::warn!(endpoint = %endpoint_id, delivery = %d.id, error = ?d.last_error, "webhook delivery dead-lettered");
            }
            self.deliveries.put_delivery(&d).await?;
            if exhausted {
                self.disable_failing(endpoint_id, &d).await?;
                return Ok((round, None));
            }
        }
        Ok((round, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_less_up_to_a_fifth_at_random() {
        let config = WebhookConfig::default();
        for (attempts, full) in [(1, 5), (2, 10), (3, 20), (8, 640), (12, 3600), (40, 3600)] {
            for _ in 0..50 {
                let wait = config.backoff(attempts);
                let full = Duration::seconds(full);
                assert!(wait <= full && wait >= full * 0.8, "attempt {attempts}: {wait}");
            }
        }
        // Thirty attempts spread over most of a day: an endpoint down for hours is tried all along.
        let total: Duration = (1..=30).map(|a| config.backoff(a)).sum();
        assert!(total > Duration::hours(18), "{total}");
    }
}
