//! Delivery's one-call settlement of mailed emails: the "code sent" event,
//! the record and the completion together, and what happens when the user
//! moved on meanwhile.

use onboard_domain::ports::{Mailed, NotificationLog, Outbox, SaveError, UserRepository, UserWrite};
use onboard_domain::testkit::new_user;
use onboard_domain::{DeliveryState, Notification, OrgId, UserEvent};
use onboard_redis::testing::RedisServer;
use time::{Duration, OffsetDateTime};

use crate::support;

#[tokio::test]
async fn mailed_emails_are_settled_in_one_call() {
    let server = RedisServer::start();
    let store = support::open(&server, "n").await.unwrap();
    let org = OrgId::generate();
    let (mut fresh, write) = new_user(&org, "fresh");
    store.save(write).await.unwrap();
    let (mut moved, write) = new_user(&org, "moved");
    store.save(write).await.unwrap();

    let mut claimed = Vec::new();
    for p in 0..store.partitions() {
        claimed.extend(store.claim_due(p, OffsetDateTime::now_utc(), 100, Duration::seconds(30)).await.unwrap());
    }
    assert_eq!(claimed.len(), 2);
    // "moved" changes before its email is settled.
    let expected = moved.sequence;
    let verified = moved.record(UserEvent::EmailVerified, moved.changed_at);
    let write = UserWrite { expected_sequence: expected, user: moved.clone(), events: vec![verified], outbox: None };
    store.save(write).await.unwrap();

    let mailed: Vec<Mailed> = claimed
        .iter()
        .map(|entry| {
            let mut user = if entry.user_id == fresh.id { fresh.clone() } else { moved.clone() };
            if entry.user_id == moved.id {
                user.sequence -= 1; // as the round read it, before the change
            }
            let expected = user.sequence;
            let event = UserEvent::InitCodeSent { notification: entry.id.clone(), generation: entry.code_generation };
            let sent = user.record(event, user.changed_at);
            let mut record = Notification::after_attempt(entry, DeliveryState::Sent, OffsetDateTime::now_utc());
            record.attempts = 1;
            Mailed {
                entry: entry.clone(),
                write: UserWrite { expected_sequence: expected, user, events: vec![sent], outbox: None },
                record,
            }
        })
        .collect();
    let results = store.complete_mailed(&mailed).await.expect("offered").unwrap();
    for (m, result) in mailed.iter().zip(&results) {
        if m.entry.user_id == fresh.id {
            assert_eq!(*result, Ok(()));
        } else {
            assert_eq!(*result, Err(SaveError::Conflict));
        }
    }
    fresh.record(UserEvent::InitCodeSent { notification: claimed[0].id.clone(), generation: 2 }, fresh.changed_at);
    let log = store.events(&fresh.id).await.unwrap();
    assert_eq!(log.last().map(|e| e.event.kind()), Some("user.initialization.code.sent"));
    assert_eq!(store.get(&fresh.id).await.unwrap().unwrap().sequence, 3);
    let log = store.events(&moved.id).await.unwrap();
    assert_eq!(log.last().map(|e| e.event.kind()), Some("user.email.verified"), "no event on a user that moved");
    // Records and completions happen either way.
    for m in &mailed {
        let kept = store.find(&m.entry.user_id, &m.entry.id).await.unwrap().unwrap();
        assert_eq!((kept.state, kept.attempts), (DeliveryState::Sent, 1));
    }
    for p in 0..store.partitions() {
        let again = store.claim_due(p, OffsetDateTime::now_utc() + Duration::minutes(5), 100, Duration::seconds(30));
        assert!(again.await.unwrap().is_empty(), "nothing is due any more");
    }
}

#[tokio::test]
async fn the_outbox_depth_counts_what_waits_not_what_was_acknowledged() {
    use onboard_domain::ports::OutboxStats;
    let server = RedisServer::start();
    let store = support::open(&server, "n").await.unwrap();
    let stats = onboard_redis::RedisOutboxStats::new(onboard_redis::connect(support::settings(&server)).await.unwrap());
    let org = OrgId::generate();
    for name in ["d1", "d2", "d3"] {
        store.save(new_user(&org, name).1).await.unwrap();
    }
    let depth = stats.depth().await.unwrap();
    assert_eq!(depth.entries, 3, "not read yet");
    assert!(depth.oldest_age.is_some());
    let mut claimed = Vec::new();
    for p in 0..store.partitions() {
        claimed.extend(store.claim_due(p, OffsetDateTime::now_utc(), 100, Duration::seconds(30)).await.unwrap());
    }
    assert_eq!(stats.depth().await.unwrap().entries, 3, "read, not acknowledged");
    store.complete_many(&claimed[..2]).await.unwrap();
    assert_eq!(stats.depth().await.unwrap().entries, 1);
    store.complete(&claimed[2]).await.unwrap();
    let depth = stats.depth().await.unwrap();
    assert_eq!((depth.entries, depth.oldest_age), (0, None));
}
