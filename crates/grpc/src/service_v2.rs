//! The `zitadel.user.v2.UserService` methods onboard serves over gRPC and
//! gRPC-Web: each reads its call from the metadata and hands it, with the
//! message, to the contract's method.

use onboard_contract::user_v2;
use onboard_domain::usecases::UserService;
use tonic::{Request, Response, Status};

use crate::pb::zitadel::user::v2 as pb;
use crate::pb::zitadel::user::v2::user_service_server::UserService as UserServiceV2;
use crate::service::{call, respond};

/// The service implementation over the use cases.
#[derive(Debug, Clone)]
pub struct UsersV2 {
    users: UserService,
}

impl UsersV2 {
    pub fn new(users: UserService) -> Self {
        Self { users }
    }
}

#[tonic::async_trait]
impl UserServiceV2 for UsersV2 {
    #[tracing::instrument(skip_all, fields(rpc = "v2.AddHumanUser"))]
    async fn add_human_user(
        &self,
        request: Request<pb::AddHumanUserRequest>,
    ) -> Result<Response<pb::AddHumanUserResponse>, Status> {
        let call = call(&request);
        respond(user_v2::add_human_user(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "v2.GetUserByID"))]
    async fn get_user_by_id(
        &self,
        request: Request<pb::GetUserByIdRequest>,
    ) -> Result<Response<pb::GetUserByIdResponse>, Status> {
        let call = call(&request);
        respond(user_v2::get_user_by_id(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "v2.ListUsers"))]
    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let call = call(&request);
        respond(user_v2::list_users(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "v2.CreateInviteCode"))]
    async fn create_invite_code(
        &self,
        request: Request<pb::CreateInviteCodeRequest>,
    ) -> Result<Response<pb::CreateInviteCodeResponse>, Status> {
        let call = call(&request);
        respond(user_v2::create_invite_code(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "v2.ResendInviteCode"))]
    async fn resend_invite_code(
        &self,
        request: Request<pb::ResendInviteCodeRequest>,
    ) -> Result<Response<pb::ResendInviteCodeResponse>, Status> {
        let call = call(&request);
        respond(user_v2::resend_invite_code(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "v2.VerifyInviteCode"))]
    async fn verify_invite_code(
        &self,
        request: Request<pb::VerifyInviteCodeRequest>,
    ) -> Result<Response<pb::VerifyInviteCodeResponse>, Status> {
        let call = call(&request);
        respond(user_v2::verify_invite_code(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "v2.SetPassword"))]
    async fn set_password(
        &self,
        request: Request<pb::SetPasswordRequest>,
    ) -> Result<Response<pb::SetPasswordResponse>, Status> {
        let call = call(&request);
        respond(user_v2::set_password(&self.users, &call, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rpc = "v2.DeleteUser"))]
    async fn delete_user(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let call = call(&request);
        respond(user_v2::delete_user(&self.users, &call, request.into_inner()).await)
    }
}
