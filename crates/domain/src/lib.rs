//! The onboard domain: users and their initialization lifecycle.
//!
//! Everything here is free of I/O. State lives behind the ports in [`ports`];
//! the use cases in [`usecases`] are the only way the model changes.

pub mod accounts;
pub mod authz;
pub mod branding;
pub mod completion;
pub mod email;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod init_code;
pub mod init_link;
pub mod init_message;
pub mod invitation;
pub mod invite;
pub mod notifications;
pub mod outbox;
pub mod password;
pub mod person;
pub mod ports;
pub mod reminders;
pub mod system_clock;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod throttle;
pub mod token;
pub mod token_authorizer;
pub mod usecases;
pub mod user;
pub mod user_query;
pub mod webhook_events;
pub mod webhooks;

pub use accounts::{Organization, ServiceAccount, TokenRecord};
pub use authz::{Acting, Grant, GrantScope, Permission, Principal, Role};
pub use branding::{Branding, BrandingDraft, Brandings, MessageBrand};
pub use completion::CompletionUrl;
pub use email::{EmailAddress, EmailError};
pub use events::{Editor, ObjectDetails, RecordedEvent, UserEvent};
pub use idempotency::{IdempotencyClaim, StoredAnswer};
pub use ids::{IdError, NotificationId, OrgId, UserId};
pub use init_code::{CodeHash, CodeIssuer, CodeSecret, InitCode, InitCodeConfig, PlainCode};
pub use init_link::InitLink;
pub use init_message::InitMessage;
pub use invitation::{
    Delivery, Invitation, InvitationFilter, InvitationPage, InvitationRules, InvitationSource, InvitationState,
    PageToken, Position,
};
pub use invite::{CodeDelivery, TemplateError, UrlTemplate};
pub use notifications::{DeliveryState, Notification, NotificationKind};
pub use outbox::{OutboxDepth, OutboxEntry};
pub use password::{HashImportError, PasswordHash, PasswordPolicy, PolicyViolation};
pub use person::{PersonName, PhoneError, PhoneNumber, ProfileText, TextError};
pub use ports::Clock;
pub use system_clock::SystemClock;
pub use throttle::{ThrottleConfig, ThrottleReason, Throttled};
pub use token_authorizer::TokenAuthorizer;
pub use user::{Email, Gender, Language, Phone, Profile, User, UserName, UserState, UserWrite};
pub use user_query::{
    LimitExceeded, Page, PageLimits, TextField, TextMethod, UserPage, UserQuery, UserSearch, UserSort, UserType,
};
