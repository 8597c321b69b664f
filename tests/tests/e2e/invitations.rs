//! The invitation listing over HTTP (`GET /management/v1/invitations`):
//! states, filters, pagination and errors, on the embedded store and on
//! Redis.

use onboard_redis::RedisTarget;
use onboard_redis::testing::RedisServer;
use onboard_tests::{PageSession, TestApp, on_redis, submit_init_form};
use reqwest::Method;
use serde_json::Value;

const INVITATIONS: &str = "/management/v1/invitations";
const GOOD: &str = "A-good-passw0rd";

/// The invitations of one page: (user id, state) each, and the token.
async fn page(app: &TestApp, query: &str) -> (Vec<Value>, Option<String>) {
    let r = app.get(&format!("{INVITATIONS}?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let list = r.body["invitations"].as_array().cloned().unwrap_or_default();
    (list, r.body["nextPageToken"].as_str().map(str::to_owned))
}

/// The user ids of every invitation `query` finds, page by page.
async fn all(app: &TestApp, query: &str) -> Vec<String> {
    let (mut ids, mut token) = (Vec::new(), None::<String>);
    loop {
        let q = match &token {
            Some(t) => format!("{query}&pageToken={t}"),
            None => query.to_owned(),
        };
        let (list, next) = page(app, &q).await;
        ids.extend(list.iter().map(|i| i["userId"].as_str().unwrap().to_owned()));
        match next {
            Some(t) => token = Some(t),
            None => return ids,
        }
    }
}

async fn list_filter_and_page(app: &TestApp) {
    let ann = app.create_user("ann", "ann@example.com").await;
    let bob = app.create_user("bob", "bob@example.com").await;
    let cid = app.create_user("cid", "cid@example.com").await;
    let dan = app.create_user("dan", "dan@example.com").await;
    // bob completes, cid is withdrawn, dan opens the link (a GET) and stops there.
    let mail = app.wait_for_mails("bob@example.com", 1).await.remove(0);
    let (status, html) = submit_init_form(app, &mail.link, &mail.code, GOOD, GOOD).await;
    assert_eq!(status, 200, "{html}");
    let r = app.call(Method::DELETE, &format!("/management/v1/users/{cid}"), Some(&app.token), None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mail = app.wait_for_mails("dan@example.com", 1).await.remove(0);
    assert_eq!(PageSession::new(app).open(&mail.link).await.status, 200);
    app.wait_for_notifications(&ann, |n| n.first().is_some_and(|n| n["state"] == "sent")).await;

    let (list, next) = page(app, "").await;
    assert_eq!(next, None);
    let ids: Vec<&str> = list.iter().map(|i| i["userId"].as_str().unwrap()).collect();
    assert_eq!(ids, [dan.as_str(), &cid, &bob, &ann], "newest first");
    let states: Vec<&str> = list.iter().map(|i| i["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["pending", "withdrawn", "completed", "pending"]);
    let a = &list[3];
    assert_eq!(
        (a["loginName"].as_str(), a["email"].as_str(), a["orgId"].as_str()),
        (Some("ann"), Some("ann@example.com"), Some(app.org.as_str()))
    );
    assert_eq!((a["resends"].as_u64(), a["remindersSent"].as_u64()), (Some(0), Some(0)));
    assert!(a["createdAt"].is_string() && a["codeExpiresAt"].is_string(), "{a}");
    assert_eq!(a["delivery"]["state"], "sent", "{a}");
    assert!(a.get("opened").is_none() && a.get("lastResentAt").is_none(), "{a}");
    assert!(list[0]["opened"].is_string(), "dan opened his link: {}", list[0]);
    assert!(list[2].get("codeExpiresAt").is_none(), "a completed invitation has no live code");

    // A resend counts.
    let r = app.post(&format!("/management/v1/users/{ann}/_resend_initialization"), serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (list, _) = page(app, "state=pending").await;
    let ids: Vec<&str> = list.iter().map(|i| i["userId"].as_str().unwrap()).collect();
    assert_eq!(ids, [dan.as_str(), &ann]);
    assert_eq!(list[1]["resends"], 1);
    assert!(list[1]["lastResentAt"].is_string());

    // bob's page was shown too, before he completed.
    assert_eq!(all(app, "opened=true").await, [dan.clone(), bob.clone()]);
    assert_eq!(all(app, "opened=false&state=pending").await, vec![ann.clone()]);
    assert_eq!(all(app, "state=completed").await, vec![bob.clone()]);
    assert_eq!(all(app, "state=withdrawn").await, vec![cid.clone()]);
    assert_eq!(all(app, "state=expired").await, Vec::<String>::new());
    assert_eq!(all(app, "expiresBefore=2000-01-01T00:00:00Z").await, Vec::<String>::new());
    assert_eq!(all(app, "expiresBefore=2999-01-01T00:00:00Z").await, [dan.clone(), ann.clone()]);
    let dan_created = list[0]["createdAt"].as_str().unwrap().to_owned();
    assert_eq!(all(app, &format!("createdBefore={dan_created}")).await, [cid.clone(), bob.clone(), ann.clone()]);
    assert_eq!(all(app, "delivery=bounced").await, Vec::<String>::new());
    // One at a time: every invitation once, with a token between.
    let (first, token) = page(app, "pageSize=1").await;
    assert_eq!((first.len(), token.is_some()), (1, true));
    assert_eq!(all(app, "pageSize=1").await, [dan.clone(), cid.clone(), bob.clone(), ann.clone()]);

    // The statistics of the same four, once ann's new email is sent.
    app.wait_for_notifications(&ann, |n| n.len() == 2 && n[0]["state"] == "sent").await;
    let stats = app.get(&format!("{INVITATIONS}/_stats")).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    let s = &stats.body;
    assert_eq!(s["totals"], serde_json::json!({"waiting": 2, "completed": 1, "withdrawn": 1}));
    assert!(s.get("sampled").is_none() && s.get("sampleSize").is_none(), "nothing is sampled: {s}");
    let by_state = |s: &Value| -> Vec<(String, u64)> {
        s["byState"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["state"].as_str().unwrap().to_owned(), c["count"].as_u64().unwrap()))
            .collect()
    };
    let expected = [("pending", 2), ("expired", 0), ("locked", 0), ("completed", 1), ("withdrawn", 1)];
    assert_eq!(by_state(s), expected.map(|(a, n)| (a.to_owned(), n)));
    // The two waiting ones by their latest email: exact, not sampled.
    assert_eq!(s["byDelivery"], serde_json::json!([{"state": "sent", "count": 2}]), "{s}");
    let steps: Vec<(&str, u64)> = s["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["step"].as_str().unwrap(), f["count"].as_u64().unwrap()))
        .collect();
    // The embedded mailer reports no deliveries; dan and bob opened their links, bob completed.
    assert_eq!(steps, [("created", 4), ("delivered", 0), ("opened", 2), ("completed", 1)]);
    // The medians are the store's histograms', exact for the organization:
    // none for created (no step before) nor delivered (none timed); for
    // opened (from the creation: no delivery was known) and completed (from
    // the opening) the middle of the bucket holding the middle invitation.
    let median = |i: usize| s["funnel"][i]["medianSecondsFromPrevious"].as_f64();
    assert_eq!((median(0), median(1)), (None, None), "{s}");
    let middles: Vec<f64> = (0..128).map(|b| onboard_domain::ports::bucket_middle(b).as_secs_f64()).collect();
    for i in [2, 3] {
        assert!(median(i).is_some_and(|m| middles.contains(&m)), "step {i}: {s}");
    }

    // dan's code locked by wrong attempts: counted locked at once, as the listing shows him.
    for _ in 0..5 {
        let body = serde_json::json!({"verificationCode": "WRONG1"});
        let r = app.post(&format!("/v2/users/{dan}/invite_code/verify"), body).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    assert_eq!(all(app, "state=locked").await, vec![dan.clone()]);
    let stats = app.get(&format!("{INVITATIONS}/_stats")).await;
    let expected = [("pending", 1), ("expired", 0), ("locked", 1), ("completed", 1), ("withdrawn", 1)];
    assert_eq!(by_state(&stats.body), expected.map(|(a, n)| (a.to_owned(), n)), "{}", stats.body);
    // A resend gives him a new code: pending again.
    let r = app.post(&format!("/management/v1/users/{dan}/_resend_initialization"), serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stats = app.get(&format!("{INVITATIONS}/_stats")).await;
    assert_eq!(by_state(&stats.body)[..3], [("pending".into(), 2), ("expired".into(), 0), ("locked".into(), 0)]);

    // Another organization's invitations are its own.
    let other = app.create_org("Other").await;
    let theirs = app.call(Method::GET, INVITATIONS, Some(&app.token), Some(&other), None).await;
    assert_eq!((theirs.status.as_u16(), theirs.body["invitations"].as_array().map(Vec::len)), (200, Some(0)));

    // Bad input: clear errors in the contract's shape.
    let bad = |q: &'static str| async move { app.get(&format!("{INVITATIONS}?{q}")).await };
    bad("pageToken=not-a-token").await.assert_error(400, 3, "ONBOARD-PAGE-TOKEN-INVALID");
    bad("pageSize=1001").await.assert_error(400, 3, "ONBOARD-LIST-LIMIT-EXCEEDED");
    bad("state=lost").await.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    bad("delivery=lost").await.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    bad("expiresBefore=tomorrow").await.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    bad("state=completed&expiresBefore=2999-01-01T00:00:00Z").await.assert_error(
        400,
        3,
        "ONBOARD-INVITATION-FILTER-INVALID",
    );
    let anonymous = app.call(Method::GET, INVITATIONS, None, None, None).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
}

#[tokio::test]
async fn invitations_are_listed_filtered_and_paged() {
    let app = TestApp::spawn().await;
    list_filter_and_page(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn invitations_are_listed_filtered_and_paged_on_redis() {
    let redis = RedisServer::start();
    let app = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    list_filter_and_page(&app).await;
    app.stop().await;
}

const RESEND: &str = "/management/v1/invitations/_resend";

/// A bulk resend with `key` as its Idempotency-Key, if any.
async fn bulk(app: &TestApp, body: Value, key: Option<&str>) -> onboard_tests::Reply {
    let mut req = app.client.post(app.url(RESEND)).bearer_auth(&app.token).json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    TestApp::reply(req.send().await.expect("sent")).await
}

fn outcomes(body: &Value) -> Vec<(String, String)> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["userId"].as_str().unwrap().to_owned(), r["outcome"].as_str().unwrap().to_owned()))
        .collect()
}

async fn resend_many(app: &TestApp) {
    let ann = app.create_user("ann", "ann@example.com").await;
    let bob = app.create_user("bob", "bob@example.com").await;
    let cid = app.create_user("cid", "cid@example.com").await;
    let mail = app.wait_for_mails("cid@example.com", 1).await.remove(0);
    let (status, html) = submit_init_form(app, &mail.link, &mail.code, GOOD, GOOD).await;
    assert_eq!(status, 200, "{html}");

    // Named users: duplicates count once, each gets its own outcome.
    let r = bulk(app, serde_json::json!({"userIds": [ann, ann, cid, "404404", bob]}), Some("bulk-1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let want = |v: &[(&str, &str)]| v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
    assert_eq!(
        outcomes(&r.body),
        want(&[(&ann, "resent"), (&cid, "not_pending"), ("404404", "not_found"), (&bob, "resent")])
    );
    let notification = r.body["results"][0]["notificationId"].as_str().unwrap().to_owned();
    app.wait_for_mails("ann@example.com", 2).await;
    assert_eq!(app.notifications(&ann).await[0]["id"], notification.as_str());
    // The same key and request: the first answer again, no new email.
    let raw = app
        .client
        .post(app.url(RESEND))
        .bearer_auth(&app.token)
        .header("Idempotency-Key", "bulk-1")
        .json(&serde_json::json!({"userIds": [ann, ann, cid, "404404", bob]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(raw.headers().get("idempotent-replayed").map(|v| v.as_bytes()), Some(&b"true"[..]));
    let again = TestApp::reply(raw).await;
    assert_eq!((again.status.as_u16(), &again.body), (200, &r.body));
    assert!(bulk(app, serde_json::json!({"userIds": [bob]}), None).await.status.is_success(), "no key: runs");
    assert_eq!(app.notifications(&ann).await.len(), 2, "a replay sends nothing");
    let other = bulk(app, serde_json::json!({"userIds": [ann]}), Some("bulk-1")).await;
    other.assert_error(409, 6, "ONBOARD-IDEMPOTENCY-KEY-REUSED");

    // A filter: the matches, newest first.
    let r = bulk(app, serde_json::json!({"filter": {"state": "pending"}}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(outcomes(&r.body), want(&[(&bob, "resent"), (&ann, "resent")]));
    let (list, _) = page(app, "state=pending").await;
    assert_eq!((list[0]["resends"].as_u64(), list[1]["resends"].as_u64()), (Some(3), Some(2)), "bob once more");

    // Bad requests change nothing.
    for body in [
        serde_json::json!({}),
        serde_json::json!({"userIds": []}),
        serde_json::json!({"userIds": [ann], "filter": {}}),
        serde_json::json!({"userIds": (0..1001).map(|n| n.to_string()).collect::<Vec<_>>()}),
        serde_json::json!({"filter": {"state": "lost"}}),
    ] {
        bulk(app, body, None).await.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    }
    assert_eq!(app.notifications(&ann).await.len(), 3);
}

#[tokio::test]
async fn invitations_are_resent_in_bulk() {
    let app = TestApp::spawn().await;
    resend_many(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn invitations_are_resent_in_bulk_on_redis() {
    let redis = RedisServer::start();
    let app = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    resend_many(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_bulk_resend_is_throttled_per_user() {
    let app = TestApp::spawn_with(|c| c.throttle = onboard_domain::ThrottleConfig::default()).await;
    let ann = app.create_user("ann", "ann@example.com").await;
    let first = bulk(&app, serde_json::json!({"userIds": [ann]}), None).await;
    assert_eq!(outcomes(&first.body), [(ann.clone(), "resent".to_owned())], "{}", first.body);
    let second = bulk(&app, serde_json::json!({"userIds": [ann]}), None).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let result = &second.body["results"][0];
    assert_eq!(result["outcome"], "throttled", "{}", second.body);
    assert!(result["retryAfter"].as_u64().is_some_and(|s| (1..=60).contains(&s)), "{result}");
    assert!(result["reason"].as_str().is_some_and(|r| r.contains("short while")), "{result}");
    app.stop().await;
}
