//! Users and their event logs: where the user aggregate is kept.

use async_trait::async_trait;

use super::Unavailable;
use crate::events::RecordedEvent;
use crate::ids::UserId;
use crate::user::{User, UserWrite};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// Another write to this user landed after it was read (its sequence is
    /// no longer `expected_sequence`), or, on create, the id is taken.
    #[error("the user was changed concurrently")]
    Conflict,
    /// On create: the organization already has a user of this name (compared
    /// by [`crate::UserName::unique_key`]).
    #[error("the user name is taken in this organization")]
    UserNameTaken,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Users and their event logs.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// The user, deleted ones included; `Ok(None)` when there is none.
    async fn get(&self, id: &UserId) -> Result<Option<User>, Unavailable>;

    /// The user's whole event log, oldest first (empty when there is none).
    async fn events(&self, id: &UserId) -> Result<Vec<RecordedEvent>, Unavailable>;

    /// Applies `write` all or nothing: the user, its events and the outbox
    /// entry. An outbox entry replaces any pending entry of the same user (the
    /// newest code is the only one worth mailing) and is recorded in the
    /// [`NotificationLog`](super::NotificationLog) as [`Notification::queued`](crate::notifications::Notification::queued). Errors: [`SaveError`].
    async fn save(&self, write: UserWrite) -> Result<(), SaveError>;

    /// Whether the store answers; for readiness probes.
    async fn ping(&self) -> Result<(), Unavailable>;
}
