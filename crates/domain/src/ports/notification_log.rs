//! The record of what became of each email.

use async_trait::async_trait;

use super::Unavailable;
use crate::ids::{NotificationId, UserId};
use crate::notifications::Notification;

/// The records of what became of each email, per user.
#[async_trait]
pub trait NotificationLog: Send + Sync {
    /// Stores `notification`, replacing the record of the same id.
    async fn put(&self, notification: &Notification) -> Result<(), Unavailable>;

    /// Stores each of `notifications` as [`Self::put`] does; in one round
    /// trip where the store can (one outbox partition's, say). By default one
    /// [`Self::put`] after the other.
    async fn put_many(&self, notifications: &[Notification]) -> Result<(), Unavailable> {
        for n in notifications {
            self.put(n).await?;
        }
        Ok(())
    }

    async fn find(&self, user: &UserId, id: &NotificationId) -> Result<Option<Notification>, Unavailable>;

    /// The user's notifications, newest first.
    async fn list(&self, user: &UserId) -> Result<Vec<Notification>, Unavailable>;
}

// Written out rather than derived, so the mock keeps `put_many`'s default.
#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    pub NotificationLog {}
    #[async_trait]
    impl NotificationLog for NotificationLog {
        async fn put(&self, notification: &Notification) -> Result<(), Unavailable>;
        async fn find(&self, user: &UserId, id: &NotificationId) -> Result<Option<Notification>, Unavailable>;
        async fn list(&self, user: &UserId) -> Result<Vec<Notification>, Unavailable>;
    }
}
