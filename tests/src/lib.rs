//! The harness of the end-to-end scenarios: a real onboard server on a free
//! loopback port with its own data folder, and helpers that speak HTTP to it
//! and read the emails it writes.

pub mod sdk;

use std::path::PathBuf;
use std::time::Duration;

use onboard_domain::{Grant, GrantScope, OrgId, Principal, Role};
use onboard_server::{Config, Running};
use reqwest::StatusCode;
use serde_json::Value;

/// A running server and what a test needs to talk to it.
#[derive(Debug)]
pub struct TestApp {
    pub base: String,
    /// An IAM_OWNER token (the one written to admin.pat).
    pub token: String,
    pub org: String,
    pub client: reqwest::Client,
    pub mail_dir: PathBuf,
    config: Config,
    running: Option<Running>,
    /// The runtime of a killable server (see [`TestApp::spawn_killable_with`]).
    runtime: Option<OwnRuntime>,
    _data: std::sync::Arc<tempfile::TempDir>,
}

/// A runtime of the server's own, so it can die as a killed process does.
/// Shut down in the background: a runtime cannot be dropped inside another.
#[derive(Debug)]
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// One email as the embedded mailer wrote it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The file's name: it starts with the time of writing, so names sort by time.
    pub file: String,
    pub notification_id: String,
    pub to: String,
    /// The From name and address.
    pub from: (String, String),
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub link: String,
    pub code: String,
}

/// The response of a JSON call.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// Asserts an error in the contract's shape and returns its id.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: i64, id: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert_eq!(self.body["details"][0]["id"], id, "{}", self.body);
        assert_eq!(self.body["details"][0]["@type"], "type.googleapis.com/zitadel.v1.ErrorDetail");
        let text = self.body["details"][0]["message"].as_str().unwrap();
        assert_eq!(self.body["message"], format!("{text} ({id})"), "{}", self.body);
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server with the defaults (throttles off), changed by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let data = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = Config::for_data_dir(data.path());
        // Scenarios resend in bursts on purpose; the throttle scenarios turn
        // the limits back on.
        config.throttle = onboard_domain::ThrottleConfig::OFF;
        adjust(&mut config);
        Self::start(config, data).await
    }

    /// A second server process on the same store (Redis), with its own data folder.
    pub async fn spawn_peer(&self) -> Self {
        let data = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = self.config.clone();
        config.data_dir = data.path().to_owned();
        config.node_name = format!("{}-peer", config.node_name);
        let mut peer = Self::start(config, data).await;
        peer.token = self.token.clone();
        peer.org = self.org.clone();
        peer
    }

    /// Like [`Self::spawn_with`], on a runtime of its own, so that
    /// [`Self::kill`] can stop it as SIGKILL stops a process.
    pub async fn spawn_killable_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let data = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = Config::for_data_dir(data.path());
        config.throttle = onboard_domain::ThrottleConfig::OFF;
        adjust(&mut config);
        Self::start_killable(config, data).await
    }

    /// Like [`Self::spawn_peer`], on a runtime of its own (see [`Self::kill`]).
    pub async fn spawn_killable_peer(&self, name: &str) -> Self {
        let data = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = self.config.clone();
        config.data_dir = data.path().to_owned();
        config.node_name = name.to_owned();
        let mut peer = Self::start_killable(config, data).await;
        peer.token = self.token.clone();
        peer.org = self.org.clone();
        peer
    }

    async fn start_killable(config: Config, data: std::sync::Arc<tempfile::TempDir>) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
        let started = runtime.spawn(onboard_server::start(config.clone()));
        let running = started.await.expect("start ran").expect("server starts");
        let mut app = Self::started(config, data, running);
        app.runtime = Some(OwnRuntime(Some(runtime)));
        app
    }

    /// The server's node name (the holder of the leases it takes).
    pub fn node_name(&self) -> &str {
        &self.config.node_name
    }

    /// Stops a killable server at once, as SIGKILL would: every task ends
    /// where it is (a request in flight included) and nothing is cleaned up;
    /// what it held in the store stays until its lease runs out.
    pub fn kill(mut self) {
        let runtime = self.runtime.take().expect("a server started with spawn_killable_with or spawn_killable_peer");
        drop(runtime);
        drop(self.running.take());
    }

    async fn start(config: Config, data: std::sync::Arc<tempfile::TempDir>) -> Self {
        let running = onboard_server::start(config.clone()).await.expect("server starts");
        Self::started(config, data, running)
    }

    fn started(config: Config, data: std::sync::Arc<tempfile::TempDir>, running: Running) -> Self {
        let base = format!("http://{}", running.addr);
        // Only the store's first start writes a token; peers take it from their origin.
        let token = std::fs::read_to_string(data.path().join(onboard_server::ADMIN_PAT_FILE))
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        Self {
            base,
            token,
            org: running.default_org.as_ref().map(ToString::to_string).unwrap_or_default(),
            client: reqwest::Client::new(),
            mail_dir: data.path().join("mail"),
            config,
            running: Some(running),
            runtime: None,
            _data: data,
        }
    }

    /// Stops the server and starts it again on the same store and folder.
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
        let again = Self::start(self.config.clone(), self._data.clone()).await;
        self.base = again.base.clone();
        let mut again = again;
        self.running = again.running.take();
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new organization.
    pub async fn create_org(&self, name: &str) -> String {
        let admin = &self.running.as_ref().unwrap().admin;
        admin.create_organization(&Principal::local_operator(), name).await.expect("organization").to_string()
    }

    /// A token for a principal of `home_org` holding `role` in `scope_org`
    /// (or instance-wide for IAM roles).
    pub async fn token_with(&self, home_org: &str, role: Role, scope_org: &str) -> String {
        let scope = if role.is_instance_role() {
            GrantScope::Instance
        } else {
            GrantScope::Organization(OrgId::parse(scope_org).unwrap())
        };
        let admin = &self.running.as_ref().unwrap().admin;
        admin
            .issue_token(
                &Principal::local_operator(),
                "tester",
                &OrgId::parse(home_org).unwrap(),
                vec![Grant { scope, role }],
                None,
            )
            .await
            .expect("token")
    }

    /// Administration of the server's store: tokens with any grants and expiry, say.
    pub fn admin(&self) -> &onboard_domain::usecases::Administration {
        &self.running.as_ref().unwrap().admin
    }

    pub async fn revoke(&self, token: &str) {
        let admin = &self.running.as_ref().unwrap().admin;
        assert!(admin.revoke_token(&Principal::local_operator(), token).await.expect("revoked"));
    }

    /// Sends `body` as JSON with the admin token.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(&self.token), None, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(&self.token), None, None).await
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        org: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(o) = org {
            req = req.header("x-zitadel-orgid", o);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        Self::reply(resp).await
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, body }
    }

    /// Creates an Initial user and returns its id.
    pub async fn create_user(&self, user_name: &str, email: &str) -> String {
        let r = self
            .post(
                "/management/v1/users/human",
                serde_json::json!({
                    "userName": user_name,
                    "profile": {"firstName": "Test", "lastName": "User"},
                    "email": {"email": email},
                }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["userId"].as_str().unwrap().to_owned()
    }

    /// Waits (up to 10 s) until the user's sequence is `sequence`: the
    /// dispatcher records "code sent" just after it writes the email.
    pub async fn wait_for_sequence(&self, user_id: &str, sequence: u64) {
        let want = sequence.to_string();
        for _ in 0..200 {
            let got = self.get(&format!("/management/v1/users/{user_id}")).await;
            if got.body["user"]["details"]["sequence"] == want.as_str() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("user {user_id} never reached sequence {sequence}");
    }

    /// The user's notifications as the API lists them.
    pub async fn notifications(&self, user_id: &str) -> Vec<Value> {
        let r = self.get(&format!("/management/v1/users/{user_id}/notifications")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["result"].as_array().cloned().unwrap_or_default()
    }

    /// Waits (up to 15 s) until `check` holds for the user's notifications.
    pub async fn wait_for_notifications(&self, user_id: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..300 {
            let list = self.notifications(user_id).await;
            if check(&list) {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("notifications of {user_id} never got there: {:?}", self.notifications(user_id).await);
    }

    /// All emails written so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        let Ok(dir) = std::fs::read_dir(&self.mail_dir) else { return Vec::new() };
        let mut files: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| {
                let mut mail = parse_mail(&std::fs::read(f).expect("read eml"));
                mail.file = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
                mail
            })
            .collect()
    }

    /// Waits (up to 10 s) until `count` emails were written to `to`, and returns them.
    pub async fn wait_for_mails(&self, to: &str, count: usize) -> Vec<Mail> {
        for _ in 0..200 {
            let mails: Vec<Mail> = self.mails().into_iter().filter(|m| m.to == to).collect();
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {count} emails to {to}: {:?}", self.mails());
    }
}

fn parse_mail(raw: &[u8]) -> Mail {
    let m = mail_parser::MessageParser::default().parse(raw).expect("a parseable email");
    let text = m.body_text(0).expect("text part").into_owned();
    let html = m.body_html(0).expect("html part").into_owned();
    // onboard's own link, or else the first link (an integrator's, from a v2 link template).
    let link = text
        .lines()
        .find(|l| l.contains("/ui/login/user/init?"))
        .or_else(|| text.lines().find(|l| l.trim_start().starts_with("http")))
        .expect("a link")
        .trim()
        .to_owned();
    // The code as the text states it (every template states it), which a template's link may not hold.
    let code = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Your initialization code:")
                .or_else(|| l.trim().strip_prefix("Ihr Initialisierungscode:"))
        })
        .map(|c| c.trim().to_owned())
        .or_else(|| link.split("code=").nth(1).and_then(|r| r.split('&').next()).map(str::to_owned))
        .expect("a code in the email");
    Mail {
        file: String::new(),
        notification_id: m
            .header("X-Onboard-Notification-Id")
            .and_then(|h| h.as_text())
            .unwrap_or_default()
            .trim()
            .to_owned(),
        to: m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        from: m
            .from()
            .and_then(|a| a.first())
            .map(|a| (a.name().unwrap_or_default().to_owned(), a.address().unwrap_or_default().to_owned()))
            .unwrap_or_default(),
        reply_to: m.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned),
        subject: m.subject().unwrap_or_default().to_owned(),
        text,
        html,
        link,
        code,
    }
}

/// A loopback port nothing listens on now, for a peer a test starts itself.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Settings that put a server on the given Redis.
pub fn on_redis(target: onboard_redis::RedisTarget) -> impl FnOnce(&mut Config) {
    move |config| config.store = onboard_server::config::Store::Redis(target)
}

/// Settings that send emails through `fake` (retrying quickly), with the
/// webhook verified by `webhook_key` when given.
pub fn on_sendgrid(
    fake: &onboard_sendgrid::testing::FakeSendGrid,
    webhook_key: Option<String>,
) -> impl FnOnce(&mut Config) {
    let transport = onboard_server::config::MailTransport::SendGrid {
        api_key: onboard_server::config::Secret(fake.api_key.clone()),
        base_url: fake.base_url.clone(),
        template_id: None,
        batch: 1000,
        gather: Duration::from_millis(50),
    };
    move |config| {
        config.mail_transport = transport;
        config.delivery_retry_base = Duration::from_millis(50);
        config.sendgrid_webhook_key = webhook_key;
    }
}

/// The query parameters of a link.
pub fn query_of(link: &str) -> Vec<(String, String)> {
    let query = link.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// Opens `link` and submits the init page's form as a browser would: the
/// page's own anti-CSRF token and cookies, `code` typed into the code field.
/// Returns the final status and HTML; when the page shows no form (the link
/// is dead or the user done) that page is the answer, as for a browser.
pub async fn submit_init_form(app: &TestApp, link: &str, code: &str, password: &str, confirm: &str) -> (u16, String) {
    let mut page = PageSession::new(app);
    let shown = page.open(link).await;
    if hidden_field(&shown.html, "formToken").is_none() {
        return (shown.status, shown.html);
    }
    let done = page.submit(&shown.html, code, password, confirm).await;
    (done.status, done.html)
}

/// One answer of the init page, after any redirects.
#[derive(Debug)]
pub struct PageReply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
    /// Where the browser ended up (redirects followed).
    pub url: String,
    /// Every URL the browser was sent to on the way, the first included.
    pub visited: Vec<String>,
}

/// A browser's view of the init page: follows redirects itself and keeps
/// the cookies the page sets (by name; the page's paths are all it visits).
#[derive(Debug)]
pub struct PageSession {
    base: String,
    client: reqwest::Client,
    pub cookies: Vec<(String, String)>,
}

impl PageSession {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base: app.base.clone(), client, cookies: Vec::new() }
    }

    /// The same browser (its cookies), its next requests served by `app`.
    pub fn moved_to(&self, app: &TestApp) -> Self {
        Self { cookies: self.cookies.clone(), ..Self::new(app) }
    }

    /// GET `url` (absolute, or a path on the server).
    pub async fn open(&mut self, url: &str) -> PageReply {
        let url = self.absolute(url);
        self.follow(self.client.get(&url), url).await
    }

    /// Posts `fields` to the init page.
    pub async fn post(&mut self, fields: &[(&str, &str)]) -> PageReply {
        let url = self.absolute("/ui/login/user/init");
        self.follow(self.client.post(&url).form(fields), url).await
    }

    /// Posts `fields` to `path` on the server (the renewal form's, say).
    pub async fn post_to(&mut self, path: &str, fields: &[(&str, &str)]) -> PageReply {
        let url = self.absolute(path);
        self.follow(self.client.post(&url).form(fields), url).await
    }

    /// Presses "Send me a new link" on the page `html` (its hidden fields as they are).
    pub async fn renew(&mut self, html: &str) -> PageReply {
        let hidden: Vec<(&str, String)> = ["userID", "orgID", "formToken", "code"]
            .into_iter()
            .filter_map(|n| hidden_field(html, n).map(|v| (n, v)))
            .collect();
        let fields: Vec<(&str, &str)> = hidden.iter().map(|(n, v)| (*n, v.as_str())).collect();
        self.post_to("/ui/login/user/init/renew", &fields).await
    }

    /// Fills in the form shown in `html` (its hidden fields as they are) and submits it.
    pub async fn submit(&mut self, html: &str, code: &str, password: &str, confirm: &str) -> PageReply {
        let hidden: Vec<(&str, String)> = ["userID", "orgID", "formToken"]
            .into_iter()
            .map(|n| (n, hidden_field(html, n).unwrap_or_default()))
            .collect();
        let mut fields: Vec<(&str, &str)> = hidden.iter().map(|(n, v)| (*n, v.as_str())).collect();
        fields.extend([("code", code), ("password", password), ("passwordConfirm", confirm)]);
        self.post(&fields).await
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') { format!("{}{url}", self.base) } else { url.to_owned() }
    }

    async fn follow(&mut self, mut req: reqwest::RequestBuilder, mut url: String) -> PageReply {
        let mut visited = vec![url.clone()];
        for _ in 0..5 {
            if !self.cookies.is_empty() {
                let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
                req = req.header(reqwest::header::COOKIE, cookie);
            }
            let resp = req.send().await.expect("page request sent");
            for set in resp.headers().get_all(reqwest::header::SET_COOKIE) {
                self.keep_cookie(set.to_str().expect("ASCII cookie"));
            }
            if resp.status() == StatusCode::SEE_OTHER {
                let location = resp.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
                url = self.absolute(&location);
                visited.push(url.clone());
                req = self.client.get(&url);
                continue;
            }
            let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
            let html = resp.text().await.expect("page body");
            return PageReply { status, headers, html, url, visited };
        }
        panic!("too many redirects from {}", visited[0]);
    }

    fn keep_cookie(&mut self, set_cookie: &str) {
        let (pair, attributes) = set_cookie.split_once(';').unwrap_or((set_cookie, ""));
        let (name, value) = pair.split_once('=').expect("name=value");
        self.cookies.retain(|(k, _)| k != name);
        if !attributes.contains("Max-Age=0") {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }
}

/// The value of the form field `name` in `html` (hidden or not).
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let after = &html[html.find(&format!("name=\"{name}\""))?..];
    let value = after[..after.find('>')?].split("value=\"").nth(1)?;
    let raw = &value[..value.find('"')?];
    Some(raw.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
}

/// A clock the test moves forward by hand, for a server's
/// [`Config::clock`]: the time starts at the system's and stands still
/// between moves.
#[derive(Debug)]
pub struct TestClock(std::sync::Mutex<time::OffsetDateTime>);

impl TestClock {
    pub fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self(std::sync::Mutex::new(time::OffsetDateTime::now_utc())))
    }

    pub fn advance(&self, by: time::Duration) {
        *self.0.lock().expect("not poisoned") += by;
    }
}

impl onboard_domain::ports::Clock for TestClock {
    fn now(&self) -> time::OffsetDateTime {
        *self.0.lock().expect("not poisoned")
    }
}
