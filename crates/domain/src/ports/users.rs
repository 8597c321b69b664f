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
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// The user, deleted ones included; `Ok(None)` when there is none.
    async fn get(&self, id: &UserId) -> Result<Option<User>, Unavailable>;

    /// The user as a write should start from: a store may answer from what
    /// this node last read or wrote, so the user can be older than the
    /// stored one (never newer). The write's `expected_sequence` catches
    /// that ([`SaveError::Conflict`], after which the store answers this
    /// from a fresh read), so decisions that end in a write are made on the
    /// current state. Refusals made on it hold too, as long as they rest on
    /// facts that never revert (a user's organization, its deletion, its
    /// leaving Initial). Never for answering reads. By default [`Self::get`].
    async fn get_for_write(&self, id: &UserId) -> Result<Option<User>, Unavailable> {
        self.get(id).await
    }

    /// The users of `ids`, in order, as [`Self::get`] reads them; in one
    /// round trip where the store can (ids of one outbox partition, say).
    /// For delivery: a user whose outbox entry this store just returned from
    /// [`Outbox::claim_due`](super::Outbox::claim_due) may be answered as it
    /// was when claimed.
    async fn get_many(&self, ids: &[UserId]) -> Result<Vec<Option<User>>, Unavailable> {
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            users.push(self.get(id).await?);
        }
        Ok(users)
    }

    /// The user's whole event log, oldest first (empty when there is none).
    async fn events(&self, id: &UserId) -> Result<Vec<RecordedEvent>, Unavailable>;

    /// Applies `write` all or nothing: the user, its events and the outbox
    /// entry. An outbox entry replaces any pending entry of the same user (the
    /// newest code is the only one worth mailing) and is recorded in the
    /// [`NotificationLog`](super::NotificationLog) as [`Notification::queued`](crate::notifications::Notification::queued). Errors: [`SaveError`].
    async fn save(&self, write: UserWrite) -> Result<(), SaveError>;

    /// Applies each of `writes` as [`Self::save`] does, each all or nothing
    /// on its own; one result per write, in order. For bookkeeping that may
    /// be lost in a failover (delivery's "code sent"): a store need not wait
    /// for replicas here. By default one [`Self::save`] after the other.
    async fn save_many(&self, writes: Vec<UserWrite>) -> Vec<Result<(), SaveError>> {
        let mut results = Vec::with_capacity(writes.len());
        for write in writes {
            results.push(self.save(write).await);
        }
        results
    }

    /// Whether the store answers; for readiness probes.
    async fn ping(&self) -> Result<(), Unavailable>;
}

// Written out rather than derived: the methods with a default keep it in
// the mock, so tests that expect `get` and `save` drive them too.
#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    pub UserRepository {}
    #[async_trait]
    impl UserRepository for UserRepository {
        async fn get(&self, id: &UserId) -> Result<Option<User>, Unavailable>;
        async fn events(&self, id: &UserId) -> Result<Vec<RecordedEvent>, Unavailable>;
        async fn save(&self, write: UserWrite) -> Result<(), SaveError>;
        async fn ping(&self) -> Result<(), Unavailable>;
    }
}
