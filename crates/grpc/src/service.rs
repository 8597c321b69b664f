//! The `zitadel.management.v1.ManagementService` methods onboard serves:
//! each reads its call from the metadata and hands it, with the message, to
//! the contract's method.

use onboard_contract::call::keys;
use onboard_contract::management as mgmt;
use onboard_contract::{Answer, Call};
use onboard_domain::usecases::UserService;
use tonic::{Request, Response, Status};

use crate::errors::status;
use crate::pb::zitadel::management::v1 as pb;
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
}

/// The call's credentials, organization and idempotency key, from the metadata.
pub(crate) fn call<T>(request: &Request<T>) -> Call {
    Call::from_lookup(|key| request.metadata().get(key).map(|v| v.as_bytes()))
}

/// The answer with the metadata the JSON side sends as headers.
// tonic's trait methods return `Result<_, Status>`; boxing here would only move the size.
#[allow(clippy::result_large_err)]
pub(crate) fn respond<T>(answer: Result<Answer<T>, onboard_contract::Fault>) -> Result<Response<T>, Status> {
    let answer = answer.map_err(status)?;
    let mut response = Response::new(answer.message);
    if let Some(value) = answer.notification.and_then(|n| n.as_str().parse().ok()) {
        response.metadata_mut().insert(keys::NOTIFICATION_ID, value);
    }
    if answer.replayed {
        response.metadata_mut().insert(keys::REPLAYED, "true".parse().expect("a valid value"));
    }
    Ok(response)
}

#[tonic::async_trait]
impl ManagementService for Management {
    #[tracing::instrument(skip_all, fields(rpc = "GetUserByID"))]
    async fn get_user_by_id(
        &self,
        request: Request<pb::GetUserByIdRequest>,
    ) -> Result<Response<pb::GetUserByIdResponse>, Status> {
        let call = call(&request);
        respond(mgmt::get_user_by_id(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "AddHumanUser"))]
    async fn add_human_user(
        &self,
        request: Request<pb::AddHumanUserRequest>,
    ) -> Result<Response<pb::AddHumanUserResponse>, Status> {
        let call = call(&request);
        respond(mgmt::add_human_user(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "ImportHumanUser"))]
    async fn import_human_user(
        &self,
        request: Request<pb::ImportHumanUserRequest>,
    ) -> Result<Response<pb::ImportHumanUserResponse>, Status> {
        let call = call(&request);
        respond(mgmt::import_human_user(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "ResendHumanInitialization"))]
    async fn resend_human_initialization(
        &self,
        request: Request<pb::ResendHumanInitializationRequest>,
    ) -> Result<Response<pb::ResendHumanInitializationResponse>, Status> {
        let call = call(&request);
        respond(mgmt::resend_human_initialization(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListUsers"))]
    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let call = call(&request);
        respond(mgmt::list_users(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "IsUserUnique"))]
    async fn is_user_unique(
        &self,
        request: Request<pb::IsUserUniqueRequest>,
    ) -> Result<Response<pb::IsUserUniqueResponse>, Status> {
        let call = call(&request);
        respond(mgmt::is_user_unique(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "RemoveUser"))]
    async fn remove_user(
        &self,
        request: Request<pb::RemoveUserRequest>,
    ) -> Result<Response<pb::RemoveUserResponse>, Status> {
        let call = call(&request);
        respond(mgmt::remove_user(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetUserByLoginNameGlobal"))]
    async fn get_user_by_login_name_global(
        &self,
        request: Request<pb::GetUserByLoginNameGlobalRequest>,
    ) -> Result<Response<pb::GetUserByLoginNameGlobalResponse>, Status> {
        let call = call(&request);
        respond(mgmt::get_user_by_login_name_global(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListUserChanges"))]
    async fn list_user_changes(
        &self,
        request: Request<pb::ListUserChangesRequest>,
    ) -> Result<Response<pb::ListUserChangesResponse>, Status> {
        let call = call(&request);
        respond(mgmt::list_user_changes(&self.users, &call, request.into_inner()).await)
    }
}
