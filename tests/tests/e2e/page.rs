//! The init page over HTTP: every outcome, its headers, that looking never
//! consumes, that the code leaves the URL, and that only a POST with the
//! page's own token counts.

use onboard_redis::RedisTarget;
use onboard_redis::testing::RedisServer;
use onboard_tests::{PageReply, PageSession, TestApp, hidden_field, on_redis, submit_init_form};
use serde_json::json;

const GOOD: &str = "Good-passw0rd";
const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn user_with_mail(app: &TestApp, name: &str) -> (String, onboard_tests::Mail) {
    let email = format!("{name}@example.com");
    let id = app.create_user(name, &email).await;
    let mail = app.wait_for_mails(&email, 1).await.remove(0);
    (id, mail)
}

async fn sequence(app: &TestApp, id: &str) -> String {
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    user.body["user"]["details"]["sequence"].as_str().unwrap().to_owned()
}

async fn state(app: &TestApp, id: &str) -> String {
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    user.body["user"]["state"].as_str().unwrap().to_owned()
}

#[track_caller]
fn assert_hardened(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], CSP);
}

#[tokio::test]
async fn opening_the_link_moves_the_code_out_of_the_url_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "look").await;
    app.wait_for_sequence(&id, 3).await;

    // The link answers 303 to itself without the code, which rides in an HttpOnly cookie.
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let first = raw.get(&mail.link).send().await.unwrap();
    assert_eq!(first.status(), 303);
    assert_hardened(first.headers());
    let location = first.headers()["location"].to_str().unwrap();
    assert_eq!(location, format!("/ui/login/user/init?userID={id}&loginname=look&passwordset=false&orgID={}", app.org));
    let cookie = first.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("onboard-init-code="), "{cookie}");
    assert!(!cookie.contains(&mail.code), "the cookie does not show the code in clear: {cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/ui/login/user/init")
    );

    // The browser lands on the form with the code filled in.
    for _ in 0..5 {
        let mut page = PageSession::new(&app);
        let shown = page.open(&mail.link).await;
        assert_eq!(shown.status, 200);
        assert!(!shown.url.contains("code="), "{}", shown.url);
        assert_hardened(&shown.headers);
        assert!(shown.html.contains(&format!("value=\"{}\"", mail.code)), "code prefilled");
        assert!(shown.html.contains("<label for=\"password\">"));
        assert!(shown.html.contains("<p class=\"org\">Default</p>"), "{}", shown.html);
        assert!(hidden_field(&shown.html, "formToken").is_some());
    }
    // Without the cookie the form is there, the code field empty.
    let bare = app.client.get(app.url(location)).send().await.unwrap();
    assert_eq!(bare.status(), 200);
    assert!(bare.text().await.unwrap().contains("name=\"code\" value=\"\""));
    // HEAD, prefetches and scanners that only look do not count either.
    for url in [mail.link.clone(), app.url(location)] {
        assert!(raw.head(&url).send().await.unwrap().status().as_u16() < 400);
        let prefetch = raw.get(&url).header("sec-purpose", "prefetch").header("purpose", "prefetch").send().await;
        assert!(prefetch.unwrap().status().as_u16() < 400);
    }
    assert_eq!(sequence(&app, &id).await, "3", "added, code, sent: looking changed nothing");
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, GOOD, GOOD).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("is ready"), "{html}");
    assert_eq!(state(&app, &id).await, "USER_STATE_ACTIVE");
    app.stop().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_the_stylesheet_is_ours() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "headers").await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    assert_hardened(&shown.headers);
    assert!(!shown.html.contains("<script") && !shown.html.contains(" style="), "no script, no inline style");
    let wrong = page.submit(&shown.html, "WRONG1", GOOD, GOOD).await;
    assert_eq!(wrong.status, 400);
    assert_hardened(&wrong.headers);
    let done = page.submit(&shown.html, &mail.code, GOOD, GOOD).await;
    assert!(done.url.contains("/ui/login/user/init/done?"), "{}", done.url);
    assert_hardened(&done.headers);
    let invalid = PageSession::new(&app).open("/ui/login/user/init?userID=nobody").await;
    assert_eq!(invalid.status, 400);
    assert_hardened(&invalid.headers);

    let href = shown.html.split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(href.starts_with("/ui/login/user/init/style.css?v="), "{href}");
    let css = app.client.get(app.url(href)).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    assert!(css.text().await.unwrap().contains(".card"));
    assert_eq!(state(&app, &id).await, "USER_STATE_ACTIVE");
    app.stop().await;
}

#[tokio::test]
async fn only_a_post_with_the_pages_own_token_checks_the_code() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "csrf").await;
    let (other_id, _) = user_with_mail(&app, "other").await;
    app.wait_for_sequence(&id, 3).await;
    let fields = |token: &'static str| {
        let (id, org) = (id.clone(), app.org.clone());
        move |code: &str| -> Vec<(String, String)> {
            [("userID", id.as_str()), ("orgID", org.as_str()), ("formToken", token), ("code", code)]
                .into_iter()
                .chain([("password", GOOD), ("passwordConfirm", GOOD)])
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        }
    };
    // A scanner or another site posting the form: no cookie, no token. Even
    // the right code is not checked, and no attempt is counted.
    for code in [mail.code.as_str(), "WRONG1"] {
        let resp = app.client.post(app.url("/ui/login/user/init")).form(&fields("")(code)).send().await.unwrap();
        assert_eq!(resp.status(), 403);
        let html = resp.text().await.unwrap();
        assert!(html.contains("This form has expired."), "{html}");
    }
    // A token of this browser but made for another user's form does not count either.
    let mut page = PageSession::new(&app);
    let theirs = page.open(&format!("/ui/login/user/init?userID={other_id}")).await;
    let token = hidden_field(&theirs.html, "formToken").unwrap();
    let mut forged = page.moved_to(&app);
    let f: Vec<(String, String)> = fields("")("WRONG1")
        .into_iter()
        .map(|(k, v)| if k == "formToken" { (k, token.clone()) } else { (k, v) })
        .collect();
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(forged.post(&refs).await.status, 403);
    assert_eq!(sequence(&app, &id).await, "3", "nothing was counted");

    // The form as the page renders it works; the page asked again keeps working too.
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    let wrong = page.submit(&shown.html, "WRONG1", GOOD, GOOD).await;
    assert!(wrong.html.contains("The code is wrong. 4 attempts left."), "{}", wrong.html);
    let done = page.submit(&wrong.html, &mail.code, GOOD, GOOD).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert_eq!(state(&app, &id).await, "USER_STATE_ACTIVE");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_shown_by_one_node_is_accepted_by_another() {
    let redis = RedisServer::start();
    let a = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    let b = a.spawn_peer().await;
    let (id, mail) = user_with_mail(&a, "nodes").await;
    let mut page = PageSession::new(&a);
    let shown = page.open(&mail.link).await;
    assert_eq!(shown.status, 200);
    // The same browser, its next request served by the other node.
    let mut on_b = page.moved_to(&b);
    let done = on_b.submit(&shown.html, &mail.code, GOOD, GOOD).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("is ready"));
    assert_eq!(state(&a, &id).await, "USER_STATE_ACTIVE");
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn every_failure_says_what_happened_on_its_field_and_the_right_code_still_works_after() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "fail").await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    let field_error = |r: &PageReply, field: &str, text: &str| {
        assert_eq!(r.status, 400, "{}", r.html);
        assert!(
            r.html.contains(&format!("<p class=\"field-error\" id=\"{field}-error\" role=\"alert\">{text}</p>")),
            "{text}: {}",
            r.html
        );
        assert!(r.html.contains(&format!("{field}-error\" autofocus")), "{field} is focused: {}", r.html);
    };
    let r = page.submit(&shown.html, &mail.code, GOOD, "Other-passw0rd").await;
    field_error(&r, "passwordConfirm", "The passwords do not match.");
    assert!(r.html.contains(&format!("value=\"{}\"", mail.code)), "the code typed is kept");
    let r = page.submit(&shown.html, &mail.code, "short", "short").await;
    field_error(&r, "password", "The password must have at least 8 characters.");
    let r = page.submit(&shown.html, &mail.code, "longenough1!", "longenough1!").await;
    field_error(&r, "password", "The password must contain an upper-case letter.");
    let r = page.submit(&shown.html, &mail.code, "", "").await;
    field_error(&r, "password", "Choose a password.");
    let r = page.submit(&shown.html, "  ", GOOD, GOOD).await;
    field_error(&r, "code", "Enter the code from your email.");
    let r = page.submit(&shown.html, "WRONG1", GOOD, GOOD).await;
    field_error(&r, "code", "The code is wrong. 4 attempts left.");
    assert!(r.html.contains("name=\"code\" value=\"\""), "a wrong code is not shown again");
    // Password problems did not use attempts; the right code (any case, spaces) works.
    let r = page.submit(&shown.html, &format!(" {} ", mail.code.to_lowercase()), GOOD, GOOD).await;
    assert_eq!(r.status, 200, "{}", r.html);
    assert!(r.html.contains("<strong>fail</strong><br>Your account is ready."), "{}", r.html);
    assert!(r.url.ends_with(&format!("/ui/login/user/init/done?userID={id}&orgID={}", app.org)));
    assert!(page.cookies.iter().all(|(k, _)| k != "onboard-init-code"), "the carried code is forgotten");
    assert_eq!(state(&app, &id).await, "USER_STATE_ACTIVE");
    app.stop().await;
}

#[tokio::test]
async fn a_second_tab_learns_the_account_is_already_set_up_and_links_to_done() {
    let app = TestApp::spawn().await;
    let (_, mail) = user_with_mail(&app, "twice").await;
    let mut page = PageSession::new(&app);
    let tab1 = page.open(&mail.link).await;
    let tab2 = page.open(&mail.link).await;
    assert_eq!(page.submit(&tab1.html, &mail.code, GOOD, GOOD).await.status, 200);
    let r = page.submit(&tab2.html, &mail.code, GOOD, GOOD).await;
    assert_eq!(r.status, 200);
    assert!(r.html.contains("This account is already initialized."), "{}", r.html);
    let href =
        r.html.split("class=\"button\" href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let done = page.open(&href).await;
    assert_eq!(done.status, 200);
    assert!(done.html.contains("Your account is ready."), "{}", done.html);
    // Opening the link again says the same.
    let again = PageSession::new(&app).open(&mail.link).await;
    assert!(again.html.contains("This account is already initialized."));
    app.stop().await;
}

#[tokio::test]
async fn the_done_page_confirms_finished_users_only() {
    let app = TestApp::spawn().await;
    let (id, _) = user_with_mail(&app, "notyet").await;
    let r = PageSession::new(&app).open(&format!("/ui/login/user/init/done?userID={id}")).await;
    assert_eq!(r.status, 200);
    assert!(r.url.ends_with(&format!("/ui/login/user/init?userID={id}")), "sent to the form: {}", r.url);
    assert!(r.html.contains("name=\"formToken\""));
    let r = PageSession::new(&app).open("/ui/login/user/init/done?userID=42").await;
    assert_eq!(r.status, 400);
    assert!(r.html.contains("This initialization link is not valid."));
    app.stop().await;
}

#[tokio::test]
async fn five_wrong_codes_kill_the_code_until_a_resend() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "brute").await;
    let mut page = PageSession::new(&app);
    let mut shown = page.open(&mail.link).await.html;
    for left in (1..5).rev() {
        let r = page.submit(&shown, "WRONG1", GOOD, GOOD).await;
        let expected = if left == 1 { "1 attempt left.".to_owned() } else { format!("{left} attempts left.") };
        assert!(r.html.contains(&expected), "{}", r.html);
        shown = r.html;
    }
    let r = page.submit(&shown, "WRONG1", GOOD, GOOD).await;
    assert_eq!(r.status, 400);
    assert!(r.html.contains("The code is wrong, and no attempts are left"), "{}", r.html);
    assert!(!r.html.contains("<form"), "nothing left to try");
    let r = page.submit(&shown, &mail.code, GOOD, GOOD).await;
    assert_eq!(r.status, 400);
    assert!(r.html.contains("Too many wrong attempts: this code no longer works."), "{}", r.html);
    assert!(r.html.contains("Ask your administrator for a new email."));
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, GOOD, GOOD).await;
    assert_eq!(status, 400);
    assert!(html.contains("Too many wrong attempts"), "the link itself says so: {html}");
    // A resend brings a fresh code with fresh attempts.
    let r = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
    assert_eq!(r.status, 200);
    let fresh = app.wait_for_mails("brute@example.com", 2).await.pop().unwrap();
    let (status, _) = submit_init_form(&app, &fresh.link, &fresh.code, GOOD, GOOD).await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_code_is_told_apart_from_a_wrong_one() {
    let app = TestApp::spawn_with(|c| c.code_lifetime = std::time::Duration::from_secs(1)).await;
    let (id, mail) = user_with_mail(&app, "late").await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    // A form shown before the expiry, submitted after it, with a wrong or the right code.
    for code in ["WRONG1", mail.code.as_str()] {
        let r = page.submit(&shown.html, code, GOOD, GOOD).await;
        assert_eq!(r.status, 400);
        assert!(r.html.contains("The code has expired. Ask your administrator for a new email."), "{}", r.html);
    }
    // Opening the link says so before anything is typed.
    let r = PageSession::new(&app).open(&mail.link).await;
    assert_eq!(r.status, 400);
    assert!(r.html.contains("<h1>Code expired</h1>"), "{}", r.html);
    assert_eq!(state(&app, &id).await, "USER_STATE_INITIAL");
    app.stop().await;
}

#[tokio::test]
async fn unknown_users_and_broken_links_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let (_, mail) = user_with_mail(&app, "known").await;
    let unknown = mail.link.replace("userID=", "userID=9");
    let (s1, unknown_html) = submit_init_form(&app, &unknown, &mail.code, GOOD, GOOD).await;
    let wrong_org = format!("{}&orgID=1", mail.link.split("&orgID=").next().unwrap());
    let (s2, org_html) = submit_init_form(&app, &wrong_org, &mail.code, GOOD, GOOD).await;
    let (s3, empty_html) = submit_init_form(&app, "/ui/login/user/init?userID=&loginname=x", "ABC", GOOD, GOOD).await;
    assert_eq!((s1, s2, s3), (400, 400, 400));
    assert_eq!(unknown_html, org_html);
    assert_eq!(unknown_html, empty_html);
    assert!(unknown_html.contains("This initialization link is not valid."));
    assert!(!unknown_html.contains("class=\"org\""), "nothing about the organization either");
    // Posting to an unknown user, token or not, says the same.
    let mut page = PageSession::new(&app);
    let r = page.post(&[("userID", "9999"), ("code", "ABC"), ("password", GOOD), ("passwordConfirm", GOOD)]).await;
    assert_eq!((r.status, r.html), (400, unknown_html.clone()));
    let shown = app.client.get(app.url("/ui/login/user/init")).send().await.unwrap();
    assert_eq!(shown.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn hostile_query_values_are_escaped_and_re_encoded() {
    let app = TestApp::spawn().await;
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = raw
        .get(app.url("/ui/login/user/init?userID=%3Cscript%3E&loginname=%22%3E%3Cb%3E&code=%22%3E&orgID=a%26b"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/ui/login/user/init?userID=%3Cscript%3E&loginname=%22%3E%3Cb%3E&orgID=a%26b"
    );
    // A user name and a carried code with markup are shown as text.
    let id = app.create_user("<i>x</i>", "markup@example.com").await;
    let html = PageSession::new(&app).open(&format!("/ui/login/user/init?userID={id}&code=%22%3E%3Cb%3E")).await.html;
    assert!(html.contains("<strong>&lt;i&gt;x&lt;/i&gt;</strong>"), "{html}");
    assert!(html.contains("value=\"&quot;&gt;&lt;b&gt;\""), "{html}");
    assert!(!html.contains("<i>") && !html.contains("<b>"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn the_page_speaks_the_users_language_then_the_browsers() {
    let app = TestApp::spawn().await;
    let create = |name: &'static str, language: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/management/v1/users/human",
                    json!({
                        "userName": name,
                        "profile": {"firstName": "T", "lastName": "U", "preferredLanguage": language},
                        "email": {"email": format!("{name}@example.com")},
                    }),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            app.wait_for_mails(&format!("{name}@example.com"), 1).await.remove(0)
        }
    };
    let open = |link: String, accept: Option<&'static str>| {
        let app = &app;
        async move {
            let mut req = app.client.get(&link);
            if let Some(a) = accept {
                req = req.header("accept-language", a);
            }
            req.send().await.unwrap().text().await.unwrap()
        }
    };
    let german = create("hans", "de").await;
    let english = create("jack", "en").await;
    let unset = create("sam", "").await;

    let html = open(german.link.clone(), Some("en-US,en;q=0.9")).await;
    assert!(html.contains("<html lang=\"de\">") && html.contains("<h1>Konto einrichten</h1>"), "{html}");
    assert!(html.contains("mindestens 8 Zeichen") && html.contains("einen Großbuchstaben"), "{html}");
    let html = open(english.link.clone(), Some("de-DE,de;q=0.9")).await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("<h1>Set up your account</h1>"), "{html}");
    let html = open(unset.link.clone(), Some("fr;q=0.9, de;q=0.8, en;q=0.5")).await;
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    let html = open(unset.link.clone(), None).await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    let html = open(app.url("/ui/login/user/init?userID=nobody"), Some("de")).await;
    assert!(html.contains("Dieser Link zur Einrichtung ist ungültig."), "{html}");

    // Messages after a submission are in the user's language too.
    let mut page = PageSession::new(&app);
    let shown = page.open(&german.link).await;
    let r = page.submit(&shown.html, "WRONG1", GOOD, GOOD).await;
    assert!(r.html.contains("Der Code ist falsch. Noch 4 Versuche."), "{}", r.html);
    let r = page.submit(&shown.html, &german.code, "kurz", "kurz").await;
    assert!(r.html.contains("Das Passwort muss mindestens 8 Zeichen haben."), "{}", r.html);
    let r = page.submit(&shown.html, &german.code, GOOD, GOOD).await;
    assert!(r.html.contains("Ihr Konto ist eingerichtet."), "{}", r.html);
    app.stop().await;
}

#[tokio::test]
async fn the_configured_policy_is_explained_and_enforced() {
    let app = TestApp::spawn_with(|c| {
        c.password_min_length = 12;
        c.password_classes = onboard_server::config::PasswordClasses::NONE;
    })
    .await;
    let (id, mail) = user_with_mail(&app, "policy").await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    let rules = shown.html.split("id=\"password-rules\"").nth(1).unwrap().split("</div>").next().unwrap();
    assert!(rules.contains("<li>at least 12 characters</li>"), "{rules}");
    assert_eq!(rules.matches("<li>").count(), 1, "no class rules: {rules}");
    let r = page.submit(&shown.html, &mail.code, "elevenchars", "elevenchars").await;
    assert!(r.html.contains("The password must have at least 12 characters."), "{}", r.html);
    let r = page.submit(&shown.html, &mail.code, "twelve chars", "twelve chars").await;
    assert_eq!(r.status, 200, "{}", r.html);
    assert_eq!(state(&app, &id).await, "USER_STATE_ACTIVE");
    app.stop().await;
}
