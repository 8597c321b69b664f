//! The REST routes of ZITADEL's `zitadel.user.v2.UserService` that onboard
//! serves, as grpc-gateway transcodes them (path parameters, `body: "*"`,
//! 201 on create): each reads its message and call, hands them to the
//! contract's method, and writes the answer. Their document is
//! `openapi/user_service_v2.yaml`.

use onboard_contract::pb::zitadel::user::v2 as pb;
use onboard_contract::user_v2;
use onboard_contract::{Answer, Fault};
use onboard_domain::usecases::UserService;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::{ApiResponse, OpenApi, Tags};

use crate::call::HttpCall;
use crate::errors::ApiError;
use crate::management::Answered;
use crate::proto_json::{PathBound, ProtoBody, ProtoJson, WireMessage};

#[derive(Tags)]
enum ApiTags {
    /// Users and their invitations (ZITADEL's User Service v2).
    #[oai(rename = "User Service")]
    UserService,
}

/// The answer to a create: 201 on the REST mapping, as grpc-gateway answers it.
#[derive(Debug, ApiResponse)]
pub enum CreatedAnswer<T: WireMessage> {
    /// Created. When the call made an email due, its id is in
    /// `x-onboard-notification-id`; an answer replayed for an
    /// `Idempotency-Key` carries `idempotent-replayed: true`.
    #[oai(status = 201)]
    Created(
        ProtoJson<T>,
        #[oai(header = "x-onboard-notification-id")] Option<String>,
        #[oai(header = "idempotent-replayed")] Option<String>,
    ),
}

fn created<T: WireMessage>(a: Result<Answer<T>, Fault>) -> Result<CreatedAnswer<T>, ApiError> {
    let a = a?;
    Ok(CreatedAnswer::Created(
        ProtoJson(a.message),
        a.notification.map(|n| n.to_string()),
        a.replayed.then(|| "true".to_owned()),
    ))
}

fn answered<T: WireMessage>(a: Result<Answer<T>, Fault>) -> Result<Answered<T>, ApiError> {
    Ok(a?.into())
}

macro_rules! path_bound {
    ($name:ident, $message:ty, $schema:literal) => {
        /// The body of the route: the message without the user id, which travels in the path.
        #[derive(Debug)]
        pub struct $name;

        impl PathBound for $name {
            type Message = $message;
            const SCHEMA: &'static str = $schema;
            const PATH_FIELDS: &'static [&'static str] = &["user_id"];
        }
    };
}

path_bound!(CreateInviteCodeBody, pb::CreateInviteCodeRequest, "UserServiceCreateInviteCodeBody");
path_bound!(ResendInviteCodeBody, pb::ResendInviteCodeRequest, "UserServiceResendInviteCodeBody");
path_bound!(VerifyInviteCodeBody, pb::VerifyInviteCodeRequest, "UserServiceVerifyInviteCodeBody");
path_bound!(SetPasswordBody, pb::SetPasswordRequest, "UserServiceSetPasswordBody");

/// The v2 user methods.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserV2Api;

type Org = Header<Option<String>>;
type IdempotencyKey = Header<Option<String>>;

#[OpenApi(prefix_path = "/v2/users", tag = "ApiTags::UserService")]
impl UserV2Api {
    /// Create a new human user
    ///
    /// Create/import a new user of the type human. A user without a password
    /// and without a verified email starts in state Initial and gets its
    /// invitation the way `email` says: mailed (with `sendCode.urlTemplate`
    /// as its link, if given), or returned as `emailCode` (`returnCode`).
    #[oai(path = "/human", method = "post", operation_id = "UserService_AddHumanUser")]
    async fn add_human_user(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The organization when the body names none; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6).
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
        body: ProtoJson<pb::AddHumanUserRequest>,
    ) -> Result<CreatedAnswer<pb::AddHumanUserResponse>, ApiError> {
        created(user_v2::add_human_user(users, &call.0, body.0).await)
    }

    /// User by ID
    ///
    /// Returns the full user object (human or machine) including the
    /// profile, email, phone, etc.
    #[oai(path = "/:user_id", method = "get", operation_id = "UserService_GetUserByID")]
    async fn get_user_by_id(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<ProtoJson<pb::GetUserByIdResponse>, ApiError> {
        let answer = user_v2::get_user_by_id(users, &call.0, pb::GetUserByIdRequest { user_id: user_id.0 }).await?;
        Ok(ProtoJson(answer.message))
    }

    /// Search Users
    ///
    /// Search for users of the organization acted in. By default 100
    /// results are returned (at most 1000), newest first.
    #[oai(path = "/", method = "post", operation_id = "UserService_ListUsers")]
    async fn list_users(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The organization whose users are listed; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        body: ProtoJson<pb::ListUsersRequest>,
    ) -> Result<ProtoJson<pb::ListUsersResponse>, ApiError> {
        Ok(ProtoJson(user_v2::list_users(users, &call.0, body.0).await?.message))
    }

    /// Delete user
    ///
    /// The user is deleted: its invite code stops working, an email still
    /// queued is not sent, and its user name is free again.
    #[oai(path = "/:user_id", method = "delete", operation_id = "UserService_DeleteUser")]
    async fn delete_user(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<ProtoJson<pb::DeleteUserResponse>, ApiError> {
        let request = pb::DeleteUserRequest { user_id: user_id.0 };
        Ok(ProtoJson(user_v2::delete_user(users, &call.0, request).await?.message))
    }

    /// `GET /v2/users/human` is GetUserByID of a user with id "human", as
    /// grpc-gateway routes it.
    #[oai(path = "/human", method = "get", hidden)]
    async fn get_user_named_human(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
    ) -> Result<ProtoJson<pb::GetUserByIdResponse>, ApiError> {
        let request = pb::GetUserByIdRequest { user_id: "human".into() };
        Ok(ProtoJson(user_v2::get_user_by_id(users, &call.0, request).await?.message))
    }

    /// Create an invite code for a user
    ///
    /// Create an invite code for a user to initialize their first
    /// authentication method (password). The code is mailed (`sendCode`,
    /// the default; its `urlTemplate` and `applicationName` are kept for
    /// resends) or returned (`returnCode`, never mailed).
    #[oai(path = "/:user_id/invite_code", method = "post", operation_id = "UserService_CreateInviteCode")]
    async fn create_invite_code(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry (see AddHumanUser).
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
        body: ProtoBody<CreateInviteCodeBody>,
    ) -> Result<Answered<pb::CreateInviteCodeResponse>, ApiError> {
        let request = pb::CreateInviteCodeRequest { user_id: user_id.0, ..body.into_inner() };
        answered(user_v2::create_invite_code(users, &call.0, request).await)
    }

    /// Resend an invite code for a user
    ///
    /// Deprecated by ZITADEL (use CreateInviteCode), still served: mails a
    /// new code the way the last one was mailed. A returned code cannot be
    /// resent.
    #[oai(path = "/:user_id/invite_code/resend", method = "post", operation_id = "UserService_ResendInviteCode")]
    async fn resend_invite_code(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry (see AddHumanUser).
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
        body: ProtoBody<ResendInviteCodeBody>,
    ) -> Result<Answered<pb::ResendInviteCodeResponse>, ApiError> {
        // The message has no field but the path's: the body is read (and must be JSON) for nothing else.
        drop(body);
        let request = pb::ResendInviteCodeRequest { user_id: user_id.0 };
        answered(user_v2::resend_invite_code(users, &call.0, request).await)
    }

    /// Verify an invite code for a user
    ///
    /// Verifies the invite code and with it the user's email. A wrong, an
    /// expired and a used code are different errors; after as many wrong
    /// attempts as the init page allows, a new code is needed.
    #[oai(path = "/:user_id/invite_code/verify", method = "post", operation_id = "UserService_VerifyInviteCode")]
    async fn verify_invite_code(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        body: ProtoBody<VerifyInviteCodeBody>,
    ) -> Result<Answered<pb::VerifyInviteCodeResponse>, ApiError> {
        let request = pb::VerifyInviteCodeRequest { user_id: user_id.0, ..body.into_inner() };
        answered(user_v2::verify_invite_code(users, &call.0, request).await)
    }

    /// Change password
    ///
    /// Sets the user's password. A user in state Initial whose email is
    /// verified (by its invite code) becomes Active.
    #[oai(path = "/:user_id/password", method = "post", operation_id = "UserService_SetPassword")]
    async fn set_password(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        body: ProtoBody<SetPasswordBody>,
    ) -> Result<Answered<pb::SetPasswordResponse>, ApiError> {
        let request = pb::SetPasswordRequest { user_id: user_id.0, ..body.into_inner() };
        answered(user_v2::set_password(users, &call.0, request).await)
    }
}
