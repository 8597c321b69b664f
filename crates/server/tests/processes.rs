//! Two `onboard` processes on one Redis: the throttles and idempotency keys
//! one process records hold for the other.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

use onboard_redis::testing::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_onboard");

/// A server process; killed when dropped.
struct Node {
    child: Child,
    addr: String,
    _data: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(redis_url: &str, name: &str) -> Node {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .env("ONBOARD_DATA_DIR", data.path())
        .env("ONBOARD_HTTP_ADDR", "127.0.0.1:0")
        .env("ONBOARD_LOG", "warn")
        .env("ONBOARD_REDIS_URL", redis_url)
        .env("ONBOARD_NODE_NAME", name)
        .env("ONBOARD_RESEND_COOLDOWN", "60s")
        .env("ONBOARD_RECIPIENT_DAILY_CAP", "10")
        .env("ONBOARD_CALLER_RATE", "100")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.strip_prefix("onboard listening on http://").expect(&first).to_owned();
    Node { child, addr, _data: data }
}

/// One HTTP/1.1 request; the status, the headers (lower-cased) and the body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    write!(conn, "{head}\r\n{body}").unwrap();
    let mut resp = String::new();
    conn.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn field<'a>(body: &'a str, name: &str) -> &'a str {
    let start = body.find(&format!("\"{name}\":\"")).unwrap_or_else(|| panic!("{name} in {body}")) + name.len() + 4;
    &body[start..start + body[start..].find('"').unwrap()]
}

#[test]
fn throttles_and_idempotency_keys_hold_across_processes() {
    let redis = RedisServer::start();
    let a = start(&redis.url(), "node-a");
    // The first process made the admin token; the second shares the store.
    let token = std::fs::read_to_string(a._data.path().join("admin.pat")).unwrap().trim().to_owned();
    let b = start(&redis.url(), "node-b");

    let create =
        r#"{"userName":"twice","profile":{"firstName":"T","lastName":"W"},"email":{"email":"twice@example.com"}}"#;
    let key = [("Idempotency-Key", "proc-1")];
    let (status, _, first) = request(&a.addr, "POST", "/management/v1/users/human", &token, &key, create);
    assert_eq!(status, 200, "{first}");
    let (status, head, again) = request(&b.addr, "POST", "/management/v1/users/human", &token, &key, create);
    assert_eq!((status, again.as_str()), (200, first.as_str()));
    assert!(head.contains("idempotent-replayed: true"), "{head}");
    let user = field(&first, "userId");

    let resend = format!("/management/v1/users/{user}/_resend_initialization");
    let (status, _, body) = request(&a.addr, "POST", &resend, &token, &[], "{}");
    assert_eq!(status, 200, "{body}");
    let (status, head, body) = request(&b.addr, "POST", &resend, &token, &[], "{}");
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("\"code\":8") && body.contains("ONBOARD-THROTTLED-RESEND-COOLDOWN"), "{body}");
    assert!(head.contains("retry-after: "), "{head}");
}
