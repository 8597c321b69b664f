//! Read-only figures about the outbox, for monitoring: how much mail waits
//! and for how long. Nothing here changes state or takes part in delivery.

use async_trait::async_trait;

use crate::ports::Unavailable;

/// The outbox's backlog at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    /// Emails waiting to be sent or retried (superseded ones the store has not
    /// cleaned up yet may be included).
    pub entries: u64,
    /// Age of the oldest waiting email; `None` when the outbox is empty or the
    /// store does not keep track of it.
    pub oldest_age: Option<std::time::Duration>,
}

/// Answers how deep the outbox is. Cheap enough to call on every scrape.
#[async_trait]
pub trait OutboxStats: Send + Sync {
    async fn depth(&self) -> Result<OutboxDepth, Unavailable>;
}
