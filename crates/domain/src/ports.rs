//! The ports: what the use cases need from the outside world. Each names the
//! errors an adapter must return; adapters never invent other outcomes.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::accounts::{Organization, ServiceAccount};
use crate::authz::Principal;
use crate::email::EmailAddress;
use crate::events::RecordedEvent;
use crate::ids::{NotificationId, OrgId, UserId};
use crate::init_code::PlainCode;
use crate::notifications::Notification;
use crate::token::TokenDigest;
use crate::user::{Language, User};

pub use crate::accounts::TokenRecord;
pub use crate::clock::Clock;
pub use limits::{IdempotencyClaim, IdempotencyStore, RateLimiter, StoredAnswer};
#[cfg(any(test, feature = "mock"))]
pub use limits::{MockIdempotencyStore, MockRateLimiter};

mod limits;

/// A store could not be used (unreachable, timed out, refused). Retrying may
/// help; the request changed nothing it cannot finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct Unavailable(pub String);

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

/// One atomic write: the user after its new events, the events, and the email
/// that became due with them.
#[derive(Debug, Clone)]
pub struct UserWrite {
    /// The sequence the user had when read; 0 creates the user.
    pub expected_sequence: u64,
    pub user: User,
    /// Sequences `expected_sequence + 1 ..= user.sequence`, in order.
    pub events: Vec<RecordedEvent>,
    pub outbox: Option<OutboxEntry>,
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
    /// [`NotificationLog`] as [`Notification::queued`]. Errors: [`SaveError`].
    async fn save(&self, write: UserWrite) -> Result<(), SaveError>;

    /// Whether the store answers; for readiness probes.
    async fn ping(&self) -> Result<(), Unavailable>;
}

/// An email waiting to be sent: the init code of generation `code_generation`.
/// It holds the code in clear text until it is mailed, then it is removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxEntry {
    pub id: NotificationId,
    pub user_id: UserId,
    pub recipient: EmailAddress,
    pub code: PlainCode,
    pub code_generation: u64,
    pub enqueued_at: OffsetDateTime,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not to be tried before this time.
    pub not_before: OffsetDateTime,
    /// The adapter's handle on a claimed entry (a stream message id, say);
    /// empty until claimed, opaque to the domain.
    #[serde(skip)]
    pub receipt: String,
}

/// The emails due, filled by [`UserRepository::save`] and drained by the
/// dispatcher. Delivery is at least once: an entry claimed by a dispatcher
/// that dies becomes due again when its lease runs out. Entries are spread
/// over [`Outbox::partitions`] partitions (by user), each drained on its own,
/// so several dispatchers can share the work.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
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

/// Everything one initialization email says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitMessage {
    pub notification_id: NotificationId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub recipient: EmailAddress,
    pub display_name: String,
    pub login_name: String,
    pub code: PlainCode,
    /// The link to the init page, code included.
    pub link: String,
    pub expires_at: OffsetDateTime,
    pub language: Option<Language>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth trying again later (timeouts, connection errors, provider errors).
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// The provider asks to wait `retry_after` before trying again.
    #[error("mail provider throttled: {reason}")]
    Throttled { reason: String, retry_after: std::time::Duration },
    /// Will fail again (rejected request, bad credentials, too large).
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}

/// Hands messages to a mail system.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Delivers `message` to its recipient, returning the provider's message
    /// id. Errors: [`MailError`]; the adapter must tell transient from
    /// permanent failures.
    async fn send_init(&self, message: &InitMessage) -> Result<String, MailError>;

    /// Delivers several messages, as few provider calls as the adapter can
    /// make of them; one result per message, in order. By default, one
    /// [`Mailer::send_init`] after the other.
    async fn send_batch(&self, messages: &[InitMessage]) -> Vec<Result<String, MailError>> {
        let mut results = Vec::with_capacity(messages.len());
        for m in messages {
            results.push(self.send_init(m).await);
        }
        results
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthenticateError {
    /// Unknown, malformed, expired or revoked token. Adapters do not say which.
    #[error("invalid token")]
    InvalidToken,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Bearer tokens and organizations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Authorizer: Send + Sync {
    /// The principal `token` stands for. Errors: [`AuthenticateError`].
    async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticateError>;

    /// Whether the organization exists. Errors: [`Unavailable`].
    async fn organization_exists(&self, org: &OrgId) -> Result<bool, Unavailable>;

    /// The organization's display name, `None` when it does not exist (for
    /// pages that show it). Errors: [`Unavailable`].
    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable>;
}

/// Where organizations, service accounts and token digests are kept; what
/// administration (and the first start) writes and the [`Authorizer`] reads.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Directory: Send + Sync {
    /// Creates an organization with a new id. Errors: [`Unavailable`].
    async fn create_organization(&self, name: &str) -> Result<OrgId, Unavailable>;

    /// The organization's name, `None` when it does not exist. Errors: [`Unavailable`].
    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable>;

    /// Every organization, in no particular order. Errors: [`Unavailable`].
    async fn organizations(&self) -> Result<Vec<Organization>, Unavailable>;

    /// Stores `account` under its id, replacing any account there. Errors: [`Unavailable`].
    async fn put_account(&self, account: &ServiceAccount) -> Result<(), Unavailable>;

    /// The account of that id, `None` when there is none. Errors: [`Unavailable`].
    async fn account(&self, id: &str) -> Result<Option<ServiceAccount>, Unavailable>;

    /// Every service account, in no particular order. Errors: [`Unavailable`].
    async fn accounts(&self) -> Result<Vec<ServiceAccount>, Unavailable>;

    /// Stores a token's record under its digest, replacing any record there.
    async fn put_token(&self, digest: &TokenDigest, record: &TokenRecord) -> Result<(), Unavailable>;

    /// The record stored under `digest`, valid or not.
    async fn token(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, Unavailable>;

    /// The record stored under `digest` and the account it authenticates
    /// as (`None` when the account is gone): what every call reads, so stores
    /// that can should answer it in one round trip. Errors: [`Unavailable`].
    async fn credentials(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(TokenRecord, Option<ServiceAccount>)>, Unavailable> {
        let Some(record) = self.token(digest).await? else { return Ok(None) };
        let account = self.account(&record.account).await?;
        Ok(Some((record, account)))
    }

    /// Every token record with its digest, valid or not, in no particular
    /// order. Errors: [`Unavailable`].
    async fn tokens(&self) -> Result<Vec<(TokenDigest, TokenRecord)>, Unavailable>;

    /// True exactly once per store, for the first caller: whoever gets true
    /// makes the default organization and admin token. Errors: [`Unavailable`].
    async fn claim_first_start(&self) -> Result<bool, Unavailable>;

    /// The secret named `name` that every node of this store uses (the key
    /// of the init-code hashes, say): `candidate` if none was stored yet,
    /// else the stored one. Errors: [`Unavailable`].
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, Unavailable>;
}

/// Bearer tokens that are not onboard's own: access tokens (JWTs) of an
/// identity provider.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    /// The principal `token` stands for. Errors: [`AuthenticateError`]:
    /// `InvalidToken` for any token it does not accept (malformed, badly
    /// signed, expired, not yet valid, wrong issuer or audience), without
    /// saying which; `Unavailable` when its keys cannot be fetched.
    async fn verify(&self, token: &str) -> Result<Principal, AuthenticateError>;
}
