//! Timestamps as protobuf's JSON mapping writes them, for onboard's own
//! shapes: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

/// A `google.protobuf.Timestamp` in its JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as protojson
    /// writes a `google.protobuf.Timestamp`.
    pub fn format(&self) -> String {
        let t = self.0.to_offset(UtcOffset::UTC);
        // Digits written straight into one buffer: every answer carries two
        // timestamps, and `format!` with a dozen pieces was over 2 % of a
        // resend's CPU.
        let mut out = String::with_capacity(30);
        match u32::try_from(t.year()) {
            Ok(year) if year <= 9999 => push_padded(&mut out, year, 4),
            // Outside protobuf's range (years 1 to 9999), and never stored by onboard.
            _ => out.push_str(&format!("{:04}", t.year())),
        }
        out.push('-');
        push_padded(&mut out, u32::from(u8::from(t.month())), 2);
        out.push('-');
        push_padded(&mut out, u32::from(t.day()), 2);
        out.push('T');
        push_padded(&mut out, u32::from(t.hour()), 2);
        out.push(':');
        push_padded(&mut out, u32::from(t.minute()), 2);
        out.push(':');
        push_padded(&mut out, u32::from(t.second()), 2);
        let nanos = t.nanosecond();
        if nanos != 0 {
            out.push('.');
            if nanos % 1_000_000 == 0 {
                push_padded(&mut out, nanos / 1_000_000, 3);
            } else if nanos % 1_000 == 0 {
                push_padded(&mut out, nanos / 1_000, 6);
            } else {
                push_padded(&mut out, nanos, 9);
            }
        }
        out.push('Z');
        out
    }
}

/// `value` in decimal, zero-padded to `width` digits (at most 9).
fn push_padded(out: &mut String, mut value: u32, width: usize) {
    let mut digits = [b'0'; 9];
    for d in digits[..width].iter_mut().rev() {
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
    for &d in &digits[..width] {
        out.push(char::from(d));
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
        assert_eq!(ts(datetime!(0001-01-01 00:00:00 UTC)), "0001-01-01T00:00:00Z");
        assert_eq!(ts(datetime!(9999-12-31 23:59:59.999999999 UTC)), "9999-12-31T23:59:59.999999999Z");
        assert_eq!(ts(datetime!(2024-02-29 00:00:00.010 UTC)), "2024-02-29T00:00:00.010Z");
        assert_eq!(ts(datetime!(-0001-01-01 00:00:00.5 UTC)), "-001-01-01T00:00:00.500Z");
    }
}
