//! ResendHumanInitialization, with the contract's semantics 1–6.

use crate::authz::Acting;
use crate::email::EmailAddress;
use crate::events::{ObjectDetails, UserEvent};
use crate::ids::{NotificationId, UserId};
use crate::ports::{SaveError, Unavailable};
use crate::throttle::Throttled;
use crate::user::{UserState, UserWrite};

use super::{MAX_WRITE_ATTEMPTS, ThrottleError, UserService, stamped};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResendError {
    /// Not in the acting organization, deleted, or not there at all.
    #[error("user could not be found")]
    NotFound,
    #[error("user is already initialized")]
    NotInitial,
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    /// Too soon after the last resend to the user, or the recipient got its
    /// daily number of emails.
    #[error(transparent)]
    Throttled(Throttled),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    /// Issues a new init code (the old one stops working) and makes its email
    /// due, after changing the address when `email` names a different one.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id, email_given = new_address.is_some()))]
    pub async fn resend_initialization(
        &self,
        acting: &Acting,
        id: &UserId,
        new_address: Option<EmailAddress>,
    ) -> Result<(ObjectDetails, NotificationId), ResendError> {
        let mut charged = false;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            // Read for the write that follows: a store may answer from its own copy, which the
            // sequence check of the save confirms.
            let user = self.users.get_for_write(id).await?.filter(|u| u.visible_in(&acting.org));
            let mut user = user.ok_or(ResendError::NotFound)?;
            if user.state != UserState::Initial {
                return Err(ResendError::NotInitial);
            }
            // Counted once per call, and only for resends that would send:
            // invalid and refused calls change no counter.
            if !charged {
                let recipient = new_address.as_ref().unwrap_or(&user.email.address);
                self.throttle(self.throttle.resend_limits(id, recipient)).await.map_err(|e| match e {
                    ThrottleError::Throttled(t) => ResendError::Throttled(t),
                    ThrottleError::Unavailable(u) => ResendError::Unavailable(u),
                })?;
                charged = true;
            }
            let expected_sequence = user.sequence;
            let now = self.clock.now();
            let mut events = Vec::with_capacity(2);
            if let Some(address) = new_address.as_ref().filter(|a| **a != user.email.address) {
                events.push(user.record(UserEvent::EmailChanged { address: address.clone() }, now));
            }
            let (event, outbox) = self.issue_init_code(&mut user, now);
            events.push(event);
            let (details, notification) = (user.details(), outbox.id.clone());
            let events = stamped(events, &acting.principal.editor());
            match self.users.save(UserWrite { expected_sequence, user, events, outbox: Some(outbox) }).await {
                Ok(()) => return Ok((details, notification)),
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Unavailable(u)) => return Err(ResendError::Unavailable(u)),
                Err(SaveError::UserNameTaken) => {
                    return Err(ResendError::Unavailable(Unavailable("store reported a name clash on update".into())));
                }
            }
        }
        Err(ResendError::Contention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;
    use crate::ports::MockUserRepository;
    use crate::usecases::test_support::*;
    use time::Duration;

    fn uid() -> UserId {
        UserId::parse("200").unwrap()
    }

    fn addr(raw: &str) -> EmailAddress {
        EmailAddress::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn unknown_other_org_and_deleted_users_are_not_found() {
        let (repo, _) = repo_with(None);
        assert_eq!(service(repo, T0).resend_initialization(&acting(), &uid(), None).await, Err(ResendError::NotFound));

        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user.clone()));
        let other = Acting { org: OrgId::parse("other").unwrap(), ..acting() };
        assert_eq!(service(repo, T0).resend_initialization(&other, &uid(), None).await, Err(ResendError::NotFound));
        assert!(writes.lock().unwrap().is_empty());

        let mut deleted = user;
        deleted.state = UserState::Deleted;
        let (repo, _) = repo_with(Some(deleted));
        assert_eq!(service(repo, T0).resend_initialization(&acting(), &uid(), None).await, Err(ResendError::NotFound));
    }

    #[tokio::test]
    async fn users_past_initial_are_a_failed_precondition() {
        let (mut user, _) = initial_user();
        user.state = UserState::Active;
        let (repo, writes) = repo_with(Some(user));
        assert_eq!(
            service(repo, T0).resend_initialization(&acting(), &uid(), None).await,
            Err(ResendError::NotInitial)
        );
        assert!(writes.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn throttled_resends_write_nothing_and_say_why() {
        use crate::throttle::{ThrottleConfig, ThrottleReason};
        let on = ThrottleConfig::default();
        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user.clone()));
        let svc = service(repo, T0).with_throttling(limiter_denying("resend:user:200"), on);
        let refused = svc.resend_initialization(&acting(), &uid(), None).await;
        assert_eq!(
            refused,
            Err(ResendError::Throttled(Throttled {
                reason: ThrottleReason::ResendCooldown,
                retry_after: std::time::Duration::from_secs(7)
            }))
        );
        assert!(writes.lock().unwrap().is_empty());

        let (repo, writes) = repo_with(Some(user.clone()));
        let svc = service(repo, T0).with_throttling(limiter_denying("resend:rcpt:"), on);
        let refused = svc.resend_initialization(&acting(), &uid(), Some(addr("typo@example.con"))).await;
        assert!(matches!(
            refused,
            Err(ResendError::Throttled(Throttled { reason: ThrottleReason::RecipientDailyCap, .. }))
        ));
        assert!(writes.lock().unwrap().is_empty());

        // Calls refused for other reasons are not counted.
        let mut limiter = crate::ports::MockRateLimiter::new();
        limiter.expect_acquire().never();
        let mut active = user;
        active.state = UserState::Active;
        let (repo, _) = repo_with(Some(active));
        let svc = service(repo, T0).with_throttling(std::sync::Arc::new(limiter), on);
        assert_eq!(svc.resend_initialization(&acting(), &uid(), None).await, Err(ResendError::NotInitial));
    }

    #[tokio::test]
    async fn the_recipient_counted_is_the_address_mailed() {
        use crate::throttle::{Admission, ThrottleConfig};
        let mut limiter = crate::ports::MockRateLimiter::new();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        limiter.expect_acquire().returning(move |limits, _| {
            log.lock().unwrap().push(limits.iter().map(|l| l.key.clone()).collect::<Vec<_>>());
            Ok(Admission::Granted)
        });
        let limiter = std::sync::Arc::new(limiter);
        let (user, _) = initial_user();
        for email in [None, Some("JANE@example.com"), Some("other@example.com")] {
            let (repo, _) = repo_with(Some(user.clone()));
            let svc = service(repo, T0).with_throttling(limiter.clone(), ThrottleConfig::default());
            svc.resend_initialization(&acting(), &uid(), email.map(addr)).await.unwrap();
        }
        let seen = seen.lock().unwrap();
        assert!(seen.iter().all(|keys| keys.len() == 2 && keys[0] == "resend:user:200"), "{seen:?}");
        assert_eq!(seen[0][1], seen[1][1], "addresses are compared without case");
        assert_ne!(seen[0][1], seen[2][1]);
        assert!(!seen[2][1].contains("other"), "keys hold no address");
    }

    #[tokio::test]
    async fn new_code_replaces_the_old_one() {
        let (user, old_code) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let later = T0 + Duration::minutes(5);
        let (details, _) = service(repo, later).resend_initialization(&acting(), &uid(), None).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert_eq!(w.expected_sequence, 2);
        let kinds: Vec<_> = w.events.iter().map(|e| (e.sequence, e.event.kind())).collect();
        assert_eq!(kinds, [(3, "user.initialization.code.added")]);
        let code = w.user.init_code.as_ref().unwrap();
        let entry = w.outbox.as_ref().unwrap();
        assert!(codes().matches(&w.user.id, entry.code.expose(), &code.hash));
        assert!(!codes().matches(&w.user.id, old_code.expose(), &code.hash));
        assert_eq!(entry.code_generation, 3);
        assert_eq!(code.expires_at, later + Duration::hours(72));
        assert_eq!((details.sequence, details.creation_date, details.change_date), (3, T0, later));
        assert_eq!(details.resource_owner, org());
    }

    #[tokio::test]
    async fn same_email_given_again_changes_only_the_code() {
        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        service(repo, T0).resend_initialization(&acting(), &uid(), Some(addr("jane@EXAMPLE.com"))).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert_eq!(w.events.len(), 1);
        assert_eq!(w.events[0].event.kind(), "user.initialization.code.added");
    }

    #[tokio::test]
    async fn a_corrected_email_is_its_own_unverified_event_before_the_code() {
        let (mut user, _) = initial_user();
        user.email.verified = true;
        let (repo, writes) = repo_with(Some(user));
        let (details, notification) = service(repo, T0)
            .resend_initialization(&acting(), &uid(), Some(addr(" jane.doe@example.org ")))
            .await
            .unwrap();
        let w = &writes.lock().unwrap()[0];
        let kinds: Vec<_> = w.events.iter().map(|e| (e.sequence, e.event.kind())).collect();
        assert_eq!(kinds, [(3, "user.email.changed"), (4, "user.initialization.code.added")]);
        assert_eq!(w.user.email.address.as_str(), "jane.doe@example.org");
        assert!(!w.user.email.verified);
        assert_eq!(w.outbox.as_ref().unwrap().recipient.as_str(), "jane.doe@example.org");
        assert_eq!(w.outbox.as_ref().unwrap().id, notification);
        assert_eq!(details.sequence, 4);
    }

    #[tokio::test]
    async fn conflicts_are_retried_on_fresh_state_then_given_up() {
        let (user, _) = initial_user();
        let mut repo = MockUserRepository::new();
        let u = user.clone();
        repo.expect_get().returning(move |_| Ok(Some(u.clone())));
        let mut calls = 0;
        repo.expect_save().times(2).returning(move |_| {
            calls += 1;
            if calls == 1 { Err(SaveError::Conflict) } else { Ok(()) }
        });
        assert!(service(repo, T0).resend_initialization(&acting(), &uid(), None).await.is_ok());

        let mut repo = MockUserRepository::new();
        repo.expect_get().returning(move |_| Ok(Some(user.clone())));
        repo.expect_save().times(MAX_WRITE_ATTEMPTS).returning(|_| Err(SaveError::Conflict));
        assert_eq!(
            service(repo, T0).resend_initialization(&acting(), &uid(), None).await,
            Err(ResendError::Contention)
        );
    }

    #[tokio::test]
    async fn store_failures_surface_as_unavailable() {
        let mut repo = MockUserRepository::new();
        repo.expect_get().returning(|_| Err(Unavailable("timeout".into())));
        assert_eq!(
            service(repo, T0).resend_initialization(&acting(), &uid(), None).await,
            Err(ResendError::Unavailable(Unavailable("timeout".into())))
        );
    }
}
