//! The events of a user's log and the object details derived from it.

use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::ids::{NotificationId, OrgId};
use crate::init_code::CodeHash;
use crate::invite::CodeDelivery;
use crate::password::PasswordHash;
use crate::user::{Email, Phone, Profile, UserName, UserState};

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    Added {
        user_name: UserName,
        profile: Profile,
        email: Email,
        phone: Option<Phone>,
        state: UserState,
        password_hash: Option<PasswordHash>,
        password_change_required: bool,
    },
    /// The address changed; a changed address is unverified.
    EmailChanged {
        address: EmailAddress,
    },
    EmailVerified,
    /// A new init code replaced any earlier one. Only its keyed hash is kept.
    InitCodeAdded {
        hash: CodeHash,
        expires_at: OffsetDateTime,
    },
    /// The email carrying the code of generation `generation` was handed to the mail provider.
    InitCodeSent {
        notification: NotificationId,
        generation: u64,
    },
    InitCheckFailed,
    InitCheckSucceeded,
    PasswordChanged {
        hash: PasswordHash,
    },
    /// RemoveUser: the user is deleted. Its pending code dies, its queued
    /// email is not sent, and its user name is free again.
    Removed,
    // Variants below were added later: postcard stores a variant by its
    // index, so new ones go at the end (docs/redis.md).
    /// A new code replaced any earlier one, to be delivered as `delivery`
    /// says (the v2 API's invite code; [`UserEvent::InitCodeAdded`] is this
    /// with the plain mailed delivery).
    InviteCodeAdded {
        hash: CodeHash,
        expires_at: OffsetDateTime,
        delivery: CodeDelivery,
    },
    /// The code was proven without setting a password: it is used up, and
    /// the user stays Initial until it has one.
    InviteCheckSucceeded,
    /// A password set by an administrator, who says whether it must be
    /// changed at the next sign-in.
    PasswordSet {
        hash: PasswordHash,
        change_required: bool,
    },
    /// The link's page was first shown while the code of `generation` was
    /// live: recorded once per code, by a GET (which consumes nothing).
    LinkOpened {
        generation: u64,
    },
    /// The user asked the link's page for a new link (self-service
    /// renewal) and one was sent: the new code's event follows.
    RenewalRequested,
    /// A scheduled reminder (`ONBOARD_REMINDERS`) went to the user: the
    /// fresh code's event follows, expiring when the code it replaces would
    /// have, and its email is a reminder.
    ReminderIssued,
}

impl UserEvent {
    /// A stable name, for logs and storage.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Added { .. } => "user.added",
            Self::EmailChanged { .. } => "user.email.changed",
            Self::EmailVerified => "user.email.verified",
            Self::InitCodeAdded { .. } => "user.initialization.code.added",
            Self::InitCodeSent { .. } => "user.initialization.code.sent",
            Self::InitCheckFailed => "user.initialization.check.failed",
            Self::InitCheckSucceeded => "user.initialization.check.succeeded",
            Self::PasswordChanged { .. } => "user.password.changed",
            Self::Removed => "user.removed",
            Self::InviteCodeAdded { .. } => "user.invite.code.added",
            Self::InviteCheckSucceeded => "user.invite.check.succeeded",
            Self::PasswordSet { .. } => "user.password.set",
            Self::LinkOpened { .. } => "user.initialization.link.opened",
            Self::RenewalRequested => "user.initialization.renewal.requested",
            Self::ReminderIssued => "user.initialization.reminder.issued",
        }
    }

    /// ZITADEL's event type of the same event (`internal/repository/user`),
    /// as ListUserChanges names it.
    pub fn zitadel_type(&self) -> &'static str {
        match self {
            Self::Added { .. } => "user.human.added",
            Self::EmailChanged { .. } => "user.human.email.changed",
            Self::EmailVerified => "user.human.email.verified",
            Self::InitCodeAdded { .. } => "user.human.initialization.code.added",
            Self::InitCodeSent { .. } => "user.human.initialization.code.sent",
            Self::InitCheckFailed => "user.human.initialization.check.failed",
            Self::InitCheckSucceeded => "user.human.initialization.check.succeeded",
            Self::PasswordChanged { .. } => "user.human.password.changed",
            Self::Removed => "user.removed",
            Self::InviteCodeAdded { .. } => "user.human.invite.code.added",
            Self::InviteCheckSucceeded => "user.human.invite.check.succeeded",
            Self::PasswordSet { .. } => "user.human.password.changed",
            // onboard's own: ZITADEL has no such events.
            Self::LinkOpened { .. } => "user.human.initialization.link.opened",
            Self::RenewalRequested => "user.human.initialization.renewal.requested",
            Self::ReminderIssued => "user.human.initialization.reminder.issued",
        }
    }
}

/// Who made an event: the id and display name ListUserChanges shows, as
/// they were when the event was recorded.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Editor {
    pub id: String,
    pub display_name: String,
}

impl Editor {
    /// The id ZITADEL's notification worker writes its events under.
    pub const NOTIFICATION: &str = "NOTIFICATION";

    pub fn new(id: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self { id: id.into(), display_name: display_name.into() }
    }

    /// The mail delivery, for the events it records.
    pub fn notification() -> Self {
        Self::new(Self::NOTIFICATION, Self::NOTIFICATION)
    }
}

/// One event in a user's log: sequences start at 1 and have no gaps.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub sequence: u64,
    pub at: OffsetDateTime,
    pub event: UserEvent,
    /// Who made it; `None` for events recorded before editors were kept.
    pub editor: Option<Editor>,
}

impl RecordedEvent {
    /// The event, made by `editor`.
    pub fn by(mut self, editor: &Editor) -> Self {
        self.editor = Some(editor.clone());
        self
    }
}

/// `zitadel.v1.ObjectDetails`, all four fields filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDetails {
    pub sequence: u64,
    pub creation_date: OffsetDateTime,
    pub change_date: OffsetDateTime,
    pub resource_owner: OrgId,
}
