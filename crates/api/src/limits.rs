//! Request body limit.

use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Largest request body accepted.
pub use onboard_contract::MAX_MESSAGE_BYTES as MAX_BODY_BYTES;

/// Refuses bodies over [`MAX_BODY_BYTES`] with 413: by their declared length
/// at once, and bodies of unknown length by reading at most that much.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let too_large = || poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES as u64 => return Err(too_large()),
        Some(_) => {}
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = req.take_body().into_bytes_limit(MAX_BODY_BYTES).await.map_err(|_| too_large())?;
            req.set_body(body);
        }
        None => {}
    }
    next.call(req).await.map(IntoResponse::into_response)
}
