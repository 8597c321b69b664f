//! Finding, checking and withdrawing invitations over HTTP: ListUsers,
//! IsUserUnique, GetUserByLoginNameGlobal, RemoveUser and ListUserChanges,
//! with ZITADEL's paths, defaults, limits and error ids, on the embedded
//! store and on Redis.

use onboard_redis::RedisTarget;
use onboard_redis::testing::{RedisCluster, RedisServer};
use onboard_tests::{TestApp, on_redis, submit_init_form};
use reqwest::Method;
use serde_json::{Value, json};

const USERS: &str = "/management/v1/users";
const GOOD: &str = "A-good-passw0rd";

fn names(body: &Value) -> Vec<String> {
    body["result"]
        .as_array()
        .map(|users| users.iter().map(|u| u["userName"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

async fn search(app: &TestApp, body: Value) -> Value {
    let r = app.post(&format!("{USERS}/_search"), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn initialize(app: &TestApp, email: &str) {
    let mail = app.wait_for_mails(email, 1).await.remove(0);
    let (status, html) = submit_init_form(app, &mail.link, &mail.code, GOOD, GOOD).await;
    assert_eq!(status, 200, "{html}");
}

/// The scenario a back office runs, on whichever store `app` has.
async fn find_check_and_withdraw(app: &TestApp) {
    let ann = app.create_user("ann", "ann@example.com").await;
    let bob = app.create_user("bob", "bob@example.com").await;
    let cid = app.create_user("cid", "cid@example.org").await;
    initialize(app, "bob@example.com").await;
    let other = app.create_org("Other").await;
    let r = app
        .call(
            Method::POST,
            &format!("{USERS}/human"),
            Some(&app.token),
            Some(&other),
            Some(json!({"userName": "elsewhere", "profile": {"firstName": "E", "lastName": "W"}, "email": {"email": "e@example.com"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Who is still Initial, by creation date: ann, then cid; the other organization's user never shows.
    let initial = json!({"queries": [{"stateQuery": {"state": "USER_STATE_INITIAL"}}], "sortingColumn": "USER_FIELD_NAME_CREATION_DATE", "query": {"asc": true}});
    let page = search(app, initial.clone()).await;
    assert_eq!(names(&page), ["ann", "cid"]);
    assert_eq!(page["details"]["totalResult"], "2");
    assert!(page["details"]["viewTimestamp"].is_string(), "{page}");
    assert_eq!(page["sortingColumn"], "USER_FIELD_NAME_CREATION_DATE");
    assert_eq!(page["result"][0]["state"], "USER_STATE_INITIAL");
    assert_eq!(page["result"][0]["id"], ann.as_str());
    // Newest first when not ascending; pages by offset and limit.
    let mut newest = initial.clone();
    newest["query"] = json!({"offset": "1", "limit": 1});
    let page = search(app, newest).await;
    assert_eq!((names(&page), &page["details"]["totalResult"]), (vec!["ann".to_owned()], &json!("2")));
    // No query: every user of the organization (the admin token's org has the three).
    assert_eq!(search(app, json!({})).await["details"]["totalResult"], "3");
    // Text methods, combinators and sorting.
    let q = json!({"queries": [{"orQuery": {"queries": [
        {"emailQuery": {"emailAddress": "@EXAMPLE.ORG", "method": "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE"}},
        {"userNameQuery": {"userName": "bo", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}
    ]}}, {"notQuery": {"query": {"inUserIdsQuery": {"userIds": [ann]}}}}], "sortingColumn": "USER_FIELD_NAME_USER_NAME", "query": {"asc": false}});
    assert_eq!(names(&search(app, q).await), ["cid", "bob"]);
    let q = json!({"queries": [{"loginNameQuery": {"loginName": "BOB", "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}]});
    assert_eq!(names(&search(app, q).await), ["bob"]);
    let q = json!({"queries": [{"inUserEmailsQuery": {"userEmails": ["ANN@example.com", "e@example.com"]}}]});
    assert_eq!(names(&search(app, q).await), ["ann"]);
    // ZITADEL's refusals.
    app.post(&format!("{USERS}/_search"), json!({"query": {"limit": 1001}})).await.assert_error(400, 3, "QUERY-4M0fs");
    app.post(&format!("{USERS}/_search"), json!({"queries": [{}]})).await.assert_error(400, 3, "GRPC-vR9nC");
    let mut deep = json!({"stateQuery": {"state": "USER_STATE_INITIAL"}});
    for _ in 0..21 {
        deep = json!({"notQuery": {"query": deep}});
    }
    app.post(&format!("{USERS}/_search"), json!({"queries": [deep]})).await.assert_error(400, 3, "USER-zsQ97");

    // Uniqueness: name and email, each or both, in the organization.
    let unique = |q: &str| format!("{USERS}/_is_unique?{q}");
    assert_eq!(app.get(&unique("userName=ANN")).await.body, json!({}), "taken: isUnique false is left out");
    assert_eq!(app.get(&unique("userName=dora")).await.body["isUnique"], true);
    assert_eq!(app.get(&unique("email=cid@example.org")).await.body, json!({}));
    assert_eq!(app.get(&unique("user_name=ann&email=other@example.com")).await.body["isUnique"], true);
    assert_eq!(app.get(&unique("userName=elsewhere")).await.body["isUnique"], true, "another organization's");

    // The global lookup finds a user of any organization by its login name.
    let global = |name: &str| format!("/management/v1/global/users/_by_login_name?loginName={name}");
    let found = app.get(&global("elsewhere")).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["user"]["details"]["resourceOwner"], other.as_str());
    assert_eq!(app.get(&global("Ann")).await.body["user"]["id"], ann.as_str());
    app.get(&global("nobody")).await.assert_error(404, 5, "QUERY-Dfbg2");

    // Withdrawing ann's invitation.
    let mail = app.wait_for_mails("ann@example.com", 1).await.remove(0);
    let removed = app.call(Method::DELETE, &format!("{USERS}/{ann}"), Some(&app.token), None, None).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["details"]["resourceOwner"], app.org.as_str());
    assert!(removed.body["details"]["creationDate"].is_null(), "a change's details: {}", removed.body);
    app.get(&format!("{USERS}/{ann}")).await.assert_error(404, 5, "QUERY-Dfbg2");
    app.post(&format!("{USERS}/{ann}/_resend_initialization"), json!({})).await.assert_error(404, 5, "COMMAND-2M9df");
    app.call(Method::DELETE, &format!("{USERS}/{ann}"), Some(&app.token), None, None).await.assert_error(
        404,
        5,
        "COMMAND-m9od",
    );
    // The mailed code is dead, and the link says what it says for a user that never was.
    let (status, html) = submit_init_form(app, &mail.link, &mail.code, GOOD, GOOD).await;
    let (unknown_status, unknown_html) =
        submit_init_form(app, &mail.link.replace("userID=", "userID=9"), &mail.code, GOOD, GOOD).await;
    assert_eq!((status, &html), (unknown_status, &unknown_html));
    // Gone from the listings, and the name is free again.
    assert_eq!(names(&search(app, initial).await), ["cid"]);
    assert_eq!(app.get(&unique("userName=ann")).await.body["isUnique"], true);
    let again = app.create_user("ann", "ann@example.com").await;
    assert_ne!(again, ann);

    // ann's history: her own events, newest first by default, with who did them.
    let changes = app.post(&format!("{USERS}/{ann}/changes/_search"), json!({})).await;
    assert_eq!(changes.status, 200, "{}", changes.body);
    let log = changes.body["result"].as_array().unwrap().clone();
    let keys: Vec<&str> = log.iter().map(|c| c["eventType"]["key"].as_str().unwrap()).collect();
    assert_eq!(keys.first(), Some(&"EventTypes.user.removed"));
    assert_eq!(keys.last(), Some(&"EventTypes.user.human.added"));
    assert!(keys.contains(&"EventTypes.user.human.initialization.code.added"), "{keys:?}");
    assert_eq!(log[0]["eventType"]["localizedMessage"], "User removed");
    assert_eq!(log.last().unwrap()["eventType"]["localizedMessage"], "Person added");
    assert!(log.iter().all(|c| c["resourceOwnerId"] == app.org.as_str()));
    assert!(log.iter().all(|c| c["editorId"].is_string() && c["editorDisplayName"].is_string()), "{log:?}");
    let sent: Vec<&Value> =
        log.iter().filter(|c| c["eventType"]["key"] == "EventTypes.user.human.initialization.code.sent").collect();
    assert!(sent.iter().all(|c| c["editorId"] == "NOTIFICATION"), "{sent:?}");
    let text = changes.body.to_string();
    assert!(!text.contains(&mail.code) && !text.contains("argon2"), "no code or hash: {text}");
    // Oldest first, after a sequence, limited.
    let asc = app
        .post(&format!("{USERS}/{ann}/changes/_search"), json!({"query": {"asc": true, "sequence": "1", "limit": 1}}))
        .await;
    let asc = asc.body["result"].as_array().unwrap().clone();
    assert_eq!(asc.len(), 1);
    assert_eq!(asc[0]["sequence"], "2");
    app.post(&format!("{USERS}/{ann}/changes/_search"), json!({"query": {"limit": 1001}})).await.assert_error(
        400,
        3,
        "QUERY-4M0fs",
    );
    // Another organization's user has no history here.
    let r = app.post(&format!("{USERS}/{bob}/changes/_search"), json!({})).await;
    assert!(r.body["result"].as_array().is_some_and(|l| !l.is_empty()));
    let theirs = app
        .call(Method::POST, &format!("{USERS}/{cid}/changes/_search"), Some(&app.token), Some(&other), Some(json!({})))
        .await;
    assert_eq!((theirs.status.as_u16(), theirs.body.clone()), (200, json!({})));
}

#[tokio::test]
async fn back_office_finds_checks_and_withdraws_invitations() {
    let app = TestApp::spawn().await;
    find_check_and_withdraw(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn back_office_finds_checks_and_withdraws_invitations_on_redis() {
    let redis = RedisServer::start();
    let app = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    find_check_and_withdraw(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn back_office_finds_checks_and_withdraws_invitations_on_a_redis_cluster() {
    let cluster = RedisCluster::start(3);
    let app = TestApp::spawn_with(on_redis(RedisTarget::Cluster(cluster.seeds()))).await;
    find_check_and_withdraw(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_removal_with_an_idempotency_key_is_replayed() {
    let app = TestApp::spawn().await;
    let id = app.create_user("once", "once@example.com").await;
    let delete = || {
        app.client
            .delete(app.url(&format!("{USERS}/{id}")))
            .bearer_auth(&app.token)
            .header("Idempotency-Key", "remove-once")
            .send()
    };
    let first = delete().await.unwrap();
    assert_eq!(first.status(), 200);
    let first_body = first.text().await.unwrap();
    let again = delete().await.unwrap();
    assert_eq!(again.status(), 200, "replayed, not 404");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first_body);
    app.stop().await;
}
