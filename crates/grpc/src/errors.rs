//! Use-case errors as gRPC statuses. The mapping itself is the HTTP side's
//! ([`ApiError`]), so both wires answer with the same code, id and text.

use onboard_api::MAX_BODY_BYTES;
use onboard_api::errors::{ApiError, Code as ApiCode, ids};
use poem::http::HeaderMap;
use prost::Message;
use tonic::{Code, Status};

use crate::pb::google::rpc;
use crate::pb::zitadel::v1::ErrorDetail;

/// `grpc-status` is the contract's code, `grpc-message` is "<text> (<ID>)",
/// and `grpc-status-details-bin` is a `google.rpc.Status` holding the
/// `zitadel.v1.ErrorDetail` packed in a `google.protobuf.Any`: the binary
/// twin of the JSON error body.
pub(crate) fn status(err: impl Into<ApiError>) -> Status {
    let err = err.into();
    let retry_after = err.retry_after;
    let body = err.body();
    let details = body
        .details
        .into_iter()
        .map(|d| prost_types::Any {
            type_url: d.type_url,
            value: ErrorDetail { id: d.id, message: d.message }.encode_to_vec(),
        })
        .collect();
    let packed = rpc::Status { code: body.code, message: body.message.clone(), details }.encode_to_vec();
    let mut status = Status::with_details(Code::from_i32(body.code), body.message, packed.into());
    // Throttled calls say when to retry, as the HTTP answer's Retry-After does.
    if let Some(secs) = retry_after {
        status.metadata_mut().insert("retry-after", secs.into());
    }
    status
}

/// tonic refuses a message over the decoding limit with OUT_OF_RANGE and a
/// text of its own; the HTTP side refuses an oversized body with
/// RESOURCE_EXHAUSTED and the contract's detail. Our use cases never answer
/// OUT_OF_RANGE, so an answer with that status in its headers (a
/// trailers-only answer, made before any handler ran) is that refusal and
/// is rewritten to the HTTP side's error.
pub(crate) fn align_message_too_large(headers: &mut HeaderMap) {
    if headers.get(Status::GRPC_STATUS).is_none_or(|v| v != (Code::OutOfRange as i32).to_string().as_str()) {
        return;
    }
    let too_large = ApiError::new(
        ApiCode::ResourceExhausted,
        ids::BODY_TOO_LARGE,
        format!("Request body is larger than {} KiB", MAX_BODY_BYTES / 1024),
    );
    headers.remove("grpc-status-details-bin");
    if let Err(e) = status(too_large).add_header(headers) {
        tracing::warn!(error = %e, "could not write the status headers");
    }
}

#[cfg(test)]
mod tests {
    use onboard_api::errors::ERROR_DETAIL_TYPE;
    use onboard_domain::ports::Unavailable;
    use onboard_domain::usecases::ResendError;

    use super::*;

    #[test]
    fn status_carries_code_message_and_packed_detail() {
        let s = status(ResendError::NotInitial);
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(s.message(), "User is already initialized (COMMAND-2M9sd)");
        let packed = rpc::Status::decode(s.details()).unwrap();
        assert_eq!(packed.code, 9);
        assert_eq!(packed.message, s.message());
        assert_eq!(packed.details.len(), 1);
        assert_eq!(packed.details[0].type_url, ERROR_DETAIL_TYPE);
        let detail = ErrorDetail::decode(packed.details[0].value.as_slice()).unwrap();
        assert_eq!(detail, ErrorDetail { id: "COMMAND-2M9sd".into(), message: "User is already initialized".into() });
    }

    #[test]
    fn throttled_calls_are_resource_exhausted_with_a_retry_after() {
        use onboard_domain::{ThrottleReason, Throttled};
        let t = Throttled { reason: ThrottleReason::ResendCooldown, retry_after: std::time::Duration::from_secs(30) };
        let s = status(ResendError::Throttled(t));
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert!(s.message().ends_with("(ONBOARD-THROTTLED-RESEND-COOLDOWN)"), "{}", s.message());
        assert_eq!(s.metadata().get("retry-after").unwrap(), "30");
    }

    #[test]
    fn store_failures_become_unavailable_without_their_reason() {
        let s = status(ResendError::Unavailable(Unavailable("db at 10.0.0.1 down".into())));
        assert_eq!(s.code(), Code::Unavailable);
        assert!(!s.message().contains("10.0.0.1"));
    }
}
