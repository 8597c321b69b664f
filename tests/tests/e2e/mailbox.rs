//! The development mailbox: the `.eml` files listed newest first and each
//! shown as its recipient would see it; served only while emails are files.

use onboard_sendgrid::testing::FakeSendGrid;
use onboard_tests::{TestApp, on_sendgrid};

async fn page(app: &TestApp, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let resp = app.client.get(app.url(path)).send().await.expect("request sent");
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, resp.text().await.expect("body"), headers)
}

#[tokio::test]
async fn emails_are_listed_newest_first_and_shown_with_their_link() {
    let app = TestApp::spawn().await;
    app.create_user("first", "first@example.com").await;
    app.wait_for_mails("first@example.com", 1).await;
    app.create_user("<b>second</b>", "second@example.com").await;
    let mail = app.wait_for_mails("second@example.com", 1).await.remove(0);

    let (status, list, headers) = page(&app, "/_dev/mail/").await;
    assert_eq!(status, 200);
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let (second, first) = (list.find("second@example.com").unwrap(), list.find("first@example.com").unwrap());
    assert!(second < first, "newest first: {list}");
    assert!(list.contains("Initialize User"));

    let detail = format!("/_dev/mail/{}", mail.file);
    assert!(list.contains(&format!("href=\"{detail}\"")), "{list}");
    let (status, shown, _) = page(&app, &detail).await;
    assert_eq!(status, 200);
    // The text part's link is clickable; the markup in the name is text.
    assert!(shown.contains(&format!("<a href=\"{}\"", mail.link.replace('&', "&amp;"))), "{shown}");
    assert!(!shown.contains("<b>second</b>"), "{shown}");
    assert!(shown.contains(&format!("src=\"{detail}/html\"")), "{shown}");
    let (status, html, headers) = page(&app, &format!("{detail}/html")).await;
    assert_eq!(status, 200);
    assert!(html.contains(">Finish initialization</a>"));
    let csp = headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("sandbox") && !csp.contains("allow-scripts"), "{csp}");

    for bad in ["/_dev/mail/..%2fadmin.pat", "/_dev/mail/nothing.eml", "/_dev/mail/.x.eml/html"] {
        assert_eq!(page(&app, bad).await.0, 404, "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn without_files_there_is_no_mailbox() {
    let fake = FakeSendGrid::start("SG.mailbox").await;
    let app = TestApp::spawn_with(on_sendgrid(&fake, None)).await;
    let (status, body, _) = page(&app, "/_dev/mail/").await;
    assert_eq!(status, 404, "{body}");
    app.stop().await;
}
