//! The real clock: the [`Clock`] port's adapter for running servers.

use time::OffsetDateTime;

use crate::ports::Clock;

/// The real clock, at microsecond precision (what stores and ZITADEL's
/// timestamps keep).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
    }
}
