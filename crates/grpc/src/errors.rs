//! Faults as gRPC statuses: `grpc-status` is the fault's code,
//! `grpc-message` is "<text> (<ID>)", and `grpc-status-details-bin` is the
//! fault's `google.rpc.Status` with the `zitadel.v1.ErrorDetail` packed in:
//! the binary twin of the JSON error body.

use onboard_contract::fault::{Code as FaultCode, ids};
use onboard_contract::{Fault, MAX_MESSAGE_BYTES};
use poem::http::HeaderMap;
use prost::Message;
use tonic::{Code, Status};

pub(crate) fn status(fault: impl Into<Fault>) -> Status {
    let fault = fault.into();
    let packed = fault.status().encode_to_vec();
    let mut status = Status::with_details(Code::from_i32(fault.code as i32), fault.message(), packed.into());
    // Throttled calls say when to retry, as the HTTP answer's Retry-After does.
    if let Some(secs) = fault.retry_after_secs() {
        status.metadata_mut().insert("retry-after", secs.into());
    }
    status
}

/// tonic refuses a message over the decoding limit with OUT_OF_RANGE and a
/// text of its own; the HTTP side refuses an oversized body with
/// RESOURCE_EXHAUSTED and the contract's detail. Our methods never answer
/// OUT_OF_RANGE, so an answer with that status in its headers (a
/// trailers-only answer, made before any handler ran) is that refusal and
/// is rewritten to the HTTP side's error.
pub(crate) fn align_message_too_large(headers: &mut HeaderMap) {
    if headers.get(Status::GRPC_STATUS).is_none_or(|v| v != (Code::OutOfRange as i32).to_string().as_str()) {
        return;
    }
    let too_large = Fault::new(
        FaultCode::ResourceExhausted,
        ids::BODY_TOO_LARGE,
        format!("Request body is larger than {} KiB", MAX_MESSAGE_BYTES / 1024),
    );
    headers.remove("grpc-status-details-bin");
    if let Err(e) = status(too_large).add_header(headers) {
        tracing::warn!(error = %e, "could not write the status headers");
    }
}

#[cfg(test)]
mod tests {
    use onboard_contract::fault::ERROR_DETAIL_TYPE;
    use onboard_contract::pb::google::rpc;
    use onboard_contract::pb::zitadel::v1::ErrorDetail;
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
}
