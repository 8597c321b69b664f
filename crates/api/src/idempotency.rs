//! `Idempotency-Key` on the calls that create users or send email: a retry
//! with the same key and body replays the first answer (status, headers,
//! body) instead of running again; the same key with another body is a
//! conflict. Keys belong to the caller who used them.

use onboard_domain::ports::StoredAnswer;
use onboard_domain::usecases::{IdempotencyStart, UserService};
use poem::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use sha2::{Digest, Sha256};

use crate::errors::{ApiError, Code, ids};

pub const HEADER: &str = "idempotency-key";
/// Set on replayed answers, so a client can tell a replay from a first answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The answer headers worth replaying; the rest (dates, lengths) are the
/// transport's and are made afresh.
fn kept_header(name: &HeaderName) -> bool {
    name == header::CONTENT_TYPE || name.as_str().starts_with("x-onboard-")
}

/// Create, import and resend: the calls that must not run twice.
fn is_idempotent_route(method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    let Some(rest) = path.strip_prefix("/management/v1/users/") else { return false };
    rest == "human"
        || rest == "human/_import"
        || rest.strip_suffix("/_resend_initialization").is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// What makes two requests the same: method, path, acting organization, body.
fn fingerprint(req: &Request, body: &[u8]) -> [u8; 32] {
    let org = req.headers().get("x-zitadel-orgid").map(HeaderValue::as_bytes).unwrap_or_default();
    let mut hash = Sha256::new();
    for part in [req.method().as_str().as_bytes(), req.uri().path().as_bytes(), org] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update(body);
    hash.finalize().into()
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

fn replay(answer: StoredAnswer) -> Response {
    let mut resp = Response::builder().status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK));
    for (name, value) in &answer.headers {
        resp = resp.header(name.as_str(), value.as_str());
    }
    resp.header(REPLAYED_HEADER, "true").body(answer.body)
}

/// The middleware. Requests without the header, on other routes, or whose
/// token is not valid (the handler answers those) pass straight through.
pub async fn idempotent<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let key = match req.headers().get(HEADER) {
        Some(key) if is_idempotent_route(req.method(), req.uri().path()) => key.clone(),
        _ => return next.call(req).await.map(IntoResponse::into_response),
    };
    let Some(users) = req.data::<UserService>().cloned() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let Ok(caller) = users.caller(bearer(&req)).await else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let Ok(key) = key.to_str() else {
        return Ok(ApiError::from(onboard_domain::usecases::IdempotencyError::InvalidKey).into_response());
    };
    let body = req.take_body().into_vec().await?;
    let print = fingerprint(&req, &body);
    let ticket = match users.begin_idempotent(&caller, key, print).await {
        Ok(IdempotencyStart::Proceed(ticket)) => ticket,
        Ok(IdempotencyStart::Replay(answer)) => return Ok(replay(answer)),
        Ok(IdempotencyStart::InFlight) => {
            let e = ApiError::new(
                Code::Aborted,
                ids::IDEMPOTENCY_IN_FLIGHT,
                "A request with this Idempotency-Key is still being processed; retry shortly",
            );
            return Ok(e.into_response());
        }
        Ok(IdempotencyStart::Mismatch) => {
            let e = ApiError::new(
                Code::AlreadyExists,
                ids::IDEMPOTENCY_KEY_REUSED,
                "Idempotency-Key was already used for a different request",
            );
            return Ok(e.into_response());
        }
        Err(e) => return Ok(ApiError::from(e).into_response()),
    };
    req.set_body(Body::from_vec(body));
    let resp = next.call(req).await.map(IntoResponse::into_response);
    let Some(ticket) = ticket else { return resp };
    // Only successes are kept: an error changed nothing, so running the
    // request again is as good as replaying it, and may succeed.
    let mut resp = match resp {
        Ok(resp) if resp.status().is_success() => resp,
        other => {
            users.finish_idempotent(ticket, None).await;
            return other;
        }
    };
    let body = resp.take_body().into_vec().await?;
    let headers = resp
        .headers()
        .iter()
        .filter(|(name, _)| kept_header(name))
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let answer = StoredAnswer { status: resp.status().as_u16(), headers, body };
    users.finish_idempotent(ticket, Some(&answer)).await;
    resp.set_body(answer.body);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_creates_and_resends_are_idempotent() {
        let post = Method::POST;
        assert!(is_idempotent_route(&post, "/management/v1/users/human"));
        assert!(is_idempotent_route(&post, "/management/v1/users/human/_import"));
        assert!(is_idempotent_route(&post, "/management/v1/users/123/_resend_initialization"));
        assert!(!is_idempotent_route(&Method::GET, "/management/v1/users/human"));
        assert!(!is_idempotent_route(&post, "/management/v1/users/123"));
        assert!(!is_idempotent_route(&post, "/management/v1/users//_resend_initialization"));
        assert!(!is_idempotent_route(&post, "/ui/login/user/init"));
    }
}
