//! Outbox figures on Redis: every partition's stream and retry set.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use onboard_domain::ports::{OutboxDepth, OutboxStats, Unavailable};

use crate::conn::RedisConnection;
use crate::keys::Keys;
use crate::lua::{Durability, Lua};

/// Reads the outbox's depth with one script (one slot) per partition.
pub struct RedisOutboxStats {
    redis: Arc<RedisConnection>,
    depth: Lua,
}

impl std::fmt::Debug for RedisOutboxStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisOutboxStats").finish_non_exhaustive()
    }
}

impl RedisOutboxStats {
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        Self { redis, depth: Lua::new(include_str!("lua/depth.lua")) }
    }
}

/// The milliseconds part of a stream id (`<ms>-<seq>`): when it was added.
fn stream_id_ms(id: &str) -> Option<u64> {
    id.split_once('-').map_or(id, |(ms, _)| ms).parse().ok()
}

#[async_trait]
impl OutboxStats for RedisOutboxStats {
    /// Entries: stream messages not yet read or not yet acknowledged by the
    /// dispatchers, plus scheduled retries. Oldest age: from the oldest such
    /// message's id, which Redis stamps with its clock.
    async fn depth(&self) -> Result<OutboxDepth, Unavailable> {
        let mut entries = 0u64;
        let mut oldest_ms: Option<u64> = None;
        for p in 0..self.redis.settings.partitions.max(1) {
            let mut waiting = self.depth.call();
            waiting.key(Keys::stream(p)).arg(Keys::GROUP);
            let (count, oldest): (u64, String) = waiting.run(&self.redis, Durability::Local).await?;
            let mut conn = self.redis.conn();
            let retries: u64 = self.redis.run(redis::cmd("ZCARD").arg(Keys::retry(p)).query_async(&mut conn)).await?;
            entries += count + retries;
            if let Some(ms) = stream_id_ms(&oldest) {
                oldest_ms = Some(oldest_ms.map_or(ms, |o| o.min(ms)));
            }
        }
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let oldest_age = oldest_ms.map(|ms| Duration::from_millis(now_ms.saturating_sub(ms)));
        Ok(OutboxDepth { entries, oldest_age })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_carry_their_time() {
        assert_eq!(stream_id_ms("1700000000123-4"), Some(1_700_000_000_123));
        assert_eq!(stream_id_ms("nonsense"), None);
    }
}
