//! Delivery through SendGrid, against a SendGrid-compatible server on
//! loopback: what arrives, retries, dead letters, and the delivery status
//! users of the API can query.

use std::time::Duration;

use base64::Engine;
use onboard_redis::RedisTarget;
use onboard_redis::testing::RedisServer;
use onboard_sendgrid::testing::{FakeSendGrid, Reply};
use onboard_tests::{TestApp, on_redis, on_sendgrid, submit_init_form};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};

const KEY: &str = "SG.onboard-tests";

async fn create(app: &TestApp, name: &str) -> (String, String) {
    let resp = app
        .client
        .post(app.url("/management/v1/users/human"))
        .bearer_auth(&app.token)
        .json(&json!({"userName": name, "profile": {"firstName": "S", "lastName": "G"}, "email": {"email": format!("{name}@example.com")}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let notification = resp.headers()["x-onboard-notification-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    (body["userId"].as_str().unwrap().to_owned(), notification)
}

async fn wait_for_delivered(fake: &FakeSendGrid, count: usize) -> Vec<onboard_sendgrid::testing::Delivered> {
    for _ in 0..300 {
        let got = fake.delivered();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("SendGrid got {} emails, not {count}", fake.delivered().len());
}

fn states(list: &[Value]) -> Vec<String> {
    list.iter().map(|n| n["state"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_email_arrives_and_its_status_says_sent() {
    let fake = FakeSendGrid::start(KEY).await;
    let app = TestApp::spawn_with(on_sendgrid(&fake, None)).await;
    let (id, notification) = create(&app, "arrives").await;
    let got = wait_for_delivered(&fake, 1).await;
    let d = &got[0];
    assert_eq!(d.to, "arrives@example.com");
    assert_eq!(d.subject, "Initialize User");
    assert!(
        d.text.contains(&format!("{}/ui/login/user/init?userID={id}&loginname=arrives&code=", app.base)),
        "{}",
        d.text
    );
    assert!(d.html.contains(">Finish initialization</a>"));
    assert_eq!(d.custom_args["onboard_notification_id"], notification.as_str());
    let list = app.wait_for_notifications(&id, |l| states(l) == ["sent"]).await;
    assert_eq!(list[0]["id"], notification.as_str());
    assert_eq!(list[0]["attempts"], 1);
    assert_eq!(list[0]["providerMessageId"], d.message_id.as_str());
    assert_eq!(list[0]["recipient"], "arrives@example.com");
    // The code in the email works.
    let code = d.text.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let link = d.text.lines().find(|l| l.contains("/ui/login/user/init?")).unwrap().trim().to_owned();
    let (status, html) = submit_init_form(&app, &link, &code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 200, "{html}");
    // Resends say which email they made, too.
    let resend = app
        .client
        .post(app.url(&format!("/management/v1/users/{id}/_resend_initialization")))
        .bearer_auth(&app.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resend.status(), 400, "already initialized");
    app.stop().await;
}

#[tokio::test]
async fn server_errors_are_retried_until_accepted() {
    let fake = FakeSendGrid::start(KEY).await;
    fake.script([Reply::Status(500), Reply::Status(500), Reply::Status(500)]);
    let app = TestApp::spawn_with(on_sendgrid(&fake, None)).await;
    let (id, _) = create(&app, "persistent").await;
    assert_eq!(wait_for_delivered(&fake, 1).await.len(), 1);
    let list = app.wait_for_notifications(&id, |l| states(l) == ["sent"]).await;
    assert_eq!(list[0]["attempts"], 4);
    assert_eq!(fake.calls(), 4);
    app.stop().await;
}

#[tokio::test]
async fn a_throttled_send_waits_for_retry_after() {
    let fake = FakeSendGrid::start(KEY).await;
    fake.script([Reply::Throttle { retry_after_secs: 1 }]);
    let app = TestApp::spawn_with(on_sendgrid(&fake, None)).await;
    let (id, _) = create(&app, "patient").await;
    wait_for_delivered(&fake, 1).await;
    let times = fake.call_times();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_millis(950), "retried after {:?}", times[1] - times[0]);
    app.wait_for_notifications(&id, |l| states(l) == ["sent"]).await;
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_key_fails_the_email_without_retrying() {
    let fake = FakeSendGrid::start(KEY).await;
    fake.script([Reply::Status(401)]);
    let app = TestApp::spawn_with(on_sendgrid(&fake, None)).await;
    let (id, _) = create(&app, "refused").await;
    let list = app.wait_for_notifications(&id, |l| states(l) == ["failed"]).await;
    assert!(list[0]["lastError"].as_str().unwrap().starts_with("permanent mail failure: 401"), "{}", list[0]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.calls(), 1);
    assert!(fake.delivered().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_burst_of_resends_mails_only_the_newest_code() {
    let fake = FakeSendGrid::start(KEY).await;
    // The creation email is in flight while the admin resends five times.
    fake.script([Reply::Stall(Duration::from_millis(800))]);
    let app = TestApp::spawn_with(on_sendgrid(&fake, None)).await;
    let (id, _) = create(&app, "burst").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut newest = String::new();
    for _ in 0..5 {
        let r = app
            .client
            .post(app.url(&format!("/management/v1/users/{id}/_resend_initialization")))
            .bearer_auth(&app.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        newest = r.headers()["x-onboard-notification-id"].to_str().unwrap().to_owned();
    }
    let got = wait_for_delivered(&fake, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.delivered().len(), 2, "the creation email and the newest resend only");
    assert_eq!(got[1].custom_args["onboard_notification_id"], newest.as_str());
    let list = app.wait_for_notifications(&id, |l| l.len() == 6 && l[0]["state"] == "sent").await;
    let mut counts = std::collections::HashMap::new();
    for s in states(&list) {
        *counts.entry(s).or_insert(0) += 1;
    }
    assert_eq!(counts.get("sent"), Some(&2), "{list:?}");
    assert_eq!(counts.get("superseded"), Some(&4), "{list:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_code_that_expired_before_sending_is_not_mailed() {
    let fake = FakeSendGrid::start(KEY).await;
    fake.script([Reply::Throttle { retry_after_secs: 2 }]);
    let app = TestApp::spawn_with(|c| {
        on_sendgrid(&fake, None)(c);
        c.code_lifetime = Duration::from_secs(1);
    })
    .await;
    let (id, _) = create(&app, "late").await;
    let list = app.wait_for_notifications(&id, |l| states(l) == ["expired"]).await;
    assert_eq!(list[0]["state"], "expired");
    assert!(fake.delivered().is_empty());
    app.stop().await;
}

fn signing_pair() -> (SigningKey, String) {
    let signing = SigningKey::from_bytes(&[42u8; 32].into()).unwrap();
    let der = p256::PublicKey::from(signing.verifying_key()).to_public_key_der().unwrap();
    (signing, base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
}

async fn post_events(app: &TestApp, signing: &SigningKey, events: &Value, tamper: bool) -> reqwest::StatusCode {
    let body = serde_json::to_vec(events).unwrap();
    let ts = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let mut signed = ts.clone().into_bytes();
    signed.extend_from_slice(&body);
    let sig: Signature = signing.sign(&signed);
    let sig = base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes());
    let sent_body = if tamper { body.iter().map(|b| if *b == b'd' { b'D' } else { *b }).collect() } else { body };
    app.client
        .post(app.url("/webhooks/sendgrid"))
        .header("content-type", "application/json")
        .header("X-Twilio-Email-Event-Webhook-Signature", sig)
        .header("X-Twilio-Email-Event-Webhook-Timestamp", ts)
        .body(sent_body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn webhook_events_move_the_status_and_bad_signatures_change_nothing() {
    let fake = FakeSendGrid::start(KEY).await;
    let (signing, public) = signing_pair();
    let app = TestApp::spawn_with(on_sendgrid(&fake, Some(public))).await;
    let (ok_user, ok_note) = create(&app, "hooked").await;
    let (bad_user, bad_note) = create(&app, "bounced").await;
    app.wait_for_notifications(&ok_user, |l| states(l) == ["sent"]).await;
    app.wait_for_notifications(&bad_user, |l| states(l) == ["sent"]).await;
    let event = |user: &str, note: &str, kind: &str, id: &str| {
        json!({"email": "x@example.com", "timestamp": 1_700_000_000, "event": kind, "sg_event_id": id,
               "sg_message_id": "fake-000000.filter", "onboard_user_id": user, "onboard_notification_id": note,
               "reason": "550 5.1.1 no such user"})
    };
    // A forged (or altered) batch is refused and changes nothing.
    let forged = json!([event(&ok_user, &ok_note, "bounce", "e0")]);
    assert_eq!(post_events(&app, &signing, &forged, true).await, 401);
    let (other, _) = (SigningKey::from_bytes(&[7u8; 32].into()).unwrap(), ());
    assert_eq!(post_events(&app, &other, &forged, false).await, 401);
    let unsigned = app.client.post(app.url("/webhooks/sendgrid")).json(&forged).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(states(&app.notifications(&ok_user).await), ["sent"]);

    let batch = json!([
        event(&ok_user, &ok_note, "processed", "e1"),
        event(&ok_user, &ok_note, "delivered", "e2"),
        event(&ok_user, &ok_note, "delivered", "e2"),
        event(&ok_user, &ok_note, "open", "e3"),
        event(&bad_user, &bad_note, "bounce", "e4"),
    ]);
    assert_eq!(post_events(&app, &signing, &batch, false).await, 200);
    assert_eq!(states(&app.notifications(&ok_user).await), ["delivered"]);
    let bounced = app.notifications(&bad_user).await;
    assert_eq!(states(&bounced), ["bounced"]);
    assert_eq!(bounced[0]["lastError"], "550 5.1.1 no such user");
    // The invitation list tells the same: everyone whose email bounced is one call.
    let listed = app.get("/management/v1/invitations?delivery=bounced").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let found = listed.body["invitations"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{}", listed.body);
    assert_eq!(found[0]["userId"], bad_user.as_str());
    assert_eq!(found[0]["delivery"]["state"], "bounced");
    assert_eq!(found[0]["delivery"]["reason"], "550 5.1.1 no such user");
    let delivered = app.get("/management/v1/invitations?delivery=delivered").await;
    let found = delivered.body["invitations"].as_array().unwrap();
    assert_eq!(found.iter().map(|i| i["userId"].clone()).collect::<Vec<_>>(), [json!(ok_user)]);
    app.stop().await;
}

#[tokio::test]
async fn pending_emails_go_out_after_a_restart() {
    let redis = RedisServer::start_persistent();
    let fake = FakeSendGrid::start(KEY).await;
    fake.script([Reply::Status(503)]);
    let mut app = TestApp::spawn_with(|c| {
        on_redis(RedisTarget::Url(redis.url()))(c);
        on_sendgrid(&fake, None)(c);
        c.delivery_retry_base = Duration::from_secs(2);
    })
    .await;
    let (id, _) = create(&app, "restarted").await;
    app.wait_for_notifications(&id, |l| l[0]["attempts"] == 1 && l[0]["state"] == "queued").await;
    app.restart().await;
    let got = wait_for_delivered(&fake, 1).await;
    assert_eq!(got[0].to, "restarted@example.com");
    app.wait_for_notifications(&id, |l| states(l) == ["sent"]).await;
    app.stop().await;
}

/// `count` users created 16 at a time (as many clients would), their ids in order.
async fn create_many(app: &TestApp, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(16) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|i| {
                let (client, url, token) = (app.client.clone(), app.url("/management/v1/users/human"), app.token.clone());
                let body = json!({"userName": format!("bulk{i}"), "profile": {"firstName": "B", "lastName": "R"}, "email": {"email": format!("bulk{i}@example.com")}});
                tokio::spawn(async move { client.post(url).bearer_auth(token).json(&body).send().await })
            })
            .collect();
        for t in tasks {
            let resp = t.await.unwrap().unwrap();
            assert_eq!(resp.status(), 200);
            let body: Value = resp.json().await.unwrap();
            ids.push(body["userId"].as_str().unwrap().to_owned());
        }
    }
    ids
}

#[tokio::test]
async fn a_bulk_resend_of_a_thousand_reaches_sendgrid_gathered_and_each_email_is_settled_as_its_own() {
    // On Redis: its outbox has 16 partitions, each delivered in its own loop.
    let redis = RedisServer::start();
    let fake = FakeSendGrid::start(KEY).await;
    let (on_redis, on_sendgrid) = (on_redis(RedisTarget::Url(redis.url())), on_sendgrid(&fake, None));
    let app = TestApp::spawn_with(|c| {
        on_redis(c);
        on_sendgrid(c);
    })
    .await;
    let ids = create_many(&app, 1000).await;
    wait_for_delivered(&fake, 1000).await;
    let before = fake.calls();
    let started = std::time::Instant::now();
    let resp = app
        .client
        .post(app.url("/management/v1/invitations/_resend"))
        .bearer_auth(&app.token)
        .json(&json!({"userIds": ids}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answered = started.elapsed();
    let body: Value = resp.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1000);
    assert!(results.iter().all(|r| r["outcome"] == "resent"), "{body}");
    let got = wait_for_delivered(&fake, 2000).await;
    let calls = fake.calls() - before;
    // The figure in docs/performance.md (SendGrid).
    eprintln!("bulk resend of 1,000: {calls} SendGrid calls; answered in {answered:?}");
    assert!(calls < 1000, "batched at all: {calls}");
    let resent = &got[1000..];
    for (r, id) in results.iter().zip(&ids) {
        let notification = r["notificationId"].as_str().unwrap();
        let email = resent.iter().find(|d| d.custom_args["onboard_notification_id"] == notification);
        let email = email.unwrap_or_else(|| panic!("no email for {notification}"));
        assert_eq!(email.custom_args["onboard_user_id"], id.as_str());
    }
    // Each email's own outcome comes back to its own notification: the
    // provider id of the call that carried it.
    for (r, id) in results.iter().zip(&ids).step_by(97) {
        let notification = r["notificationId"].as_str().unwrap();
        let email = resent.iter().find(|d| d.custom_args["onboard_notification_id"] == notification).unwrap();
        let list = app.wait_for_notifications(id, |l| l.first().is_some_and(|n| n["state"] == "sent")).await;
        assert_eq!(list[0]["id"], notification);
        assert_eq!(list[0]["providerMessageId"], email.message_id.as_str());
    }
    app.stop().await;
}
