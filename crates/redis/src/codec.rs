//! Values as stored: the format they were written in (one byte, see
//! [`crate::format`]), then postcard. Compact (an Initial user with its log
//! takes a few hundred bytes), and the leading byte lets a later format tell
//! the values this one wrote from its own.

use onboard_domain::ports::Unavailable;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::format::FORMAT;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT];
    // Serializing owned, well-formed domain values into a Vec cannot fail.
    out.extend(postcard::to_stdvec(value).expect("postcard encodes domain values"));
    out
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Unavailable> {
    match bytes.split_first() {
        Some((&FORMAT, rest)) => {
            postcard::from_bytes(rest).map_err(|e| Unavailable(format!("undecodable stored value: {e}")))
        }
        Some((other, _)) => Err(Unavailable(format!("stored value has unknown format {other}"))),
        None => Err(Unavailable("stored value is empty".into())),
    }
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
        assert!(decode::<Vec<String>>(&[]).is_err());
    }
}
