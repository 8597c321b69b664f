//! The v2 API's invitation: CreateInviteCode, ResendInviteCode,
//! VerifyInviteCode and SetPassword. An invite code is the init code (one
//! live code per user, whichever API made it); what v2 adds is the choice of
//! delivery, remembered with the code.

use crate::authz::Acting;
use crate::events::{ObjectDetails, UserEvent};
use crate::ids::{NotificationId, UserId};
use crate::init_code::PlainCode;
use crate::invite::CodeDelivery;
use crate::password::{PasswordHash, PolicyViolation};
use crate::ports::{SaveError, Unavailable};
use crate::throttle::Throttled;
use crate::user::{User, UserState, UserWrite};

use super::{MAX_WRITE_ATTEMPTS, ThrottleError, UserService, stamped};

/// CreateInviteCode's and ResendInviteCode's errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    /// Not in the acting organization, deleted, or not there at all.
    #[error("user could not be found")]
    NotFound,
    #[error("user is already initialized")]
    NotInitial,
    /// ResendInviteCode of a user without a code to resend: none is live, or
    /// the live one was returned to the caller (never mailed, so never resent).
    #[error("no code to resend")]
    NoCodeToResend,
    #[error("the link template's origin is not allowed")]
    OriginNotAllowed,
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Throttled(Throttled),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// VerifyInviteCode's errors: wrong, expired and used codes are told apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteVerifyError {
    #[error("user could not be found")]
    NotFound,
    #[error("user is already initialized")]
    AlreadyInitialized,
    /// The code was proven already (the user waits for a password).
    #[error("the code was already used")]
    Used,
    #[error("the code has expired")]
    Expired,
    #[error("too many wrong attempts; a new code is needed")]
    TooManyAttempts,
    #[error("the code is wrong; {attempts_left} attempts left")]
    WrongCode { attempts_left: u32 },
    /// An earlier code of the user's, replaced by a newer one (whose email
    /// went out at `newer_sent_at`): not an attempt.
    #[error("the code was replaced by a newer one")]
    Superseded { newer_sent_at: time::OffsetDateTime },
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// SetPassword's errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetPasswordError {
    #[error("user could not be found")]
    NotFound,
    #[error("{0}")]
    PasswordPolicy(PolicyViolation),
    /// `current_password` was given and is not the user's.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// SetPassword's input. `Debug` hides the passwords.
#[derive(Clone, Default)]
pub struct SetPasswordInput {
    pub password: String,
    pub change_required: bool,
    /// When given, it must be the user's password now.
    pub current_password: Option<String>,
}

impl std::fmt::Debug for SetPasswordInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetPasswordInput")
            .field("change_required", &self.change_required)
            .field("current_password", &self.current_password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// What CreateInviteCode made: the code in clear only when it was to be returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteCreated {
    pub details: ObjectDetails,
    pub code: Option<PlainCode>,
    pub notification: Option<NotificationId>,
}

fn save_error<E: From<Unavailable>>(e: SaveError) -> Option<E> {
    match e {
        SaveError::Conflict => None,
        SaveError::Unavailable(u) => Some(u.into()),
        SaveError::UserNameTaken => Some(Unavailable("store reported a name clash on update".into()).into()),
    }
}

impl UserService {
    /// Read afresh (not [`crate::ports::UserRepository::get_for_write`]):
    /// these refusals rest on facts that revert, such as a used-up code
    /// replaced by a new one.
    async fn user_for_write(&self, acting: &Acting, id: &UserId) -> Result<Option<User>, Unavailable> {
        Ok(self.users.get(id).await?.filter(|u| u.visible_in(&acting.org)))
    }

    /// A new code for an Initial user (the old one stops working), delivered
    /// as `delivery` says: mailed (with the integrator's link template, if
    /// given) or returned.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id, returned = delivery.is_returned()))]
    pub async fn create_invite_code(
        &self,
        acting: &Acting,
        id: &UserId,
        delivery: CodeDelivery,
    ) -> Result<InviteCreated, InviteError> {
        if !self.delivery_allowed(&delivery) {
            return Err(InviteError::OriginNotAllowed);
        }
        self.invite(acting, id, |_| Ok(delivery.clone())).await
    }

    /// A new code mailed as the live one was (same template, same
    /// application name); a returned code, or none, cannot be resent.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id))]
    pub async fn resend_invite_code(
        &self,
        acting: &Acting,
        id: &UserId,
    ) -> Result<(ObjectDetails, NotificationId), InviteError> {
        let created = self
            .invite(acting, id, |user| match &user.init_code {
                Some(code) if !code.delivery.is_returned() => Ok(code.delivery.clone()),
                _ => Err(InviteError::NoCodeToResend),
            })
            .await?;
        let notification = created.notification.ok_or(InviteError::NoCodeToResend)?;
        Ok((created.details, notification))
    }

    async fn invite(
        &self,
        acting: &Acting,
        id: &UserId,
        delivery_for: impl Fn(&User) -> Result<CodeDelivery, InviteError>,
    ) -> Result<InviteCreated, InviteError> {
        let mut charged = false;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let mut user = self.user_for_write(acting, id).await?.ok_or(InviteError::NotFound)?;
            if user.state != UserState::Initial {
                return Err(InviteError::NotInitial);
            }
            let delivery = delivery_for(&user)?;
            // Only calls that mail count against the resend limits.
            if !charged && !delivery.is_returned() {
                self.throttle(self.throttle.resend_limits(id, &user.email.address)).await.map_err(|e| match e {
                    ThrottleError::Throttled(t) => InviteError::Throttled(t),
                    ThrottleError::Unavailable(u) => InviteError::Unavailable(u),
                })?;
                charged = true;
            }
            let expected_sequence = user.sequence;
            let now = self.clock.now();
            let returned = delivery.is_returned();
            let (event, code, outbox) = self.issue_code(&mut user, now, delivery);
            let details = user.details();
            let notification = outbox.as_ref().map(|e| e.id.clone());
            let events = stamped(vec![event], &acting.principal.editor());
            match self.users.save(UserWrite { expected_sequence, user, events, outbox }).await {
                Ok(()) => {
                    return Ok(InviteCreated { details, code: returned.then_some(code), notification });
                }
                Err(e) => {
                    if let Some(e) = save_error(e) {
                        return Err(e);
                    }
                }
            }
        }
        Err(InviteError::Contention)
    }

    /// Proves the user's code (counting wrong attempts as the page does) and
    /// verifies its email. A user with a password is then Active; one
    /// without stays Initial until SetPassword.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id))]
    pub async fn verify_invite_code(
        &self,
        acting: &Acting,
        id: &UserId,
        candidate: &str,
    ) -> Result<ObjectDetails, InviteVerifyError> {
        let max_attempts = self.codes.config().max_attempts;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let mut user = self.user_for_write(acting, id).await?.ok_or(InviteVerifyError::NotFound)?;
            if user.state != UserState::Initial {
                return Err(InviteVerifyError::AlreadyInitialized);
            }
            let code = user.init_code.clone().ok_or(InviteVerifyError::Used)?;
            if code.failed_attempts >= max_attempts {
                return Err(InviteVerifyError::TooManyAttempts);
            }
            let now = self.clock.now();
            if code.is_expired(now) {
                return Err(InviteVerifyError::Expired);
            }
            let expected_sequence = user.sequence;
            let matched = !candidate.trim().is_empty() && self.codes.matches(&user.id, candidate, &code.hash);
            let mut events = Vec::with_capacity(2);
            if matched {
                if !user.email.verified {
                    events.push(user.record(UserEvent::EmailVerified, now));
                }
                let done = if user.password_hash.is_some() {
                    UserEvent::InitCheckSucceeded
                } else {
                    UserEvent::InviteCheckSucceeded
                };
                events.push(user.record(done, now));
            } else {
                if let Some(newer_sent_at) = self.superseded_by(&user, candidate).await? {
                    return Err(InviteVerifyError::Superseded { newer_sent_at });
                }
                events.push(user.record(UserEvent::InitCheckFailed, now));
            }
            let details = user.details();
            let events = stamped(events, &acting.principal.editor());
            match self.users.save(UserWrite { expected_sequence, user, events, outbox: None }).await {
                Ok(()) if matched => return Ok(details),
                Ok(()) => {
                    tracing::info!(failed_attempts = code.failed_attempts + 1, "wrong invite code");
                    return Err(InviteVerifyError::WrongCode {
                        attempts_left: max_attempts - code.failed_attempts - 1,
                    });
                }
                Err(e) => {
                    if let Some(e) = save_error(e) {
                        return Err(e);
                    }
                }
            }
        }
        Err(InviteVerifyError::Contention)
    }

    /// Sets the user's password. An Initial user whose email is verified
    /// (by its invite code, say) is then Active, and any live code is void.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id))]
    pub async fn set_password(
        &self,
        acting: &Acting,
        id: &UserId,
        input: SetPasswordInput,
    ) -> Result<ObjectDetails, SetPasswordError> {
        self.policy.check(&input.password).map_err(SetPasswordError::PasswordPolicy)?;
        let mut hash: Option<PasswordHash> = None;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let mut user = self.user_for_write(acting, id).await?.ok_or(SetPasswordError::NotFound)?;
            if let Some(current) = &input.current_password {
                if !user.password_hash.as_ref().is_some_and(|h| h.verify(current)) {
                    return Err(SetPasswordError::WrongCurrentPassword);
                }
            }
            let hash = hash.get_or_insert_with(|| PasswordHash::create(&input.password)).clone();
            let expected_sequence = user.sequence;
            let now = self.clock.now();
            let mut events =
                vec![user.record(UserEvent::PasswordSet { hash, change_required: input.change_required }, now)];
            if user.state == UserState::Initial && user.email.verified {
                events.push(user.record(UserEvent::InitCheckSucceeded, now));
            }
            let details = user.details();
            let events = stamped(events, &acting.principal.editor());
            match self.users.save(UserWrite { expected_sequence, user, events, outbox: None }).await {
                Ok(()) => return Ok(details),
                Err(e) => {
                    if let Some(e) = save_error(e) {
                        return Err(e);
                    }
                }
            }
        }
        Err(SetPasswordError::Contention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invite::UrlTemplate;
    use crate::usecases::test_support::*;
    use time::Duration;

    fn uid() -> UserId {
        UserId::parse("200").unwrap()
    }

    fn template() -> UrlTemplate {
        UrlTemplate::parse("https://app.example.com/invite?u={{.UserID}}&c={{.Code}}").unwrap()
    }

    #[tokio::test]
    async fn a_returned_code_is_never_mailed_nor_resent_and_proves_the_email() {
        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0);
        let created = svc.create_invite_code(&acting(), &uid(), CodeDelivery::Returned).await.unwrap();
        let code = created.code.expect("returned");
        assert_eq!(created.notification, None);
        assert!(writes.lock().unwrap()[0].outbox.is_none());
        assert_eq!(svc.resend_invite_code(&acting(), &uid()).await, Err(InviteError::NoCodeToResend));

        let wrong = svc.verify_invite_code(&acting(), &uid(), "WRONG0").await;
        assert_eq!(wrong, Err(InviteVerifyError::WrongCode { attempts_left: 4 }));
        svc.verify_invite_code(&acting(), &uid(), code.expose()).await.unwrap();
        let w = writes.lock().unwrap().last().unwrap().clone();
        let kinds: Vec<_> = w.events.iter().map(|e| e.event.kind()).collect();
        assert_eq!(kinds, ["user.email.verified", "user.invite.check.succeeded"]);
        assert_eq!(w.user.state, UserState::Initial);
        assert!(w.user.invite_used());
        assert_eq!(svc.verify_invite_code(&acting(), &uid(), code.expose()).await, Err(InviteVerifyError::Used));
    }

    #[tokio::test]
    async fn a_template_and_name_are_kept_for_resends() {
        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0);
        let delivery = CodeDelivery::mailed(Some(template()), Some("Shop".into()));
        let created = svc.create_invite_code(&acting(), &uid(), delivery.clone()).await.unwrap();
        assert_eq!(created.code, None);
        assert!(created.notification.is_some());
        svc.resend_invite_code(&acting(), &uid()).await.unwrap();
        let writes = writes.lock().unwrap();
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[1].user.init_code.as_ref().unwrap().delivery, delivery);
        assert!(writes[1].outbox.is_some());
        assert!(!writes[1].user.snapshot_safe());
    }

    #[tokio::test]
    async fn templates_outside_the_allowed_origins_are_refused() {
        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0).with_invite_origins(vec!["https://other.example.com/".into()]);
        let delivery = CodeDelivery::mailed(Some(template()), None);
        assert_eq!(svc.create_invite_code(&acting(), &uid(), delivery).await, Err(InviteError::OriginNotAllowed));
        assert!(writes.lock().unwrap().is_empty());
        let svc = svc.with_invite_origins(vec!["HTTPS://app.example.com".into()]);
        assert!(svc.create_invite_code(&acting(), &uid(), CodeDelivery::mailed(Some(template()), None)).await.is_ok());
    }

    #[tokio::test]
    async fn expired_and_exhausted_codes_are_told_apart_from_wrong_ones() {
        let (user, code) = initial_user();
        let (repo, _) = repo_with(Some(user.clone()));
        let late = service(repo, T0 + Duration::hours(73));
        assert_eq!(late.verify_invite_code(&acting(), &uid(), code.expose()).await, Err(InviteVerifyError::Expired));
        let (repo, _) = repo_with(Some(user));
        let svc = service(repo, T0);
        for left in (0..5).rev() {
            let r = svc.verify_invite_code(&acting(), &uid(), "WRONG0").await;
            assert_eq!(r, Err(InviteVerifyError::WrongCode { attempts_left: left }));
        }
        assert_eq!(
            svc.verify_invite_code(&acting(), &uid(), code.expose()).await,
            Err(InviteVerifyError::TooManyAttempts)
        );
    }

    #[tokio::test]
    async fn set_password_activates_a_user_whose_email_is_verified() {
        let (user, code) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0);
        let input = |p: &str| SetPasswordInput { password: p.into(), ..Default::default() };
        // Before the code is proven: the password is set, the user stays Initial.
        svc.set_password(&acting(), &uid(), input("first-password")).await.unwrap();
        assert_eq!(writes.lock().unwrap()[0].user.state, UserState::Initial);
        // Proving the code of a user with a password finishes its initialization.
        svc.verify_invite_code(&acting(), &uid(), code.expose()).await.unwrap();
        let last = writes.lock().unwrap().last().unwrap().user.clone();
        assert_eq!(last.state, UserState::Active);
        let wrong = SetPasswordInput { current_password: Some("nope".into()), ..input("second-password") };
        assert_eq!(svc.set_password(&acting(), &uid(), wrong).await, Err(SetPasswordError::WrongCurrentPassword));
        let right = SetPasswordInput {
            current_password: Some("first-password".into()),
            change_required: true,
            ..input("second-password")
        };
        svc.set_password(&acting(), &uid(), right).await.unwrap();
        let last = writes.lock().unwrap().last().unwrap().user.clone();
        assert!(last.password_change_required);
        assert!(last.password_hash.unwrap().verify("second-password"));
    }

    #[tokio::test]
    async fn verified_then_password_makes_the_user_active() {
        let (user, code) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0);
        svc.verify_invite_code(&acting(), &uid(), code.expose()).await.unwrap();
        let input = SetPasswordInput { password: "a-password".into(), ..Default::default() };
        svc.set_password(&acting(), &uid(), input).await.unwrap();
        let w = writes.lock().unwrap().last().unwrap().clone();
        let kinds: Vec<_> = w.events.iter().map(|e| e.event.kind()).collect();
        assert_eq!(kinds, ["user.password.set", "user.initialization.check.succeeded"]);
        assert_eq!(w.user.state, UserState::Active);
        assert!(!w.user.password_change_required);
    }

    #[tokio::test]
    async fn only_initial_users_of_the_organization_get_codes() {
        let (mut user, _) = initial_user();
        user.state = UserState::Active;
        let (repo, _) = repo_with(Some(user));
        let svc = service(repo, T0);
        assert_eq!(
            svc.create_invite_code(&acting(), &uid(), CodeDelivery::Returned).await,
            Err(InviteError::NotInitial)
        );
        let other = Acting { org: crate::ids::OrgId::parse("other").unwrap(), ..acting() };
        assert_eq!(svc.create_invite_code(&other, &uid(), CodeDelivery::Returned).await, Err(InviteError::NotFound));
        assert_eq!(svc.verify_invite_code(&acting(), &uid(), "X").await, Err(InviteVerifyError::AlreadyInitialized));
    }
}
