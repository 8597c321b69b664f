//! Branding per organization over the administration API, on the embedded
//! store and on Redis: what is set is what its users' emails and init page
//! show, refusals are in the API's error shape, and removing it brings
//! onboard's own look back.

use onboard_redis::RedisTarget;
use onboard_redis::testing::RedisServer;
use onboard_tests::{PageSession, TestApp, on_redis};
use reqwest::Method;
use serde_json::{Value, json};

pub const SVG_LOGO: &str = onboard_domain::testkit::SVG_LOGO;

/// What the README's example sets.
pub fn acme_branding() -> Value {
    json!({
        "displayName": "Acme Corporation",
        "primaryColor": "#B3261E",
        "backgroundColor": "#fffbfe",
        "senderName": "Acme IT",
        "senderAddress": "it@acme.example",
        "replyTo": "help@acme.example",
        "defaultLanguage": "en",
        "templates": [{
            "language": "en",
            "subject": "Your {{ org }} account",
            "page": {"help": "Questions? Call the Acme desk on 555 0100."}
        }]
    })
}

pub async fn put(app: &TestApp, path: &str, body: Value) -> onboard_tests::Reply {
    app.call(Method::PUT, path, Some(&app.token), None, Some(body)).await
}

pub async fn upload_logo(app: &TestApp, org: &str, content_type: &str, bytes: Vec<u8>) -> onboard_tests::Reply {
    let resp = app
        .client
        .put(app.url(&format!("/admin/v1/orgs/{org}/branding/logo")))
        .bearer_auth(&app.token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("sent");
    TestApp::reply(resp).await
}

/// Creates an Initial user in `org` and returns its id.
pub async fn create_user_in(app: &TestApp, org: &str, user_name: &str, email: &str) -> String {
    let body = json!({
        "userName": user_name,
        "profile": {"firstName": "Jane", "lastName": "Doe"},
        "email": {"email": email},
    });
    let r = app.call(Method::POST, "/management/v1/users/human", Some(&app.token), Some(org), Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["userId"].as_str().unwrap().to_owned()
}

/// Brands `org` as Acme, with the SVG logo; returns the logo's path.
pub async fn brand_as_acme(app: &TestApp, org: &str) -> String {
    let r = put(app, &format!("/admin/v1/orgs/{org}/branding"), acme_branding()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = upload_logo(app, org, "image/svg+xml", SVG_LOGO.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["logo"]["path"].as_str().unwrap().to_owned()
}

async fn round_trip(app: &TestApp) {
    let org = app.create_org("Acme").await;
    let branding = format!("/admin/v1/orgs/{org}/branding");
    let r = app.get(&branding).await;
    assert_eq!((r.status.as_u16(), &r.body), (200, &json!({"orgId": org})), "none yet");

    let r = put(app, &branding, acme_branding()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["primaryColor"], "#b3261e", "kept in lower case");
    assert_eq!(r.body["templates"][0]["page"]["help"], "Questions? Call the Acme desk on 555 0100.");
    assert!(r.body["changeDate"].as_str().unwrap().ends_with('Z'));
    let r = upload_logo(app, &org, "image/svg+xml", SVG_LOGO.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["logo"]["contentType"], "image/svg+xml");
    assert_eq!(r.body["logo"]["bytes"], SVG_LOGO.len());
    let logo_path = r.body["logo"]["path"].as_str().unwrap().to_owned();
    assert!(logo_path.starts_with(&format!("/ui/login/user/init/brand/{org}/logo?v=")), "{logo_path}");
    let got = app.get(&branding).await;
    assert_eq!(got.body, r.body, "read back as set");

    // The logo, from our own origin, with headers that keep it inert.
    let resp = app.client.get(app.url(&logo_path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/svg+xml");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    assert_eq!(h["cache-control"], "public, max-age=86400, immutable");
    assert_eq!(resp.text().await.unwrap(), SVG_LOGO);
    let stale = app.client.get(app.url(&format!("/ui/login/user/init/brand/{org}/logo?v=old"))).send().await.unwrap();
    assert_eq!(stale.headers()["cache-control"], "no-cache", "an old link is not cached for long");

    // The email: sender, reply-to, subject, name, logo and colours, both parts.
    let user = create_user_in(app, &org, "jane", "jane@acme.example").await;
    let mail = app.wait_for_mails("jane@acme.example", 1).await.remove(0);
    assert_eq!(mail.from, ("Acme IT".to_owned(), "it@acme.example".to_owned()));
    assert_eq!(mail.reply_to.as_deref(), Some("help@acme.example"));
    assert_eq!(mail.subject, "Your Acme Corporation account");
    assert!(
        mail.text.contains(&mail.link) && mail.text.replace("\r\n", "\n").trim_end().ends_with("-- \nAcme Corporation"),
        "{}",
        mail.text
    );
    let logo_url = app.url(&logo_path).replace('/', "&#x2f;");
    assert!(mail.html.contains(&format!("<img src=\"{logo_url}\" alt=\"Acme Corporation\"")), "{}", mail.html);
    assert!(mail.html.contains("background:#fffbfe"), "{}", mail.html);
    assert!(mail.html.contains("background:#b3261e;color:#ffffff;"), "{}", mail.html);

    // The page: name, logo, the colours' stylesheet and the organization's words.
    let mut browser = PageSession::new(app);
    let page = browser.open(&mail.link).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<p class=\"org\">Acme Corporation</p>"), "{}", page.html);
    assert!(page.html.contains(&format!("<img class=\"logo\" src=\"{}\"", logo_path.replace('&', "&amp;"))));
    let style = format!("/ui/login/user/init/brand/{org}/style.css?v=b3261efffbfe");
    assert!(page.html.contains(&format!("<link rel=\"stylesheet\" href=\"{style}\">")), "{}", page.html);
    assert!(page.html.contains("Questions? Call the Acme desk on 555 0100."));
    assert_eq!(
        page.headers["content-security-policy"],
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let css = app.client.get(app.url(&style)).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    let css = css.text().await.unwrap();
    assert!(css.contains("--bg: #fffbfe; --accent: #b3261e;") && css.contains("color: #ffffff;"), "{css}");

    // Refusals name what is wrong, in the API's error shape, and change nothing.
    let low = json!({"primaryColor": "#aaaaaa", "backgroundColor": "#ffffff"});
    let r = put(app, &branding, low).await;
    r.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    assert_eq!(
        r.body["details"][0]["message"],
        "Invalid argument: primaryColor, backgroundColor: the contrast of primary colour #aaaaaa on background \
         colour #ffffff is 2.32:1; WCAG AA needs at least 4.5:1"
    );
    let bad = json!({"templates": [{"language": "en", "html": "<p>{% if %}</p>"}]});
    let r = put(app, &branding, bad).await;
    r.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    assert!(r.body["message"].as_str().unwrap().contains("templates[0].html: syntax error"), "{}", r.body);
    let r = upload_logo(app, &org, "image/png", SVG_LOGO.as_bytes().to_vec()).await;
    r.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    assert!(r.body["message"].as_str().unwrap().contains("declared image/png but the bytes are image/svg+xml"));
    let r = upload_logo(app, &org, "image/svg+xml", b"<svg><script>alert(1)</script></svg>".to_vec()).await;
    r.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
    big.resize(100 * 1024 + 1, 0);
    let r = upload_logo(app, &org, "image/png", big).await;
    r.assert_error(400, 3, "ONBOARD-FIELD-INVALID");
    assert!(r.body["message"].as_str().unwrap().contains("at most 102400 (100 KiB)"), "{}", r.body);
    assert_eq!(app.get(&branding).await.body, got.body, "nothing changed");
    put(app, "/admin/v1/orgs/0/branding", acme_branding()).await.assert_error(404, 5, "ONBOARD-ORG-NOT-FOUND");
    let anonymous = app.call(Method::PUT, &branding, None, None, Some(acme_branding())).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);

    // Removed: onboard's own look and sender again.
    let r = app.call(Method::DELETE, &branding, Some(&app.token), None, None).await;
    assert_eq!((r.status.as_u16(), &r.body), (200, &json!({"orgId": org})));
    let resend = format!("/management/v1/users/{user}/_resend_initialization");
    let r = app.call(Method::POST, &resend, Some(&app.token), Some(&org), Some(json!({}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mail = app.wait_for_mails("jane@acme.example", 2).await.remove(1);
    assert_eq!(mail.subject, "Initialize User");
    assert_ne!(mail.from.1, "it@acme.example");
    assert!(!mail.html.contains("<img") && !mail.text.contains("Acme Corporation"));
    let page = PageSession::new(app).open(&mail.link).await;
    assert!(!page.html.contains("brand/") && page.html.contains("<p class=\"org\">Acme</p>"), "{}", page.html);
    let gone = app.client.get(app.url(&logo_path)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn branding_set_over_the_admin_api_dresses_email_and_page_on_the_embedded_store() {
    let app = TestApp::spawn().await;
    round_trip(&app).await;
}

#[tokio::test]
async fn branding_set_over_the_admin_api_dresses_email_and_page_on_redis() {
    let redis = RedisServer::start();
    let app = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    round_trip(&app).await;
}
