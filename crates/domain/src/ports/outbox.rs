//! The outbox: emails due, drained by the dispatcher, and the figures about
//! its backlog that monitoring reads.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::{SaveError, Unavailable};
use crate::notifications::Notification;
use crate::outbox::{OutboxDepth, OutboxEntry};
use crate::user::UserWrite;

/// An email the dispatcher mailed, and what its sending changes.
#[derive(Debug, Clone)]
pub struct Mailed {
    /// Its claimed entry, done with now.
    pub entry: OutboxEntry,
    /// Its user's "code sent" event, from the state the round read.
    pub write: UserWrite,
    /// What became of it.
    pub record: Notification,
}

/// The emails due, filled by [`UserRepository::save`](super::UserRepository::save) and drained by the
/// dispatcher. Delivery is at least once: an entry claimed by a dispatcher
/// that dies becomes due again when its lease runs out. Entries are spread
/// over [`Outbox::partitions`] partitions (by user), each drained on its own,
/// so several dispatchers can share the work.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// How many partitions there are (at least 1); numbered from 0.
    fn partitions(&self) -> usize;

    /// Up to `limit` entries of `partition` due at `now` and not leased, each
    /// now leased for `lease`. An entry superseded by a newer one of the same
    /// user is never returned. Errors: [`Unavailable`].
    async fn claim_due(
        &self,
        partition: usize,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxEntry>, Unavailable>;

    /// Removes the claimed `entry`: mailed, or not worth mailing. An entry
    /// that is not there any more (or was replaced) is not an error, and a
    /// newer entry of the same user stays.
    async fn complete(&self, entry: &OutboxEntry) -> Result<(), Unavailable>;

    /// Removes each of `entries` as [`Self::complete`] does; in one round
    /// trip where the store can (entries of one partition, as one claim
    /// returns them). By default one [`Self::complete`] after the other.
    async fn complete_many(&self, entries: &[OutboxEntry]) -> Result<(), Unavailable> {
        for entry in entries {
            self.complete(entry).await?;
        }
        Ok(())
    }

    /// Settles mailed emails in one go, where the store can: completes each
    /// entry, applies each write as [`UserRepository::save`](super::UserRepository::save)
    /// would (all or nothing, and not at all when the user's sequence moved:
    /// [`SaveError::Conflict`]) and keeps each record, in as few round trips
    /// as the store can; one result per email, for its write. `None` when the
    /// store offers no such thing (the default): the dispatcher then saves,
    /// completes and records on its own.
    async fn complete_mailed(&self, mailed: &[Mailed]) -> Option<Result<Vec<Result<(), SaveError>>, Unavailable>> {
        let _ = mailed;
        None
    }

    /// Releases the lease on `entry` and makes it due again at `not_before`,
    /// with `attempts` recorded. An entry that is not there any more is not an error.
    async fn reschedule(
        &self,
        entry: &OutboxEntry,
        attempts: u32,
        not_before: OffsetDateTime,
    ) -> Result<(), Unavailable>;

    /// Returns when entries of `partition` may have become due, or after `max_wait`.
    async fn wait_for_work(&self, partition: usize, max_wait: std::time::Duration);
}

// Written out rather than derived, so the mock keeps `complete_many`'s default.
#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    pub Outbox {}
    #[async_trait]
    impl Outbox for Outbox {
        fn partitions(&self) -> usize;
        async fn claim_due(
            &self,
            partition: usize,
            now: OffsetDateTime,
            limit: usize,
            lease: Duration,
        ) -> Result<Vec<OutboxEntry>, Unavailable>;
        async fn complete(&self, entry: &OutboxEntry) -> Result<(), Unavailable>;
        async fn reschedule(
            &self,
            entry: &OutboxEntry,
            attempts: u32,
            not_before: OffsetDateTime,
        ) -> Result<(), Unavailable>;
        async fn wait_for_work(&self, partition: usize, max_wait: std::time::Duration);
    }
}

/// Answers how deep the outbox is. Cheap enough to call on every scrape.
/// Read-only: nothing here changes state or takes part in delivery.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OutboxStats: Send + Sync {
    async fn depth(&self) -> Result<OutboxDepth, Unavailable>;
}
