//! Connect's unary protocol (what `@connectrpc` Connect transports and
//! ZITADEL's Python SDK speak) for `zitadel.user.v2.UserService`:
//! `POST /zitadel.user.v2.UserService/<Method>` with the message as
//! `application/json` (protojson) or `application/proto`, answered with
//! status 200 and the answer in the same encoding, or with the HTTP status
//! of the fault's code and Connect's JSON error body
//! `{code, message, details: [{type, value, debug}]}`, whose detail is the
//! `zitadel.v1.ErrorDetail` the other protocols carry.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use onboard_contract::call::keys;
use onboard_contract::fault::{Code, ids};
use onboard_contract::pb::zitadel::user::v2 as pb;
use onboard_contract::{Answer, Call, Fault, MAX_MESSAGE_BYTES, json, user_v2};
use onboard_domain::usecases::UserService;
use poem::http::{Method, StatusCode, header};
use poem::{Request, Response};
use prost_reflect::ReflectMessage;

/// The path prefix of the v2 service's methods.
pub const V2_PATH: &str = "/zitadel.user.v2.UserService/";

/// A message's encoding on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Proto,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Proto => "application/proto",
        }
    }

    fn of(req: &Request) -> Option<Self> {
        let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
        let ct = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match ct.as_str() {
            "application/json" => Some(Self::Json),
            "application/proto" => Some(Self::Proto),
            _ => None,
        }
    }
}

/// Whether `req` is a Connect unary call to the v2 service (a POST of JSON
/// or binary protobuf to one of its method paths).
pub fn is_connect(req: &Request) -> bool {
    req.method() == Method::POST && req.uri().path().starts_with(V2_PATH) && Encoding::of(req).is_some()
}

/// Connect's error body for `fault`, with the HTTP status of its code.
pub fn error_response(fault: &Fault) -> Response {
    let detail = prost::Message::encode_to_vec(&fault.detail());
    let body = serde_json::json!({
        "code": fault.code.connect_name(),
        "message": fault.message(),
        "details": [{
            "type": "zitadel.v1.ErrorDetail",
            "value": STANDARD_NO_PAD.encode(detail),
            "debug": {"id": fault.id, "message": fault.text},
        }],
    });
    let status = StatusCode::from_u16(fault.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::builder()
        .status(status)
        .content_type("application/json")
        .body(serde_json::to_vec(&body).expect("JSON values serialize"));
    if let Some(secs) = fault.retry_after_secs() {
        resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    resp
}

fn decode<T: ReflectMessage + prost::Message + Default>(encoding: Encoding, body: &[u8]) -> Result<T, Fault> {
    match encoding {
        Encoding::Json => json::parse::<T>(body).map_err(Fault::malformed),
        Encoding::Proto => T::decode(body).map_err(Fault::malformed),
    }
}

fn answer<T: ReflectMessage + prost::Message>(encoding: Encoding, answer: Result<Answer<T>, Fault>) -> Response {
    let answer = match answer {
        Ok(a) => a,
        Err(fault) => return error_response(&fault),
    };
    let body = match encoding {
        Encoding::Json => json::to_vec(&answer.message),
        Encoding::Proto => answer.message.encode_to_vec(),
    };
    let mut resp = Response::builder().status(StatusCode::OK).content_type(encoding.content_type()).body(body);
    if let Some(value) = answer.notification.and_then(|n| n.as_str().parse().ok()) {
        resp.headers_mut().insert(keys::NOTIFICATION_ID, value);
    }
    if answer.replayed {
        resp.headers_mut().insert(keys::REPLAYED, "true".parse().expect("a valid value"));
    }
    resp
}

/// Serves one Connect unary call.
pub async fn serve(users: &UserService, mut req: Request) -> Response {
    let Some(encoding) = Encoding::of(&req) else {
        return error_response(&Fault::malformed("the content type must be application/json or application/proto"));
    };
    // Connect clients may compress; onboard's answers and reads are identity only.
    let compressed = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    if compressed {
        return error_response(&Fault::new(
            Code::Unimplemented,
            ids::UNIMPLEMENTED,
            "Compressed requests are not supported",
        ));
    }
    let call = Call::from_lookup(|name| req.headers().get(name).map(|v| v.as_bytes()));
    let method = req.uri().path().strip_prefix(V2_PATH).unwrap_or_default().to_owned();
    let body = match req.take_body().into_bytes_limit(MAX_MESSAGE_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(&Fault::new(
                Code::ResourceExhausted,
                ids::BODY_TOO_LARGE,
                format!("Request body is larger than {} KiB", MAX_MESSAGE_BYTES / 1024),
            ));
        }
    };
    macro_rules! unary {
        ($req:ty, $run:path) => {
            match decode::<$req>(encoding, &body) {
                Ok(message) => answer(encoding, $run(users, &call, message).await),
                Err(fault) => error_response(&fault),
            }
        };
    }
    match method.as_str() {
        "AddHumanUser" => unary!(pb::AddHumanUserRequest, user_v2::add_human_user),
        "GetUserByID" => unary!(pb::GetUserByIdRequest, user_v2::get_user_by_id),
        "CreateInviteCode" => unary!(pb::CreateInviteCodeRequest, user_v2::create_invite_code),
        "ResendInviteCode" => unary!(pb::ResendInviteCodeRequest, user_v2::resend_invite_code),
        "VerifyInviteCode" => unary!(pb::VerifyInviteCodeRequest, user_v2::verify_invite_code),
        "SetPassword" => unary!(pb::SetPasswordRequest, user_v2::set_password),
        "ListUsers" => unary!(pb::ListUsersRequest, user_v2::list_users),
        "DeleteUser" => unary!(pb::DeleteUserRequest, user_v2::delete_user),
        _ => {
            // Connect answers an unknown procedure with 404.
            let mut resp = error_response(&Fault::new(
                Code::Unimplemented,
                ids::ROUTE_NOT_FOUND,
                format!("{V2_PATH}{method} is not a method onboard serves"),
            ));
            resp.set_status(StatusCode::NOT_FOUND);
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_connects_shape_and_status() {
        let f = Fault::new(Code::FailedPrecondition, "COMMAND-Wgvn4", "User could not be found");
        let resp = error_response(&f);
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body = futures_body(resp);
        assert_eq!(body["code"], "failed_precondition");
        assert_eq!(body["message"], "User could not be found (COMMAND-Wgvn4)");
        assert_eq!(body["details"][0]["type"], "zitadel.v1.ErrorDetail");
        let value = STANDARD_NO_PAD.decode(body["details"][0]["value"].as_str().unwrap()).unwrap();
        let detail: onboard_contract::pb::zitadel::v1::ErrorDetail = prost::Message::decode(value.as_slice()).unwrap();
        assert_eq!((detail.id.as_str(), detail.message.as_str()), ("COMMAND-Wgvn4", "User could not be found"));
    }

    fn futures_body(resp: Response) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(resp.into_body().into_bytes()).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }
}
