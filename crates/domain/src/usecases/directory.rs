//! Organizations and personal access tokens: administration, and the
//! [`Authorizer`] that checks bearer tokens against the [`Directory`].

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::authz::{Grant, GrantScope, Principal, Role};
use crate::clock::Clock;
use crate::ids::OrgId;
use crate::ports::{AuthenticateError, Authorizer, Directory, TokenRecord, Unavailable};
use crate::token::{TokenDigest, generate_token};

/// Checks personal access tokens: by digest, against expiry and revocation.
#[derive(Clone)]
pub struct TokenAuthorizer {
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthorizer").finish_non_exhaustive()
    }
}

impl TokenAuthorizer {
    pub fn new(directory: Arc<dyn Directory>, clock: Arc<dyn Clock>) -> Self {
        Self { directory, clock }
    }
}

#[async_trait]
impl Authorizer for TokenAuthorizer {
    async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticateError> {
        match self.directory.token(&TokenDigest::of(token)).await? {
            Some(record) if record.is_valid_at(self.clock.now()) => Ok(record.principal),
            _ => Err(AuthenticateError::InvalidToken),
        }
    }

    async fn organization_exists(&self, org: &OrgId) -> Result<bool, Unavailable> {
        Ok(self.directory.organization_name(org).await?.is_some())
    }

    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable> {
        self.directory.organization_name(org).await
    }
}

/// What the first start made: the default organization and an IAM_OWNER token.
#[derive(Clone)]
pub struct FirstStart {
    pub org: OrgId,
    /// Shown once; only its digest is stored.
    pub admin_token: String,
}

impl std::fmt::Debug for FirstStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstStart").field("org", &self.org).finish_non_exhaustive()
    }
}

/// Administration of organizations and tokens.
#[derive(Clone)]
pub struct Administration {
    directory: Arc<dyn Directory>,
}

impl std::fmt::Debug for Administration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Administration").finish_non_exhaustive()
    }
}

impl Administration {
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Self { directory }
    }

    pub async fn create_organization(&self, name: &str) -> Result<OrgId, Unavailable> {
        self.directory.create_organization(name).await
    }

    /// Issues a token; it is returned once and only its digest is stored.
    #[tracing::instrument(skip(self, grants), fields(org = %home_org))]
    pub async fn issue_token(
        &self,
        subject: &str,
        home_org: &OrgId,
        grants: Vec<Grant>,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<String, Unavailable> {
        let (token, digest) = generate_token();
        let principal = Principal { subject: subject.to_owned(), home_org: home_org.clone(), grants };
        self.directory.put_token(&digest, &TokenRecord { principal, expires_at, revoked: false }).await?;
        Ok(token)
    }

    /// Revokes `token`; returns whether it was known.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, Unavailable> {
        let digest = TokenDigest::of(token);
        let Some(mut record) = self.directory.token(&digest).await? else { return Ok(false) };
        record.revoked = true;
        self.directory.put_token(&digest, &record).await?;
        Ok(true)
    }

    /// On a store nobody started before: the default organization and an
    /// IAM_OWNER token. `None` on every later start (of any node).
    pub async fn first_start(&self) -> Result<Option<FirstStart>, Unavailable> {
        if !self.directory.claim_first_start().await? {
            return Ok(None);
        }
        let org = self.directory.create_organization("Default").await?;
        let admin_token = self
            .issue_token("admin", &org, vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }], None)
            .await?;
        Ok(Some(FirstStart { org, admin_token }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ports::MockDirectory;
    use crate::usecases::test_support::{T0, clock_at};

    /// A directory mock that keeps tokens and organizations in maps.
    fn directory() -> MockDirectory {
        let tokens = Arc::new(Mutex::new(std::collections::HashMap::new()));
        let orgs = Arc::new(Mutex::new(std::collections::HashMap::new()));
        let mut dir = MockDirectory::new();
        let t = tokens.clone();
        dir.expect_put_token().returning(move |d, r| {
            t.lock().unwrap().insert(d.clone(), r.clone());
            Ok(())
        });
        dir.expect_token().returning(move |d| Ok(tokens.lock().unwrap().get(d).cloned()));
        let o = orgs.clone();
        dir.expect_create_organization().returning(move |name| {
            let id = OrgId::generate();
            o.lock().unwrap().insert(id.clone(), name.to_owned());
            Ok(id)
        });
        dir.expect_organization_name().returning(move |id| Ok(orgs.lock().unwrap().get(id).cloned()));
        let first = Mutex::new(true);
        dir.expect_claim_first_start().returning(move || Ok(std::mem::replace(&mut *first.lock().unwrap(), false)));
        dir.expect_shared_secret().returning(|_, candidate| Ok(candidate.to_vec()));
        dir
    }

    #[tokio::test]
    async fn issued_tokens_authenticate_until_revoked_or_expired() {
        let dir: Arc<dyn Directory> = Arc::new(directory());
        let admin = Administration::new(dir.clone());
        let auth = TokenAuthorizer::new(dir.clone(), clock_at(T0));
        let org = admin.create_organization("Acme").await.unwrap();
        let token = admin.issue_token("svc", &org, vec![], None).await.unwrap();
        assert_eq!(auth.authenticate(&token).await.unwrap().home_org, org);
        assert!(auth.organization_exists(&org).await.unwrap());
        assert!(!auth.organization_exists(&OrgId::parse("nope").unwrap()).await.unwrap());
        assert_eq!(auth.organization_name(&org).await.unwrap().as_deref(), Some("Acme"));
        assert!(admin.revoke_token(&token).await.unwrap());
        assert_eq!(auth.authenticate(&token).await, Err(AuthenticateError::InvalidToken));
        assert!(!admin.revoke_token("onb_unknown").await.unwrap());

        let expiring = admin.issue_token("svc", &org, vec![], Some(T0)).await.unwrap();
        assert_eq!(auth.authenticate(&expiring).await, Err(AuthenticateError::InvalidToken));
        assert_eq!(auth.authenticate("onb_never_issued").await, Err(AuthenticateError::InvalidToken));
    }

    #[tokio::test]
    async fn the_first_start_happens_once() {
        let dir: Arc<dyn Directory> = Arc::new(directory());
        let admin = Administration::new(dir.clone());
        let first = admin.first_start().await.unwrap().unwrap();
        let auth = TokenAuthorizer::new(dir, clock_at(T0));
        let principal = auth.authenticate(&first.admin_token).await.unwrap();
        assert_eq!(principal.home_org, first.org);
        assert_eq!(principal.grants, vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }]);
        assert!(admin.first_start().await.unwrap().is_none());
        assert!(!format!("{first:?}").contains(&first.admin_token));
    }
}
