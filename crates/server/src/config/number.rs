//! Numbers with the range a setting accepts, checked when they are read.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum NumberError {
    #[error("{0}")]
    NotAWholeNumber(#[from] std::num::ParseIntError),
    #[error("{0}")]
    NotANumber(#[from] std::num::ParseFloatError),
    #[error("must be between {0} and {1}")]
    OutOfRange(String, String),
}

/// A whole number from `MIN` to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<const MIN: u32, const MAX: u32>(u32);

impl<const MIN: u32, const MAX: u32> Count<MIN, MAX> {
    pub fn new(n: u32) -> Result<Self, NumberError> {
        if !(MIN..=MAX).contains(&n) {
            return Err(NumberError::OutOfRange(MIN.to_string(), MAX.to_string()));
        }
        Ok(Self(n))
    }

    /// A declared default, taken from the code that owns it. Out of range is
    /// a mistake in the program, so it panics (and so every test that parses).
    pub fn declared(n: u32) -> Self {
        Self::new(n).unwrap_or_else(|e| panic!("declared default {n}: {e}"))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    pub fn usize(self) -> usize {
        self.0 as usize
    }
}

impl<const MIN: u32, const MAX: u32> FromStr for Count<MIN, MAX> {
    type Err = NumberError;

    fn from_str(raw: &str) -> Result<Self, NumberError> {
        Self::new(raw.trim().parse()?)
    }
}

impl<const MIN: u32, const MAX: u32> fmt::Display for Count<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A rate per second, from 0 to a million; fractions allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerSecond(f64);

impl PerSecond {
    const MAX: f64 = 1_000_000.0;

    pub fn new(rate: f64) -> Result<Self, NumberError> {
        // Written so that NaN is refused too.
        if !(0.0..=Self::MAX).contains(&rate) {
            return Err(NumberError::OutOfRange("0".into(), Self::MAX.to_string()));
        }
        Ok(Self(rate))
    }

    /// See [`Count::declared`].
    pub fn declared(rate: f64) -> Self {
        Self::new(rate).unwrap_or_else(|e| panic!("declared default {rate}: {e}"))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl FromStr for PerSecond {
    type Err = NumberError;

    fn from_str(raw: &str) -> Result<Self, NumberError> {
        Self::new(raw.trim().parse()?)
    }
}

impl fmt::Display for PerSecond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates_keep_to_their_range() {
        assert_eq!(" 6 ".parse::<Count<4, 64>>().unwrap().get(), 6);
        assert_eq!("2".parse::<Count<4, 64>>().unwrap_err().to_string(), "must be between 4 and 64");
        assert!("-1".parse::<Count<0, 10>>().is_err());
        assert!("six".parse::<Count<4, 64>>().is_err());
        assert_eq!("0.5".parse::<PerSecond>().unwrap().get(), 0.5);
        assert_eq!("100".parse::<PerSecond>().unwrap().to_string(), "100");
        for bad in ["-1", "NaN", "1000001", "fast"] {
            assert!(bad.parse::<PerSecond>().is_err(), "{bad}");
        }
    }
}
