//! Organizations, service accounts and their personal access tokens: who may
//! call, as the directory keeps them.

use time::OffsetDateTime;

use crate::authz::{Grant, Principal};
use crate::ids::OrgId;

/// An organization: users, service accounts and grants belong to one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
}

/// A machine caller of an organization, with its memberships (role grants,
/// in its own or other organizations, or instance-wide).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceAccount {
    /// Unique in the directory; the principal's subject.
    pub id: String,
    /// The home organization: where its calls act without `x-zitadel-orgid`.
    pub org: OrgId,
    pub name: String,
    pub grants: Vec<Grant>,
    pub created_at: OffsetDateTime,
}

impl ServiceAccount {
    /// Who a call with one of this account's tokens is.
    pub fn principal(&self) -> Principal {
        Principal {
            subject: self.id.clone(),
            name: self.name.clone(),
            home_org: self.org.clone(),
            grants: self.grants.clone(),
        }
    }
}

/// A personal access token as stored: never the token itself, which is kept
/// only as a digest (the key it is stored under).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenRecord {
    /// Public handle (for listing and revoking); not a secret, not the token.
    pub id: String,
    /// The [`ServiceAccount::id`] it authenticates as.
    pub account: String,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

impl TokenRecord {
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        !self.revoked && self.expires_at.is_none_or(|at| now < at)
    }
}
