//! An organization's completion URL over the administration API: where its
//! users return after finishing the initialization.

use onboard_domain::usecases::{Administration, UserService};
use onboard_domain::{CompletionUrl, OrgId};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{AdminTags, administer, org_id};
use crate::call::HttpCall;
use crate::errors::ApiError;

/// The completion URL routes, beside [`super::AdminApi`]'s.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompletionApi;

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminSetCompletionUrlRequest", rename_all = "camelCase")]
pub struct SetCompletionUrlRequest {
    /// An absolute `https://` (or `http://`) URL with a host, without user
    /// info; at most 2,000 characters.
    pub url: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminCompletionUrl", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct CompletionUrlView {
    pub org_id: String,
    /// Absent when the organization has none.
    pub url: Option<String>,
}

impl CompletionUrlView {
    fn of(org: &OrgId, url: Option<&CompletionUrl>) -> Self {
        Self { org_id: org.to_string(), url: url.map(|u| u.as_str().to_owned()) }
    }
}

type Admin<'a> = Data<&'a Option<Administration>>;

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Administration")]
impl CompletionApi {
    /// Get an organization's completion URL
    #[oai(path = "/orgs/:id/completion_url", method = "get", operation_id = "AdminService_GetCompletionUrl")]
    async fn get_completion_url(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
    ) -> Result<Json<CompletionUrlView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        Ok(Json(CompletionUrlView::of(&org, admin.completion_url(&caller, &org).await?.as_ref())))
    }

    /// Set an organization's completion URL
    ///
    /// After a user of the organization finishes the initialization, the
    /// page shows a button to this URL and goes there by itself after a few
    /// seconds. Only this configured URL is ever used, never one a request
    /// names.
    #[oai(path = "/orgs/:id/completion_url", method = "put", operation_id = "AdminService_SetCompletionUrl")]
    async fn set_completion_url(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
        body: Json<SetCompletionUrlRequest>,
    ) -> Result<Json<CompletionUrlView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        let url = admin.set_completion_url(&caller, &org, Some(&body.0.url)).await?;
        Ok(Json(CompletionUrlView::of(&org, url.as_ref())))
    }

    /// Remove an organization's completion URL
    #[oai(path = "/orgs/:id/completion_url", method = "delete", operation_id = "AdminService_RemoveCompletionUrl")]
    async fn remove_completion_url(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
    ) -> Result<Json<CompletionUrlView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        admin.set_completion_url(&caller, &org, None).await?;
        Ok(Json(CompletionUrlView::of(&org, None)))
    }
}
