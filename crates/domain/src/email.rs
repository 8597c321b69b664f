//! Email addresses, validated as the contract asks: at most 254 characters,
//! a local part of at most 64, and a hostname for a domain.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 254 characters")]
    TooLong,
    #[error("must contain exactly one '@' between a local part and a domain")]
    Shape,
    #[error("local part must be 1 to 64 characters")]
    LocalLength,
    #[error("local part contains a character that is not allowed, or a misplaced dot")]
    LocalChars,
    #[error("domain must be a hostname such as example.com")]
    Domain,
}

/// A syntactically valid address. The domain is kept in lower case (domains
/// are case-insensitive); the local part as given.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;

    fn try_from(raw: String) -> Result<Self, EmailError> {
        Self::parse(&raw)
    }
}

impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> String {
        a.0
    }
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(EmailError::Empty);
        }
        if raw.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = raw.rsplit_once('@').ok_or(EmailError::Shape)?;
        if local.contains('@') {
            return Err(EmailError::Shape);
        }
        if local.is_empty() || local.chars().count() > 64 {
            return Err(EmailError::LocalLength);
        }
        if !valid_local(local) {
            return Err(EmailError::LocalChars);
        }
        if !valid_hostname(domain) {
            return Err(EmailError::Domain);
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The dot-atom form of RFC 5322 (quoted local parts are not accepted:
/// mail providers rarely deliver them).
fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c))
}

/// At least two labels of letters, digits and inner hyphens, at most 63
/// characters each; the top-level label is not all digits.
fn valid_hostname(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && !labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        let a = EmailAddress::parse(" Jane.Doe+x@Example.COM ").unwrap();
        assert_eq!(a.as_str(), "Jane.Doe+x@example.com");
        assert!(EmailAddress::parse("a@b.co").is_ok());
        assert!(EmailAddress::parse("o'neil@sub.mail-host.example").is_ok());
    }

    #[test]
    fn rejects_each_malformed_shape() {
        let cases = [
            ("", EmailError::Empty),
            ("plain", EmailError::Shape),
            ("a@b@c.com", EmailError::Shape),
            ("@example.com", EmailError::LocalLength),
            ("a..b@example.com", EmailError::LocalChars),
            (".a@example.com", EmailError::LocalChars),
            ("a b@example.com", EmailError::LocalChars),
            ("a@localhost", EmailError::Domain),
            ("a@-x.com", EmailError::Domain),
            ("a@x..com", EmailError::Domain),
            ("a@1.2.3.4", EmailError::Domain),
            ("a@exa_mple.com", EmailError::Domain),
        ];
        for (raw, want) in cases {
            assert_eq!(EmailAddress::parse(raw), Err(want), "{raw:?}");
        }
    }

    #[test]
    fn enforces_the_length_limits() {
        let local64 = "l".repeat(64);
        assert!(EmailAddress::parse(&format!("{local64}@example.com")).is_ok());
        assert_eq!(EmailAddress::parse(&format!("{local64}l@example.com")), Err(EmailError::LocalLength));
        let long_domain = format!("{}.com", vec!["d".repeat(60); 4].join("."));
        let raw = format!("{local64}@{long_domain}");
        assert!(raw.len() > 254);
        assert_eq!(EmailAddress::parse(&raw), Err(EmailError::TooLong));
    }
}
