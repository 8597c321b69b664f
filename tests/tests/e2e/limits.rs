//! Throttles and idempotency keys as callers meet them: 429 with a reason
//! and a Retry-After, limits shared by every node of one Redis, and retries
//! with an Idempotency-Key that replay the first answer instead of mailing
//! again.

use std::time::Duration;

use onboard_domain::{Role, ThrottleConfig};
use onboard_redis::RedisTarget;
use onboard_redis::testing::RedisServer;
use onboard_tests::{Reply, TestApp, on_redis};
use reqwest::Method;
use serde_json::{Value, json};

fn resend_path(user: &str) -> String {
    format!("/management/v1/users/{user}/_resend_initialization")
}

/// A call with the admin token and optional extra headers; the answer and
/// its headers.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (Reply, reqwest::header::HeaderMap) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request sent");
    let headers = resp.headers().clone();
    (TestApp::reply(resp).await, headers)
}

async fn resend(app: &TestApp, user: &str, email: Option<&str>) -> (Reply, reqwest::header::HeaderMap) {
    let body = email.map_or_else(|| json!({}), |e| json!({ "email": e }));
    send(app, Method::POST, &resend_path(user), &app.token, &[], Some(body)).await
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers.get("retry-after").expect("a Retry-After header").to_str().unwrap().parse().expect("whole seconds")
}

async fn sequence(app: &TestApp, user: &str) -> String {
    let r = app.get(&format!("/management/v1/users/{user}")).await;
    r.body["user"]["details"]["sequence"].as_str().unwrap().to_owned()
}

fn cooldown_only() -> ThrottleConfig {
    ThrottleConfig { resend_cooldown: Duration::from_secs(60), ..ThrottleConfig::OFF }
}

#[tokio::test]
async fn a_second_resend_within_the_cooldown_is_429_and_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.throttle = cooldown_only()).await;
    let user = app.create_user("cool", "cool@example.com").await;
    app.wait_for_mails("cool@example.com", 1).await;

    let (first, _) = resend(&app, &user, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    app.wait_for_mails("cool@example.com", 2).await;
    let before = sequence(&app, &user).await;

    let (second, headers) = resend(&app, &user, Some("fixed@example.com")).await;
    second.assert_error(429, 8, "ONBOARD-THROTTLED-RESEND-COOLDOWN");
    let wait = retry_after(&headers);
    assert!((55..=60).contains(&wait), "Retry-After {wait}");
    // Nothing changed: no new event, the address stays, no email to either address.
    assert_eq!(sequence(&app, &user).await, before);
    let got = app.get(&format!("/management/v1/users/{user}")).await;
    assert_eq!(got.body["user"]["human"]["email"]["email"], "cool@example.com");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.mails().len(), 2);

    // Other users are not held back by it.
    let other = app.create_user("cool2", "cool2@example.com").await;
    assert_eq!(resend(&app, &other, None).await.0.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn an_address_gets_at_most_its_daily_cap_of_resends() {
    let app =
        TestApp::spawn_with(|c| c.throttle = ThrottleConfig { recipient_daily_cap: 3, ..ThrottleConfig::OFF }).await;
    // Three users resent to one (typo'd) address: the cap counts the address, whoever the user.
    let users = [app.create_user("cap1", "cap1@example.com").await, app.create_user("cap2", "cap2@example.com").await];
    for (i, user) in [&users[0], &users[1], &users[0]].into_iter().enumerate() {
        let (r, _) = resend(&app, user, Some("typo@exampel.com")).await;
        assert_eq!(r.status, 200, "resend {i}: {}", r.body);
    }
    let (refused, headers) = resend(&app, &users[1], Some("TYPO@exampel.com")).await;
    refused.assert_error(429, 8, "ONBOARD-THROTTLED-RECIPIENT-DAILY-CAP");
    assert!((1..=86_400).contains(&retry_after(&headers)));
    // Another address for the same user is still fine.
    assert_eq!(resend(&app, &users[1], Some("right@example.com")).await.0.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn each_caller_has_its_own_request_budget() {
    let config = ThrottleConfig { caller_rate: 0.5, caller_burst: 3, ..ThrottleConfig::OFF };
    let app = TestApp::spawn_with(move |c| c.throttle = config).await;
    let viewer = app.token_with(&app.org, Role::OrgOwnerViewer, &app.org).await;
    let path = "/management/v1/users/nobody";
    for _ in 0..3 {
        let (r, _) = send(&app, Method::GET, path, &viewer, &[], None).await;
        r.assert_error(404, 5, "QUERY-Dfbg2");
    }
    let (r, headers) = send(&app, Method::GET, path, &viewer, &[], None).await;
    r.assert_error(429, 8, "ONBOARD-THROTTLED-CALLER-RATE");
    assert!((1..=2).contains(&retry_after(&headers)), "{headers:?}");
    // The admin's budget is its own.
    let (r, _) = send(&app, Method::GET, path, &app.token, &[], None).await;
    r.assert_error(404, 5, "QUERY-Dfbg2");
    // Unauthenticated calls are refused as such, not throttled.
    let (r, _) = send(&app, Method::GET, path, "onb_unknown", &[], None).await;
    r.assert_error(401, 16, "AUTH-7fs1e");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttles_hold_across_nodes_sharing_one_redis() {
    let redis = RedisServer::start();
    let config = ThrottleConfig {
        resend_cooldown: Duration::from_secs(60),
        recipient_daily_cap: 10,
        caller_rate: 0.1,
        caller_burst: 4,
    };
    let url = redis.url();
    let a = TestApp::spawn_with(move |c| {
        on_redis(RedisTarget::Url(url))(c);
        c.throttle = config;
    })
    .await;
    let b = a.spawn_peer().await;
    let user = a.create_user("shared", "shared@example.com").await;

    let (first, _) = resend(&a, &user, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let (second, headers) = resend(&b, &user, None).await;
    second.assert_error(429, 8, "ONBOARD-THROTTLED-RESEND-COOLDOWN");
    assert!(retry_after(&headers) >= 55);

    // The admin token has used 3 of its 4 calls (create, two resends) across both nodes.
    let path = format!("/management/v1/users/{user}");
    let (r, _) = send(&b, Method::GET, &path, &b.token, &[], None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (r, _) = send(&a, Method::GET, &path, &a.token, &[], None).await;
    r.assert_error(429, 8, "ONBOARD-THROTTLED-CALLER-RATE");
    b.stop().await;
    a.stop().await;
    drop(redis);
}

fn new_user_body(name: &str) -> Value {
    json!({
        "userName": name,
        "profile": {"firstName": "Idem", "lastName": "Potent"},
        "email": {"email": format!("{name}@example.com")},
    })
}

/// Creation and resend sent twice with one key: one user, one code, one
/// email each, and the second answer equal to the first.
async fn check_replays(a: &TestApp, b: &TestApp) {
    let key = [("idempotency-key", "create-7f3a")];
    let path = "/management/v1/users/human";
    let (first, first_headers) = send(a, Method::POST, path, &a.token, &key, Some(new_user_body("idem"))).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first_headers.get("idempotent-replayed").is_none());
    let (again, again_headers) = send(b, Method::POST, path, &b.token, &key, Some(new_user_body("idem"))).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(again_headers["idempotent-replayed"], "true");
    assert_eq!(again_headers["x-onboard-notification-id"], first_headers["x-onboard-notification-id"]);
    assert_eq!(again_headers["content-type"], first_headers["content-type"]);
    let user = first.body["userId"].as_str().unwrap().to_owned();

    // The same key for another request is a conflict, and creates nothing.
    let (other, _) = send(b, Method::POST, path, &b.token, &key, Some(new_user_body("idem-other"))).await;
    other.assert_error(409, 6, "ONBOARD-IDEMPOTENCY-KEY-REUSED");
    let (r, _) = send(a, Method::POST, path, &a.token, &[], Some(new_user_body("idem-other"))).await;
    assert_eq!(r.status, 200, "the name was not taken by the refused call: {}", r.body);

    // Resend: replayed, not resent.
    let key = [("idempotency-key", "resend-1")];
    let body = Some(json!({"email": "idem-new@example.com"}));
    let (first, h1) = send(a, Method::POST, &resend_path(&user), &a.token, &key, body.clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let seq = first.body["details"]["sequence"].clone();
    let (again, h2) = send(b, Method::POST, &resend_path(&user), &b.token, &key, body).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(h1["x-onboard-notification-id"], h2["x-onboard-notification-id"]);
    let (other, _) = send(a, Method::POST, &resend_path(&user), &a.token, &key, Some(json!({}))).await;
    other.assert_error(409, 6, "ONBOARD-IDEMPOTENCY-KEY-REUSED");
    let now = a.get(&format!("/management/v1/users/{user}")).await;
    assert!(now.body["user"]["details"]["sequence"].as_str().unwrap() >= seq.as_str().unwrap());
    let list = a.notifications(&user).await;
    assert_eq!(list.len(), 2, "one email at creation, one resend: {list:?}");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    check_replays(&app, &app).await;

    // Keys are the caller's: another caller's use of the same key is its own.
    let other = app.token_with(&app.org, Role::OrgUserManager, &app.org).await;
    let key = [("idempotency-key", "create-7f3a")];
    let (r, h) =
        send(&app, Method::POST, "/management/v1/users/human", &other, &key, Some(new_user_body("idem-2"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(h.get("idempotent-replayed").is_none());

    // Failed calls are not kept: fixing the request and retrying with the key works.
    let key = [("idempotency-key", "bad-then-good")];
    let bad = json!({"userName": "idem-3", "profile": {"firstName": "A", "lastName": "B"}, "email": {"email": "nope"}});
    let (r, _) = send(&app, Method::POST, "/management/v1/users/human", &app.token, &key, Some(bad)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let (r, _) =
        send(&app, Method::POST, "/management/v1/users/human", &app.token, &key, Some(new_user_body("idem-3"))).await;
    assert_eq!(r.status, 200, "a failed call leaves its key free: {}", r.body);

    // Keys are checked.
    let key = [("idempotency-key", "has space")];
    let (r, _) =
        send(&app, Method::POST, "/management/v1/users/human", &app.token, &key, Some(new_user_body("idem-4"))).await;
    r.assert_error(400, 3, "ONBOARD-IDEMPOTENCY-KEY-INVALID");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_keys_are_shared_by_nodes_on_one_redis() {
    let redis = RedisServer::start();
    let a = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    let b = a.spawn_peer().await;
    check_replays(&a, &b).await;
    b.stop().await;
    a.stop().await;
}

/// A resend over gRPC-Web with `idempotency-key` metadata: its grpc-status
/// and the headers it answered with.
async fn grpc_web_resend(app: &TestApp, user: &str, email: &str, key: &str) -> (i32, reqwest::header::HeaderMap) {
    use onboard_grpc::pb::zitadel::management::v1::ResendHumanInitializationRequest;
    use onboard_grpc::testing::{self as grpc_web, GrpcWebAnswer};
    use prost::Message;
    let message = ResendHumanInitializationRequest { user_id: user.into(), email: email.into() }.encode_to_vec();
    let resp = app
        .client
        .post(app.url("/zitadel.management.v1.ManagementService/ResendHumanInitialization"))
        .header("content-type", grpc_web::CONTENT_TYPE)
        .header("x-grpc-web", "1")
        .header("idempotency-key", key)
        .bearer_auth(&app.token)
        .body(grpc_web::frame(&message))
        .send()
        .await
        .expect("gRPC-Web request sent");
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let answer = GrpcWebAnswer::parse(status, headers.clone(), &resp.bytes().await.expect("body"));
    if answer.status() != 0 {
        answer.failure(answer.status()).assert(6, "ONBOARD-IDEMPOTENCY-KEY-REUSED");
    }
    (answer.status(), headers)
}

/// One key is one request whatever the protocol: a resend sent over JSON and
/// retried over gRPC-Web is replayed, not resent.
#[tokio::test]
async fn an_idempotency_key_holds_across_json_and_grpc() {
    let app = TestApp::spawn().await;
    let user = app.create_user("idem-wire", "idem-wire@example.com").await;
    let key = [("idempotency-key", "wire-1")];
    let body = Some(json!({"email": "idem-wire2@example.com"}));
    let (first, headers) = send(&app, Method::POST, &resend_path(&user), &app.token, &key, body).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let (status, grpc_headers) = grpc_web_resend(&app, &user, "idem-wire2@example.com", "wire-1").await;
    assert_eq!(status, 0);
    assert_eq!(grpc_headers["idempotent-replayed"], "true");
    assert_eq!(grpc_headers["x-onboard-notification-id"], headers["x-onboard-notification-id"]);
    // Another request under the key is refused on gRPC too.
    let (status, _) = grpc_web_resend(&app, &user, "someone-else@example.com", "wire-1").await;
    assert_eq!(status, 6);
    let list = app.notifications(&user).await;
    assert_eq!(list.len(), 2, "one email at creation, one resend: {list:?}");
}
