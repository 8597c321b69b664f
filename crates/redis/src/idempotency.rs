//! Idempotency keys on Redis: a hash per key (fingerprint, then a hold
//! deadline or an answer with its deadline), changed only by one-key scripts,
//! so the keys spread over a cluster. Deadlines are values compared with the
//! caller's `now`; the key's expiry only cleans up after them.

use std::sync::Arc;

use async_trait::async_trait;
use onboard_domain::ports::{IdempotencyClaim, IdempotencyStore, StoredAnswer, Unavailable};
use time::OffsetDateTime;

use crate::codec::{decode, encode};
use crate::conn::RedisConnection;
use crate::keys::Keys;
use crate::lua::{Durability, Lua};
use crate::millis::{SLACK_MS, ms, span_ms};

/// Implements [`IdempotencyStore`]. Neither keys (they may carry caller
/// data) nor fingerprints are ever logged.
pub struct RedisIdempotencyStore {
    redis: Arc<RedisConnection>,
    claim: Lua,
    complete: Lua,
    release: Lua,
}

impl std::fmt::Debug for RedisIdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisIdempotencyStore").finish_non_exhaustive()
    }
}

impl RedisIdempotencyStore {
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        Self {
            redis,
            claim: Lua::new(include_str!("lua/idempotency_claim.lua")),
            complete: Lua::new(include_str!("lua/idempotency_complete.lua")),
            release: Lua::new(include_str!("lua/idempotency_release.lua")),
        }
    }
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim(
        &self,
        key: &str,
        fingerprint: &[u8; 32],
        now: OffsetDateTime,
        hold: time::Duration,
    ) -> Result<IdempotencyClaim, Unavailable> {
        let (now_ms, hold_ms) = (ms(now), span_ms(hold));
        let mut call = self.claim.call();
        call.key(Keys::idempotency(key))
            .arg(&fingerprint[..])
            .arg(now_ms)
            .arg(now_ms.saturating_add(hold_ms))
            .arg(hold_ms + SLACK_MS);
        // Replicated: a hold lost in a failover would let a retry run beside the first try.
        let reply: Vec<Vec<u8>> = call.run(&self.redis, Durability::Replicated).await?;
        match reply.first().map(Vec::as_slice) {
            Some(b"fresh") => Ok(IdempotencyClaim::Fresh),
            Some(b"inflight") => Ok(IdempotencyClaim::InFlight),
            Some(b"mismatch") => Ok(IdempotencyClaim::Mismatch),
            Some(b"replay") => {
                let answer = reply.get(1).ok_or_else(|| Unavailable("idempotency replay without answer".into()))?;
                Ok(IdempotencyClaim::Replay(decode::<StoredAnswer>(answer)?))
            }
            _ => Err(Unavailable("unexpected reply of the idempotency claim script".into())),
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn complete(
        &self,
        key: &str,
        fingerprint: &[u8; 32],
        answer: &StoredAnswer,
        now: OffsetDateTime,
        keep: time::Duration,
    ) -> Result<(), Unavailable> {
        let (now_ms, keep_ms) = (ms(now), span_ms(keep));
        let mut call = self.complete.call();
        call.key(Keys::idempotency(key))
            .arg(&fingerprint[..])
            .arg(now_ms)
            .arg(encode(answer))
            .arg(now_ms.saturating_add(keep_ms))
            .arg(keep_ms + SLACK_MS);
        // Replicated: the kept answer is what makes a client's retry safe.
        let stored: i64 = call.run(&self.redis, Durability::Replicated).await?;
        if stored == 0 {
            // Its hold ran out and another request took the key, or it was
            // answered already; the answer that is kept stays the one replayed.
            tracing::debug!("idempotency answer not kept: the key holds another answer or hold");
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn release(&self, key: &str, fingerprint: &[u8; 32]) -> Result<(), Unavailable> {
        let mut call = self.release.call();
        call.key(Keys::idempotency(key)).arg(&fingerprint[..]);
        call.run::<i64>(&self.redis, Durability::Local).await.map(drop)
    }
}
