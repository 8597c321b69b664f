//! The JSON shapes of the Management API, named and laid out as ZITADEL's
//! gateway writes them: lowerCamelCase, unset fields omitted.

use onboard_domain as domain;
use poem_openapi::{Enum, Object};

use crate::scalars::{Timestamp, U64String};

/// Object details of the user after the call.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ObjectDetails", rename_all = "camelCase")]
pub struct ObjectDetails {
    /// The sequence of the user's last event (each user counts from 1).
    pub sequence: U64String,
    /// The time of the user's first event.
    pub creation_date: Timestamp,
    /// The time of the user's last event.
    pub change_date: Timestamp,
    /// The organization the user belongs to.
    pub resource_owner: String,
}

impl From<domain::ObjectDetails> for ObjectDetails {
    fn from(d: domain::ObjectDetails) -> Self {
        Self {
            sequence: U64String(d.sequence),
            creation_date: Timestamp(d.creation_date),
            change_date: Timestamp(d.change_date),
            resource_owner: d.resource_owner.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1UserState")]
pub enum UserState {
    #[oai(rename = "USER_STATE_UNSPECIFIED")]
    Unspecified,
    #[oai(rename = "USER_STATE_ACTIVE")]
    Active,
    #[oai(rename = "USER_STATE_INACTIVE")]
    Inactive,
    #[oai(rename = "USER_STATE_DELETED")]
    Deleted,
    #[oai(rename = "USER_STATE_LOCKED")]
    Locked,
    #[oai(rename = "USER_STATE_SUSPEND")]
    Suspend,
    #[oai(rename = "USER_STATE_INITIAL")]
    Initial,
}

impl From<domain::UserState> for UserState {
    fn from(s: domain::UserState) -> Self {
        use domain::UserState as S;
        match s {
            S::Unspecified => Self::Unspecified,
            S::Active => Self::Active,
            S::Inactive => Self::Inactive,
            S::Deleted => Self::Deleted,
            S::Locked => Self::Locked,
            S::Suspend => Self::Suspend,
            S::Initial => Self::Initial,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[oai(rename = "v1Gender")]
pub enum Gender {
    #[default]
    #[oai(rename = "GENDER_UNSPECIFIED")]
    Unspecified,
    #[oai(rename = "GENDER_FEMALE")]
    Female,
    #[oai(rename = "GENDER_MALE")]
    Male,
    #[oai(rename = "GENDER_DIVERSE")]
    Diverse,
}

impl Gender {
    fn number(self) -> i32 {
        match self {
            Self::Unspecified => 0,
            Self::Female => 1,
            Self::Male => 2,
            Self::Diverse => 3,
        }
    }
}

impl From<domain::Gender> for Gender {
    fn from(g: domain::Gender) -> Self {
        match g {
            domain::Gender::Unspecified => Self::Unspecified,
            domain::Gender::Female => Self::Female,
            domain::Gender::Male => Self::Male,
            domain::Gender::Diverse => Self::Diverse,
        }
    }
}

fn some_text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn some_true(b: bool) -> Option<bool> {
    b.then_some(true)
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1Profile", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct Profile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nick_name: Option<String>,
    pub display_name: Option<String>,
    pub preferred_language: Option<String>,
    pub gender: Option<Gender>,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1Email", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct Email {
    pub email: Option<String>,
    pub is_email_verified: Option<bool>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1Phone", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct Phone {
    pub phone: Option<String>,
    pub is_phone_verified: Option<bool>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1Human", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct Human {
    pub profile: Option<Profile>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1User", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct User {
    pub id: Option<String>,
    pub details: Option<ObjectDetails>,
    pub state: Option<UserState>,
    pub user_name: Option<String>,
    pub login_names: Option<Vec<String>>,
    pub preferred_login_name: Option<String>,
    pub human: Option<Human>,
}

impl From<domain::User> for User {
    fn from(u: domain::User) -> Self {
        let p = &u.profile;
        let gender = (p.gender != domain::Gender::Unspecified).then(|| p.gender.into());
        let human = Human {
            profile: Some(Profile {
                first_name: some_text(&p.first_name),
                last_name: some_text(&p.last_name),
                nick_name: some_text(&p.nick_name),
                display_name: some_text(&p.display_name),
                preferred_language: p.preferred_language.as_ref().map(|l| l.as_str().to_owned()),
                gender,
                avatar_url: None,
            }),
            email: Some(Email {
                email: Some(u.email.address.to_string()),
                is_email_verified: some_true(u.email.verified),
            }),
            phone: u
                .phone
                .as_ref()
                .map(|ph| Phone { phone: Some(ph.number.clone()), is_phone_verified: some_true(ph.verified) }),
        };
        let login = u.login_name().to_owned();
        Self {
            id: Some(u.id.to_string()),
            details: Some(u.details().into()),
            state: Some(u.state.into()),
            user_name: Some(u.user_name.as_str().to_owned()),
            login_names: Some(vec![login.clone()]),
            preferred_login_name: Some(login),
            human: Some(human),
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1GetUserByIDResponse", rename_all = "camelCase")]
pub struct GetUserByIdResponse {
    pub user: User,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "ManagementServiceResendHumanInitializationBody", rename_all = "camelCase")]
pub struct ResendHumanInitializationBody {
    /// Send a new email address if the one set on the user is wrong or has a typo.
    pub email: Option<String>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ResendHumanInitializationResponse", rename_all = "camelCase")]
pub struct ResendHumanInitializationResponse {
    pub details: ObjectDetails,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "AddHumanUserRequestProfile", rename_all = "camelCase")]
pub struct NewProfile {
    /// Required, 1 to 200 characters.
    pub first_name: Option<String>,
    /// Required, 1 to 200 characters.
    pub last_name: Option<String>,
    pub nick_name: Option<String>,
    /// "first last" when absent.
    pub display_name: Option<String>,
    /// A language tag such as "en" or "de-CH"; chooses the email's language.
    pub preferred_language: Option<String>,
    pub gender: Option<Gender>,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "AddHumanUserRequestEmail", rename_all = "camelCase")]
pub struct NewEmail {
    /// Required: where the initialization email goes.
    pub email: Option<String>,
    pub is_email_verified: Option<bool>,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "AddHumanUserRequestPhone", rename_all = "camelCase")]
pub struct NewPhone {
    pub phone: Option<String>,
    pub is_phone_verified: Option<bool>,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "v1AddHumanUserRequest", rename_all = "camelCase")]
pub struct AddHumanUserRequest {
    /// Required, unique within the organization (regardless of case).
    pub user_name: Option<String>,
    pub profile: Option<NewProfile>,
    pub email: Option<NewEmail>,
    pub phone: Option<NewPhone>,
    /// Without it (or with an unverified email) the user starts in state
    /// Initial and is sent the initialization email.
    #[oai(write_only)]
    pub initial_password: Option<String>,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "ImportHumanUserRequestHashedPassword", rename_all = "camelCase")]
pub struct HashedPassword {
    /// The hash in PHC string form; argon2 hashes are accepted.
    pub value: Option<String>,
    pub algorithm: Option<String>,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "v1ImportHumanUserRequest", rename_all = "camelCase")]
pub struct ImportHumanUserRequest {
    /// Required, unique within the organization (regardless of case).
    pub user_name: Option<String>,
    pub profile: Option<NewProfile>,
    pub email: Option<NewEmail>,
    pub phone: Option<NewPhone>,
    #[oai(write_only)]
    pub password: Option<String>,
    #[oai(write_only)]
    pub hashed_password: Option<HashedPassword>,
    pub password_change_required: Option<bool>,
    /// Not supported: must be absent or false.
    pub request_passwordless_registration: Option<bool>,
    /// Not supported: must be absent or empty.
    pub otp_code: Option<String>,
}

fn new_user(
    user_name: Option<String>,
    profile: Option<NewProfile>,
    email: Option<NewEmail>,
    phone: Option<NewPhone>,
) -> domain::usecases::NewHumanUser {
    let profile = profile.unwrap_or_default();
    let email = email.unwrap_or_default();
    let phone = phone.unwrap_or_default();
    domain::usecases::NewHumanUser {
        user_name: user_name.unwrap_or_default(),
        first_name: profile.first_name.unwrap_or_default(),
        last_name: profile.last_name.unwrap_or_default(),
        nick_name: profile.nick_name.unwrap_or_default(),
        display_name: profile.display_name.unwrap_or_default(),
        preferred_language: profile.preferred_language.unwrap_or_default(),
        gender: profile.gender.unwrap_or_default().number(),
        email: email.email.unwrap_or_default(),
        email_verified: email.is_email_verified.unwrap_or_default(),
        phone: phone.phone.unwrap_or_default(),
        phone_verified: phone.is_phone_verified.unwrap_or_default(),
        password: None,
        password_change_required: false,
    }
}

impl From<AddHumanUserRequest> for domain::usecases::NewHumanUser {
    fn from(r: AddHumanUserRequest) -> Self {
        let password = r.initial_password.filter(|p| !p.is_empty()).map(domain::usecases::NewPassword::Plain);
        Self { password, ..new_user(r.user_name, r.profile, r.email, r.phone) }
    }
}

impl ImportHumanUserRequest {
    /// The command, or the name and reason of a field set that is not supported.
    pub fn into_command(self) -> Result<domain::usecases::NewHumanUser, (&'static str, &'static str)> {
        use domain::usecases::NewPassword;
        if self.request_passwordless_registration.unwrap_or_default() {
            return Err(("request_passwordless_registration", "passwordless registration is not supported"));
        }
        if self.otp_code.is_some_and(|c| !c.is_empty()) {
            return Err(("otp_code", "one-time password registration is not supported"));
        }
        let plain = self.password.filter(|p| !p.is_empty());
        let hashed = self.hashed_password.and_then(|h| h.value).filter(|h| !h.is_empty());
        let password = match (plain, hashed) {
            (Some(_), Some(_)) => return Err(("password", "give either password or hashed_password, not both")),
            (Some(p), None) => Some(NewPassword::Plain(p)),
            (None, Some(h)) => Some(NewPassword::Hashed(h)),
            (None, None) => None,
        };
        Ok(domain::usecases::NewHumanUser {
            password,
            password_change_required: self.password_change_required.unwrap_or_default(),
            ..new_user(self.user_name, self.profile, self.email, self.phone)
        })
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1AddHumanUserResponse", rename_all = "camelCase")]
pub struct AddHumanUserResponse {
    pub user_id: String,
    pub details: ObjectDetails,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ImportHumanUserResponse", rename_all = "camelCase")]
pub struct ImportHumanUserResponse {
    pub user_id: String,
    pub details: ObjectDetails,
}

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
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ListUserNotificationsResponse", rename_all = "camelCase")]
pub struct ListNotificationsResponse {
    pub result: Vec<NotificationView>,
}
