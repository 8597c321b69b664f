//! gRPC-Web framed by hand, for tests: a request's length-prefixed message,
//! and an answer taken apart into its data frames and its status (from the
//! trailer frame or, for a trailers-only answer, the headers), with the
//! contract's error detail decoded. Behind the `testing` feature, for this
//! crate's tests and the end-to-end scenarios alike. The HTTP client is the
//! caller's: this only turns bytes into frames and back.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use poem::http::HeaderMap;
use prost::Message;

use crate::pb::google::rpc;
use crate::pb::zitadel::v1::ErrorDetail;

/// The content type of a gRPC-Web request with a binary protobuf message.
pub const CONTENT_TYPE: &str = "application/grpc-web+proto";

/// The type URL of the one detail in the contract's `google.rpc.Status`.
pub const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/zitadel.v1.ErrorDetail";

/// A request body: `message` in one uncompressed data frame.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    body.extend_from_slice(message);
    body
}

/// A failed call: its status and what `grpc-status-details-bin` held, if
/// it was sent.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: i32,
    pub message: String,
    pub status: Option<rpc::Status>,
    pub detail: Option<ErrorDetail>,
}

impl Failure {
    /// Asserts the contract's error shape: code, "<text> (<ID>)", and the
    /// same code, message and detail inside the packed `google.rpc.Status`.
    #[track_caller]
    pub fn assert(&self, code: i32, id: &str) {
        let (status, detail) = (self.status.as_ref().expect("details"), self.detail.as_ref().expect("a detail"));
        assert_eq!(self.code, code, "{self:?}");
        assert_eq!(detail.id, id, "{self:?}");
        assert_eq!(self.message, format!("{} ({id})", detail.message), "{self:?}");
        assert_eq!(status.code, code, "{self:?}");
        assert_eq!(status.message, self.message, "{self:?}");
        assert_eq!(status.details.len(), 1, "{self:?}");
        assert_eq!(status.details[0].type_url, ERROR_DETAIL_TYPE, "{self:?}");
    }

    /// From `grpc-status`, `grpc-message` (percent-decoded) and the decoded
    /// `grpc-status-details-bin` (empty when it was not sent); over either
    /// wire, as tonic's client hands them over too.
    pub fn from_parts(code: i32, message: String, details: &[u8]) -> Self {
        if details.is_empty() {
            return Self { code, message, status: None, detail: None };
        }
        let status = rpc::Status::decode(details).expect("grpc-status-details-bin holds a google.rpc.Status");
        let any = status.details.first().expect("one detail");
        let detail = ErrorDetail::decode(any.value.as_slice()).expect("the detail is a zitadel.v1.ErrorDetail");
        Self { code, message, status: Some(status), detail: Some(detail) }
    }
}

/// A gRPC-Web answer taken apart.
#[derive(Debug)]
pub struct GrpcWebAnswer {
    pub http_status: u16,
    pub headers: HeaderMap,
    /// The payloads of the data frames.
    pub messages: Vec<Vec<u8>>,
    /// The trailer frame's fields (lower-case names), if there was one.
    pub trailers: Vec<(String, String)>,
}

impl GrpcWebAnswer {
    /// Splits `body` into frames; a truncated or compressed frame fails the test.
    pub fn parse(http_status: u16, headers: HeaderMap, body: &[u8]) -> Self {
        let (mut messages, mut trailers, mut rest) = (Vec::new(), Vec::new(), body);
        while !rest.is_empty() {
            assert!(rest.len() >= 5, "truncated frame header");
            let flags = rest[0];
            let len = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
            let payload = &rest[5..5 + len];
            if flags & 0x80 != 0 {
                let text = std::str::from_utf8(payload).expect("trailers are text");
                for line in text.split("\r\n").filter(|l| !l.is_empty()) {
                    let (name, value) = line.split_once(':').expect("name: value");
                    trailers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
            } else {
                assert_eq!(flags, 0, "uncompressed data frame");
                messages.push(payload.to_vec());
            }
            rest = &rest[5 + len..];
        }
        Self { http_status, headers, messages, trailers }
    }

    /// A status field, from the trailer frame or, for a trailers-only answer, the headers.
    pub fn field(&self, name: &str) -> Option<String> {
        self.trailers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| self.headers.get(name).map(|v| v.to_str().unwrap().to_owned()))
    }

    pub fn status(&self) -> i32 {
        assert_eq!(self.http_status, 200, "gRPC-Web answers carry their status in grpc-status");
        self.field("grpc-status").expect("grpc-status").parse().expect("a number")
    }

    pub fn message(&self) -> Option<&[u8]> {
        assert!(self.messages.len() <= 1, "a unary call answers with at most one message");
        self.messages.first().map(Vec::as_slice)
    }

    /// `grpc-status-details-bin` decoded (base64, padded or not), empty when absent.
    pub fn status_details(&self) -> Vec<u8> {
        let details = self.field("grpc-status-details-bin").unwrap_or_default();
        let lenient = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        lenient.decode(details).expect("base64")
    }

    pub fn failure(&self, code: i32) -> Failure {
        let message = self.field("grpc-message").unwrap_or_default();
        let message = percent_encoding::percent_decode_str(&message).decode_utf8().unwrap().into_owned();
        Failure::from_parts(code, message, &self.status_details())
    }
}
