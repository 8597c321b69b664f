//! Values as stored: the format they were written in (one byte, see
//! [`crate::format`]), then postcard. Compact (an Initial user with its log
//! takes a few hundred bytes), and the leading byte lets a later format tell
//! the values this one wrote from its own.

use onboard_domain::ports::Unavailable;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::format::{FORMAT, OLDEST_READ};

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT];
    // Serializing owned, well-formed domain values into a Vec cannot fail.
    out.extend(postcard::to_stdvec(value).expect("postcard encodes domain values"));
    out
}

/// A value of a type whose bytes are the same in every format this version
/// reads (all but the log's events, see `stored::decode_event`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Unavailable> {
    match bytes.split_first() {
        Some((&format, rest)) if (OLDEST_READ..=FORMAT).contains(&format) => decode_body(rest),
        Some((other, _)) => Err(Unavailable(format!("stored value has unknown format {other}"))),
        None => Err(Unavailable("stored value is empty".into())),
    }
}

/// The postcard part of a value, after its leading byte.
pub fn decode_body<T: DeserializeOwned>(rest: &[u8]) -> Result<T, Unavailable> {
    postcard::from_bytes(rest).map_err(|e| Unavailable(format!("undecodable stored value: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_unknown_formats() {
        let v = vec!["a".to_owned(), "b".to_owned()];
        let bytes = encode(&v);
        assert_eq!(bytes[0], FORMAT);
        assert_eq!(decode::<Vec<String>>(&bytes).unwrap(), v);
        assert!(decode::<Vec<String>>(&[9, 1, 2]).is_err());
        let mut old = bytes.clone();
        old[0] = OLDEST_READ;
        assert_eq!(decode::<Vec<String>>(&old).unwrap(), v, "an older format of the same bytes");
        assert!(decode::<Vec<String>>(&[]).is_err());
    }
}
