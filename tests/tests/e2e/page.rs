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
    assert_eq!(sequence(&app, &id).await, "4", "added, code, sent, opened (once): looking consumed nothing");
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
    assert!(!r.html.contains("name=\"password\""), "nothing left to try");
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

async fn resend(app: &TestApp, id: &str) {
    let r = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The kinds of the user's events, oldest first, as ListUserChanges names them.
async fn changes(app: &TestApp, id: &str) -> Vec<String> {
    let r = app.post(&format!("/management/v1/users/{id}/changes/_search"), json!({"query": {"asc": true}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["eventType"]["key"].as_str().unwrap().trim_start_matches("EventTypes.").to_owned())
        .collect()
}

#[tokio::test]
async fn an_earlier_code_after_a_resend_names_the_newer_email_costs_nothing_and_renews() {
    let app = TestApp::spawn().await;
    let (id, first) = user_with_mail(&app, "older").await;
    resend(&app, &id).await;
    let second = app.wait_for_mails("older@example.com", 2).await.pop().unwrap();
    app.wait_for_sequence(&id, 5).await;

    // Opening the first email's link says so at once; nothing is recorded or counted.
    let mut page = PageSession::new(&app);
    let shown = page.open(&first.link).await;
    assert_eq!(shown.status, 400, "{}", shown.html);
    assert_hardened(&shown.headers);
    assert!(shown.html.contains("<h1>A newer email was sent</h1>"), "{}", shown.html);
    assert!(shown.html.contains("A newer email was sent to you on "), "{}", shown.html);
    assert!(shown.html.contains("; use the link in that one."));
    assert!(shown.html.contains(">Send me a new link</button>") && !shown.html.contains("name=\"password\""));
    assert_eq!(sequence(&app, &id).await, "5", "an earlier code's page records no opening");

    // Typed into the form of the live link, the earlier code is not wrong either: no attempt.
    let mut typed = PageSession::new(&app);
    let form = typed.open(&format!("/ui/login/user/init?userID={id}&orgID={}", app.org)).await;
    for _ in 0..6 {
        let r = typed.submit(&form.html, &first.code, GOOD, GOOD).await;
        assert_eq!(r.status, 400);
        assert!(r.html.contains("A newer email was sent to you on ") && !r.html.contains("is wrong"), "{}", r.html);
    }
    let kinds = changes(&app, &id).await;
    assert!(!kinds.iter().any(|k| k.contains("check.failed")), "{kinds:?}");

    // "Send me a new link": the same page for everyone, and a third email.
    let renewed = page.renew(&shown.html).await;
    assert_eq!(renewed.status, 200, "{}", renewed.html);
    assert!(renewed.html.contains("<h1>Check your email</h1>"), "{}", renewed.html);
    let third = app.wait_for_mails("older@example.com", 3).await.pop().unwrap();
    assert_ne!(third.code, second.code);
    let kinds = changes(&app, &id).await;
    assert_eq!(
        kinds[kinds.len() - 3..],
        [
            "user.human.initialization.renewal.requested",
            "user.human.initialization.code.added",
            "user.human.initialization.code.sent"
        ]
        .map(String::from),
        "{kinds:?}"
    );
    // Now the second is the earlier one; the third works.
    let (status, html) = submit_init_form(&app, &second.link, &second.code, GOOD, GOOD).await;
    assert_eq!(status, 400);
    assert!(html.contains("A newer email was sent to you on "), "{html}");
    let (status, html) = submit_init_form(&app, &third.link, &third.code, GOOD, GOOD).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(state(&app, &id).await, "USER_STATE_ACTIVE");
    app.stop().await;
}

#[tokio::test]
async fn a_live_code_is_not_renewed_by_whoever_knows_the_user_id() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "live").await;
    app.wait_for_sequence(&id, 3).await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&format!("/ui/login/user/init?userID={id}")).await;
    assert_eq!(shown.status, 200);
    assert!(!shown.html.contains("Send me a new link"), "a live code offers no renewal");
    let token = hidden_field(&shown.html, "formToken").unwrap();
    let r = page.post_to("/ui/login/user/init/renew", &[("userID", &id), ("formToken", &token)]).await;
    assert_eq!(r.status, 200);
    assert!(r.html.contains("<h1>Check your email</h1>"), "the same answer: {}", r.html);
    // An unknown user gets it too, and a post without the page's token does nothing.
    let unknown = page.post_to("/ui/login/user/init/renew", &[("userID", "nobody"), ("formToken", &token)]).await;
    assert_eq!(unknown.status, 400, "the token is bound to its user");
    assert!(unknown.html.contains("This initialization link is not valid."), "{}", unknown.html);
    let forged = app.client.post(app.url("/ui/login/user/init/renew")).form(&[("userID", id.as_str())]).send().await;
    assert!(forged.unwrap().status().as_u16() >= 400);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.wait_for_mails("live@example.com", 1).await.len(), 1, "no new email");
    let (status, _) = submit_init_form(&app, &mail.link, &mail.code, GOOD, GOOD).await;
    assert_eq!(status, 200, "the live code still works");
    app.stop().await;
}

#[tokio::test]
async fn an_expired_code_renews_once_per_cooldown_with_the_same_answer() {
    let app = TestApp::spawn_with(|c| {
        c.code_lifetime = std::time::Duration::from_secs(1);
        c.throttle.resend_cooldown = std::time::Duration::from_secs(600);
    })
    .await;
    let (id, mail) = user_with_mail(&app, "renew").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    assert_eq!(shown.status, 400);
    assert!(shown.html.contains("The code has expired."), "{}", shown.html);
    assert!(shown.html.contains(">Send me a new link</button>"), "{}", shown.html);
    let sent = page.renew(&shown.html).await;
    let throttled = page.renew(&shown.html).await;
    assert_eq!((sent.status, throttled.status), (200, 200));
    assert_eq!(sent.html, throttled.html, "sent or not, the answer is the same");
    let fresh = app.wait_for_mails("renew@example.com", 2).await.pop().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mails().iter().filter(|m| m.to == "renew@example.com").count(), 2, "the cooldown held");
    let kinds = changes(&app, &id).await;
    assert_eq!(kinds.iter().filter(|k| k.ends_with("renewal.requested")).count(), 1, "{kinds:?}");
    assert!(fresh.code != mail.code);
    app.stop().await;
}

#[tokio::test]
async fn without_self_service_renewal_the_page_offers_none_and_sends_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.code_lifetime = std::time::Duration::from_secs(1);
        c.self_service_renewal = false;
    })
    .await;
    let (_, mail) = user_with_mail(&app, "off").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    assert!(shown.html.contains("The code has expired.") && !shown.html.contains("Send me a new link"));
    let form = page.open(&format!("/ui/login/user/init?userID={}", query_user(&mail.link))).await;
    assert!(!form.html.contains("<form"));
    app.stop().await;
}

fn query_user(link: &str) -> String {
    onboard_tests::query_of(link).into_iter().find(|(k, _)| k == "userID").unwrap().1
}

#[tokio::test]
async fn a_head_records_nothing_and_only_the_first_get_of_a_live_link_records_opened() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "opened").await;
    app.wait_for_sequence(&id, 3).await;
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let bare = format!("/ui/login/user/init?userID={id}");
    assert!(raw.head(app.url(&bare)).send().await.unwrap().status().is_success());
    let prefetch = raw.get(app.url(&bare)).header("sec-purpose", "prefetch").send().await.unwrap();
    assert_eq!(prefetch.status(), 200);
    assert_eq!(sequence(&app, &id).await, "3", "a HEAD or a prefetch records nothing");
    for _ in 0..3 {
        PageSession::new(&app).open(&mail.link).await;
    }
    let kinds = changes(&app, &id).await;
    assert_eq!(kinds.iter().filter(|k| k.ends_with("link.opened")).count(), 1, "{kinds:?}");
    // A new code is opened anew.
    resend(&app, &id).await;
    let fresh = app.wait_for_mails("opened@example.com", 2).await.pop().unwrap();
    PageSession::new(&app).open(&fresh.link).await;
    PageSession::new(&app).open(&fresh.link).await;
    let kinds = changes(&app, &id).await;
    assert_eq!(kinds.iter().filter(|k| k.ends_with("link.opened")).count(), 2, "{kinds:?}");
    let (status, _) = submit_init_form(&app, &fresh.link, &fresh.code, GOOD, GOOD).await;
    assert_eq!(status, 200, "opening consumed nothing");
    app.stop().await;
}

#[tokio::test]
async fn after_success_the_page_returns_to_the_organizations_completion_url_only() {
    let app = TestApp::spawn().await;
    let path = format!("/admin/v1/orgs/{}/completion_url", app.org);
    let r = app
        .call(reqwest::Method::PUT, &path, Some(&app.token), None, Some(json!({"url": "javascript:alert(1)"})))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .call(
            reqwest::Method::PUT,
            &path,
            Some(&app.token),
            None,
            Some(json!({"url": "https://app.example.com/home?from=onboard"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"orgId": app.org, "url": "https://app.example.com/home?from=onboard"}));
    assert_eq!(app.get(&path).await.body["url"], "https://app.example.com/home?from=onboard");

    let (_, mail) = user_with_mail(&app, "back").await;
    let mut page = PageSession::new(&app);
    let shown = page.open(&mail.link).await;
    let done = page.submit(&shown.html, &mail.code, GOOD, GOOD).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert_hardened(&done.headers);
    assert!(
        done.html.contains("<meta http-equiv=\"refresh\" content=\"5;url=https://app.example.com/home?from=onboard\">"),
        "{}",
        done.html
    );
    assert!(done.html.contains("href=\"https://app.example.com/home?from=onboard\">Back to the application</a>"));
    // Nothing in the request decides where the page goes.
    let q = onboard_tests::query_of(&done.url);
    let user_id = &q.iter().find(|(k, _)| k == "userID").unwrap().1;
    let forged = page
        .open(&format!(
            "/ui/login/user/init/done?userID={user_id}&redirect=https://evil.example&url=https://evil.example"
        ))
        .await;
    assert!(!forged.html.contains("evil.example"), "{}", forged.html);

    let r = app.call(reqwest::Method::DELETE, &path, Some(&app.token), None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"orgId": app.org}));
    let again = page.open(&done.url).await;
    assert!(!again.html.contains("http-equiv") && again.html.contains("You can close this page."), "{}", again.html);
    app.stop().await;
}
