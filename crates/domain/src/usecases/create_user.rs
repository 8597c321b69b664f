//! AddHumanUser and ImportHumanUser.

use crate::authz::Acting;
use crate::email::{EmailAddress, EmailError};
use crate::events::{ObjectDetails, UserEvent};
use crate::ids::{NotificationId, UserId};
use crate::password::{PasswordHash, PolicyViolation};
use crate::ports::{SaveError, Unavailable};
use crate::user::{Email, Gender, Language, Phone, Profile, User, UserName, UserState, UserWrite};

use super::{MAX_WRITE_ATTEMPTS, UserService};

/// What creating a user made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub user_id: UserId,
    pub details: ObjectDetails,
    /// The initialization email, when one became due.
    pub notification: Option<NotificationId>,
}

/// A password that comes with a new user.
#[derive(Clone, PartialEq, Eq)]
pub enum NewPassword {
    /// In clear text; checked against the policy and hashed with argon2id.
    Plain(String),
    /// Already hashed elsewhere (ImportHumanUser), as a PHC string.
    Hashed(String),
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Plain(<redacted>)",
            Self::Hashed(_) => "Hashed(<redacted>)",
        })
    }
}

/// What AddHumanUser and ImportHumanUser carry, as raw wire values: the use
/// case validates them all before anything is read or written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewHumanUser {
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub gender: i32,
    pub email: String,
    pub email_verified: bool,
    pub phone: String,
    pub phone_verified: bool,
    pub password: Option<NewPassword>,
    pub password_change_required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateUserError {
    /// A field is missing or malformed; `field` is its proto name.
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("email: {0}")]
    InvalidEmail(EmailError),
    #[error("{0}")]
    PasswordPolicy(PolicyViolation),
    #[error("a user with this user name already exists in the organization")]
    UserNameTaken,
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> CreateUserError {
    CreateUserError::InvalidField { field, reason: reason.into() }
}

fn bounded(field: &'static str, value: &str, required: bool) -> Result<String, CreateUserError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > 200 {
        return Err(invalid(field, "must be at most 200 characters"));
    }
    Ok(value.to_owned())
}

/// The validated parts of a new user.
struct Validated {
    user_name: UserName,
    profile: Profile,
    email: Email,
    phone: Option<Phone>,
    password_hash: Option<PasswordHash>,
}

impl UserService {
    fn validate_new_user(&self, cmd: &NewHumanUser) -> Result<Validated, CreateUserError> {
        let user_name = UserName::parse(&cmd.user_name).map_err(|r| invalid("user_name", r))?;
        let first_name = bounded("profile.first_name", &cmd.first_name, true)?;
        let last_name = bounded("profile.last_name", &cmd.last_name, true)?;
        let nick_name = bounded("profile.nick_name", &cmd.nick_name, false)?;
        let mut display_name = bounded("profile.display_name", &cmd.display_name, false)?;
        if display_name.is_empty() {
            display_name = format!("{first_name} {last_name}");
        }
        let preferred_language = match cmd.preferred_language.trim() {
            "" => None,
            tag => Some(Language::parse(tag).map_err(|r| invalid("profile.preferred_language", r))?),
        };
        let gender = Gender::from_number(cmd.gender).ok_or_else(|| invalid("profile.gender", "unknown value"))?;
        let address = EmailAddress::parse(&cmd.email).map_err(CreateUserError::InvalidEmail)?;
        let phone = match bounded("phone.phone", &cmd.phone, false)? {
            number if number.is_empty() => None,
            number => Some(Phone { number, verified: cmd.phone_verified }),
        };
        let password_hash = match &cmd.password {
            None => None,
            Some(NewPassword::Plain(p)) if p.is_empty() => None,
            Some(NewPassword::Plain(p)) => {
                self.policy.check(p).map_err(CreateUserError::PasswordPolicy)?;
                Some(PasswordHash::create(p))
            }
            Some(NewPassword::Hashed(h)) => Some(PasswordHash::import(h).map_err(|r| invalid("hashed_password", r))?),
        };
        Ok(Validated {
            user_name,
            profile: Profile { first_name, last_name, nick_name, display_name, preferred_language, gender },
            email: Email { address, verified: cmd.email_verified },
            phone,
            password_hash,
        })
    }

    /// Creates a human user in the acting organization. With a password and a
    /// verified email it is Active; otherwise it is Initial and its init email
    /// is due at once.
    #[tracing::instrument(skip_all, fields(org = %acting.org))]
    pub async fn create_human_user(&self, acting: &Acting, cmd: NewHumanUser) -> Result<Created, CreateUserError> {
        let v = self.validate_new_user(&cmd)?;
        let state = if v.password_hash.is_some() && v.email.verified { UserState::Active } else { UserState::Initial };
        let added = UserEvent::Added {
            user_name: v.user_name,
            profile: v.profile,
            email: v.email,
            phone: v.phone,
            state,
            password_hash: v.password_hash,
            password_change_required: cmd.password_change_required,
        };
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let now = self.clock.now();
            let (mut user, first) = User::create(UserId::generate(), acting.org.clone(), added.clone(), now);
            let mut events = vec![first];
            let mut outbox = None;
            if state == UserState::Initial {
                let (event, entry) = self.issue_init_code(&mut user, now);
                events.push(event);
                outbox = Some(entry);
            }
            let created = Created {
                user_id: user.id.clone(),
                details: user.details(),
                notification: outbox.as_ref().map(|e| e.id.clone()),
            };
            match self.users.save(UserWrite { expected_sequence: 0, user, events, outbox }).await {
                Ok(()) => {
                    tracing::info!(user_id = %created.user_id, ?state, "user created");
                    return Ok(created);
                }
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
        NewHumanUser {
            user_name: "jane".into(),
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            email: "jane@example.com".into(),
            ..NewHumanUser::default()
        }
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
        let phc = PasswordHash::create("imported-pw").as_phc().to_owned();
        let cmd = NewHumanUser { email_verified: true, password: Some(NewPassword::Hashed(phc)), ..jane() };
        service(repo, T0).create_human_user(&acting(), cmd).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert!(w.user.password_hash.as_ref().unwrap().verify("imported-pw"));
        assert_eq!(w.user.state, UserState::Active);
    }

    #[tokio::test]
    async fn every_invalid_field_is_rejected_before_any_write() {
        let cases: Vec<(NewHumanUser, &str)> = vec![
            (NewHumanUser { user_name: "".into(), ..jane() }, "user_name"),
            (NewHumanUser { user_name: "ja ne".into(), ..jane() }, "user_name"),
            (NewHumanUser { first_name: " ".into(), ..jane() }, "profile.first_name"),
            (NewHumanUser { last_name: "".into(), ..jane() }, "profile.last_name"),
            (NewHumanUser { nick_name: "n".repeat(201), ..jane() }, "profile.nick_name"),
            (NewHumanUser { preferred_language: "english!".into(), ..jane() }, "profile.preferred_language"),
            (NewHumanUser { gender: 9, ..jane() }, "profile.gender"),
            (NewHumanUser { password: Some(NewPassword::Hashed("x".into())), ..jane() }, "hashed_password"),
        ];
        for (cmd, field) in cases {
            // A repository without expectations fails the test on any call.
            let svc = service(crate::ports::MockUserRepository::new(), T0);
            match svc.create_human_user(&acting(), cmd).await {
                Err(CreateUserError::InvalidField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let svc = service(crate::ports::MockUserRepository::new(), T0);
        let bad_email = NewHumanUser { email: "nope".into(), ..jane() };
        assert!(matches!(svc.create_human_user(&acting(), bad_email).await, Err(CreateUserError::InvalidEmail(_))));
        let weak = NewHumanUser { password: Some(NewPassword::Plain("short".into())), ..jane() };
        assert!(matches!(svc.create_human_user(&acting(), weak).await, Err(CreateUserError::PasswordPolicy(_))));
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
