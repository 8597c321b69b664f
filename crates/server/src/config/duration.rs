//! Lengths of time, written the same way in flags, the environment and the
//! file: `72h`, `30m`, `2s`, `1h 30m`, and `0` for none.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A length of time; `0` (or `off`) is none, which turns off what it limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(Duration);

impl Span {
    pub fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for Span {
    fn from(d: Duration) -> Self {
        Self(d)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpanError {
    #[error("{0}; write for example 72h, 30m or 2s")]
    Unreadable(humantime::DurationError),
    #[error("must be longer than zero")]
    Zero,
}

impl FromStr for Span {
    type Err = SpanError;

    fn from_str(raw: &str) -> Result<Self, SpanError> {
        match raw.trim() {
            "0" | "off" => Ok(Self(Duration::ZERO)),
            text => humantime::parse_duration(text).map(Self).map_err(SpanError::Unreadable),
        }
    }
}

/// In the largest whole unit, so defaults read as people write them.
impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let secs = d.as_secs();
        if d.is_zero() {
            f.write_str("0")
        } else if d.subsec_nanos() != 0 {
            write!(f, "{}", humantime::format_duration(d))
        } else if secs % 3600 == 0 {
            write!(f, "{}h", secs / 3600)
        } else if secs % 60 == 0 {
            write!(f, "{}m", secs / 60)
        } else {
            write!(f, "{secs}s")
        }
    }
}

/// A [`Span`] that must be longer than zero: what it bounds cannot be off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonZeroSpan(Span);

impl NonZeroSpan {
    pub fn get(self) -> Duration {
        self.0.get()
    }
}

impl FromStr for NonZeroSpan {
    type Err = SpanError;

    fn from_str(raw: &str) -> Result<Self, SpanError> {
        let span: Span = raw.parse()?;
        if span.get().is_zero() {
            return Err(SpanError::Zero);
        }
        Ok(Self(span))
    }
}

impl fmt::Display for NonZeroSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_write_them() {
        let span = |raw: &str| raw.parse::<Span>().map(Span::get);
        assert_eq!(span("72h").unwrap(), Duration::from_secs(72 * 3600));
        assert_eq!(span(" 30m ").unwrap(), Duration::from_secs(1800));
        assert_eq!(span("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(span("0").unwrap(), Duration::ZERO);
        assert_eq!(span("off").unwrap(), Duration::ZERO);
        assert!(span("soon").is_err());
        assert!(span("60").is_err(), "a unit is needed");
        assert!(matches!("0s".parse::<NonZeroSpan>(), Err(SpanError::Zero)));
        assert_eq!("2s".parse::<NonZeroSpan>().unwrap().get(), Duration::from_secs(2));
    }

    #[test]
    fn spans_are_shown_in_their_largest_whole_unit_and_read_back() {
        for (d, text) in [(0, "0"), (2, "2s"), (60, "1m"), (90, "90s"), (1800, "30m"), (72 * 3600, "72h")] {
            let span = Span::from(Duration::from_secs(d));
            assert_eq!(span.to_string(), text);
            assert_eq!(text.parse::<Span>().unwrap(), span);
        }
        let fine = Span::from(Duration::from_millis(1500));
        assert_eq!(fine.to_string().parse::<Span>().unwrap(), fine);
    }
}
