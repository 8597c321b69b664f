//! Throttle counters in process memory: one node's view, for the embedded
//! deployment (which is one node by definition) and tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use onboard_domain::ports::{RateLimiter, Unavailable};
use onboard_domain::throttle::{Admission, Limit, Quota};
use time::OffsetDateTime;

/// What one key remembers.
#[derive(Debug, Clone, Copy)]
enum Counter {
    Cooldown { last: OffsetDateTime },
    Window { index: i128, count: u32 },
    Bucket { tokens: f64, at: OffsetDateTime },
}

/// Counters by key. Entries that no longer restrict anything are swept now
/// and then, so memory follows the keys active recently, not all ever seen.
#[derive(Debug, Default)]
pub struct InMemoryRateLimiter {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    counters: HashMap<String, (Counter, OffsetDateTime)>,
    acquisitions: u64,
}

const SWEEP_EVERY: u64 = 4096;

impl InMemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

fn millis(d: Duration) -> i128 {
    d.as_millis() as i128
}

fn since(now: OffsetDateTime, then: OffsetDateTime) -> Duration {
    Duration::try_from(now - then).unwrap_or(Duration::ZERO)
}

fn window_index(now: OffsetDateTime, period: Duration) -> i128 {
    (now.unix_timestamp_nanos() / 1_000_000).div_euclid(millis(period).max(1))
}

/// Whether `quota` has room at `now` given `counter`; `Err(retry_after)` if not.
fn room(quota: Quota, counter: Option<Counter>, now: OffsetDateTime) -> Result<(), Duration> {
    match (quota, counter) {
        (Quota::Cooldown { period }, Some(Counter::Cooldown { last })) => {
            let elapsed = since(now, last);
            if elapsed >= period { Ok(()) } else { Err(period - elapsed) }
        }
        (Quota::Window { limit, period }, Some(Counter::Window { index, count })) => {
            let current = window_index(now, period);
            if index != current || count < limit {
                Ok(())
            } else {
                let end_ms = (current + 1) * millis(period);
                let now_ms = now.unix_timestamp_nanos() / 1_000_000;
                Err(Duration::from_millis((end_ms - now_ms).max(0) as u64))
            }
        }
        (Quota::Window { limit: 0, .. }, None) => Err(Duration::MAX),
        (Quota::Bucket { per_second, burst }, Some(Counter::Bucket { tokens, at })) => {
            let tokens = refill(tokens, at, now, per_second, burst);
            if tokens >= 1.0 { Ok(()) } else { Err(Duration::from_secs_f64(((1.0 - tokens) / per_second).max(0.001))) }
        }
        _ => Ok(()),
    }
}

fn refill(tokens: f64, at: OffsetDateTime, now: OffsetDateTime, per_second: f64, burst: u32) -> f64 {
    (tokens + since(now, at).as_secs_f64() * per_second).min(f64::from(burst))
}

/// The counter after charging `quota` once at `now`, and until when it matters.
fn charge(quota: Quota, counter: Option<Counter>, now: OffsetDateTime) -> (Counter, OffsetDateTime) {
    match quota {
        Quota::Cooldown { period } => (Counter::Cooldown { last: now }, now + period),
        Quota::Window { period, .. } => {
            let current = window_index(now, period);
            let count = match counter {
                Some(Counter::Window { index, count }) if index == current => count + 1,
                _ => 1,
            };
            (Counter::Window { index: current, count }, now + period)
        }
        Quota::Bucket { per_second, burst } => {
            let tokens = match counter {
                Some(Counter::Bucket { tokens, at }) => refill(tokens, at, now, per_second, burst),
                _ => f64::from(burst),
            };
            let full_in = Duration::from_secs_f64(f64::from(burst) / per_second.max(f64::MIN_POSITIVE));
            (Counter::Bucket { tokens: tokens - 1.0, at: now }, now + full_in.min(Duration::from_secs(86_400)))
        }
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn acquire(&self, limits: &[Limit], now: OffsetDateTime) -> Result<Admission, Unavailable> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (index, limit) in limits.iter().enumerate() {
            let counter = state.counters.get(&limit.key).map(|(c, _)| *c);
            if let Err(retry_after) = room(limit.quota, counter, now) {
                return Ok(Admission::Denied { index, retry_after });
            }
        }
        for limit in limits {
            let counter = state.counters.get(&limit.key).map(|(c, _)| *c);
            let charged = charge(limit.quota, counter, now);
            state.counters.insert(limit.key.clone(), charged);
        }
        state.acquisitions += 1;
        if state.acquisitions % SWEEP_EVERY == 0 {
            state.counters.retain(|_, (_, matters_until)| *matters_until > now);
        }
        Ok(Admission::Granted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn behaves_as_every_rate_limiter_must() {
        onboard_domain::testkit::check_rate_limiter(&InMemoryRateLimiter::new()).await;
    }
}
