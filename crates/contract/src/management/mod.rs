//! `zitadel.management.v1.ManagementService`: the methods onboard serves,
//! each from its request message to its use case and back.

mod listing;
mod render;
mod requests;

use onboard_domain::Permission;
use onboard_domain::usecases::UserService;

use crate::call::Call;
use crate::fault::Fault;
use crate::pb::zitadel::management::v1 as pb;
use crate::serve::{Answer, Method, Outcome, serve};

pub use listing::{change_query, list_users_search, user_query};
pub use render::{change, change_details, details, list_details, user};
pub use requests::{Creation, add_command, email, import_command, remove_command, resend_command, user_id};

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
    pub const LIST_USERS: Method = method("ListUsers", Permission::UserRead, false);
    // user.read, as @zitadel/proto 1.3.1's descriptor of the method says.
    pub const IS_USER_UNIQUE: Method = method("IsUserUnique", Permission::UserRead, false);
    pub const GET_USER_BY_LOGIN_NAME_GLOBAL: Method =
        method("GetUserByLoginNameGlobal", Permission::UserGlobalRead, false);
    pub const REMOVE_USER: Method = method("RemoveUser", Permission::UserDelete, true);
    pub const LIST_USER_CHANGES: Method = method("ListUserChanges", Permission::UserRead, false);

    /// Every method served, for listings of them (the access matrix, say).
    pub const ALL: [Method; 9] = [
        GET_USER_BY_ID,
        ADD_HUMAN_USER,
        IMPORT_HUMAN_USER,
        RESEND_HUMAN_INITIALIZATION,
        LIST_USERS,
        IS_USER_UNIQUE,
        GET_USER_BY_LOGIN_NAME_GLOBAL,
        REMOVE_USER,
        LIST_USER_CHANGES,
    ];
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

pub async fn list_users(
    users: &UserService,
    call: &Call,
    request: pb::ListUsersRequest,
) -> Result<Answer<pb::ListUsersResponse>, Fault> {
    serve(users, call, &methods::LIST_USERS, request, |acting, r| async move {
        let search = list_users_search(&r)?;
        let page = users.list_users(&acting, &search).await?;
        Ok(Outcome::new(pb::ListUsersResponse {
            details: Some(list_details(&page)),
            sorting_column: r.sorting_column,
            result: page.users.into_iter().map(user).collect(),
        }))
    })
    .await
}

pub async fn is_user_unique(
    users: &UserService,
    call: &Call,
    request: pb::IsUserUniqueRequest,
) -> Result<Answer<pb::IsUserUniqueResponse>, Fault> {
    serve(users, call, &methods::IS_USER_UNIQUE, request, |acting, r| async move {
        let is_unique = users.is_user_unique(&acting, &r.user_name, &r.email).await?;
        Ok(Outcome::new(pb::IsUserUniqueResponse { is_unique }))
    })
    .await
}

pub async fn get_user_by_login_name_global(
    users: &UserService,
    call: &Call,
    request: pb::GetUserByLoginNameGlobalRequest,
) -> Result<Answer<pb::GetUserByLoginNameGlobalResponse>, Fault> {
    serve(users, call, &methods::GET_USER_BY_LOGIN_NAME_GLOBAL, request, |acting, r| async move {
        let found = users.get_user_by_login_name_global(&acting, &r.login_name).await?;
        Ok(Outcome::new(pb::GetUserByLoginNameGlobalResponse { user: Some(user(found)) }))
    })
    .await
}

pub async fn remove_user(
    users: &UserService,
    call: &Call,
    request: pb::RemoveUserRequest,
) -> Result<Answer<pb::RemoveUserResponse>, Fault> {
    serve(users, call, &methods::REMOVE_USER, request, |acting, r| async move {
        let id = remove_command(&r)?;
        let done = users.remove_user(&acting, &id).await?;
        Ok(Outcome::new(pb::RemoveUserResponse { details: Some(change_details(done)) }))
    })
    .await
}

pub async fn list_user_changes(
    users: &UserService,
    call: &Call,
    request: pb::ListUserChangesRequest,
) -> Result<Answer<pb::ListUserChangesResponse>, Fault> {
    serve(users, call, &methods::LIST_USER_CHANGES, request, |acting, r| async move {
        let id = user_id(&r.user_id, "ListUserChangesRequest.UserId")?;
        let query = change_query(r.query.as_ref())?;
        let found = users.list_user_changes(&acting, &id, query).await?;
        Ok(Outcome::new(pb::ListUserChangesResponse { result: render::changes(&found) }))
    })
    .await
}
