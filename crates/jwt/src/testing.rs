//! Identity-provider tokens for tests, signed with the keys of `tests/keys`
//! (private keys made for the tests, public by being checked in: never use
//! them for anything else). Behind the `testing` feature, for this crate's
//! tests and the end-to-end scenarios alike, so both sign the same way.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
pub use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::{JwksSource, JwtSettings};

/// The issuer and audience the test tokens carry and [`settings`] expects.
pub const ISSUER: &str = "https://idp.example";
pub const AUDIENCE: &str = "onboard-project";

/// The folder of the test keys; its `jwks.json` holds the public keys of
/// every [`TestKey`] but [`TestKey::Rsa2`].
pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

/// The key set the identity provider publishes, as a file.
pub fn jwks_path() -> PathBuf {
    keys_dir().join("jwks.json")
}

pub fn read_key_file(name: &str) -> String {
    std::fs::read_to_string(keys_dir().join(name)).unwrap_or_else(|e| panic!("test key {name}: {e}"))
}

/// The DER inside a PEM file (PKCS#1 for the RSA keys, PKCS#8 for the others,
/// which is what jsonwebtoken's `from_*_der` expect): jsonwebtoken is built
/// without `use_pem`, whose ASN.1 parser needs a newer `time` than
/// rust-version allows.
fn der(name: &str) -> Vec<u8> {
    let body: String = read_key_file(name).lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// A signing key of `tests/keys` and the kid it has in `jwks.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    Rsa,
    Ec,
    Ed,
    /// Not in jwks.json; its public JWK is rsa-2.jwk.json.
    Rsa2,
}

impl TestKey {
    pub fn kid(self) -> &'static str {
        match self {
            Self::Rsa => "rsa-1",
            Self::Ec => "ec-1",
            Self::Ed => "ed-1",
            Self::Rsa2 => "rsa-2",
        }
    }

    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Rsa | Self::Rsa2 => Algorithm::RS256,
            Self::Ec => Algorithm::ES256,
            Self::Ed => Algorithm::EdDSA,
        }
    }

    pub fn encoding_key(self) -> EncodingKey {
        match self {
            Self::Rsa => EncodingKey::from_rsa_der(&der("rsa.pem")),
            Self::Rsa2 => EncodingKey::from_rsa_der(&der("rsa-2.pem")),
            Self::Ec => EncodingKey::from_ec_der(&der("ec.pem")),
            Self::Ed => EncodingKey::from_ed_der(&der("ed.pem")),
        }
    }
}

/// Seconds since the epoch, as `iat`, `nbf` and `exp` count.
pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims of a valid token in ZITADEL's shape: `subject`, a user of `org`
/// holding `roles` (`{"ROLE": {"<orgId>": "<domain>"}}`), for five minutes.
/// The claim names are ZITADEL's, written out rather than taken from this
/// crate's defaults, so that tests check the defaults against ZITADEL.
pub fn zitadel_claims(subject: &str, org: &str, roles: Value) -> Value {
    json!({
        "iss": ISSUER,
        "aud": [AUDIENCE, "some-client-id"],
        "sub": subject,
        "iat": now(),
        "exp": now() + 300,
        "urn:zitadel:iam:user:resourceowner:id": org,
        "urn:zitadel:iam:org:project:roles": roles,
    })
}

/// `claims` with `changes` merged in; a `null` value removes the claim.
pub fn merged(mut claims: Value, changes: Value) -> Value {
    let map = claims.as_object_mut().expect("claims are an object");
    for (name, value) in changes.as_object().expect("changes are an object") {
        if value.is_null() {
            map.remove(name);
        } else {
            map.insert(name.clone(), value.clone());
        }
    }
    claims
}

pub fn sign_as(header: Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// A token signed by `key`, with its algorithm and kid.
pub fn sign(key: TestKey, claims: &Value) -> String {
    sign_with_kid(key, key.kid(), claims)
}

/// A token signed by `key` with its algorithm, naming `kid` (another key's, say).
pub fn sign_with_kid(key: TestKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm());
    header.kid = Some(kid.to_owned());
    sign_as(header, claims, &key.encoding_key())
}

/// base64url without padding, as the parts of a JWT are encoded.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWKS document made of jwks.json's keys and `extra` JWKs.
pub fn jwks_with(extra: &[Value]) -> String {
    let mut set: Value = serde_json::from_str(&read_key_file("jwks.json")).unwrap();
    set["keys"].as_array_mut().unwrap().extend(extra.iter().cloned());
    set.to_string()
}

/// rsa-2's public JWK under `kid`.
pub fn rsa2_jwk(kid: &str) -> Value {
    let mut jwk: Value = serde_json::from_str(&read_key_file("rsa-2.jwk.json")).unwrap();
    jwk["kid"] = json!(kid);
    jwk
}

/// Settings that accept the test tokens, keys from `jwks`.
pub fn settings(jwks: JwksSource) -> JwtSettings {
    JwtSettings::new(ISSUER, AUDIENCE, jwks)
}
