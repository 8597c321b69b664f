//! `zitadel.user.v2.UserService`: the invitation methods onboard serves,
//! each from its request message to its use case and back. A v2 user is a
//! v1 user and an invite code is the init code: these methods run the same
//! use cases (and the same `serve`) as the Management API's.

mod listing;
mod render;
mod requests;

use onboard_domain::Permission;
use onboard_domain::usecases::UserService;

use crate::call::Call;
use crate::fault::{Fault, Invitation, ids, invitation, v2_deletion, v2_listing};
use crate::pb::zitadel::user::v2 as pb;
use crate::serve::{Answer, Method, Outcome, serve};

pub use listing::{query, search};
pub use render::{details, list_details, state, user};
pub use requests::{add_command, invite_delivery, organization, set_password_input, user_id};

pub const SERVICE: &str = "zitadel.user.v2.UserService";

/// The methods, each with what it needs.
pub mod methods {
    use super::*;

    const fn method(name: &'static str, permission: Permission, idempotent: bool) -> Method {
        Method { service: SERVICE, name, permission, idempotent, http_status: 200 }
    }

    /// grpc-gateway answers this one's REST call with 201.
    pub const ADD_HUMAN_USER: Method = Method {
        service: SERVICE,
        name: "AddHumanUser",
        permission: Permission::UserWrite,
        idempotent: true,
        http_status: 201,
    };
    pub const GET_USER_BY_ID: Method = method("GetUserByID", Permission::UserRead, false);
    pub const CREATE_INVITE_CODE: Method = method("CreateInviteCode", Permission::UserWrite, true);
    pub const RESEND_INVITE_CODE: Method = method("ResendInviteCode", Permission::UserWrite, true);
    pub const VERIFY_INVITE_CODE: Method = method("VerifyInviteCode", Permission::UserWrite, false);
    pub const SET_PASSWORD: Method = method("SetPassword", Permission::UserWrite, false);
    pub const LIST_USERS: Method = method("ListUsers", Permission::UserRead, false);
    pub const DELETE_USER: Method = method("DeleteUser", Permission::UserDelete, false);

    /// Every method served, for routing and the access matrix.
    pub const ALL: [Method; 8] = [
        ADD_HUMAN_USER,
        GET_USER_BY_ID,
        LIST_USERS,
        CREATE_INVITE_CODE,
        RESEND_INVITE_CODE,
        VERIFY_INVITE_CODE,
        SET_PASSWORD,
        DELETE_USER,
    ];
}

pub async fn add_human_user(
    users: &UserService,
    call: &Call,
    request: pb::AddHumanUserRequest,
) -> Result<Answer<pb::AddHumanUserResponse>, Fault> {
    // The organization travels in the message; without one, the call's (its header, or the caller's own).
    let call = match organization(&request.organization)? {
        Some(org) => Call { org: Some(org.to_string()), ..call.clone() },
        None => call.clone(),
    };
    serve(users, &call, &methods::ADD_HUMAN_USER, request, |acting, r| async move {
        let created = users.create_human_user(&acting, add_command(r)?).await?;
        let message = pb::AddHumanUserResponse {
            user_id: created.user_id.to_string(),
            details: Some(details(created.details)),
            email_code: created.code.map(|c| c.expose().to_owned()),
            phone_code: None,
        };
        // A returned code is not kept for replays: a replay answers without
        // it, and CreateInviteCode makes a new one.
        let replay = pb::AddHumanUserResponse { email_code: None, ..message.clone() };
        Ok(Outcome::with_notification(message, created.notification).replayed_as(replay))
    })
    .await
}

pub async fn get_user_by_id(
    users: &UserService,
    call: &Call,
    request: pb::GetUserByIdRequest,
) -> Result<Answer<pb::GetUserByIdResponse>, Fault> {
    serve(users, call, &methods::GET_USER_BY_ID, request, |acting, r| async move {
        let id = user_id(&r.user_id, ids::USER_ID_MISSING, "GetUserByIDRequest.UserId")?;
        let found = users.get_user(&acting, &id).await?;
        Ok(Outcome::new(pb::GetUserByIdResponse { details: Some(details(found.details())), user: Some(user(found)) }))
    })
    .await
}

pub async fn create_invite_code(
    users: &UserService,
    call: &Call,
    request: pb::CreateInviteCodeRequest,
) -> Result<Answer<pb::CreateInviteCodeResponse>, Fault> {
    // A returned code is never kept for a replay: a retry makes a new one
    // (the earlier stops working), which is as safe to repeat.
    let returned = matches!(request.verification, Some(pb::create_invite_code_request::Verification::ReturnCode(_)));
    let method = Method { idempotent: !returned, ..methods::CREATE_INVITE_CODE };
    serve(users, call, &method, request, |acting, r| async move {
        let id = user_id(&r.user_id, ids::INVITE_USER_ID_MISSING, "CreateInviteCodeRequest.UserId")?;
        let delivery = invite_delivery(r.verification)?;
        let created =
            users.create_invite_code(&acting, &id, delivery).await.map_err(|e| invitation(e, Invitation::Create))?;
        let message = pb::CreateInviteCodeResponse {
            details: Some(details(created.details)),
            invite_code: created.code.map(|c| c.expose().to_owned()),
        };
        Ok(Outcome::with_notification(message, created.notification))
    })
    .await
}

pub async fn resend_invite_code(
    users: &UserService,
    call: &Call,
    request: pb::ResendInviteCodeRequest,
) -> Result<Answer<pb::ResendInviteCodeResponse>, Fault> {
    serve(users, call, &methods::RESEND_INVITE_CODE, request, |acting, r| async move {
        let id = user_id(&r.user_id, ids::USER_ID_MISSING, "ResendInviteCodeRequest.UserId")?;
        let (done, notification) =
            users.resend_invite_code(&acting, &id).await.map_err(|e| invitation(e, Invitation::Resend))?;
        Ok(Outcome::with_notification(
            pb::ResendInviteCodeResponse { details: Some(details(done)) },
            Some(notification),
        ))
    })
    .await
}

pub async fn verify_invite_code(
    users: &UserService,
    call: &Call,
    request: pb::VerifyInviteCodeRequest,
) -> Result<Answer<pb::VerifyInviteCodeResponse>, Fault> {
    serve(users, call, &methods::VERIFY_INVITE_CODE, request, |acting, r| async move {
        let id = user_id(&r.user_id, ids::VERIFY_INVITE_USER_ID_MISSING, "VerifyInviteCodeRequest.UserId")?;
        let done = users.verify_invite_code(&acting, &id, &r.verification_code).await?;
        Ok(Outcome::new(pb::VerifyInviteCodeResponse { details: Some(details(done)) }))
    })
    .await
}

pub async fn set_password(
    users: &UserService,
    call: &Call,
    request: pb::SetPasswordRequest,
) -> Result<Answer<pb::SetPasswordResponse>, Fault> {
    serve(users, call, &methods::SET_PASSWORD, request, |acting, r| async move {
        let id = user_id(&r.user_id, ids::USER_ID_MISSING, "SetPasswordRequest.UserId")?;
        let input = set_password_input(r)?;
        let done = users.set_password(&acting, &id, input).await?;
        Ok(Outcome::new(pb::SetPasswordResponse { details: Some(details(done)) }))
    })
    .await
}

pub async fn list_users(
    users: &UserService,
    call: &Call,
    request: pb::ListUsersRequest,
) -> Result<Answer<pb::ListUsersResponse>, Fault> {
    serve(users, call, &methods::LIST_USERS, request, |acting, r| async move {
        let sorting_column = r.sorting_column;
        let search = search(r, &acting.org)?;
        let page = users.list_users(&acting, &search).await.map_err(v2_listing)?;
        let message = pb::ListUsersResponse {
            details: Some(list_details(page.total, time::OffsetDateTime::now_utc())),
            sorting_column,
            result: page.users.into_iter().map(user).collect(),
        };
        Ok(Outcome::new(message))
    })
    .await
}

pub async fn delete_user(
    users: &UserService,
    call: &Call,
    request: pb::DeleteUserRequest,
) -> Result<Answer<pb::DeleteUserResponse>, Fault> {
    serve(users, call, &methods::DELETE_USER, request, |acting, r| async move {
        let id = user_id(&r.user_id, ids::DELETE_USER_ID_MISSING, "DeleteUserRequest.UserId")?;
        let done = users.remove_user(&acting, &id).await.map_err(v2_deletion)?;
        Ok(Outcome::new(pb::DeleteUserResponse { details: Some(details(done)) }))
    })
    .await
}
