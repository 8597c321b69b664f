//! The sender against endpoints on loopback: what it sends, how each answer
//! is read, and what it refuses to reach.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use onboard_domain::ports::{WebhookError, WebhookTransport};
use onboard_domain::webhooks::{EndpointUrl, WebhookMessage, WebhookSecret};
use onboard_webhooks::{SenderSettings, WebhookSender};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request as the endpoint saw it.
#[derive(Debug, Clone, Default)]
struct Seen {
    head: String,
    body: Vec<u8>,
}

/// Answers each request with `answer` (a whole HTTP response), after `delay`.
async fn endpoint(answer: &'static str, delay: Duration) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as much body as Content-Length says.
                let (head, body_start) = loop {
                    let Ok(n) = stream.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (String::from_utf8_lossy(&buf[..at]).into_owned(), at + 4);
                    }
                };
                let length: usize = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < body_start + length {
                    let Ok(n) = stream.read(&mut chunk).await else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                log.lock().unwrap().push(Seen { head, body: buf[body_start..].to_vec() });
                tokio::time::sleep(delay).await;
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

fn sender(allow_private: bool) -> WebhookSender {
    WebhookSender::new(SenderSettings { timeout: Duration::from_millis(500), allow_private }).unwrap()
}

fn message() -> WebhookMessage {
    WebhookMessage {
        id: "msg_2kq".into(),
        timestamp: time::OffsetDateTime::now_utc(),
        body: br#"{"type":"invitation.created","data":{"userId":"1"}}"#.to_vec(),
    }
}

async fn post(url: &str, allow_private: bool) -> Result<u16, WebhookError> {
    let secret = WebhookSecret::generate();
    sender(allow_private).post(&EndpointUrl::parse(url).unwrap(), &[secret], &message()).await
}

const OK: &str = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn the_message_goes_with_the_standard_webhooks_headers() {
    let (url, seen) = endpoint(OK, Duration::ZERO).await;
    assert_eq!(post(&url, true).await, Ok(204));
    let seen = seen.lock().unwrap()[0].clone();
    let head = seen.head.to_ascii_lowercase();
    assert!(head.starts_with("post /hook http/1.1"), "{head}");
    assert!(head.contains("webhook-id: msg_2kq"), "{head}");
    assert!(head.contains("webhook-timestamp: "), "{head}");
    assert!(head.contains("webhook-signature: v1,"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(seen.body, message().body);
}

#[tokio::test]
async fn answers_decide_what_is_retried() {
    let cases: [(&'static str, bool); 5] = [
        ("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", true),
        ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", true),
        ("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n", true),
        ("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", false),
        ("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n", false),
    ];
    for (answer, retried) in cases {
        let (url, seen) = endpoint(answer, Duration::ZERO).await;
        let result = post(&url, true).await;
        match (&result, retried) {
            (Err(WebhookError::Retry { status: Some(_), .. }), true) | (Err(WebhookError::Permanent { .. }), false) => {
            }
            other => panic!("{answer:?}: {other:?}"),
        }
        // A redirect is not followed: one request only.
        assert_eq!(seen.lock().unwrap().len(), 1);
        if answer.contains("429") {
            assert!(
                matches!(result, Err(WebhookError::Retry { retry_after: Some(d), .. }) if d == Duration::from_secs(7))
            );
        }
    }
}

#[tokio::test]
async fn a_slow_or_absent_endpoint_is_retried_later() {
    let (url, _) = endpoint(OK, Duration::from_secs(3)).await;
    assert!(matches!(post(&url, true).await, Err(WebhookError::Retry { status: None, .. })));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert!(matches!(post(&format!("http://127.0.0.1:{closed}/"), true).await, Err(WebhookError::Retry { .. })));
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let (url, seen) = endpoint(OK, Duration::ZERO).await;
    for refused in [url.clone(), url.replace("127.0.0.1", "localhost")] {
        match post(&refused, false).await {
            Err(WebhookError::Permanent { status: None, reason }) => assert!(reason.contains("public"), "{reason}"),
            other => panic!("{refused}: {other:?}"),
        }
    }
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the endpoint");
}
