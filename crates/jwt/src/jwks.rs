//! The identity provider's key set: reading it (file or URL) and turning each
//! usable JWK into a verification key bound to exactly one algorithm.
//!
//! The algorithm a key verifies is decided here, from the key itself (`kty`,
//! `crv`, and `alg` when present), never from a token. That is what defeats
//! algorithm confusion: a token naming another algorithm than its key's is
//! rejected, whatever it says.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::settings::{JwksSource, JwtSettings};

/// A key set larger than this is refused: real ones are a few kilobytes, and
/// a misbehaving endpoint must not make us buffer without bound.
pub(crate) const MAX_JWKS_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum JwksError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("request failed: {0}")]
    Request(String),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("not a JWK set: {0}")]
    Parse(String),
    #[error("no usable key (RS256, ES256 on P-256 or EdDSA on Ed25519, each with a kid)")]
    NoUsableKey,
}

/// A public key and the one algorithm it verifies.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// The usable keys of one JWKS, by `kid`.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, VerifyingKey>,
}

impl KeySet {
    pub(crate) fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The usable keys of the JWKS document `bytes`. Keys this verifier cannot
    /// or must not use (encryption keys, HMAC secrets, other curves, RSA-PSS,
    /// no `kid`...) are skipped, so one exotic key does not make the whole set
    /// unusable; a set with no usable key at all is an error.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, JwksError> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(bytes).map_err(|e| JwksError::Parse(e.to_string()))?;
        let mut keys = HashMap::new();
        for (index, raw) in document.keys.into_iter().enumerate() {
            let jwk: Jwk = match serde_json::from_value(raw) {
                Ok(jwk) => jwk,
                Err(e) => {
                    tracing::debug!(index, error = %e, "jwks: key skipped: not a JWK this library knows");
                    continue;
                }
            };
            match usable(&jwk) {
                Ok((kid, key)) => match keys.entry(kid) {
                    Entry::Vacant(slot) => {
                        slot.insert(key);
                    }
                    // Ambiguous; the first one stays, as most verifiers do.
                    Entry::Occupied(taken) => {
                        tracing::warn!(kid = taken.key(), "jwks: duplicate kid, later key skipped")
                    }
                },
                Err(reason) => tracing::debug!(index, reason, "jwks: key skipped"),
            }
        }
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey);
        }
        Ok(Self { keys })
    }
}

/// The key's `kid` and verifying key, or why it is not used.
fn usable(jwk: &Jwk) -> Result<(String, VerifyingKey), &'static str> {
    let common = &jwk.common;
    let kid = common.key_id.clone().filter(|k| !k.is_empty()).ok_or("no kid")?;
    if matches!(&common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err("not a signature key (use)");
    }
    if matches!(&common.key_operations, Some(ops) if !ops.contains(&KeyOperations::Verify)) {
        return Err("not a verification key (key_ops)");
    }
    let algorithm = algorithm_of(jwk)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| "malformed key parameters")?;
    Ok((kid, VerifyingKey { algorithm, key }))
}

/// The one algorithm a key may verify: RS256 for RSA, ES256 for EC keys on
/// P-256, EdDSA for OKP keys on Ed25519. A key whose `alg` names anything else
/// is not used; symmetric (`oct`) keys never are, so no HMAC algorithm can be.
pub(crate) fn algorithm_of(jwk: &Jwk) -> Result<Algorithm, &'static str> {
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => Algorithm::EdDSA,
        AlgorithmParameters::EllipticCurve(_) | AlgorithmParameters::OctetKeyPair(_) => {
            return Err("unsupported curve");
        }
        AlgorithmParameters::OctetKey(_) => return Err("symmetric key"),
    };
    let declared_matches = match jwk.common.key_algorithm {
        None => true,
        Some(declared) => matches!(
            (declared, algorithm),
            (KeyAlgorithm::RS256, Algorithm::RS256)
                | (KeyAlgorithm::ES256, Algorithm::ES256)
                | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
        ),
    };
    if declared_matches { Ok(algorithm) } else { Err("unsupported alg for this key") }
}

/// Reads the key set from its source.
pub(crate) struct JwksFetcher {
    source: JwksSource,
    /// Only for URL sources.
    http: Option<reqwest::Client>,
}

impl fmt::Debug for JwksFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksFetcher").field("source", &self.source).finish_non_exhaustive()
    }
}

impl JwksFetcher {
    pub(crate) fn new(settings: &JwtSettings) -> Result<Self, String> {
        let http = match &settings.jwks {
            JwksSource::File(_) => None,
            JwksSource::Url(url) => {
                let parsed = reqwest::Url::parse(url).map_err(|e| format!("jwt: JWKS URL {url:?}: {e}"))?;
                match parsed.scheme() {
                    "https" => {}
                    "http" => {
                        let loopback = match parsed.host_str() {
                            Some("localhost") => true,
                            Some(host) => host
                                .trim_start_matches('[')
                                .trim_end_matches(']')
                                .parse::<std::net::IpAddr>()
                                .is_ok_and(|ip| ip.is_loopback()),
                            None => false,
                        };
                        if !loopback {
                            // Whoever can change the keys in transit can mint tokens.
                            tracing::warn!(
                                url,
                                "jwt: JWKS fetched over plain http; use https outside trusted networks"
                            );
                        }
                    }
                    other => return Err(format!("jwt: JWKS URL must be https:// or http://, not {other}://")),
                }
                Some(http_client(settings)?)
            }
        };
        Ok(Self { source: settings.jwks.clone(), http })
    }

    pub(crate) fn source(&self) -> &JwksSource {
        &self.source
    }

    pub(crate) async fn fetch(&self) -> Result<KeySet, JwksError> {
        let bytes = match (&self.source, &self.http) {
            (JwksSource::File(path), _) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|source| JwksError::Read { path: path.display().to_string(), source })?;
                if bytes.len() > MAX_JWKS_BYTES {
                    return Err(JwksError::TooLarge);
                }
                bytes
            }
            (JwksSource::Url(url), Some(http)) => fetch_url(http, url).await?,
            (JwksSource::Url(_), None) => unreachable!("URL sources get a client in new"),
        };
        KeySet::parse(&bytes)
    }
}

async fn fetch_url(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, JwksError> {
    let mut response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json, application/jwk-set+json")
        .send()
        .await
        .map_err(|e| JwksError::Request(describe(&e)))?;
    if !response.status().is_success() {
        return Err(JwksError::Status(response.status().as_u16()));
    }
    if response.content_length().is_some_and(|n| n > MAX_JWKS_BYTES as u64) {
        return Err(JwksError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| JwksError::Request(describe(&e)))? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's message with its causes (connection refused, TLS, timeout...):
/// the top-level message alone only says "error sending request".
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The HTTP client for a JWKS URL: certificates checked against the OS trust
/// store, with rustls on ring (the crypto the rest of the tree uses) rather
/// than reqwest's default provider.
fn http_client(settings: &JwtSettings) -> Result<reqwest::Client, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|e| format!("jwt: TLS setup: {e}"))?
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(settings.timeout)
        .timeout(settings.timeout)
        // The configured URL is the one trusted; a redirect would move that trust elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("jwt: http client: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    // A real P-256 point and Ed25519 key, from tests/keys/jwks.json.
    const EC_X: &str = "dnFE3KBsh6HaX5u9iZwM3f0JuytRKd6dwP6PiAqIee0";
    const EC_Y: &str = "lYkdFEmVWNizQpj3dP-EVJh1O90yzOBQjIQmvjmiWjA";
    const ED_X: &str = "86qpoJKkBUW1E9AyyDnYfEmSmIozud9J7gEE_6hRx-s";
    const RSA_N: &str = "n1aFOUb_UFcO2EMxrXu4T6bwQ5kEAaIFwVAQoC_byPyJVZGQQdT81c3Tw5XU4R0UVAjy29yOxhobMwM_ZRGE2Snkob6t2c94_c1a0rJb4-ZuBgfmkXgkPlpgAfkvN7frU0FXZ1tFOiSVJxCm5CTYksh9Z93cqXi-wytq1GR0MVb6xTwL8Zgqf-C_m-9XMbO5rZMBK9M7Q8rxgBj-XRnj4hMUB2OjNQxaBiaWswt7qwY0V9ywf22uMjCZuzNZlGjQ-2xCwWV9VAKBJxJ__vifJXh0YS78lEMlmBBhY9B1IAtv5krWKSHiOQZjRxGFFofP0ROfJeV0k06r7JeoFhP0Lw";

    fn jwk(value: serde_json::Value) -> Jwk {
        serde_json::from_value(value).unwrap()
    }

    fn rsa(extra: serde_json::Value) -> serde_json::Value {
        let mut key = json!({"kty": "RSA", "kid": "r", "n": RSA_N, "e": "AQAB"});
        key.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        key
    }

    #[test]
    fn the_algorithm_comes_from_the_key_type() {
        assert_eq!(algorithm_of(&jwk(rsa(json!({})))), Ok(Algorithm::RS256));
        assert_eq!(algorithm_of(&jwk(rsa(json!({"alg": "RS256"})))), Ok(Algorithm::RS256));
        let ec = json!({"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y});
        assert_eq!(algorithm_of(&jwk(ec)), Ok(Algorithm::ES256));
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X});
        assert_eq!(algorithm_of(&jwk(ed)), Ok(Algorithm::EdDSA));
    }

    #[test]
    fn keys_declaring_other_algorithms_or_curves_are_not_used() {
        assert!(algorithm_of(&jwk(rsa(json!({"alg": "RS512"})))).is_err());
        assert!(algorithm_of(&jwk(rsa(json!({"alg": "PS256"})))).is_err());
        assert!(algorithm_of(&jwk(rsa(json!({"alg": "HS256"})))).is_err());
        assert!(algorithm_of(&jwk(rsa(json!({"alg": "ES256"})))).is_err());
        let p384 = json!({"kty": "EC", "crv": "P-384", "x": EC_X, "y": EC_Y});
        assert!(algorithm_of(&jwk(p384)).is_err());
        let ec_as_rsa = json!({"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "alg": "RS256"});
        assert!(algorithm_of(&jwk(ec_as_rsa)).is_err());
        let hmac = json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"});
        assert_eq!(algorithm_of(&jwk(hmac)), Err("symmetric key"));
    }

    #[test]
    fn unusable_keys_are_skipped_and_the_rest_kept() {
        let document = json!({"keys": [
            rsa(json!({"kid": "good", "use": "sig"})),
            rsa(json!({"kid": "enc", "use": "enc"})),
            rsa(json!({"kid": "sign-only", "key_ops": ["sign"]})),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": ED_X},
            {"kty": "RSA", "n": RSA_N, "e": "AQAB"},
            rsa(json!({"kid": "bad-b64", "n": "!!!"})),
            {"kty": "whatever", "kid": "odd"},
            rsa(json!({"kid": "good", "alg": "RS512"})),
        ]});
        let set = KeySet::parse(document.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.get("good").unwrap().algorithm, Algorithm::RS256);
    }

    #[test]
    fn a_set_without_usable_keys_or_not_a_set_is_an_error() {
        let only_hmac = json!({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]});
        assert!(matches!(KeySet::parse(only_hmac.to_string().as_bytes()), Err(JwksError::NoUsableKey)));
        assert!(matches!(KeySet::parse(b"{\"keys\": []}"), Err(JwksError::NoUsableKey)));
        assert!(matches!(KeySet::parse(b"<html>"), Err(JwksError::Parse(_))));
        assert!(matches!(KeySet::parse(b"{\"kty\": \"RSA\"}"), Err(JwksError::Parse(_))));
    }

    #[test]
    fn urls_must_be_http_or_https() {
        let settings = |url: &str| JwtSettings::new("i", "a", JwksSource::Url(url.into()));
        assert!(JwksFetcher::new(&settings("ftp://idp.example/keys")).unwrap_err().contains("https://"));
        assert!(JwksFetcher::new(&settings("not a url")).is_err());
        assert!(JwksFetcher::new(&settings("https://idp.example/oauth/v2/keys")).is_ok());
        assert!(JwksFetcher::new(&settings("http://127.0.0.1:1/keys")).is_ok());
    }
}
