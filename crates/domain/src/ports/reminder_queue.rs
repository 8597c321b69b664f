//! The reminders' durable schedule, per partition of users.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::Unavailable;
use crate::reminders::DueReminder;

/// The reminders [`UserRepository::save`](super::UserRepository::save)
/// scheduled (what [`reminders_of_write`](crate::reminders::reminders_of_write)
/// makes of each write with the store's offsets, kept in the same atomic
/// write as the code), in the partition of their user; shared by every node.
/// One node at a time works a partition (it holds the partition's reminder
/// lease). An entry stays until settled, so a node that dies mid-round
/// leaves it to the next holder, which decides it again.
#[async_trait]
pub trait ReminderQueue: Send + Sync {
    /// How many partitions there are (at least 1); numbered from 0.
    fn reminder_partitions(&self) -> usize;

    /// Up to `limit` of the partition's reminders due by `now`, earliest
    /// first, when this node holds the partition's reminder lease (taken or
    /// extended for `lease`); none while another node holds it. The same
    /// ones again until settled. One may be late by up to a second (stores
    /// may group them by the second), never early.
    async fn due_reminders(
        &self,
        partition: usize,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<DueReminder>, Unavailable>;

    /// Removes `done` (as [`ReminderQueue::due_reminders`] gave them,
    /// earliest first) from the schedule. Gone ones are not an error.
    async fn settle_reminders(&self, partition: usize, done: &[DueReminder]) -> Result<(), Unavailable>;
}

#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    pub ReminderQueue {}
    #[async_trait]
    impl ReminderQueue for ReminderQueue {
        fn reminder_partitions(&self) -> usize;
        async fn due_reminders(
            &self,
            partition: usize,
            now: OffsetDateTime,
            limit: usize,
            lease: Duration,
        ) -> Result<Vec<DueReminder>, Unavailable>;
        async fn settle_reminders(&self, partition: usize, done: &[DueReminder]) -> Result<(), Unavailable>;
    }
}
