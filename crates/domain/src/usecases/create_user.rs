//! AddHumanUser and ImportHumanUser.

use crate::authz::Acting;
use crate::email::EmailAddress;
use crate::events::{ObjectDetails, UserEvent};
use crate::ids::{NotificationId, UserId};
use crate::init_code::PlainCode;
use crate::invite::CodeDelivery;
use crate::password::{PasswordHash, PolicyViolation};
use crate::person::{PersonName, PhoneNumber, ProfileText};
use crate::ports::{SaveError, Unavailable};
use crate::user::{Email, Gender, Language, Phone, Profile, User, UserName, UserState, UserWrite};

use super::{MAX_WRITE_ATTEMPTS, UserService, stamped};

/// What creating a user made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub user_id: UserId,
    pub details: ObjectDetails,
    /// The initialization email, when one became due.
    pub notification: Option<NotificationId>,
    /// The code in clear, when it was to be returned rather than mailed.
    pub code: Option<PlainCode>,
}

/// A password that comes with a new user.
#[derive(Clone, PartialEq, Eq)]
pub enum NewPassword {
    /// In clear text; checked against the policy and hashed with argon2id.
    Plain(String),
    /// Already hashed elsewhere (ImportHumanUser).
    Hashed(PasswordHash),
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Plain(<redacted>)",
            Self::Hashed(_) => "Hashed(<redacted>)",
        })
    }
}

/// The profile of a new user, each part already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProfile {
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub nick_name: ProfileText,
    /// Empty: "first last", as ZITADEL makes it.
    pub display_name: ProfileText,
    pub preferred_language: Option<Language>,
    pub gender: Gender,
}

/// What AddHumanUser and ImportHumanUser carry, each value checked when it
/// was made (at the wire's edge); the use case adds the password policy and
/// the store's uniqueness of the user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHumanUser {
    pub user_name: UserName,
    pub profile: NewProfile,
    pub email: EmailAddress,
    pub email_verified: bool,
    pub phone: Option<(PhoneNumber, bool)>,
    pub password: Option<NewPassword>,
    pub password_change_required: bool,
    /// The caller's own id for the user (the v2 API's `user_id`); a new one
    /// is drawn when absent.
    pub user_id: Option<UserId>,
    /// How an Initial user's code reaches it.
    pub delivery: CodeDelivery,
}

impl NewHumanUser {
    /// A user with just the required parts: no password, an unverified
    /// address, nothing else in the profile.
    pub fn new(user_name: UserName, first_name: PersonName, last_name: PersonName, email: EmailAddress) -> Self {
        Self {
            user_name,
            profile: NewProfile {
                first_name,
                last_name,
                nick_name: ProfileText::default(),
                display_name: ProfileText::default(),
                preferred_language: None,
                gender: Gender::Unspecified,
            },
            email,
            email_verified: false,
            phone: None,
            password: None,
            password_change_required: false,
            user_id: None,
            delivery: CodeDelivery::Mailed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateUserError {
    #[error("{0}")]
    PasswordPolicy(PolicyViolation),
    #[error("a user with this user name already exists in the organization")]
    UserNameTaken,
    /// The id the caller chose is another user's.
    #[error("a user with this id already exists")]
    UserIdTaken,
    /// The link template points at an origin that is not allowed.
    #[error("the link template's origin is not allowed")]
    OriginNotAllowed,
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    /// Creates a human user in the acting organization. With a password and a
    /// verified email it is Active; otherwise it is Initial and its init email
    /// is due at once.
    #[tracing::instrument(skip_all, fields(org = %acting.org))]
    pub async fn create_human_user(&self, acting: &Acting, cmd: NewHumanUser) -> Result<Created, CreateUserError> {
        if !self.delivery_allowed(&cmd.delivery) {
            return Err(CreateUserError::OriginNotAllowed);
        }
        let password_hash = match cmd.password {
            None => None,
            Some(NewPassword::Plain(p)) if p.is_empty() => None,
            Some(NewPassword::Plain(p)) => {
                self.policy.check(&p).map_err(CreateUserError::PasswordPolicy)?;
                Some(PasswordHash::create(&p))
            }
            Some(NewPassword::Hashed(h)) => Some(h),
        };
        let p = cmd.profile;
        let (first_name, last_name) = (p.first_name.into_inner(), p.last_name.into_inner());
        let display_name = match p.display_name.into_inner() {
            empty if empty.is_empty() => format!("{first_name} {last_name}"),
            given => given,
        };
        let profile = Profile {
            first_name,
            last_name,
            nick_name: p.nick_name.into_inner(),
            display_name,
            preferred_language: p.preferred_language,
            gender: p.gender,
        };
        let email = Email { address: cmd.email, verified: cmd.email_verified };
        let phone = cmd.phone.map(|(number, verified)| Phone { number: number.into_inner(), verified });
        let state = if password_hash.is_some() && email.verified { UserState::Active } else { UserState::Initial };
        let added = UserEvent::Added {
            user_name: cmd.user_name,
            profile,
            email,
            phone,
            state,
            password_hash,
            password_change_required: cmd.password_change_required,
        };
        let editor = acting.principal.editor();
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let now = self.clock.now();
            let id = cmd.user_id.clone().unwrap_or_else(UserId::generate);
            let (mut user, first) = User::create(id, acting.org.clone(), added.clone(), now);
            let mut events = vec![first];
            let (mut outbox, mut code) = (None, None);
            if state == UserState::Initial {
                let (event, plain, entry) = self.issue_code(&mut user, now, cmd.delivery.clone());
                events.push(event);
                outbox = entry;
                code = cmd.delivery.is_returned().then_some(plain);
            }
            let created = Created {
                user_id: user.id.clone(),
                details: user.details(),
                notification: outbox.as_ref().map(|e| e.id.clone()),
                code,
            };
            let events = stamped(events, &editor);
            match self.users.save(UserWrite { expected_sequence: 0, user, events, outbox }).await {
                Ok(()) => {
                    tracing::info!(user_id = %created.user_id, ?state, "user created");
                    return Ok(created);
                }
                Err(SaveError::Conflict) if cmd.user_id.is_some() => return Err(CreateUserError::UserIdTaken),
                // The generated id was taken: draw another.
                Err(SaveError::Conflict) => continue,
                Err(SaveError::UserNameTaken) => return Err(CreateUserError::UserNameTaken),
                Err(SaveError::Unavailable(u)) => return Err(CreateUserError::Unavailable(u)),
            }
        }
        Err(CreateUserError::Contention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::*;

    fn jane() -> NewHumanUser {
        NewHumanUser::new(
            UserName::parse("jane").unwrap(),
            PersonName::parse("Jane").unwrap(),
            PersonName::parse("Doe").unwrap(),
            EmailAddress::parse("jane@example.com").unwrap(),
        )
    }

    #[tokio::test]
    async fn without_password_the_user_is_initial_and_its_email_is_due() {
        let (repo, writes) = repo_with(None);
        let created = service(repo, T0).create_human_user(&acting(), jane()).await.unwrap();
        let (id, details) = (created.user_id, created.details);
        let writes = writes.lock().unwrap();
        let w = &writes[0];
        assert_eq!(created.notification.as_ref(), w.outbox.as_ref().map(|e| &e.id));
        assert_eq!(w.expected_sequence, 0);
        assert_eq!(w.user.id, id);
        assert_eq!(w.user.state, UserState::Initial);
        assert_eq!(w.user.profile.display_name, "Jane Doe");
        let kinds: Vec<_> = w.events.iter().map(|e| (e.sequence, e.event.kind())).collect();
        assert_eq!(kinds, [(1, "user.added"), (2, "user.initialization.code.added")]);
        let entry = w.outbox.as_ref().unwrap();
        assert_eq!(entry.recipient.as_str(), "jane@example.com");
        assert_eq!(entry.code_generation, 2);
        let code = w.user.init_code.as_ref().unwrap();
        assert!(codes().matches(&id, entry.code.expose(), &code.hash));
        assert_eq!(details.sequence, 2);
        assert_eq!(details.creation_date, T0);
        assert_eq!(details.change_date, T0);
        assert_eq!(details.resource_owner, org());
    }

    #[tokio::test]
    async fn password_and_verified_email_make_an_active_user_without_mail() {
        let (repo, writes) = repo_with(None);
        let cmd =
            NewHumanUser { email_verified: true, password: Some(NewPassword::Plain("secret-pass".into())), ..jane() };
        let created = service(repo, T0).create_human_user(&acting(), cmd).await.unwrap();
        let details = created.details;
        assert_eq!(created.notification, None);
        let w = &writes.lock().unwrap()[0];
        assert_eq!(w.user.state, UserState::Active);
        assert!(w.outbox.is_none());
        assert!(w.user.password_hash.as_ref().unwrap().verify("secret-pass"));
        assert_eq!(details.sequence, 1);
    }

    #[tokio::test]
    async fn a_password_with_an_unverified_email_still_needs_initialization() {
        let (repo, writes) = repo_with(None);
        let cmd = NewHumanUser { password: Some(NewPassword::Plain("secret-pass".into())), ..jane() };
        service(repo, T0).create_human_user(&acting(), cmd).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert_eq!(w.user.state, UserState::Initial);
        assert!(w.outbox.is_some());
    }

    #[tokio::test]
    async fn imported_hashes_are_kept() {
        let (repo, writes) = repo_with(None);
        let hash = PasswordHash::import(PasswordHash::create("imported-pw").as_phc()).unwrap();
        let cmd = NewHumanUser { email_verified: true, password: Some(NewPassword::Hashed(hash)), ..jane() };
        service(repo, T0).create_human_user(&acting(), cmd).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert!(w.user.password_hash.as_ref().unwrap().verify("imported-pw"));
        assert_eq!(w.user.state, UserState::Active);
    }

    #[tokio::test]
    async fn a_password_against_the_policy_is_refused_before_any_write() {
        // A repository without expectations fails the test on any call.
        let svc = service(crate::ports::MockUserRepository::new(), T0);
        let weak = NewHumanUser { password: Some(NewPassword::Plain("short".into())), ..jane() };
        assert!(matches!(svc.create_human_user(&acting(), weak).await, Err(CreateUserError::PasswordPolicy(_))));
    }

    #[tokio::test]
    async fn the_display_name_defaults_to_first_and_last_name_and_phones_are_kept() {
        let (repo, writes) = repo_with(None);
        let mut cmd = jane();
        cmd.profile.nick_name = ProfileText::parse(" JD ").unwrap();
        cmd.phone = Some((PhoneNumber::parse("+41 79 123 45 67").unwrap(), true));
        service(repo, T0).create_human_user(&acting(), cmd).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert_eq!(w.user.profile.display_name, "Jane Doe");
        assert_eq!(w.user.profile.nick_name, "JD");
        assert_eq!(w.user.phone, Some(Phone { number: "+41791234567".into(), verified: true }));
    }

    #[tokio::test]
    async fn taken_names_and_store_failures_are_reported() {
        let mut repo = crate::ports::MockUserRepository::new();
        repo.expect_save().times(1).returning(|_| Err(SaveError::UserNameTaken));
        assert_eq!(service(repo, T0).create_human_user(&acting(), jane()).await, Err(CreateUserError::UserNameTaken));

        let mut repo = crate::ports::MockUserRepository::new();
        let mut calls = 0;
        repo.expect_save().times(2).returning(move |_| {
            calls += 1;
            if calls == 1 { Err(SaveError::Conflict) } else { Err(Unavailable("down".into()).into()) }
        });
        assert_eq!(
            service(repo, T0).create_human_user(&acting(), jane()).await,
            Err(CreateUserError::Unavailable(Unavailable("down".into())))
        );
    }
}
