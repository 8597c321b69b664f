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
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({}…)", &self.to_hex()[..8])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    }
}
