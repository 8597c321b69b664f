//! What the link's page learns from the user's log and may do on its own:
//! tell a superseded code from a wrong one, record that the link was
//! opened, and send a new link when the one at hand cannot work any more
//! (self-service renewal).

use time::OffsetDateTime;

use crate::events::{Editor, RecordedEvent, UserEvent};
use crate::ids::{OrgId, UserId};
use crate::invite::CodeDelivery;
use crate::ports::{SaveError, Unavailable};
use crate::user::{User, UserState, UserWrite};

use super::{MAX_WRITE_ATTEMPTS, ThrottleError, UserService, stamped};

/// What the page posts to ask for a new link. The code (from the link or
/// the form) is a secret: `Debug` hides it.
#[derive(Clone, Default)]
pub struct RenewalRequest {
    pub user_id: String,
    pub org_id: String,
    /// The code the user holds, if any: a superseded one proves the user
    /// got an earlier email, which is what lets a live code be replaced.
    pub code: String,
}

impl std::fmt::Debug for RenewalRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenewalRequest")
            .field("user_id", &self.user_id)
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

/// What a renewal request did. The page answers both alike, so nobody
/// learns from it whether an account exists or may be mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    Sent,
    /// Not sent: no such user, nothing to renew, throttled, switched off,
    /// or a code its integrator delivers itself.
    NotSent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenewalError {
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// The user of a link: present, not deleted, in the link's organization
/// (when it names one). Malformed links find nobody.
pub(super) fn link_user(user: Option<User>, org_id: &str) -> Option<User> {
    let link_org = match org_id.trim() {
        "" => None,
        raw => Some(OrgId::parse(raw).ok()?),
    };
    user.filter(|u| u.state != UserState::Deleted && link_org.as_ref().is_none_or(|o| *o == u.org))
}

impl UserService {
    /// When `candidate` is one of the user's earlier codes (replaced by a
    /// resend), the time the current code's email went out (or, before it
    /// did, the time the code was made); `None` otherwise. Each earlier
    /// hash is compared in constant time, and all of them are compared.
    pub(super) async fn superseded_by(
        &self,
        user: &User,
        candidate: &str,
    ) -> Result<Option<OffsetDateTime>, Unavailable> {
        let Some(current) = &user.init_code else { return Ok(None) };
        if candidate.trim().is_empty() {
            return Ok(None);
        }
        let log = self.users.events(&user.id).await?;
        Ok(superseded_in(&log, current.generation, current.created_at, |hash| {
            self.codes.matches(&user.id, candidate, hash)
        }))
    }

    /// Records [`UserEvent::LinkOpened`] for the user's live code, once per
    /// code; `true` when this call recorded it. Anything else (no such
    /// user, no live code, already recorded) records nothing.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn record_link_opened(&self, user_id: &str, org_id: &str) -> Result<bool, RenewalError> {
        let Ok(id) = UserId::parse(user_id) else { return Ok(false) };
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let Some(mut user) = link_user(self.users.get_for_write(&id).await?, org_id) else { return Ok(false) };
            let now = self.clock.now();
            let live = user.state == UserState::Initial
                && user
                    .init_code
                    .as_ref()
                    .is_some_and(|c| c.failed_attempts < self.codes.config().max_attempts && !c.is_expired(now));
            if !live {
                return Ok(false);
            }
            let generation = user.init_code.as_ref().map(|c| c.generation).unwrap_or_default();
            let log = self.users.events(&id).await?;
            let seen =
                log.iter().any(|e| matches!(e.event, UserEvent::LinkOpened { generation: g } if g == generation));
            if seen {
                return Ok(false);
            }
            let expected_sequence = user.sequence;
            let events = vec![user.record(UserEvent::LinkOpened { generation }, now)];
            let events = stamped(events, &own_editor(&user));
            match self.users.save(UserWrite { expected_sequence, user, events, outbox: None }).await {
                Ok(()) => return Ok(true),
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Unavailable(u)) => return Err(RenewalError::Unavailable(u)),
                Err(SaveError::UserNameTaken) => {
                    return Err(RenewalError::Unavailable(Unavailable("store reported a name clash on update".into())));
                }
            }
        }
        Err(RenewalError::Contention)
    }

    /// Self-service renewal: mails a fresh code to the address on file when
    /// the user's code cannot work any more (expired, or locked by wrong
    /// attempts) or the request holds one of its earlier codes (superseded).
    /// A live code is never replaced for someone who only knows the user id.
    /// Throttled as the API's resend is (cooldown per user, daily cap per
    /// address), charged only for requests that would send.
    #[tracing::instrument(skip_all, fields(user_id = %input.user_id))]
    pub async fn request_renewal(&self, input: RenewalRequest) -> Result<Renewal, RenewalError> {
        if !self.self_service_renewal {
            return Ok(Renewal::NotSent);
        }
        let Ok(id) = UserId::parse(&input.user_id) else { return Ok(Renewal::NotSent) };
        let mut charged = false;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let Some(mut user) = link_user(self.users.get_for_write(&id).await?, &input.org_id) else {
                return Ok(Renewal::NotSent);
            };
            if user.state != UserState::Initial {
                return Ok(Renewal::NotSent);
            }
            let Some(code) = user.init_code.clone() else { return Ok(Renewal::NotSent) };
            // A returned code reaches its user through the integrator, never by our mail.
            if code.delivery.is_returned() {
                return Ok(Renewal::NotSent);
            }
            let now = self.clock.now();
            let dead = code.failed_attempts >= self.codes.config().max_attempts || code.is_expired(now);
            if !dead && self.superseded_by(&user, &input.code).await?.is_none() {
                return Ok(Renewal::NotSent);
            }
            if !charged {
                match self.throttle(self.throttle.resend_limits(&id, &user.email.address)).await {
                    Ok(()) => charged = true,
                    Err(ThrottleError::Throttled(t)) => {
                        tracing::info!(reason = ?t.reason, "self-service renewal throttled");
                        return Ok(Renewal::NotSent);
                    }
                    Err(ThrottleError::Unavailable(u)) => return Err(RenewalError::Unavailable(u)),
                }
            }
            let expected_sequence = user.sequence;
            let requested = user.record(UserEvent::RenewalRequested, now);
            // The new code goes as the last one went: a link template stays.
            let delivery: CodeDelivery = code.delivery.clone();
            let (added, _, outbox) = self.issue_code(&mut user, now, delivery);
            let events = stamped(vec![requested, added], &own_editor(&user));
            match self.users.save(UserWrite { expected_sequence, user, events, outbox }).await {
                Ok(()) => {
                    tracing::info!("self-service renewal sent");
                    return Ok(Renewal::Sent);
                }
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Unavailable(u)) => return Err(RenewalError::Unavailable(u)),
                Err(SaveError::UserNameTaken) => {
                    return Err(RenewalError::Unavailable(Unavailable("store reported a name clash on update".into())));
                }
            }
        }
        Err(RenewalError::Contention)
    }
}

/// The user, as the editor of what they do on the link's page.
fn own_editor(user: &User) -> Editor {
    Editor::new(user.id.to_string(), user.profile.display_name.clone())
}

/// [`UserService::superseded_by`] over a log: `matches` is asked of every
/// code added before generation `current`, all of them, so the answer's
/// timing does not tell which one matched.
fn superseded_in(
    log: &[RecordedEvent],
    current: u64,
    current_created_at: OffsetDateTime,
    matches: impl Fn(&crate::init_code::CodeHash) -> bool,
) -> Option<OffsetDateTime> {
    let mut found = false;
    for e in log.iter().filter(|e| e.sequence < current) {
        if let UserEvent::InitCodeAdded { hash, .. } | UserEvent::InviteCodeAdded { hash, .. } = &e.event {
            found |= matches(hash);
        }
    }
    found.then(|| {
        log.iter()
            .find_map(|e| match e.event {
                UserEvent::InitCodeSent { generation, .. } if generation == current => Some(e.at),
                _ => None,
            })
            .unwrap_or(current_created_at)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::Duration;

    use super::*;
    use crate::password::PasswordPolicy;
    use crate::ports::MockAuthorizer;
    use crate::usecases::test_support::*;
    use crate::usecases::{InitPageState, InviteVerifyError, VerifyError, VerifyInitCode};

    const RESENT_AT: OffsetDateTime = time::macros::datetime!(2026-01-02 09:00 UTC);

    fn verify_input(code: &str) -> VerifyInitCode {
        VerifyInitCode {
            user_id: "200".into(),
            org_id: "100".into(),
            code: code.into(),
            password: "new-password".into(),
        }
    }

    fn renewal(code: &str) -> RenewalRequest {
        RenewalRequest { user_id: "200".into(), org_id: "100".into(), code: code.into() }
    }

    /// A user whose first code (returned) was replaced by a resend at
    /// [`RESENT_AT`], its log, and the second code.
    fn superseded_user() -> (User, crate::init_code::PlainCode, crate::init_code::PlainCode, Vec<RecordedEvent>) {
        let (mut user, first, mut log) = logged_user();
        let second = resent(&mut user, &mut log, RESENT_AT);
        (user, first, second, log)
    }

    fn page_service(repo: crate::ports::MockUserRepository, now: OffsetDateTime) -> UserService {
        let mut authorizer = MockAuthorizer::new();
        authorizer.expect_organization_name().return_const(Ok(None));
        UserService::new(
            Arc::new(repo),
            Arc::new(crate::ports::MockNotificationLog::new()),
            Arc::new(authorizer),
            clock_at(now),
            codes(),
            PasswordPolicy::default(),
        )
    }

    #[tokio::test]
    async fn an_earlier_code_is_superseded_not_wrong_and_costs_no_attempt() {
        let (user, first, second, log) = superseded_user();
        let (repo, writes) = logged_repo(user, log);
        let svc = service(repo, RESENT_AT + Duration::hours(1));
        for _ in 0..7 {
            assert_eq!(
                svc.verify_init_code(verify_input(first.expose())).await,
                Err(VerifyError::Superseded { newer_sent_at: RESENT_AT + Duration::minutes(1) }),
                "the date is when the newer email went out"
            );
        }
        assert!(writes.lock().unwrap().is_empty(), "no attempt is counted");
        // A code that never was the user's is still wrong, and counted.
        assert_eq!(
            svc.verify_init_code(verify_input("WRONG1")).await,
            Err(VerifyError::WrongCode { attempts_left: 4 })
        );
        // And the newer code works.
        svc.verify_init_code(verify_input(second.expose())).await.unwrap();
        assert_eq!(writes.lock().unwrap().last().unwrap().user.state, UserState::Active);
    }

    #[tokio::test]
    async fn before_the_newer_email_goes_out_the_date_is_its_codes() {
        let (mut user, first, mut log) = logged_user();
        let (_, hash, expires_at) = codes().issue(&user.id, RESENT_AT);
        log.push(user.record(UserEvent::InitCodeAdded { hash, expires_at }, RESENT_AT));
        let (repo, _) = logged_repo(user, log);
        let svc = service(repo, RESENT_AT + Duration::seconds(5));
        assert_eq!(
            svc.verify_init_code(verify_input(first.expose())).await,
            Err(VerifyError::Superseded { newer_sent_at: RESENT_AT })
        );
    }

    #[tokio::test]
    async fn expired_locked_used_and_unknown_keep_their_own_answers() {
        let (user, first, _, log) = superseded_user();
        let expired_at = RESENT_AT + Duration::hours(73);
        let (repo, _) = logged_repo(user.clone(), log.clone());
        assert_eq!(
            service(repo, expired_at).verify_init_code(verify_input(first.expose())).await,
            Err(VerifyError::Expired)
        );

        let mut locked = user.clone();
        locked.init_code.as_mut().unwrap().failed_attempts = 5;
        let (repo, _) = logged_repo(locked, log.clone());
        assert_eq!(
            service(repo, RESENT_AT).verify_init_code(verify_input(first.expose())).await,
            Err(VerifyError::TooManyAttempts)
        );

        let mut used = user.clone();
        used.init_code = None;
        used.state = UserState::Active;
        let (repo, _) = logged_repo(used, log.clone());
        assert_eq!(
            service(repo, RESENT_AT).verify_init_code(verify_input(first.expose())).await,
            Err(VerifyError::AlreadyInitialized)
        );

        let mut removed = user;
        removed.state = UserState::Deleted;
        let (repo, _) = logged_repo(removed, log);
        assert_eq!(
            service(repo, RESENT_AT).verify_init_code(verify_input(first.expose())).await,
            Err(VerifyError::NotFound),
            "withdrawn looks like unknown"
        );
    }

    #[tokio::test]
    async fn the_v2_check_treats_an_earlier_code_alike() {
        let (user, first, _, log) = superseded_user();
        let (repo, writes) = logged_repo(user, log);
        let svc = service(repo, RESENT_AT + Duration::hours(1));
        let id = UserId::parse("200").unwrap();
        assert_eq!(
            svc.verify_invite_code(&acting(), &id, first.expose()).await,
            Err(InviteVerifyError::Superseded { newer_sent_at: RESENT_AT + Duration::minutes(1) })
        );
        assert!(writes.lock().unwrap().is_empty());
        assert_eq!(
            svc.verify_invite_code(&acting(), &id, "WRONG1").await,
            Err(InviteVerifyError::WrongCode { attempts_left: 4 })
        );
    }

    #[tokio::test]
    async fn the_page_knows_a_superseded_code_before_anything_is_typed() {
        let (user, first, second, log) = superseded_user();
        let (repo, writes) = logged_repo(user, log);
        let svc = page_service(repo, RESENT_AT + Duration::hours(1));
        let state = |code: &'static str| {
            let svc = svc.clone();
            async move { svc.init_page_view_with_code("200", "100", code).await.unwrap().context.state }
        };
        let newer_sent_at = RESENT_AT + Duration::minutes(1);
        assert_eq!(state(first.expose().to_owned().leak()).await, InitPageState::Superseded { newer_sent_at });
        assert!(InitPageState::Superseded { newer_sent_at }.renewable());
        assert_eq!(state(second.expose().to_owned().leak()).await, InitPageState::Ready);
        assert_eq!(state("WRONG1").await, InitPageState::Ready);
        assert_eq!(state("").await, InitPageState::Ready);
        assert!(!InitPageState::Ready.renewable());
        assert!(writes.lock().unwrap().is_empty(), "showing the page writes nothing");
    }

    #[tokio::test]
    async fn opened_is_recorded_once_per_live_code() {
        let (user, _, log) = logged_user();
        let (repo, writes) = logged_repo(user, log);
        let svc = service(repo, T0 + Duration::hours(1));
        assert!(svc.record_link_opened("200", "100").await.unwrap());
        assert!(!svc.record_link_opened("200", "100").await.unwrap(), "the second GET records nothing");
        assert!(!svc.record_link_opened("200", "").await.unwrap());
        {
            let w = writes.lock().unwrap();
            assert_eq!(w.len(), 1);
            assert_eq!(w[0].events[0].event, UserEvent::LinkOpened { generation: 2 });
            assert_eq!(w[0].events[0].editor.as_ref().map(|e| e.id.as_str()), Some("200"));
            assert_eq!(w[0].user.init_code.as_ref().unwrap().failed_attempts, 0, "nothing consumed");
        }
    }

    #[tokio::test]
    async fn a_new_code_is_opened_anew() {
        let (mut user, _, mut log) = logged_user();
        log.push(user.record(UserEvent::LinkOpened { generation: 2 }, T0));
        resent(&mut user, &mut log, RESENT_AT);
        let generation = user.init_code.as_ref().unwrap().generation;
        let (repo, writes) = logged_repo(user, log);
        let svc = service(repo, RESENT_AT + Duration::hours(1));
        assert!(svc.record_link_opened("200", "100").await.unwrap());
        assert_eq!(writes.lock().unwrap()[0].events[0].event, UserEvent::LinkOpened { generation });
    }

    #[tokio::test]
    async fn dead_unknown_and_foreign_links_record_no_opening() {
        let (user, _, log) = logged_user();
        let (repo, writes) = logged_repo(user.clone(), log.clone());
        let svc = service(repo, T0 + Duration::hours(72));
        assert!(!svc.record_link_opened("200", "100").await.unwrap(), "expired");
        assert!(!svc.record_link_opened("200", "999").await.unwrap(), "another organization");
        assert!(!svc.record_link_opened("", "").await.unwrap(), "malformed");
        assert!(writes.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_expired_or_locked_code_is_renewed_to_the_address_on_file() {
        let (user, _, log) = logged_user();
        let later = T0 + Duration::hours(80);
        let (repo, writes) = logged_repo(user.clone(), log.clone());
        assert_eq!(service(repo, later).request_renewal(renewal("")).await, Ok(Renewal::Sent));
        let w = writes.lock().unwrap()[0].clone();
        let kinds: Vec<_> = w.events.iter().map(|e| e.event.kind()).collect();
        assert_eq!(kinds, ["user.initialization.renewal.requested", "user.initialization.code.added"]);
        let outbox = w.outbox.unwrap();
        assert_eq!(outbox.recipient.as_str(), "jane@example.com");
        assert_eq!(outbox.code_generation, w.user.sequence);
        assert!(!w.user.init_code.as_ref().unwrap().is_expired(later));

        let mut locked = user;
        locked.init_code.as_mut().unwrap().failed_attempts = 5;
        let (repo, writes) = logged_repo(locked, log);
        assert_eq!(service(repo, T0).request_renewal(renewal("")).await, Ok(Renewal::Sent));
        assert_eq!(writes.lock().unwrap()[0].user.init_code.as_ref().unwrap().failed_attempts, 0);
    }

    #[tokio::test]
    async fn a_live_code_is_renewed_only_for_the_holder_of_an_earlier_one() {
        let (user, first, second, log) = superseded_user();
        let (repo, writes) = logged_repo(user, log);
        let svc = service(repo, RESENT_AT + Duration::hours(1));
        for code in ["", "WRONG1", second.expose()] {
            assert_eq!(svc.request_renewal(renewal(code)).await, Ok(Renewal::NotSent), "{code:?}");
        }
        assert!(writes.lock().unwrap().is_empty());
        assert_eq!(svc.request_renewal(renewal(first.expose())).await, Ok(Renewal::Sent));
        assert_eq!(writes.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn renewal_is_throttled_like_a_resend_and_answers_the_same() {
        use crate::throttle::ThrottleConfig;
        let (user, _, log) = logged_user();
        let later = T0 + Duration::hours(80);
        for deny in ["resend:user:200", "resend:rcpt:"] {
            let (repo, writes) = logged_repo(user.clone(), log.clone());
            let svc = service(repo, later).with_throttling(limiter_denying(deny), ThrottleConfig::default());
            assert_eq!(svc.request_renewal(renewal("")).await, Ok(Renewal::NotSent), "{deny}");
            assert!(writes.lock().unwrap().is_empty());
        }
        // Nothing to renew charges no counter: the limiter is never asked.
        let (repo, _) = logged_repo(user.clone(), log.clone());
        let strict = Arc::new(crate::ports::MockRateLimiter::new());
        let svc = service(repo, T0).with_throttling(strict, ThrottleConfig::default());
        assert_eq!(svc.request_renewal(renewal("")).await, Ok(Renewal::NotSent));
    }

    #[tokio::test]
    async fn renewal_switched_off_unknown_users_and_returned_codes_send_nothing() {
        let (user, _, log) = logged_user();
        let later = T0 + Duration::hours(80);
        let (repo, writes) = logged_repo(user.clone(), log.clone());
        let svc = service(repo, later).with_self_service_renewal(false);
        assert_eq!(svc.request_renewal(renewal("")).await, Ok(Renewal::NotSent));
        let svc = svc.with_self_service_renewal(true);
        for (user_id, org_id) in [("200", "999"), ("", ""), ("200", "bad org")] {
            let input = RenewalRequest { user_id: user_id.into(), org_id: org_id.into(), code: String::new() };
            assert_eq!(svc.request_renewal(input).await, Ok(Renewal::NotSent), "{user_id:?} {org_id:?}");
        }
        assert!(writes.lock().unwrap().is_empty());

        let mut returned = user;
        returned.init_code.as_mut().unwrap().delivery = CodeDelivery::Returned;
        let (repo, writes) = logged_repo(returned, log);
        assert_eq!(service(repo, later).request_renewal(renewal("")).await, Ok(Renewal::NotSent));
        assert!(writes.lock().unwrap().is_empty());
    }
}
