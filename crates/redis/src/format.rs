//! The format of the stored values, and the check a node makes at its start.
//!
//! Stored values are domain types encoded with postcard, which is not
//! self-describing: fields go in declaration order and enum variants by
//! index, so a reordered variant reads old values as another one without
//! any error. The samples in `tests/format/` pin the bytes of every stored
//! type; docs/redis.md says how a stored type may change.
//!
//! [`FORMAT`] names the encoding. Every value starts with the format it was
//! written in (the leading byte, see `codec`), which lets a later decoder
//! read old values beside new ones. The store records the format its nodes
//! write under [`Keys::FORMAT`], so a node that cannot read it refuses to
//! start instead of failing (or misreading) one request at a time. The
//! store-wide record costs nothing per user.

use redis::Script;

use crate::conn::RedisConnection;
use crate::keys::Keys;

/// The format this version writes.
pub const FORMAT: u8 = 2;

/// The oldest format this version reads. Format 1 is format 2 without the
/// editor of each logged event; its events are read with none.
pub const OLDEST_READ: u8 = 1;

/// Why a node does not open a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error(
        "this Redis holds values in store format {0}, written by a newer onboard; this version reads only formats \
         {OLDEST_READ} to {FORMAT}: run the newer version (see docs/redis.md)"
    )]
    Newer(u8),
    #[error(
        "this Redis records the store format {0:?}, which no onboard writes; this version reads only formats \
         {OLDEST_READ} to {FORMAT}"
    )]
    Unknown(String),
    #[error("reading the store format: {0}")]
    Unreadable(String),
}

/// Whether a store whose recorded format is `stored` is one this version
/// reads. (`format.lua` has already raised an older readable record to [`FORMAT`].)
fn accept(stored: &str) -> Result<(), FormatError> {
    match stored.parse::<u8>() {
        Ok(f) if (OLDEST_READ..=FORMAT).contains(&f) => Ok(()),
        Ok(newer) if newer > FORMAT => Err(FormatError::Newer(newer)),
        _ => Err(FormatError::Unknown(stored.to_owned())),
    }
}

/// Records [`FORMAT`] on a store's first start, or checks the recorded one.
pub async fn check(redis: &RedisConnection) -> Result<(), FormatError> {
    let mut conn = redis.conn();
    let stored: String = redis
        .run(
            Script::new(include_str!("lua/format.lua"))
                .key(Keys::FORMAT)
                .key(Keys::PARTITIONS)
                .arg(FORMAT)
                .arg(OLDEST_READ)
                .invoke_async(&mut conn),
        )
        .await
        .map_err(|e| FormatError::Unreadable(e.to_string()))?;
    accept(&stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_versions_format_is_read() {
        assert_eq!(accept("1"), Ok(()));
        assert_eq!(accept("2"), Ok(()));
        assert_eq!(accept("3"), Err(FormatError::Newer(3)));
        assert!(FormatError::Newer(3).to_string().contains("format 3"));
        assert_eq!(accept("0"), Err(FormatError::Unknown("0".into())));
        assert_eq!(accept("v1"), Err(FormatError::Unknown("v1".into())));
        assert_eq!(accept(""), Err(FormatError::Unknown(String::new())));
    }
}
