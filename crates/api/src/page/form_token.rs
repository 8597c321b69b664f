//! The init form's anti-CSRF token: a signed double-submit.
//!
//! Each browser gets a random 256-bit key in an HttpOnly, `SameSite=Strict`
//! cookie; the form carries `expiry.HMAC-SHA256(key, user id, expiry)`. A
//! POST counts only when the form's token verifies under the key from the
//! request's own cookie.
//!
//! Why this design:
//! - No server secret and no shared state: every node verifies any form with
//!   what the request brings, so a form rendered by one node may be posted
//!   to another, and no new configuration is needed. (A key made per process
//!   would break that; the code-hashing secret every node shares is not ours
//!   to use.)
//! - Another site can neither read the key (HttpOnly, and the page cannot be
//!   framed) nor make the browser send it (`SameSite=Strict`), so it cannot
//!   forge a token. Over HTTPS the cookie is `__Host-` prefixed, so sibling
//!   hosts cannot plant a key of their own either; over plain HTTP (loopback
//!   deployments) the prefix is not available, which is the known limit of
//!   double-submit on HTTP.
//! - The token is bound to the user and expires, so a form is good for one
//!   account for [`LIFETIME`]; after that the page asks to submit again.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

/// How long a rendered form may be submitted.
pub const LIFETIME: Duration = Duration::hours(2);

/// A browser's key. Its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct FormKey([u8; 32]);

impl std::fmt::Debug for FormKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormKey(<redacted>)")
    }
}

impl FormKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).expect("the OS random source is available");
        Self(key)
    }

    /// The key as its cookie holds it; `None` for anything else.
    pub fn from_cookie(value: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_cookie(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// A token for `user_id`'s form, good until `now + LIFETIME`.
    pub fn issue(&self, user_id: &str, now: OffsetDateTime) -> String {
        let expires = (now + LIFETIME).unix_timestamp();
        let mac = self.mac(user_id, expires).finalize().into_bytes();
        format!("{expires}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// Whether `token` was issued under this key for `user_id` and is still good.
    pub fn verify(&self, user_id: &str, token: &str, now: OffsetDateTime) -> bool {
        let Some((expires, mac)) = token.split_once('.') else { return false };
        let (Ok(expires), Ok(mac)) = (expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(mac)) else { return false };
        now.unix_timestamp() < expires && self.mac(user_id, expires).verify_slice(&mac).is_ok()
    }

    fn mac(&self, user_id: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        // Domain-separated and length-prefixed: no other input can pose as this one.
        mac.update(b"onboard init form v1\0");
        mac.update(&(user_id.len() as u64).to_be_bytes());
        mac.update(user_id.as_bytes());
        mac.update(&expires.to_be_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-11-27 12:00 UTC);

    #[test]
    fn a_token_verifies_for_its_key_user_and_time_only() {
        let key = FormKey::generate();
        let token = key.issue("200", NOW);
        assert!(key.verify("200", &token, NOW));
        assert!(key.verify("200", &token, NOW + LIFETIME - Duration::seconds(1)));
        assert!(!key.verify("200", &token, NOW + LIFETIME), "expired");
        assert!(!key.verify("201", &token, NOW), "another user");
        assert!(!FormKey::generate().verify("200", &token, NOW), "another browser's key");
    }

    #[test]
    fn tampered_and_malformed_tokens_fail() {
        let key = FormKey::generate();
        let token = key.issue("200", NOW);
        let (expires, mac) = token.split_once('.').unwrap();
        let later = format!("{}.{mac}", expires.parse::<i64>().unwrap() + 3600);
        assert!(!key.verify("200", &later, NOW), "a longer life is not for the taking");
        for bad in ["", ".", "abc", "1.", &format!("{expires}.AAAA"), &format!("x.{mac}")] {
            assert!(!key.verify("200", bad, NOW), "{bad:?}");
        }
    }

    #[test]
    fn keys_round_trip_through_their_cookie_and_hide_in_debug_output() {
        let key = FormKey::generate();
        let cookie = key.to_cookie();
        assert_eq!(FormKey::from_cookie(&cookie), Some(key.clone()));
        assert_eq!(FormKey::from_cookie("short"), None);
        assert_eq!(FormKey::from_cookie("not base64!"), None);
        assert_ne!(FormKey::generate(), key);
        assert!(!format!("{key:?}").contains(&cookie));
    }
}
