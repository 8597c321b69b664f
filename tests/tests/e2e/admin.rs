//! Administration over HTTP (`/admin/v1`, IAM_OWNER only): organizations,
//! service accounts, grants and tokens, and what the tokens can then do.

use onboard_domain::Role;
use onboard_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

const HUMAN: &str = "/management/v1/users/human";

fn new_user(name: &str) -> Value {
    json!({"userName": name, "profile": {"firstName": "Ada", "lastName": "L"}, "email": {"email": format!("{name}@example.com")}})
}

async fn create_org(app: &TestApp, name: &str) -> String {
    let r = app.post("/admin/v1/orgs", json!({"name": name})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn create_account(app: &TestApp, org: &str, name: &str) -> String {
    let r = app.post("/admin/v1/service_accounts", json!({"orgId": org, "name": name})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_iam_owner_sets_up_a_service_account_whose_token_works_until_revoked() {
    let app = TestApp::spawn().await;
    let r = app.post("/admin/v1/orgs", json!({"name": "  Acme "})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Acme");
    let acme = r.body["id"].as_str().unwrap().to_owned();
    let other = create_org(&app, "Other").await;
    let orgs = app.get("/admin/v1/orgs").await;
    let names: Vec<&str> =
        orgs.body["result"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Acme", "Default", "Other"]);

    let r = app.post("/admin/v1/service_accounts", json!({"orgId": acme, "name": "importer"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((&r.body["orgId"], &r.body["name"], &r.body["grants"]), (&json!(acme), &json!("importer"), &json!([])));
    assert!(r.body["creationDate"].as_str().unwrap().ends_with('Z'));
    let bot = r.body["id"].as_str().unwrap().to_owned();

    let grants = format!("/admin/v1/service_accounts/{bot}/grants");
    let r = app.post(&grants, json!({"role": "ORG_USER_MANAGER", "orgId": acme})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["grants"], json!([{"role": "ORG_USER_MANAGER", "orgId": acme}]));

    let r = app.post(&format!("/admin/v1/service_accounts/{bot}/pats"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("expirationDate").is_none(), "{}", r.body);
    let (token, token_id) = (r.body["token"].as_str().unwrap().to_owned(), r.body["tokenId"].as_str().unwrap());
    let token_id = token_id.to_owned();

    // The token acts in its organization, not in another one, and administers nothing.
    let r = app.call(Method::POST, HUMAN, Some(&token), None, Some(new_user("ada"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["details"]["resourceOwner"], acme.as_str());
    let r = app.call(Method::POST, HUMAN, Some(&token), Some(&acme), Some(new_user("ada2"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.call(Method::POST, HUMAN, Some(&token), Some(&other), Some(new_user("bob"))).await.assert_error(
        403,
        7,
        "AUTH-5mWD2",
    );
    app.call(Method::GET, "/admin/v1/orgs", Some(&token), None, None).await.assert_error(403, 7, "AUTH-5mWD2");

    // Listings show the token's record, never the token.
    let pats = app.get(&format!("/admin/v1/pats?serviceAccountId={bot}")).await;
    assert_eq!(pats.status, 200, "{}", pats.body);
    let listed = &pats.body["result"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!((&listed[0]["tokenId"], &listed[0]["serviceAccountId"]), (&json!(token_id), &json!(bot)));
    assert_eq!(listed[0]["revoked"], false);
    let everything = app.get("/admin/v1/pats").await;
    assert!(!everything.body.to_string().contains(&token));
    let accounts = app.get(&format!("/admin/v1/service_accounts?orgId={acme}")).await;
    assert_eq!(accounts.body["result"].as_array().unwrap().len(), 1, "{}", accounts.body);
    assert_eq!(accounts.body["result"][0]["id"], bot.as_str());
    assert!(!accounts.body.to_string().contains(&token));

    let r = app.post(&format!("/admin/v1/pats/{token_id}/_revoke"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["revoked"], true);
    app.call(Method::POST, HUMAN, Some(&token), None, Some(new_user("eve"))).await.assert_error(401, 16, "AUTH-7fs1e");

    let r = app
        .call(Method::DELETE, &format!("{grants}?role=ORG_USER_MANAGER&orgId={acme}"), Some(&app.token), None, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["grants"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn grants_reach_tokens_issued_before_them_and_expiry_is_kept() {
    let app = TestApp::spawn().await;
    let acme = create_org(&app, "Acme").await;
    let bot = create_account(&app, &acme, "bot").await;
    let r = app
        .post(&format!("/admin/v1/service_accounts/{bot}/pats"), json!({"expirationDate": "2999-01-01T00:00:00Z"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["expirationDate"], "2999-01-01T00:00:00Z");
    let token = r.body["token"].as_str().unwrap().to_owned();
    app.call(Method::POST, HUMAN, Some(&token), None, Some(new_user("ada"))).await.assert_error(403, 7, "AUTH-5mWD2");
    let r = app.post(&format!("/admin/v1/service_accounts/{bot}/grants"), json!({"role": "IAM_USER_MANAGER"})).await;
    assert_eq!(r.body["grants"], json!([{"role": "IAM_USER_MANAGER"}]), "{}", r.body);
    let r = app.call(Method::POST, HUMAN, Some(&token), Some(&app.org), Some(new_user("ada"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.stop().await;
}

/// Every admin route, with a body where it takes one.
fn routes(account: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::POST, "/admin/v1/orgs".into(), Some(json!({"name": "X"}))),
        (Method::GET, "/admin/v1/orgs".into(), None),
        (Method::POST, "/admin/v1/service_accounts".into(), Some(json!({"orgId": "1", "name": "x"}))),
        (Method::GET, "/admin/v1/service_accounts".into(), None),
        (Method::POST, format!("/admin/v1/service_accounts/{account}/grants"), Some(json!({"role": "IAM_OWNER"}))),
        (Method::DELETE, format!("/admin/v1/service_accounts/{account}/grants?role=IAM_OWNER"), None),
        (Method::POST, format!("/admin/v1/service_accounts/{account}/pats"), Some(json!({}))),
        (Method::GET, "/admin/v1/pats".into(), None),
        (Method::POST, "/admin/v1/pats/0000/_revoke".into(), None),
    ]
}

#[tokio::test]
async fn only_iam_owners_administer() {
    let app = TestApp::spawn().await;
    let bot = create_account(&app, &app.org, "bot").await;
    let org_owner = app.token_with(&app.org, Role::OrgOwner, &app.org).await;
    let iam_user_manager = app.token_with(&app.org, Role::IamUserManager, "").await;
    for (method, path, body) in routes(&bot) {
        for token in [&org_owner, &iam_user_manager] {
            app.call(method.clone(), &path, Some(token), None, body.clone()).await.assert_error(403, 7, "AUTH-5mWD2");
        }
        app.call(method.clone(), &path, None, None, body.clone()).await.assert_error(401, 16, "ONBOARD-TOKEN-MISSING");
        app.call(method.clone(), &path, Some("onb_forged"), None, body.clone()).await.assert_error(
            401,
            16,
            "AUTH-7fs1e",
        );
    }
    // Nothing was changed by the refused calls.
    let accounts = app.get("/admin/v1/service_accounts").await;
    assert_eq!(accounts.body["result"].as_array().unwrap().len(), 4, "admin, bot and two testers: {}", accounts.body);
    assert!(accounts.body["result"].as_array().unwrap().iter().all(|a| a["name"] != "x"));
    let bot_account = accounts.body["result"].as_array().unwrap().iter().find(|a| a["id"] == bot.as_str()).cloned();
    assert_eq!(bot_account.unwrap()["grants"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn unknown_ids_are_not_found_and_bad_input_is_invalid() {
    let app = TestApp::spawn().await;
    let acme = create_org(&app, "Acme").await;
    let bot = create_account(&app, &acme, "bot").await;
    let grants = format!("/admin/v1/service_accounts/{bot}/grants");

    app.post("/admin/v1/service_accounts", json!({"orgId": "404", "name": "x"})).await.assert_error(
        404,
        5,
        "ONBOARD-ORG-NOT-FOUND",
    );
    app.post("/admin/v1/service_accounts/404/grants", json!({"role": "IAM_OWNER"})).await.assert_error(
        404,
        5,
        "ONBOARD-ACCOUNT-NOT-FOUND",
    );
    app.post(&grants, json!({"role": "ORG_OWNER", "orgId": "404"})).await.assert_error(404, 5, "ONBOARD-ORG-NOT-FOUND");
    app.post("/admin/v1/service_accounts/404/pats", json!({})).await.assert_error(404, 5, "ONBOARD-ACCOUNT-NOT-FOUND");
    app.post("/admin/v1/pats/0000/_revoke", json!({})).await.assert_error(404, 5, "ONBOARD-TOKEN-NOT-FOUND");
    app.call(Method::DELETE, "/admin/v1/service_accounts/404/grants?role=IAM_OWNER", Some(&app.token), None, None)
        .await
        .assert_error(404, 5, "ONBOARD-ACCOUNT-NOT-FOUND");

    let invalid = "ONBOARD-FIELD-INVALID";
    let r = app.post(&grants, json!({"role": "PROJECT_OWNER"})).await;
    r.assert_error(400, 3, invalid);
    assert!(r.body["message"].as_str().unwrap().contains("ORG_USER_MANAGER"), "{}", r.body);
    app.post(&grants, json!({"role": "IAM_OWNER", "orgId": acme})).await.assert_error(400, 3, invalid);
    app.post(&grants, json!({"role": "ORG_OWNER"})).await.assert_error(400, 3, invalid);
    app.post(&grants, json!({"role": "ORG_OWNER", "orgId": ""})).await.assert_error(400, 3, invalid);
    app.call(Method::DELETE, &format!("{grants}?role=KING"), Some(&app.token), None, None)
        .await
        .assert_error(400, 3, invalid);
    app.post("/admin/v1/orgs", json!({"name": "  "})).await.assert_error(400, 3, invalid);
    app.post("/admin/v1/service_accounts", json!({"orgId": acme, "name": "a\u{7}b"}))
        .await
        .assert_error(400, 3, invalid);
    app.post(&format!("/admin/v1/service_accounts/{bot}/pats"), json!({"expirationDate": "2000-01-01T00:00:00Z"}))
        .await
        .assert_error(400, 3, invalid);
    // Malformed requests are refused by the framework, in the same shape.
    app.post(&format!("/admin/v1/service_accounts/{bot}/pats"), json!({"expirationDate": "tomorrow"}))
        .await
        .assert_error(400, 3, "ONBOARD-REQUEST-INVALID");
    app.post("/admin/v1/orgs", json!({})).await.assert_error(400, 3, "ONBOARD-REQUEST-INVALID");

    let accounts = app.get(&format!("/admin/v1/service_accounts?orgId={acme}")).await;
    assert_eq!(accounts.body["result"][0]["grants"], json!([]), "{}", accounts.body);
    app.stop().await;
}
