//! The JSON shapes of onboard's administration API: lowerCamelCase, unset
//! fields omitted, timestamps as RFC 3339 in UTC (as the Management API).

use onboard_domain::{Grant, GrantScope, Organization, ServiceAccount, TokenRecord};
use poem_openapi::Object;

use crate::scalars::Timestamp;

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminCreateOrganizationRequest", rename_all = "camelCase")]
pub struct CreateOrganizationRequest {
    /// 1 to 200 printable characters; leading and trailing spaces are dropped.
    pub name: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminOrganization", rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        Self { id: o.id.to_string(), name: o.name }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminListOrganizationsResponse", rename_all = "camelCase")]
pub struct ListOrganizationsResponse {
    /// Every organization, by name.
    pub result: Vec<OrganizationView>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminCreateServiceAccountRequest", rename_all = "camelCase")]
pub struct CreateServiceAccountRequest {
    /// The account's home organization: where its calls act without `x-zitadel-orgid`.
    pub org_id: String,
    /// 1 to 200 printable characters; leading and trailing spaces are dropped.
    pub name: String,
}

/// A role held instance-wide (IAM_* roles, no `orgId`) or in one
/// organization (ORG_* roles, with its `orgId`).
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminGrant", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct GrantView {
    /// IAM_OWNER, IAM_ORG_MANAGER, IAM_USER_MANAGER, IAM_OWNER_VIEWER,
    /// ORG_OWNER, ORG_USER_MANAGER or ORG_OWNER_VIEWER.
    pub role: String,
    pub org_id: Option<String>,
}

impl From<Grant> for GrantView {
    fn from(g: Grant) -> Self {
        let org_id = match g.scope {
            GrantScope::Instance => None,
            GrantScope::Organization(org) => Some(org.to_string()),
        };
        Self { role: g.role.as_str().to_owned(), org_id }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminServiceAccount", rename_all = "camelCase")]
pub struct ServiceAccountView {
    pub id: String,
    /// The home organization.
    pub org_id: String,
    pub name: String,
    pub grants: Vec<GrantView>,
    pub creation_date: Timestamp,
}

impl From<ServiceAccount> for ServiceAccountView {
    fn from(a: ServiceAccount) -> Self {
        Self {
            id: a.id,
            org_id: a.org.to_string(),
            name: a.name,
            grants: a.grants.into_iter().map(Into::into).collect(),
            creation_date: Timestamp(a.created_at),
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminListServiceAccountsResponse", rename_all = "camelCase")]
pub struct ListServiceAccountsResponse {
    /// By organization, then name.
    pub result: Vec<ServiceAccountView>,
}

/// The grant to add; the same fields name a grant to take away.
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminGrantRequest", rename_all = "camelCase")]
pub struct GrantRequest {
    /// IAM_OWNER, IAM_ORG_MANAGER, IAM_USER_MANAGER, IAM_OWNER_VIEWER,
    /// ORG_OWNER, ORG_USER_MANAGER or ORG_OWNER_VIEWER.
    pub role: String,
    /// Required for ORG_* roles, refused for IAM_* roles.
    pub org_id: Option<String>,
}

#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "adminIssuePatRequest", rename_all = "camelCase")]
pub struct IssuePatRequest {
    /// When the token stops working; it never expires when absent. Must lie in the future.
    pub expiration_date: Option<Timestamp>,
}

/// A token just issued: the only answer that ever holds it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminIssuedPat", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct IssuedPatView {
    /// The token's public id, for listing and revoking.
    pub token_id: String,
    /// The bearer token. Shown once: only its digest is stored.
    pub token: String,
    pub expiration_date: Option<Timestamp>,
}

/// A personal access token as stored (never the token itself).
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminPat", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct PatView {
    pub token_id: String,
    pub service_account_id: String,
    pub creation_date: Timestamp,
    pub expiration_date: Option<Timestamp>,
    pub revoked: bool,
}

impl From<TokenRecord> for PatView {
    fn from(r: TokenRecord) -> Self {
        Self {
            token_id: r.id,
            service_account_id: r.account,
            creation_date: Timestamp(r.created_at),
            expiration_date: r.expires_at.map(Timestamp),
            revoked: r.revoked,
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminListPatsResponse", rename_all = "camelCase")]
pub struct ListPatsResponse {
    /// Oldest first.
    pub result: Vec<PatView>,
}
