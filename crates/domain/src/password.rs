//! Password policy and argon2id hashing.

use std::fmt;

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordVerifier};

/// Longest password accepted, so hashing cost stays bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub require_upper: bool,
    pub require_lower: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 8, require_upper: false, require_lower: false, require_digit: false, require_symbol: false }
    }
}

/// Why a password was refused; the text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("the password must have at least {0} characters")]
    TooShort(usize),
    #[error("the password must have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("the password must contain an upper-case letter")]
    NoUpper,
    #[error("the password must contain a lower-case letter")]
    NoLower,
    #[error("the password must contain a digit")]
    NoDigit,
    #[error("the password must contain a symbol")]
    NoSymbol,
}

impl PasswordPolicy {
    /// Checks in ZITADEL's order: length, lower case, upper case, digit,
    /// symbol. A symbol is anything but an ASCII letter or digit, as in
    /// ZITADEL; letters of any script count as upper or lower case.
    pub fn check(&self, password: &str) -> Result<(), PolicyViolation> {
        if password.chars().count() < self.min_length {
            return Err(PolicyViolation::TooShort(self.min_length));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PolicyViolation::TooLong);
        }
        let has = |pred: fn(char) -> bool| password.chars().any(pred);
        if self.require_lower && !has(char::is_lowercase) {
            return Err(PolicyViolation::NoLower);
        }
        if self.require_upper && !has(char::is_uppercase) {
            return Err(PolicyViolation::NoUpper);
        }
        if self.require_digit && !has(|c| c.is_ascii_digit()) {
            return Err(PolicyViolation::NoDigit);
        }
        if self.require_symbol && !has(|c| !c.is_ascii_alphanumeric()) {
            return Err(PolicyViolation::NoSymbol);
        }
        Ok(())
    }
}

/// The hash formats an imported password may come in (Modular Crypt
/// Format identifiers, as ZITADEL takes them): argon2, bcrypt, scrypt,
/// PBKDF2, SHA-2 crypt, MD5 crypt and phpass.
const IMPORTED_SCHEMES: &[&str] = &[
    "argon2i",
    "argon2id",
    "argon2d",
    "2a",
    "2b",
    "2y",
    "2x",
    "scrypt",
    "7",
    "pbkdf2",
    "pbkdf2-sha1",
    "pbkdf2-sha256",
    "pbkdf2-sha512",
    "5",
    "6",
    "1",
    "P",
    "H",
];

/// Why an imported hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashImportError {
    #[error("not a hash in Modular Crypt Format (\"$<scheme>$…\")")]
    NotModularCrypt,
    #[error("hash scheme {0:?} is not supported")]
    UnsupportedScheme(String),
    #[error("not a valid argon2 hash: {0}")]
    InvalidArgon2(String),
    #[error("not a valid bcrypt hash ($2b$<cost>$<53 characters>)")]
    InvalidBcrypt,
}

/// `$2?$<cost 04..31>$` and 22 characters of salt and 31 of hash in bcrypt's base64.
fn is_bcrypt(encoded: &str) -> bool {
    let mut parts = encoded.splitn(4, '$').skip(2);
    let (Some(cost), Some(rest)) = (parts.next(), parts.next()) else { return false };
    cost.parse::<u8>().is_ok_and(|c| (4..=31).contains(&c))
        && cost.len() == 2
        && rest.len() == 53
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// An argon2 hash in PHC string form.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes with argon2id and a random salt.
    pub fn create(password: &str) -> Self {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 with default parameters hashes any password");
        Self(hash.to_string())
    }

    /// Takes a hash made elsewhere (ImportHumanUser), in Modular Crypt
    /// Format: argon2 hashes are parsed in full, the other supported schemes
    /// checked for their shape; all are kept as given, for the identity
    /// system that verifies sign-ins.
    pub fn import(encoded: &str) -> Result<Self, HashImportError> {
        let encoded = encoded.trim();
        let scheme = encoded
            .strip_prefix('$')
            .and_then(|rest| rest.split_once('$'))
            .map(|(scheme, _)| scheme)
            .filter(|_| encoded.len() <= MAX_PASSWORD_BYTES && encoded.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or(HashImportError::NotModularCrypt)?;
        if !IMPORTED_SCHEMES.contains(&scheme) {
            return Err(HashImportError::UnsupportedScheme(scheme.to_owned()));
        }
        if scheme.starts_with("argon2") {
            argon2::PasswordHash::new(encoded).map_err(|e| HashImportError::InvalidArgon2(e.to_string()))?;
        }
        if scheme.starts_with('2') && !is_bcrypt(encoded) {
            return Err(HashImportError::InvalidBcrypt);
        }
        Ok(Self(encoded.to_owned()))
    }

    /// Rebuilds a stored hash.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }

    pub fn verify(&self, password: &str) -> bool {
        argon2::PasswordHash::new(&self.0)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_wants_eight_characters() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check("short12"), Err(PolicyViolation::TooShort(8)));
        assert_eq!(policy.check("eightch!"), Ok(()));
        assert_eq!(policy.check(&"x".repeat(1025)), Err(PolicyViolation::TooLong));
    }

    #[test]
    fn character_classes_are_enforced_when_configured() {
        let policy = PasswordPolicy {
            min_length: 8,
            require_upper: true,
            require_lower: true,
            require_digit: true,
            require_symbol: true,
        };
        assert_eq!(policy.check("abcdefg1!"), Err(PolicyViolation::NoUpper));
        assert_eq!(policy.check("ABCDEFG1!"), Err(PolicyViolation::NoLower));
        // ZITADEL's order: lower case is checked before upper case.
        assert_eq!(policy.check("12345678!"), Err(PolicyViolation::NoLower));
        assert_eq!(policy.check("Abcdefgh!"), Err(PolicyViolation::NoDigit));
        assert_eq!(policy.check("Abcdefg12"), Err(PolicyViolation::NoSymbol));
        assert_eq!(policy.check("Abcdef1!x"), Ok(()));
        // Anything but an ASCII letter or digit is a symbol, a space or an umlaut too.
        assert_eq!(policy.check("Abcdef1 x"), Ok(()));
        assert_eq!(policy.check("Abcdef1üx"), Ok(()));
    }

    #[test]
    fn hashes_verify_and_imports_are_modular_crypt_hashes() {
        let hash = PasswordHash::create("correct horse");
        assert!(hash.as_phc().starts_with("$argon2id$"));
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("wrong horse"));
        assert!(PasswordHash::import(hash.as_phc()).is_ok());
        assert_eq!(PasswordHash::import("plain"), Err(HashImportError::NotModularCrypt));
        assert!(matches!(
            PasswordHash::import("$argon2id$v=19$m=19456,t=2,p=1$!!$!!"),
            Err(HashImportError::InvalidArgon2(_))
        ));
        assert!(PasswordHash::import("$2b$10$abcdefghijklmnopqrstuu5Wj5JNUpmCnGgi/5q3YI/W4kO1rLfVa").is_ok());
        assert!(PasswordHash::import("$6$rounds=5000$salt$hash").is_ok());
        assert_eq!(PasswordHash::import("$md5$x"), Err(HashImportError::UnsupportedScheme("md5".into())));
        assert_eq!(PasswordHash::import("$2b$10$with space"), Err(HashImportError::NotModularCrypt));
        assert_eq!(PasswordHash::import("$2b$10$tooshort"), Err(HashImportError::InvalidBcrypt));
        assert!(!format!("{hash:?}").contains("argon2"));
    }
}
