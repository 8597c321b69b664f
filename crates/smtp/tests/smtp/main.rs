//! The SMTP mailer against a real SMTP server (aiosmtpd) on loopback: what
//! arrives, AUTH, STARTTLS with a certificate made for the test, and how the
//! relay's answers become the delivery rules' transient and permanent
//! failures.

use std::sync::Arc;
use std::time::Duration;

use mail_parser::MessageParser;
use onboard_domain::ports::{InitMessage, MailError, Mailer};
use onboard_domain::{EmailAddress, NotificationId, OrgId, PlainCode, UserId};
use onboard_mail::Templates;
use onboard_smtp::testing::{SmtpOptions, SmtpServer};
use onboard_smtp::{SmtpMailer, SmtpSettings, SmtpUrl};

const WAIT: Duration = Duration::from_secs(10);

fn message(i: usize, recipient: &str) -> InitMessage {
    InitMessage {
        notification_id: NotificationId::parse(&format!("n{i}")).unwrap(),
        user_id: UserId::parse(&format!("u{i}")).unwrap(),
        org_id: OrgId::parse("o1").unwrap(),
        recipient: EmailAddress::parse(recipient).unwrap(),
        display_name: format!("User <{i}>"),
        login_name: format!("user{i}"),
        code: PlainCode::from_stored(format!("CODE{i:02}")),
        link: format!(
            "https://id.example.com/ui/login/user/init?userID=u{i}&loginname=user{i}&code=CODE{i:02}&orgID=o1&passwordset=false"
        ),
        expires_at: time::macros::datetime!(2026-01-04 12:00 UTC),
        language: None,
        brand: None,
        application_name: None,
        reminder: false,
    }
}

fn mailer(url: &str, adjust: impl FnOnce(&mut SmtpSettings)) -> SmtpMailer {
    let mut settings = SmtpSettings::new(SmtpUrl::parse(url).unwrap());
    settings.timeout = Duration::from_secs(3);
    adjust(&mut settings);
    SmtpMailer::new(&settings, "Example ID", "id@example.com", Arc::new(Templates::builtin())).unwrap()
}

#[tokio::test]
async fn an_email_arrives_with_its_headers_both_parts_and_the_link() {
    let server = SmtpServer::start(SmtpOptions::default());
    let m = message(1, "user1@example.com");
    let id = mailer(&server.url(), |_| {}).send_init(&m).await.unwrap();
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].from.as_str(), got[0].to.as_slice()),
        ("id@example.com", ["user1@example.com".to_owned()].as_slice())
    );
    let email = MessageParser::default().parse(&got[0].raw).expect("an RFC 5322 message");
    assert_eq!(email.subject(), Some("Initialize User"));
    assert_eq!(email.message_id(), Some(id.as_str()));
    assert_eq!(email.from().unwrap().first().unwrap().address(), Some("id@example.com"));
    assert_eq!(email.to().unwrap().first().unwrap().name(), Some("User <1>"));
    assert_eq!(email.header("X-Onboard-Notification-Id").and_then(|h| h.as_text()), Some("n1"));
    let text = email.body_text(0).unwrap();
    assert!(text.contains(&m.link) && text.contains("CODE01"), "{text}");
    let html = email.body_html(0).unwrap();
    assert!(html.contains("code=CODE01") && html.contains("User &lt;1&gt;"), "{html}");
}

#[tokio::test]
async fn a_branded_email_carries_its_organizations_sender_and_look_the_envelope_stays_ours() {
    let server = SmtpServer::start(SmtpOptions::default());
    let brand = onboard_domain::MessageBrand {
        branding: Arc::new(onboard_domain::testkit::full_branding()),
        logo_url: Some("https://id.example.com/ui/login/user/init/brand/o1/logo?v=1".into()),
    };
    let m = InitMessage {
        language: Some(onboard_domain::Language::parse("de").unwrap()),
        brand: Some(brand),
        ..message(4, "user4@example.com")
    };
    mailer(&server.url(), |_| {}).send_init(&m).await.unwrap();
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got[0].from, "id@example.com", "bounces reach the operator");
    let email = MessageParser::default().parse(&got[0].raw).expect("an RFC 5322 message");
    let from = email.from().unwrap().first().unwrap();
    assert_eq!((from.name(), from.address()), (Some("Acme IT"), Some("it@acme.example")));
    assert_eq!(email.reply_to().unwrap().first().unwrap().address(), Some("help@acme.example"));
    assert_eq!(email.subject(), Some("Initialize User"), "German has no subject of its own");
    let html = email.body_html(0).unwrap();
    assert!(html.contains("alt=\"Acme Corporation\"") && html.contains("background:#b3261e"), "{html}");
    assert!(html.contains("Guten Tag User &lt;4&gt;"), "{html}");
    let text = email.body_text(0).unwrap();
    assert!(text.contains(&m.link) && text.contains("Acme Corporation"), "{text}");
}

#[tokio::test]
async fn auth_plain_with_the_password_from_the_settings() {
    let auth = Some(("relay-user".to_owned(), "s3cret".to_owned()));
    let server = SmtpServer::start(SmtpOptions { auth, ..SmtpOptions::default() });
    // The URL names the user; the password comes as a file's would.
    mailer(&server.url(), |s| s.password = Some("s3cret".into()))
        .send_init(&message(2, "a@example.com"))
        .await
        .unwrap();
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got[0].auth.as_deref(), Some("relay-user"));
    // A wrong password fails every email alike: permanent, with the relay's reply.
    let refused =
        mailer(&server.url(), |s| s.password = Some("wrong".into())).send_init(&message(3, "b@example.com")).await;
    match refused {
        Err(MailError::Permanent(reason)) => assert!(reason.contains("535"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn starttls_with_a_trusted_certificate_and_not_without_one() {
    let server = SmtpServer::start(SmtpOptions { starttls: true, ..SmtpOptions::default() });
    let ca = server.ca_pem().unwrap().as_bytes().to_vec();
    mailer(&server.url(), |s| s.trusted_ca_pem = Some(ca)).send_init(&message(4, "c@example.com")).await.unwrap();
    let got = server.wait_for(1, WAIT).await;
    assert!(got[0].tls, "the session was encrypted");
    // The certificate is not trusted: no email, and worth trying again (the
    // operator may fix the trust store).
    let untrusted = mailer(&server.url(), |_| {}).send_init(&message(5, "d@example.com")).await;
    assert!(matches!(untrusted, Err(MailError::Transient(_))), "{untrusted:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn replies_decide_transient_and_permanent_failures() {
    let mut server = SmtpServer::start(SmtpOptions::default());
    let m = mailer(&server.url(), |_| {});
    match m.send_init(&message(6, "tempfail1-x@example.com")).await {
        Err(MailError::Transient(reason)) => assert!(reason.contains("451"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // The second try is taken.
    m.send_init(&message(6, "tempfail1-x@example.com")).await.unwrap();
    match m.send_init(&message(7, "reject-y@example.com")).await {
        Err(MailError::Permanent(reason)) => {
            assert!(reason.contains("550") && reason.contains("mailbox unavailable"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    server.pause();
    let down = mailer(&server.url(), |_| {}).send_init(&message(8, "e@example.com")).await;
    assert!(matches!(down, Err(MailError::Transient(_))), "{down:?}");
    server.resume();
    mailer(&server.url(), |_| {}).send_init(&message(8, "e@example.com")).await.unwrap();
    assert_eq!(server.wait_for(2, WAIT).await.len(), 2);
}

#[tokio::test]
async fn a_batch_is_one_transaction_per_email_with_results_in_order() {
    let server = SmtpServer::start(SmtpOptions::default());
    let m = mailer(&server.url(), |s| s.pool_size = 4);
    let batch: Vec<InitMessage> = (0..20)
        .map(|i| message(i, &if i == 7 { "reject-7@example.com".to_owned() } else { format!("u{i}@example.com") }))
        .collect();
    let results = m.send_batch(&batch).await;
    assert_eq!(results.len(), 20);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_ok(), i != 7, "{i}: {r:?}");
    }
    let got = server.wait_for(19, WAIT).await;
    assert_eq!(got.len(), 19);
    // Each email carries its own code, to its own recipient only.
    for r in &got {
        assert_eq!(r.to.len(), 1);
        let i: usize = r.to[0].trim_start_matches('u').split('@').next().unwrap().parse().unwrap();
        let email = MessageParser::default().parse(&r.raw).unwrap();
        assert!(email.body_text(0).unwrap().contains(&format!("CODE{i:02}")));
    }
}
