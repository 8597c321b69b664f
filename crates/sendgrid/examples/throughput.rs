//! Emails per second through the SendGrid mailer into the SendGrid-compatible
//! fake on loopback, batched (up to 1,000 recipients per call) and unbatched
//! (one call per email).
//!
//! `cargo run --release -p onboard-sendgrid --features testing --example throughput -- 20000`

use std::sync::Arc;
use std::time::{Duration, Instant};

use onboard_domain::ports::{InitMessage, Mailer};
use onboard_domain::{EmailAddress, NotificationId, OrgId, PlainCode, UserId};
use onboard_mail::Templates;
use onboard_sendgrid::testing::FakeSendGrid;
use onboard_sendgrid::{SendGridMailer, SendGridSettings};

fn message(i: usize) -> InitMessage {
    InitMessage {
        notification_id: NotificationId::parse(&format!("n{i}")).unwrap(),
        user_id: UserId::parse(&format!("u{i}")).unwrap(),
        org_id: OrgId::parse("o1").unwrap(),
        recipient: EmailAddress::parse(&format!("user{i}@example.com")).unwrap(),
        display_name: format!("User {i}"),
        login_name: format!("user{i}"),
        code: PlainCode::from_stored("ABC123".into()),
        link: format!(
            "https://id.example.com/ui/login/user/init?userID=u{i}&loginname=user{i}&code=ABC123&orgID=o1&passwordset=false"
        ),
        expires_at: time::macros::datetime!(2026-01-04 12:00 UTC),
        language: None,
        brand: None,
        application_name: None,
        reminder: false,
    }
}

async fn run(n: usize, batch: usize) -> f64 {
    let fake = FakeSendGrid::start("SG.bench").await;
    let mut settings = SendGridSettings::new(fake.api_key.clone(), "id@example.com".into(), "ID".into());
    settings.base_url = fake.base_url.clone();
    settings.batch_limit = batch;
    settings.timeout = Duration::from_secs(30);
    let mailer = SendGridMailer::new(settings, Arc::new(Templates::builtin())).unwrap();
    let messages: Vec<InitMessage> = (0..n).map(message).collect();
    let started = Instant::now();
    // As the dispatcher hands them over: rounds of 1,000 claimed emails.
    for round in messages.chunks(1000) {
        let results = mailer.send_batch(round).await;
        assert!(results.iter().all(Result::is_ok));
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(fake.delivered().len(), n);
    n as f64 / secs
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let batched = run(n, 1000).await;
    let unbatched = run(n / 4, 1).await;
    println!("emails: {n} batched, {} unbatched", n / 4);
    println!("batched (1,000 per call): {batched:.0} emails/s");
    println!("unbatched (1 per call):   {unbatched:.0} emails/s");
}
