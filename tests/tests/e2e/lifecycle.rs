//! The whole initialization lifecycle, as an admin and a new user live it.

use onboard_redis::RedisTarget;
use onboard_redis::testing::{RedisCluster, RedisServer};
use onboard_tests::{TestApp, on_redis, query_of, submit_init_form};
use serde_json::json;

#[tokio::test]
async fn the_lifecycle_on_the_embedded_store() {
    lifecycle(TestApp::spawn().await).await;
}

#[tokio::test]
async fn the_lifecycle_on_redis() {
    let redis = RedisServer::start();
    lifecycle(TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await).await;
}

#[tokio::test]
async fn the_lifecycle_on_a_redis_cluster() {
    let cluster = RedisCluster::start(3);
    lifecycle(TestApp::spawn_with(on_redis(RedisTarget::Cluster(cluster.seeds()))).await).await;
}

/// Create → email → resend to a corrected address → the old code fails on
/// the page → the new code and a password succeed → the user is active →
/// a further resend is refused.
async fn lifecycle(app: TestApp) {
    // The admin creates a user with a typo in the address: an email goes out at once.
    let created = app
        .post(
            "/management/v1/users/human",
            json!({
                "userName": "jane",
                "profile": {"firstName": "Jane", "lastName": "Doe", "preferredLanguage": "en"},
                "email": {"email": "jane@exmaple.com"}
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["userId"].as_str().unwrap().to_owned();
    assert_eq!(created.body["details"]["sequence"], "2");
    assert_eq!(created.body["details"]["resourceOwner"], app.org.as_str());
    let first = app.wait_for_mails("jane@exmaple.com", 1).await.remove(0);
    app.wait_for_sequence(&id, 3).await;
    assert_eq!(first.subject, "Initialize User");
    assert!(first.html.contains("Finish initialization"));
    let q = query_of(&first.link);
    let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["userID", "loginname", "code", "orgID", "passwordset"]);
    assert!(first.link.starts_with(&format!("{}/ui/login/user/init?userID={id}&loginname=jane&code=", app.base)));
    assert!(first.link.ends_with(&format!("&orgID={}&passwordset=false", app.org)));

    // Resend to the corrected address: the address changes (its own event) and a new code goes out.
    let resent = app
        .post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({"email": "jane@example.com"}))
        .await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    let details = &resent.body["details"];
    // Sequence: added 1, code 2, code sent 3, email changed 4, new code 5.
    assert_eq!(details["sequence"], "5");
    assert_eq!(details["resourceOwner"], app.org.as_str());
    assert_eq!(details["creationDate"], created.body["details"]["creationDate"]);
    assert!(details["changeDate"].as_str().unwrap() > created.body["details"]["changeDate"].as_str().unwrap());
    let second = app.wait_for_mails("jane@example.com", 1).await.remove(0);
    assert_ne!(second.code, first.code);

    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["state"], "USER_STATE_INITIAL");
    assert_eq!(user.body["user"]["human"]["email"], json!({"email": "jane@example.com"}));

    // The old code no longer works on the page, which names the newer email (and counts no attempt).
    let (status, html) = submit_init_form(&app, &first.link, &first.code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 400);
    assert!(html.contains("A newer email was sent to you on "), "{html}");

    // The new code with a password finishes the initialization.
    let (status, html) = submit_init_form(&app, &second.link, &second.code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("is ready"), "{html}");

    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["state"], "USER_STATE_ACTIVE");
    assert_eq!(user.body["user"]["human"]["email"], json!({"email": "jane@example.com", "isEmailVerified": true}));

    // An active user cannot be sent an init email again.
    let again = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
    again.assert_error(400, 9, "COMMAND-2M9sd");
    assert_eq!(again.body["details"][0]["message"], "User is already initialized");
    app.stop().await;
}

#[tokio::test]
async fn a_burst_of_resends_leaves_the_newest_mailed_code_as_the_one_that_works() {
    let app = TestApp::spawn().await;
    let id = app.create_user("burst", "burst@example.com").await;
    app.wait_for_mails("burst@example.com", 1).await;
    let mut sequences = Vec::new();
    for _ in 0..5 {
        let r = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({"email": ""})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        sequences.push(r.body["details"]["sequence"].as_str().unwrap().parse::<u64>().unwrap());
    }
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    // Codes superseded before their turn are never mailed: at most one email per code.
    app.wait_for_mails("burst@example.com", 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mails = app.mails();
    assert!((2..=6).contains(&mails.len()), "{}", mails.len());
    let newest = mails.last().unwrap();
    let (status, html) = submit_init_form(&app, &newest.link, &newest.code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 200, "the newest mailed code works: {html}");
    app.stop().await;
}
