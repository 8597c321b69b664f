//! The webhooks' durable queues: the events writes record, per partition of
//! users, and each endpoint's deliveries.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::Unavailable;
use crate::webhook_events::{HookEvent, HookExpiry, WebhookDelivery};

/// The events recorded by [`UserRepository::save`](super::UserRepository::save)
/// (what [`events_of_write`](crate::webhook_events::events_of_write) makes of
/// the write) and by [`NotificationLog::put`](super::NotificationLog::put)
/// ([`event_of_notification`](crate::webhook_events::event_of_notification)),
/// each in the same atomic write as the change it follows, in the partition
/// of its user, oldest first; shared by every node. One node at a time
/// fans a partition out (it holds the partition's lease), so each user's
/// events keep their order. At least once: events stay until acknowledged,
/// and a node that dies holding a lease leaves them to the next holder.
#[async_trait]
pub trait HookQueue: Send + Sync {
    /// How many partitions there are (at least 1); numbered from 0.
    fn hook_partitions(&self) -> usize;

    /// Up to `limit` of the oldest events of `partition`, in the order they
    /// were recorded, when this node holds the partition's lease (now
    /// taken or extended for `lease`); none while another node holds it.
    /// The same events again until they are acknowledged.
    async fn claim_hook_events(
        &self,
        partition: usize,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HookEvent>, Unavailable>;

    /// Removes claimed events: fanned out. Gone ones are not an error.
    async fn ack_hook_events(&self, partition: usize, events: &[HookEvent]) -> Result<(), Unavailable>;

    /// Up to `limit` of the partition's scheduled expiries (what
    /// [`expiry_of_write`](crate::webhook_events::expiry_of_write) made of
    /// each saved write, kept in the same atomic write) due by `now`,
    /// earliest first, when this node holds the partition's lease (taken or
    /// extended for `lease`, as [`HookQueue::claim_hook_events`] does); none
    /// while another node holds it. The same ones again until settled. An
    /// expiry may be late by up to a second (stores may group them by the
    /// second), never early; a user's older code's expiry may still come due
    /// after a newer code (it tells nothing: the user's code is not expired).
    async fn due_expiries(
        &self,
        partition: usize,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HookExpiry>, Unavailable>;

    /// In one atomic write: records `expired` as the partition's newest
    /// events and removes the expiries `done` (as [`HookQueue::due_expiries`]
    /// gave them, earliest first).
    async fn settle_expiries(
        &self,
        partition: usize,
        expired: &[HookEvent],
        done: &[HookExpiry],
    ) -> Result<(), Unavailable>;
}

/// Each endpoint's deliveries: pending ones in the order they were added,
/// and the recent ones whatever became of them, for inspection.
#[async_trait]
pub trait HookDeliveries: Send + Sync {
    /// Adds `delivery` as its endpoint's newest, unless one of its id is
    /// there (an event fanned out twice); whether it was added.
    async fn add_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, Unavailable>;

    /// Stores `delivery` as it now stands: a pending one keeps its place,
    /// any other leaves the pending ones; one made pending again (a retry by
    /// hand) goes to the end of them.
    async fn put_delivery(&self, delivery: &WebhookDelivery) -> Result<(), Unavailable>;

    /// Up to `limit` of the endpoint's pending deliveries, oldest first.
    async fn pending_deliveries(&self, endpoint: &str, limit: usize) -> Result<Vec<WebhookDelivery>, Unavailable>;

    /// Up to `limit` of the endpoint's deliveries, whatever their state, newest first.
    async fn recent_deliveries(&self, endpoint: &str, limit: usize) -> Result<Vec<WebhookDelivery>, Unavailable>;

    async fn delivery(&self, endpoint: &str, id: &str) -> Result<Option<WebhookDelivery>, Unavailable>;

    /// Whether `holder` now holds the endpoint's delivery lease until
    /// `now + ttl` (it did, or nobody held it): one node sends to an
    /// endpoint at a time, so its order holds.
    async fn lease_endpoint(
        &self,
        endpoint: &str,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<bool, Unavailable>;
}
