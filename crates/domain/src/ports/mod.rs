//! The ports: what the use cases need from the outside world, one file per
//! group. Each names the errors an adapter must return; adapters never
//! invent other outcomes. The data they carry lives beside its model and is
//! re-exported here, so an adapter finds everything it implements in one
//! place.

mod access;
mod clock;
mod directory;
mod invitations;
mod limits;
mod mailer;
mod notification_log;
mod outbox;
mod reminder_queue;
mod templates;
mod users;
mod webhook_endpoints;
mod webhook_queue;
mod webhook_transport;

pub use access::{AuthenticateError, Authorizer, TokenVerifier};
pub use clock::Clock;
pub use directory::Directory;
pub use invitations::{
    DurationHistogram, Facts, FunnelCounts, FunnelDurations, InvitationCounts, InvitationIndex, MarkChange, Milestone,
    ReplayedSteps, TIMED_STEPS, WaitingMark, WaitingSplit, bucket_middle, duration_bucket, replay_steps,
};
pub use limits::{IdempotencyStore, RateLimiter};
pub use mailer::{MailError, Mailer};
pub use notification_log::NotificationLog;
pub use outbox::{Mailed, Outbox, OutboxStats};
pub use reminder_queue::ReminderQueue;
pub use templates::TemplateCheck;
pub use users::{IdPage, SaveError, UserIndex, UserRepository};
pub use webhook_endpoints::WebhookEndpoints;
pub use webhook_queue::{HookDeliveries, HookQueue};
pub use webhook_transport::{WebhookError, WebhookTransport};

#[cfg(any(test, feature = "mock"))]
pub use access::{MockAuthorizer, MockTokenVerifier};
#[cfg(any(test, feature = "mock"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mock"))]
pub use directory::MockDirectory;
#[cfg(any(test, feature = "mock"))]
pub use invitations::MockInvitationIndex;
#[cfg(any(test, feature = "mock"))]
pub use limits::{MockIdempotencyStore, MockRateLimiter};
#[cfg(any(test, feature = "mock"))]
pub use mailer::MockMailer;
#[cfg(any(test, feature = "mock"))]
pub use notification_log::MockNotificationLog;
#[cfg(any(test, feature = "mock"))]
pub use outbox::{MockOutbox, MockOutboxStats};
#[cfg(any(test, feature = "mock"))]
pub use reminder_queue::MockReminderQueue;
#[cfg(any(test, feature = "mock"))]
pub use users::{MockUserIndex, MockUserRepository};
#[cfg(any(test, feature = "mock"))]
pub use webhook_endpoints::MockWebhookEndpoints;
#[cfg(any(test, feature = "mock"))]
pub use webhook_transport::MockWebhookTransport;

pub use crate::accounts::TokenRecord;
pub use crate::idempotency::{IdempotencyClaim, StoredAnswer};
pub use crate::init_message::InitMessage;
pub use crate::outbox::{OutboxDepth, OutboxEntry};
pub use crate::user::UserWrite;

/// A store could not be used (unreachable, timed out, refused). Retrying may
/// help; the request changed nothing it cannot finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct Unavailable(pub String);
