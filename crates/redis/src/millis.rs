//! Times as the scripts see them: integer milliseconds since the epoch, from
//! the domain's clock (never Redis TIME: every node compares against the
//! same clock the use cases use, and tests run at other dates).

use time::OffsetDateTime;

/// Added to the expiry of limiter and idempotency keys: covers clock skew
/// between nodes, so a key does not vanish while a node whose clock is a
/// little behind still counts on it. Expiry only cleans up; deadlines are
/// stored as values and compared with the caller's `now`.
pub const SLACK_MS: i64 = 5_000;

/// Cap on expiries and waits (ten years): a very slow bucket or a huge
/// duration still gives a number Redis accepts as an expiry.
pub const LONGEST_MS: i64 = 10 * 366 * 86_400_000;

pub fn ms(t: OffsetDateTime) -> i64 {
    t.unix_timestamp_nanos().div_euclid(1_000_000) as i64
}

/// A duration in whole milliseconds, rounded up (so waiting it is enough),
/// at most [`LONGEST_MS`].
pub fn ceil_ms(d: std::time::Duration) -> i64 {
    d.as_nanos().div_ceil(1_000_000).min(LONGEST_MS as u128) as i64
}

/// Like [`ceil_ms`] for a signed span; a negative one counts as zero.
pub fn span_ms(d: time::Duration) -> i64 {
    ceil_ms(d.try_into().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rounds_up_and_caps() {
        assert_eq!(ceil_ms(Duration::from_micros(1_001)), 2);
        assert_eq!(ceil_ms(Duration::from_millis(500)), 500);
        assert_eq!(ceil_ms(Duration::MAX), LONGEST_MS);
        assert_eq!(span_ms(time::Duration::seconds(-3)), 0);
        assert_eq!(span_ms(time::Duration::seconds(30)), 30_000);
        assert_eq!(ms(time::macros::datetime!(1970-01-01 00:00:01.5 UTC)), 1_500);
    }
}
