//! The JSON form of the messages, as ZITADEL's gateway reads and writes it
//! (Go's `protojson`, unknown fields discarded).
//!
//! Reading accepts lowerCamelCase and proto (snake_case) field names, enums
//! by name or number, 64-bit integers as strings or numbers and `null` as
//! unset; an empty body is `{}`. Writing uses lowerCamelCase, omits unset
//! and default fields, writes 64-bit integers as strings, enums by name and
//! timestamps in RFC 3339 UTC with 0, 3, 6 or 9 fractional digits.

use prost_reflect::{DeserializeOptions, DynamicMessage, ReflectMessage, SerializeOptions};

/// A body that is not the message's JSON form. Its text says where and why,
/// in terms of JSON (never of Rust types).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

/// `body` as a `T`.
pub fn parse<T: ReflectMessage + Default>(body: &[u8]) -> Result<T, JsonError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let descriptor = T::default().descriptor();
    let mut reader = serde_json::Deserializer::from_slice(body);
    let options = DeserializeOptions::new().deny_unknown_fields(false);
    let message = DynamicMessage::deserialize_with_options(descriptor, &mut reader, &options)
        .map_err(|e| JsonError(e.to_string()))?;
    reader.end().map_err(|e| JsonError(e.to_string()))?;
    message.transcode_to::<T>().map_err(|e| JsonError(e.to_string()))
}

/// `message` in its JSON form.
pub fn to_vec<T: ReflectMessage>(message: &T) -> Vec<u8> {
    let mut out = serde_json::Serializer::new(Vec::with_capacity(256));
    message
        .transcode_to_dynamic()
        .serialize_with_options(&mut out, &SerializeOptions::new())
        .expect("a message always has a JSON form");
    out.into_inner()
}

/// `message` as a JSON value (for tests and documents).
pub fn to_value<T: ReflectMessage>(message: &T) -> serde_json::Value {
    serde_json::from_slice(&to_vec(message)).expect("to_vec writes JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::zitadel::v1::{ListQuery, ObjectDetails};

    #[test]
    fn sixty_four_bit_integers_read_as_strings_or_numbers_and_write_as_strings() {
        for body in [r#"{"offset":"18446744073709551615"}"#, r#"{"offset":18446744073709551615}"#] {
            let q: ListQuery = parse(body.as_bytes()).unwrap();
            assert_eq!(q.offset, u64::MAX, "{body}");
        }
        let d = ObjectDetails { sequence: 2, ..Default::default() };
        assert_eq!(to_value(&d), serde_json::json!({"sequence": "2"}));
    }

    #[test]
    fn both_name_styles_null_unknown_fields_and_empty_bodies() {
        let q: ListQuery = parse(br#"{"limit":5,"asc":null,"unknown":[{}]}"#).unwrap();
        assert_eq!((q.limit, q.asc), (5, false));
        let d: ObjectDetails = parse(br#"{"resource_owner":"a","change_date":"2023-05-12T08:30:00.5Z"}"#).unwrap();
        assert_eq!(d.resource_owner, "a");
        assert_eq!(to_value(&d)["changeDate"], "2023-05-12T08:30:00.500Z");
        assert_eq!(parse::<ListQuery>(b"").unwrap(), ListQuery::default());
        assert_eq!(parse::<ListQuery>(b" \n").unwrap(), ListQuery::default());
        assert!(parse::<ListQuery>(b"[]").is_err());
        assert!(parse::<ListQuery>(br#"{"limit":"x"}"#).is_err());
    }
}
