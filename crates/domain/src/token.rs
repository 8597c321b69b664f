//! Personal access tokens: 256 random bits, shown once, stored as a digest.

use std::fmt;

use sha2::{Digest, Sha256};

/// Prefix that makes the tokens recognizable (secret scanners, logs review).
pub const TOKEN_PREFIX: &str = "onb_";

/// SHA-256 of a token: what stores keep instead of the token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl TokenDigest {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The digest [`TokenDigest::to_hex`] wrote; `None` unless 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({}…)", &self.to_hex()[..8])
    }
}

/// Lower-case hex of `bytes`, in one allocation: digests become keys and
/// ids on every authenticated call.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A new token and its digest.
pub fn generate_token() -> (String, TokenDigest) {
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).expect("the OS random source is available");
    let token = format!("{TOKEN_PREFIX}{}", hex(&raw));
    let digest = TokenDigest::of(&token);
    (token, digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_digested() {
        let (a, da) = generate_token();
        let (b, _) = generate_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(TokenDigest::of(&a), da);
        assert!(!format!("{da:?}").contains(&a[4..]));
        assert_eq!(TokenDigest::from_hex(&da.to_hex()), Some(da));
        assert_eq!(TokenDigest::from_hex("ab"), None);
        assert_eq!(TokenDigest::from_hex(&"g".repeat(64)), None);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
