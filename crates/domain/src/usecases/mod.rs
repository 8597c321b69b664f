//! The use cases: every way the model changes or is read.
//!
//! [`UserService`] serves the API and the init page; [`Dispatcher`] drains
//! the outbox into the mailer.

mod administration;
mod authorize;
mod bulk_resend;
mod changes;
mod create_user;
mod deliver;
mod get_user;
mod idempotency;
mod init_page;
mod invitation_stats;
mod invite;
mod list_invitations;
mod list_users;
mod provider_events;
mod reminders;
mod remove_user;
mod renewal;
mod resend;
mod verify;
mod webhook_admin;
mod webhook_delivery;

use std::sync::Arc;

pub use administration::{AdminError, Administration, FirstStart, IssuedToken};
pub use authorize::AuthorizeError;
pub use bulk_resend::{BulkOutcome, BulkResendError, BulkResult, MAX_BULK_IDS, MAX_BULK_MATCHED, ResendTargets};
pub use changes::{ChangeQuery, Changes};
pub use create_user::{CreateUserError, Created, NewHumanUser, NewPassword, NewProfile};
pub use deliver::{DeliveryConfig, DeliveryReport, Dispatcher};
// Not a use case; also here, where callers found it before it got its own module.
pub use crate::token_authorizer::TokenAuthorizer;
pub use get_user::GetUserError;
pub use idempotency::{
    IDEMPOTENCY_HOLD, IDEMPOTENCY_KEEP, IdempotencyError, IdempotencyStart, IdempotencyTicket,
    MAX_IDEMPOTENCY_KEY_CHARS,
};
pub use init_page::{InitPageContext, InitPageError, InitPageState, InitPageView};
pub use invitation_stats::{FunnelStep, InvitationStats, count_by_state};
pub use invite::{InviteError, InviteVerifyError, SetPasswordError, SetPasswordInput};
pub use list_invitations::{DEFAULT_INVITATION_PAGE, EXAMINE_BUDGET, ListInvitationsError, MAX_INVITATION_PAGE};
pub use list_users::ListUsersError;
pub use provider_events::{AppliedEvents, ProviderEvent, ProviderEvents};
pub use reminders::{ReminderConfig, ReminderRound, ReminderSender};
pub use remove_user::RemoveUserError;
pub use renewal::{Renewal, RenewalError, RenewalRequest};
pub use resend::ResendError;
pub use verify::{VerifyError, VerifyInitCode};
pub use webhook_admin::{
    MAX_DELIVERIES_LISTED, MAX_ENDPOINTS_PER_ORG, MAX_ROTATION_OVERLAP, NewWebhookSecret, parse_event_types,
};
pub use webhook_delivery::{HookRound, WebhookConfig, WebhookDispatcher};

/// Why [`UserService::throttle`] refused.
enum ThrottleError {
    Throttled(Throttled),
    Unavailable(Unavailable),
}

use time::OffsetDateTime;

use crate::events::{Editor, RecordedEvent, UserEvent};
use crate::ids::NotificationId;
use crate::init_code::CodeIssuer;
use crate::invitation::InvitationRules;
use crate::invite::CodeDelivery;
use crate::outbox::OutboxEntry;
use crate::password::PasswordPolicy;
use crate::ports::{
    Authorizer, Clock, IdempotencyStore, InvitationIndex, NotificationLog, RateLimiter, Unavailable, UserIndex,
    UserRepository,
};
use crate::throttle::{Admission, Limit, ThrottleConfig, ThrottleReason, Throttled};
use crate::user::User;

/// How often a write is tried again when another write to the same user got
/// in first. Each try reads the user afresh, so all rules are checked again.
pub const MAX_WRITE_ATTEMPTS: usize = 8;

/// `events`, each made by `editor`.
fn stamped(events: Vec<RecordedEvent>, editor: &Editor) -> Vec<RecordedEvent> {
    events.into_iter().map(|e| e.by(editor)).collect()
}

/// The use cases of the Management API and the init page.
#[derive(Clone)]
pub struct UserService {
    users: Arc<dyn UserRepository>,
    index: Option<Arc<dyn UserIndex>>,
    invitations: Option<Arc<dyn InvitationIndex>>,
    invitation_rules: InvitationRules,
    notifications: Arc<dyn NotificationLog>,
    authorizer: Arc<dyn Authorizer>,
    clock: Arc<dyn Clock>,
    codes: CodeIssuer,
    policy: PasswordPolicy,
    limiter: Option<Arc<dyn RateLimiter>>,
    throttle: ThrottleConfig,
    idempotency: Option<Arc<dyn IdempotencyStore>>,
    brandings: Option<crate::branding::Brandings>,
    /// Origins (`https://app.example.com`) a link template may point at;
    /// `None` allows any.
    invite_origins: Option<Arc<[String]>>,
    /// Whether the link's page may send a new link on its own.
    self_service_renewal: bool,
}

impl std::fmt::Debug for UserService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserService").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl UserService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        notifications: Arc<dyn NotificationLog>,
        authorizer: Arc<dyn Authorizer>,
        clock: Arc<dyn Clock>,
        codes: CodeIssuer,
        policy: PasswordPolicy,
    ) -> Self {
        Self {
            users,
            index: None,
            invitations: None,
            invitation_rules: InvitationRules {
                max_attempts: codes.config().max_attempts,
                ..InvitationRules::default()
            },
            notifications,
            authorizer,
            clock,
            codes,
            policy,
            limiter: None,
            throttle: ThrottleConfig::OFF,
            idempotency: None,
            brandings: None,
            invite_origins: None,
            self_service_renewal: true,
        }
    }

    /// Whether the link's page offers "Send me a new link" (on by default).
    pub fn with_self_service_renewal(mut self, on: bool) -> Self {
        self.self_service_renewal = on;
        self
    }

    pub fn self_service_renewal(&self) -> bool {
        self.self_service_renewal
    }

    /// Shows the init page in its organization's branding, read through
    /// `brandings`. Without it the page looks like onboard's.
    pub fn with_brandings(mut self, brandings: crate::branding::Brandings) -> Self {
        self.brandings = Some(brandings);
        self
    }

    /// The branding of `org`, through the cache, for what the init page
    /// serves (logo, stylesheet); `None` without branding.
    pub async fn branding_of(
        &self,
        org: &crate::ids::OrgId,
    ) -> Result<Option<Arc<crate::branding::Branding>>, Unavailable> {
        match &self.brandings {
            Some(b) => b.get(org).await,
            None => Ok(None),
        }
    }

    /// Where the users of `org` return after the initialization, `None`
    /// when it has none (or the page has no directory to ask).
    pub async fn completion_url(
        &self,
        org: &crate::ids::OrgId,
    ) -> Result<Option<crate::completion::CompletionUrl>, Unavailable> {
        match &self.brandings {
            Some(b) => b.completion_url(org).await,
            None => Ok(None),
        }
    }

    /// Restricts link templates to `origins` (`scheme://host[:port]`,
    /// compared without regard to case), so a stolen token cannot aim codes
    /// at another site. An empty list allows no template at all.
    pub fn with_invite_origins(mut self, origins: Vec<String>) -> Self {
        let origins: Vec<String> =
            origins.iter().map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase()).collect();
        self.invite_origins = Some(origins.into());
        self
    }

    /// Whether `delivery` may be used: its template's origin is allowed.
    fn delivery_allowed(&self, delivery: &CodeDelivery) -> bool {
        match (delivery.url_template(), &self.invite_origins) {
            (Some(t), Some(allowed)) => allowed.iter().any(|o| *o == t.origin()),
            _ => true,
        }
    }

    /// Finds users through `index` (the users' store's own): what ListUsers,
    /// IsUserUnique and GetUserByLoginNameGlobal need.
    pub fn with_index(mut self, index: Arc<dyn UserIndex>) -> Self {
        self.index = Some(index);
        self
    }

    /// Finds invitations through `index` (the users' store's own), showing
    /// completed and withdrawn ones for `retention` after they happened.
    pub fn with_invitations(mut self, index: Arc<dyn InvitationIndex>, retention: time::Duration) -> Self {
        self.invitations = Some(index);
        self.invitation_rules.retention = retention;
        self
    }

    /// Throttles calls and resends as `config` says, counting in `limiter`
    /// (shared by every node of a store). Without it nothing is throttled.
    pub fn with_throttling(mut self, limiter: Arc<dyn RateLimiter>, config: ThrottleConfig) -> Self {
        self.limiter = Some(limiter);
        self.throttle = config;
        self
    }

    /// Remembers answers under `Idempotency-Key`s in `store`. Without it the
    /// key is ignored.
    pub fn with_idempotency(mut self, store: Arc<dyn IdempotencyStore>) -> Self {
        self.idempotency = Some(store);
        self
    }

    pub fn throttle_config(&self) -> &ThrottleConfig {
        &self.throttle
    }

    /// Charges `limits` (each standing for the reason beside it); nothing is
    /// throttled without a limiter.
    async fn throttle(&self, limits: Vec<(Limit, ThrottleReason)>) -> Result<(), ThrottleError> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        if limits.is_empty() {
            return Ok(());
        }
        let (limits, reasons): (Vec<Limit>, Vec<ThrottleReason>) = limits.into_iter().unzip();
        match limiter.acquire(&limits, self.clock.now()).await {
            Ok(Admission::Granted) => Ok(()),
            Ok(Admission::Denied { index, retry_after }) => {
                Err(ThrottleError::Throttled(Throttled { reason: reasons[index], retry_after }))
            }
            Err(u) => Err(ThrottleError::Unavailable(u)),
        }
    }

    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    /// Issues a new init code to `user` (recording it) and returns the email
    /// that carries it, due now.
    fn issue_init_code(&self, user: &mut User, now: OffsetDateTime) -> (RecordedEvent, OutboxEntry) {
        let (event, _, entry) = self.issue_code(user, now, CodeDelivery::Mailed);
        (event, entry.expect("a mailed code has its email"))
    }

    /// A new code delivered as `delivery` says: its event, the code, and the
    /// email it makes due (none for a returned code). The plain mailed code
    /// is recorded as it always was, so stores of earlier versions read it.
    fn issue_code(
        &self,
        user: &mut User,
        now: OffsetDateTime,
        delivery: CodeDelivery,
    ) -> (RecordedEvent, crate::init_code::PlainCode, Option<OutboxEntry>) {
        let (code, hash, expires_at) = self.codes.issue(&user.id, now);
        let returned = delivery.is_returned();
        let event = match delivery {
            CodeDelivery::Mailed => UserEvent::InitCodeAdded { hash, expires_at },
            delivery => UserEvent::InviteCodeAdded { hash, expires_at, delivery },
        };
        let event = user.record(event, now);
        if returned {
            return (event, code, None);
        }
        let entry = OutboxEntry {
            id: NotificationId::generate(),
            user_id: user.id.clone(),
            recipient: user.email.address.clone(),
            code: code.clone(),
            code_generation: user.sequence,
            enqueued_at: now,
            attempts: 0,
            not_before: now,
            receipt: String::new(),
            kind: crate::notifications::NotificationKind::Invitation,
        };
        (event, code, Some(entry))
    }

    /// Whether every port answers.
    pub async fn ready(&self) -> bool {
        self.users.ping().await.is_ok()
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Builders shared by the use-case tests.

    use std::sync::{Arc, Mutex};

    use time::OffsetDateTime;

    use super::*;
    use crate::accounts::{Organization, ServiceAccount, TokenRecord};
    use crate::authz::{Acting, Grant, GrantScope, Principal, Role};
    use crate::email::EmailAddress;
    use crate::events::UserEvent;
    use crate::ids::{OrgId, UserId};
    use crate::init_code::{CodeSecret, InitCodeConfig};
    use crate::ports::MockClock;
    use crate::ports::{Directory, MockAuthorizer, MockDirectory, MockUserRepository};
    use crate::token_authorizer::TokenAuthorizer;
    use crate::user::{Email, Profile, User, UserName, UserState, UserWrite};

    pub const T0: OffsetDateTime = time::macros::datetime!(2026-01-01 12:00 UTC);

    pub fn org() -> OrgId {
        OrgId::parse("100").unwrap()
    }

    pub fn acting() -> Acting {
        Acting {
            principal: Principal {
                subject: "admin".into(),
                name: "Admin".into(),
                home_org: org(),
                grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }],
            },
            org: org(),
        }
    }

    pub fn codes() -> CodeIssuer {
        CodeIssuer::new(CodeSecret::new(vec![42; 32]).unwrap(), InitCodeConfig::default())
    }

    pub fn clock_at(now: OffsetDateTime) -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now);
        Arc::new(clock)
    }

    /// A user in state Initial with a code issued at `T0`, and that code.
    pub fn initial_user() -> (User, crate::init_code::PlainCode) {
        let (user, code, _) = logged_user();
        (user, code)
    }

    /// A repository holding `user` that records every write it accepts and
    /// answers later reads with the written state.
    pub fn repo_with(user: Option<User>) -> (MockUserRepository, Arc<Mutex<Vec<UserWrite>>>) {
        let current = Arc::new(Mutex::new(user));
        let writes = Arc::new(Mutex::new(Vec::new()));
        let mut repo = MockUserRepository::new();
        let read = current.clone();
        repo.expect_get().returning(move |_| Ok(read.lock().unwrap().clone()));
        // No earlier codes: the log is left out.
        repo.expect_events().returning(|_| Ok(Vec::new()));
        let (store, log) = (current, writes.clone());
        repo.expect_save().returning(move |w| {
            *store.lock().unwrap() = Some(w.user.clone());
            log.lock().unwrap().push(w);
            Ok(())
        });
        (repo, writes)
    }

    /// A repository holding `user` and its log `events` that records every
    /// write it accepts, its events included, and answers later reads with
    /// the written state.
    pub fn logged_repo(
        user: User,
        events: Vec<crate::events::RecordedEvent>,
    ) -> (MockUserRepository, Arc<Mutex<Vec<UserWrite>>>) {
        let current = Arc::new(Mutex::new(Some(user)));
        let log = Arc::new(Mutex::new(events));
        let writes = Arc::new(Mutex::new(Vec::new()));
        let mut repo = MockUserRepository::new();
        let read = current.clone();
        repo.expect_get().returning(move |_| Ok(read.lock().unwrap().clone()));
        let read_log = log.clone();
        repo.expect_events().returning(move |_| Ok(read_log.lock().unwrap().clone()));
        let written = writes.clone();
        repo.expect_save().returning(move |w| {
            *current.lock().unwrap() = Some(w.user.clone());
            log.lock().unwrap().extend(w.events.iter().cloned());
            written.lock().unwrap().push(w);
            Ok(())
        });
        (repo, writes)
    }

    /// [`initial_user`] with its log: added, then its code at `T0`.
    pub fn logged_user() -> (User, crate::init_code::PlainCode, Vec<crate::events::RecordedEvent>) {
        let (mut user, added) = User::create(
            UserId::parse("200").unwrap(),
            org(),
            UserEvent::Added {
                user_name: UserName::parse("jane").unwrap(),
                profile: Profile { first_name: "Jane".into(), last_name: "Doe".into(), ..Profile::default() },
                email: Email { address: EmailAddress::parse("jane@example.com").unwrap(), verified: false },
                phone: None,
                state: UserState::Initial,
                password_hash: None,
                password_change_required: false,
            },
            T0,
        );
        let (code, hash, expires_at) = codes().issue(&user.id, T0);
        let code_added = user.record(UserEvent::InitCodeAdded { hash, expires_at }, T0);
        (user, code, vec![added, code_added])
    }

    /// `user` after an administrator's resend at `at`: its new code, whose
    /// email went out a minute later.
    pub fn resent(
        user: &mut User,
        log: &mut Vec<crate::events::RecordedEvent>,
        at: OffsetDateTime,
    ) -> crate::init_code::PlainCode {
        let (code, hash, expires_at) = codes().issue(&user.id, at);
        log.push(user.record(UserEvent::InitCodeAdded { hash, expires_at }, at));
        let generation = user.sequence;
        let sent = UserEvent::InitCodeSent { notification: crate::ids::NotificationId::generate(), generation };
        log.push(user.record(sent, at + time::Duration::minutes(1)));
        code
    }

    /// A limiter that admits everything except the keys starting with `deny`.
    pub fn limiter_denying(deny: &'static str) -> Arc<crate::ports::MockRateLimiter> {
        let mut limiter = crate::ports::MockRateLimiter::new();
        limiter.expect_acquire().returning(move |limits, _| {
            Ok(match limits.iter().position(|l| l.key.starts_with(deny)) {
                Some(index) => {
                    crate::throttle::Admission::Denied { index, retry_after: std::time::Duration::from_secs(7) }
                }
                None => crate::throttle::Admission::Granted,
            })
        });
        Arc::new(limiter)
    }

    /// A directory mock that keeps organizations, accounts and tokens in maps.
    pub fn directory_in_maps() -> MockDirectory {
        let tokens = Arc::new(Mutex::new(std::collections::HashMap::new()));
        let orgs = Arc::new(Mutex::new(std::collections::HashMap::new()));
        let accounts = Arc::new(Mutex::new(std::collections::HashMap::<String, ServiceAccount>::new()));
        let mut dir = MockDirectory::new();
        let t = tokens.clone();
        dir.expect_put_token().returning(move |d, r| {
            t.lock().unwrap().insert(d.clone(), r.clone());
            Ok(())
        });
        let t = tokens.clone();
        dir.expect_token().returning(move |d| Ok(t.lock().unwrap().get(d).cloned()));
        let t = tokens.clone();
        dir.expect_tokens()
            .returning(move || Ok(t.lock().unwrap().iter().map(|(d, r)| (d.clone(), r.clone())).collect()));
        let a = accounts.clone();
        dir.expect_put_account().returning(move |acc| {
            a.lock().unwrap().insert(acc.id.clone(), acc.clone());
            Ok(())
        });
        let a = accounts.clone();
        dir.expect_account().returning(move |id| Ok(a.lock().unwrap().get(id).cloned()));
        let (t, a) = (tokens.clone(), accounts.clone());
        dir.expect_credentials().returning(move |d| {
            let record: Option<TokenRecord> = t.lock().unwrap().get(d).cloned();
            Ok(record.map(|r| {
                let account = a.lock().unwrap().get(&r.account).cloned();
                (r, account)
            }))
        });
        dir.expect_accounts().returning(move || Ok(accounts.lock().unwrap().values().cloned().collect()));
        let o = orgs.clone();
        dir.expect_create_organization().returning(move |name| {
            let id = OrgId::generate();
            o.lock().unwrap().insert(id.clone(), name.to_owned());
            Ok(id)
        });
        let o = orgs.clone();
        dir.expect_organizations().returning(move || {
            Ok(o.lock().unwrap().iter().map(|(id, name)| Organization { id: id.clone(), name: name.clone() }).collect())
        });
        dir.expect_organization_name().returning(move |id| Ok(orgs.lock().unwrap().get(id).cloned()));
        let first = Mutex::new(true);
        dir.expect_claim_first_start().returning(move || Ok(std::mem::replace(&mut *first.lock().unwrap(), false)));
        dir.expect_shared_secret().returning(|_, candidate| Ok(candidate.to_vec()));
        dir
    }

    /// Administration and the token authorizer over one directory in maps.
    pub fn directory_setup() -> (Administration, TokenAuthorizer) {
        let dir: Arc<dyn Directory> = Arc::new(directory_in_maps());
        (Administration::new(dir.clone(), clock_at(T0)), TokenAuthorizer::new(dir, clock_at(T0)))
    }

    pub fn service(repo: MockUserRepository, now: OffsetDateTime) -> UserService {
        UserService::new(
            Arc::new(repo),
            Arc::new(crate::ports::MockNotificationLog::new()),
            Arc::new(MockAuthorizer::new()),
            clock_at(now),
            codes(),
            PasswordPolicy::default(),
        )
    }
}
