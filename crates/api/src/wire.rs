//! The JSON shapes of onboard's own additions to the Management API (the
//! notification list), laid out as ZITADEL's gateway writes its messages:
//! lowerCamelCase, unset fields omitted. ZITADEL's own messages are the
//! contract's (`onboard_contract::pb`), described from their descriptors.

use onboard_domain as domain;
use poem_openapi::{Enum, Object};

use crate::scalars::Timestamp;

/// What became of an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1NotificationState", rename_all = "snake_case")]
pub enum NotificationState {
    Queued,
    Sending,
    Sent,
    Deferred,
    Delivered,
    Bounced,
    Dropped,
    SpamReported,
    Failed,
    Superseded,
    Expired,
    /// Not sent: the user was removed first.
    Withdrawn,
}

impl From<domain::DeliveryState> for NotificationState {
    fn from(s: domain::DeliveryState) -> Self {
        use domain::DeliveryState as D;
        match s {
            D::Queued => Self::Queued,
            D::Sending => Self::Sending,
            D::Sent => Self::Sent,
            D::Deferred => Self::Deferred,
            D::Delivered => Self::Delivered,
            D::Bounced => Self::Bounced,
            D::Dropped => Self::Dropped,
            D::SpamReported => Self::SpamReported,
            D::Failed => Self::Failed,
            D::Superseded => Self::Superseded,
            D::Expired => Self::Expired,
            D::Withdrawn => Self::Withdrawn,
        }
    }
}

/// What an email is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1NotificationKind", rename_all = "snake_case")]
pub enum NotificationKind {
    /// The invitation: a created user's code, a resend, an invite code, a renewal.
    Invitation,
    /// A scheduled reminder before the code expires (`ONBOARD_REMINDERS`), with a fresh code.
    Reminder,
}

impl From<domain::NotificationKind> for NotificationKind {
    fn from(k: domain::NotificationKind) -> Self {
        match k {
            domain::NotificationKind::Invitation => Self::Invitation,
            domain::NotificationKind::Reminder => Self::Reminder,
        }
    }
}

/// One initialization email.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1Notification", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct NotificationView {
    /// The id returned in `x-onboard-notification-id`.
    pub id: String,
    pub state: NotificationState,
    pub recipient: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the email became due.
    pub creation_date: Timestamp,
    /// When its state last changed.
    pub change_date: Timestamp,
    /// Why the last attempt failed, or why it bounced or was dropped.
    pub last_error: Option<String>,
    /// The mail provider's id of the message.
    pub provider_message_id: Option<String>,
    /// Invitation or reminder.
    pub kind: NotificationKind,
}

impl From<domain::Notification> for NotificationView {
    fn from(n: domain::Notification) -> Self {
        Self {
            id: n.id.to_string(),
            state: n.state.into(),
            recipient: n.recipient.to_string(),
            attempts: n.attempts,
            creation_date: Timestamp(n.created_at),
            change_date: Timestamp(n.updated_at),
            last_error: n.last_error,
            provider_message_id: n.provider_message_id,
            kind: n.kind.into(),
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ListUserNotificationsResponse", rename_all = "camelCase")]
pub struct ListNotificationsResponse {
    pub result: Vec<NotificationView>,
}
