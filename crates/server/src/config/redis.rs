//! Settings of the store: Redis (standalone or a cluster) or, without one,
//! process memory.

use std::fmt;
use std::str::FromStr;

use clap::Args;

use super::duration::NonZeroSpan;
use super::error::ConfigError;
use super::number::Count;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Redis")]
pub struct RedisArgs {
    /// Redis to keep state in, `redis://[user:password@]host:port[/db]` or `rediss://…`; unset: in memory.
    #[arg(long, env = "ONBOARD_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<RedisUrl>,
    /// Redis Cluster seeds, `host:port,host:port,…` (instead of the URL).
    #[arg(long, env = "ONBOARD_REDIS_CLUSTER_NODES")]
    pub redis_cluster_nodes: Option<ClusterSeeds>,
    /// Longest a request waits for Redis before answering 503.
    #[arg(long, env = "ONBOARD_REDIS_TIMEOUT", default_value = "2s")]
    pub redis_timeout: NonZeroSpan,
    /// Outbox partitions in Redis, fixed at a store's first start.
    #[arg(long, env = "ONBOARD_OUTBOX_PARTITIONS", default_value = "16")]
    pub outbox_partitions: Count<1, 1024>,
    /// How long an email, a webhook endpoint or claimed webhook events may stay with a silent node before another takes them over.
    #[arg(long, env = "ONBOARD_OUTBOX_RECLAIM_AFTER", default_value = "60s")]
    pub outbox_reclaim_after: NonZeroSpan,
    /// Replicas that must have each state-changing write (`WAIT`) before it is answered; 503 when they do not within the timeout.
    #[arg(long, env = "ONBOARD_REDIS_MIN_REPLICAS_ACK", default_value = "0")]
    pub redis_min_replicas_ack: Count<0, 16>,
    /// Users this node keeps (about 250 bytes each) for writes that follow a read or write of the same user; 0: none.
    #[arg(long, env = "ONBOARD_REDIS_USER_CACHE", default_value = "100000")]
    pub redis_user_cache: Count<0, 100_000_000>,
    /// This node's name among the dispatchers, unique per running node; unset: host, pid and a random suffix.
    #[arg(long, env = "ONBOARD_NODE_NAME")]
    pub node_name: Option<String>,
}

/// Where state is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// In process memory: lost on restart.
    Embedded,
    Redis(onboard_redis::RedisTarget),
}

impl RedisArgs {
    pub(super) fn store(&self) -> Result<Store, ConfigError> {
        match (&self.redis_url, &self.redis_cluster_nodes) {
            (None, None) => Ok(Store::Embedded),
            (Some(_), Some(_)) => Err(ConfigError::Conflict { one: "redis_url", other: "redis_cluster_nodes" }),
            (Some(url), None) => Ok(Store::Redis(onboard_redis::RedisTarget::Url(url.0.clone()))),
            (None, Some(seeds)) => Ok(Store::Redis(onboard_redis::RedisTarget::Cluster(seeds.0.clone()))),
        }
    }

    /// Host name, process id and a random suffix: unique among running nodes.
    pub(super) fn node_name(&self) -> String {
        if let Some(name) = &self.node_name {
            return name.clone();
        }
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
        let mut r = [0u8; 3];
        let _ = getrandom::getrandom(&mut r);
        let host = if host.is_empty() { "onboard".to_owned() } else { host };
        format!("{host}-{}-{:02x}{:02x}{:02x}", std::process::id(), r[0], r[1], r[2])
    }
}

/// A `redis://` or `rediss://` URL. It may hold a password, so it is never
/// shown: not in `Debug`, not in errors, not in `--help`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedisUrl(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("must start with redis:// or rediss://")]
pub struct NotARedisUrl;

impl FromStr for RedisUrl {
    type Err = NotARedisUrl;

    fn from_str(raw: &str) -> Result<Self, NotARedisUrl> {
        let url = raw.trim();
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(NotARedisUrl);
        }
        Ok(Self(url.to_owned()))
    }
}

/// Seed nodes of a Redis Cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSeeds(Vec<String>);

#[derive(Debug, thiserror::Error)]
#[error("expected comma-separated host:port seeds")]
pub struct NotClusterSeeds;

impl FromStr for ClusterSeeds {
    type Err = NotClusterSeeds;

    fn from_str(raw: &str) -> Result<Self, NotClusterSeeds> {
        let seeds: Vec<String> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if seeds.is_empty() || seeds.iter().any(|s| !s.contains(':')) {
            return Err(NotClusterSeeds);
        }
        Ok(Self(seeds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_are_checked_and_never_shown() {
        let url: RedisUrl = " redis://:secret@127.0.0.1:6380/1 ".parse().unwrap();
        assert_eq!(url.0, "redis://:secret@127.0.0.1:6380/1");
        assert!(!format!("{url:?}").contains("secret"));
        assert!("http://x".parse::<RedisUrl>().is_err());
        assert!("a:1, ,b:2".parse::<ClusterSeeds>().is_ok());
        for bad in ["nohost", ",", "a:1,b"] {
            assert!(bad.parse::<ClusterSeeds>().is_err(), "{bad}");
        }
    }
}
