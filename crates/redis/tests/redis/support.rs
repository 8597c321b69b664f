//! What the modules share: stores and connections on a test server, and
//! the way to its raw keys.

use onboard_domain::UserId;
use onboard_redis::testing::RedisServer;
use onboard_redis::{RedisSettings, RedisStore, RedisTarget};

/// The default settings, for `server`.
pub fn settings(server: &RedisServer) -> RedisSettings {
    RedisSettings::new(RedisTarget::Url(server.url()))
}

/// The store on `server`, as the node `node` opens it.
pub async fn open(server: &RedisServer, node: &str) -> Result<RedisStore, String> {
    RedisStore::open(onboard_redis::connect(settings(server)).await?, node).await
}

/// A plain connection, to see and set keys past the adapters.
pub async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

/// The one key of `kind` (`u`, `e`, `o`) of `user`, whatever its partition.
pub async fn key_of(conn: &mut redis::aio::MultiplexedConnection, kind: &str, user: &UserId) -> Option<String> {
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("onb:{{p*}}:{kind}:{user}")).query_async(conn).await.unwrap();
    keys.into_iter().next()
}
