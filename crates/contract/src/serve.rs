//! Serving one method, whatever the protocol: authorize the call, honour its
//! idempotency key, run the method, and hand back its answer. Each method
//! says once, in its [`Method`], what it needs (permission, idempotency).

use onboard_domain::usecases::{IdempotencyStart, UserService};
use onboard_domain::{Acting, NotificationId, Permission};
use prost_reflect::ReflectMessage;
use sha2::{Digest, Sha256};

use crate::call::{Call, IdempotencyKeyValue, keys};
use crate::fault::{Code, Fault, ids};
use crate::json;

/// One method of a service, as every protocol serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    /// The full service name (`zitadel.management.v1.ManagementService`).
    pub service: &'static str,
    /// The method's name (`AddHumanUser`).
    pub name: &'static str,
    pub permission: Permission,
    /// Whether an idempotency key makes a retry replay the first answer: the
    /// methods that create users or send email.
    pub idempotent: bool,
    /// The HTTP status of a success on the REST mapping.
    pub http_status: u16,
}

impl Method {
    /// The gRPC path: `/zitadel.management.v1.ManagementService/AddHumanUser`.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.service, self.name)
    }
}

/// What a method's use case produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    pub message: T,
    /// The email the call made due, if any.
    pub notification: Option<NotificationId>,
    /// What a replay for an idempotency key answers instead of `message`,
    /// when `message` holds a secret that must not be kept (a returned code).
    pub replay: Option<T>,
}

impl<T> Outcome<T> {
    pub fn new(message: T) -> Self {
        Self { message, notification: None, replay: None }
    }

    pub fn with_notification(message: T, notification: Option<NotificationId>) -> Self {
        Self { message, notification, replay: None }
    }

    /// Replays answer `replay` rather than the message.
    pub fn replayed_as(mut self, replay: T) -> Self {
        self.replay = Some(replay);
        self
    }
}

/// A method's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    pub message: T,
    pub notification: Option<NotificationId>,
    /// Replayed for an idempotency key rather than run again.
    pub replayed: bool,
}

/// What makes two requests with one key the same: the method, the
/// organization acted in and the request message (in its canonical binary
/// form, so JSON spelled differently, or the same call over gRPC, is the
/// same request).
fn fingerprint(method: &Method, acting: &Acting, request: &impl prost::Message) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [method.service.as_bytes(), method.name.as_bytes(), acting.org.as_str().as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update(request.encode_to_vec());
    hash.finalize().into()
}

/// The stored form of an answer: what the JSON side answers, so a replay over
/// HTTP is byte for byte the first answer, and a replay over gRPC decodes it.
fn stored<T: ReflectMessage>(method: &Method, outcome: &Outcome<T>) -> onboard_domain::ports::StoredAnswer {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(n) = &outcome.notification {
        headers.push((keys::NOTIFICATION_ID.to_owned(), n.to_string()));
    }
    let kept = outcome.replay.as_ref().unwrap_or(&outcome.message);
    onboard_domain::ports::StoredAnswer { status: method.http_status, headers, body: json::to_vec(kept) }
}

fn replayed<T: ReflectMessage + Default>(answer: onboard_domain::ports::StoredAnswer) -> Result<Answer<T>, Fault> {
    let message = json::parse::<T>(&answer.body).map_err(|e| {
        tracing::error!(error = %e, "a stored answer does not decode");
        Fault::new(Code::Internal, ids::INTERNAL, "Internal error")
    })?;
    let notification = answer
        .headers
        .iter()
        .find(|(name, _)| name == keys::NOTIFICATION_ID)
        .and_then(|(_, value)| NotificationId::parse(value).ok());
    Ok(Answer { message, notification, replayed: true })
}

/// A key whose first request is still running.
pub fn key_in_flight() -> Fault {
    Fault::new(
        Code::Aborted,
        ids::IDEMPOTENCY_IN_FLIGHT,
        "A request with this Idempotency-Key is still being processed; retry shortly",
    )
}

/// A key that came with another request before.
pub fn key_reused() -> Fault {
    Fault::new(
        Code::AlreadyExists,
        ids::IDEMPOTENCY_KEY_REUSED,
        "Idempotency-Key was already used for a different request",
    )
}

/// Serves `method` for `call`: authorizes it, replays the first answer for a
/// known idempotency key, else runs `run` as the acting caller (keeping its
/// answer for the key, if one was sent).
pub async fn serve<Req, Resp, F, Fut>(
    users: &UserService,
    call: &Call,
    method: &Method,
    request: Req,
    run: F,
) -> Result<Answer<Resp>, Fault>
where
    Req: prost::Message,
    Resp: ReflectMessage + Default,
    F: FnOnce(Acting, Req) -> Fut,
    Fut: std::future::Future<Output = Result<Outcome<Resp>, Fault>>,
{
    let token = call.credentials.token()?;
    let acting = users.authorize(Some(token), call.org.as_deref(), method.permission).await?;
    let key = match (&call.idempotency_key, method.idempotent) {
        (Some(key), true) => Some(key),
        _ => None,
    };
    let Some(key) = key else {
        let outcome = run(acting, request).await?;
        return Ok(Answer { message: outcome.message, notification: outcome.notification, replayed: false });
    };
    let IdempotencyKeyValue::Text(key) = key else {
        return Err(onboard_domain::usecases::IdempotencyError::InvalidKey.into());
    };
    let print = fingerprint(method, &acting, &request);
    let ticket = match users.begin_idempotent(&acting.principal, key, print).await? {
        IdempotencyStart::Proceed(ticket) => ticket,
        IdempotencyStart::Replay(answer) => return replayed(answer),
        IdempotencyStart::InFlight => return Err(key_in_flight()),
        IdempotencyStart::Mismatch => return Err(key_reused()),
    };
    let result = run(acting, request).await;
    if let Some(ticket) = ticket {
        // Only successes are kept: an error changed nothing, so running the
        // request again is as good as replaying it, and may succeed.
        let answer = result.as_ref().ok().map(|outcome| stored(method, outcome));
        users.finish_idempotent(ticket, answer.as_ref()).await;
    }
    let outcome = result?;
    Ok(Answer { message: outcome.message, notification: outcome.notification, replayed: false })
}
