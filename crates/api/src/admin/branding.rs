//! An organization's branding over the administration API: set, read,
//! remove, and its logo uploaded as the body itself.

use onboard_domain::branding::LogoKind;
use onboard_domain::usecases::{Administration, UserService};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiRequest, OpenApi};

use super::branding_wire::{BrandingView, SetBrandingRequest};
use super::{AdminTags, administer, org_id};
use crate::call::HttpCall;
use crate::errors::{ApiError, invalid_field};

/// The branding routes, beside [`super::AdminApi`]'s.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrandingApi;

/// A logo: the image itself as the body. Its kind is recognised by its
/// bytes; a declared image type must match them.
#[derive(ApiRequest, Debug)]
pub enum LogoUpload {
    #[oai(content_type = "image/png")]
    Png(Binary<Vec<u8>>),
    #[oai(content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    #[oai(content_type = "image/svg+xml")]
    Svg(Binary<Vec<u8>>),
    #[oai(content_type = "application/octet-stream")]
    Any(Binary<Vec<u8>>),
}

impl LogoUpload {
    fn into_parts(self) -> (Option<LogoKind>, Vec<u8>) {
        match self {
            Self::Png(b) => (Some(LogoKind::Png), b.0),
            Self::Jpeg(b) => (Some(LogoKind::Jpeg), b.0),
            Self::Svg(b) => (Some(LogoKind::Svg), b.0),
            Self::Any(b) => (None, b.0),
        }
    }
}

type Admin<'a> = Data<&'a Option<Administration>>;

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Administration")]
impl BrandingApi {
    /// Get an organization's branding
    ///
    /// Nothing but `orgId` when it has none.
    #[oai(path = "/orgs/:id/branding", method = "get", operation_id = "AdminService_GetBranding")]
    async fn get_branding(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
    ) -> Result<Json<BrandingView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        Ok(Json(BrandingView::of(&org, admin.branding(&caller, &org).await?.as_ref())))
    }

    /// Set an organization's branding
    ///
    /// Replaces everything of it but the logo. Colours are checked for
    /// WCAG AA contrast, email templates by rendering them; a refusal
    /// changes nothing. This node shows the change at once, others within
    /// 30 seconds.
    #[oai(path = "/orgs/:id/branding", method = "put", operation_id = "AdminService_SetBranding")]
    async fn set_branding(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
        body: Json<SetBrandingRequest>,
    ) -> Result<Json<BrandingView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        let branding = admin.set_branding(&caller, &org, body.0.into()).await?;
        Ok(Json(BrandingView::of(&org, Some(&branding))))
    }

    /// Remove an organization's branding
    ///
    /// Its emails and page look like onboard's own again.
    #[oai(path = "/orgs/:id/branding", method = "delete", operation_id = "AdminService_RemoveBranding")]
    async fn remove_branding(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
    ) -> Result<Json<BrandingView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        admin.remove_branding(&caller, &org).await?;
        Ok(Json(BrandingView::none(&org)))
    }

    /// Upload an organization's logo
    ///
    /// The image is the body: PNG, JPEG or SVG, at most 100 KiB. SVGs with
    /// script, event handlers, embedded documents or external links are
    /// refused. onboard serves it from its own origin (`logo.path`).
    #[oai(path = "/orgs/:id/branding/logo", method = "put", operation_id = "AdminService_SetLogo")]
    async fn set_logo(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
        body: LogoUpload,
    ) -> Result<Json<BrandingView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        let (declared, bytes) = body.into_parts();
        // The kind is the bytes' (the use case recognises it again); a
        // declared one that differs is refused before anything is stored.
        if let (Some(declared), Ok(found)) = (declared, onboard_domain::branding::Logo::parse(bytes.clone()))
            && declared != found.kind()
        {
            return Err(invalid_field(
                "logo",
                &format!("declared {} but the bytes are {}", declared.content_type(), found.kind().content_type()),
            ));
        }
        let branding = admin.set_logo(&caller, &org, bytes).await?;
        Ok(Json(BrandingView::of(&org, Some(&branding))))
    }

    /// Remove an organization's logo
    #[oai(path = "/orgs/:id/branding/logo", method = "delete", operation_id = "AdminService_RemoveLogo")]
    async fn remove_logo(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The organization's id.
        id: Path<String>,
    ) -> Result<Json<BrandingView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("id", &id.0)?;
        let branding = admin.remove_logo(&caller, &org).await?;
        Ok(Json(BrandingView::of(&org, branding.as_ref())))
    }
}
