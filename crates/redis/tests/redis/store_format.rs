//! The store's format record (docs/redis.md, "Stored format"): made at a
//! store's first start, checked at every start; and the adapters keeping
//! every stored value exactly as the samples' `encode` makes it.

use onboard_domain::ports::{Directory, IdempotencyStore, NotificationLog, UserRepository, UserWrite};
use onboard_domain::token::TokenDigest;
use onboard_domain::{DeliveryState, UserEvent};
use onboard_redis::testing::RedisServer;
use onboard_redis::testing::format::{FORMAT, StoredNotification, encode};
use onboard_redis::{RedisDirectory, RedisIdempotencyStore, connect};

use crate::samples;
use crate::support::{self, key_of, raw};

async fn recorded_format(server: &RedisServer) -> Option<String> {
    redis::cmd("GET").arg("onb:{meta}:format").query_async(&mut raw(server).await).await.unwrap()
}

#[tokio::test]
async fn a_new_store_records_the_format_it_holds() {
    let server = RedisServer::start();
    support::open(&server, "format-test").await.unwrap();
    assert_eq!(recorded_format(&server).await, Some(FORMAT.to_string()));
    support::open(&server, "format-test-2").await.unwrap();
}

#[tokio::test]
async fn a_store_from_before_the_format_was_recorded_is_read_and_recorded_anew() {
    let server = RedisServer::start();
    let store = support::open(&server, "format-test").await.unwrap();
    let (user, write) = onboard_domain::testkit::new_user(&onboard_domain::OrgId::generate(), "earlier");
    store.save(write).await.unwrap();
    // As the version before the record left it: data, and no format.
    redis::cmd("DEL").arg("onb:{meta}:format").query_async::<()>(&mut raw(&server).await).await.unwrap();
    let reopened = support::open(&server, "format-test-2").await.unwrap();
    assert_eq!(recorded_format(&server).await, Some(FORMAT.to_string()));
    assert_eq!(reopened.get(&user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn a_store_of_format_1_is_read_with_its_events_without_editors() {
    let server = RedisServer::start();
    let store = support::open(&server, "format-test").await.unwrap();
    let (user, write) = onboard_domain::testkit::new_user(&onboard_domain::OrgId::generate(), "older");
    let events = write.events.clone();
    store.save(write).await.unwrap();
    // Its log as format 1 wrote it: the leading byte 1 and no editor.
    let mut conn = raw(&server).await;
    let log = key_of(&mut conn, "e", &user.id).await.unwrap();
    redis::cmd("DEL").arg(&log).query_async::<()>(&mut conn).await.unwrap();
    for e in &events {
        let mut old = vec![1u8];
        old.extend(postcard::to_stdvec(&(e.sequence, e.at, &e.event)).unwrap());
        redis::cmd("RPUSH").arg(&log).arg(old).query_async::<()>(&mut conn).await.unwrap();
    }
    redis::cmd("SET").arg("onb:{meta}:format").arg("1").query_async::<()>(&mut conn).await.unwrap();
    let reopened = support::open(&server, "format-test-2").await.unwrap();
    assert_eq!(recorded_format(&server).await, Some(FORMAT.to_string()), "the record is raised");
    assert_eq!(reopened.get(&user.id).await.unwrap(), Some(user.clone()));
    let read = reopened.events(&user.id).await.unwrap();
    assert_eq!(read.len(), events.len());
    assert!(read.iter().all(|e| e.editor.is_none()));
    assert_eq!(read.iter().map(|e| &e.event).collect::<Vec<_>>(), events.iter().map(|e| &e.event).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_store_in_another_format_is_refused() {
    let server = RedisServer::start();
    support::open(&server, "format-test").await.unwrap();
    for (stored, says) in [("3", "format 3"), ("one", "\"one\"")] {
        redis::cmd("SET")
            .arg("onb:{meta}:format")
            .arg(stored)
            .query_async::<()>(&mut raw(&server).await)
            .await
            .unwrap();
        let err = support::open(&server, "format-test-2").await.unwrap_err();
        assert!(err.contains(says) && err.contains("only formats 1 to 2"), "{err}");
        assert_eq!(recorded_format(&server).await.as_deref(), Some(stored), "the record is left as it was");
    }
}

/// The samples pin `encode`; this pins that the adapters store its bytes
/// and nothing else, for every stored type.
#[tokio::test]
async fn the_adapters_store_values_as_encoded() {
    let server = RedisServer::start();
    let store = support::open(&server, "format-test").await.unwrap();
    let mut conn = raw(&server).await;
    let hget = |key: String, field: String| redis::cmd("HGET").arg(key).arg(field).clone();

    // A new user with its email due: log entries, pending entry, queued record.
    let (mut user, write) = onboard_domain::testkit::new_user(&onboard_domain::OrgId::generate(), "encoded");
    let entry = write.outbox.clone().unwrap();
    let events = write.events.clone();
    store.save(write).await.unwrap();
    let log: Vec<Vec<u8>> = redis::cmd("LRANGE")
        .arg(key_of(&mut conn, "e", &user.id).await.unwrap())
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(log, events.iter().map(encode).collect::<Vec<_>>());
    let pending: Vec<u8> =
        redis::cmd("GET").arg(key_of(&mut conn, "o", &user.id).await.unwrap()).query_async(&mut conn).await.unwrap();
    assert_eq!(pending, encode(&entry));
    let hash = key_of(&mut conn, "u", &user.id).await.unwrap();
    let record: Vec<u8> = hget(hash.clone(), format!("#{}", entry.id)).query_async(&mut conn).await.unwrap();
    let queued = onboard_domain::Notification::queued(&entry);
    assert_eq!(record, encode(&StoredNotification::of(&queued, false)));

    // A record put later, to another recipient: kept with it.
    let moved = onboard_domain::Notification {
        recipient: onboard_domain::EmailAddress::parse("moved@example.org").unwrap(),
        state: DeliveryState::Sent,
        ..queued
    };
    store.put(&moved).await.unwrap();
    let record: Vec<u8> = hget(hash.clone(), format!("#{}", entry.id)).query_async(&mut conn).await.unwrap();
    assert_eq!(record, encode(&StoredNotification::of(&moved, true)));

    // A write that reaches a multiple of 16 stores the user as a snapshot.
    let expected = user.sequence;
    let failed: Vec<_> = (expected..16).map(|_| user.record(UserEvent::InitCheckFailed, user.changed_at)).collect();
    store
        .save(UserWrite { expected_sequence: expected, user: user.clone(), events: failed, outbox: None })
        .await
        .unwrap();
    let snapshot: Vec<u8> = hget(hash, "s".into()).query_async(&mut conn).await.unwrap();
    assert_eq!(snapshot, encode(&user));

    // The directory's accounts and token records.
    let redis = connect(support::settings(&server)).await.unwrap();
    let directory = RedisDirectory::new(redis.clone());
    let (_, account) = samples::accounts().remove(0);
    directory.put_account(&account).await.unwrap();
    let stored: Vec<u8> = hget("onb:{dir}:accounts".into(), account.id.clone()).query_async(&mut conn).await.unwrap();
    assert_eq!(stored, encode(&account));
    let (_, token) = samples::tokens().remove(1);
    let digest = TokenDigest::from_hex(&"ab".repeat(32)).unwrap();
    directory.put_token(&digest, &token).await.unwrap();
    let stored: Vec<u8> = hget("onb:{dir}:tokens".into(), "ab".repeat(32)).query_async(&mut conn).await.unwrap();
    assert_eq!(stored, encode(&token));

    // An answer kept for replay.
    let idempotency = RedisIdempotencyStore::new(redis);
    let (_, answer) = samples::answers().remove(1);
    let now = time::OffsetDateTime::now_utc();
    idempotency.claim("caller:k", &[3; 32], now, time::Duration::seconds(30)).await.unwrap();
    idempotency.complete("caller:k", &[3; 32], &answer, now, time::Duration::hours(1)).await.unwrap();
    let stored: Vec<u8> = hget("onb:idem:caller:k".into(), "a".into()).query_async(&mut conn).await.unwrap();
    assert_eq!(stored, encode(&answer));
}
