//! Scalars as protobuf's JSON mapping writes them: uint64 as a decimal
//! string, timestamps as RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

/// A uint64 that JSON carries as a string (`"sequence": "2"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U64String(pub u64);

impl Type for U64String {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_uint64".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "uint64")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for U64String {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

impl ParseFromJSON for U64String {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => s.parse().map(Self).map_err(ParseError::custom),
            Value::Number(n) => n.as_u64().map(Self).ok_or_else(|| ParseError::custom("not a uint64")),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

/// A `google.protobuf.Timestamp` in its JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    pub fn format(&self) -> String {
        let t = self.0.to_offset(UtcOffset::UTC);
        let nanos = t.nanosecond();
        let fraction = if nanos == 0 {
            String::new()
        } else if nanos % 1_000_000 == 0 {
            format!(".{:03}", nanos / 1_000_000)
        } else if nanos % 1_000 == 0 {
            format!(".{:06}", nanos / 1_000)
        } else {
            format!(".{nanos:09}")
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date-time".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.format()))
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                .map(Self)
                .map_err(ParseError::custom),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_use_protobuf_precision_steps_and_z() {
        let ts = |t| Timestamp(t).format();
        assert_eq!(ts(datetime!(2023-05-12 08:30:00 UTC)), "2023-05-12T08:30:00Z");
        assert_eq!(ts(datetime!(2023-05-12 08:30:00.5 UTC)), "2023-05-12T08:30:00.500Z");
        assert_eq!(ts(datetime!(2023-05-12 08:30:00.123456 UTC)), "2023-05-12T08:30:00.123456Z");
        assert_eq!(ts(datetime!(2023-05-12 08:30:00.000000001 UTC)), "2023-05-12T08:30:00.000000001Z");
        assert_eq!(ts(datetime!(2023-05-12 10:30:00 +02:00)), "2023-05-12T08:30:00Z");
    }

    #[test]
    fn u64_is_a_json_string() {
        assert_eq!(U64String(u64::MAX).to_json(), Some(Value::String("18446744073709551615".into())));
    }
}
