//! The embedded adapters: what onboard runs on when no external store or
//! mail provider is configured, and what tests swap in.

mod authorizer;
mod eml_mailer;
mod store;

pub use authorizer::InMemoryAuthorizer;
pub use eml_mailer::EmlMailer;
pub use store::InMemoryStore;
