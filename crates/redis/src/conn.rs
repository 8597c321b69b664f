//! Connections: one multiplexed connection (standalone, managed, reconnecting)
//! or one cluster connection for all short commands; dedicated connections
//! for blocking stream reads, whose wait the shared connection's response
//! timeout would cut short.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Replicas that must have each state-changing write before it counts
    /// (`WAIT` on the node that took it); 0: none, as Redis replicates.
    pub min_replicas_ack: usize,
    /// Users this node keeps (encoded) for the writes that follow a read or
    /// a write of the same user; 0: none.
    pub user_cache: usize,
    /// How long completed and withdrawn invitations stay in their indexes
    /// (at least; the listing shows them for its own retention).
    pub invitation_retention: Duration,
    /// The failed attempts that lock a code
    /// ([`InitCodeConfig::max_attempts`](onboard_domain::InitCodeConfig)),
    /// for counting the locked invitations.
    pub code_max_attempts: u32,
}

impl RedisSettings {
    pub fn new(target: RedisTarget) -> Self {
        Self {
            target,
            timeout: Duration::from_secs(2),
            partitions: 16,
            reclaim_after: Duration::from_secs(60),
            block: Duration::from_secs(1),
            min_replicas_ack: 0,
            user_cache: 100_000,
            invitation_retention: Duration::from_secs(30 * 86_400),
            code_max_attempts: onboard_domain::InitCodeConfig::default().max_attempts,
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
    /// Commands that failed or timed out so far: what is cached locally is
    /// dropped when this moves (a failover may have lost writes it reflects).
    failures: AtomicU64,
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
    Ok(std::sync::Arc::new(RedisConnection { conn, client, settings, failures: AtomicU64::new(0) }))
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
            self.count_failure();
        }
        result
    }

    pub(crate) fn count_failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("onboard_redis_errors_total").increment(1);
    }

    /// How many commands failed so far (see [`RedisConnection::failures`]).
    pub(crate) fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// A pipeline's replies, errors among them as values.
    pub(crate) async fn pipeline(&self, pipe: &Pipeline) -> Result<Vec<Value>, Unavailable> {
        let mut conn = self.conn();
        self.run(pipe.query_async(&mut conn)).await
    }

    /// Groups of commands, each group's keys in one slot: all in one
    /// pipeline on one Redis, one pipeline per group on a cluster (where a
    /// pipeline may not cross slots). The replies, errors among them as
    /// values, in order.
    pub(crate) async fn grouped(&self, groups: &[Vec<Cmd>]) -> Result<Vec<Value>, Unavailable> {
        let clustered = matches!(self.conn, Conn::Cluster(_));
        let mut replies = Vec::new();
        if !clustered {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for cmd in groups.iter().flatten() {
                pipe.add_command(cmd.clone());
            }
            return self.pipeline(&pipe).await;
        }
        for group in groups.iter().filter(|g| !g.is_empty()) {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for cmd in group {
                pipe.add_command(cmd.clone());
            }
            replies.extend(self.pipeline(&pipe).await?);
        }
        Ok(replies)
    }

    pub(crate) async fn command<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T, Unavailable> {
        let mut conn = self.conn();
        self.run(cmd.query_async(&mut conn)).await
    }

    /// A state-changing command, followed by `WAIT` in the same round trip
    /// when the settings ask for replicas.
    pub(crate) async fn write<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T, Unavailable> {
        let Some((replicas, wait_ms)) = self.wait_for_replicas() else { return self.command(cmd).await };
        let mut pipe = redis::pipe();
        pipe.add_command(cmd.clone()).cmd("WAIT").arg(replicas).arg(wait_ms);
        let mut replies = self.pipeline(&pipe).await?.into_iter();
        let reply = replies.next().ok_or_else(|| Unavailable("redis: a command without reply".into()))?;
        self.check_replicas(replies.next(), replicas, wait_ms)?;
        redis::from_redis_value(reply).map_err(|e| Unavailable(format!("redis: unexpected reply: {e}")))
    }

    /// The replicas a write waits for and for how long (ms), when it waits.
    /// A tenth short of the timeout, so that Redis's count, not the client's
    /// timer, says why a write did not count.
    pub(crate) fn wait_for_replicas(&self) -> Option<(usize, u64)> {
        let replicas = self.settings.min_replicas_ack;
        let timeout = self.settings.timeout.as_millis() as u64;
        (replicas > 0).then(|| (replicas, (timeout - timeout / 10).max(1)))
    }

    /// Fails unless `reply` (of `WAIT`) counts `replicas` or more.
    pub(crate) fn check_replicas(
        &self,
        reply: Option<Value>,
        replicas: usize,
        wait_ms: u64,
    ) -> Result<(), Unavailable> {
        let acknowledged = match reply {
            Some(Value::Int(n)) => n,
            other => {
                self.count_failure();
                return Err(Unavailable(format!("redis: WAIT answered {other:?}")));
            }
        };
        if acknowledged < replicas as i64 {
            // The write may be there (and replicate later); the client's
            // retry with its idempotency key is what is safe.
            self.count_failure();
            metrics::counter!("onboard_redis_replication_timeouts_total").increment(1);
            return Err(Unavailable(format!(
                "redis: {acknowledged} of {replicas} replicas acknowledged the write within {wait_ms} ms"
            )));
        }
        Ok(())
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

impl RedisConnection {
    /// A RESP3 connection of its own to the node serving `key` (on a cluster,
    /// the primary of its slot now), whose pushes go to `push`: for the
    /// invalidations of server-assisted client-side caching.
    pub(crate) async fn tracking_connection(
        &self,
        key: &str,
        push: impl redis::aio::AsyncPushSender,
    ) -> Result<redis::aio::MultiplexedConnection, Unavailable> {
        use redis::IntoConnectionInfo;
        let info = match &self.settings.target {
            RedisTarget::Url(url) => url.as_str().into_connection_info().map_err(unavailable)?,
            RedisTarget::Cluster(seeds) => {
                let (host, port) = self.primary_for(key).await?;
                let seed = seeds.first().map(String::as_str).unwrap_or_default();
                let seed = if seed.contains("://") { seed.to_owned() } else { format!("redis://{seed}") };
                let info = seed.as_str().into_connection_info().map_err(unavailable)?;
                let addr = match info.addr().clone() {
                    redis::ConnectionAddr::TcpTls { insecure, tls_params, .. } => {
                        redis::ConnectionAddr::TcpTls { host, port, insecure, tls_params }
                    }
                    _ => redis::ConnectionAddr::Tcp(host, port),
                };
                info.set_addr(addr)
            }
        };
        let resp3 = info.redis_settings().clone().set_protocol(redis::ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(resp3)).map_err(unavailable)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.settings.timeout))
            .set_response_timeout(Some(self.settings.timeout))
            .set_push_sender(push);
        self.run(client.get_multiplexed_async_connection_with_config(&config)).await
    }

    /// Host and port of the cluster primary serving `key`'s slot, as the
    /// cluster says now.
    async fn primary_for(&self, key: &str) -> Result<(String, u16), Unavailable> {
        let slot: i64 = self.command(redis::cmd("CLUSTER").arg("KEYSLOT").arg(key)).await?;
        let ranges: Vec<Value> = self.command(redis::cmd("CLUSTER").arg("SLOTS")).await?;
        for range in ranges {
            let Value::Array(parts) = range else { continue };
            let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(primary))) =
                (parts.first(), parts.get(1), parts.get(2))
            else {
                continue;
            };
            if !(*start..=*end).contains(&slot) {
                continue;
            }
            let host: Option<String> = primary.first().and_then(|h| redis::from_redis_value_ref(h).ok());
            let port = match primary.get(1) {
                Some(Value::Int(p)) => u16::try_from(*p).ok(),
                _ => None,
            };
            if let (Some(host), Some(port)) = (host, port) {
                return Ok((host, port));
            }
        }
        Err(Unavailable(format!("redis cluster: no primary serves slot {slot}")))
    }
}
