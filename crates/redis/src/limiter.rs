//! The rate limiter on Redis: one script checks every limit of an acquire
//! and charges them all or none. All its keys share the `{rl}` tag so that
//! script can run on a cluster (see [`Keys::cooldown`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use onboard_domain::ports::{RateLimiter, Unavailable};
use onboard_domain::throttle::{Admission, Limit, Quota};
use redis::Script;
use time::OffsetDateTime;

use crate::conn::RedisConnection;
use crate::keys::Keys;
use crate::millis::{LONGEST_MS, SLACK_MS, ceil_ms, ms};

/// Implements [`RateLimiter`]; every node using the same Redis shares the counts.
pub struct RedisRateLimiter {
    redis: Arc<RedisConnection>,
    acquire: Script,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter").finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        Self { redis, acquire: Script::new(include_str!("lua/acquire.lua")) }
    }
}

/// Refill rate as the script reads it. Kept finite and positive: zero would
/// never refill (and divide by zero), infinity would make the refill NaN.
fn rate(per_second: f64) -> String {
    let rate = if per_second.is_nan() { 1e-6 } else { per_second.clamp(1e-6, 1e9) };
    // Display never uses an exponent, which Lua's tonumber would also read.
    format!("{rate}")
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    #[tracing::instrument(level = "debug", skip_all, fields(limits = limits.len()))]
    async fn acquire(&self, limits: &[Limit], now: OffsetDateTime) -> Result<Admission, Unavailable> {
        if limits.is_empty() {
            return Ok(Admission::Granted);
        }
        let now_ms = ms(now);
        let mut invocation = self.acquire.prepare_invoke();
        invocation.arg(now_ms).arg(SLACK_MS).arg(LONGEST_MS);
        for limit in limits {
            match limit.quota {
                Quota::Cooldown { period } => {
                    invocation.key(Keys::cooldown(&limit.key)).arg("c").arg(ceil_ms(period)).arg(0)
                }
                Quota::Window { limit: most, period } => {
                    // Windows are aligned to the epoch; the index in the key
                    // starts each window at zero without a reset.
                    let period_ms = ceil_ms(period).max(1);
                    let index = now_ms.div_euclid(period_ms);
                    let end = index.saturating_add(1).saturating_mul(period_ms);
                    invocation.key(Keys::window(&limit.key, period_ms, index)).arg("w").arg(most).arg(end)
                }
                Quota::Bucket { per_second, burst } => {
                    invocation.key(Keys::bucket(&limit.key)).arg("b").arg(rate(per_second)).arg(burst)
                }
            };
        }
        let mut conn = self.redis.conn();
        let (index, wait_ms): (usize, i64) = self.redis.run(invocation.invoke_async(&mut conn)).await?;
        Ok(match index {
            0 => Admission::Granted,
            // The script counts from 1; a denial always asks for some wait.
            i => Admission::Denied { index: i - 1, retry_after: Duration::from_millis(wait_ms.max(1) as u64) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_stay_finite_positive_and_plain() {
        assert_eq!(rate(2.0), "2");
        assert_eq!(rate(0.5), "0.5");
        assert_eq!(rate(0.0), "0.000001");
        assert_eq!(rate(f64::NAN), "0.000001");
        assert_eq!(rate(f64::INFINITY), "1000000000");
    }
}
