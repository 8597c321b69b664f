//! Users and their event logs: where the user aggregate is kept.

use async_trait::async_trait;

use super::Unavailable;
use crate::events::RecordedEvent;
use crate::ids::{OrgId, UserId};
use crate::user::{User, UserState, UserWrite};
use crate::user_query::Page;

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

    /// Applies `write` all or nothing: the user, its events, its entries in
    /// the [`UserIndex`] and the outbox entry. A write that deletes the user
    /// frees its user name. An outbox entry replaces any pending entry of the same user (the
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

/// Ids of one page of an index, and how many the whole index holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdPage {
    pub total: u64,
    pub ids: Vec<UserId>,
}

/// The users' secondary indexes, kept by the same atomic write that changes
/// what they index ([`UserRepository::save`]), so an index never lags its
/// user. Deleted users are in none of them (as in ZITADEL's users
/// projection, which drops a removed user). Orders are creation time, then
/// id.
#[async_trait]
pub trait UserIndex: Send + Sync {
    /// The `page` of the users of `org` in `state`, in creation order
    /// (`page.asc`) or its reverse, and how many there are.
    async fn by_state(&self, org: &OrgId, state: UserState, page: &Page) -> Result<IdPage, Unavailable>;

    /// The `page` of every user of `org`, as [`Self::by_state`] orders them.
    async fn in_org(&self, org: &OrgId, page: &Page) -> Result<IdPage, Unavailable>;

    /// Up to `count` users of `org`, in no particular order, from `cursor`
    /// (`None`: the start), and the cursor of the next chunk (`None` at the
    /// end). Each user there and unchanged throughout the scan is met once;
    /// one written meanwhile may be met twice or not at all (a store may
    /// walk its indexes by state). The cost per chunk does not grow with how
    /// far the scan got.
    async fn scan_org(
        &self,
        org: &OrgId,
        cursor: Option<String>,
        count: u32,
    ) -> Result<(Vec<UserId>, Option<String>), Unavailable>;

    /// The users named `unique_name` ([`UserName::unique_key`](crate::UserName::unique_key)) in `org`,
    /// or in every organization when `org` is `None`.
    async fn by_user_name(&self, org: Option<OrgId>, unique_name: &str) -> Result<Vec<UserId>, Unavailable>;

    /// The users of `org` whose address is `address` (compared in lower case).
    async fn by_email(&self, org: &OrgId, address: &str) -> Result<Vec<UserId>, Unavailable>;
}

#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    pub UserIndex {}
    #[async_trait]
    impl UserIndex for UserIndex {
        async fn by_state(&self, org: &OrgId, state: UserState, page: &Page) -> Result<IdPage, Unavailable>;
        async fn in_org(&self, org: &OrgId, page: &Page) -> Result<IdPage, Unavailable>;
        async fn scan_org(
            &self,
            org: &OrgId,
            cursor: Option<String>,
            count: u32,
        ) -> Result<(Vec<UserId>, Option<String>), Unavailable>;
        async fn by_user_name(&self, org: Option<OrgId>, unique_name: &str) -> Result<Vec<UserId>, Unavailable>;
        async fn by_email(&self, org: &OrgId, address: &str) -> Result<Vec<UserId>, Unavailable>;
    }
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
