//! Outbound webhooks against a receiver on loopback that verifies every
//! signature with the published `standardwebhooks` npm package (not with
//! onboard's own code) and records what it got.

use std::time::Duration;

use onboard_redis::RedisTarget;
use onboard_redis::testing::RedisServer;
use onboard_tests::sdk::{ScriptOutput, run_node};
use onboard_tests::{TestApp, free_port, on_redis, submit_init_form};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// A server that may post to loopback, retrying after 100 ms, 200 ms, …
async fn spawn(redis: Option<&RedisServer>, allow_private: bool) -> TestApp {
    spawn_retrying_for(redis, allow_private, Duration::from_secs(24 * 3600)).await
}

async fn spawn_retrying_for(redis: Option<&RedisServer>, allow_private: bool, period: Duration) -> TestApp {
    let store = redis.map(|r| on_redis(RedisTarget::Url(r.url())));
    TestApp::spawn_with(move |config| {
        if let Some(store) = store {
            store(config);
        }
        config.webhook_allow_private = allow_private;
        config.webhook_retry_base = Duration::from_millis(100);
        config.webhook_retry_period = period;
    })
    .await
}

/// The endpoint's deliveries, newest first, once `ready` holds for them (within 10 s).
async fn deliveries_when(app: &TestApp, endpoint: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listed = app.get(&format!("/admin/v1/webhooks/{endpoint}/deliveries")).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let all = listed.body["result"].as_array().cloned().unwrap_or_default();
        if ready(&all) {
            return all;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries never got there: {all:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An endpoint of the app's organization at `port` for `types`; its id and secret.
async fn endpoint(app: &TestApp, port: u16, types: Value) -> (String, String) {
    let made = app
        .post(
            "/admin/v1/webhooks",
            json!({"orgId": app.org, "url": format!("http://127.0.0.1:{port}/hooks"), "eventTypes": types}),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    (made.body["id"].as_str().unwrap().to_owned(), made.body["secret"].as_str().unwrap().to_owned())
}

/// The receiver, listening on `port` until `expect` requests were answered 2xx
/// (or, with a plan failing every request, were made at all).
fn receiver(
    port: u16,
    secrets: &[&str],
    plan: Value,
    expect: usize,
    linger_ms: u64,
    deadline_ms: u64,
) -> JoinHandle<ScriptOutput> {
    let secrets = serde_json::to_string(secrets).unwrap();
    tokio::spawn(async move {
        let env = [
            ("PORT", port.to_string()),
            ("SECRETS", secrets),
            ("PLAN", plan.to_string()),
            ("EXPECT", expect.to_string()),
            ("LINGER", linger_ms.to_string()),
            ("DEADLINE", deadline_ms.to_string()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_node("webhook_receiver.mjs", &[], &env).await
    })
}

/// The requests the receiver recorded, and whether it gave up waiting.
fn recorded(out: ScriptOutput) -> (Vec<Value>, bool) {
    let mut lines = out.lines;
    let done = lines.pop().expect("the receiver's last line");
    assert_eq!(done["done"], true, "{done}");
    (lines, done["timedOut"] == true)
}

fn types_of(requests: &[&Value]) -> Vec<String> {
    requests.iter().map(|r| r["body"]["type"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Create, resend, complete: what the endpoint receives, all verified, in order.
async fn lifecycle(app: TestApp) {
    let port = free_port();
    let (_, secret) = endpoint(&app, port, json!([])).await;
    let got = receiver(port, &[&secret], json!({}), 6, 1500, 60_000);

    let id = app.create_user("hooked", "hooked@example.com").await;
    app.wait_for_mails("hooked@example.com", 1).await;
    app.wait_for_sequence(&id, 3).await;
    let resent = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    let second = app.wait_for_mails("hooked@example.com", 2).await.remove(1);
    let (status, html) = submit_init_form(&app, &second.link, &second.code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 200, "{html}");

    let (requests, timed_out) = recorded(got.await.unwrap());
    assert!(!timed_out, "{requests:#?}");
    assert!(requests.iter().all(|r| r["verified"] == json!([true]) && r["status"] == 204), "{requests:#?}");
    assert!(requests.iter().all(|r| r["method"] == "POST" && r["contentType"] == "application/json"));
    let all: Vec<&Value> = requests.iter().collect();
    let types = types_of(&all);
    assert_eq!(types.len(), 6, "no duplicates here: {types:?}");
    assert_eq!(types.first().map(String::as_str), Some("invitation.created"));
    assert_eq!(types.last().map(String::as_str), Some("invitation.completed"));
    let mut sorted = types.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "email.sent",
            "email.sent",
            "invitation.completed",
            "invitation.created",
            "invitation.opened",
            "invitation.resent"
        ]
    );
    // Opened (the page shown for the newest code) before completed.
    let opened = types.iter().position(|t| t == "invitation.opened").unwrap();
    assert!(opened < types.iter().position(|t| t == "invitation.completed").unwrap(), "{types:?}");
    let resent_at = types.iter().position(|t| t == "invitation.resent").unwrap();
    assert_eq!(types[resent_at + 1..].iter().filter(|t| *t == "email.sent").count(), 1, "{types:?}");
    // In the order of the user's sequence.
    let sequences: Vec<u64> = requests.iter().map(|r| r["body"]["data"]["sequence"].as_u64().unwrap()).collect();
    assert!(sequences.windows(2).all(|w| w[0] <= w[1]), "{sequences:?}");
    let created = &requests[0]["body"];
    assert_eq!(created["data"]["userId"], id.as_str());
    assert_eq!(created["data"]["orgId"], app.org.as_str());
    assert_eq!(created["data"]["loginName"], "hooked");
    assert_eq!(created["data"]["email"], "hooked@example.com");
    assert_eq!(created["data"]["sequence"], 2);
    assert!(created["data"]["notificationId"].is_string(), "{created}");
    assert!(created["timestamp"].as_str().unwrap().ends_with('Z'), "{created}");
    let ids: std::collections::HashSet<&str> = requests.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 6);
    // Never a code, a token or a password.
    for r in &requests {
        let body = r["body"].to_string();
        for secret in [second.code.as_str(), "A-good-passw0rd", app.token.as_str()] {
            assert!(!body.contains(secret), "{body}");
        }
        assert!(!body.contains("\"code\""), "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_lifecycle_produces_its_events_in_order_on_the_embedded_store() {
    lifecycle(spawn(None, true).await).await;
}

#[tokio::test]
async fn the_lifecycle_produces_its_events_in_order_on_redis() {
    let redis = RedisServer::start();
    lifecycle(spawn(Some(&redis), true).await).await;
}

/// The v2 API's invite codes and v1's removal speak the same events: a code
/// made by CreateInviteCode is a resend, its verification completes the
/// invitation, and removing a user who never finished withdraws it.
#[tokio::test]
async fn v2_invite_codes_and_removal_produce_their_events() {
    let app = spawn(None, true).await;
    let port = free_port();
    let (_, secret) =
        endpoint(&app, port, json!(["invitation.resent", "invitation.completed", "invitation.withdrawn"])).await;
    let got = receiver(port, &[&secret], json!({}), 3, 1000, 60_000);

    let accepted = app.create_user("accepting", "accepting@example.com").await;
    let code = app.post(&format!("/v2/users/{accepted}/invite_code"), json!({"returnCode": {}})).await;
    assert_eq!(code.status, 200, "{}", code.body);
    let code = code.body["inviteCode"].as_str().unwrap().to_owned();
    let verified =
        app.post(&format!("/v2/users/{accepted}/invite_code/verify"), json!({"verificationCode": code})).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let withdrawn = app.create_user("withdrawn", "withdrawn@example.com").await;
    let removed = app
        .call(reqwest::Method::DELETE, &format!("/management/v1/users/{withdrawn}"), Some(&app.token), None, None)
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);

    let (requests, timed_out) = recorded(got.await.unwrap());
    assert!(!timed_out, "{requests:#?}");
    let of = |user: &str| -> Vec<String> {
        let mine: Vec<&Value> = requests.iter().filter(|r| r["body"]["data"]["userId"] == user).collect();
        types_of(&mine)
    };
    assert_eq!(of(&accepted), ["invitation.resent", "invitation.completed"], "{requests:#?}");
    assert_eq!(of(&withdrawn), ["invitation.withdrawn"], "{requests:#?}");
    app.stop().await;
}

/// With a two-second code lifetime: a user who never used their code gets
/// one `invitation.expired` at its expiry (told by the schedule, with nobody
/// reading the user); one who completed in time gets none.
async fn expiry_told_once(app: TestApp) {
    let port = free_port();
    let (_, secret) = endpoint(&app, port, json!(["invitation.expired", "invitation.completed"])).await;
    // Lingers past the second user's expiry, so an event it wrongly got would be seen.
    let got = receiver(port, &[&secret], json!({}), 2, 4000, 60_000);

    let waiting = app.create_user("waiting", "waiting@example.com").await;
    let accepted = app.create_user("accepting", "accepting@example.com").await;
    let code = app.post(&format!("/v2/users/{accepted}/invite_code"), json!({"returnCode": {}})).await;
    assert_eq!(code.status, 200, "{}", code.body);
    let code = code.body["inviteCode"].as_str().unwrap().to_owned();
    let verified =
        app.post(&format!("/v2/users/{accepted}/invite_code/verify"), json!({"verificationCode": code})).await;
    assert_eq!(verified.status, 200, "{}", verified.body);

    let (requests, timed_out) = recorded(got.await.unwrap());
    assert!(!timed_out, "{requests:#?}");
    assert!(requests.iter().all(|r| r["verified"] == json!([true])), "{requests:#?}");
    let of = |user: &str| -> Vec<&Value> { requests.iter().filter(|r| r["body"]["data"]["userId"] == user).collect() };
    assert_eq!(types_of(&of(&waiting)), ["invitation.expired"], "{requests:#?}");
    assert_eq!(types_of(&of(&accepted)), ["invitation.completed"], "{requests:#?}");
    let expired = &of(&waiting)[0]["body"];
    assert_eq!(expired["data"]["loginName"], "waiting");
    assert_eq!(expired["data"]["email"], "waiting@example.com");
    // The same write that recorded the event counted the user expired (the
    // other one proved its code and sets its password next: pending).
    let stats = app.get("/management/v1/invitations/_stats").await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    let by_state: Vec<(&str, u64)> = stats.body["byState"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["state"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(by_state, [("pending", 1), ("expired", 1), ("locked", 0), ("completed", 0), ("withdrawn", 0)]);
    app.stop().await;
}

async fn spawn_with_short_codes(redis: Option<&RedisServer>) -> TestApp {
    let store = redis.map(|r| on_redis(RedisTarget::Url(r.url())));
    TestApp::spawn_with(move |config| {
        if let Some(store) = store {
            store(config);
        }
        config.webhook_allow_private = true;
        config.code_lifetime = Duration::from_secs(2);
    })
    .await
}

#[tokio::test]
async fn an_expired_invitation_is_told_once_and_a_completed_one_never_on_the_embedded_store() {
    expiry_told_once(spawn_with_short_codes(None).await).await;
}

#[tokio::test]
async fn an_expired_invitation_is_told_once_and_a_completed_one_never_on_redis() {
    let redis = RedisServer::start();
    expiry_told_once(spawn_with_short_codes(Some(&redis)).await).await;
}

/// The endpoint answers 500 to the first five requests: every event still
/// arrives, each user's in order, after retries.
async fn retried_in_order(app: TestApp) {
    let port = free_port();
    let (_, secret) = endpoint(&app, port, json!(["invitation.created", "invitation.resent"])).await;
    let got = receiver(port, &[&secret], json!({"status": 500, "first": 5}), 6, 1500, 60_000);
    let mut users = Vec::new();
    for name in ["ret-a", "ret-b"] {
        users.push(app.create_user(name, &format!("{name}@example.com")).await);
    }
    for id in &users {
        for _ in 0..2 {
            let r = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
    let (requests, timed_out) = recorded(got.await.unwrap());
    assert!(!timed_out, "{requests:#?}");
    assert!(requests.iter().all(|r| r["verified"] == json!([true])), "{requests:#?}");
    assert_eq!(requests.iter().filter(|r| r["status"] == 500).count(), 5);
    let accepted: Vec<&Value> = requests.iter().filter(|r| r["status"] == 204).collect();
    for id in &users {
        let mine: Vec<&Value> =
            accepted.iter().copied().filter(|r| r["body"]["data"]["userId"] == id.as_str()).collect();
        assert_eq!(types_of(&mine), ["invitation.created", "invitation.resent", "invitation.resent"], "{mine:#?}");
        let sequences: Vec<u64> = mine.iter().map(|r| r["body"]["data"]["sequence"].as_u64().unwrap()).collect();
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    }
    // A retried message keeps its id, so receivers can tell a retry from a new event.
    let failed_ids: Vec<&str> =
        requests.iter().filter(|r| r["status"] == 500).map(|r| r["id"].as_str().unwrap()).collect();
    assert!(failed_ids.iter().all(|id| accepted.iter().any(|r| r["id"] == *id)), "{failed_ids:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_failing_endpoint_gets_every_event_in_order_after_retries_on_the_embedded_store() {
    retried_in_order(spawn(None, true).await).await;
}

#[tokio::test]
async fn a_failing_endpoint_gets_every_event_in_order_after_retries_on_redis() {
    let redis = RedisServer::start();
    retried_in_order(spawn(Some(&redis), true).await).await;
}

/// 400: one attempt, a dead letter that shows in the deliveries, sent
/// again by hand once the endpoint takes it; and a test event on request.
async fn dead_letter_retried_by_hand(app: TestApp) {
    let port = free_port();
    let (id, secret) = endpoint(&app, port, json!(["invitation.created"])).await;
    let got = receiver(port, &[&secret], json!({"status": 400}), 1, 2000, 60_000);
    app.create_user("refused", "refused@example.com").await;
    let (requests, timed_out) = recorded(got.await.unwrap());
    assert!(!timed_out);
    assert_eq!(requests.len(), 1, "one attempt, then the dead letter: {requests:#?}");
    assert_eq!(requests[0]["status"], 400);
    let listed = deliveries_when(&app, &id, |all| all.first().is_some_and(|d| d["status"] == "dead_letter")).await;
    let dead = &listed[0];
    assert_eq!((dead["attempts"].as_u64(), dead["lastResponseCode"].as_u64()), (Some(1), Some(400)), "{dead}");
    assert_eq!(dead["eventType"], "invitation.created");
    assert!(dead["lastAttemptAt"].is_string() && dead.get("nextAttemptAt").is_none(), "{dead}");

    // Retried by hand once the endpoint takes it; then a test event.
    let got = receiver(port, &[&secret], json!({}), 2, 1000, 60_000);
    let delivery = dead["id"].as_str().unwrap();
    let retried = app.post(&format!("/admin/v1/webhooks/{id}/deliveries/{delivery}/_retry"), json!({})).await;
    assert_eq!((retried.status.as_u16(), retried.body["status"].as_str()), (200, Some("pending")), "{}", retried.body);
    let test = app.post(&format!("/admin/v1/webhooks/{id}/_test"), json!({})).await;
    assert_eq!((test.status.as_u16(), test.body["eventType"].as_str()), (200, Some("webhook.test")), "{}", test.body);
    let (requests, timed_out) = recorded(got.await.unwrap());
    assert!(!timed_out, "{requests:#?}");
    // Of different users (the test event has none), so in either order.
    let all: Vec<&Value> = requests.iter().collect();
    let mut types = types_of(&all);
    types.sort();
    assert_eq!(types, ["invitation.created", "webhook.test"]);
    assert!(requests.iter().all(|r| r["verified"] == json!([true])));
    let again = requests.iter().find(|r| r["body"]["type"] == "invitation.created").unwrap();
    assert_eq!(again["id"], dead["eventId"], "the same webhook-id as the first attempt");
    let listed = deliveries_when(&app, &id, |all| all.iter().all(|d| d["status"] == "delivered")).await;
    assert_eq!(listed.len(), 2);
    // The first attempt, and at least one more (more while the receiver was starting).
    assert!(listed.iter().find(|d| d["id"] == delivery).unwrap()["attempts"].as_u64().unwrap() >= 2);
    let unknown = app.post(&format!("/admin/v1/webhooks/{id}/deliveries/nope/_retry"), json!({})).await;
    unknown.assert_error(404, 5, "ONBOARD-WEBHOOK-DELIVERY-NOT-FOUND");
    app.stop().await;
}

#[tokio::test]
async fn an_endpoint_answering_400_gets_a_dead_letter_retried_by_hand_on_the_embedded_store() {
    dead_letter_retried_by_hand(spawn(None, true).await).await;
}

#[tokio::test]
async fn an_endpoint_answering_400_gets_a_dead_letter_retried_by_hand_on_redis() {
    let redis = RedisServer::start();
    dead_letter_retried_by_hand(spawn(Some(&redis), true).await).await;
}

#[tokio::test]
async fn both_secrets_sign_while_a_rotation_overlaps_then_only_the_new_one() {
    let app = spawn(None, true).await;
    let port = free_port();
    let (id, old) = endpoint(&app, port, json!([])).await;
    let rotated = app.post(&format!("/admin/v1/webhooks/{id}/_rotate_secret"), json!({"overlapSeconds": 3600})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    let got = receiver(port, &[&old, &new], json!({}), 1, 500, 60_000);
    app.post(&format!("/admin/v1/webhooks/{id}/_test"), json!({})).await;
    let (requests, _) = recorded(got.await.unwrap());
    assert_eq!(requests[0]["verified"], json!([true, true]), "{requests:#?}");
    assert_eq!(requests[0]["signatures"], 2);

    let rotated = app.post(&format!("/admin/v1/webhooks/{id}/_rotate_secret"), json!({"overlapSeconds": 0})).await;
    let newest = rotated.body["secret"].as_str().unwrap().to_owned();
    let got = receiver(port, &[&old, &new, &newest], json!({}), 1, 500, 60_000);
    app.post(&format!("/admin/v1/webhooks/{id}/_test"), json!({})).await;
    let (requests, _) = recorded(got.await.unwrap());
    assert_eq!(requests[0]["verified"], json!([false, false, true]), "{requests:#?}");
    assert_eq!(requests[0]["signatures"], 1);
    app.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_for_the_whole_retry_period_is_disabled() {
    let app = spawn_retrying_for(None, true, Duration::from_secs(2)).await;
    let port = free_port();
    let (id, secret) = endpoint(&app, port, json!(["invitation.created"])).await;
    let got = receiver(port, &[&secret], json!({"status": 503}), 3, 3000, 60_000);
    app.create_user("down", "down@example.com").await;
    let listed = deliveries_when(&app, &id, |all| all.first().is_some_and(|d| d["status"] == "dead_letter")).await;
    assert!(listed[0]["attempts"].as_u64().unwrap() >= 3, "{listed:#?}");
    assert_eq!(listed[0]["lastResponseCode"], 503);
    let endpoint = app.get(&format!("/admin/v1/webhooks/{id}")).await;
    assert_eq!(endpoint.body["enabled"], false, "{}", endpoint.body);
    let (requests, _) = recorded(got.await.unwrap());
    assert!(requests.iter().all(|r| r["status"] == 503));
    app.stop().await;
}

#[tokio::test]
async fn an_endpoint_on_a_private_address_is_refused() {
    let app = spawn(None, false).await;
    let port = free_port();
    let (_, secret) = endpoint(&app, port, json!([])).await;
    let got = receiver(port, &[&secret], json!({}), 1, 0, 3000);
    app.create_user("private", "private@example.com").await;
    app.wait_for_mails("private@example.com", 1).await;
    let (requests, timed_out) = recorded(got.await.unwrap());
    assert!(timed_out && requests.is_empty(), "{requests:#?}");
    app.stop().await;
}

/// How many of the endpoint's deliveries (of the newest 1000) are delivered.
async fn delivered_count(app: &TestApp, endpoint: &str) -> usize {
    let listed = app.get(&format!("/admin/v1/webhooks/{endpoint}/deliveries?limit=1000")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["result"].as_array().map_or(0, |all| all.iter().filter(|d| d["status"] == "delivered").count())
}

/// The node holding the endpoint's lease in Redis, if any.
fn lease_holder(redis: &RedisServer, endpoint: &str) -> Option<String> {
    onboard_redis::testing::command(redis.port, &format!("GET onb:{{wh:{endpoint}}}:lease"))
}

/// Two nodes on one Redis; the node posting to the endpoint dies as a
/// SIGKILL'ed process does, mid-delivery (the receiver answers each post
/// 20 ms late, so one is in flight), and then Redis is killed and started
/// again on its append-only file (synced on every write) while the other
/// node delivers. Every event arrives at least once; a fault may cost one
/// duplicate (the post in flight), no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_mid_delivery_and_redis_restarted_lose_no_event_and_duplicate_at_most_one_per_fault() {
    const USERS: usize = 60;
    let mut redis = RedisServer::start_persistent();
    let url = redis.url();
    let a = TestApp::spawn_killable_with(move |config| {
        on_redis(RedisTarget::Url(url))(config);
        config.webhook_allow_private = true;
        config.webhook_retry_base = Duration::from_millis(100);
        // What the dead node held (the endpoint, partitions, emails) is taken over soon.
        config.outbox_reclaim_after = Duration::from_secs(2);
    })
    .await;
    let b = a.spawn_killable_peer("hooks-node-b").await;
    let port = free_port();
    let (endpoint_id, secret) = endpoint(&a, port, json!(["invitation.created", "email.sent"])).await;
    let got = receiver(port, &[&secret], json!({"delayMs": 20, "unique": true}), 2 * USERS, 2000, 60_000);

    let mut users = Vec::new();
    for i in 0..USERS {
        let node = if i % 2 == 0 { &a } else { &b };
        users.push(node.create_user(&format!("fault{i}"), &format!("fault{i}@example.com")).await);
    }
    // Kill the posting node once it is well into the load.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while delivered_count(&a, &endpoint_id).await < USERS / 2 {
        assert!(std::time::Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holder = lease_holder(&redis, &endpoint_id).expect("a node holds the endpoint");
    let (victim, survivor) = if holder == a.node_name() { (a, b) } else { (b, a) };
    assert_eq!(holder, victim.node_name());
    let delivered_at_kill = delivered_count(&survivor, &endpoint_id).await;
    victim.kill();

    // Once the other node took the endpoint over and delivers, Redis dies and comes back.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while lease_holder(&redis, &endpoint_id).as_deref() != Some(survivor.node_name())
        || delivered_count(&survivor, &endpoint_id).await < delivered_at_kill + 5
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the endpoint was not taken over: held by {:?}, {} delivered (at the kill: {delivered_at_kill})",
            lease_holder(&redis, &endpoint_id),
            delivered_count(&survivor, &endpoint_id).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered_at_restart = delivered_count(&survivor, &endpoint_id).await;
    redis.restart();

    let (requests, timed_out) = recorded(got.await.unwrap());
    let ids: std::collections::HashSet<&str> = requests.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let duplicates = requests.len() - ids.len();
    println!(
        "{} posts of {} events: {duplicates} duplicates over 2 faults (killed at {delivered_at_kill} delivered, \
         Redis restarted at {delivered_at_restart})",
        requests.len(),
        ids.len()
    );
    assert!(!timed_out, "{} of {} events arrived", ids.len(), 2 * USERS);
    assert!(requests.iter().all(|r| r["verified"] == json!([true])), "{requests:#?}");
    for user in &users {
        let mine: Vec<&Value> = requests.iter().filter(|r| r["body"]["data"]["userId"] == user.as_str()).collect();
        let mut types = types_of(&mine);
        types.dedup();
        assert_eq!(types, ["invitation.created", "email.sent"], "{mine:#?}");
    }
    assert_eq!(ids.len(), 2 * USERS);
    assert!(duplicates <= 2, "{duplicates} duplicates over 2 faults");
    survivor.stop().await;
}

/// Creates `n` users one after the other and waits (up to 60 s) until all
/// their emails are written; the time from the first create to the last email.
async fn email_burst(app: &TestApp, prefix: &str, n: usize) -> Duration {
    let started = std::time::Instant::now();
    for i in 0..n {
        app.create_user(&format!("{prefix}{i}"), &format!("{prefix}{i}@example.com")).await;
    }
    loop {
        let mailed = app.mails().iter().filter(|m| m.to.starts_with(prefix)).count();
        if mailed >= n {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{mailed} of {n} emails in a minute");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An endpoint answering each post 2 s late gets a backlog of minutes; the
/// emails of a burst of creates go out meanwhile as they do without it.
async fn slow_endpoint_and_emails(app: TestApp, store: &str) {
    const BURST: usize = 150;
    let alone = email_burst(&app, "alone", BURST).await;
    let port = free_port();
    let (id, secret) = endpoint(&app, port, json!([])).await;
    let got = receiver(port, &[&secret], json!({"delayMs": 2000}), 2, 0, 60_000);
    let slowed = email_burst(&app, "slowed", BURST).await;
    let listed = app.get(&format!("/admin/v1/webhooks/{id}/deliveries?limit=1000")).await;
    let backlog = listed.body["result"].as_array().unwrap().iter().filter(|d| d["status"] == "pending").count();
    let rate = |took: Duration| BURST as f64 / took.as_secs_f64();
    println!(
        "{store}: {BURST} creates' emails in {alone:?} ({:.1}/s) without a webhook endpoint, in {slowed:?} ({:.1}/s) \
         with an endpoint answering in 2 s ({backlog} deliveries still pending)",
        rate(alone),
        rate(slowed)
    );
    // Each create makes two events; the endpoint took at most a few of them.
    assert!(backlog >= BURST, "the slow endpoint's backlog: {backlog}");
    let (requests, _) = recorded(got.await.unwrap());
    assert!(requests.len() >= 2 && requests.iter().all(|r| r["verified"] == json!([true])), "{requests:#?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_endpoint_does_not_slow_emails_on_the_embedded_store() {
    slow_endpoint_and_emails(spawn(None, true).await, "embedded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_endpoint_does_not_slow_emails_on_redis() {
    let redis = RedisServer::start();
    slow_endpoint_and_emails(spawn(Some(&redis), true).await, "redis").await;
}
