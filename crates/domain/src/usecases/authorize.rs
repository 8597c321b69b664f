//! Authorizing a call: bearer token → principal → acting organization.

use crate::authz::Principal;
use crate::authz::{Acting, Permission};
use crate::ids::OrgId;
use crate::ports::{AuthenticateError, Unavailable};
use crate::throttle::{ThrottleReason, Throttled};

use super::{ThrottleError, UserService};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    #[error("no bearer token was sent")]
    MissingToken,
    #[error("the token is not valid")]
    InvalidToken,
    /// The organization acted in (named by the caller, or the caller's own)
    /// does not exist. Checked before the permission, as ZITADEL does.
    #[error("the organization does not exist")]
    OrganizationNotFound,
    /// No grant for the permission in the organization.
    #[error("no matching permissions found")]
    PermissionDenied,
    /// The caller used up its request rate.
    #[error(transparent)]
    Throttled(Throttled),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    /// Who `token` stands for, without charging anything.
    async fn caller(&self, token: Option<&str>) -> Result<Principal, AuthorizeError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(AuthorizeError::MissingToken)?;
        self.authorizer.authenticate(token).await.map_err(|e| match e {
            AuthenticateError::InvalidToken => AuthorizeError::InvalidToken,
            AuthenticateError::Unavailable(u) => AuthorizeError::Unavailable(u),
        })
    }

    /// Resolves who calls and in which organization: `org_header` absent or
    /// empty means the caller's own organization.
    // At debug: it runs on every call, and an info span per call was a
    // measurable share of a request's CPU; its refusals are answers, not logs.
    #[tracing::instrument(level = "debug", skip_all, fields(permission = permission.as_str(), org = org_header))]
    pub async fn authorize(
        &self,
        token: Option<&str>,
        org_header: Option<&str>,
        permission: Permission,
    ) -> Result<Acting, AuthorizeError> {
        let principal = self.caller(token).await?;
        // Charged before the permission check: calls that are refused still
        // cost the caller, so probing cannot run unthrottled.
        if let Some(limit) = self.throttle.caller_limit(&principal.subject) {
            self.throttle(vec![(limit, ThrottleReason::CallerRate)]).await.map_err(|e| match e {
                ThrottleError::Throttled(t) => AuthorizeError::Throttled(t),
                ThrottleError::Unavailable(u) => AuthorizeError::Unavailable(u),
            })?;
        }
        let org = match org_header.map(str::trim).filter(|o| !o.is_empty()) {
            None => principal.home_org.clone(),
            // An id that cannot be one names no organization.
            Some(raw) => OrgId::parse(raw).map_err(|_| AuthorizeError::OrganizationNotFound)?,
        };
        // The home organization too: an identity provider's token may name
        // one onboard does not have, and nobody acts in a missing organization.
        if !self.authorizer.organization_exists(&org).await? {
            return Err(AuthorizeError::OrganizationNotFound);
        }
        if !principal.may(permission, &org) {
            return Err(AuthorizeError::PermissionDenied);
        }
        Ok(Acting { principal, org })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::PasswordPolicy;
    use crate::authz::{Grant, GrantScope, Principal, Role};
    use crate::ports::{MockAuthorizer, MockUserRepository};
    use crate::usecases::test_support::*;

    fn org_manager() -> Principal {
        Principal {
            subject: "svc".into(),
            name: "Importer".into(),
            home_org: org(),
            grants: vec![Grant { scope: GrantScope::Organization(org()), role: Role::OrgUserManager }],
        }
    }

    fn service(auth: MockAuthorizer) -> UserService {
        UserService::new(
            Arc::new(MockUserRepository::new()),
            Arc::new(crate::ports::MockNotificationLog::new()),
            Arc::new(auth),
            clock_at(T0),
            codes(),
            PasswordPolicy::default(),
        )
    }

    fn authenticating(principal: Principal, existing: &'static [&'static str]) -> MockAuthorizer {
        let mut auth = MockAuthorizer::new();
        auth.expect_authenticate()
            .returning(move |t| if t == "good" { Ok(principal.clone()) } else { Err(AuthenticateError::InvalidToken) });
        auth.expect_organization_exists().returning(move |o| Ok(existing.contains(&o.as_str())));
        auth
    }

    #[tokio::test]
    async fn missing_and_invalid_tokens_are_told_apart() {
        let svc = service(authenticating(org_manager(), &[]));
        assert_eq!(svc.authorize(None, None, Permission::UserRead).await, Err(AuthorizeError::MissingToken));
        assert_eq!(svc.authorize(Some("  "), None, Permission::UserRead).await, Err(AuthorizeError::MissingToken));
        assert_eq!(svc.authorize(Some("bad"), None, Permission::UserRead).await, Err(AuthorizeError::InvalidToken));
    }

    #[tokio::test]
    async fn absent_header_means_the_home_organization() {
        let svc = service(authenticating(org_manager(), &["100"]));
        let acting = svc.authorize(Some("good"), None, Permission::UserWrite).await.unwrap();
        assert_eq!(acting.org, org());
        let acting = svc.authorize(Some("good"), Some(""), Permission::UserWrite).await.unwrap();
        assert_eq!(acting.org, org());
    }

    #[tokio::test]
    async fn other_organizations_need_a_grant_there_and_must_exist() {
        let svc = service(authenticating(org_manager(), &["300"]));
        assert_eq!(
            svc.authorize(Some("good"), Some("300"), Permission::UserRead).await,
            Err(AuthorizeError::PermissionDenied)
        );
        let iam = Principal {
            grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamUserManager }],
            ..org_manager()
        };
        let svc = service(authenticating(iam, &["300"]));
        assert_eq!(svc.authorize(Some("good"), Some("300"), Permission::UserWrite).await.unwrap().org.as_str(), "300");
        assert_eq!(
            svc.authorize(Some("good"), Some("999"), Permission::UserWrite).await,
            Err(AuthorizeError::OrganizationNotFound)
        );
    }

    #[tokio::test]
    async fn a_missing_organization_is_told_before_a_missing_permission() {
        let svc = service(authenticating(org_manager(), &["100"]));
        assert_eq!(
            svc.authorize(Some("good"), Some("999"), Permission::UserRead).await,
            Err(AuthorizeError::OrganizationNotFound)
        );
        assert_eq!(
            svc.authorize(Some("good"), Some("not an id".repeat(30).as_str()), Permission::UserRead).await,
            Err(AuthorizeError::OrganizationNotFound)
        );
    }

    #[tokio::test]
    async fn a_home_organization_that_does_not_exist_is_acted_in_by_nobody() {
        let iam =
            Principal { grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }], ..org_manager() };
        let svc = service(authenticating(iam, &["300"]));
        assert_eq!(
            svc.authorize(Some("good"), None, Permission::UserRead).await,
            Err(AuthorizeError::OrganizationNotFound)
        );
        assert_eq!(
            svc.authorize(Some("good"), Some("100"), Permission::UserRead).await,
            Err(AuthorizeError::OrganizationNotFound)
        );
        assert!(svc.authorize(Some("good"), Some("300"), Permission::UserRead).await.is_ok());
    }

    #[tokio::test]
    async fn viewers_may_read_but_not_write() {
        let viewer = Principal {
            grants: vec![Grant { scope: GrantScope::Organization(org()), role: Role::OrgOwnerViewer }],
            ..org_manager()
        };
        let svc = service(authenticating(viewer, &["100"]));
        assert!(svc.authorize(Some("good"), None, Permission::UserRead).await.is_ok());
        assert_eq!(
            svc.authorize(Some("good"), None, Permission::UserWrite).await,
            Err(AuthorizeError::PermissionDenied)
        );
    }

    #[tokio::test]
    async fn callers_are_charged_per_call_when_throttled() {
        let config = crate::ThrottleConfig { caller_rate: 1.0, caller_burst: 1, ..crate::ThrottleConfig::OFF };
        let svc = service(authenticating(org_manager(), &[])).with_throttling(limiter_denying("caller:svc"), config);
        assert_eq!(
            svc.authorize(Some("good"), None, Permission::UserRead).await,
            Err(AuthorizeError::Throttled(Throttled {
                reason: ThrottleReason::CallerRate,
                retry_after: std::time::Duration::from_secs(7)
            }))
        );
        // Unauthenticated calls are refused before anything is charged.
        assert_eq!(svc.authorize(Some("bad"), None, Permission::UserRead).await, Err(AuthorizeError::InvalidToken));
        let other = Principal { subject: "other".into(), ..org_manager() };
        let svc = service(authenticating(other, &["100"])).with_throttling(limiter_denying("caller:svc"), config);
        assert!(svc.authorize(Some("good"), None, Permission::UserRead).await.is_ok());
    }

    #[tokio::test]
    async fn an_unavailable_store_is_reported_as_such() {
        let mut auth = MockAuthorizer::new();
        auth.expect_authenticate().returning(|_| Err(Unavailable("down".into()).into()));
        let svc = service(auth);
        assert_eq!(
            svc.authorize(Some("t"), None, Permission::UserRead).await,
            Err(AuthorizeError::Unavailable(Unavailable("down".into())))
        );
    }
}
