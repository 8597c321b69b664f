//! VerifyInitCode: the init page proves the code and sets the password.

use crate::events::{ObjectDetails, UserEvent};
use crate::ids::{OrgId, UserId};
use crate::password::{PasswordHash, PolicyViolation};
use crate::ports::{SaveError, Unavailable};
use crate::user::{UserState, UserWrite};

use super::{MAX_WRITE_ATTEMPTS, UserService};

/// What the page submits. The code is a secret: `Debug` hides it and the password.
#[derive(Clone, Default)]
pub struct VerifyInitCode {
    pub user_id: String,
    /// The organization named in the link; when given it must be the user's.
    pub org_id: String,
    pub code: String,
    /// Required unless the user already has a password.
    pub password: String,
}

impl std::fmt::Debug for VerifyInitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyInitCode")
            .field("user_id", &self.user_id)
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The link lacks a user id or a code, or they are malformed.
    #[error("the link is incomplete or malformed")]
    MalformedLink,
    /// No such user (or deleted, or another organization than the link says).
    #[error("user could not be found")]
    NotFound,
    #[error("user is already initialized")]
    AlreadyInitialized,
    /// No code is pending (none was issued or it was used).
    #[error("no initialization code is pending; request a new email")]
    NoCode,
    #[error("the code has expired; request a new email")]
    Expired,
    #[error("too many wrong attempts; request a new email")]
    TooManyAttempts,
    #[error("the code is wrong; {attempts_left} attempts left")]
    WrongCode { attempts_left: u32 },
    /// The code is an earlier one of the user's, replaced by a newer email
    /// (sent at `newer_sent_at`): not an attempt.
    #[error("a newer email was sent on {newer_sent_at}; use the link in that one")]
    Superseded { newer_sent_at: time::OffsetDateTime },
    #[error("a password is required")]
    PasswordRequired,
    #[error("{0}")]
    PasswordPolicy(PolicyViolation),
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    /// Checks the code; a wrong one is counted, and after the configured
    /// number of wrong attempts the code is dead until a resend. On success
    /// the password is set, the email verified and the user Active.
    #[tracing::instrument(skip_all, fields(user_id = %input.user_id))]
    pub async fn verify_init_code(&self, input: VerifyInitCode) -> Result<ObjectDetails, VerifyError> {
        let id = UserId::parse(&input.user_id).map_err(|_| VerifyError::MalformedLink)?;
        if input.code.trim().is_empty() {
            return Err(VerifyError::MalformedLink);
        }
        let link_org = match input.org_id.trim() {
            "" => None,
            raw => Some(OrgId::parse(raw).map_err(|_| VerifyError::MalformedLink)?),
        };
        let max_attempts = self.codes.config().max_attempts;
        let mut new_hash: Option<PasswordHash> = None;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let mut user = self
                .users
                .get(&id)
                .await?
                .filter(|u| u.state != UserState::Deleted && link_org.as_ref().is_none_or(|o| *o == u.org))
                .ok_or(VerifyError::NotFound)?;
            if user.state != UserState::Initial {
                return Err(VerifyError::AlreadyInitialized);
            }
            let code = user.init_code.clone().ok_or(VerifyError::NoCode)?;
            if code.failed_attempts >= max_attempts {
                return Err(VerifyError::TooManyAttempts);
            }
            let now = self.clock.now();
            if code.is_expired(now) {
                return Err(VerifyError::Expired);
            }
            // The password is checked before the code so a rejected password
            // does not use up an attempt.
            if input.password.is_empty() {
                if user.password_hash.is_none() {
                    return Err(VerifyError::PasswordRequired);
                }
            } else {
                self.policy.check(&input.password).map_err(VerifyError::PasswordPolicy)?;
            }
            let expected_sequence = user.sequence;
            let mut events = Vec::with_capacity(3);
            let matched = self.codes.matches(&user.id, &input.code, &code.hash);
            if matched {
                if !input.password.is_empty() && new_hash.is_none() {
                    new_hash = Some(PasswordHash::create(&input.password));
                }
                if let Some(hash) = &new_hash {
                    events.push(user.record(UserEvent::PasswordChanged { hash: hash.clone() }, now));
                }
                if !user.email.verified {
                    events.push(user.record(UserEvent::EmailVerified, now));
                }
                events.push(user.record(UserEvent::InitCheckSucceeded, now));
            } else {
                // An earlier code is an honest mistake, not a guess: it costs nothing.
                if let Some(newer_sent_at) = self.superseded_by(&user, &input.code).await? {
                    return Err(VerifyError::Superseded { newer_sent_at });
                }
                events.push(user.record(UserEvent::InitCheckFailed, now));
            }
            let details = user.details();
            // The user does this themself, on the init page.
            let own = crate::events::Editor::new(user.id.to_string(), user.profile.display_name.clone());
            let events = events.into_iter().map(|e| e.by(&own)).collect();
            match self.users.save(UserWrite { expected_sequence, user, events, outbox: None }).await {
                Ok(()) if matched => {
                    tracing::info!("user initialized");
                    return Ok(details);
                }
                Ok(()) => {
                    tracing::info!(failed_attempts = code.failed_attempts + 1, "wrong init code");
                    return Err(VerifyError::WrongCode { attempts_left: max_attempts - code.failed_attempts - 1 });
                }
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Unavailable(u)) => return Err(VerifyError::Unavailable(u)),
                Err(SaveError::UserNameTaken) => {
                    return Err(VerifyError::Unavailable(Unavailable("store reported a name clash on update".into())));
                }
            }
        }
        Err(VerifyError::Contention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockUserRepository;
    use crate::usecases::test_support::*;
    use time::Duration;

    fn input(code: &str, password: &str) -> VerifyInitCode {
        VerifyInitCode {
            user_id: "200".into(),
            org_id: org().to_string(),
            code: code.into(),
            password: password.into(),
        }
    }

    #[tokio::test]
    async fn the_right_code_sets_the_password_verifies_and_activates() {
        let (user, code) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let now = T0 + Duration::hours(1);
        let details = service(repo, now).verify_init_code(input(code.expose(), "new-password")).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        let kinds: Vec<_> = w.events.iter().map(|e| (e.sequence, e.event.kind())).collect();
        assert_eq!(
            kinds,
            [(3, "user.password.changed"), (4, "user.email.verified"), (5, "user.initialization.check.succeeded")]
        );
        assert_eq!(w.user.state, UserState::Active);
        assert!(w.user.email.verified);
        assert!(w.user.init_code.is_none());
        assert!(w.user.password_hash.as_ref().unwrap().verify("new-password"));
        assert_eq!((details.sequence, details.change_date), (5, now));
    }

    #[tokio::test]
    async fn a_wrong_code_is_counted_and_five_kill_the_code() {
        let (user, code) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0);
        for left in (0..5).rev() {
            assert_eq!(
                svc.verify_init_code(input("WRONG1", "new-password")).await,
                Err(VerifyError::WrongCode { attempts_left: left })
            );
        }
        assert_eq!(writes.lock().unwrap().len(), 5);
        assert_eq!(writes.lock().unwrap()[4].user.init_code.as_ref().unwrap().failed_attempts, 5);
        // Now even the right code is refused, and nothing more is written.
        assert_eq!(svc.verify_init_code(input(code.expose(), "new-password")).await, Err(VerifyError::TooManyAttempts));
        assert_eq!(writes.lock().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn an_expired_code_is_its_own_error_and_not_an_attempt() {
        let (user, code) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0 + Duration::hours(72));
        assert_eq!(svc.verify_init_code(input(code.expose(), "new-password")).await, Err(VerifyError::Expired));
        assert_eq!(svc.verify_init_code(input("WRONG1", "new-password")).await, Err(VerifyError::Expired));
        assert!(writes.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn password_problems_do_not_use_up_attempts() {
        let (user, code) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0);
        assert_eq!(svc.verify_init_code(input(code.expose(), "")).await, Err(VerifyError::PasswordRequired));
        assert_eq!(
            svc.verify_init_code(input(code.expose(), "short")).await,
            Err(VerifyError::PasswordPolicy(crate::PolicyViolation::TooShort(8)))
        );
        assert!(writes.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_user_with_a_password_may_verify_without_a_new_one() {
        let (mut user, code) = initial_user();
        user.password_hash = Some(PasswordHash::create("kept-password"));
        let (repo, writes) = repo_with(Some(user));
        service(repo, T0).verify_init_code(input(code.expose(), "")).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert!(w.user.password_hash.as_ref().unwrap().verify("kept-password"));
        assert_eq!(w.user.state, UserState::Active);
    }

    #[tokio::test]
    async fn link_problems_and_finished_users() {
        let svc = service(MockUserRepository::new(), T0);
        assert_eq!(svc.verify_init_code(input("", "x")).await, Err(VerifyError::MalformedLink));
        assert_eq!(
            svc.verify_init_code(VerifyInitCode { user_id: "".into(), ..input("ABC", "x") }).await,
            Err(VerifyError::MalformedLink)
        );

        let (user, code) = initial_user();
        let (repo, _) = repo_with(Some(user.clone()));
        let wrong_org = VerifyInitCode { org_id: "other".into(), ..input(code.expose(), "new-password") };
        assert_eq!(service(repo, T0).verify_init_code(wrong_org).await, Err(VerifyError::NotFound));

        let mut active = user.clone();
        active.state = UserState::Active;
        let (repo, _) = repo_with(Some(active));
        assert_eq!(
            service(repo, T0).verify_init_code(input(code.expose(), "new-password")).await,
            Err(VerifyError::AlreadyInitialized)
        );

        let mut no_code = user;
        no_code.init_code = None;
        let (repo, _) = repo_with(Some(no_code));
        assert_eq!(
            service(repo, T0).verify_init_code(input(code.expose(), "new-password")).await,
            Err(VerifyError::NoCode)
        );
    }

    #[test]
    fn debug_output_hides_code_and_password() {
        let shown = format!("{:?}", input("SECRET", "hunter22"));
        assert!(!shown.contains("SECRET") && !shown.contains("hunter22"));
    }
}
