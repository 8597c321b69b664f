//! What a person is called and how they are reached, as a new user's
//! command carries it: each value checked once, when it is made.
//!
//! ZITADEL's rules, so what ZITADEL accepts is accepted: names are trimmed,
//! inner spaces are kept, and at most 200 characters are allowed; phone
//! numbers are international (`+` and digits).

use std::fmt;

/// Longest name or profile text accepted.
pub const MAX_TEXT_CHARS: usize = 200;

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    Control,
}

/// `raw` trimmed, at most `max` characters, without control characters.
pub(crate) fn checked_text(raw: &str, max: usize, required: bool) -> Result<String, TextError> {
    let text = raw.trim();
    if required && text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if text.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    Ok(text.to_owned())
}

/// A given or family name: 1 to 200 characters after trimming.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        checked_text(raw, MAX_TEXT_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An optional profile text (nick name, display name): up to 200 characters
/// after trimming, empty meaning none.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ProfileText(String);

impl ProfileText {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        checked_text(raw, MAX_TEXT_CHARS, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for ProfileText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Why a phone number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("must start with + and the country code")]
    NotInternational,
    #[error("may hold only digits, spaces and - . ( ) after the +")]
    Characters,
    #[error("must have 4 to 15 digits")]
    Digits,
}

/// A phone number in international form, kept as `+` and its digits
/// (E.164): `+41 79 123 45 67` is `+41791234567`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let rest = raw.trim().strip_prefix('+').ok_or(PhoneError::NotInternational)?;
        if !rest.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c)) {
            return Err(PhoneError::Characters);
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if !(4..=15).contains(&digits.len()) {
            return Err(PhoneError::Digits);
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_keep_inner_spaces_and_are_bounded() {
        assert_eq!(PersonName::parse("  Anna Maria ").unwrap().as_str(), "Anna Maria");
        assert_eq!(PersonName::parse(" \t").unwrap_err(), TextError::Empty);
        assert!(PersonName::parse(&"ä".repeat(200)).is_ok());
        assert_eq!(PersonName::parse(&"a".repeat(201)).unwrap_err(), TextError::TooLong(200));
        assert_eq!(PersonName::parse("a\u{7}b").unwrap_err(), TextError::Control);
        assert!(ProfileText::parse("").unwrap().is_empty());
        assert_eq!(ProfileText::parse(&"n".repeat(201)).unwrap_err(), TextError::TooLong(200));
    }

    #[test]
    fn phone_numbers_are_international_and_kept_as_digits() {
        assert_eq!(PhoneNumber::parse(" +41 79 123-45.67 ").unwrap().as_str(), "+41791234567");
        assert_eq!(PhoneNumber::parse("+1 (555) 0100").unwrap().as_str(), "+15550100");
        assert_eq!(PhoneNumber::parse("079 123 45 67").unwrap_err(), PhoneError::NotInternational);
        assert_eq!(PhoneNumber::parse("+41 79 x").unwrap_err(), PhoneError::Characters);
        assert_eq!(PhoneNumber::parse("+12").unwrap_err(), PhoneError::Digits);
        assert_eq!(PhoneNumber::parse("+1234567890123456").unwrap_err(), PhoneError::Digits);
    }
}
