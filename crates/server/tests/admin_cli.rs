//! `onboard admin …` as an operator runs it: against a Redis, then the token
//! it issued used over HTTP by a server on that Redis.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};

use onboard_redis::testing::RedisServer;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_onboard");

/// The binary with no store configured but what the test gives it.
fn onboard() -> Command {
    let mut cmd = Command::new(BIN);
    for var in ["ONBOARD_CONFIG", "ONBOARD_REDIS_URL", "ONBOARD_REDIS_CLUSTER_NODES"] {
        cmd.env_remove(var);
    }
    cmd
}

fn admin(redis: &RedisServer, args: &[&str]) -> Output {
    onboard().env("ONBOARD_REDIS_URL", redis.url()).arg("admin").args(args).output().unwrap()
}

/// Runs an admin command that must succeed; returns its stdout.
#[track_caller]
fn admin_ok(redis: &RedisServer, args: &[&str]) -> String {
    let out = admin(redis, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The one line of output, for commands that print an id or a token.
#[track_caller]
fn one_line(text: &str) -> String {
    assert_eq!(text.lines().count(), 1, "{text:?}");
    text.trim().to_owned()
}

struct Server {
    child: Child,
    addr: String,
    /// Kept open: the server prints more, and a closed pipe would stop it.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(redis: &RedisServer) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut child = onboard()
            .env("ONBOARD_REDIS_URL", redis.url())
            .env("ONBOARD_DATA_DIR", data.path())
            .env("ONBOARD_HTTP_ADDR", "127.0.0.1:0")
            .env("ONBOARD_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first.strip_prefix("onboard listening on http://").expect(&first).to_owned();
        Self { child, addr, _stdout: lines, _data: data }
    }

    /// One HTTP/1.1 call with a JSON body; the status and the JSON answer.
    fn call(&self, method: &str, path: &str, token: &str, org: Option<&str>, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let org = org.map(|o| format!("x-zitadel-orgid: {o}\r\n")).unwrap_or_default();
        let mut conn = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            conn,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n{org}\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        conn.read_to_string(&mut resp).unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").expect(&resp);
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// Stops it as an operator would (SIGTERM); it must exit cleanly.
    fn stop(mut self) {
        let killed = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        assert!(self.child.wait().unwrap().success());
    }
}

/// A failed test must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn new_user(name: &str) -> Value {
    json!({"userName": name, "profile": {"firstName": "Ada", "lastName": "L"}, "email": {"email": format!("{name}@example.com")}})
}

#[test]
fn tokens_issued_on_the_command_line_work_over_http_until_revoked() {
    let redis = RedisServer::start();
    let acme = one_line(&admin_ok(&redis, &["org", "create", "Acme"]));
    let other = one_line(&admin_ok(&redis, &["org", "create", "Other"]));
    let bot = one_line(&admin_ok(&redis, &["service-account", "create", "--org", &acme, "importer"]));
    admin_ok(&redis, &["grant", &bot, "ORG_USER_MANAGER", "--org", &acme]);
    let issued = admin(&redis, &["pat", "issue", &bot, "--expires", "30d"]);
    assert!(issued.status.success());
    let token = one_line(&String::from_utf8(issued.stdout).unwrap());
    assert!(token.starts_with("onb_"), "{token}");
    assert!(!String::from_utf8_lossy(&issued.stderr).contains(&token), "the note never repeats the token");

    // Refusals: exit 1 with the reason; bad arguments: exit 2 before the store is touched.
    let refused = admin(&redis, &["grant", &bot, "ORG_OWNER"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ORG_OWNER"));
    assert_eq!(admin(&redis, &["pat", "revoke", "0000"]).status.code(), Some(1));
    assert_eq!(admin(&redis, &["grant", &bot, "KING"]).status.code(), Some(2));

    // Listings: aligned text and JSON, never a token.
    let text = admin_ok(&redis, &["list"]);
    assert!(text.contains("Acme") && text.contains("importer") && text.contains("ORG_USER_MANAGER@"), "{text}");
    assert!(!text.contains(&token));
    let all: Value = serde_json::from_str(&admin_ok(&redis, &["list", "--json"])).unwrap();
    assert!(!all.to_string().contains(&token));
    assert_eq!(all["serviceAccounts"][0]["grants"], json!([{"role": "ORG_USER_MANAGER", "orgId": acme}]));
    let pats: Value = serde_json::from_str(&admin_ok(&redis, &["--json", "pat", "list", "--account", &bot])).unwrap();
    let token_id = pats["result"][0]["tokenId"].as_str().unwrap().to_owned();
    assert_eq!(pats["result"][0]["revoked"], false);
    assert!(pats["result"][0]["expirationDate"].is_string());

    // The server on the same Redis accepts the token, in the granted organization only.
    let server = Server::start(&redis);
    let (status, body) = server.call("POST", "/management/v1/users/human", &token, None, &new_user("ada"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.call("POST", "/management/v1/users/human", &token, Some(&other), &new_user("bob"));
    assert_eq!((status, body["code"].as_i64()), (403, Some(7)), "{body}");

    let revoked: Value = serde_json::from_str(&admin_ok(&redis, &["pat", "revoke", &token_id, "--json"])).unwrap();
    assert_eq!(revoked["revoked"], true);
    let (status, body) = server.call("POST", "/management/v1/users/human", &token, None, &new_user("eve"));
    assert_eq!((status, body["code"].as_i64()), (401, Some(16)), "{body}");
    server.stop();
}

#[test]
fn the_embedded_store_is_administered_over_http_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = onboard().env("ONBOARD_DATA_DIR", dir.path()).args(["admin", "org", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("embedded store") && err.contains("/admin/v1"), "{err}");
    assert!(out.stdout.is_empty());
}
