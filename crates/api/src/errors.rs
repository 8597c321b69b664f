//! The one place where errors become the contract's `{code, message,
//! details}` body and an HTTP status: use-case errors, and what the
//! framework rejects by itself (malformed JSON, unknown routes, …).

use onboard_domain::ports::Unavailable;
use onboard_domain::usecases::{AuthorizeError, CreateUserError, GetUserError, IdempotencyError, ResendError};
use onboard_domain::{ThrottleReason, Throttled};
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};

/// `zitadel.v1.ErrorDetail`, packed as a `google.protobuf.Any`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ErrorDetail")]
pub struct ErrorDetail {
    #[oai(rename = "@type")]
    pub type_url: String,
    pub id: String,
    pub message: String,
}

/// `google.rpc.Status` as the gateway writes it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "rpcStatus")]
pub struct RpcStatus {
    /// The gRPC status code.
    pub code: i32,
    /// The text followed by the error id in parentheses.
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

pub const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/zitadel.v1.ErrorDetail";

/// gRPC status codes used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    Unauthenticated = 16,
}

impl Code {
    /// The contract's gRPC → HTTP map.
    pub fn http_status(self) -> StatusCode {
        match self {
            Self::InvalidArgument | Self::FailedPrecondition => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::AlreadyExists | Self::Aborted => StatusCode::CONFLICT,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Self::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        }
    }
}

/// Error ids. ZITADEL's own where the contract names them.
pub mod ids {
    pub const USER_NOT_FOUND: &str = "COMMAND-2M9df";
    pub const USER_ALREADY_INITIALIZED: &str = "COMMAND-2M9sd";
    pub const USER_ID_MISSING: &str = "COMMAND-2n8vs";
    pub const PERMISSION_DENIED: &str = "AUTH-5mWD2";
    pub const USER_ID_INVALID: &str = "ONBOARD-USERID-INVALID";
    pub const EMAIL_INVALID: &str = "ONBOARD-EMAIL-INVALID";
    pub const FIELD_INVALID: &str = "ONBOARD-FIELD-INVALID";
    pub const PASSWORD_POLICY: &str = "ONBOARD-PASSWORD-POLICY";
    pub const USER_NAME_TAKEN: &str = "ONBOARD-USERNAME-TAKEN";
    pub const CONTENTION: &str = "ONBOARD-CONTENTION";
    pub const UNAVAILABLE: &str = "ONBOARD-UNAVAILABLE";
    pub const TOKEN_MISSING: &str = "ONBOARD-TOKEN-MISSING";
    pub const TOKEN_INVALID: &str = "ONBOARD-TOKEN-INVALID";
    pub const REQUEST_INVALID: &str = "ONBOARD-REQUEST-INVALID";
    pub const ROUTE_NOT_FOUND: &str = "ONBOARD-ROUTE-NOT-FOUND";
    pub const METHOD_NOT_ALLOWED: &str = "ONBOARD-METHOD-NOT-ALLOWED";
    pub const BODY_TOO_LARGE: &str = "ONBOARD-BODY-TOO-LARGE";
    pub const INTERNAL: &str = "ONBOARD-INTERNAL";
    pub const THROTTLED_RESEND_COOLDOWN: &str = "ONBOARD-THROTTLED-RESEND-COOLDOWN";
    pub const THROTTLED_RECIPIENT_DAILY_CAP: &str = "ONBOARD-THROTTLED-RECIPIENT-DAILY-CAP";
    pub const THROTTLED_CALLER_RATE: &str = "ONBOARD-THROTTLED-CALLER-RATE";
    pub const IDEMPOTENCY_KEY_INVALID: &str = "ONBOARD-IDEMPOTENCY-KEY-INVALID";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "ONBOARD-IDEMPOTENCY-KEY-REUSED";
    pub const IDEMPOTENCY_IN_FLIGHT: &str = "ONBOARD-IDEMPOTENCY-IN-FLIGHT";
}

/// An error answer. Its body is always an [`RpcStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub id: &'static str,
    pub text: String,
    /// Whole seconds for a `Retry-After` header (throttled answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, id: &'static str, text: impl Into<String>) -> Self {
        Self { status: code.http_status(), code, id, text: text.into(), retry_after: None }
    }

    /// A throttled call: 429 with the reason as the detail's id and a
    /// `Retry-After` in whole seconds (rounded up, so waiting it suffices).
    pub fn throttled(t: Throttled) -> Self {
        let id = match t.reason {
            ThrottleReason::ResendCooldown => ids::THROTTLED_RESEND_COOLDOWN,
            ThrottleReason::RecipientDailyCap => ids::THROTTLED_RECIPIENT_DAILY_CAP,
            ThrottleReason::CallerRate => ids::THROTTLED_CALLER_RATE,
        };
        let secs = t.retry_after.as_secs() + u64::from(t.retry_after.subsec_nanos() > 0);
        let mut e = Self::new(Code::ResourceExhausted, id, format!("Too many requests: {}", t.reason.describe()));
        e.retry_after = Some(secs.max(1));
        e
    }

    /// For the few answers whose HTTP status is not the code's (405, 413).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn body(&self) -> RpcStatus {
        RpcStatus {
            code: self.code as i32,
            message: format!("{} ({})", self.text, self.id),
            details: vec![ErrorDetail {
                type_url: ERROR_DETAIL_TYPE.into(),
                id: self.id.into(),
                message: self.text.clone(),
            }],
        }
    }

    fn unavailable(unavailable: &Unavailable) -> Self {
        // The reason stays in the log; clients learn only that they may retry.
        tracing::warn!(reason = %unavailable.0, "store unavailable");
        Self::new(Code::Unavailable, ids::UNAVAILABLE, "The service is temporarily unavailable; try again")
    }

    fn contention() -> Self {
        Self::new(Code::Aborted, ids::CONTENTION, "The user was changed concurrently; try again")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = Json(self.body()).into_response();
        resp.set_status(self.status);
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(poem::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

impl From<ApiError> for poem::Error {
    fn from(e: ApiError) -> Self {
        poem::Error::from_response(e.into_response())
    }
}

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                // The text of ZITADEL's own document (grpc-gateway's default).
                description: "An unexpected error response.",
                status: None,
                status_range: None,
                content: vec![MetaMediaType { content_type: "application/json", schema: RpcStatus::schema_ref() }],
                headers: vec![MetaHeader {
                    name: "Retry-After".into(),
                    description: Some(
                        "On 429 (code 8, throttled; the detail's id says why): whole seconds until the call may succeed."
                            .into(),
                    ),
                    required: false,
                    deprecated: false,
                    schema: u64::schema_ref(),
                }],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        RpcStatus::register(registry);
    }
}

impl From<AuthorizeError> for ApiError {
    fn from(e: AuthorizeError) -> Self {
        match e {
            AuthorizeError::MissingToken => missing_token(),
            AuthorizeError::InvalidToken => {
                Self::new(Code::Unauthenticated, ids::TOKEN_INVALID, "Token is invalid or expired")
            }
            AuthorizeError::PermissionDenied => {
                Self::new(Code::PermissionDenied, ids::PERMISSION_DENIED, "No matching permissions found")
            }
            AuthorizeError::Throttled(t) => Self::throttled(t),
            AuthorizeError::Unavailable(r) => Self::unavailable(&r),
        }
    }
}

/// One answer wherever the token is missing (poem-openapi's bearer check or the use case).
fn missing_token() -> ApiError {
    ApiError::new(Code::Unauthenticated, ids::TOKEN_MISSING, "Authorization header is missing or not a bearer token")
}

fn user_not_found() -> ApiError {
    ApiError::new(Code::NotFound, ids::USER_NOT_FOUND, "User could not be found")
}

impl From<ResendError> for ApiError {
    fn from(e: ResendError) -> Self {
        match e {
            ResendError::UserIdMissing => Self::new(Code::InvalidArgument, ids::USER_ID_MISSING, "User ID is missing"),
            ResendError::InvalidUserId(r) => {
                Self::new(Code::InvalidArgument, ids::USER_ID_INVALID, format!("Invalid user ID: {r}"))
            }
            ResendError::InvalidEmail(r) => {
                Self::new(Code::InvalidArgument, ids::EMAIL_INVALID, format!("Email is invalid: {r}"))
            }
            ResendError::NotFound => user_not_found(),
            ResendError::NotInitial => {
                Self::new(Code::FailedPrecondition, ids::USER_ALREADY_INITIALIZED, "User is already initialized")
            }
            ResendError::Contention => Self::contention(),
            ResendError::Throttled(t) => Self::throttled(t),
            ResendError::Unavailable(r) => Self::unavailable(&r),
        }
    }
}

impl From<GetUserError> for ApiError {
    fn from(e: GetUserError) -> Self {
        match e {
            GetUserError::InvalidId(r) => {
                Self::new(Code::InvalidArgument, ids::USER_ID_INVALID, format!("Invalid user ID: {r}"))
            }
            GetUserError::NotFound => user_not_found(),
            GetUserError::Unavailable(r) => Self::unavailable(&r),
        }
    }
}

impl From<CreateUserError> for ApiError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::InvalidField { field, reason } => invalid_field(field, &reason),
            CreateUserError::InvalidEmail(r) => {
                Self::new(Code::InvalidArgument, ids::EMAIL_INVALID, format!("Email is invalid: {r}"))
            }
            CreateUserError::PasswordPolicy(r) => Self::new(
                Code::InvalidArgument,
                ids::PASSWORD_POLICY,
                format!("Password does not meet the policy: {r}"),
            ),
            CreateUserError::UserNameTaken => {
                Self::new(Code::AlreadyExists, ids::USER_NAME_TAKEN, "User already exists")
            }
            CreateUserError::Contention => Self::contention(),
            CreateUserError::Unavailable(r) => Self::unavailable(&r),
        }
    }
}

impl From<IdempotencyError> for ApiError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::InvalidKey => Self::new(
                Code::InvalidArgument,
                ids::IDEMPOTENCY_KEY_INVALID,
                format!("Idempotency-Key is invalid: {e}"),
            ),
            IdempotencyError::Unavailable(r) => Self::unavailable(&r),
        }
    }
}

pub fn invalid_field(field: &str, reason: &str) -> ApiError {
    ApiError::new(Code::InvalidArgument, ids::FIELD_INVALID, format!("Invalid {field}: {reason}"))
}

/// Turns every error that reaches the top of the router into the contract's
/// shape. Answers the handlers already made are passed through.
pub async fn catch_all(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let api = match status {
        StatusCode::NOT_FOUND => ApiError::new(Code::NotFound, ids::ROUTE_NOT_FOUND, "Not found: no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(Code::Unimplemented, ids::METHOD_NOT_ALLOWED, "Method not allowed on this route")
                .with_status(StatusCode::METHOD_NOT_ALLOWED)
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(Code::ResourceExhausted, ids::BODY_TOO_LARGE, "Request body is larger than 64 KiB")
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        }
        StatusCode::UNAUTHORIZED => missing_token(),
        s if s.is_client_error() => {
            ApiError::new(Code::InvalidArgument, ids::REQUEST_INVALID, format!("Invalid request: {err}"))
        }
        _ => {
            tracing::error!(error = %err, "unhandled error");
            ApiError::new(Code::Internal, ids::INTERNAL, "Internal error")
        }
    };
    api.into_response()
}

/// Error ids of onboard's administration API (`/admin/v1`).
pub mod admin_ids {
    pub const ORG_NOT_FOUND: &str = "ONBOARD-ORG-NOT-FOUND";
    pub const ACCOUNT_NOT_FOUND: &str = "ONBOARD-ACCOUNT-NOT-FOUND";
    pub const TOKEN_NOT_FOUND: &str = "ONBOARD-TOKEN-NOT-FOUND";
}

impl From<onboard_domain::usecases::AdminError> for ApiError {
    fn from(e: onboard_domain::usecases::AdminError) -> Self {
        use onboard_domain::usecases::AdminError as E;
        match e {
            // The ids are the caller's own: not repeated, as for users.
            E::UnknownOrganization(_) => {
                Self::new(Code::NotFound, admin_ids::ORG_NOT_FOUND, "Organization could not be found")
            }
            E::UnknownAccount(_) => {
                Self::new(Code::NotFound, admin_ids::ACCOUNT_NOT_FOUND, "Service account could not be found")
            }
            E::UnknownToken(_) => Self::new(Code::NotFound, admin_ids::TOKEN_NOT_FOUND, "Token could not be found"),
            E::Invalid(reason) => {
                Self::new(Code::InvalidArgument, ids::FIELD_INVALID, format!("Invalid argument: {reason}"))
            }
            // The same answer as the bearer check's refusal.
            E::PermissionDenied => {
                Self::new(Code::PermissionDenied, ids::PERMISSION_DENIED, "No matching permissions found")
            }
            E::Unavailable(r) => Self::unavailable(&r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem_openapi::types::ToJSON;

    #[test]
    fn body_has_the_contract_shape() {
        let e: ApiError = ResendError::NotInitial.into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let json = e.body().to_json().unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": 9,
                "message": "User is already initialized (COMMAND-2M9sd)",
                "details": [{"@type": ERROR_DETAIL_TYPE, "id": "COMMAND-2M9sd", "message": "User is already initialized"}]
            })
        );
    }

    #[test]
    fn codes_map_to_the_contract_statuses() {
        let cases = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::PermissionDenied, 403),
            (Code::Unauthenticated, 401),
            (Code::ResourceExhausted, 429),
            (Code::Internal, 500),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
        ];
        for (code, status) in cases {
            assert_eq!(code.http_status().as_u16(), status, "{code:?}");
        }
    }

    #[test]
    fn throttled_answers_say_why_and_when() {
        let t =
            Throttled { reason: ThrottleReason::ResendCooldown, retry_after: std::time::Duration::from_millis(41_200) };
        let e: ApiError = ResendError::Throttled(t).into();
        assert_eq!((e.status.as_u16(), e.code, e.id), (429, Code::ResourceExhausted, ids::THROTTLED_RESEND_COOLDOWN));
        let resp = e.into_response();
        assert_eq!(resp.headers().get("retry-after").unwrap(), "42");
        let t = Throttled { reason: ThrottleReason::CallerRate, retry_after: std::time::Duration::from_millis(3) };
        assert_eq!(ApiError::from(AuthorizeError::Throttled(t)).retry_after, Some(1));
    }

    #[test]
    fn store_failures_do_not_leak_their_reason() {
        let e: ApiError = ResendError::Unavailable(Unavailable("redis at 10.0.0.1 refused".into())).into();
        assert_eq!(e.code, Code::Unavailable);
        assert!(!e.text.contains("10.0.0.1"));
    }
}
