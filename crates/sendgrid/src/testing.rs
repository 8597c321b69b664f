//! A SendGrid-compatible mail-send server on loopback, for tests: it checks
//! the path, the bearer key and the request's shape as SendGrid does,
//! records what it accepted, and answers from a script (202 by default).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Json};
use poem::{EndpointExt, IntoResponse, Request, Response, Route, handler, post};
use serde_json::{Value, json};

/// What the fake answers to the next accepted-looking call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 202 with an `X-Message-Id`.
    Accept,
    /// This status with a SendGrid-style error body.
    Status(u16),
    /// 429 with `Retry-After`.
    Throttle { retry_after_secs: u64 },
    /// Waits this long, then 202: for client timeouts.
    Stall(Duration),
}

/// One recipient's email as SendGrid would deliver it (substitutions applied).
#[derive(Debug, Clone)]
pub struct Delivered {
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub custom_args: Value,
    pub template_data: Value,
    /// The call's `from` (name and email) and `reply_to` email, if any.
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
}

#[derive(Default)]
struct State {
    key: String,
    script: Mutex<VecDeque<Reply>>,
    delivered: Mutex<Vec<Delivered>>,
    calls: AtomicUsize,
    accepted_calls: AtomicUsize,
    call_times: Mutex<Vec<std::time::Instant>>,
}

#[derive(Debug)]
pub struct FakeSendGrid {
    pub base_url: String,
    pub api_key: String,
    state: Arc<State>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").finish_non_exhaustive()
    }
}

impl Drop for FakeSendGrid {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn errors(status: StatusCode, message: &str) -> Response {
    let mut resp = Json(json!({"errors": [{"message": message, "field": null, "help": null}]})).into_response();
    resp.set_status(status);
    resp
}

/// SendGrid's checks of the parts onboard uses; `Err` is a 400 message.
fn check_shape(body: &Value) -> Result<(), String> {
    let ps = body["personalizations"].as_array().ok_or("personalizations is required")?;
    if ps.is_empty() || ps.len() > 1000 {
        return Err("personalizations must have 1 to 1000 items".into());
    }
    for p in ps {
        let to = p["to"].as_array().ok_or("personalizations.to is required")?;
        if to.is_empty() || to.iter().any(|t| t["email"].as_str().is_none_or(|e| !e.contains('@'))) {
            return Err("personalizations.to must hold valid email addresses".into());
        }
    }
    if body["from"]["email"].as_str().is_none_or(|e| !e.contains('@')) {
        return Err("from.email is required".into());
    }
    match body["template_id"].as_str() {
        Some(t) if !t.starts_with("d-") => return Err("template_id must name a dynamic template".into()),
        Some(_) => {}
        None => {
            if body["subject"].as_str().is_none_or(str::is_empty) {
                return Err("subject is required".into());
            }
            let content = body["content"].as_array().ok_or("content is required")?;
            let types: Vec<&str> = content.iter().filter_map(|c| c["type"].as_str()).collect();
            if types.first() != Some(&"text/plain") {
                return Err("text/plain must be the first content".into());
            }
        }
    }
    Ok(())
}

fn substitute(template: &str, subs: &Value) -> String {
    let mut out = template.to_owned();
    if let Some(map) = subs.as_object() {
        for (k, v) in map {
            out = out.replace(k.as_str(), v.as_str().unwrap_or_default());
        }
    }
    out
}

#[handler]
async fn mail_send(req: &Request, body: poem::Body, Data(state): Data<&Arc<State>>) -> Response {
    state.calls.fetch_add(1, Ordering::SeqCst);
    state.call_times.lock().unwrap().push(std::time::Instant::now());
    let bearer = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if bearer != format!("Bearer {}", state.key) {
        return errors(StatusCode::UNAUTHORIZED, "The provided authorization grant is invalid, expired, or revoked");
    }
    if !req.content_type().is_some_and(|c| c.starts_with("application/json")) {
        return errors(StatusCode::BAD_REQUEST, "Content-Type must be application/json");
    }
    let bytes = body.into_bytes().await.unwrap_or_default();
    let Ok(json) = serde_json::from_slice::<Value>(&bytes) else {
        return errors(StatusCode::BAD_REQUEST, "Bad Request: invalid JSON");
    };
    if let Err(message) = check_shape(&json) {
        return errors(StatusCode::BAD_REQUEST, &message);
    }
    let reply = state.script.lock().unwrap().pop_front().unwrap_or(Reply::Accept);
    match reply {
        Reply::Accept => {}
        Reply::Status(code) => {
            return errors(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "scripted failure");
        }
        Reply::Throttle { retry_after_secs } => {
            let mut resp = errors(StatusCode::TOO_MANY_REQUESTS, "too many requests");
            resp.headers_mut().insert("retry-after", retry_after_secs.into());
            return resp;
        }
        Reply::Stall(d) => tokio::time::sleep(d).await,
    }
    let n = state.accepted_calls.fetch_add(1, Ordering::SeqCst);
    let message_id = format!("fake-{n:06}");
    let content = |kind: &str| {
        json["content"]
            .as_array()
            .and_then(|c| c.iter().find(|p| p["type"] == kind))
            .and_then(|p| p["value"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let (text, html) = (content("text/plain"), content("text/html"));
    let mut delivered = state.delivered.lock().unwrap();
    for p in json["personalizations"].as_array().into_iter().flatten() {
        let subs = &p["substitutions"];
        for to in p["to"].as_array().into_iter().flatten() {
            delivered.push(Delivered {
                message_id: message_id.clone(),
                to: to["email"].as_str().unwrap_or_default().to_owned(),
                subject: substitute(p["subject"].as_str().or(json["subject"].as_str()).unwrap_or_default(), subs),
                text: substitute(&text, subs),
                html: substitute(&html, subs),
                custom_args: p["custom_args"].clone(),
                template_data: p["dynamic_template_data"].clone(),
                from_name: json["from"]["name"].as_str().unwrap_or_default().to_owned(),
                from_email: json["from"]["email"].as_str().unwrap_or_default().to_owned(),
                reply_to: json["reply_to"]["email"].as_str().map(str::to_owned),
            });
        }
    }
    let mut resp = StatusCode::ACCEPTED.into_response();
    resp.headers_mut().insert("x-message-id", message_id.parse().expect("ascii id"));
    resp
}

impl FakeSendGrid {
    /// Starts on 127.0.0.1, a free port, accepting the key `api_key`.
    pub async fn start(api_key: &str) -> Self {
        let state = Arc::new(State { key: api_key.to_owned(), ..State::default() });
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind");
        let addr = *acceptor.local_addr()[0].as_socket_addr().expect("socket address");
        let app = Route::new().at("/v3/mail/send", post(mail_send)).data(state.clone());
        let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        Self { base_url: format!("http://{addr}"), api_key: api_key.to_owned(), state, server }
    }

    /// Queues answers for the next calls (after that: 202).
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    /// Every email accepted so far, in order.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.state.delivered.lock().unwrap().clone()
    }

    /// Calls received, accepted or not.
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    /// When each call arrived.
    pub fn call_times(&self) -> Vec<std::time::Instant> {
        self.state.call_times.lock().unwrap().clone()
    }

    /// Calls answered 202.
    pub fn accepted_calls(&self) -> usize {
        self.state.accepted_calls.load(Ordering::SeqCst)
    }
}
