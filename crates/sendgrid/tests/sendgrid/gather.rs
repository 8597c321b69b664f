//! The gathering of concurrent batches (the outbox partitions') into fewer
//! SendGrid calls, against the SendGrid-compatible server on loopback.

use std::sync::Arc;
use std::time::Duration;

use onboard_domain::ports::{InitMessage, MailError, Mailer};
use onboard_sendgrid::testing::{FakeSendGrid, Reply};
use onboard_sendgrid::{GatheringMailer, MAX_BATCH};

use crate::mailer::{KEY, mailer, message};

/// A window far longer than any test: the calls asserted here are cut by
/// the limit, never by the clock.
const LONG: Duration = Duration::from_secs(600);

fn gathering(fake: &FakeSendGrid, window: Duration) -> Arc<GatheringMailer<onboard_sendgrid::SendGridMailer>> {
    Arc::new(GatheringMailer::new(mailer(fake, |s| s.timeout = Duration::from_secs(5)), window, MAX_BATCH))
}

/// `sizes.len()` callers at once, caller `c` with `sizes[c]` messages of its own.
fn callers(sizes: &[usize]) -> Vec<Vec<InitMessage>> {
    let mut next = 0;
    sizes
        .iter()
        .map(|&n| {
            let own = (next..next + n).map(|i| message(i, None)).collect();
            next += n;
            own
        })
        .collect()
}

async fn send_all(
    mailer: &Arc<GatheringMailer<onboard_sendgrid::SendGridMailer>>,
    all: &[Vec<InitMessage>],
) -> Vec<Vec<Result<String, MailError>>> {
    let tasks: Vec<_> = all
        .iter()
        .cloned()
        .map(|own| {
            let mailer = Arc::clone(mailer);
            tokio::spawn(async move { mailer.send_batch(&own).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

/// Every caller got one result per message, and each `Ok` names the call
/// that carried that very recipient.
fn assert_own_results(fake: &FakeSendGrid, all: &[Vec<InitMessage>], results: &[Vec<Result<String, MailError>>]) {
    let delivered = fake.delivered();
    for (own, got) in all.iter().zip(results) {
        assert_eq!(own.len(), got.len());
        for (m, r) in own.iter().zip(got) {
            let carried = delivered.iter().find(|d| d.to == m.recipient.as_str());
            match r {
                Ok(id) => assert_eq!(carried.map(|d| d.message_id.as_str()), Some(id.as_str()), "{}", m.recipient),
                Err(_) => assert!(carried.is_none(), "{} failed but was delivered", m.recipient),
            }
        }
    }
}

/// 1,000 recipients in 16 batches of 62 or 63.
fn sixteen_partitions() -> Vec<usize> {
    (0..16).map(|c| if c < 8 { 62 } else { 63 }).collect()
}

#[tokio::test]
async fn sixteen_concurrent_batches_of_one_group_are_one_call() {
    let fake = FakeSendGrid::start(KEY).await;
    let all = callers(&sixteen_partitions());
    let results = send_all(&gathering(&fake, LONG), &all).await;
    assert_eq!(fake.calls(), 1);
    assert_eq!(fake.delivered().len(), 1000);
    assert!(results.iter().flatten().all(Result::is_ok), "{results:?}");
    assert_own_results(&fake, &all, &results);
}

#[tokio::test]
async fn over_a_thousand_gathered_go_in_calls_of_at_most_a_thousand() {
    let fake = FakeSendGrid::start(KEY).await;
    let all = callers(&[125; 16]);
    let results = send_all(&gathering(&fake, LONG), &all).await;
    assert_eq!(fake.calls(), 2);
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), 2000);
    for id in ["fake-000000", "fake-000001"] {
        assert_eq!(delivered.iter().filter(|d| d.message_id == id).count(), 1000, "{id}");
    }
    assert!(results.iter().flatten().all(Result::is_ok));
    assert_own_results(&fake, &all, &results);
    // A caller's batch is never cut in two.
    for got in &results {
        assert!(got.windows(2).all(|w| w[0] == w[1]), "{got:?}");
    }
}

#[tokio::test]
async fn a_failing_call_fails_exactly_the_messages_it_carried() {
    let fake = FakeSendGrid::start(KEY).await;
    fake.script([Reply::Status(500)]);
    let all = callers(&[125; 16]);
    let results = send_all(&gathering(&fake, LONG), &all).await;
    assert_eq!(fake.calls(), 2);
    let failed = results.iter().flatten().filter(|r| matches!(r, Err(MailError::Transient(_)))).count();
    assert_eq!(failed, 1000);
    assert_eq!(results.iter().flatten().filter(|r| r.is_ok()).count(), 1000);
    assert_eq!(fake.delivered().len(), 1000);
    assert_own_results(&fake, &all, &results);
}

#[tokio::test]
async fn a_window_of_zero_sends_each_batch_as_before() {
    let fake = FakeSendGrid::start(KEY).await;
    let all = callers(&sixteen_partitions());
    let results = send_all(&gathering(&fake, Duration::ZERO), &all).await;
    assert_eq!(fake.calls(), 16);
    assert!(results.iter().flatten().all(Result::is_ok));
    assert_own_results(&fake, &all, &results);
}

#[tokio::test]
async fn a_batch_short_of_the_limit_goes_when_the_window_closes() {
    let fake = FakeSendGrid::start(KEY).await;
    let all = callers(&[3, 1]);
    let mailer = gathering(&fake, Duration::from_millis(20));
    let results = send_all(&mailer, &all).await;
    assert!(results.iter().flatten().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.delivered().len(), 4);
    assert_own_results(&fake, &all, &results);
    // One alone is gathered too.
    let id = mailer.send_init(&message(9, None)).await.unwrap();
    assert_eq!(fake.delivered().last().map(|d| d.message_id.clone()), Some(id));
}

#[tokio::test]
async fn a_caller_dropped_while_its_call_is_in_flight_leaves_the_others_their_results() {
    let fake = FakeSendGrid::start(KEY).await;
    fake.script([Reply::Stall(Duration::from_millis(400))]);
    let mailer = gathering(&fake, LONG);
    let all = callers(&[500, 500]);
    let dropped = {
        let (mailer, own) = (Arc::clone(&mailer), all[0].clone());
        tokio::spawn(async move { mailer.send_batch(&own).await })
    };
    let kept = {
        let (mailer, own) = (Arc::clone(&mailer), all[1].clone());
        tokio::spawn(async move { mailer.send_batch(&own).await })
    };
    while fake.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    dropped.abort();
    let results = kept.await.unwrap();
    assert_eq!(fake.calls(), 1);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_own_results(&fake, &all[1..], &[results]);
    assert_eq!(fake.delivered().len(), 1000, "the dropped caller's emails went too; the outbox will send them again");
}
