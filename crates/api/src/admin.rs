//! onboard's own administration API (not ZITADEL's): organizations, service
//! accounts, their grants and personal access tokens. Every route needs a
//! token whose principal holds `Permission::Administer` (IAM_OWNER).

mod branding;
mod branding_wire;
mod completion;
mod webhooks;
mod wire;

pub use branding::BrandingApi;
pub use branding_wire::BrandingView;
pub use completion::CompletionApi;
pub use webhooks::{DeliveryView, WebhookView, WebhookWithSecretView, WebhooksApi};

use onboard_domain::usecases::{Administration, UserService};
use onboard_domain::{OrgId, Permission, Principal, Role};
use poem::web::Data;
use poem::{IntoResponse, Response, handler};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};

use crate::call::HttpCall;
use crate::errors::{ApiError, Code, ids, invalid_field};
use wire::*;

/// Where the routes live.
pub const PREFIX: &str = "/admin/v1";

#[derive(Tags)]
pub(crate) enum AdminTags {
    /// Organizations, service accounts, grants and personal access tokens
    /// (onboard's own API; IAM_OWNER only).
    Administration,
}

/// The administration routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminApi;

/// The answer of every admin route on an application built without
/// [`Administration`]: as if the routes did not exist.
pub fn not_served() -> ApiError {
    ApiError::new(Code::NotFound, ids::ROUTE_NOT_FOUND, "Not found: no such route")
}

/// Answers every request under [`PREFIX`] when administration is not served,
/// before the bearer check, so the routes look absent rather than protected.
#[handler]
pub fn absent() -> Response {
    not_served().into_response()
}

/// The administration and the caller, once it proved to hold `Administer`.
pub(crate) async fn administer<'a>(
    users: &UserService,
    admin: &'a Option<Administration>,
    call: &HttpCall,
) -> Result<(&'a Administration, Principal), ApiError> {
    let admin = admin.as_ref().ok_or_else(not_served)?;
    // Instance-wide: no organization header; IAM_OWNER holds it everywhere.
    // The use cases check again; asking here too charges the caller's rate
    // and refuses non-owners before the handler checks their input (ids,
    // roles), so a refusal tells them nothing about it.
    let token = call.0.credentials.token()?;
    let acting = users.authorize(Some(token), None, Permission::Administer).await?;
    Ok((admin, acting.principal))
}

fn role(raw: &str) -> Result<Role, ApiError> {
    Role::parse_named(raw).map_err(|e| invalid_field("role", &e.to_string()))
}

pub(crate) fn org_id(field: &str, raw: &str) -> Result<OrgId, ApiError> {
    OrgId::parse(raw.trim()).map_err(|e| invalid_field(field, &e.to_string()))
}

/// An optional id filter: absent and empty are the same.
fn filter(raw: Option<String>) -> Option<String> {
    raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn grant_scope(role_raw: &str, org_raw: Option<String>) -> Result<(Role, Option<OrgId>), ApiError> {
    let org = filter(org_raw).map(|o| org_id("orgId", &o)).transpose()?;
    Ok((role(role_raw)?, org))
}

type Admin<'a> = Data<&'a Option<Administration>>;

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Administration")]
impl AdminApi {
    /// Create an organization
    #[oai(path = "/orgs", method = "post", operation_id = "AdminService_CreateOrganization")]
    async fn create_organization(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        body: Json<CreateOrganizationRequest>,
    ) -> Result<Json<OrganizationView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let id = admin.create_organization(&caller, &body.0.name).await?;
        // The name as stored: the domain keeps it trimmed.
        Ok(Json(OrganizationView { id: id.to_string(), name: body.0.name.trim().to_owned() }))
    }

    /// List organizations
    #[oai(path = "/orgs", method = "get", operation_id = "AdminService_ListOrganizations")]
    async fn list_organizations(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
    ) -> Result<Json<ListOrganizationsResponse>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let result = admin.organizations(&caller).await?.into_iter().map(Into::into).collect();
        Ok(Json(ListOrganizationsResponse { result }))
    }

    /// Create a service account
    ///
    /// A machine caller of the organization, without grants.
    #[oai(path = "/service_accounts", method = "post", operation_id = "AdminService_CreateServiceAccount")]
    async fn create_service_account(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        body: Json<CreateServiceAccountRequest>,
    ) -> Result<Json<ServiceAccountView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("orgId", &body.0.org_id)?;
        Ok(Json(admin.create_service_account(&caller, &org, &body.0.name).await?.into()))
    }

    /// List service accounts
    #[oai(path = "/service_accounts", method = "get", operation_id = "AdminService_ListServiceAccounts")]
    async fn list_service_accounts(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// Only the accounts of this organization.
        #[oai(name = "orgId")]
        org_id_filter: Query<Option<String>>,
    ) -> Result<Json<ListServiceAccountsResponse>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = filter(org_id_filter.0).map(|o| org_id("orgId", &o)).transpose()?;
        let result = admin.service_accounts(&caller, org.as_ref()).await?.into_iter().map(Into::into).collect();
        Ok(Json(ListServiceAccountsResponse { result }))
    }

    /// Grant a role to a service account
    ///
    /// IAM_* roles hold instance-wide (no `orgId`), ORG_* roles in the
    /// organization `orgId`. Granting a held role changes nothing. Tokens
    /// issued before hold the new grant at once.
    #[oai(path = "/service_accounts/:id/grants", method = "post", operation_id = "AdminService_AddGrant")]
    async fn add_grant(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The service account's id.
        id: Path<String>,
        body: Json<GrantRequest>,
    ) -> Result<Json<ServiceAccountView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let (role, org) = grant_scope(&body.0.role, body.0.org_id)?;
        Ok(Json(admin.grant(&caller, &id.0, role, org.as_ref()).await?.into()))
    }

    /// Take a role from a service account
    ///
    /// The grant is named by query parameters (a DELETE carries no body).
    /// Taking a role the account does not hold changes nothing.
    #[oai(path = "/service_accounts/:id/grants", method = "delete", operation_id = "AdminService_RemoveGrant")]
    async fn remove_grant(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The service account's id.
        id: Path<String>,
        /// The role to take away, e.g. ORG_USER_MANAGER.
        role: Query<String>,
        /// The organization an ORG_* role is held in.
        #[oai(name = "orgId")]
        org_id: Query<Option<String>>,
    ) -> Result<Json<ServiceAccountView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let (role, org) = grant_scope(&role.0, org_id.0)?;
        Ok(Json(admin.revoke_grant(&caller, &id.0, role, org.as_ref()).await?.into()))
    }

    /// Issue a personal access token
    ///
    /// The answer holds the token: the only time it is shown (only its
    /// digest is stored). Send `{}` for a token that never expires.
    #[oai(path = "/service_accounts/:id/pats", method = "post", operation_id = "AdminService_IssuePat")]
    async fn issue_pat(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The service account's id.
        id: Path<String>,
        body: Json<IssuePatRequest>,
    ) -> Result<Json<IssuedPatView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let issued = admin.issue_pat(&caller, &id.0, body.0.expiration_date.map(|t| t.0)).await?;
        Ok(Json(IssuedPatView {
            token_id: issued.record.id,
            token: issued.token,
            expiration_date: issued.record.expires_at.map(crate::scalars::Timestamp),
        }))
    }

    /// List personal access tokens
    ///
    /// Their ids, accounts, dates and state; never the tokens themselves.
    #[oai(path = "/pats", method = "get", operation_id = "AdminService_ListPats")]
    async fn list_pats(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// Only the tokens of this service account.
        #[oai(name = "serviceAccountId")]
        account: Query<Option<String>>,
    ) -> Result<Json<ListPatsResponse>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let result = admin.tokens(&caller, filter(account.0).as_deref()).await?.into_iter().map(Into::into).collect();
        Ok(Json(ListPatsResponse { result }))
    }

    /// Revoke a personal access token
    ///
    /// The token stops working at once; revoking twice is harmless.
    #[oai(path = "/pats/:tokenId/_revoke", method = "post", operation_id = "AdminService_RevokePat")]
    async fn revoke_pat(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The token's public id.
        #[oai(name = "tokenId")]
        token_id: Path<String>,
    ) -> Result<Json<PatView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        Ok(Json(admin.revoke_pat(&caller, token_id.0.trim()).await?.into()))
    }
}
