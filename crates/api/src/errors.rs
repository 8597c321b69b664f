//! Faults as HTTP answers: the status from the code, the body the JSON form
//! of the fault's `google.rpc.Status` (`{code, message, details}`), and a
//! `Retry-After` on throttled calls. Also what the framework rejects by
//! itself (unknown routes, wrong methods, oversized bodies), in the same
//! shape.

use onboard_contract::pb::google::rpc;
use onboard_contract::{Fault, json};
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;

pub use onboard_contract::fault::{Code, ids};

/// An error answer: a fault's parts and the HTTP status it goes out with.
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
    pub fn new(code: Code, id: &'static str, text: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Fault::new(code, id, text).into()
    }

    /// For the few answers whose HTTP status is not the code's (405, 413).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn fault(&self) -> Fault {
        let mut fault = Fault::new(self.code, self.id, self.text.clone());
        fault.retry_after = self.retry_after.map(std::time::Duration::from_secs);
        fault
    }
}

impl<E: Into<Fault>> From<E> for ApiError {
    fn from(e: E) -> Self {
        let fault = e.into();
        let status = StatusCode::from_u16(fault.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = fault.retry_after_secs();
        Self { status, code: fault.code, id: fault.id, text: fault.text.into_owned(), retry_after }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = Response::builder()
            .status(self.status)
            .content_type("application/json")
            .body(json::to_vec(&self.fault().status()));
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
                content: vec![MetaMediaType {
                    content_type: "application/json",
                    schema: MetaSchemaRef::Reference("rpcStatus".into()),
                }],
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
        use prost_reflect::ReflectMessage;
        let status = rpc::Status::default().descriptor();
        crate::schema::register_message(registry, &status, &Default::default(), None);
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
        StatusCode::NOT_FOUND => ApiError::new(Code::NotFound, ids::ROUTE_NOT_FOUND, "Not Found"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(Code::Unimplemented, ids::METHOD_NOT_ALLOWED, "Method Not Allowed")
                .with_status(StatusCode::METHOD_NOT_ALLOWED)
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            Code::ResourceExhausted,
            ids::BODY_TOO_LARGE,
            format!("Request body is larger than {} KiB", onboard_contract::MAX_MESSAGE_BYTES / 1024),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE),
        StatusCode::UNAUTHORIZED => onboard_contract::Credentials::Missing.token().unwrap_err().into(),
        s if s.is_client_error() => Fault::malformed(&err).into(),
        _ => {
            tracing::error!(error = %err, "unhandled error");
            ApiError::new(Code::Internal, ids::INTERNAL, "Internal error")
        }
    };
    api.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn body_has_the_contract_shape() {
        let e: ApiError = onboard_domain::usecases::ResendError::NotInitial.into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let body = e.into_response().into_body().into_vec().await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": 9,
                "message": "User is already initialized (COMMAND-2M9sd)",
                "details": [{
                    "@type": onboard_contract::fault::ERROR_DETAIL_TYPE,
                    "id": "COMMAND-2M9sd",
                    "message": "User is already initialized"
                }]
            })
        );
    }

    #[test]
    fn throttled_answers_say_when() {
        let t = onboard_domain::Throttled {
            reason: onboard_domain::ThrottleReason::ResendCooldown,
            retry_after: std::time::Duration::from_millis(41_200),
        };
        let resp = ApiError::from(onboard_domain::usecases::ResendError::Throttled(t)).into_response();
        assert_eq!(resp.status().as_u16(), 429);
        assert_eq!(resp.headers().get("retry-after").unwrap(), "42");
    }
}
