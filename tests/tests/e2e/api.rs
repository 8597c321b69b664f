//! Every route and every error path of the Management API over HTTP.

use onboard_domain::Role;
use onboard_tests::TestApp;
use reqwest::Method;
use serde_json::json;

const HUMAN: &str = "/management/v1/users/human";

fn resend_path(id: &str) -> String {
    format!("/management/v1/users/{id}/_resend_initialization")
}

#[tokio::test]
async fn get_user_returns_the_full_user_in_gateway_json() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            HUMAN,
            json!({
                "userName": "max",
                "profile": {"firstName": "Max", "lastName": "Muster", "nickName": "mm", "preferredLanguage": "de", "gender": "GENDER_MALE"},
                "email": {"email": "Max@Example.com", "isEmailVerified": true},
                "phone": {"phone": "+41 79 000 00 00"}
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["userId"].as_str().unwrap();
    app.wait_for_sequence(id, 3).await;
    let got = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(got.status, 200);
    let user = &got.body["user"];
    let details = user["details"].clone();
    assert_eq!(
        *user,
        json!({
            "id": id,
            "details": details,
            "state": "USER_STATE_INITIAL",
            "userName": "max",
            "loginNames": ["max"],
            "preferredLoginName": "max",
            "human": {
                "profile": {"firstName": "Max", "lastName": "Muster", "nickName": "mm", "displayName": "Max Muster", "preferredLanguage": "de", "gender": "GENDER_MALE"},
                "email": {"email": "Max@example.com", "isEmailVerified": true},
                // In international form, as ZITADEL keeps it.
                "phone": {"phone": "+41790000000"}
            }
        })
    );
    assert_eq!(details["sequence"], "3");
    assert_eq!(details["resourceOwner"], app.org.as_str());
    let ts = details["creationDate"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.len() >= 20, "{ts}");
    app.stop().await;
}

#[tokio::test]
async fn add_with_password_and_verified_email_is_active_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            HUMAN,
            json!({"userName": "active", "profile": {"firstName": "A", "lastName": "B"},
                   "email": {"email": "active@example.com", "isEmailVerified": true}, "initialPassword": "Long-enough-pw1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["details"]["sequence"], "1");
    let id = r.body["userId"].as_str().unwrap();
    let got = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(got.body["user"]["state"], "USER_STATE_ACTIVE");
    app.post(&resend_path(id), json!({})).await.assert_error(400, 9, "COMMAND-2M9sd");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(app.mails().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn import_accepts_passwords_and_argon2_hashes_and_refuses_what_it_cannot_do() {
    let app = TestApp::spawn().await;
    let path = "/management/v1/users/human/_import";
    let hash = onboard_domain::PasswordHash::create("imported-secret").as_phc().to_owned();
    let r = app
        .post(
            path,
            json!({"userName": "imp", "profile": {"firstName": "I", "lastName": "P"},
                   "email": {"email": "imp@example.com", "isEmailVerified": true},
                   "hashedPassword": {"value": hash, "algorithm": "argon2"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["userId"].as_str().unwrap();
    assert_eq!(app.get(&format!("/management/v1/users/{id}")).await.body["user"]["state"], "USER_STATE_ACTIVE");

    let r = app
        .post(path, json!({"userName": "imp2", "profile": {"firstName": "I", "lastName": "P"}, "email": {"email": "imp2@example.com"}, "password": "Another-secret1"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.wait_for_mails("imp2@example.com", 1).await;

    let base = json!({"userName": "imp3", "profile": {"firstName": "I", "lastName": "P"}, "email": {"email": "imp3@example.com"}});
    for (extra, id) in [
        (json!({"requestPasswordlessRegistration": true}), "ONBOARD-FIELD-INVALID"),
        (json!({"password": "X-long-passw0rd", "hashedPassword": {"value": hash}}), "ONBOARD-FIELD-INVALID"),
        (json!({"hashedPassword": {"value": "$2b$10$notargon"}}), "USER-JDk4t"),
        (json!({"hashedPassword": {"value": "md5:abc"}}), "USER-JDk4t"),
        (json!({"password": "short"}), "DOMAIN-HuJf6"),
    ] {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        app.post(path, body).await.assert_error(400, 3, id);
    }
    app.stop().await;
}

#[tokio::test]
async fn add_validates_every_field_and_changes_nothing_on_error() {
    let app = TestApp::spawn().await;
    let good =
        json!({"userName": "v", "profile": {"firstName": "F", "lastName": "L"}, "email": {"email": "v@example.com"}});
    let cases = [
        (json!({"userName": ""}), "V2-zzad3", "Username"),
        (json!({"profile": {"firstName": "", "lastName": "L"}}), "USER-UCej2", "Given name"),
        (
            json!({"profile": {"firstName": "F", "lastName": "L", "preferredLanguage": "not a language"}}),
            "ONBOARD-FIELD-INVALID",
            "PreferredLanguage",
        ),
        (json!({"email": {"email": "nope"}}), "EMAIL-599BI", "Email is invalid"),
        (json!({"email": {}}), "EMAIL-spblu", "Email is empty"),
        (json!({"initialPassword": "short"}), "COMMA-HuJf6", "too short"),
    ];
    for (patch, id, mentions) in cases {
        let mut body = good.clone();
        body.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
        let r = app.post(HUMAN, body).await;
        r.assert_error(400, 3, id);
        assert!(r.body["message"].as_str().unwrap().contains(mentions), "{}", r.body);
    }
    // Unknown enum values are malformed requests.
    let mut body = good.clone();
    body["profile"]["gender"] = json!("GENDER_ROBOT");
    app.post(HUMAN, body).await.assert_error(400, 3, "ONBOARD-REQUEST-INVALID");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(app.mails().is_empty());
    // The name is still free.
    assert_eq!(app.post(HUMAN, good.clone()).await.status, 200);
    // And now it is taken, in any case.
    let mut upper = good;
    upper["userName"] = json!("V");
    app.post(HUMAN, upper).await.assert_error(409, 6, "V3-DKcYh");
    app.stop().await;
}

#[tokio::test]
async fn resend_errors_follow_the_contract() {
    let app = TestApp::spawn().await;
    let id = app.create_user("re", "re@example.com").await;
    app.post(&resend_path("123456"), json!({})).await.assert_error(404, 5, "COMMAND-2M9df");
    let r = app.post(&resend_path(&id), json!({"email": "not-an-address"})).await;
    r.assert_error(400, 3, "EMAIL-599BI");
    let long_id = "1".repeat(201);
    app.post(&resend_path(&long_id), json!({})).await.assert_error(400, 3, "ONBOARD-USERID-INVALID");
    let long_email = format!("{}@example.com", "a".repeat(65));
    app.post(&resend_path(&id), json!({"email": long_email})).await.assert_error(400, 3, "EMAIL-599BI");
    // None of that changed the user.
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["human"]["email"]["email"], "re@example.com");
    // An absent email, an empty one and the same one all only renew the code.
    for body in [json!({}), json!({"email": ""}), json!({"email": "re@example.com"})] {
        assert_eq!(app.post(&resend_path(&id), body).await.status, 200);
    }
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["human"]["email"]["email"], "re@example.com");
    app.stop().await;
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let app = TestApp::spawn().await;
    let id = app.create_user("auth", "auth@example.com").await;
    let get = format!("/management/v1/users/{id}");
    app.call(Method::GET, &get, None, None, None).await.assert_error(401, 16, "ONBOARD-TOKEN-MISSING");
    app.call(Method::POST, &resend_path(&id), None, None, Some(json!({}))).await.assert_error(
        401,
        16,
        "ONBOARD-TOKEN-MISSING",
    );
    app.call(Method::GET, &get, Some("onb_unknown"), None, None).await.assert_error(401, 16, "AUTH-7fs1e");
    // A header that is not a bearer credential is ZITADEL's "invalid auth header".
    let basic = app.client.get(app.url(&get)).header("authorization", "Basic YTpi").send().await.unwrap();
    let basic = TestApp::reply(basic).await;
    basic.assert_error(401, 16, "AUTH-7fs1e");
    assert_eq!(basic.body["message"], "invalid auth header (AUTH-7fs1e)");
    let revoked = app.token_with(&app.org, Role::OrgOwner, &app.org).await;
    assert_eq!(app.call(Method::GET, &get, Some(&revoked), None, None).await.status, 200);
    app.revoke(&revoked).await;
    app.call(Method::GET, &get, Some(&revoked), None, None).await.assert_error(401, 16, "AUTH-7fs1e");
    app.stop().await;
}

#[tokio::test]
async fn roles_and_organizations_decide_access() {
    let app = TestApp::spawn().await;
    let home = app.org.clone();
    let other = app.create_org("Other").await;
    let id = app.create_user("mine", "mine@example.com").await;
    let get = format!("/management/v1/users/{id}");

    // A viewer reads but does not write.
    let viewer = app.token_with(&home, Role::OrgOwnerViewer, &home).await;
    assert_eq!(app.call(Method::GET, &get, Some(&viewer), None, None).await.status, 200);
    app.call(Method::POST, &resend_path(&id), Some(&viewer), None, Some(json!({}))).await.assert_error(
        403,
        7,
        "AUTH-5mWD2",
    );

    // A user manager of the home organization may not act in another one.
    let manager = app.token_with(&home, Role::OrgUserManager, &home).await;
    assert_eq!(app.call(Method::POST, &resend_path(&id), Some(&manager), None, Some(json!({}))).await.status, 200);
    app.call(Method::GET, &get, Some(&manager), Some(&other), None).await.assert_error(403, 7, "AUTH-5mWD2");
    // An organization that does not exist is told before the permission, as ZITADEL does.
    app.call(Method::GET, &get, Some(&manager), Some("404404404"), None).await.assert_error(403, 7, "AUTH-Bs7Ds");
    assert_eq!(app.call(Method::GET, &get, Some(&manager), Some(&home), None).await.status, 200);

    // With a grant there, a user of another organization is hidden: 404, never 403.
    let outsider = app.token_with(&other, Role::OrgOwner, &other).await;
    app.call(Method::GET, &get, Some(&outsider), None, None).await.assert_error(404, 5, "QUERY-Dfbg2");
    app.call(Method::POST, &resend_path(&id), Some(&outsider), None, Some(json!({}))).await.assert_error(
        404,
        5,
        "COMMAND-2M9df",
    );

    // Instance roles count everywhere: the admin creates a user in the other organization.
    let r = app
        .call(Method::POST, HUMAN, Some(&app.token), Some(&other),
              Some(json!({"userName": "theirs", "profile": {"firstName": "T", "lastName": "O"}, "email": {"email": "theirs@example.com"}})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["details"]["resourceOwner"], other.as_str());
    let theirs = r.body["userId"].as_str().unwrap();
    assert_eq!(
        app.call(Method::GET, &format!("/management/v1/users/{theirs}"), Some(&outsider), None, None).await.status,
        200
    );
    app.call(Method::GET, &format!("/management/v1/users/{theirs}"), Some(&app.token), None, None).await.assert_error(
        404,
        5,
        "QUERY-Dfbg2",
    );
    app.stop().await;
}

#[tokio::test]
async fn what_the_framework_rejects_is_in_the_contract_shape_too() {
    let app = TestApp::spawn().await;
    let id = app.create_user("fw", "fw@example.com").await;
    app.wait_for_sequence(&id, 3).await;
    let send = |method: Method, path: String, ctype: Option<&'static str>, body: Vec<u8>| {
        let mut req = app.client.request(method, app.url(&path)).bearer_auth(&app.token).body(body);
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        async move { TestApp::reply(req.send().await.unwrap()).await }
    };
    send(Method::POST, resend_path(&id), Some("application/json"), b"{not json".to_vec()).await.assert_error(
        400,
        3,
        "ONBOARD-REQUEST-INVALID",
    );
    send(Method::POST, resend_path(&id), Some("application/json"), b"[1,2]".to_vec()).await.assert_error(
        400,
        3,
        "ONBOARD-REQUEST-INVALID",
    );
    let big = format!("{{\"email\": \"{}\"}}", "x".repeat(70 * 1024));
    send(Method::POST, resend_path(&id), Some("application/json"), big.into_bytes()).await.assert_error(
        413,
        8,
        "ONBOARD-BODY-TOO-LARGE",
    );
    send(Method::GET, "/management/v1/nothing/here".into(), None, vec![]).await.assert_error(
        404,
        5,
        "ONBOARD-ROUTE-NOT-FOUND",
    );
    // GET on the create route is GetUserByID of a user called "human", as ZITADEL routes it.
    send(Method::GET, "/management/v1/users/human".into(), None, vec![]).await.assert_error(404, 5, "QUERY-Dfbg2");
    send(Method::PUT, format!("/management/v1/users/{id}"), None, vec![]).await.assert_error(
        405,
        12,
        "ONBOARD-METHOD-NOT-ALLOWED",
    );
    // A body of unknown length (chunked) over the limit is refused as well.
    let (status, body) = chunked_post(&app, &resend_path(&id), 80 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("ONBOARD-BODY-TOO-LARGE"), "{body}");
    // Nothing of that reached the user: still sequence 3 (added, code, sent).
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["details"]["sequence"], "3");
    // Any content type, or none, is read as JSON, as ZITADEL's gateway reads it.
    assert_eq!(send(Method::POST, resend_path(&id), Some("text/plain"), b"{}".to_vec()).await.status, 200);
    assert_eq!(send(Method::POST, resend_path(&id), None, b"{}".to_vec()).await.status, 200);
    app.stop().await;
}

/// Posts `size` bytes of JSON white space with chunked transfer encoding,
/// over a raw connection, and returns the status and body.
async fn chunked_post(app: &TestApp, path: &str, size: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.token
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 1024];
    for _ in 0..size / 1024 {
        // The server may answer and close before the whole body is sent.
        if conn.write_all(b"400\r\n").await.is_err()
            || conn.write_all(&chunk).await.is_err()
            || conn.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut raw = Vec::new();
    let _ = conn.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn health_docs_and_the_served_document() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let spec = app.client.get(app.url("/openapi.yaml")).send().await.unwrap();
    assert_eq!(spec.status(), 200);
    let served = spec.text().await.unwrap();
    let checked_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.yaml")).unwrap();
    assert_eq!(served, checked_in);
    app.stop().await;
}
