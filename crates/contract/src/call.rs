//! What every call carries besides its message, whatever the protocol:
//! credentials, the organization it acts in, an idempotency key. Each
//! protocol reads them from its headers or metadata into a [`Call`]; the
//! rules for reading them are here, once.

use crate::fault::{Code, Fault, ids};

/// The header (HTTP) or metadata key (gRPC, Connect) of each part.
pub mod keys {
    pub const AUTHORIZATION: &str = "authorization";
    pub const ORGANIZATION: &str = "x-zitadel-orgid";
    pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
    /// Set on answers replayed for an idempotency key.
    pub const REPLAYED: &str = "idempotent-replayed";
    /// The id of the email a call made due.
    pub const NOTIFICATION_ID: &str = "x-onboard-notification-id";
}

/// The credentials a call presented.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `authorization` at all.
    Missing,
    /// An `authorization` that is not `Bearer <token>`.
    Malformed,
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "Missing",
            Self::Malformed => "Malformed",
            Self::Bearer(_) => "Bearer(<redacted>)",
        })
    }
}

impl Credentials {
    /// Reads an `authorization` value: the scheme is case-insensitive, and
    /// the token is what follows it, trimmed.
    pub fn from_authorization(value: Option<&[u8]>) -> Self {
        let Some(value) = value else { return Self::Missing };
        let Ok(value) = std::str::from_utf8(value) else { return Self::Malformed };
        match value.trim().split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                Self::Bearer(token.trim().to_owned())
            }
            _ => Self::Malformed,
        }
    }

    /// The bearer token, or the answer to a call without a usable one.
    pub fn token(&self) -> Result<&str, Fault> {
        match self {
            Self::Bearer(token) => Ok(token),
            // ZITADEL's texts are these untranslated ones.
            Self::Missing => Err(Fault::new(Code::Unauthenticated, ids::TOKEN_MISSING, "auth header missing")),
            Self::Malformed => Err(Fault::new(Code::Unauthenticated, ids::TOKEN_INVALID, "invalid auth header")),
        }
    }
}

/// One call's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub credentials: Credentials,
    /// `x-zitadel-orgid`, as sent; absent or empty means the caller's own.
    /// A value that is not text still counts as sent (read lossily), so a
    /// garbled organization is refused instead of meaning "my own".
    pub org: Option<String>,
    pub idempotency_key: Option<IdempotencyKeyValue>,
}

/// An `Idempotency-Key` as sent; checked by the use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyKeyValue {
    Text(String),
    /// Bytes that are not text: always refused.
    Binary,
}

impl Call {
    /// A call from its parts, each looked up by its [`keys`] name.
    pub fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a [u8]>) -> Self {
        let org = get(keys::ORGANIZATION).map(|v| String::from_utf8_lossy(v).into_owned());
        let idempotency_key = get(keys::IDEMPOTENCY_KEY).map(|v| match std::str::from_utf8(v) {
            Ok(text) => IdempotencyKeyValue::Text(text.to_owned()),
            Err(_) => IdempotencyKeyValue::Binary,
        });
        Self { credentials: Credentials::from_authorization(get(keys::AUTHORIZATION)), org, idempotency_key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_credentials_carry_a_token() {
        let read = |v: &str| Credentials::from_authorization(Some(v.as_bytes()));
        assert_eq!(read("Bearer abc"), Credentials::Bearer("abc".into()));
        assert_eq!(read("bearer  abc "), Credentials::Bearer("abc".into()));
        assert_eq!(read("Basic YWJjOmRlZg=="), Credentials::Malformed);
        assert_eq!(read("abc"), Credentials::Malformed);
        assert_eq!(read("Bearer "), Credentials::Malformed);
        assert_eq!(Credentials::from_authorization(None), Credentials::Missing);
        assert_eq!(Credentials::from_authorization(Some(&[0xff, 0xfe])), Credentials::Malformed);
    }

    #[test]
    fn missing_and_malformed_credentials_are_unauthenticated() {
        let missing = Credentials::Missing.token().unwrap_err();
        assert_eq!((missing.code, missing.id), (Code::Unauthenticated, ids::TOKEN_MISSING));
        let malformed = Credentials::Malformed.token().unwrap_err();
        assert_eq!(malformed.message(), "invalid auth header (AUTH-7fs1e)");
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert!(!format!("{:?}", Credentials::Bearer("secret".into())).contains("secret"));
    }
}
