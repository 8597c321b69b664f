//! The SendGrid mailer: initialization emails through SendGrid's v3 mail
//! send API, many recipients per call, with every answer classified as sent,
//! throttled, transient or permanent.

mod mailer;
#[cfg(feature = "testing")]
pub mod testing;

pub use mailer::{SendGridMailer, SendGridSettings};
