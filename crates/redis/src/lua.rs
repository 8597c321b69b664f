//! Lua scripts and the way they are sent: `EVALSHA` in a pipeline, with a
//! `WAIT` for replicas behind a write when the settings ask for one, so the
//! write and its replication check are one round trip to the node that took
//! the write (a cluster routes the pipeline by the script's keys; `WAIT` has
//! none).

use onboard_domain::ports::Unavailable;
use redis::{Cmd, FromRedisValue, ToRedisArgs, Value};

use crate::conn::RedisConnection;

/// A script, known to Redis by its SHA-1 once loaded.
pub(crate) struct Lua {
    source: &'static str,
    hash: String,
}

impl Lua {
    pub fn new(source: &'static str) -> Self {
        Self { source, hash: redis::Script::new(source).get_hash().to_owned() }
    }

    /// A call of this script, to fill with keys and arguments.
    pub fn call(&self) -> Call<'_> {
        Call { script: self, keys: Vec::new(), args: Vec::new() }
    }
}

/// One call of a script: its keys and arguments.
pub(crate) struct Call<'a> {
    script: &'a Lua,
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
}

/// Whether a call changes state that a client's answer depends on, and so
/// waits for replicas (`ONBOARD_REDIS_MIN_REPLICAS_ACK`) before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Reads, and writes whose loss in a failover changes no answer given
    /// (delivery's bookkeeping: delivery is at least once).
    Local,
    /// Waits until the configured number of replicas have the write.
    Replicated,
}

impl Call<'_> {
    pub fn key(&mut self, key: impl ToRedisArgs) -> &mut Self {
        key.write_redis_args(&mut self.keys);
        self
    }

    pub fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        arg.write_redis_args(&mut self.args);
        self
    }

    fn evalsha(&self) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.script.hash).arg(self.keys.len()).arg(&self.keys).arg(&self.args);
        cmd
    }

    /// Runs the call (loading the script first where Redis does not know it,
    /// as after a restart or on a freshly promoted replica).
    pub async fn run<T: FromRedisValue>(
        &self,
        redis: &RedisConnection,
        durability: Durability,
    ) -> Result<T, Unavailable> {
        let wait = match durability {
            Durability::Replicated => redis.wait_for_replicas(),
            Durability::Local => None,
        };
        let mut pipe = redis::pipe();
        pipe.ignore_errors().add_command(self.evalsha());
        if let Some((replicas, wait_ms)) = wait {
            pipe.cmd("WAIT").arg(replicas).arg(wait_ms);
        }
        let mut replies = redis.pipeline(&pipe).await?;
        if replies.first().is_some_and(is_noscript) {
            let mut load = redis::cmd("SCRIPT");
            load.arg("LOAD").arg(self.script.source);
            redis.command::<String>(&load).await?;
            replies = redis.pipeline(&pipe).await?;
        }
        let mut replies = replies.into_iter();
        let reply = replies.next().ok_or_else(|| Unavailable("redis: a script call without reply".into()))?;
        if let Value::ServerError(e) = &reply {
            redis.count_failure();
            return Err(Unavailable(format!("redis: {}", e.details().unwrap_or(e.code()))));
        }
        if let Some((replicas, wait_ms)) = wait {
            redis.check_replicas(replies.next(), replicas, wait_ms)?;
        }
        redis::from_redis_value(reply).map_err(|e| Unavailable(format!("redis: unexpected reply: {e}")))
    }
}

/// Runs read-only `calls`, each on the keys of one slot, as
/// [`RedisConnection::grouped`] sends them: one round trip on one Redis,
/// one per call on a cluster. Replies in order.
pub(crate) async fn run_reads<T: FromRedisValue>(
    calls: &[Call<'_>],
    redis: &RedisConnection,
) -> Result<Vec<T>, Unavailable> {
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let groups: Vec<Vec<Cmd>> = calls.iter().map(|c| vec![c.evalsha()]).collect();
    let mut replies = redis.grouped(&groups).await?;
    if replies.iter().any(is_noscript) {
        let mut loaded = std::collections::BTreeSet::new();
        for call in calls {
            if loaded.insert(&call.script.hash) {
                let mut load = redis::cmd("SCRIPT");
                load.arg("LOAD").arg(call.script.source);
                redis.command::<String>(&load).await?;
            }
        }
        replies = redis.grouped(&groups).await?;
    }
    if replies.len() != calls.len() {
        return Err(Unavailable("redis: a pipeline answered for another number of calls".into()));
    }
    replies
        .into_iter()
        .map(|reply| {
            if let Value::ServerError(e) = &reply {
                redis.count_failure();
                return Err(Unavailable(format!("redis: {}", e.details().unwrap_or(e.code()))));
            }
            redis::from_redis_value(reply).map_err(|e| Unavailable(format!("redis: unexpected reply: {e}")))
        })
        .collect()
}

fn is_noscript(reply: &Value) -> bool {
    matches!(reply, Value::ServerError(e) if e.code() == "NOSCRIPT")
}
