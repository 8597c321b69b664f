//! Who is calling: bearer tokens to principals, and the organizations they
//! may act in.

use async_trait::async_trait;

use super::Unavailable;
use crate::authz::Principal;
use crate::ids::OrgId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthenticateError {
    /// Unknown, malformed, expired or revoked token. Adapters do not say which.
    #[error("invalid token")]
    InvalidToken,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Bearer tokens and organizations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Authorizer: Send + Sync {
    /// The principal `token` stands for. Errors: [`AuthenticateError`].
    async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticateError>;

    /// Whether the organization exists. Errors: [`Unavailable`].
    async fn organization_exists(&self, org: &OrgId) -> Result<bool, Unavailable>;

    /// The organization's display name, `None` when it does not exist (for
    /// pages that show it). Errors: [`Unavailable`].
    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable>;
}

/// Bearer tokens that are not onboard's own: access tokens (JWTs) of an
/// identity provider.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    /// The principal `token` stands for. Errors: [`AuthenticateError`]:
    /// `InvalidToken` for any token it does not accept (malformed, badly
    /// signed, expired, not yet valid, wrong issuer or audience), without
    /// saying which; `Unavailable` when its keys cannot be fetched.
    async fn verify(&self, token: &str) -> Result<Principal, AuthenticateError>;
}
