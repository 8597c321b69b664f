//! `onboard admin …` as an operator runs it: against a Redis, then the token
//! it issued used over HTTP by a server on that Redis.

use std::process::Output;

use crate::support::{Server, onboard};
use onboard_redis::testing::RedisServer;
use serde_json::{Value, json};

fn admin(redis: &RedisServer, args: &[&str]) -> Output {
    onboard().env("ONBOARD_REDIS_URL", redis.url()).arg("admin").args(args).output().unwrap()
}

/// Runs an admin command that must succeed; returns its stdout.
#[track_caller]
fn admin_ok(redis: &RedisServer, args: &[&str]) -> String {
    let out = admin(redis, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The one line of output, for commands that print an id or a token.
#[track_caller]
fn one_line(text: &str) -> String {
    assert_eq!(text.lines().count(), 1, "{text:?}");
    text.trim().to_owned()
}

/// One call with a JSON body; the status and the JSON answer.
fn call(server: &Server, method: &str, path: &str, token: &str, org: Option<&str>, body: &Value) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = org.map(|o| ("x-zitadel-orgid", o)).into_iter().collect();
    let answer = server.request(method, path, token, &headers, &body.to_string());
    (answer.status, serde_json::from_str(&answer.body).unwrap_or(Value::Null))
}

fn new_user(name: &str) -> Value {
    json!({"userName": name, "profile": {"firstName": "Ada", "lastName": "L"}, "email": {"email": format!("{name}@example.com")}})
}

#[test]
fn tokens_issued_on_the_command_line_work_over_http_until_revoked() {
    let redis = RedisServer::start();
    let acme = one_line(&admin_ok(&redis, &["org", "create", "Acme"]));
    let other = one_line(&admin_ok(&redis, &["org", "create", "Other"]));
    let bot = one_line(&admin_ok(&redis, &["service-account", "create", "--org", &acme, "importer"]));
    admin_ok(&redis, &["grant", &bot, "ORG_USER_MANAGER", "--org", &acme]);
    let issued = admin(&redis, &["pat", "issue", &bot, "--expires", "30d"]);
    assert!(issued.status.success());
    let token = one_line(&String::from_utf8(issued.stdout).unwrap());
    assert!(token.starts_with("onb_"), "{token}");
    assert!(!String::from_utf8_lossy(&issued.stderr).contains(&token), "the note never repeats the token");

    // Refusals: exit 1 with the reason; bad arguments: exit 2 before the store is touched.
    let refused = admin(&redis, &["grant", &bot, "ORG_OWNER"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ORG_OWNER"));
    assert_eq!(admin(&redis, &["pat", "revoke", "0000"]).status.code(), Some(1));
    assert_eq!(admin(&redis, &["grant", &bot, "KING"]).status.code(), Some(2));

    // Listings: aligned text and JSON, never a token.
    let text = admin_ok(&redis, &["list"]);
    assert!(text.contains("Acme") && text.contains("importer") && text.contains("ORG_USER_MANAGER@"), "{text}");
    assert!(!text.contains(&token));
    let all: Value = serde_json::from_str(&admin_ok(&redis, &["list", "--json"])).unwrap();
    assert!(!all.to_string().contains(&token));
    assert_eq!(all["serviceAccounts"][0]["grants"], json!([{"role": "ORG_USER_MANAGER", "orgId": acme}]));
    let pats: Value = serde_json::from_str(&admin_ok(&redis, &["--json", "pat", "list", "--account", &bot])).unwrap();
    let token_id = pats["result"][0]["tokenId"].as_str().unwrap().to_owned();
    assert_eq!(pats["result"][0]["revoked"], false);
    assert!(pats["result"][0]["expirationDate"].is_string());

    // The server on the same Redis accepts the token, in the granted organization only.
    let server = Server::start(&[("ONBOARD_REDIS_URL", &redis.url())]);
    let (status, body) = call(&server, "POST", "/management/v1/users/human", &token, None, &new_user("ada"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&server, "POST", "/management/v1/users/human", &token, Some(&other), &new_user("bob"));
    assert_eq!((status, body["code"].as_i64()), (403, Some(7)), "{body}");

    let revoked: Value = serde_json::from_str(&admin_ok(&redis, &["pat", "revoke", &token_id, "--json"])).unwrap();
    assert_eq!(revoked["revoked"], true);
    let (status, body) = call(&server, "POST", "/management/v1/users/human", &token, None, &new_user("eve"));
    assert_eq!((status, body["code"].as_i64()), (401, Some(16)), "{body}");
    server.stop();
}

#[test]
fn the_embedded_store_is_administered_over_http_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = onboard().env("ONBOARD_DATA_DIR", dir.path()).args(["admin", "org", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("embedded store") && err.contains("/admin/v1"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn branding_set_on_the_command_line_dresses_the_page_of_a_server_on_that_redis() {
    let redis = RedisServer::start();
    let acme = one_line(&admin_ok(&redis, &["org", "create", "Acme"]));
    let files = tempfile::tempdir().unwrap();
    let subject = files.path().join("subject.txt");
    std::fs::write(&subject, "Your {{ org }} account").unwrap();
    let logo = files.path().join("logo.svg");
    std::fs::write(&logo, onboard_domain::testkit::SVG_LOGO).unwrap();

    let set = admin_ok(
        &redis,
        &[
            "--json",
            "branding",
            "set",
            &acme,
            "--display-name",
            "Acme Corporation",
            "--primary",
            "#B3261E",
            "--background",
            "#fffbfe",
            "--sender-name",
            "Acme IT",
            "--sender-address",
            "it@acme.example",
            "--template",
            &format!("en:subject={}", subject.display()),
            "--page-text",
            "en:help=Questions? Call 555 0100.",
        ],
    );
    let set: Value = serde_json::from_str(&set).unwrap();
    assert_eq!(set["orgId"], acme);
    assert_eq!((&set["primaryColor"], &set["senderAddress"]), (&json!("#b3261e"), &json!("it@acme.example")));
    assert_eq!(
        set["templates"],
        json!([{"language": "en", "subject": "Your {{ org }} account", "page": {"help": "Questions? Call 555 0100."}}])
    );
    let with_logo = admin_ok(&redis, &["branding", "logo", &acme, logo.to_str().unwrap()]);
    assert!(with_logo.contains("image/svg+xml"), "{with_logo}");
    let shown = admin_ok(&redis, &["branding", "show", &acme]);
    assert!(shown.contains("Acme Corporation") && shown.contains("#fffbfe"), "{shown}");
    assert!(shown.contains("templates en: email subject; page help"), "{shown}");

    // Refusals: exit 1 with the reason, nothing changed.
    let low = admin(&redis, &["branding", "set", &acme, "--primary", "#aaaaaa", "--background", "#ffffff"]);
    assert_eq!(low.status.code(), Some(1));
    let reason = String::from_utf8_lossy(&low.stderr);
    assert!(reason.contains("is 2.32:1; WCAG AA needs at least 4.5:1"), "{reason}");
    let broken = files.path().join("broken.html");
    std::fs::write(&broken, "<p>{% if %}</p>").unwrap();
    let bad = admin(&redis, &["branding", "set", &acme, "--template", &format!("en:html={}", broken.display())]);
    assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("templates[0].html: syntax error"));
    let not_an_image = admin(&redis, &["branding", "logo", &acme, subject.to_str().unwrap()]);
    assert_eq!(not_an_image.status.code(), Some(1));
    assert_eq!(admin(&redis, &["branding", "set", &acme, "--template", "en:body=x"]).status.code(), Some(2));
    assert_eq!(admin_ok(&redis, &["branding", "show", &acme]), shown, "refusals change nothing");

    // A server on the same Redis shows it: the page, its logo.
    let server = Server::start(&[("ONBOARD_REDIS_URL", &redis.url())]);
    let token = server.admin_token();
    let (status, body) = call(&server, "POST", "/management/v1/users/human", &token, Some(&acme), &new_user("ada"));
    assert_eq!(status, 200, "{body}");
    let user = body["userId"].as_str().unwrap();
    let page = server.request("GET", &format!("/ui/login/user/init?userID={user}&orgID={acme}"), "", &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<p class=\"org\">Acme Corporation</p>"), "{}", page.body);
    assert!(page.body.contains("Questions? Call 555 0100."));
    assert!(page.body.contains(&format!("<img class=\"logo\" src=\"/ui/login/user/init/brand/{acme}/logo?v=")));
    let served = server.request("GET", &format!("/ui/login/user/init/brand/{acme}/logo"), "", &[], "");
    assert_eq!(served.status, 200);
    assert!(
        served.head.contains("content-type: image/svg+xml") && served.head.contains("x-content-type-options: nosniff")
    );
    assert_eq!(served.body, onboard_domain::testkit::SVG_LOGO);

    let removed = admin_ok(&redis, &["branding", "remove", &acme]);
    assert_eq!(removed, format!("organization {acme} has no branding\n"));
    server.stop();
}

#[test]
fn webhook_endpoints_are_administered_on_the_command_line() {
    let redis = RedisServer::start();
    let acme = one_line(&admin_ok(&redis, &["org", "create", "Acme"]));
    let made = admin_ok(
        &redis,
        &["webhook", "create", "--org", &acme, "https://hooks.example.com/in", "--event", "email.bounced"],
    );
    let lines: Vec<&str> = made.lines().collect();
    let [id, secret] = lines.as_slice() else { panic!("id and secret: {made:?}") };
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed: Value =
        serde_json::from_str(&admin_ok(&redis, &["--json", "webhook", "list", "--org", &acme])).unwrap();
    assert_eq!(listed["result"][0]["id"], *id);
    assert_eq!(listed["result"][0]["eventTypes"], json!(["email.bounced"]));
    assert!(!listed.to_string().contains(&secret[6..]), "never the secret: {listed}");
    // A test event waits, pending, for a server to send it.
    let test: Value = serde_json::from_str(&admin_ok(&redis, &["--json", "webhook", "test", id])).unwrap();
    assert_eq!(test["result"][0]["eventType"], "webhook.test");
    let deliveries: Value = serde_json::from_str(&admin_ok(&redis, &["--json", "webhook", "deliveries", id])).unwrap();
    assert_eq!(deliveries["result"][0]["status"], "pending", "{deliveries}");
    let text = admin_ok(&redis, &["webhook", "disable", id]);
    assert!(text.contains("disabled"), "{text}");
    let rotated = admin_ok(&redis, &["webhook", "rotate-secret", id, "--overlap", "1h"]);
    assert!(rotated.lines().nth(1).is_some_and(|s| s.starts_with("whsec_") && s != *secret), "{rotated}");
    assert_eq!(one_line(&admin_ok(&redis, &["webhook", "delete", id])), *id);
    assert_eq!(admin(&redis, &["webhook", "show", id]).status.code(), Some(1));
    assert_eq!(admin(&redis, &["webhook", "create", "--org", &acme, "ftp://x"]).status.code(), Some(1));
}

#[test]
fn a_completion_url_is_set_shown_and_removed_on_the_command_line() {
    let redis = RedisServer::start();
    let acme = one_line(&admin_ok(&redis, &["org", "create", "Acme"]));
    assert_eq!(admin_ok(&redis, &["org", "completion-url", &acme]), "(none)\n");
    let set = admin_ok(&redis, &["org", "completion-url", &acme, "https://app.acme.example/welcome"]);
    assert_eq!(set, "https://app.acme.example/welcome\n");
    let shown: Value = serde_json::from_str(&admin_ok(&redis, &["--json", "org", "completion-url", &acme])).unwrap();
    assert_eq!(shown, json!({"orgId": acme, "url": "https://app.acme.example/welcome"}));
    // Refusals: exit 1 with the reason, nothing changed.
    for bad in ["javascript:alert(1)", "//evil.example", "https://user@evil.example"] {
        let refused = admin(&redis, &["org", "completion-url", &acme, bad]);
        assert_eq!(refused.status.code(), Some(1), "{bad}");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("completionUrl"), "{bad}");
    }
    assert_eq!(admin_ok(&redis, &["org", "completion-url", &acme]), "https://app.acme.example/welcome\n");
    assert_eq!(
        admin(&redis, &["org", "completion-url", &acme, "https://a.example", "--remove"]).status.code(),
        Some(2)
    );
    assert_eq!(admin_ok(&redis, &["org", "completion-url", &acme, "--remove"]), "(none)\n");
    assert_eq!(admin_ok(&redis, &["org", "completion-url", &acme]), "(none)\n");
}
