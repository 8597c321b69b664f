//! The record of what became of each email.

use async_trait::async_trait;

use super::Unavailable;
use crate::ids::{NotificationId, UserId};
use crate::notifications::Notification;

/// The records of what became of each email, per user.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait NotificationLog: Send + Sync {
    /// Stores `notification`, replacing the record of the same id.
    async fn put(&self, notification: &Notification) -> Result<(), Unavailable>;

    async fn find(&self, user: &UserId, id: &NotificationId) -> Result<Option<Notification>, Unavailable>;

    /// The user's notifications, newest first.
    async fn list(&self, user: &UserId) -> Result<Vec<Notification>, Unavailable>;
}
