//! Redis adapters: users with their event logs, the outbox on Redis Streams,
//! the directory of organizations and tokens, the rate limiter and the
//! idempotency keys. The same code serves a standalone Redis and a Redis
//! Cluster; `docs/redis.md` describes the keys, scripts and trade-offs.

mod codec;
mod conn;
mod credentials_cache;
mod directory;
mod format;
mod idempotency;
mod keys;
mod limiter;
mod lua;
mod millis;
mod stats;
mod store;
mod stored;
#[cfg(feature = "testing")]
pub mod testing;
mod user_cache;
mod webhooks;

pub use conn::{RedisSettings, RedisTarget, connect};
pub use directory::RedisDirectory;
pub use idempotency::RedisIdempotencyStore;
pub use limiter::RedisRateLimiter;
pub use stats::RedisOutboxStats;
pub use store::RedisStore;
pub use webhooks::{RedisHookDeliveries, RedisWebhookEndpoints};
