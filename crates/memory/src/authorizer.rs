//! Organizations and personal access tokens, in process memory.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use onboard_domain::ports::{AuthenticateError, Authorizer, Unavailable};
use onboard_domain::token::{TokenDigest, generate_token};
use onboard_domain::{Clock, Grant, OrgId, Principal};
use time::OffsetDateTime;

struct TokenRecord {
    principal: Principal,
    expires_at: Option<OffsetDateTime>,
    revoked: bool,
}

#[derive(Default)]
struct State {
    organizations: HashMap<OrgId, String>,
    tokens: HashMap<TokenDigest, TokenRecord>,
}

/// The embedded authorizer. Tokens are kept only as SHA-256 digests.
pub struct InMemoryAuthorizer {
    state: Mutex<State>,
    clock: Box<dyn Clock>,
}

impl std::fmt::Debug for InMemoryAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("InMemoryAuthorizer")
            .field("organizations", &state.organizations.len())
            .field("tokens", &state.tokens.len())
            .finish()
    }
}

impl InMemoryAuthorizer {
    pub fn new(clock: impl Clock + 'static) -> Self {
        Self { state: Mutex::default(), clock: Box::new(clock) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether nothing was set up yet (first start).
    pub fn is_empty(&self) -> bool {
        let state = self.lock();
        state.organizations.is_empty() && state.tokens.is_empty()
    }

    pub fn create_organization(&self, name: &str) -> OrgId {
        let id = OrgId::generate();
        self.lock().organizations.insert(id.clone(), name.to_owned());
        id
    }

    pub fn organization_name(&self, org: &OrgId) -> Option<String> {
        self.lock().organizations.get(org).cloned()
    }

    /// Issues a token for `subject` of `home_org` with `grants`; the token is
    /// returned once and only its digest is kept.
    pub fn issue_token(
        &self,
        subject: &str,
        home_org: &OrgId,
        grants: Vec<Grant>,
        expires_at: Option<OffsetDateTime>,
    ) -> String {
        let (token, digest) = generate_token();
        let principal = Principal { subject: subject.to_owned(), home_org: home_org.clone(), grants };
        self.lock().tokens.insert(digest, TokenRecord { principal, expires_at, revoked: false });
        token
    }

    /// Revokes `token`; returns whether it was known.
    pub fn revoke_token(&self, token: &str) -> bool {
        self.lock().tokens.get_mut(&TokenDigest::of(token)).map(|r| r.revoked = true).is_some()
    }
}

#[async_trait]
impl Authorizer for InMemoryAuthorizer {
    async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticateError> {
        let now = self.clock.now();
        let state = self.lock();
        match state.tokens.get(&TokenDigest::of(token)) {
            Some(r) if !r.revoked && r.expires_at.is_none_or(|at| now < at) => Ok(r.principal.clone()),
            _ => Err(AuthenticateError::InvalidToken),
        }
    }

    async fn organization_exists(&self, org: &OrgId) -> Result<bool, Unavailable> {
        Ok(self.lock().organizations.contains_key(org))
    }
}
