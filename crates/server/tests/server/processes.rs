//! Two `onboard` processes on one Redis: the throttles and idempotency keys
//! one process records hold for the other.

use crate::support::Server;
use onboard_redis::testing::RedisServer;

fn start(redis_url: &str, name: &str) -> Server {
    Server::start(&[
        ("ONBOARD_REDIS_URL", redis_url),
        ("ONBOARD_NODE_NAME", name),
        ("ONBOARD_RESEND_COOLDOWN", "60s"),
        ("ONBOARD_RECIPIENT_DAILY_CAP", "10"),
        ("ONBOARD_CALLER_RATE", "100"),
    ])
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
    let token = a.admin_token();
    let b = start(&redis.url(), "node-b");

    let create =
        r#"{"userName":"twice","profile":{"firstName":"T","lastName":"W"},"email":{"email":"twice@example.com"}}"#;
    let key = [("Idempotency-Key", "proc-1")];
    let first = a.request("POST", "/management/v1/users/human", &token, &key, create);
    assert_eq!(first.status, 200, "{}", first.body);
    let again = b.request("POST", "/management/v1/users/human", &token, &key, create);
    assert_eq!((again.status, again.body.as_str()), (200, first.body.as_str()));
    assert!(again.head.contains("idempotent-replayed: true"), "{}", again.head);
    let user = field(&first.body, "userId");

    let resend = format!("/management/v1/users/{user}/_resend_initialization");
    let answer = a.request("POST", &resend, &token, &[], "{}");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = b.request("POST", &resend, &token, &[], "{}");
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert!(
        answer.body.contains("\"code\":8") && answer.body.contains("ONBOARD-THROTTLED-RESEND-COOLDOWN"),
        "{}",
        answer.body
    );
    assert!(answer.head.contains("retry-after: "), "{}", answer.head);
}
