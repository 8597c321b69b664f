//! Request body limit.

use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Largest request body accepted.
pub use onboard_contract::MAX_MESSAGE_BYTES as MAX_BODY_BYTES;

/// Largest body of the branding routes (`/admin/v1/orgs/{id}/branding…`):
/// a logo of up to 100 KiB, or email templates of up to 64 KiB each in
/// two languages, as JSON.
pub const MAX_BRANDING_BODY_BYTES: usize = 512 * 1024;

fn limit_of(path: &str) -> usize {
    let branding = path
        .strip_prefix(crate::admin::PREFIX)
        .and_then(|p| p.strip_prefix("/orgs/"))
        .is_some_and(|p| p.ends_with("/branding") || p.ends_with("/branding/logo"));
    if branding { MAX_BRANDING_BODY_BYTES } else { MAX_BODY_BYTES }
}

/// Refuses bodies over [`MAX_BODY_BYTES`] (the branding routes':
/// [`MAX_BRANDING_BODY_BYTES`]) with 413: by their declared length at once,
/// and bodies of unknown length by reading at most that much.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let limit = limit_of(req.uri().path());
    let too_large = || -> poem::Error {
        if limit == MAX_BODY_BYTES {
            return poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE);
        }
        crate::errors::ApiError::new(
            crate::errors::Code::ResourceExhausted,
            crate::errors::ids::BODY_TOO_LARGE,
            format!("Request body is larger than {} KiB", limit / 1024),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        .into()
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => return Err(too_large()),
        Some(_) => {}
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = req.take_body().into_bytes_limit(limit).await.map_err(|_| too_large())?;
            req.set_body(body);
        }
        None => {}
    }
    next.call(req).await.map(IntoResponse::into_response)
}
