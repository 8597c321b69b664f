//! What happened, as webhooks tell it: the events a write records for the
//! customer's endpoints ([`HookEvent`], derived from the write itself, so the
//! store keeps them in the same atomic write), and each event's delivery to
//! one endpoint ([`WebhookDelivery`]).

use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::events::UserEvent;
use crate::ids::{NotificationId, OrgId, UserId};
use crate::notifications::{DeliveryState, Notification};
use crate::user::{User, UserState, UserWrite};
use crate::webhooks::EventType;

/// An event recorded for the webhooks, waiting in its user's partition of
/// the queue to be fanned out to the endpoints that want it. Its id is made
/// of what it follows, so recording it twice (a write retried, a provider
/// event repeated) gives one delivery per endpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HookEvent {
    pub id: String,
    pub event_type: EventType,
    pub at: OffsetDateTime,
    pub user_id: UserId,
    /// The user's sequence after the change it follows; for what a
    /// notification record says, the user's sequence when the store kept
    /// the record (filled in by the store, 0 until then).
    pub sequence: u64,
    pub email: EmailAddress,
    pub notification_id: Option<NotificationId>,
    pub reason: Option<String>,
    /// The adapter's handle on a claimed event; opaque to the domain.
    #[serde(skip)]
    pub receipt: String,
}

/// The webhook events `write` records: an invitation created (a user added
/// in Initial state), resent (a new code for an existing user), completed
/// (its code checked and the user initialized). A reminder's new code is no
/// resend: it tells nothing here (its email's own events do).
pub fn events_of_write(write: &UserWrite) -> Vec<HookEvent> {
    let user = &write.user;
    let added = write.events.iter().any(|e| matches!(e.event, UserEvent::Added { .. }));
    let reminder = write.events.iter().any(|e| matches!(e.event, UserEvent::ReminderIssued));
    let mut out = Vec::new();
    for e in &write.events {
        let event_type = match &e.event {
            UserEvent::Added { state: UserState::Initial, .. } => EventType::InvitationCreated,
            UserEvent::InitCodeAdded { .. } | UserEvent::InviteCodeAdded { .. } if !added && !reminder => {
                EventType::InvitationResent
            }
            UserEvent::InitCheckSucceeded | UserEvent::InviteCheckSucceeded => EventType::InvitationCompleted,
            // The link's page shown for the first time for this code.
            UserEvent::LinkOpened { .. } => EventType::InvitationOpened,
            // A user removed before it ever had a password: its invitation is withdrawn.
            UserEvent::Removed if user.password_hash.is_none() => EventType::InvitationWithdrawn,
            _ => continue,
        };
        out.push(HookEvent {
            id: format!("{}.{}.{}", user.id, e.sequence, event_type.as_str()),
            event_type,
            at: e.at,
            user_id: user.id.clone(),
            sequence: user.sequence,
            email: user.email.address.clone(),
            notification_id: write.outbox.as_ref().map(|o| o.id.clone()),
            reason: None,
            receipt: String::new(),
        });
    }
    out
}

/// A pending invitation's code that expires at `at`: scheduled by the write
/// that gave an Initial user the code, in the same atomic write, so its
/// `invitation.expired` is told at the moment of expiry rather than found on
/// a later read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HookExpiry {
    pub at: OffsetDateTime,
    pub user_id: UserId,
}

/// The expiry `write` schedules: its user is Initial and the write gave it
/// a new code (created with one, or one sent again).
pub fn expiry_of_write(write: &UserWrite) -> Option<HookExpiry> {
    let user = &write.user;
    let new_code = write
        .events
        .iter()
        .any(|e| matches!(e.event, UserEvent::InitCodeAdded { .. } | UserEvent::InviteCodeAdded { .. }));
    let code = user.init_code.as_ref().filter(|_| new_code && user.state == UserState::Initial)?;
    Some(HookExpiry { at: code.expires_at, user_id: user.id.clone() })
}

/// The `invitation.expired` event of a due expiry, when `user` still waits
/// with a code expired by `now` (not completed, removed or given a newer
/// code meanwhile). Its id is made of the user and the
/// code's generation, so telling it twice gives one delivery per endpoint.
pub fn expired_event(user: Option<&User>, now: OffsetDateTime) -> Option<HookEvent> {
    let user = user.filter(|u| u.state == UserState::Initial)?;
    let code = user.init_code.as_ref().filter(|c| c.is_expired(now))?;
    let event_type = EventType::InvitationExpired;
    Some(HookEvent {
        id: format!("{}.{}.{}", user.id, code.generation, event_type.as_str()),
        event_type,
        at: code.expires_at,
        user_id: user.id.clone(),
        sequence: user.sequence,
        email: user.email.address.clone(),
        notification_id: None,
        reason: None,
        receipt: String::new(),
    })
}

/// The webhook event a notification record in `n`'s state stands for:
/// handed to the provider, delivered, bounced, dropped, or given up.
pub fn event_of_notification(n: &Notification) -> Option<HookEvent> {
    let event_type = match n.state {
        DeliveryState::Sent => EventType::EmailSent,
        DeliveryState::Delivered => EventType::EmailDelivered,
        DeliveryState::Bounced => EventType::EmailBounced,
        DeliveryState::Dropped => EventType::EmailDropped,
        DeliveryState::Failed => EventType::EmailFailed,
        _ => return None,
    };
    let reason = match event_type {
        EventType::EmailBounced | EventType::EmailDropped | EventType::EmailFailed => n.last_error.clone(),
        _ => None,
    };
    Some(HookEvent {
        id: format!("{}.{}", n.id, event_type.as_str()),
        event_type,
        at: n.updated_at,
        user_id: n.user_id.clone(),
        sequence: 0,
        email: n.recipient.clone(),
        notification_id: Some(n.id.clone()),
        reason,
        receipt: String::new(),
    })
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum HookDeliveryState {
    /// Waiting for its first attempt or its next one.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: a status not worth retrying, or retried for the whole
    /// retry period. Kept for inspection and a retry by hand.
    DeadLetter,
}

impl HookDeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::DeadLetter => "dead_letter",
        }
    }
}

/// What an event says, as its endpoint receives it: the body's `data`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HookData {
    pub user_id: UserId,
    pub org: OrgId,
    pub login_name: String,
    pub email: EmailAddress,
    pub notification_id: Option<NotificationId>,
    pub reason: Option<String>,
    pub sequence: u64,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookDelivery {
    /// The event's id and the endpoint's: one delivery per pair.
    pub id: String,
    pub endpoint_id: String,
    /// The `webhook-id` receivers see: the event's id, the same on every attempt.
    pub event_id: String,
    pub event_type: EventType,
    pub at: OffsetDateTime,
    pub data: HookData,
    pub state: HookDeliveryState,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub last_attempt_at: Option<OffsetDateTime>,
    /// The endpoint's last status, when it answered.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

impl WebhookDelivery {
    /// The body posted: `{type, timestamp, data: {userId, orgId, loginName,
    /// email, notificationId?, reason?, sequence}}`. It never holds a code,
    /// a token or a password: nothing the event carries could.
    pub fn body(&self) -> Vec<u8> {
        let rfc3339 = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
        };
        let mut data = serde_json::json!({
            "userId": self.data.user_id.as_str(),
            "orgId": self.data.org.as_str(),
            "loginName": self.data.login_name,
            "email": self.data.email.as_str(),
            "sequence": self.data.sequence,
        });
        if let Some(n) = &self.data.notification_id {
            data["notificationId"] = n.as_str().into();
        }
        if let Some(r) = &self.data.reason {
            data["reason"] = r.as_str().into();
        }
        let body = serde_json::json!({ "type": self.event_type.as_str(), "timestamp": rfc3339(self.at), "data": data });
        serde_json::to_vec(&body).expect("JSON of strings and numbers")
    }
}
