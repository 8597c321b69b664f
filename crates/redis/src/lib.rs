//! Redis adapters: users with their event logs, the outbox on Redis Streams,
//! and the directory of organizations and tokens. The same code serves a
//! standalone Redis and a Redis Cluster; `docs/redis.md` describes the keys,
//! scripts and trade-offs.

mod codec;
mod conn;
mod directory;
mod keys;
mod stats;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use conn::{RedisSettings, RedisTarget, connect};
pub use directory::RedisDirectory;
pub use stats::RedisOutboxStats;
pub use store::RedisStore;
