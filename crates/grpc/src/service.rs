//! The `zitadel.management.v1.ManagementService` methods onboard serves:
//! authorize with the same use case as the HTTP side, run the use case,
//! answer with the same shapes.

use onboard_api::errors::invalid_field;
use onboard_domain::usecases::UserService;
use onboard_domain::{Acting, Permission};
use tonic::{Request, Response, Status};

use crate::convert;
use crate::errors::status;
use crate::pb::zitadel::management::v1 as mgmt;
use crate::pb::zitadel::management::v1::management_service_server::ManagementService;

/// The service implementation over the use cases.
#[derive(Debug, Clone)]
pub struct Management {
    users: UserService,
}

impl Management {
    pub fn new(users: UserService) -> Self {
        Self { users }
    }

    /// The caller and the organization it acts in, from the `authorization`
    /// (`Bearer <token>`) and `x-zitadel-orgid` metadata.
    async fn authorize<T>(&self, request: &Request<T>, permission: Permission) -> Result<Acting, Status> {
        // Read lossily: a value that is not text must still count as sent,
        // so a garbled organization is refused instead of meaning "my own".
        let text = |key: &str| request.metadata().get(key).map(|v| String::from_utf8_lossy(v.as_bytes()));
        let (authorization, org) = (text("authorization"), text("x-zitadel-orgid"));
        let token = authorization.as_deref().and_then(bearer);
        self.users.authorize(token, org.as_deref(), permission).await.map_err(status)
    }
}

/// The token of a `Bearer` credential (the scheme is case-insensitive).
/// Anything else counts as no token at all, as on the HTTP side.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[tonic::async_trait]
impl ManagementService for Management {
    #[tracing::instrument(skip_all, fields(rpc = "GetUserByID"))]
    async fn get_user_by_id(
        &self,
        request: Request<mgmt::GetUserByIdRequest>,
    ) -> Result<Response<mgmt::GetUserByIdResponse>, Status> {
        let acting = self.authorize(&request, Permission::UserRead).await?;
        let user = self.users.get_user(&acting, &request.get_ref().id).await.map_err(status)?;
        Ok(Response::new(mgmt::GetUserByIdResponse { user: Some(convert::user(user)) }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "AddHumanUser"))]
    async fn add_human_user(
        &self,
        request: Request<mgmt::AddHumanUserRequest>,
    ) -> Result<Response<mgmt::AddHumanUserResponse>, Status> {
        let acting = self.authorize(&request, Permission::UserWrite).await?;
        let cmd = convert::add_command(request.into_inner());
        let created = self.users.create_human_user(&acting, cmd).await.map_err(status)?;
        let notification = created.notification.clone();
        let answer = mgmt::AddHumanUserResponse {
            user_id: created.user_id.to_string(),
            details: convert::details(created.details),
        };
        Ok(with_notification(Response::new(answer), notification))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ImportHumanUser"))]
    async fn import_human_user(
        &self,
        request: Request<mgmt::ImportHumanUserRequest>,
    ) -> Result<Response<mgmt::ImportHumanUserResponse>, Status> {
        let acting = self.authorize(&request, Permission::UserWrite).await?;
        let cmd = convert::import_command(request.into_inner())
            .map_err(|(field, reason)| status(invalid_field(field, reason)))?;
        let created = self.users.create_human_user(&acting, cmd).await.map_err(status)?;
        let notification = created.notification.clone();
        let answer = mgmt::ImportHumanUserResponse {
            user_id: created.user_id.to_string(),
            details: convert::details(created.details),
        };
        Ok(with_notification(Response::new(answer), notification))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ResendHumanInitialization"))]
    async fn resend_human_initialization(
        &self,
        request: Request<mgmt::ResendHumanInitializationRequest>,
    ) -> Result<Response<mgmt::ResendHumanInitializationResponse>, Status> {
        let acting = self.authorize(&request, Permission::UserWrite).await?;
        let r = request.get_ref();
        let (details, notification) =
            self.users.resend_initialization(&acting, &r.user_id, Some(&r.email)).await.map_err(status)?;
        let answer = mgmt::ResendHumanInitializationResponse { details: convert::details(details) };
        Ok(with_notification(Response::new(answer), Some(notification)))
    }
}

/// The email a call made, in the same `x-onboard-notification-id` the JSON side answers with.
fn with_notification<T>(
    mut response: Response<T>,
    notification: Option<onboard_domain::NotificationId>,
) -> Response<T> {
    if let Some(value) = notification.and_then(|n| n.as_str().parse().ok()) {
        response.metadata_mut().insert("x-onboard-notification-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn only_bearer_credentials_carry_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic YWJjOmRlZg=="), None);
        assert_eq!(bearer("abc"), None);
    }
}
