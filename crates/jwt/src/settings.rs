//! What the verifier is told: whom to trust (issuer, keys), for whom the
//! tokens must be meant (audience), and where the identity provider puts the
//! organization and roles.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// ZITADEL's claim for the id of the organization the user belongs to. It is
/// in access tokens when the client asks for the
/// `urn:zitadel:iam:user:resourceowner` scope.
pub const ZITADEL_ORG_CLAIM: &str = "urn:zitadel:iam:user:resourceowner:id";

/// ZITADEL's claim for the project roles: `{ "ROLE": { "<orgId>": "<org domain>" } }`.
/// It is in access tokens when the project asserts roles on authentication.
pub const ZITADEL_ROLES_CLAIM: &str = "urn:zitadel:iam:org:project:roles";

/// Clock skew tolerated on `exp` and `nbf`. 30 s covers NTP-synchronised hosts
/// with room to spare while keeping an expired token's afterlife short.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The largest leeway accepted: more would make `exp` meaningless.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// How often, at most, an unknown `kid` may make us fetch the JWKS again.
pub const DEFAULT_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(10);

/// How long a fetched key set is trusted before it is fetched again in the
/// background, so a key the identity provider withdrew stops being accepted.
pub const DEFAULT_MAX_KEY_AGE: Duration = Duration::from_secs(600);

/// Time limit on one JWKS fetch (connect included).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the identity provider's public keys (a JWK set) are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A local JWKS file; read again on every refresh.
    File(PathBuf),
    /// An `https://` (or, on trusted networks only, `http://`) URL, such as
    /// ZITADEL's `https://<domain>/oauth/v2/keys`. Redirects are not followed.
    Url(String),
}

impl fmt::Display for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Url(url) => write!(f, "{url}"),
        }
    }
}

/// Configuration of a [`crate::JwtVerifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    /// The exact `iss` tokens must carry (ZITADEL: `https://<domain>`, no trailing slash).
    pub issuer: String,
    /// A value the token's `aud` must contain (ZITADEL: the project id).
    pub audience: String,
    pub jwks: JwksSource,
    /// The claim holding the home organization's id (a string).
    pub org_claim: String,
    /// The claim holding the roles, shaped like [`ZITADEL_ROLES_CLAIM`].
    pub roles_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`; at most [`MAX_LEEWAY`], whole seconds.
    pub leeway: Duration,
    /// How often, at most, the JWKS is fetched again (for an unknown `kid` or
    /// because of age). Keep it at seconds: it is what stops made-up `kid`s
    /// from turning into requests to the identity provider.
    pub refresh_min_interval: Duration,
    /// Age after which the key set is fetched again in the background.
    pub max_key_age: Duration,
    /// Time limit on one JWKS fetch.
    pub timeout: Duration,
}

impl JwtSettings {
    /// Settings for ZITADEL's claims, with the default leeway, refresh and timeout.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks: JwksSource) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks,
            org_claim: ZITADEL_ORG_CLAIM.to_owned(),
            roles_claim: ZITADEL_ROLES_CLAIM.to_owned(),
            leeway: DEFAULT_LEEWAY,
            refresh_min_interval: DEFAULT_REFRESH_MIN_INTERVAL,
            max_key_age: DEFAULT_MAX_KEY_AGE,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Refuses settings that would make verification meaningless or fail
    /// every time, so a configuration mistake stops the start, not the requests.
    pub(crate) fn check(&self) -> Result<(), String> {
        let empty = [
            ("issuer", &self.issuer),
            ("audience", &self.audience),
            ("org_claim", &self.org_claim),
            ("roles_claim", &self.roles_claim),
        ];
        if let Some((name, _)) = empty.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(format!("jwt: {name} must not be empty"));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(format!("jwt: leeway must be at most {} s", MAX_LEEWAY.as_secs()));
        }
        if self.timeout.is_zero() {
            return Err("jwt: timeout must not be zero".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> JwtSettings {
        JwtSettings::new("https://idp.example", "123", JwksSource::File("jwks.json".into()))
    }

    #[test]
    fn defaults_are_zitadel_s() {
        let s = settings();
        assert_eq!(s.org_claim, "urn:zitadel:iam:user:resourceowner:id");
        assert_eq!(s.roles_claim, "urn:zitadel:iam:org:project:roles");
        assert_eq!(s.leeway, Duration::from_secs(30));
        assert!(s.check().is_ok());
    }

    #[test]
    fn meaningless_settings_are_refused() {
        assert!(JwtSettings { issuer: " ".into(), ..settings() }.check().unwrap_err().contains("issuer"));
        assert!(JwtSettings { audience: String::new(), ..settings() }.check().unwrap_err().contains("audience"));
        assert!(JwtSettings { roles_claim: String::new(), ..settings() }.check().unwrap_err().contains("roles_claim"));
        assert!(JwtSettings { leeway: Duration::from_secs(301), ..settings() }.check().is_err());
        assert!(JwtSettings { timeout: Duration::ZERO, ..settings() }.check().is_err());
    }
}
