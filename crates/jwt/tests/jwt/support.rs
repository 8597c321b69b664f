//! The fixture claims, JWKS files and a loopback JWKS server, and what the
//! verifier logs when it refuses a token; the signing itself is
//! `onboard_jwt::testing`'s.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onboard_domain::ports::{AuthenticateError, TokenVerifier};
pub use onboard_jwt::testing::*;
use onboard_jwt::{JwksSource, JwtVerifier};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Claims of a valid token: ZITADEL's shape, home org 100, IAM_OWNER,
/// ORG_USER_MANAGER in orgs 100 and 200, and a role onboard does not know.
pub fn claims() -> Value {
    zitadel_claims(
        "user-7",
        "100",
        json!({
            "IAM_OWNER": {"100": "acme.idp.example"},
            "ORG_USER_MANAGER": {"100": "acme.idp.example", "200": "beta.idp.example"},
            "PROJECT_JANITOR": {"100": "acme.idp.example"},
        }),
    )
}

/// `claims()` with `changes` merged in; a `null` value removes the claim.
pub fn claims_with(changes: Value) -> Value {
    merged(claims(), changes)
}

/// A JWKS file in a temporary directory (kept alive by the returned guard).
pub struct JwksFile {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl JwksFile {
    pub fn new(contents: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, contents).unwrap();
        Self { dir, path }
    }

    pub fn write(&self, contents: &str) {
        // Written beside and renamed, as a deployment would, so a reader never sees half a file.
        let tmp = self.dir.path().join("jwks.json.tmp");
        std::fs::write(&tmp, contents).unwrap();
        std::fs::rename(tmp, &self.path).unwrap();
    }

    pub fn source(&self) -> JwksSource {
        JwksSource::File(self.path.clone())
    }
}

/// A verifier over the fixture jwks.json.
pub async fn fixture_verifier() -> JwtVerifier {
    JwtVerifier::new(settings(JwksSource::File(jwks_path()))).await.unwrap()
}

/// A loopback HTTP server answering every request with the current JWKS,
/// counting the requests.
pub struct JwksServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    body: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(body: &str) -> Self {
        Self::listen(TcpListener::bind("127.0.0.1:0").await.unwrap(), body)
    }

    /// A server at the address of `url` (one that was stopped, say).
    pub async fn start_at(url: &str, body: &str) -> Self {
        let addr = url.trim_start_matches("http://").split('/').next().unwrap();
        Self::listen(TcpListener::bind(addr).await.unwrap(), body)
    }

    fn listen(listener: TcpListener, body: &str) -> Self {
        let url = format!("http://{}/oauth/v2/keys", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let body = Arc::new(Mutex::new(body.to_owned()));
        let (task_hits, task_body) = (hits.clone(), body.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let (hits, body) = (task_hits.clone(), task_body.clone());
                tokio::spawn(async move {
                    // Read the request head; the JWKS GET has no body.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
                            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                    hits.fetch_add(1, Ordering::SeqCst);
                    let body = body.lock().unwrap().clone();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { url, hits, body, task }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn set_body(&self, body: &str) {
        *self.body.lock().unwrap() = body.to_owned();
    }

    /// Closes the listening socket: connections are refused from now on.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// A loopback URL nothing listens on.
pub async fn unreachable_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/oauth/v2/keys")
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Verifies `token`, expecting `InvalidToken`, and returns what was logged
/// meanwhile (everything, down to trace), after checking that the token, or
/// any part of it, is not in it.
pub async fn rejection_log(verifier: &JwtVerifier, token: &str) -> String {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let result = {
        // Thread-local, and #[tokio::test] polls on this thread.
        let _guard = tracing::subscriber::set_default(subscriber);
        verifier.verify(token).await
    };
    assert_eq!(result, Err(AuthenticateError::InvalidToken), "token accepted or unavailable");
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for part in token.split('.').filter(|p| p.len() >= 8) {
        assert!(!log.contains(part), "the token is in the log: {log}");
    }
    log
}

/// Verifies `token`, expecting `InvalidToken` for the reason `because` (a
/// piece of the debug log's `reason`).
pub async fn rejected(verifier: &JwtVerifier, token: &str, because: &str) {
    let log = rejection_log(verifier, token).await;
    assert!(log.contains("token rejected"), "no rejection logged: {log}");
    assert!(log.contains(because), "expected reason {because:?} in: {log}");
}
