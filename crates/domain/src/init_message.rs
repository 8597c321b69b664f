//! What one initialization email says: everything a mailer needs to write
//! and send it, and nothing it would have to look up.

use time::OffsetDateTime;

use crate::branding::MessageBrand;
use crate::email::EmailAddress;
use crate::ids::{NotificationId, OrgId, UserId};
use crate::init_code::PlainCode;
use crate::user::Language;

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
    /// The organization's branding; `None`: onboard's own look and sender.
    pub brand: Option<MessageBrand>,
    /// The application the user is invited to (the v2 API's
    /// `applicationName`), named in the email when given.
    pub application_name: Option<String>,
    /// A scheduled reminder of the invitation (its email says so), not the
    /// invitation itself.
    pub reminder: bool,
}
