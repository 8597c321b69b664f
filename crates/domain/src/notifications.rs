//! What became of each email: a record per notification, moved along by the
//! dispatcher (queued → sending → sent, or failed) and by the provider's
//! events (delivered, deferred, bounced, dropped, spam reported).

use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::ids::{NotificationId, UserId};
use crate::outbox::OutboxEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DeliveryState {
    Queued,
    Sending,
    /// The provider accepted it.
    Sent,
    Deferred,
    Delivered,
    Bounced,
    Dropped,
    SpamReported,
    /// Given up: a permanent failure, or attempts or age exhausted.
    Failed,
    /// Not sent: a newer code (or the end of initialization) made it pointless.
    Superseded,
    /// Not sent: its code expired first.
    Expired,
    /// Not sent: the user was removed first.
    Withdrawn,
}

impl DeliveryState {
    /// Every state, in the order of the enum.
    pub const ALL: [Self; 12] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Deferred,
        Self::Delivered,
        Self::Bounced,
        Self::Dropped,
        Self::SpamReported,
        Self::Failed,
        Self::Superseded,
        Self::Expired,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Deferred => "deferred",
            Self::Delivered => "delivered",
            Self::Bounced => "bounced",
            Self::Dropped => "dropped",
            Self::SpamReported => "spam_reported",
            Self::Failed => "failed",
            Self::Superseded => "superseded",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Whether an email in this state did not reach its recipient and will
    /// not: what the invitations' index of exceptional deliveries keeps.
    pub fn is_exceptional(self) -> bool {
        matches!(self, Self::Bounced | Self::Dropped | Self::SpamReported | Self::Failed)
    }

    /// How far along a state is: provider events arrive out of order and
    /// more than once, and never move a notification back.
    fn rank(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Sending => 1,
            Self::Sent => 2,
            Self::Deferred => 3,
            Self::Delivered | Self::Bounced | Self::Dropped => 4,
            Self::SpamReported => 5,
            Self::Failed | Self::Superseded | Self::Expired | Self::Withdrawn => 6,
        }
    }

    /// The state a provider event name moves to, if it is one we track.
    pub fn from_provider_event(event: &str) -> Option<Self> {
        Some(match event {
            "processed" => Self::Sent,
            "deferred" => Self::Deferred,
            "delivered" => Self::Delivered,
            "bounce" => Self::Bounced,
            "dropped" => Self::Dropped,
            "spamreport" => Self::SpamReported,
            _ => return None,
        })
    }
}

/// What an email is: the invitation (a code given by a create, a resend,
/// an invite code or a renewal) or a scheduled reminder of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum NotificationKind {
    #[default]
    Invitation,
    Reminder,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Reminder => "reminder",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub recipient: EmailAddress,
    pub state: DeliveryState,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The provider's id of the accepted message (SendGrid's `X-Message-Id`).
    pub provider_message_id: Option<String>,
    /// Records kept before reminders existed are invitations.
    #[serde(default)]
    pub kind: NotificationKind,
}

impl Notification {
    /// The record of an email that just became due.
    pub fn queued(entry: &OutboxEntry) -> Self {
        Self {
            id: entry.id.clone(),
            user_id: entry.user_id.clone(),
            recipient: entry.recipient.clone(),
            state: DeliveryState::Queued,
            created_at: entry.enqueued_at,
            updated_at: entry.enqueued_at,
            attempts: entry.attempts,
            last_error: None,
            provider_message_id: None,
            kind: entry.kind,
        }
    }

    /// The record as the dispatcher leaves it after an attempt.
    pub fn after_attempt(entry: &OutboxEntry, state: DeliveryState, at: OffsetDateTime) -> Self {
        Self { state, updated_at: at, ..Self::queued(entry) }
    }

    /// Moves to `state` unless the record is already as far or further;
    /// returns whether it moved.
    pub fn advance(&mut self, state: DeliveryState, at: OffsetDateTime, reason: Option<String>) -> bool {
        if state.rank() <= self.state.rank() {
            return false;
        }
        self.state = state;
        self.updated_at = at;
        if reason.is_some() {
            self.last_error = reason;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: DeliveryState) -> Notification {
        Notification {
            id: NotificationId::parse("n").unwrap(),
            user_id: UserId::parse("u").unwrap(),
            recipient: EmailAddress::parse("a@example.com").unwrap(),
            state,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            attempts: 1,
            last_error: None,
            provider_message_id: None,
            kind: NotificationKind::Invitation,
        }
    }

    #[test]
    fn events_only_move_forward() {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(5);
        let mut n = record(DeliveryState::Sent);
        assert!(n.advance(DeliveryState::Deferred, at, None));
        assert!(n.advance(DeliveryState::Delivered, at, None));
        assert!(!n.advance(DeliveryState::Deferred, at, None), "a late deferral does not undo delivery");
        assert!(!n.advance(DeliveryState::Sent, at, None));
        assert!(n.advance(DeliveryState::SpamReported, at, None));
        assert_eq!(n.state, DeliveryState::SpamReported);
        let mut b = record(DeliveryState::Sent);
        assert!(b.advance(DeliveryState::Bounced, at, Some("550 no such user".into())));
        assert_eq!(b.last_error.as_deref(), Some("550 no such user"));
    }

    #[test]
    fn provider_events_map_to_states() {
        assert_eq!(DeliveryState::from_provider_event("bounce"), Some(DeliveryState::Bounced));
        assert_eq!(DeliveryState::from_provider_event("spamreport"), Some(DeliveryState::SpamReported));
        assert_eq!(DeliveryState::from_provider_event("open"), None);
    }
}
