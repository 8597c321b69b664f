//! Writes that wait for replicas (`WAIT`, `min_replicas_ack`): answered once
//! the replica has them, refused as unavailable within the timeout when it
//! does not.

use std::time::{Duration, Instant};

use onboard_domain::OrgId;
use onboard_domain::ports::{Outbox, SaveError, UserRepository};
use onboard_domain::testkit::new_user;
use onboard_redis::testing::{RedisServer, command};
use onboard_redis::{RedisSettings, RedisStore, RedisTarget, connect};

#[tokio::test]
async fn a_write_is_answered_once_the_replica_has_it_and_refused_when_it_cannot() {
    let primary = RedisServer::start();
    let mut replica = RedisServer::replica_of(&primary);
    let mut settings = RedisSettings::new(RedisTarget::Url(primary.url()));
    settings.min_replicas_ack = 1;
    // WAIT gives up a tenth short of the timeout; 300 ms of it leaves room
    // for a loaded machine, so Redis's count, not the client's timer, answers.
    settings.timeout = Duration::from_millis(3000);
    let store = RedisStore::open(connect(settings).await.unwrap(), "n").await.unwrap();

    let (user, write) = new_user(&OrgId::generate(), "replicated");
    store.save(write).await.unwrap();
    // Answered means replicated: the replica holds the user's hash now.
    let key = onboard_redis::testing::user_key(store.partitions(), &user.id);
    assert_eq!(command(replica.port, &format!("EXISTS {key}")).as_deref(), Some(":1"));

    // Without its replica the primary still takes writes, but none counts.
    replica.kill();
    let (_, write) = new_user(&OrgId::generate(), "unreplicated");
    let started = Instant::now();
    let refused = store.save(write).await;
    let waited = started.elapsed();
    let Err(SaveError::Unavailable(why)) = refused else { panic!("{refused:?}") };
    assert!(why.0.contains("0 of 1 replicas"), "{why}");
    assert!(waited >= Duration::from_millis(2500), "WAIT gave up after {waited:?}");
}
