//! The user aggregate. Its fields are public so adapters can rebuild it from
//! storage; it changes only through [`User::record`], which appends to the
//! user's own event log. A [`UserWrite`] carries those changes to the store.

use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::events::{ObjectDetails, RecordedEvent, UserEvent};
use crate::ids::{OrgId, UserId};
use crate::init_code::InitCode;
use crate::invite::CodeDelivery;
use crate::outbox::OutboxEntry;
use crate::password::PasswordHash;
use crate::person::{MAX_TEXT_CHARS, TextError, checked_text};

/// The contract's `zitadel.user.v1.UserState`, with its wire numbers.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserState {
    Unspecified = 0,
    Active = 1,
    Inactive = 2,
    Deleted = 3,
    Locked = 4,
    Suspend = 5,
    Initial = 6,
}

/// `zitadel.user.v1.Gender`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Gender {
    #[default]
    Unspecified = 0,
    Female = 1,
    Male = 2,
    Diverse = 3,
}

impl Gender {
    /// The gender of a wire number; numbers ZITADEL does not define are
    /// unspecified, as ZITADEL reads them.
    pub fn from_number_or_unspecified(n: i32) -> Self {
        Self::from_number(n).unwrap_or_default()
    }

    pub fn from_number(n: i32) -> Option<Self> {
        Some(match n {
            0 => Self::Unspecified,
            1 => Self::Female,
            2 => Self::Male,
            3 => Self::Diverse,
            _ => return None,
        })
    }
}

/// A user name: 1 to 200 characters after trimming, inner spaces allowed
/// (as ZITADEL allows them), no control characters. Unique within an
/// organization, compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl TryFrom<String> for UserName {
    type Error = TextError;

    fn try_from(raw: String) -> Result<Self, TextError> {
        Self::parse(&raw)
    }
}

impl From<UserName> for String {
    fn from(n: UserName) -> String {
        n.0
    }
}

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        checked_text(raw, MAX_TEXT_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is checked on.
    pub fn unique_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A BCP 47 language tag such as `en` or `de-CH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl TryFrom<String> for Language {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}

impl Language {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut parts = raw.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok = (2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be a language tag such as \"en\" or \"de-CH\"".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A user's preferred language as ZITADEL takes it: none when empty, at
    /// most 10 characters, and `und` (undetermined) for a value that is not
    /// a language tag.
    pub fn preferred(raw: &str) -> Result<Option<Self>, TextError> {
        const MAX: usize = 10;
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.chars().count() > MAX {
            return Err(TextError::TooLong(MAX));
        }
        Ok(Some(Self::parse(raw).unwrap_or_else(|_| Self(Self::UNDETERMINED.to_owned()))))
    }

    /// BCP 47's tag for a language that is not known.
    pub const UNDETERMINED: &str = "und";

    /// The primary subtag in lower case (`de` for `de-CH`).
    pub fn primary(&self) -> String {
        self.0.split('-').next().unwrap_or_default().to_ascii_lowercase()
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub first_name: String,
    pub last_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: Option<Language>,
    pub gender: Gender,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub address: EmailAddress,
    pub verified: bool,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub number: String,
    pub verified: bool,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org: OrgId,
    pub user_name: UserName,
    pub profile: Profile,
    pub email: Email,
    pub phone: Option<Phone>,
    pub state: UserState,
    pub password_hash: Option<PasswordHash>,
    pub password_change_required: bool,
    pub init_code: Option<InitCode>,
    /// Sequence of the last event in the user's log.
    pub sequence: u64,
    /// Time of the first event.
    pub created_at: OffsetDateTime,
    /// Time of the last event.
    pub changed_at: OffsetDateTime,
}

impl User {
    /// A user as its first event ([`UserEvent::Added`]) describes it, and that
    /// event. Further events follow through [`User::record`].
    pub fn create(id: UserId, org: OrgId, added: UserEvent, at: OffsetDateTime) -> (Self, RecordedEvent) {
        let UserEvent::Added { user_name, profile, email, phone, state, password_hash, password_change_required } =
            added.clone()
        else {
            panic!("a user is created from its Added event");
        };
        let user = Self {
            id,
            org,
            user_name,
            profile,
            email,
            phone,
            state,
            password_hash,
            password_change_required,
            init_code: None,
            sequence: 1,
            created_at: at,
            changed_at: at,
        };
        (user, RecordedEvent { sequence: 1, at, event: added, editor: None })
    }

    /// Applies `event` and returns it with the next sequence number: the one
    /// way a user changes after creation.
    pub fn record(&mut self, event: UserEvent, at: OffsetDateTime) -> RecordedEvent {
        let sequence = self.sequence + 1;
        match &event {
            UserEvent::Added { .. } => panic!("Added is only the first event"),
            UserEvent::EmailChanged { address } => {
                self.email = Email { address: address.clone(), verified: false };
            }
            UserEvent::EmailVerified => self.email.verified = true,
            UserEvent::InitCodeAdded { hash, expires_at } => {
                self.init_code = Some(InitCode {
                    hash: hash.clone(),
                    generation: sequence,
                    created_at: at,
                    expires_at: *expires_at,
                    failed_attempts: 0,
                    delivery: CodeDelivery::Mailed,
                });
            }
            UserEvent::InviteCodeAdded { hash, expires_at, delivery } => {
                self.init_code = Some(InitCode {
                    hash: hash.clone(),
                    generation: sequence,
                    created_at: at,
                    expires_at: *expires_at,
                    failed_attempts: 0,
                    delivery: delivery.clone(),
                });
            }
            UserEvent::InviteCheckSucceeded => self.init_code = None,
            UserEvent::PasswordSet { hash, change_required } => {
                self.password_hash = Some(hash.clone());
                self.password_change_required = *change_required;
            }
            UserEvent::InitCodeSent { .. }
            | UserEvent::LinkOpened { .. }
            | UserEvent::RenewalRequested
            | UserEvent::ReminderIssued => {}
            UserEvent::InitCheckFailed => {
                if let Some(code) = &mut self.init_code {
                    code.failed_attempts += 1;
                }
            }
            UserEvent::InitCheckSucceeded => {
                self.init_code = None;
                self.state = UserState::Active;
            }
            UserEvent::PasswordChanged { hash } => {
                self.password_hash = Some(hash.clone());
                self.password_change_required = false;
            }
            UserEvent::Removed => {
                self.init_code = None;
                self.state = UserState::Deleted;
            }
        }
        self.sequence = sequence;
        self.changed_at = at;
        RecordedEvent { sequence, at, event, editor: None }
    }

    pub fn details(&self) -> ObjectDetails {
        ObjectDetails {
            sequence: self.sequence,
            creation_date: self.created_at,
            change_date: self.changed_at,
            resource_owner: self.org.clone(),
        }
    }

    /// Users of `org` that are not deleted are visible there; all others are
    /// reported as not found (never as forbidden).
    pub fn visible_in(&self, org: &OrgId) -> bool {
        &self.org == org && self.state != UserState::Deleted
    }

    /// Whether a snapshot of the user (its stored form) holds all it is:
    /// not while its code has a delivery of its own (see [`InitCode::delivery`]).
    pub fn snapshot_safe(&self) -> bool {
        self.init_code.as_ref().is_none_or(InitCode::snapshot_safe)
    }

    /// An Initial user without a code has proven its invite code (the v2
    /// API's VerifyInviteCode) and waits for a password; every other way to
    /// Initial issues a code.
    pub fn invite_used(&self) -> bool {
        self.state == UserState::Initial && self.init_code.is_none()
    }

    /// The name the user signs in with.
    pub fn login_name(&self) -> &str {
        self.user_name.as_str()
    }
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
