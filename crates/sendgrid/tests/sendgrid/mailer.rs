//! The SendGrid mailer against a SendGrid-compatible server on loopback.

use std::sync::Arc;
use std::time::Duration;

use onboard_domain::ports::{InitMessage, MailError, Mailer};
use onboard_domain::{EmailAddress, Language, NotificationId, OrgId, PlainCode, UserId};
use onboard_mail::Templates;
use onboard_sendgrid::testing::{FakeSendGrid, Reply};
use onboard_sendgrid::{SendGridMailer, SendGridSettings};

pub(crate) const KEY: &str = "SG.test-key";

pub(crate) fn message(i: usize, language: Option<&str>) -> InitMessage {
    InitMessage {
        notification_id: NotificationId::parse(&format!("n{i}")).unwrap(),
        user_id: UserId::parse(&format!("u{i}")).unwrap(),
        org_id: OrgId::parse("o1").unwrap(),
        recipient: EmailAddress::parse(&format!("user{i}@example.com")).unwrap(),
        display_name: format!("User <{i}>"),
        login_name: format!("user{i}"),
        code: PlainCode::from_stored(format!("CODE{i:02}")),
        link: format!(
            "https://id.example.com/ui/login/user/init?userID=u{i}&loginname=user{i}&code=CODE{i:02}&orgID=o1&passwordset=false"
        ),
        expires_at: time::macros::datetime!(2026-01-04 12:00 UTC),
        language: language.map(|l| Language::parse(l).unwrap()),
        brand: None,
        application_name: None,
        reminder: false,
    }
}

pub(crate) fn mailer(fake: &FakeSendGrid, adjust: impl FnOnce(&mut SendGridSettings)) -> SendGridMailer {
    let mut settings = SendGridSettings::new(fake.api_key.clone(), "id@example.com".into(), "Example ID".into());
    settings.base_url = fake.base_url.clone();
    settings.timeout = Duration::from_millis(500);
    adjust(&mut settings);
    SendGridMailer::new(settings, Arc::new(Templates::builtin())).unwrap()
}

#[tokio::test]
async fn one_email_arrives_with_recipient_subject_link_and_both_parts() {
    let fake = FakeSendGrid::start(KEY).await;
    let m = message(1, None);
    let id = mailer(&fake, |_| {}).send_init(&m).await.unwrap();
    let got = fake.delivered();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(d.message_id, id);
    assert_eq!(d.to, "user1@example.com");
    assert_eq!(d.subject, "Initialize User");
    assert!(d.text.contains(&m.link), "{}", d.text);
    assert!(d.text.contains("Your initialization code: CODE01"));
    assert!(d.html.contains(&m.link.replace('&', "&amp;")) || d.html.contains("code=CODE01"), "{}", d.html);
    assert!(d.html.contains("User &lt;1&gt;"), "HTML values are escaped: {}", d.html);
    assert!(d.html.contains(">Finish initialization</a>"));
    assert_eq!(d.custom_args["onboard_notification_id"], "n1");
    assert_eq!(d.custom_args["onboard_user_id"], "u1");
}

#[tokio::test]
async fn a_batch_is_one_call_per_language_with_each_recipients_own_values() {
    let fake = FakeSendGrid::start(KEY).await;
    let messages: Vec<_> = (0..5).map(|i| message(i, if i % 2 == 0 { Some("de") } else { None })).collect();
    let results = mailer(&fake, |_| {}).send_batch(&messages).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.accepted_calls(), 2, "German and English");
    let got = fake.delivered();
    assert_eq!(got.len(), 5);
    for m in &messages {
        let d = got.iter().find(|d| d.to == m.recipient.as_str()).unwrap();
        assert!(d.text.contains(m.code.expose()) && d.text.contains(&m.link));
        let german = m.language.is_some();
        assert_eq!(d.text.contains("Initialisierung abschliessen"), german);
    }
}

#[tokio::test]
async fn reminders_go_out_in_calls_of_their_own_and_say_they_are_reminders() {
    let fake = FakeSendGrid::start(KEY).await;
    let reminder = |i: usize| InitMessage { reminder: true, ..message(i, None) };
    let messages = vec![message(0, None), reminder(1), message(2, None), reminder(3)];
    let results = mailer(&fake, |_| {}).send_batch(&messages).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.accepted_calls(), 2, "invitations and reminders");
    for d in fake.delivered() {
        let reminded = d.to == "user1@example.com" || d.to == "user3@example.com";
        assert_eq!(d.subject, if reminded { "Reminder: Initialize User" } else { "Initialize User" });
        assert_eq!(d.text.contains("A reminder: your invitation is still waiting"), reminded, "{}", d.text);
    }
}

#[tokio::test]
async fn branded_emails_go_out_per_organization_with_its_sender_look_and_words() {
    let fake = FakeSendGrid::start(KEY).await;
    let mut branding = onboard_domain::testkit::full_branding();
    branding.overrides.clear();
    let brand = onboard_domain::MessageBrand {
        branding: Arc::new(branding),
        logo_url: Some("https://id.example.com/ui/login/user/init/brand/o2/logo?v=1".into()),
    };
    let branded = |i: usize, org: &str| InitMessage {
        org_id: OrgId::parse(org).unwrap(),
        language: Some(Language::parse("en").unwrap()),
        brand: Some(brand.clone()),
        ..message(i, None)
    };
    let messages = vec![branded(0, "o2"), message(1, None), branded(2, "o2"), branded(3, "o3")];
    let results = mailer(&fake, |_| {}).send_batch(&messages).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.accepted_calls(), 3, "one per organization, and one unbranded");
    let got = fake.delivered();
    for d in &got {
        let branded = d.to != "user1@example.com";
        assert_eq!(d.from_email, if branded { "it@acme.example" } else { "id@example.com" });
        assert_eq!(d.from_name, if branded { "Acme IT" } else { "Example ID" });
        assert_eq!(d.reply_to.as_deref(), branded.then_some("help@acme.example"));
        assert_eq!(d.html.contains("background:#b3261e"), branded, "{}", d.html);
        assert_eq!(d.html.contains("alt=\"Acme Corporation\""), branded);
        assert_eq!(d.text.contains("-- \nAcme Corporation"), branded);
    }
    let d = got.iter().find(|d| d.to == "user2@example.com").unwrap();
    assert!(d.text.contains("CODE02") && d.html.contains("User &lt;2&gt;"), "each recipient's own values");

    // The organization's own subject, with a recipient's value in it.
    let mut branding = onboard_domain::testkit::full_branding();
    branding
        .overrides
        .get_mut("en")
        .unwrap()
        .email
        .insert(onboard_domain::branding::EmailPart::Subject, "{{ org }}: welcome, {{ name }}".into());
    let brand = onboard_domain::MessageBrand { branding: Arc::new(branding), logo_url: None };
    let m = InitMessage { language: Some(Language::parse("en").unwrap()), brand: Some(brand), ..message(7, None) };
    mailer(&fake, |_| {}).send_init(&m).await.unwrap();
    let d = fake.delivered().into_iter().find(|d| d.to == "user7@example.com").unwrap();
    assert_eq!(d.subject, "Acme Corporation: welcome, User <7>");
    assert_eq!(
        d.text,
        "Hi User <7>: https://id.example.com/ui/login/user/init?userID=u7&loginname=user7&code=CODE07&orgID=o1&passwordset=false\n"
    );
}

#[tokio::test]
async fn a_dynamic_template_gets_the_organizations_sender_and_look_as_data() {
    let fake = FakeSendGrid::start(KEY).await;
    let brand = onboard_domain::MessageBrand {
        branding: Arc::new(onboard_domain::testkit::full_branding()),
        logo_url: Some("https://id.example.com/ui/login/user/init/brand/o1/logo?v=1".into()),
    };
    let m = InitMessage { brand: Some(brand), ..message(8, None) };
    mailer(&fake, |s| s.template_id = Some("d-0123456789".into())).send_init(&m).await.unwrap();
    let d = fake.delivered().remove(0);
    assert_eq!((d.from_email.as_str(), d.reply_to.as_deref()), ("it@acme.example", Some("help@acme.example")));
    assert_eq!(d.template_data["org"], "Acme Corporation");
    assert_eq!(d.template_data["logo_url"], "https://id.example.com/ui/login/user/init/brand/o1/logo?v=1");
    assert_eq!((&d.template_data["primary"], &d.template_data["background"]), (&"#b3261e".into(), &"#fffbfe".into()));
    assert_eq!(d.template_data["code"], "CODE08");
}

#[tokio::test]
async fn emails_naming_an_application_go_in_a_call_of_their_own() {
    let fake = FakeSendGrid::start(KEY).await;
    let mut messages: Vec<_> = (0..4).map(|i| message(i, None)).collect();
    messages[1].application_name = Some("Shop & Co".into());
    messages[3].application_name = Some("Other <App>".into());
    let results = mailer(&fake, |_| {}).send_batch(&messages).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.accepted_calls(), 2, "with and without an application");
    for m in &messages {
        let d = fake.delivered().into_iter().find(|d| d.to == m.recipient.as_str()).unwrap();
        match &m.application_name {
            Some(app) => {
                assert!(d.text.contains(&format!("created for you to use {app}.")), "{}", d.text);
                let escaped = app.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                assert!(d.html.contains(&escaped), "{}", d.html);
            }
            None => assert!(d.text.contains("created for you. Use"), "{}", d.text),
        }
    }
}

#[tokio::test]
async fn batches_are_cut_at_the_limit() {
    let fake = FakeSendGrid::start(KEY).await;
    let messages: Vec<_> = (0..7).map(|i| message(i, None)).collect();
    mailer(&fake, |s| s.batch_limit = 3).send_batch(&messages).await;
    assert_eq!(fake.accepted_calls(), 3);
    assert_eq!(fake.delivered().len(), 7);
}

#[tokio::test]
async fn answers_are_classified_for_retrying() {
    let fake = FakeSendGrid::start(KEY).await;
    let m = message(1, None);
    let mailer = mailer(&fake, |_| {});
    fake.script([Reply::Status(500)]);
    assert!(matches!(mailer.send_init(&m).await, Err(MailError::Transient(r)) if r.starts_with("500")));
    fake.script([Reply::Throttle { retry_after_secs: 7 }]);
    assert_eq!(
        mailer.send_init(&m).await.map_err(|e| match e {
            MailError::Throttled { retry_after, .. } => retry_after,
            other => panic!("{other:?}"),
        }),
        Err(Duration::from_secs(7))
    );
    for code in [400, 403, 413] {
        fake.script([Reply::Status(code)]);
        assert!(matches!(mailer.send_init(&m).await, Err(MailError::Permanent(r)) if r.starts_with(&code.to_string())));
    }
    fake.script([Reply::Stall(Duration::from_secs(2))]);
    assert!(matches!(mailer.send_init(&m).await, Err(MailError::Transient(r)) if r.contains("timed out")));
}

#[tokio::test]
async fn a_wrong_key_is_permanent_and_never_logged_in_the_reason() {
    let fake = FakeSendGrid::start(KEY).await;
    let mut settings = SendGridSettings::new("SG.wrong".into(), "id@example.com".into(), "ID".into());
    settings.base_url = fake.base_url.clone();
    let mailer = SendGridMailer::new(settings.clone(), Arc::new(Templates::builtin())).unwrap();
    match mailer.send_init(&message(1, None)).await {
        Err(MailError::Permanent(reason)) => {
            assert!(reason.starts_with("401"));
            assert!(!reason.contains("SG.wrong"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{settings:?} {mailer:?}").contains("SG.wrong"));
}

#[tokio::test]
async fn a_batch_rejected_as_a_whole_falls_back_to_single_sends() {
    let fake = FakeSendGrid::start(KEY).await;
    let messages: Vec<_> = (0..3).map(|i| message(i, None)).collect();
    fake.script([Reply::Status(400), Reply::Accept, Reply::Status(400), Reply::Accept]);
    let results = mailer(&fake, |_| {}).send_batch(&messages).await;
    assert!(results[0].is_ok());
    assert!(matches!(&results[1], Err(MailError::Permanent(_))));
    assert!(results[2].is_ok());
    assert_eq!(fake.calls(), 4);
}

#[tokio::test]
async fn unreachable_sendgrid_is_transient() {
    let fake = FakeSendGrid::start(KEY).await;
    let base = fake.base_url.clone();
    drop(fake);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut settings = SendGridSettings::new(KEY.into(), "id@example.com".into(), "ID".into());
    settings.base_url = base;
    settings.connect_timeout = Duration::from_millis(300);
    let mailer = SendGridMailer::new(settings, Arc::new(Templates::builtin())).unwrap();
    assert!(matches!(mailer.send_init(&message(1, None)).await, Err(MailError::Transient(_))));
}

#[tokio::test]
async fn a_dynamic_template_gets_the_values_as_template_data() {
    let fake = FakeSendGrid::start(KEY).await;
    let m = message(3, Some("de"));
    mailer(&fake, |s| s.template_id = Some("d-0123456789".into())).send_init(&m).await.unwrap();
    let d = &fake.delivered()[0];
    assert_eq!(d.template_data["code"], "CODE03");
    assert_eq!(d.template_data["link"], m.link.as_str());
    assert_eq!(d.template_data["login_name"], "user3");
    assert_eq!(d.template_data["expires"], "2026-01-04 12:00 UTC");
}
