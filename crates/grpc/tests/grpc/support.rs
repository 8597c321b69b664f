//! A real onboard server (HTTP/JSON with gRPC in front) on a free loopback
//! port, and clients that speak gRPC over HTTP/2 and gRPC-Web over HTTP/1.1
//! to it; the gRPC-Web framing is `onboard_grpc::testing`'s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use onboard_domain::usecases::{Administration, TokenAuthorizer, UserService};
use onboard_domain::{
    CodeIssuer, CodeSecret, Grant, GrantScope, InitCodeConfig, OrgId, PasswordPolicy, Principal, Role, SystemClock,
};
use onboard_grpc::pb::zitadel::management::v1 as mgmt;
use onboard_grpc::testing::{CONTENT_TYPE, frame};
pub use onboard_grpc::testing::{Failure, GrpcWebAnswer};
use onboard_memory::{InMemoryDirectory, InMemoryStore};
use poem::listener::{Acceptor, Listener, TcpListener};
use prost::Message;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Every network step of a test is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

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
        let users = UserService::new(
            store.clone(),
            store.clone(),
            authorizer,
            Arc::new(SystemClock),
            codes,
            PasswordPolicy::default(),
        )
        .with_index(store);
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
        let answer = read_answer(resp).await;
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
        let mut req = self
            .http
            .post(self.url(path))
            .version(reqwest::Version::HTTP_11)
            .header("content-type", CONTENT_TYPE)
            .header("x-grpc-web", "1")
            .body(frame(message));
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

/// The answer to a gRPC-Web request, taken apart.
pub async fn read_answer(resp: reqwest::Response) -> GrpcWebAnswer {
    let (http_status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let body = resp.bytes().await.expect("body");
    GrpcWebAnswer::parse(http_status, headers, &body)
}
