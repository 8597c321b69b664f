//! The embedded adapters: what onboard runs on when no external store or
//! mail provider is configured, and what tests swap in.

mod directory;
mod eml_mailer;
mod idempotency;
mod limiter;
mod stats;
mod store;
mod webhooks;

pub use directory::InMemoryDirectory;
pub use eml_mailer::EmlMailer;
pub use idempotency::InMemoryIdempotencyStore;
pub use limiter::InMemoryRateLimiter;
pub use store::InMemoryStore;
pub use webhooks::{InMemoryHookDeliveries, InMemoryWebhookEndpoints};
