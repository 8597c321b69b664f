//! The same behavioural checks every adapter passes, against a real
//! standalone Redis and a real 3-master Redis Cluster.

use onboard_redis::testing::{RedisCluster, RedisServer};
use onboard_redis::{
    RedisDirectory, RedisIdempotencyStore, RedisRateLimiter, RedisSettings, RedisStore, RedisTarget, connect,
};

use crate::support;

/// The user index checks, with organizations the directory holds.
async fn check_indexes(store: RedisStore, directory: &RedisDirectory) {
    use onboard_domain::ports::Directory;
    let orgs = [
        directory.create_organization("Index A").await.unwrap(),
        directory.create_organization("Index B").await.unwrap(),
    ];
    let store = std::sync::Arc::new(store);
    onboard_domain::testkit::check_user_index(&*store, orgs).await;
    onboard_domain::testkit::check_invitation_index(store.clone()).await;
    onboard_domain::testkit::check_user_index_under_concurrency(store.clone()).await;
    onboard_domain::testkit::check_invitation_index_under_concurrency(store.clone()).await;
    onboard_domain::testkit::check_waiting_split(store).await;
}

async fn store_on(target: RedisTarget) -> (RedisStore, RedisDirectory, RedisRateLimiter, RedisIdempotencyStore) {
    let redis = connect(RedisSettings::new(target)).await.expect("connects");
    let store = RedisStore::open(redis.clone(), "test-node").await.expect("opens");
    (store, RedisDirectory::new(redis.clone()), RedisRateLimiter::new(redis.clone()), RedisIdempotencyStore::new(redis))
}

/// The reminder schedule checks, with two nodes on `target` whose stores schedule reminders.
async fn check_reminders(target: RedisTarget) {
    let node = |name: &'static str| {
        let target = target.clone();
        async move {
            let redis = connect(RedisSettings::new(target)).await.expect("connects");
            let store = RedisStore::open(redis, name).await.expect("opens");
            store.with_reminders(onboard_domain::testkit::reminder_offsets())
        }
    };
    let (one, two) = (node("reminders-a").await, node("reminders-b").await);
    onboard_domain::testkit::check_reminder_schedule(&one, Some(&two)).await;
}

#[tokio::test]
async fn standalone_redis_behaves_as_every_store_must() {
    let server = RedisServer::start();
    let (store, directory, limiter, idempotency) = store_on(RedisTarget::Url(server.url())).await;
    onboard_domain::testkit::check_store(&store).await;
    onboard_domain::testkit::check_directory(&directory).await;
    onboard_domain::testkit::check_branding_administration(std::sync::Arc::new(directory.clone())).await;
    onboard_domain::testkit::check_rate_limiter(&limiter).await;
    onboard_domain::testkit::check_idempotency_store(&idempotency).await;
    let redis = connect(RedisSettings::new(RedisTarget::Url(server.url()))).await.unwrap();
    onboard_domain::testkit::check_hook_queue(&store).await;
    onboard_domain::testkit::check_hook_deliveries(&onboard_redis::RedisHookDeliveries::new(redis.clone())).await;
    check_reminders(RedisTarget::Url(server.url())).await;
    check_indexes(store, &directory).await;
    let endpoints = onboard_redis::RedisWebhookEndpoints::new(redis);
    onboard_domain::testkit::check_webhook_endpoints(std::sync::Arc::new(endpoints), std::sync::Arc::new(directory))
        .await;
}

#[tokio::test]
async fn redis_cluster_behaves_as_every_store_must() {
    let cluster = RedisCluster::start(3);
    let (store, directory, limiter, idempotency) = store_on(RedisTarget::Cluster(cluster.seeds())).await;
    onboard_domain::testkit::check_store(&store).await;
    onboard_domain::testkit::check_directory(&directory).await;
    onboard_domain::testkit::check_rate_limiter(&limiter).await;
    onboard_domain::testkit::check_idempotency_store(&idempotency).await;
    let redis = connect(RedisSettings::new(RedisTarget::Cluster(cluster.seeds()))).await.unwrap();
    onboard_domain::testkit::check_hook_queue(&store).await;
    onboard_domain::testkit::check_hook_deliveries(&onboard_redis::RedisHookDeliveries::new(redis.clone())).await;
    check_reminders(RedisTarget::Cluster(cluster.seeds())).await;
    check_indexes(store, &directory).await;
    let endpoints = onboard_redis::RedisWebhookEndpoints::new(redis);
    onboard_domain::testkit::check_webhook_endpoints(std::sync::Arc::new(endpoints), std::sync::Arc::new(directory))
        .await;
}

#[tokio::test]
async fn the_partition_count_cannot_change_once_set() {
    let server = RedisServer::start();
    support::open(&server, "a").await.unwrap();
    let mut other = support::settings(&server);
    other.partitions = 8;
    let err = RedisStore::open(connect(other).await.unwrap(), "b").await.unwrap_err();
    assert!(err.contains("16") && err.contains('8'), "{err}");
}

#[tokio::test]
async fn an_unreachable_redis_is_reported_not_awaited() {
    let mut server = RedisServer::start();
    let store = support::open(&server, "n").await.unwrap();
    server.kill();
    let started = std::time::Instant::now();
    use onboard_domain::ports::UserRepository;
    assert!(store.get(&onboard_domain::UserId::parse("1").unwrap()).await.is_err());
    assert!(store.ping().await.is_err());
    // Bounded by the 2 s timeout (with slack for a loaded machine), never hanging.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    server.restart();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.ping().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "did not reconnect");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
