//! Verifies the JWT access tokens of an identity provider (ZITADEL by
//! default) and maps them to onboard's [`Principal`](onboard_domain::Principal):
//! the [`TokenVerifier`](onboard_domain::ports::TokenVerifier) adapter.
//!
//! # What is checked, and why
//!
//! A token is accepted only if all of this holds; otherwise the answer is
//! `InvalidToken`, without saying which check failed (the reason is logged at
//! debug level; the token never is).
//!
//! - **Size**: at most [`MAX_TOKEN_BYTES`], before any decoding.
//! - **Algorithm**: RS256, ES256 or EdDSA only. `none` and the HMAC
//!   algorithms are refused outright: with public keys, HMAC is the classic
//!   confusion attack (a token "signed" with HS256 using the public key as the
//!   secret).
//! - **Key**: the header's `kid` must name a key of the identity provider's
//!   JWKS. Each key verifies exactly one algorithm, decided from the key
//!   (`kty`, `crv`, and its `alg` if it has one), and the header's `alg` must
//!   be that one. The header is otherwise not trusted: embedded `jwk`, `jku`,
//!   `x5u` or `x5c` parameters are ignored, so a token cannot bring its own key.
//! - **Signature** with that key (jsonwebtoken 9 on ring).
//! - **Issuer**: `iss` equals the configured issuer exactly.
//! - **Audience**: `aud` (string or array) contains the configured audience.
//! - **Times**: `exp` is required and not past; `nbf`, if present, is not in
//!   the future; both with a small leeway for clock skew (30 s by default, at
//!   most 5 minutes).
//! - **Claims**: `sub` is a non-empty string and the organization claim a
//!   valid organization id; a roles claim, if present, has the expected shape
//!   (see [`JwtSettings`]).
//!
//! # The principal
//!
//! - subject: `jwt:<issuer>#<sub>` ([`SUBJECT_PREFIX`]); onboard's service
//!   accounts have decimal ids, so an identity-provider user can never pass
//!   for one (rate limits and audit records keyed by subject stay apart too);
//! - home organization: the organization claim
//!   (`urn:zitadel:iam:user:resourceowner:id` by default);
//! - grants: from the roles claim (`urn:zitadel:iam:org:project:roles` by
//!   default, `{ "ROLE": { "<orgId>": "<domain>" } }`): instance roles
//!   (`IAM_*`) give an instance-wide grant, the others one grant per
//!   organization listed. Role names onboard does not know are ignored.
//!
//! # Keys
//!
//! The JWKS is read from a file or fetched from a URL ([`JwksSource`]) when
//! the verifier is made; failing that, [`JwtVerifier::new`] fails. It is kept
//! in memory and fetched again when a token names an unknown `kid` (key
//! rotation) and, in the background, when it is older than
//! [`JwtSettings::max_key_age`] (key withdrawal); at most once per
//! [`JwtSettings::refresh_min_interval`], so made-up `kid`s cannot make us
//! hammer the identity provider. When a fetch fails, the keys in memory stay
//! in use; a token with an unknown `kid` then gets `Unavailable` (we cannot
//! tell whether its key exists) until a fetch succeeds.
//!
//! https URLs are checked against the operating system's trust store, with
//! rustls on ring; redirects are not followed.

mod claims;
mod jwks;
mod keystore;
mod settings;
#[cfg(feature = "testing")]
pub mod testing;
mod verifier;

pub use claims::SUBJECT_PREFIX;
pub use settings::{
    DEFAULT_LEEWAY, DEFAULT_MAX_KEY_AGE, DEFAULT_REFRESH_MIN_INTERVAL, DEFAULT_TIMEOUT, JwksSource, JwtSettings,
    MAX_LEEWAY, ZITADEL_ORG_CLAIM, ZITADEL_ROLES_CLAIM,
};
pub use verifier::{JwtVerifier, MAX_TOKEN_BYTES};
