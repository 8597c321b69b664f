//! The outbox's contents: emails that became due and wait to be mailed, and
//! the figures that say how far behind the mailing is.

use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::ids::{NotificationId, UserId};
use crate::init_code::PlainCode;
use crate::notifications::NotificationKind;

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
    /// Invitation or reminder. Not in the entry's stored form (which
    /// predates it): a store keeps it beside, see `onboard-redis`.
    #[serde(skip)]
    pub kind: NotificationKind,
}

/// The outbox's backlog at one moment, for monitoring: how much mail waits
/// and for how long. Nothing reads it to decide anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    /// Emails waiting to be sent or retried (superseded ones the store has not
    /// cleaned up yet may be included).
    pub entries: u64,
    /// Age of the oldest waiting email; `None` when the outbox is empty or the
    /// store does not keep track of it.
    pub oldest_age: Option<std::time::Duration>,
}
