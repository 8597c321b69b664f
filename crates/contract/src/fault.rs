//! The one table from domain errors to what every protocol answers: a gRPC
//! code, ZITADEL's error id and English text (onboard's own where ZITADEL
//! has none for the condition), and, through the code, the HTTP status and
//! Connect's code name.
//!
//! The wire forms all come from [`Fault::status`]: the JSON error body is
//! its JSON form, gRPC packs it into `grpc-status-details-bin`, Connect puts
//! its detail into its own error body.

use std::borrow::Cow;
use std::time::Duration;

use prost::Message;

use crate::pb::google::rpc;
use crate::pb::zitadel::v1::ErrorDetail;

pub mod ids;
mod table;

pub use table::{Invitation, creation, invitation, password_policy, v2_deletion, v2_listing};

/// The type URL under which every error's detail is packed.
pub const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/zitadel.v1.ErrorDetail";

/// gRPC's status codes, with their numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    /// The HTTP status grpc-gateway (and Connect) answer with for the code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidArgument | Self::FailedPrecondition | Self::OutOfRange => 400,
            Self::Unauthenticated => 401,
            Self::PermissionDenied => 403,
            Self::NotFound => 404,
            Self::AlreadyExists | Self::Aborted => 409,
            Self::ResourceExhausted => 429,
            Self::Cancelled => 499,
            Self::Unknown | Self::Internal | Self::DataLoss => 500,
            Self::Unimplemented => 501,
            Self::Unavailable => 503,
            Self::DeadlineExceeded => 504,
        }
    }

    /// Connect's name of the code (`not_found`, …).
    pub fn connect_name(self) -> &'static str {
        match self {
            Self::Cancelled => "canceled",
            Self::Unknown => "unknown",
            Self::InvalidArgument => "invalid_argument",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::PermissionDenied => "permission_denied",
            Self::ResourceExhausted => "resource_exhausted",
            Self::FailedPrecondition => "failed_precondition",
            Self::Aborted => "aborted",
            Self::OutOfRange => "out_of_range",
            Self::Unimplemented => "unimplemented",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::DataLoss => "data_loss",
            Self::Unauthenticated => "unauthenticated",
        }
    }

    /// The code of a gRPC status number; `None` for 0 (OK) and numbers
    /// gRPC does not define.
    pub fn from_number(n: i32) -> Option<Self> {
        Some(match n {
            1 => Self::Cancelled,
            2 => Self::Unknown,
            3 => Self::InvalidArgument,
            4 => Self::DeadlineExceeded,
            5 => Self::NotFound,
            6 => Self::AlreadyExists,
            7 => Self::PermissionDenied,
            8 => Self::ResourceExhausted,
            9 => Self::FailedPrecondition,
            10 => Self::Aborted,
            11 => Self::OutOfRange,
            12 => Self::Unimplemented,
            13 => Self::Internal,
            14 => Self::Unavailable,
            15 => Self::DataLoss,
            16 => Self::Unauthenticated,
            _ => return None,
        })
    }
}

/// An error answer, before any protocol has written it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: Code,
    /// ZITADEL's error id (`COMMAND-2M9df`), or onboard's (`ONBOARD-…`).
    pub id: &'static str,
    /// The English text, without the id.
    pub text: Cow<'static, str>,
    /// For throttled calls: how long until the call may succeed.
    pub retry_after: Option<Duration>,
}

impl Fault {
    pub fn new(code: Code, id: &'static str, text: impl Into<Cow<'static, str>>) -> Self {
        Self { code, id, text: text.into(), retry_after: None }
    }

    /// What ZITADEL puts into `message` and `grpc-message`: "<text> (<ID>)".
    pub fn message(&self) -> String {
        format!("{} ({})", self.text, self.id)
    }

    /// Whole seconds to wait, rounded up (so waiting them suffices), at least 1.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(|d| (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1))
    }

    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail { id: self.id.to_owned(), message: self.text.clone().into_owned() }
    }

    /// The `google.rpc.Status` every protocol's error answer is made of, the
    /// detail packed into it.
    pub fn status(&self) -> rpc::Status {
        rpc::Status {
            code: self.code as i32,
            message: self.message(),
            details: vec![prost_types::Any {
                type_url: ERROR_DETAIL_TYPE.to_owned(),
                value: self.detail().encode_to_vec(),
            }],
        }
    }

    /// A store or dependency failed: the reason stays in the log; clients
    /// learn only that they may retry.
    pub fn unavailable(reason: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%reason, "store unavailable");
        Self::new(Code::Unavailable, ids::UNAVAILABLE, "The service is temporarily unavailable; try again")
    }

    /// A request that is not a well-formed message (bad JSON, say).
    pub fn malformed(reason: impl std::fmt::Display) -> Self {
        Self::new(Code::InvalidArgument, ids::REQUEST_INVALID, format!("Invalid request: {reason}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_gateway_statuses() {
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
            assert_eq!(code.http_status(), status, "{code:?}");
            assert_eq!(Code::from_number(code as i32), Some(code));
        }
        assert_eq!(Code::from_number(0), None);
        assert_eq!(Code::from_number(17), None);
    }

    #[test]
    fn the_status_packs_the_detail() {
        let f = Fault::new(Code::NotFound, "QUERY-Dfbg2", "User could not be found");
        let s = f.status();
        assert_eq!((s.code, s.message.as_str()), (5, "User could not be found (QUERY-Dfbg2)"));
        assert_eq!(s.details[0].type_url, ERROR_DETAIL_TYPE);
        let d = ErrorDetail::decode(s.details[0].value.as_slice()).unwrap();
        assert_eq!((d.id.as_str(), d.message.as_str()), ("QUERY-Dfbg2", "User could not be found"));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let mut f = Fault::new(Code::ResourceExhausted, "X", "x");
        f.retry_after = Some(Duration::from_millis(41_200));
        assert_eq!(f.retry_after_secs(), Some(42));
        f.retry_after = Some(Duration::from_millis(3));
        assert_eq!(f.retry_after_secs(), Some(1));
    }
}
