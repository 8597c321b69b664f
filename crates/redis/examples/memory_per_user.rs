//! Prints Redis memory per Initial user: starts its own redis-server, writes
//! N users as the use cases do (user, log of 3 events, a pending email), and
//! reads `INFO memory` before and after.
//!
//! `cargo run --release -p onboard-redis --features testing --example memory_per_user -- 100000`

use std::sync::Arc;

use onboard_domain::ports::{Outbox, UserRepository};
use onboard_domain::testkit::new_user;
use onboard_domain::{OrgId, UserEvent};
use onboard_redis::testing::RedisServer;
use onboard_redis::{RedisSettings, RedisStore, RedisTarget, connect};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let server = RedisServer::start();
    let redis = connect(RedisSettings::new(RedisTarget::Url(server.url()))).await.expect("connect");
    let store = Arc::new(RedisStore::open(redis, "memory-probe").await.expect("open"));
    let before = server.used_memory();
    let org = OrgId::generate();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..8 {
        let store = store.clone();
        let org = org.clone();
        tasks.spawn(async move {
            for i in (chunk..n).step_by(8) {
                let (mut user, write) = new_user(&org, &format!("user{i}"));
                store.save(write).await.expect("create");
                // The third event of a typical Initial user: its email was sent.
                let expected = user.sequence;
                let sent = user.record(
                    UserEvent::InitCodeSent { notification: onboard_domain::NotificationId::generate(), generation: 2 },
                    user.changed_at,
                );
                let write = onboard_domain::ports::UserWrite {
                    expected_sequence: expected,
                    user,
                    events: vec![sent],
                    outbox: None,
                };
                store.save(write).await.expect("record sent");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("writer");
    }
    // As after delivery: the emails went out, their entries are gone.
    let mut drained = 0;
    for p in 0..store.partitions() {
        loop {
            let due = store
                .claim_due(p, time::OffsetDateTime::now_utc(), 1000, time::Duration::seconds(60))
                .await
                .expect("claim");
            if due.is_empty() {
                break;
            }
            for entry in &due {
                store.complete(entry).await.expect("complete");
            }
            drained += due.len();
        }
    }
    assert_eq!(drained, n, "every email was pending once");
    let after = server.used_memory();
    let per_user = (after - before) as f64 / n as f64;
    println!("users: {n}");
    println!("redis used_memory: {before} -> {after} bytes");
    println!("per Initial user (user, 3-event log, name claim; email sent): {per_user:.0} bytes");
}
