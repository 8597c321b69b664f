//! Emails per second through the SMTP mailer into a real SMTP server on
//! loopback (aiosmtpd): a burst of 1,000 emails, one transaction each, over
//! the pool. `cargo run --release -p onboard-smtp --features testing --example smtp_throughput`
//! (add a number for another burst size).

use std::sync::Arc;
use std::time::{Duration, Instant};

use onboard_domain::ports::{InitMessage, Mailer};
use onboard_domain::{EmailAddress, NotificationId, OrgId, PlainCode, UserId};
use onboard_mail::Templates;
use onboard_smtp::testing::{SmtpOptions, SmtpServer};
use onboard_smtp::{SmtpMailer, SmtpSettings, SmtpUrl};

fn message(i: usize) -> InitMessage {
    InitMessage {
        notification_id: NotificationId::parse(&format!("n{i}")).unwrap(),
        user_id: UserId::parse(&format!("u{i}")).unwrap(),
        org_id: OrgId::parse("o1").unwrap(),
        recipient: EmailAddress::parse(&format!("user{i}@example.com")).unwrap(),
        display_name: format!("User {i}"),
        login_name: format!("user{i}"),
        code: PlainCode::from_stored(format!("CODE{i:04}")),
        link: format!("https://id.example.com/ui/login/user/init?userID=u{i}&code=CODE{i:04}"),
        expires_at: time::OffsetDateTime::now_utc(),
        language: None,
        brand: None,
        application_name: None,
        reminder: false,
    }
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let server = SmtpServer::start(SmtpOptions::default());
    let messages: Vec<InitMessage> = (0..count).map(message).collect();
    for pool in [1u32, 8] {
        let mut settings = SmtpSettings::new(SmtpUrl::parse(&server.url()).unwrap());
        settings.pool_size = pool;
        let mailer = SmtpMailer::new(&settings, "Bench", "bench@example.com", Arc::new(Templates::builtin())).unwrap();
        let before = server.received().len();
        let start = Instant::now();
        let sent = mailer.send_batch(&messages).await.iter().filter(|r| r.is_ok()).count();
        let elapsed = start.elapsed();
        let arrived = server.wait_for(before + count, Duration::from_secs(30)).await.len() - before;
        println!(
            "pool {pool}: {sent} of {count} sent, {arrived} arrived, in {:.2} s: {:.0} emails/s",
            elapsed.as_secs_f64(),
            sent as f64 / elapsed.as_secs_f64()
        );
    }
}
