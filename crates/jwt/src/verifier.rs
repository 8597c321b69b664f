//! The [`TokenVerifier`]: header, key, signature and claims, in that order.

use std::fmt;

use async_trait::async_trait;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use onboard_domain::Principal;
use onboard_domain::ports::{AuthenticateError, TokenVerifier};
use serde_json::{Map, Value};

use crate::claims::{self, ClaimNames, ClaimsError};
use crate::jwks::JwksFetcher;
use crate::keystore::KeyStore;
use crate::settings::JwtSettings;

/// Tokens longer than this are refused before any decoding. Access tokens
/// are a few kilobytes even with many role grants; this only bounds the work
/// an arbitrary `Authorization` header can cause.
pub const MAX_TOKEN_BYTES: usize = 32 * 1024;

/// Verifies JWT access tokens of one identity provider; see the crate docs
/// for what is checked.
#[derive(Clone)]
pub struct JwtVerifier {
    keys: KeyStore,
    validations: Validations,
    names: ClaimNames,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier").field("keys", &self.keys).field("claims", &self.names).finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Checks `settings` and loads the key set once. Fails, with a message
    /// naming the problem, when the settings are unusable or the key set
    /// cannot be read or has no usable key: a verifier that would refuse every
    /// token should stop the start.
    pub async fn new(settings: JwtSettings) -> Result<Self, String> {
        settings.check()?;
        let fetcher = JwksFetcher::new(&settings)?;
        let source = fetcher.source().clone();
        let keys = KeyStore::load(fetcher, settings.refresh_min_interval, settings.max_key_age)
            .await
            .map_err(|e| format!("jwt: cannot load the JWKS from {source}: {e}"))?;
        Ok(Self {
            keys,
            validations: Validations::new(&settings),
            names: ClaimNames { issuer: settings.issuer, org: settings.org_claim, roles: settings.roles_claim },
        })
    }

    async fn check(&self, token: &str) -> Result<Principal, Rejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::TooLong);
        }
        // The header is unauthenticated: it only says which key to try.
        let header = jsonwebtoken::decode_header(token).map_err(|e| Rejection::Malformed(kind(&e)))?;
        // HS* and anything else outside the allowed three stop here; `none`
        // already failed to decode as an algorithm.
        let validation = self.validations.get(header.alg).ok_or(Rejection::AlgorithmNotAllowed(header.alg))?;
        let kid = header.kid.as_deref().filter(|k| !k.is_empty()).ok_or(Rejection::NoKid)?;
        let key = self.keys.key(kid).await.map_err(Rejection::Unavailable)?.ok_or(Rejection::UnknownKid)?;
        // The key decides the algorithm. jsonwebtoken would refuse the
        // mismatch as well (the validation allows only the header's algorithm
        // and checks the key's family); this says so plainly, first.
        if key.algorithm != header.alg {
            return Err(Rejection::AlgorithmMismatch { header: header.alg, key: key.algorithm });
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation)
            .map_err(|e| Rejection::Validation(kind(&e)))?;
        claims::principal(&data.claims, &self.names).map_err(Rejection::Claims)
    }
}

#[async_trait]
impl TokenVerifier for JwtVerifier {
    #[tracing::instrument(skip_all)]
    async fn verify(&self, token: &str) -> Result<Principal, AuthenticateError> {
        match self.check(token).await {
            Ok(principal) => Ok(principal),
            Err(Rejection::Unavailable(unavailable)) => Err(AuthenticateError::Unavailable(unavailable)),
            Err(rejection) => {
                // Why stays here, for whoever debugs a configuration; the
                // caller learns only that the token was not accepted.
                tracing::debug!(reason = %rejection, "jwt: token rejected");
                Err(AuthenticateError::InvalidToken)
            }
        }
    }
}

/// Why a token was not accepted. Never carries the token or parts of it.
#[derive(Debug, thiserror::Error)]
enum Rejection {
    #[error("longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} not allowed")]
    AlgorithmNotAllowed(Algorithm),
    #[error("no kid in the header")]
    NoKid,
    #[error("no key with this kid")]
    UnknownKid,
    #[error("header says {header:?} but the key is for {key:?}")]
    AlgorithmMismatch { header: Algorithm, key: Algorithm },
    #[error("{0}")]
    Validation(String),
    #[error("claims: {0}")]
    Claims(ClaimsError),
    #[error(transparent)]
    Unavailable(onboard_domain::ports::Unavailable),
}

/// The kind of a jsonwebtoken error without its details: JSON errors quote
/// pieces of the input, which is the token.
fn kind(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::InvalidToken => "not three base64url parts",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => "unusable key",
        ErrorKind::InvalidAlgorithmName => "unknown algorithm",
        ErrorKind::MissingRequiredClaim(claim) => return format!("missing or malformed claim {claim}"),
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet (nbf)",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidSubject => "wrong subject",
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => "algorithm not allowed for the key",
        ErrorKind::Base64(_) => "bad base64url",
        ErrorKind::Json(_) => "bad JSON",
        ErrorKind::Utf8(_) => "bad UTF-8",
        ErrorKind::Crypto(_) => "crypto failure",
        _ => "other",
    }
    .to_owned()
}

/// One prepared [`Validation`] per allowed algorithm: the allow-list itself.
#[derive(Clone)]
struct Validations {
    rs256: Validation,
    es256: Validation,
    eddsa: Validation,
}

impl Validations {
    fn new(settings: &JwtSettings) -> Self {
        let validation = |algorithm| {
            let mut v = Validation::new(algorithm);
            v.set_issuer(&[&settings.issuer]);
            v.set_audience(&[&settings.audience]);
            // Present and well-formed, besides being checked when present.
            v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            v.validate_exp = true;
            v.validate_nbf = true;
            v.validate_aud = true;
            v.leeway = settings.leeway.as_secs();
            v
        };
        Self {
            rs256: validation(Algorithm::RS256),
            es256: validation(Algorithm::ES256),
            eddsa: validation(Algorithm::EdDSA),
        }
    }

    fn get(&self, algorithm: Algorithm) -> Option<&Validation> {
        match algorithm {
            Algorithm::RS256 => Some(&self.rs256),
            Algorithm::ES256 => Some(&self.es256),
            Algorithm::EdDSA => Some(&self.eddsa),
            _ => None,
        }
    }
}
