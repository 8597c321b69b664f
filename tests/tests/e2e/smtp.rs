//! Delivery through an SMTP relay (a real SMTP server, aiosmtpd, on
//! loopback): the same outbox, retries, dead letters and notification
//! states as every mailer.

use std::time::Duration;

use onboard_smtp::testing::{SmtpOptions, SmtpServer};
use onboard_smtp::{SmtpSettings, SmtpUrl};
use onboard_tests::{TestApp, submit_init_form};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);

fn on_smtp(server: &SmtpServer) -> impl FnOnce(&mut onboard_server::Config) {
    let mut settings = SmtpSettings::new(SmtpUrl::parse(&server.url()).unwrap());
    settings.timeout = Duration::from_secs(2);
    settings.trusted_ca_pem = server.ca_pem().map(|p| p.as_bytes().to_vec());
    move |config| {
        config.mail_transport = onboard_server::config::MailTransport::Smtp(settings);
        config.delivery_retry_base = Duration::from_millis(50);
    }
}

async fn create(app: &TestApp, name: &str, email: &str) -> String {
    let body = json!({"userName": name, "profile": {"firstName": "S", "lastName": "M"}, "email": {"email": email}});
    let r = app.post("/management/v1/users/human", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["userId"].as_str().unwrap().to_owned()
}

fn states(list: &[Value]) -> Vec<String> {
    list.iter().map(|n| n["state"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn an_email_goes_through_the_relay_over_starttls_and_its_code_works() {
    let server = SmtpServer::start(SmtpOptions { starttls: true, ..SmtpOptions::default() });
    let app = TestApp::spawn_with(on_smtp(&server)).await;
    let id = create(&app, "relayed", "relayed@example.com").await;
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].tls);
    let email = mail_parser::MessageParser::default().parse(&got[0].raw).unwrap();
    let text = email.body_text(0).unwrap().into_owned();
    let list = app.wait_for_notifications(&id, |l| states(l) == ["sent"]).await;
    assert_eq!(list[0]["providerMessageId"], email.message_id().unwrap());
    let link = text.lines().find(|l| l.contains("/ui/login/user/init?")).unwrap().trim().to_owned();
    let code = link.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let (status, html) = submit_init_form(&app, &link, &code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 200, "{html}");
    app.stop().await;
}

#[tokio::test]
async fn a_4xx_reply_is_retried_and_a_5xx_reply_fails_the_email_with_its_reason() {
    let server = SmtpServer::start(SmtpOptions::default());
    let app = TestApp::spawn_with(on_smtp(&server)).await;
    let later = create(&app, "later", "tempfail2-later@example.com").await;
    let never = create(&app, "never", "reject-never@example.com").await;
    let list = app.wait_for_notifications(&later, |l| states(l) == ["sent"]).await;
    assert_eq!(list[0]["attempts"], 3, "two 451 replies, then taken: {list:?}");
    let list = app.wait_for_notifications(&never, |l| states(l) == ["failed"]).await;
    let reason = list[0]["lastError"].as_str().unwrap_or_default();
    assert!(reason.contains("550") && reason.contains("mailbox unavailable"), "{reason}");
    assert_eq!(list[0]["attempts"], 1, "a permanent refusal is not retried");
    assert_eq!(server.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn with_the_relay_down_emails_wait_and_are_sent_when_it_returns() {
    let mut server = SmtpServer::start(SmtpOptions::default());
    server.pause();
    let app = TestApp::spawn_with(on_smtp(&server)).await;
    let id = create(&app, "patient", "patient@example.com").await;
    let list = app.wait_for_notifications(&id, |l| l[0]["attempts"].as_u64().unwrap_or(0) >= 2).await;
    assert_ne!(states(&list), ["sent"]);
    server.resume();
    app.wait_for_notifications(&id, |l| states(l) == ["sent"]).await;
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);
    app.stop().await;
}
