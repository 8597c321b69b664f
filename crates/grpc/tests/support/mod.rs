//! A real onboard server (HTTP/JSON with gRPC in front) on a free loopback
//! port, and clients that speak gRPC over HTTP/2 and gRPC-Web over HTTP/1.1
//! to it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use onboard_domain::usecases::{Administration, TokenAuthorizer, UserService};
use onboard_domain::{
    CodeIssuer, CodeSecret, Grant, GrantScope, InitCodeConfig, OrgId, PasswordPolicy, Principal, Role, SystemClock,
};
use onboard_grpc::pb::google::rpc;
use onboard_grpc::pb::zitadel::management::v1 as mgmt;
use onboard_grpc::pb::zitadel::v1::ErrorDetail;
use onboard_memory::{InMemoryDirectory, InMemoryStore};
use poem::listener::{Acceptor, Listener, TcpListener};
use prost::Message;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Every network step of a test is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/zitadel.v1.ErrorDetail";

/// The two wires a client can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// gRPC over HTTP/2 cleartext, with tonic's client.
    Grpc,
    /// gRPC-Web over HTTP/1.1, framed by hand.
    GrpcWeb,
}

pub const WIRES: [Wire; 2] = [Wire::Grpc, Wire::GrpcWeb];

/// Credentials of one call.
#[derive(Debug, Clone, Copy, Default)]
pub struct Auth<'a> {
    pub token: Option<&'a str>,
    pub org: Option<&'a str>,
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
    /// `grpc-status-details-bin` (empty when it was not sent).
    fn from_parts(code: i32, message: String, details: &[u8]) -> Self {
        if details.is_empty() {
            return Self { code, message, status: None, detail: None };
        }
        let status = rpc::Status::decode(details).expect("grpc-status-details-bin holds a google.rpc.Status");
        let any = status.details.first().expect("one detail");
        let detail = ErrorDetail::decode(any.value.as_slice()).expect("the detail is a zitadel.v1.ErrorDetail");
        Self { code, message, status: Some(status), detail: Some(detail) }
    }
}

/// The running server and what tests need to talk to it.
pub struct TestServer {
    pub addr: SocketAddr,
    /// An IAM_OWNER token of [`Self::org`].
    pub token: String,
    pub org: String,
    /// Organizations and tokens, in the embedded directory the server checks.
    pub administration: Administration,
    pub http: reqwest::Client,
    channel: Channel,
    server: JoinHandle<std::io::Result<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestServer {
    /// Builds the use cases over the embedded store, as the server crate
    /// does, and serves `with_grpc(users, onboard_api::app(users))` on
    /// 127.0.0.1, port 0.
    pub async fn spawn() -> Self {
        let store = Arc::new(InMemoryStore::new());
        let directory = Arc::new(InMemoryDirectory::new());
        let administration = Administration::new(directory.clone(), Arc::new(SystemClock));
        let first = administration.first_start().await.expect("first start").expect("a new directory");
        let (org, token) = (first.org, first.admin_token);
        let authorizer = Arc::new(TokenAuthorizer::new(directory, Arc::new(SystemClock)));
        let codes = CodeIssuer::new(CodeSecret::new(vec![7; 32]).unwrap(), InitCodeConfig::default());
        let users =
            UserService::new(store.clone(), store, authorizer, Arc::new(SystemClock), codes, PasswordPolicy::default());
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind");
        let addr = *acceptor.local_addr()[0].as_socket_addr().expect("a socket address");
        let app = onboard_grpc::with_grpc(users.clone(), onboard_api::app(users));
        let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .connect_lazy();
        let http = reqwest::Client::builder().timeout(TIMEOUT).build().unwrap();
        Self { addr, token, org: org.to_string(), administration, http, channel, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An HTTP/2 channel to the server, for tonic's clients.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The admin's credentials.
    pub fn admin(&self) -> Auth<'_> {
        Auth { token: Some(&self.token), org: None }
    }

    pub async fn create_org(&self) -> String {
        self.administration
            .create_organization(&Principal::local_operator(), "Other")
            .await
            .expect("organization")
            .to_string()
    }

    pub async fn revoke(&self, token: &str) {
        assert!(self.administration.revoke_token(&Principal::local_operator(), token).await.expect("revoked"));
    }

    /// A token for a principal of `home_org` holding `role` in `home_org`
    /// (or instance-wide for IAM roles).
    pub async fn token_with(&self, home_org: &str, role: Role) -> String {
        let home = OrgId::parse(home_org).unwrap();
        let scope = if role.is_instance_role() { GrantScope::Instance } else { GrantScope::Organization(home.clone()) };
        self.administration
            .issue_token(&Principal::local_operator(), "tester", &home, vec![Grant { scope, role }], None)
            .await
            .expect("token")
    }

    /// One unary call of `method` over `wire`.
    pub async fn call<Req, Resp>(&self, wire: Wire, method: &str, req: Req, auth: Auth<'_>) -> Result<Resp, Failure>
    where
        Req: Message + Send + Sync + 'static,
        Resp: Message + Default + Send + Sync + 'static,
    {
        let call = async {
            match wire {
                Wire::Grpc => self.grpc_call(method, req, auth).await,
                Wire::GrpcWeb => self.grpc_web_call(method, req, auth).await,
            }
        };
        tokio::time::timeout(TIMEOUT, call).await.expect("the call answers in time")
    }

    async fn grpc_call<Req, Resp>(&self, method: &str, req: Req, auth: Auth<'_>) -> Result<Resp, Failure>
    where
        Req: Message + Send + Sync + 'static,
        Resp: Message + Default + Send + Sync + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel());
        grpc.ready().await.expect("channel ready");
        let path = format!("/zitadel.management.v1.ManagementService/{method}").parse().unwrap();
        let codec: tonic::codec::ProstCodec<Req, Resp> = tonic::codec::ProstCodec::default();
        grpc.unary(with_auth(tonic::Request::new(req), auth), path, codec)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| Failure::from_parts(s.code() as i32, s.message().to_owned(), s.details()))
    }

    /// gRPC-Web by hand: a length-prefixed message in, data frames and a
    /// trailer frame (or a trailers-only answer in the headers) out.
    async fn grpc_web_call<Req, Resp>(&self, method: &str, req: Req, auth: Auth<'_>) -> Result<Resp, Failure>
    where
        Req: Message,
        Resp: Message + Default,
    {
        let path = format!("/zitadel.management.v1.ManagementService/{method}");
        let resp = self.grpc_web_request(&path, &req.encode_to_vec(), auth, None).await;
        let answer = GrpcWebAnswer::read(resp).await;
        match answer.status() {
            0 => Ok(Resp::decode(answer.message().expect("one message")).expect("a valid response")),
            code => Err(answer.failure(code)),
        }
    }

    /// Sends one gRPC-Web request over HTTP/1.1 and returns the raw response.
    pub async fn grpc_web_request(
        &self,
        path: &str,
        message: &[u8],
        auth: Auth<'_>,
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut body = vec![0u8];
        body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
        body.extend_from_slice(message);
        let mut req = self
            .http
            .post(self.url(path))
            .version(reqwest::Version::HTTP_11)
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(body);
        if let Some(t) = auth.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(o) = auth.org {
            req = req.header("x-zitadel-orgid", o);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.expect("gRPC-Web request sent");
        assert_eq!(resp.version(), reqwest::Version::HTTP_11);
        resp
    }

    /// A JSON call to the HTTP side; returns the status and the body.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        auth: Auth<'_>,
    ) -> (u16, serde_json::Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = auth.token {
            req = req.bearer_auth(t);
        }
        if let Some(o) = auth.org {
            req = req.header("x-zitadel-orgid", o);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.expect("JSON request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    /// Creates an Initial user named `name` in the acting organization of `auth`; returns its id.
    pub async fn add_user(&self, wire: Wire, name: &str, auth: Auth<'_>) -> String {
        let resp: mgmt::AddHumanUserResponse =
            self.call(wire, "AddHumanUser", new_user(name), auth).await.expect("user created");
        resp.user_id
    }
}

fn with_auth<T>(mut req: tonic::Request<T>, auth: Auth<'_>) -> tonic::Request<T> {
    if let Some(t) = auth.token {
        req.metadata_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    if let Some(o) = auth.org {
        req.metadata_mut().insert("x-zitadel-orgid", o.parse().unwrap());
    }
    req
}

/// A valid AddHumanUser request for `name`: no password, so the user is Initial.
pub fn new_user(name: &str) -> mgmt::AddHumanUserRequest {
    mgmt::AddHumanUserRequest {
        user_name: name.into(),
        profile: Some(mgmt::add_human_user_request::Profile {
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            ..Default::default()
        }),
        email: Some(mgmt::add_human_user_request::Email {
            email: format!("{name}@example.com"),
            is_email_verified: false,
        }),
        ..Default::default()
    }
}

/// A gRPC-Web answer taken apart.
#[derive(Debug)]
pub struct GrpcWebAnswer {
    pub http_status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The payloads of the data frames.
    pub messages: Vec<Vec<u8>>,
    /// The trailer frame's fields (lower-case names), if there was one.
    pub trailers: Vec<(String, String)>,
}

impl GrpcWebAnswer {
    pub async fn read(resp: reqwest::Response) -> Self {
        let http_status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("body");
        let (mut messages, mut trailers, mut rest) = (Vec::new(), Vec::new(), &body[..]);
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

    pub fn failure(&self, code: i32) -> Failure {
        let message = self.field("grpc-message").unwrap_or_default();
        let message = percent_encoding::percent_decode_str(&message).decode_utf8().unwrap().into_owned();
        let details = self.field("grpc-status-details-bin").unwrap_or_default();
        let lenient = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        Failure::from_parts(code, message, &lenient.decode(details).expect("base64"))
    }
}
