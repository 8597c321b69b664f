//! The SendGrid mailer: initialization emails through SendGrid's v3 mail
//! send API, many recipients per call, with every answer classified as sent,
//! throttled, transient or permanent; and the gathering of the outbox
//! partitions' batches into fewer, fuller calls.

mod gather;
mod mailer;
#[cfg(feature = "testing")]
pub mod testing;

pub use gather::GatheringMailer;
pub use mailer::{MAX_BATCH, SendGridMailer, SendGridSettings};
