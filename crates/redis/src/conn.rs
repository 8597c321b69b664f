//! Connections: one multiplexed connection (standalone, managed, reconnecting)
//! or one cluster connection for all short commands; dedicated connections
//! for blocking stream reads, whose wait the shared connection's response
//! timeout would cut short.

use std::future::Future;
use std::time::Duration;

use onboard_domain::ports::Unavailable;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisFuture, RedisResult, Value};

/// Where Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS.
    Url(String),
    /// Seed nodes of a Redis Cluster (`host:port` or URLs).
    Cluster(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub target: RedisTarget,
    /// Longest a request waits for Redis before it answers "unavailable".
    pub timeout: Duration,
    /// Outbox partitions; fixed for a store at its first start.
    pub partitions: usize,
    /// How long an outbox entry may stay with a silent dispatcher before
    /// another one takes it over.
    pub reclaim_after: Duration,
    /// Longest single blocking read of an outbox stream.
    pub block: Duration,
}

impl RedisSettings {
    pub fn new(target: RedisTarget) -> Self {
        Self {
            target,
            timeout: Duration::from_secs(2),
            partitions: 16,
            reclaim_after: Duration::from_secs(60),
            block: Duration::from_secs(1),
        }
    }
}

#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Dedicated(redis::aio::MultiplexedConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Dedicated(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Self::Dedicated(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
            Self::Dedicated(c) => c.get_db(),
        }
    }
}

enum Client {
    Single(redis::Client),
    Cluster(ClusterClient),
}

/// A connected Redis (standalone or cluster), shared by the adapters.
pub struct RedisConnection {
    conn: Conn,
    client: Client,
    pub(crate) settings: RedisSettings,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The target may hold a password: only its kind is shown.
        let kind = match self.settings.target {
            RedisTarget::Url(_) => "standalone",
            RedisTarget::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisConnection").field("kind", &kind).finish_non_exhaustive()
    }
}

fn unavailable(e: redis::RedisError) -> Unavailable {
    Unavailable(format!("redis: {e}"))
}

/// Connects to Redis as `settings` say. Fails when Redis cannot be reached now.
pub async fn connect(settings: RedisSettings) -> Result<std::sync::Arc<RedisConnection>, String> {
    // rediss:// needs a crypto provider; ring is the one compiled in.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = settings.timeout;
    let (conn, client) = match &settings.target {
        RedisTarget::Url(url) => {
            let client = redis::Client::open(url.as_str()).map_err(|e| format!("redis url: {e}"))?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(t))
                .set_response_timeout(Some(t))
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_millis(500));
            let manager = tokio::time::timeout(t * 2, ConnectionManager::new_with_config(client.clone(), config))
                .await
                .map_err(|_| "redis: timed out connecting".to_owned())?
                .map_err(|e| format!("redis: {e}"))?;
            (Conn::Single(manager), Client::Single(client))
        }
        RedisTarget::Cluster(nodes) => {
            let urls: Vec<String> =
                nodes.iter().map(|n| if n.contains("://") { n.clone() } else { format!("redis://{n}") }).collect();
            let client = ClusterClient::builder(urls)
                .connection_timeout(t)
                .response_timeout(t)
                .retries(2)
                .build()
                .map_err(|e| format!("redis cluster: {e}"))?;
            let conn = tokio::time::timeout(t * 2, client.get_async_connection())
                .await
                .map_err(|_| "redis cluster: timed out connecting".to_owned())?
                .map_err(|e| format!("redis cluster: {e}"))?;
            (Conn::Cluster(conn), Client::Cluster(client))
        }
    };
    Ok(std::sync::Arc::new(RedisConnection { conn, client, settings }))
}

impl RedisConnection {
    /// A handle on the shared connection.
    pub(crate) fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// Runs `op`, turning errors and a wait past the timeout into [`Unavailable`].
    pub(crate) async fn run<T>(&self, op: impl Future<Output = RedisResult<T>>) -> Result<T, Unavailable> {
        let result = match tokio::time::timeout(self.settings.timeout, op).await {
            Ok(result) => result.map_err(unavailable),
            Err(_) => Err(Unavailable(format!("redis: no answer within {:?}", self.settings.timeout))),
        };
        if result.is_err() {
            metrics::counter!("onboard_redis_errors_total").increment(1);
        }
        result
    }

    /// A connection of its own, for blocking reads.
    pub(crate) async fn dedicated(&self) -> Result<Conn, Unavailable> {
        let wait = self.settings.block + self.settings.timeout;
        let made = match &self.client {
            Client::Single(client) => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(self.settings.timeout))
                    .set_response_timeout(Some(wait));
                client.get_multiplexed_async_connection_with_config(&config).await.map(Conn::Dedicated)
            }
            Client::Cluster(client) => {
                let config = redis::cluster::ClusterConfig::new()
                    .set_connection_timeout(self.settings.timeout)
                    .set_response_timeout(wait);
                client.get_async_connection_with_config(config).await.map(Conn::Cluster)
            }
        };
        tokio::time::timeout(wait, async { made })
            .await
            .map_err(|_| Unavailable("redis: timed out connecting".into()))?
            .map_err(unavailable)
    }
}
