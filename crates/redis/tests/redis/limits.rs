//! The rate limiter and idempotency keys on Redis beyond the port's checks:
//! nodes share them, a key named twice is charged twice, and no key outlives
//! its use.

use std::sync::Arc;
use std::time::Duration;

use onboard_domain::ports::{IdempotencyClaim, IdempotencyStore, RateLimiter, StoredAnswer};
use onboard_domain::throttle::{Admission, Limit, Quota};
use onboard_redis::testing::RedisServer;
use onboard_redis::{RedisIdempotencyStore, RedisRateLimiter, connect};
use time::OffsetDateTime;

use crate::support;

const T0: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

fn limit(key: &str, quota: Quota) -> Limit {
    Limit { key: key.into(), quota }
}

/// Two "nodes": each with a connection of its own to the same Redis.
async fn two_nodes(server: &RedisServer) -> [(RedisRateLimiter, RedisIdempotencyStore); 2] {
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let redis = connect(support::settings(server)).await.expect("connects");
        nodes.push((RedisRateLimiter::new(redis.clone()), RedisIdempotencyStore::new(redis)));
    }
    nodes.try_into().unwrap()
}

#[tokio::test]
async fn nodes_share_counts_and_idempotency_keys() {
    let server = RedisServer::start();
    let [(limiter_a, idem_a), (limiter_b, idem_b)] = two_nodes(&server).await;

    let window = [limit("rcpt:x", Quota::Window { limit: 3, period: Duration::from_secs(86_400) })];
    assert_eq!(limiter_a.acquire(&window, T0).await.unwrap(), Admission::Granted);
    assert_eq!(limiter_b.acquire(&window, T0).await.unwrap(), Admission::Granted);
    assert_eq!(limiter_a.acquire(&window, T0).await.unwrap(), Admission::Granted);
    assert!(matches!(limiter_b.acquire(&window, T0).await.unwrap(), Admission::Denied { index: 0, .. }));

    let cooldown = [limit("user:1", Quota::Cooldown { period: Duration::from_secs(60) })];
    assert_eq!(limiter_b.acquire(&cooldown, T0).await.unwrap(), Admission::Granted);
    assert_eq!(
        limiter_a.acquire(&cooldown, T0 + time::Duration::seconds(1)).await.unwrap(),
        Admission::Denied { index: 0, retry_after: Duration::from_secs(59) }
    );

    let (key, fp) = ("caller:k", [7u8; 32]);
    let answer = StoredAnswer { status: 201, headers: vec![], body: b"made".to_vec() };
    let hold = time::Duration::seconds(30);
    assert_eq!(idem_a.claim(key, &fp, T0, hold).await.unwrap(), IdempotencyClaim::Fresh);
    assert_eq!(idem_b.claim(key, &fp, T0, hold).await.unwrap(), IdempotencyClaim::InFlight);
    idem_a.complete(key, &fp, &answer, T0, time::Duration::hours(1)).await.unwrap();
    assert_eq!(idem_b.claim(key, &fp, T0, hold).await.unwrap(), IdempotencyClaim::Replay(answer));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acquires_on_two_nodes_grant_exactly_the_limit() {
    let server = RedisServer::start();
    let [(a, _), (b, _)] = two_nodes(&server).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let limits = Arc::new([
        limit("burst", Quota::Window { limit: 5, period: Duration::from_secs(3600) }),
        limit("bucket", Quota::Bucket { per_second: 0.001, burst: 7 }),
    ]);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
            let limits = limits.clone();
            tokio::spawn(async move { limiter.acquire(&*limits, T0).await.unwrap() })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        granted += usize::from(task.await.unwrap() == Admission::Granted);
    }
    assert_eq!(granted, 5, "the window allows 5; denials charged the bucket nothing");
    // 7 - 5 tokens are left in the bucket: two more alone, then none.
    let bucket = [limits[1].clone()];
    for _ in 0..2 {
        assert_eq!(a.acquire(&bucket, T0).await.unwrap(), Admission::Granted);
    }
    assert!(matches!(b.acquire(&bucket, T0).await.unwrap(), Admission::Denied { index: 0, .. }));
}

#[tokio::test]
async fn a_key_named_twice_is_charged_twice_or_not_at_all() {
    let server = RedisServer::start();
    let [(limiter, _), _] = two_nodes(&server).await;
    let once = limit("twice", Quota::Window { limit: 1, period: Duration::from_secs(3600) });
    let both = [once.clone(), once.clone()];
    let hour_end = Duration::from_secs(3600);
    assert_eq!(limiter.acquire(&both, T0).await.unwrap(), Admission::Denied { index: 1, retry_after: hour_end });
    assert_eq!(limiter.acquire(&[once], T0).await.unwrap(), Admission::Granted, "the denial charged nothing");
}

async fn ttls(conn: &mut redis::aio::MultiplexedConnection, pattern: &str) -> Vec<(String, i64)> {
    use redis::AsyncCommands;
    let mut keys = Vec::new();
    let mut iter = conn.scan_match::<_, String>(pattern).await.unwrap();
    while let Some(key) = iter.next_item().await {
        keys.push(key.unwrap());
    }
    drop(iter);
    let mut out = Vec::new();
    for key in keys {
        let ttl: i64 = conn.pttl(&key).await.unwrap();
        out.push((key, ttl));
    }
    out
}

#[tokio::test]
async fn every_key_expires_after_it_stops_mattering() {
    let server = RedisServer::start();
    let [(limiter, idem), _] = two_nodes(&server).await;
    let limits = [
        limit("c", Quota::Cooldown { period: Duration::from_secs(60) }),
        limit("w", Quota::Window { limit: 9, period: Duration::from_secs(3600) }),
        limit("b", Quota::Bucket { per_second: 1.0, burst: 10 }),
    ];
    // Half past the hour by the domain's clock: the window has 30 minutes left.
    let now = T0 + time::Duration::minutes(30);
    assert_eq!(limiter.acquire(&limits, now).await.unwrap(), Admission::Granted);
    let answer = StoredAnswer { status: 200, headers: vec![], body: vec![] };
    assert_eq!(idem.claim("held", &[1; 32], now, time::Duration::seconds(30)).await.unwrap(), IdempotencyClaim::Fresh);
    idem.complete("done", &[1; 32], &answer, now, time::Duration::hours(24)).await.unwrap();

    let mut conn = support::raw(&server).await;
    let limiter_keys = ttls(&mut conn, "onb:{rl}:*").await;
    let idem_keys = ttls(&mut conn, "onb:*idem*").await;
    assert_eq!(limiter_keys.len(), 3, "{limiter_keys:?}");
    assert_eq!(idem_keys.len(), 2, "{idem_keys:?}");
    let slack = 10_000;
    for (key, ttl) in limiter_keys.iter().chain(&idem_keys) {
        assert!(*ttl > 0, "{key} has no expiry ({ttl})");
        let most = match key.as_str() {
            k if k.starts_with("onb:{rl}:c:") => 60_000,
            k if k.starts_with("onb:{rl}:w:") => 30 * 60_000,
            k if k.starts_with("onb:{rl}:b:") => 1_000,
            k if k.ends_with("held") => 30_000,
            _ => 24 * 3_600_000,
        };
        assert!(*ttl <= most + slack, "{key} lives {ttl} ms, longer than it matters");
    }
}
