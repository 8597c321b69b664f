//! `zitadel.management.v1.ManagementService`: the methods onboard serves,
//! each from its request message to its use case and back.

mod render;
mod requests;

use onboard_domain::Permission;
use onboard_domain::usecases::UserService;

use crate::call::Call;
use crate::fault::Fault;
use crate::pb::zitadel::management::v1 as pb;
use crate::serve::{Answer, Method, Outcome, serve};

pub use render::{details, user};
pub use requests::{Creation, add_command, email, import_command, resend_command, user_id};

pub const SERVICE: &str = "zitadel.management.v1.ManagementService";

/// The methods, each with what it needs.
pub mod methods {
    use super::*;

    const fn method(name: &'static str, permission: Permission, idempotent: bool) -> Method {
        Method { service: SERVICE, name, permission, idempotent, http_status: 200 }
    }

    pub const GET_USER_BY_ID: Method = method("GetUserByID", Permission::UserRead, false);
    pub const ADD_HUMAN_USER: Method = method("AddHumanUser", Permission::UserWrite, true);
    pub const IMPORT_HUMAN_USER: Method = method("ImportHumanUser", Permission::UserWrite, true);
    pub const RESEND_HUMAN_INITIALIZATION: Method = method("ResendHumanInitialization", Permission::UserWrite, true);
}

pub async fn get_user_by_id(
    users: &UserService,
    call: &Call,
    request: pb::GetUserByIdRequest,
) -> Result<Answer<pb::GetUserByIdResponse>, Fault> {
    serve(users, call, &methods::GET_USER_BY_ID, request, |acting, r| async move {
        let id = user_id(&r.id, "GetUserByIDRequest.Id")?;
        let found = users.get_user(&acting, &id).await?;
        Ok(Outcome::new(pb::GetUserByIdResponse { user: Some(user(found)) }))
    })
    .await
}

pub async fn add_human_user(
    users: &UserService,
    call: &Call,
    request: pb::AddHumanUserRequest,
) -> Result<Answer<pb::AddHumanUserResponse>, Fault> {
    serve(users, call, &methods::ADD_HUMAN_USER, request, |acting, r| async move {
        let created = users.create_human_user(&acting, add_command(r)?).await?;
        let message =
            pb::AddHumanUserResponse { user_id: created.user_id.to_string(), details: Some(details(created.details)) };
        Ok(Outcome::with_notification(message, created.notification))
    })
    .await
}

pub async fn import_human_user(
    users: &UserService,
    call: &Call,
    request: pb::ImportHumanUserRequest,
) -> Result<Answer<pb::ImportHumanUserResponse>, Fault> {
    serve(users, call, &methods::IMPORT_HUMAN_USER, request, |acting, r| async move {
        let created = users
            .create_human_user(&acting, import_command(r)?)
            .await
            .map_err(|e| crate::fault::creation(e, Creation::Import))?;
        let message = pb::ImportHumanUserResponse {
            user_id: created.user_id.to_string(),
            details: Some(details(created.details)),
            ..Default::default()
        };
        Ok(Outcome::with_notification(message, created.notification))
    })
    .await
}

pub async fn resend_human_initialization(
    users: &UserService,
    call: &Call,
    request: pb::ResendHumanInitializationRequest,
) -> Result<Answer<pb::ResendHumanInitializationResponse>, Fault> {
    serve(users, call, &methods::RESEND_HUMAN_INITIALIZATION, request, |acting, r| async move {
        let (id, address) = resend_command(&r)?;
        let (done, notification) = users.resend_initialization(&acting, &id, address).await?;
        let message = pb::ResendHumanInitializationResponse { details: Some(details(done)) };
        Ok(Outcome::with_notification(message, Some(notification)))
    })
    .await
}
