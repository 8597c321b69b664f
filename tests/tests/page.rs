//! The init page: every outcome, its headers, and that looking never consumes.

use onboard_tests::{TestApp, submit_init_form};
use serde_json::json;

async fn user_with_mail(app: &TestApp, name: &str) -> (String, onboard_tests::Mail) {
    let email = format!("{name}@example.com");
    let id = app.create_user(name, &email).await;
    let mail = app.wait_for_mails(&email, 1).await.remove(0);
    (id, mail)
}

#[tokio::test]
async fn the_form_is_shown_without_consuming_anything_and_with_safe_headers() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "look").await;
    app.wait_for_sequence(&id, 3).await;
    for _ in 0..10 {
        let resp = app.client.get(&mail.link).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let h = resp.headers();
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
        let html = resp.text().await.unwrap();
        assert!(html.contains(&format!("value=\"{}\"", mail.code)), "code prefilled");
        assert!(html.contains("<label for=\"password\">"));
        assert!(html.contains("Finish initialization"));
    }
    let head = app.client.head(&mail.link).send().await.unwrap();
    assert!(head.status().is_success());
    // Ten views and a HEAD: still sequence 3 (added, code, sent).
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["details"]["sequence"], "3");
    let (status, _) = submit_init_form(&app, &mail.link, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn query_values_are_escaped() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/ui/login/user/init?userID=1&loginname=%3Cscript%3Ex%3C%2Fscript%3E&code=%22%3E"))
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("value=\"&quot;&gt;\""), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn every_failure_says_what_happened_and_the_right_code_still_works_after() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "fail").await;
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "Good-passw0rd", "Other-passw0rd").await;
    assert_eq!(status, 400);
    assert!(html.contains("The passwords do not match."), "{html}");
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "short", "short").await;
    assert_eq!(status, 400);
    assert!(html.contains("The password must have at least 8 characters."), "{html}");
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "", "").await;
    assert_eq!(status, 400);
    assert!(html.contains("Choose a password."), "{html}");
    let (status, html) = submit_init_form(&app, &mail.link, "WRONG1", "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 400);
    assert!(html.contains("The code is wrong. 4 attempts left."), "{html}");
    // Password problems did not use attempts; the right code works.
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 200, "{html}");
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 200);
    assert!(html.contains("already initialized"), "{html}");
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["state"], "USER_STATE_ACTIVE");
    app.stop().await;
}

#[tokio::test]
async fn five_wrong_codes_kill_the_code_until_a_resend() {
    let app = TestApp::spawn().await;
    let (id, mail) = user_with_mail(&app, "brute").await;
    for left in (0..5).rev() {
        let (status, html) = submit_init_form(&app, &mail.link, "WRONG1", "Good-passw0rd", "Good-passw0rd").await;
        assert_eq!(status, 400);
        if left > 0 {
            assert!(html.contains(&format!("{left} attempts left")), "{html}");
        } else {
            assert!(html.contains("no attempts are left"), "{html}");
        }
    }
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 400);
    assert!(html.contains("Too many wrong attempts"), "{html}");
    // A resend brings a fresh code with fresh attempts.
    let r = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
    assert_eq!(r.status, 200);
    let fresh = app.wait_for_mails("brute@example.com", 2).await.pop().unwrap();
    let (status, _) = submit_init_form(&app, &fresh.link, &fresh.code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_code_is_told_apart_from_a_wrong_one() {
    let app = TestApp::spawn_with(|c| c.code_lifetime = std::time::Duration::from_secs(1)).await;
    let (_, mail) = user_with_mail(&app, "late").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 400);
    assert!(html.contains("The code has expired."), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn unknown_users_and_broken_links_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let (_, mail) = user_with_mail(&app, "known").await;
    let unknown = mail.link.replace("userID=", "userID=9");
    let (s1, unknown_html) = submit_init_form(&app, &unknown, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    let wrong_org = format!("{}&orgID=1", mail.link.split("&orgID=").next().unwrap());
    let (s2, org_html) = submit_init_form(&app, &wrong_org, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    let (s3, empty_html) =
        submit_init_form(&app, "/ui/login/user/init?userID=&loginname=x", "ABC", "Good-passw0rd", "Good-passw0rd")
            .await;
    assert_eq!((s1, s2, s3), (400, 400, 400));
    assert_eq!(unknown_html, org_html);
    assert_eq!(unknown_html, empty_html);
    assert!(unknown_html.contains("This initialization link is not valid."));
    let shown = app.client.get(app.url("/ui/login/user/init")).send().await.unwrap();
    assert_eq!(shown.status(), 400);
    app.stop().await;
}
