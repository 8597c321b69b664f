//! The time: use cases never read the system time themselves, so tests can
//! move time (for code expiry) without sleeping.

use time::OffsetDateTime;

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time, in UTC.
    fn now(&self) -> OffsetDateTime;
}
