//! Redis memory per Initial user, the way `crates/redis/examples/memory_per_user.rs`
//! measures it: a redis-server of its own, users written through the store
//! as the use cases write them (create with a pending email, then "sent"),
//! every email drained, `INFO memory` before and after. Written directly
//! through the store rather than over HTTP: a million creations over the
//! API would measure the API, not the memory.

use std::sync::Arc;

use onboard_domain::ports::{Outbox, UserRepository, UserWrite};
use onboard_domain::testkit::new_user;
use onboard_domain::{NotificationId, OrgId, UserEvent};
use onboard_redis::testing::RedisServer;
use onboard_redis::{RedisSettings, RedisStore, RedisTarget, connect};

/// Bytes of Redis memory per user after writing `n` users.
pub async fn bytes_per_user(n: usize, writers: usize) -> Result<f64, String> {
    let server = RedisServer::start();
    let redis = connect(RedisSettings::new(RedisTarget::Url(server.url()))).await?;
    let store = Arc::new(RedisStore::open(redis, "memory-probe").await?);
    let before = server.used_memory();
    let org = OrgId::generate();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..writers {
        let (store, org) = (store.clone(), org.clone());
        tasks.spawn(async move {
            for i in (chunk..n).step_by(writers) {
                let (mut user, write) = new_user(&org, &format!("user{i}"));
                store.save(write).await.map_err(|e| e.to_string())?;
                let expected = user.sequence;
                let sent = user.record(
                    UserEvent::InitCodeSent { notification: NotificationId::generate(), generation: 2 },
                    user.changed_at,
                );
                let write = UserWrite { expected_sequence: expected, user, events: vec![sent], outbox: None };
                store.save(write).await.map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let mut drained = 0;
    for p in 0..store.partitions() {
        loop {
            let due = store
                .claim_due(p, time::OffsetDateTime::now_utc(), 1000, time::Duration::seconds(60))
                .await
                .map_err(|e| e.to_string())?;
            if due.is_empty() {
                break;
            }
            for entry in &due {
                store.complete(entry).await.map_err(|e| e.to_string())?;
            }
            drained += due.len();
        }
    }
    if drained != n {
        return Err(format!("drained {drained} emails of {n}"));
    }
    let after = server.used_memory();
    Ok(after.saturating_sub(before) as f64 / n as f64)
}
