//! InitPageContext: what the init page needs to know before the user types
//! anything. Read-only: looking at the page never counts as an attempt.
//!
//! It reveals nothing the code check itself would not: `verify_init_code`
//! reports not found, already initialized, no code, too many attempts and
//! expired before it looks at the code, so the page may say so up front.

use crate::events::UserEvent;
use crate::ids::{OrgId, UserId};
use crate::ports::Unavailable;
use crate::user::{Language, UserState};

use super::UserService;

/// Where the user stands, in the order `verify_init_code` checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitPageState {
    /// A code is pending and may be tried.
    Ready,
    AlreadyInitialized,
    /// No code is pending (none was issued, or it was used).
    NoCode,
    TooManyAttempts,
    Expired,
    /// The code the browser carries is an earlier one, replaced by the code
    /// whose email went out at `newer_sent_at`.
    Superseded {
        newer_sent_at: time::OffsetDateTime,
    },
}

impl InitPageState {
    /// Whether the page may offer a new link (self-service renewal).
    pub fn renewable(self) -> bool {
        matches!(self, Self::Expired | Self::TooManyAttempts | Self::Superseded { .. })
    }
}

/// The page's view of a user who exists in the link's organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitPageContext {
    pub state: InitPageState,
    pub login_name: String,
    pub preferred_language: Option<Language>,
    /// The display name of the user's organization; `None` when the
    /// directory cannot say (the page then goes without it).
    pub organization_name: Option<String>,
    /// Whether the user already has a password (then setting one is optional).
    pub has_password: bool,
}

/// The context and what the page is dressed in: the user's organization
/// and its branding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitPageView {
    pub context: InitPageContext,
    pub org: OrgId,
    /// `None` without branding, and when the directory cannot say (the page
    /// then looks like onboard's).
    pub branding: Option<std::sync::Arc<crate::branding::Branding>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitPageError {
    /// The link lacks a user id, or its ids are malformed.
    #[error("the link is incomplete or malformed")]
    MalformedLink,
    /// No such user, deleted, or in another organization than the link says:
    /// the same answer for all three.
    #[error("user could not be found")]
    NotFound,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    /// The init page's context for the link's `user_id` and `org_id` (empty:
    /// any organization, as the code check allows).
    pub async fn init_page_context(&self, user_id: &str, org_id: &str) -> Result<InitPageContext, InitPageError> {
        self.init_page_view(user_id, org_id).await.map(|v| v.context)
    }

    /// [`UserService::init_page_context`] with the organization's branding.
    pub async fn init_page_view(&self, user_id: &str, org_id: &str) -> Result<InitPageView, InitPageError> {
        self.init_page_view_with_code(user_id, org_id, "").await
    }

    /// [`UserService::init_page_view`] for a browser that carries `code`
    /// (from the link): an earlier code of the user's makes the state
    /// [`InitPageState::Superseded`]. Still read-only.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn init_page_view_with_code(
        &self,
        user_id: &str,
        org_id: &str,
        code: &str,
    ) -> Result<InitPageView, InitPageError> {
        let id = UserId::parse(user_id).map_err(|_| InitPageError::MalformedLink)?;
        let link_org = match org_id.trim() {
            "" => None,
            raw => Some(OrgId::parse(raw).map_err(|_| InitPageError::MalformedLink)?),
        };
        let user = self
            .users
            .get(&id)
            .await?
            .filter(|u| u.state != UserState::Deleted && link_org.as_ref().is_none_or(|o| *o == u.org))
            .ok_or(InitPageError::NotFound)?;
        let state = if user.state != UserState::Initial {
            InitPageState::AlreadyInitialized
        } else {
            match &user.init_code {
                None => InitPageState::NoCode,
                Some(code) if code.failed_attempts >= self.codes.config().max_attempts => {
                    InitPageState::TooManyAttempts
                }
                Some(code) if code.is_expired(self.clock.now()) => InitPageState::Expired,
                Some(current) if !code.trim().is_empty() && !self.codes.matches(&user.id, code, &current.hash) => {
                    match self.superseded_by(&user, code).await? {
                        Some(newer_sent_at) => InitPageState::Superseded { newer_sent_at },
                        None => InitPageState::Ready,
                    }
                }
                Some(_) => InitPageState::Ready,
            }
        };
        // The name is decoration: a directory that cannot answer must not
        // keep the user from setting up the account.
        let organization_name = match self.authorizer.organization_name(&user.org).await {
            Ok(name) => name,
            Err(unavailable) => {
                tracing::warn!(reason = %unavailable.0, "init page: organization name unavailable");
                None
            }
        };
        let branding = match self.branding_of(&user.org).await {
            Ok(branding) => branding,
            Err(unavailable) => {
                tracing::warn!(reason = %unavailable.0, "init page: branding unavailable");
                None
            }
        };
        let context = InitPageContext {
            state,
            login_name: user.login_name().to_owned(),
            preferred_language: user.profile.preferred_language.clone(),
            organization_name,
            has_password: user.password_hash.is_some(),
        };
        Ok(InitPageView { context, org: user.org.clone(), branding })
    }

    /// Where `user` of `org`, done with the initialization, returns: the
    /// organization's completion URL, else the origin of the link template
    /// its last code was mailed with (the integrator's application, named by
    /// an authenticated caller and allowed by [`UserService::with_invite_origins`]
    /// when that restricts templates), else nowhere. Nothing in the page's
    /// request decides it, so the page cannot be made an open redirect.
    #[tracing::instrument(skip_all, fields(user_id = %user, org = %org))]
    pub async fn return_target(&self, user: &UserId, org: &OrgId) -> Result<Option<String>, Unavailable> {
        if let Some(url) = self.completion_url(org).await? {
            return Ok(Some(url.as_str().to_owned()));
        }
        let events = self.users.events(user).await?;
        // The newest code decides: one issued with onboard's own link has no template.
        let delivery = events.iter().rev().find_map(|e| match &e.event {
            UserEvent::InviteCodeAdded { delivery, .. } => Some(Some(delivery)),
            UserEvent::InitCodeAdded { .. } => Some(None),
            _ => None,
        });
        Ok(delivery
            .flatten()
            .filter(|d| self.delivery_allowed(d))
            .and_then(|d| d.url_template())
            .map(|t| format!("{}/", t.origin())))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::Duration;

    use super::*;
    use crate::password::{PasswordHash, PasswordPolicy};
    use crate::ports::{MockAuthorizer, MockUserRepository};
    use crate::usecases::test_support::*;
    use crate::user::User;

    fn authorizer(name: Result<Option<String>, Unavailable>) -> MockAuthorizer {
        let mut authorizer = MockAuthorizer::new();
        authorizer.expect_organization_name().withf(|o| *o == org()).return_const(name);
        authorizer
    }

    /// A service over `user` at `now`, whose organization is called "Acme".
    fn service_over(
        user: Option<User>,
        now: time::OffsetDateTime,
    ) -> (UserService, Arc<std::sync::Mutex<Vec<crate::user::UserWrite>>>) {
        let (repo, writes) = repo_with(user);
        let svc = UserService::new(
            Arc::new(repo),
            Arc::new(crate::ports::MockNotificationLog::new()),
            Arc::new(authorizer(Ok(Some("Acme".into())))),
            clock_at(now),
            codes(),
            PasswordPolicy::default(),
        );
        (svc, writes)
    }

    #[tokio::test]
    async fn a_pending_code_is_ready_with_the_users_language_and_organization() {
        let (mut user, _) = initial_user();
        user.profile.preferred_language = Some(Language::parse("de-CH").unwrap());
        let (svc, writes) = service_over(Some(user), T0 + Duration::hours(1));
        let ctx = svc.init_page_context("200", "100").await.unwrap();
        assert_eq!(
            ctx,
            InitPageContext {
                state: InitPageState::Ready,
                login_name: "jane".into(),
                preferred_language: Some(Language::parse("de-CH").unwrap()),
                organization_name: Some("Acme".into()),
                has_password: false,
            }
        );
        // Without an organization in the link the user's own is used.
        assert_eq!(svc.init_page_context("200", "").await.unwrap().state, InitPageState::Ready);
        assert!(writes.lock().unwrap().is_empty(), "reading changes nothing");
    }

    #[tokio::test]
    async fn states_are_reported_in_the_order_the_code_check_uses() {
        let (user, _) = initial_user();

        let (svc, _) = service_over(Some(user.clone()), T0 + Duration::hours(72));
        assert_eq!(svc.init_page_context("200", "100").await.unwrap().state, InitPageState::Expired);

        let mut tried = user.clone();
        tried.init_code.as_mut().unwrap().failed_attempts = 5;
        // Too many attempts wins over expiry, as in verify_init_code.
        let (svc, _) = service_over(Some(tried), T0 + Duration::hours(72));
        assert_eq!(svc.init_page_context("200", "100").await.unwrap().state, InitPageState::TooManyAttempts);

        let mut no_code = user.clone();
        no_code.init_code = None;
        let (svc, _) = service_over(Some(no_code), T0);
        assert_eq!(svc.init_page_context("200", "100").await.unwrap().state, InitPageState::NoCode);

        let mut active = user;
        active.state = UserState::Active;
        active.password_hash = Some(PasswordHash::from_stored("$argon2id$stored".into()));
        let (svc, _) = service_over(Some(active), T0);
        let ctx = svc.init_page_context("200", "100").await.unwrap();
        assert_eq!((ctx.state, ctx.has_password), (InitPageState::AlreadyInitialized, true));
    }

    #[tokio::test]
    async fn unknown_deleted_and_other_organization_users_look_alike() {
        let (user, _) = initial_user();
        let (svc, _) = service_over(None, T0);
        assert_eq!(svc.init_page_context("200", "100").await, Err(InitPageError::NotFound));

        let (svc, _) = service_over(Some(user.clone()), T0);
        assert_eq!(svc.init_page_context("200", "999").await, Err(InitPageError::NotFound));

        let mut deleted = user;
        deleted.state = UserState::Deleted;
        let (svc, _) = service_over(Some(deleted), T0);
        assert_eq!(svc.init_page_context("200", "100").await, Err(InitPageError::NotFound));
    }

    #[tokio::test]
    async fn the_return_target_is_the_newest_codes_template_origin_when_allowed() {
        use crate::events::RecordedEvent;
        use crate::invite::{CodeDelivery, UrlTemplate};
        let (user, _) = initial_user();
        let template = UrlTemplate::parse("https://shop.example.com:8443/invite?u={{.UserID}}&c={{.Code}}").unwrap();
        let invite = |delivery: CodeDelivery| RecordedEvent {
            sequence: 2,
            at: T0,
            event: UserEvent::InviteCodeAdded {
                hash: user.init_code.as_ref().unwrap().hash.clone(),
                expires_at: T0 + Duration::hours(72),
                delivery,
            },
            editor: None,
        };
        let with_log = |events: Vec<RecordedEvent>| {
            let mut repo = MockUserRepository::new();
            repo.expect_events().returning(move |_| Ok(events.clone()));
            service(repo, T0)
        };
        let templated = invite(CodeDelivery::mailed(Some(template.clone()), Some("Shop".into())));
        let svc = with_log(vec![templated.clone()]);
        assert_eq!(
            svc.return_target(&user.id, &org()).await.unwrap().as_deref(),
            Some("https://shop.example.com:8443/")
        );
        // A later code with onboard's own link (a v1 resend) has no template.
        let mut plain = templated.clone();
        plain.event = UserEvent::InitCodeAdded {
            hash: user.init_code.as_ref().unwrap().hash.clone(),
            expires_at: T0 + Duration::hours(72),
        };
        assert_eq!(with_log(vec![templated.clone(), plain]).return_target(&user.id, &org()).await.unwrap(), None);
        // Returned codes and codes without a template have none either.
        assert_eq!(with_log(vec![invite(CodeDelivery::Returned)]).return_target(&user.id, &org()).await.unwrap(), None);
        // An origin no longer allowed is not returned to.
        let svc = with_log(vec![templated]).with_invite_origins(vec!["https://other.example.com".into()]);
        assert_eq!(svc.return_target(&user.id, &org()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn malformed_links_are_refused_before_any_read() {
        // A repository without expectations fails the test if it is asked.
        let svc = service(MockUserRepository::new(), T0);
        assert_eq!(svc.init_page_context("", "100").await, Err(InitPageError::MalformedLink));
        assert_eq!(svc.init_page_context(&"1".repeat(201), "").await, Err(InitPageError::MalformedLink));
        assert_eq!(svc.init_page_context("200", &"1".repeat(201)).await, Err(InitPageError::MalformedLink));
    }

    #[tokio::test]
    async fn an_unreachable_store_is_unavailable_but_a_missing_organization_name_is_not() {
        let mut repo = MockUserRepository::new();
        repo.expect_get().returning(|_| Err(Unavailable("down".into())));
        let svc = service(repo, T0);
        assert_eq!(svc.init_page_context("200", "").await, Err(InitPageError::Unavailable(Unavailable("down".into()))));

        let (user, _) = initial_user();
        let (repo, _) = repo_with(Some(user));
        let svc = UserService::new(
            Arc::new(repo),
            Arc::new(crate::ports::MockNotificationLog::new()),
            Arc::new(authorizer(Err(Unavailable("directory down".into())))),
            clock_at(T0),
            codes(),
            PasswordPolicy::default(),
        );
        let ctx = svc.init_page_context("200", "100").await.unwrap();
        assert_eq!((ctx.state, ctx.organization_name), (InitPageState::Ready, None));
    }
}
