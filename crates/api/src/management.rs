//! The Management API v1 routes onboard serves.

use onboard_domain::Permission;
use onboard_domain::usecases::UserService;
use poem::web::Data;
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, SecurityScheme, Tags};

use crate::errors::{ApiError, invalid_field};
use crate::wire::*;

#[derive(Tags)]
enum ApiTags {
    /// Human users and their initialization.
    Users,
}

/// `Authorization: Bearer <token>`: a personal access token.
#[derive(SecurityScheme)]
#[oai(rename = "BearerAuth", ty = "bearer")]
pub struct BearerAuth(pub(crate) Bearer);

#[derive(ApiResponse)]
enum ResendAnswer {
    /// OK. The new email's id is in `x-onboard-notification-id`.
    #[oai(status = 200)]
    Ok(Json<ResendHumanInitializationResponse>, #[oai(header = "x-onboard-notification-id")] String),
}

#[derive(ApiResponse)]
enum AddAnswer {
    /// OK. When an initialization email became due, its id is in `x-onboard-notification-id`.
    #[oai(status = 200)]
    Ok(Json<AddHumanUserResponse>, #[oai(header = "x-onboard-notification-id")] Option<String>),
}

#[derive(ApiResponse)]
enum ImportAnswer {
    /// OK. When an initialization email became due, its id is in `x-onboard-notification-id`.
    #[oai(status = 200)]
    Ok(Json<ImportHumanUserResponse>, #[oai(header = "x-onboard-notification-id")] Option<String>),
}

/// The Management API's user methods.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManagementApi;

type Org = Header<Option<String>>;

#[OpenApi(prefix_path = "/management/v1", tag = "ApiTags::Users")]
impl ManagementApi {
    /// Resend User Initialization Email
    ///
    /// A newly created user will get an initialization email to verify the
    /// email address and set a password. Resend the email with this request
    /// to the user's email address, or a newly added address.
    #[oai(
        path = "/users/:userId/_resend_initialization",
        method = "post",
        operation_id = "ManagementService_ResendHumanInitialization"
    )]
    async fn resend_human_initialization(
        &self,
        Data(users): Data<&UserService>,
        auth: BearerAuth,
        /// The id of the user.
        #[oai(name = "userId")]
        user_id: Path<String>,
        /// The default is always the organization of the requesting user. If
        /// you like to update a user from another organization include the
        /// header. Make sure the requesting user has permission in the
        /// requested organization.
        #[oai(name = "x-zitadel-orgid")]
        org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6). Keys are the
        /// caller's own; 1 to 255 visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<String>>,
        body: Json<ResendHumanInitializationBody>,
    ) -> Result<ResendAnswer, ApiError> {
        let acting = users.authorize(Some(&auth.0.token), org.0.as_deref(), Permission::UserWrite).await?;
        let (details, notification) = users.resend_initialization(&acting, &user_id.0, body.0.email.as_deref()).await?;
        Ok(ResendAnswer::Ok(
            Json(ResendHumanInitializationResponse { details: details.into() }),
            notification.to_string(),
        ))
    }

    /// Create/Add Human User
    ///
    /// Create a new user of the type human. A user without a password or
    /// without a verified email starts in state Initial and is sent the
    /// initialization email at once.
    #[oai(path = "/users/human", method = "post", operation_id = "ManagementService_AddHumanUser")]
    async fn add_human_user(
        &self,
        Data(users): Data<&UserService>,
        auth: BearerAuth,
        /// The organization the user is created in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6). Keys are the
        /// caller's own; 1 to 255 visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<String>>,
        body: Json<AddHumanUserRequest>,
    ) -> Result<AddAnswer, ApiError> {
        let acting = users.authorize(Some(&auth.0.token), org.0.as_deref(), Permission::UserWrite).await?;
        let created = users.create_human_user(&acting, body.0.into()).await?;
        let body = AddHumanUserResponse { user_id: created.user_id.to_string(), details: created.details.into() };
        Ok(AddAnswer::Ok(Json(body), created.notification.map(|n| n.to_string())))
    }

    /// Create/Import Human User
    ///
    /// Create a new user of the type human, with a password or an argon2
    /// password hash. A user without a password or without a verified email
    /// starts in state Initial and is sent the initialization email at once.
    #[oai(path = "/users/human/_import", method = "post", operation_id = "ManagementService_ImportHumanUser")]
    async fn import_human_user(
        &self,
        Data(users): Data<&UserService>,
        auth: BearerAuth,
        /// The organization the user is created in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6). Keys are the
        /// caller's own; 1 to 255 visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<String>>,
        body: Json<ImportHumanUserRequest>,
    ) -> Result<ImportAnswer, ApiError> {
        let acting = users.authorize(Some(&auth.0.token), org.0.as_deref(), Permission::UserWrite).await?;
        let cmd = body.0.into_command().map_err(|(field, reason)| invalid_field(field, reason))?;
        let created = users.create_human_user(&acting, cmd).await?;
        let body = ImportHumanUserResponse { user_id: created.user_id.to_string(), details: created.details.into() };
        Ok(ImportAnswer::Ok(Json(body), created.notification.map(|n| n.to_string())))
    }

    /// List a user's initialization emails
    ///
    /// Every initialization email of the user, newest first, with what became
    /// of it: queued, sending, sent (accepted by the mail provider),
    /// delivered, deferred, bounced, dropped, spam reported, failed (given
    /// up), superseded (a newer code replaced it) or expired (its code
    /// expired before it could be sent). Not part of ZITADEL's API.
    #[oai(
        path = "/users/:userId/notifications",
        method = "get",
        operation_id = "ManagementService_ListUserNotifications"
    )]
    async fn list_user_notifications(
        &self,
        Data(users): Data<&UserService>,
        auth: BearerAuth,
        /// The id of the user.
        #[oai(name = "userId")]
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        org: Org,
    ) -> Result<Json<ListNotificationsResponse>, ApiError> {
        let acting = users.authorize(Some(&auth.0.token), org.0.as_deref(), Permission::UserRead).await?;
        let list = users.list_notifications(&acting, &user_id.0).await?;
        Ok(Json(ListNotificationsResponse { result: list.into_iter().map(Into::into).collect() }))
    }

    /// Get User by ID
    ///
    /// Returns the full user object (human or machine) including the
    /// profile, email, etc.
    #[oai(path = "/users/:id", method = "get", operation_id = "ManagementService_GetUserByID")]
    async fn get_user_by_id(
        &self,
        Data(users): Data<&UserService>,
        auth: BearerAuth,
        /// The id of the user.
        id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        org: Org,
    ) -> Result<Json<GetUserByIdResponse>, ApiError> {
        let acting = users.authorize(Some(&auth.0.token), org.0.as_deref(), Permission::UserRead).await?;
        let user = users.get_user(&acting, &id.0).await?;
        Ok(Json(GetUserByIdResponse { user: user.into() }))
    }
}
