//! Initialization codes: drawn from the OS's CSPRNG without modulo bias,
//! stored only as an HMAC-SHA256 keyed with a server secret, compared in
//! constant time, never logged.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::ids::UserId;
use crate::invite::CodeDelivery;

const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

#[derive(Debug, Clone)]
pub struct InitCodeConfig {
    /// Characters per code (ZITADEL: 6).
    pub length: usize,
    /// How long a code is valid (ZITADEL: 72 h).
    pub lifetime: Duration,
    /// Wrong attempts after which a code is dead until a resend.
    pub max_attempts: u32,
}

impl Default for InitCodeConfig {
    fn default() -> Self {
        Self { length: 6, lifetime: Duration::hours(72), max_attempts: 5 }
    }
}

/// The key of the code hashes. At least 32 bytes.
#[derive(Clone)]
pub struct CodeSecret(Vec<u8>);

impl CodeSecret {
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < 32 {
            return Err(format!("the code secret must be at least 32 bytes, got {}", bytes.len()));
        }
        Ok(Self(bytes))
    }
}

impl fmt::Debug for CodeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeSecret(<redacted>)")
    }
}

/// A code in clear text. It exists only between its making and its mailing;
/// its `Debug` form hides it so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PlainCode(String);

impl PlainCode {
    /// Wraps a code read back from the outbox.
    pub fn from_stored(code: String) -> Self {
        Self(code)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainCode(<redacted>)")
    }
}

/// HMAC-SHA256 of user id and code.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodeHash(pub [u8; 32]);

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHash(<redacted>)")
    }
}

/// The code a user holds now.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InitCode {
    pub hash: CodeHash,
    /// Sequence of the event that added it; an outbox entry names the
    /// generation it carries so only the newest code is ever mailed.
    pub generation: u64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub failed_attempts: u32,
    /// How the code reaches its user. Not in the stored form of a user (the
    /// snapshot's format predates it): it comes from the event that added
    /// the code, and a store that keeps snapshots takes none while it is
    /// other than the default (see [`InitCode::snapshot_safe`]).
    #[serde(skip)]
    pub delivery: CodeDelivery,
}

impl InitCode {
    /// Whether a snapshot of a user holding this code loses nothing: only
    /// codes mailed with onboard's own link have nothing outside it.
    pub fn snapshot_safe(&self) -> bool {
        self.delivery == CodeDelivery::Mailed
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// Makes and checks codes.
#[derive(Debug, Clone)]
pub struct CodeIssuer {
    secret: CodeSecret,
    config: InitCodeConfig,
}

impl CodeIssuer {
    pub fn new(secret: CodeSecret, config: InitCodeConfig) -> Self {
        Self { secret, config }
    }

    pub fn config(&self) -> &InitCodeConfig {
        &self.config
    }

    /// A new code, its hash and its expiry.
    pub fn issue(&self, user: &UserId, now: OffsetDateTime) -> (PlainCode, CodeHash, OffsetDateTime) {
        let code = random_code(self.config.length);
        let hash = self.hash(user, &code);
        (PlainCode(code), hash, now + self.config.lifetime)
    }

    /// Whether `candidate` is the code behind `expected`, in constant time.
    /// Input is trimmed and upper-cased: codes have no lower-case letters.
    pub fn matches(&self, user: &UserId, candidate: &str, expected: &CodeHash) -> bool {
        let candidate = candidate.trim().to_ascii_uppercase();
        self.mac(user, &candidate).verify_slice(&expected.0).is_ok()
    }

    fn hash(&self, user: &UserId, code: &str) -> CodeHash {
        CodeHash(self.mac(user, code).finalize().into_bytes().into())
    }

    fn mac(&self, user: &UserId, code: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret.0).expect("HMAC takes keys of any length");
        // The id is length-prefixed so no (id, code) pair can pose as another.
        mac.update(&(user.as_str().len() as u64).to_be_bytes());
        mac.update(user.as_str().as_bytes());
        mac.update(code.as_bytes());
        mac
    }
}

/// Rejection sampling: a byte is used only below the largest multiple of the
/// alphabet's size, so every character is equally likely.
fn random_code(length: usize) -> String {
    const LIMIT: u8 = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut code = String::with_capacity(length);
    let mut buf = [0u8; 32];
    while code.len() < length {
        getrandom::getrandom(&mut buf).expect("the OS random source is available");
        for &b in buf.iter().filter(|&&b| b < LIMIT) {
            if code.len() == length {
                break;
            }
            code.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> CodeIssuer {
        CodeIssuer::new(CodeSecret::new(vec![7; 32]).unwrap(), InitCodeConfig::default())
    }

    #[test]
    fn codes_have_the_configured_length_and_alphabet() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let user = UserId::parse("1").unwrap();
        let (code, _, expires) = issuer().issue(&user, now);
        assert_eq!(code.expose().len(), 6);
        assert!(code.expose().bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(expires, now + Duration::hours(72));
        assert_eq!(random_code(17).len(), 17);
    }

    #[test]
    fn characters_are_uniform() {
        // 360,000 draws: each of the 36 characters expects 10,000; a biased
        // generator (plain modulo of a byte) gives the first 4 about 11,100.
        let mut counts = [0u32; 36];
        for b in random_code(360_000).bytes() {
            counts[ALPHABET.iter().position(|&a| a == b).unwrap()] += 1;
        }
        assert!(counts.iter().all(|&n| (9_400..=10_600).contains(&n)), "{counts:?}");
    }

    #[test]
    fn only_the_issued_code_for_that_user_matches() {
        let issuer = issuer();
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        let (code, hash, _) = issuer.issue(&alice, OffsetDateTime::UNIX_EPOCH);
        assert!(issuer.matches(&alice, code.expose(), &hash));
        assert!(issuer.matches(&alice, &format!(" {} ", code.expose().to_lowercase()), &hash));
        assert!(!issuer.matches(&bob, code.expose(), &hash));
        assert!(!issuer.matches(&alice, "WRONG1", &hash));
        let other = CodeIssuer::new(CodeSecret::new(vec![8; 32]).unwrap(), InitCodeConfig::default());
        assert!(!other.matches(&alice, code.expose(), &hash));
    }

    #[test]
    fn secrets_and_codes_never_show_in_debug_output() {
        let issuer = issuer();
        let (code, hash, _) = issuer.issue(&UserId::parse("1").unwrap(), OffsetDateTime::UNIX_EPOCH);
        let shown = format!("{issuer:?} {code:?} {hash:?}");
        assert!(!shown.contains(code.expose()));
        assert!(shown.contains("redacted"));
        assert!(CodeSecret::new(vec![0; 31]).is_err());
    }
}
