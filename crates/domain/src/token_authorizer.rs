//! The [`Authorizer`] onboard serves with: bearer tokens checked against the
//! [`Directory`] (onboard's own personal access tokens) or handed to a
//! [`TokenVerifier`] (an identity provider's). An adapter of one port built
//! from two others; no I/O of its own, so it lives in the domain.

use std::sync::Arc;

use async_trait::async_trait;

use crate::authz::Principal;
use crate::ids::OrgId;
use crate::ports::{AuthenticateError, Authorizer, Clock, Directory, TokenVerifier, Unavailable};
use crate::token::{TOKEN_PREFIX, TokenDigest};

/// Checks bearer tokens: onboard's personal access tokens by digest (against
/// expiry, revocation and their account), anything else with the configured
/// [`TokenVerifier`].
#[derive(Clone)]
pub struct TokenAuthorizer {
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
    verifier: Option<Arc<dyn TokenVerifier>>,
    /// Organizations seen to exist. Organizations are never deleted, so a
    /// yes stays true; a no is asked again every time.
    known_orgs: Arc<std::sync::RwLock<std::collections::HashSet<OrgId>>>,
}

impl std::fmt::Debug for TokenAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthorizer").field("verifier", &self.verifier.is_some()).finish_non_exhaustive()
    }
}

impl TokenAuthorizer {
    pub fn new(directory: Arc<dyn Directory>, clock: Arc<dyn Clock>) -> Self {
        Self { directory, clock, verifier: None, known_orgs: Arc::default() }
    }

    /// Also accepts the tokens `verifier` accepts (JWTs of an identity provider).
    pub fn with_verifier(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }
}

#[async_trait]
impl Authorizer for TokenAuthorizer {
    async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticateError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return match &self.verifier {
                Some(verifier) => verifier.verify(token).await,
                None => Err(AuthenticateError::InvalidToken),
            };
        }
        // Asked on every call, never cached here: revocations and grant
        // changes hold on every node at once (a store that keeps credentials
        // must drop them as the directory changes, as the Redis one does).
        match self.directory.credentials(&TokenDigest::of(token)).await? {
            Some((record, Some(account))) if record.is_valid_at(self.clock.now()) => Ok(account.principal()),
            _ => Err(AuthenticateError::InvalidToken),
        }
    }

    async fn organization_exists(&self, org: &OrgId) -> Result<bool, Unavailable> {
        if self.known_orgs.read().unwrap_or_else(|p| p.into_inner()).contains(org) {
            return Ok(true);
        }
        let exists = self.directory.organization_name(org).await?.is_some();
        if exists {
            self.known_orgs.write().unwrap_or_else(|p| p.into_inner()).insert(org.clone());
        }
        Ok(exists)
    }

    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable> {
        self.directory.organization_name(org).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockTokenVerifier;
    use crate::usecases::test_support::{T0, clock_at, directory_in_maps, directory_setup};

    #[tokio::test]
    async fn issued_tokens_authenticate_until_revoked_or_expired() {
        let (admin, auth) = directory_setup();
        let op = Principal::local_operator();
        let org = admin.create_organization(&op, "Acme").await.unwrap();
        let token = admin.issue_token(&op, "svc", &org, vec![], None).await.unwrap();
        assert_eq!(auth.authenticate(&token).await.unwrap().home_org, org);
        assert!(auth.organization_exists(&org).await.unwrap());
        assert!(!auth.organization_exists(&OrgId::parse("nope").unwrap()).await.unwrap());
        assert_eq!(auth.organization_name(&org).await.unwrap().as_deref(), Some("Acme"));
        assert!(admin.revoke_token(&op, &token).await.unwrap());
        assert_eq!(auth.authenticate(&token).await, Err(AuthenticateError::InvalidToken));
        assert!(!admin.revoke_token(&op, "onb_unknown").await.unwrap());

        let expiring = admin.issue_token(&op, "svc", &org, vec![], Some(T0)).await.unwrap();
        assert_eq!(auth.authenticate(&expiring).await, Err(AuthenticateError::InvalidToken));
        assert_eq!(auth.authenticate("onb_never_issued").await, Err(AuthenticateError::InvalidToken));
        assert_eq!(auth.authenticate("eyJ.not.onboard").await, Err(AuthenticateError::InvalidToken));
    }

    #[tokio::test]
    async fn other_tokens_go_to_the_verifier() {
        let dir: Arc<dyn Directory> = Arc::new(directory_in_maps());
        let mut verifier = MockTokenVerifier::new();
        let principal = Principal {
            subject: "jwt".into(),
            name: String::new(),
            home_org: OrgId::parse("9").unwrap(),
            grants: vec![],
        };
        let p = principal.clone();
        verifier
            .expect_verify()
            .returning(move |t| if t == "eyJ.good.sig" { Ok(p.clone()) } else { Err(AuthenticateError::InvalidToken) });
        let auth = TokenAuthorizer::new(dir, clock_at(T0)).with_verifier(Arc::new(verifier));
        assert_eq!(auth.authenticate("eyJ.good.sig").await, Ok(principal));
        assert_eq!(auth.authenticate("eyJ.bad.sig").await, Err(AuthenticateError::InvalidToken));
        // Onboard's own tokens never reach the verifier.
        assert_eq!(auth.authenticate("onb_unknown").await, Err(AuthenticateError::InvalidToken));
    }
}
