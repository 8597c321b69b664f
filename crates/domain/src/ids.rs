//! Identifiers. User and organization ids are opaque strings of 1 to 200
//! characters on the wire; the ids this service makes are decimal, time
//! ordered and unique per process, like ZITADEL's.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest id the contract accepts.
pub const MAX_ID_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_ID_CHARS} characters")]
    TooLong,
}

fn check_id(raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        Err(IdError::Empty)
    } else if raw.chars().count() > MAX_ID_CHARS {
        Err(IdError::TooLong)
    } else {
        Ok(())
    }
}

/// A fresh id: milliseconds since 2024 in the high bits, a per-process
/// counter that starts at a random value in the low 22 bits. Two ids made in
/// one process never repeat within a millisecond-window of 4M ids; stores
/// still reject a duplicate id, and callers retry.
fn next_decimal_id() -> String {
    static COUNTER: OnceLock<AtomicU64> = OnceLock::new();
    const EPOCH_2024_MS: i128 = 1_704_067_200_000;
    let counter = COUNTER.get_or_init(|| {
        let mut seed = [0u8; 8];
        // Without OS randomness a fixed start still yields unique ids in-process.
        let _ = getrandom::getrandom(&mut seed);
        AtomicU64::new(u64::from_le_bytes(seed))
    });
    let ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000 - EPOCH_2024_MS).max(0) as u64;
    let low = counter.fetch_add(1, Ordering::Relaxed) & ((1 << 22) - 1);
    ((ms << 22) | low).to_string()
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(raw: String) -> Result<Self, IdError> {
                check_id(&raw).map(|()| Self(raw))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            /// Accepts 1 to 200 characters, as the contract's validation does.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                check_id(raw).map(|()| Self(raw.to_owned()))
            }

            /// A new, unique id.
            pub fn generate() -> Self {
                Self(next_decimal_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_id!(
    /// The id of a user.
    UserId
);
string_id!(
    /// The id of an organization (a user's resource owner).
    OrgId
);
string_id!(
    /// The id of one email this service sends.
    NotificationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_enforces_length_bounds() {
        assert_eq!(UserId::parse(""), Err(IdError::Empty));
        assert!(UserId::parse(&"1".repeat(200)).is_ok());
        assert_eq!(UserId::parse(&"1".repeat(201)), Err(IdError::TooLong));
        // Characters, not bytes, are counted.
        assert!(UserId::parse(&"ü".repeat(200)).is_ok());
    }

    #[test]
    fn generated_ids_are_distinct_and_decimal() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| UserId::generate()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.as_str().bytes().all(|b| b.is_ascii_digit())));
    }
}
