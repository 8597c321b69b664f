//! CORS for gRPC-Web and Connect calls from browsers.
//!
//! Credentials travel in the `authorization` metadata, never in cookies, so
//! any origin may call: the browser adds nothing the page could not send
//! itself. Preflights are answered here; answers to calls that came with an
//! `Origin` get the headers a gRPC-Web client must be able to read.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Request, Response};

/// What gRPC-Web and Connect clients send besides the simple headers.
const ALLOW_HEADERS: &str = "authorization, content-type, grpc-timeout, x-grpc-web, x-user-agent, x-zitadel-orgid, \
     connect-protocol-version, connect-timeout-ms, idempotency-key";
/// The status headers a gRPC-Web client reads from trailers-only answers.
const EXPOSE_HEADERS: &str = "grpc-status, grpc-message, grpc-status-details-bin";
const MAX_AGE_SECONDS: &str = "86400";

/// A browser's preflight for a call to `path_prefix`.
pub(crate) fn is_preflight(req: &Request, path_prefix: &str) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        && req.uri().path().starts_with(path_prefix)
}

/// The answer to a preflight: gRPC-Web calls are POSTs.
pub(crate) fn preflight(req: &Request) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned().unwrap_or(HeaderValue::from_static("*"));
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS")
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
        .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS)
        .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS)
        .header(header::VARY, "Origin")
        .finish()
}

/// Lets the page at `origin` read the answer.
pub(crate) fn allow(origin: HeaderValue, resp: &mut Response) {
    let headers = resp.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}
