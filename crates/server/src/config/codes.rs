//! Settings of init codes and of the passwords users set with them.

use std::fmt;
use std::str::FromStr;

use clap::Args;

use super::duration::NonZeroSpan;
use super::number::Count;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Init codes and passwords")]
pub struct CodeArgs {
    /// Characters per init code (A–Z, 0–9), 4 to 64.
    #[arg(long, env = "ONBOARD_CODE_LENGTH", default_value = "6")]
    pub code_length: Count<4, 64>,
    /// How long an init code is valid, such as `72h` or `30m`.
    #[arg(long, env = "ONBOARD_CODE_LIFETIME", default_value = "72h")]
    pub code_lifetime: NonZeroSpan,
    /// Wrong attempts after which a code is dead until a resend.
    #[arg(long, env = "ONBOARD_CODE_MAX_ATTEMPTS", default_value = "5")]
    pub code_max_attempts: Count<1, 100>,
    /// Shortest password accepted.
    #[arg(long, env = "ONBOARD_PASSWORD_MIN_LENGTH", default_value = "8")]
    pub password_min_length: Count<1, 128>,
    /// Character classes a password must contain, from `upper`, `lower`, `digit`, `symbol`; `none` for none.
    #[arg(long, env = "ONBOARD_PASSWORD_CLASSES", default_value_t = PasswordClasses::ALL)]
    pub password_classes: PasswordClasses,
    /// Let the link's page mail a new link when its code expired, was locked or was replaced
    /// ("Send me a new link", throttled as a resend): `true` or `false`.
    #[arg(long, env = "ONBOARD_SELF_SERVICE_RENEWAL", default_value_t = true, action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new())]
    pub self_service_renewal: bool,
    /// How long the invitation listing shows completed and withdrawn invitations, such as `30d`.
    #[arg(long, env = "ONBOARD_INVITATION_RETENTION", default_value = "30d")]
    pub invitation_retention: NonZeroSpan,
    /// Reminders before a pending invitation's code expires, as how long before (`48h,24h`); `off` for none.
    /// Each mails a fresh code that expires when the current one would have (see the README's Reminders).
    #[arg(long, env = "ONBOARD_REMINDERS", default_value_t = Reminders::default())]
    pub reminders: Reminders,
}

/// Offsets before a code's expiry, each longer than zero, none twice;
/// `off` (or nothing) for none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reminders(Vec<NonZeroSpan>);

impl Reminders {
    pub fn get(&self) -> Vec<std::time::Duration> {
        self.0.iter().map(|s| s.get()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemindersError {
    #[error("{0:?}: {1}; write for example 48h,24h, or off")]
    Offset(String, super::duration::SpanError),
    #[error("{0} is given twice")]
    Repeated(String),
    #[error("at most {} reminders", onboard_domain::reminders::MAX_REMINDERS)]
    TooMany,
}

impl FromStr for Reminders {
    type Err = RemindersError;

    fn from_str(raw: &str) -> Result<Self, RemindersError> {
        if matches!(raw.trim(), "" | "off" | "0") {
            return Ok(Self::default());
        }
        let mut offsets: Vec<NonZeroSpan> = Vec::new();
        for word in raw.split(',').map(str::trim) {
            let span: NonZeroSpan = word.parse().map_err(|e| RemindersError::Offset(word.to_owned(), e))?;
            if offsets.iter().any(|o| o.get() == span.get()) {
                return Err(RemindersError::Repeated(word.to_owned()));
            }
            offsets.push(span);
        }
        if offsets.len() > onboard_domain::reminders::MAX_REMINDERS {
            return Err(RemindersError::TooMany);
        }
        Ok(Self(offsets))
    }
}

impl fmt::Display for Reminders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("off");
        }
        let words: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&words.join(","))
    }
}

/// The character classes a password needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordClasses {
    pub upper: bool,
    pub lower: bool,
    pub digit: bool,
    pub symbol: bool,
}

impl PasswordClasses {
    /// ZITADEL's default policy: one of each.
    pub const ALL: Self = Self { upper: true, lower: true, digit: true, symbol: true };
    pub const NONE: Self = Self { upper: false, lower: false, digit: false, symbol: false };

    fn names(self) -> impl Iterator<Item = &'static str> {
        [(self.upper, "upper"), (self.lower, "lower"), (self.digit, "digit"), (self.symbol, "symbol")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown class {0:?}; use upper, lower, digit, symbol or none")]
pub struct UnknownClass(String);

/// Comma-separated class names; `none` (or nothing) for none.
impl FromStr for PasswordClasses {
    type Err = UnknownClass;

    fn from_str(raw: &str) -> Result<Self, UnknownClass> {
        let mut classes = Self::NONE;
        for word in raw.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "upper" => classes.upper = true,
                "lower" => classes.lower = true,
                "digit" => classes.digit = true,
                "symbol" => classes.symbol = true,
                "none" => {}
                other => return Err(UnknownClass(other.to_owned())),
            }
        }
        Ok(classes)
    }
}

impl fmt::Display for PasswordClasses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.names().collect();
        if names.is_empty() { f.write_str("none") } else { f.write_str(&names.join(",")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_read_back_what_they_show_and_refuse_nonsense() {
        assert_eq!("off".parse::<Reminders>().unwrap(), Reminders::default());
        assert_eq!("".parse::<Reminders>().unwrap().to_string(), "off");
        let two = "48h, 24h".parse::<Reminders>().unwrap();
        assert_eq!(two.get(), [std::time::Duration::from_secs(48 * 3600), std::time::Duration::from_secs(24 * 3600)]);
        assert_eq!(two.to_string().parse::<Reminders>().unwrap(), two);
        assert!(matches!("24h,0s".parse::<Reminders>(), Err(RemindersError::Offset(..))));
        assert!(matches!("soon".parse::<Reminders>(), Err(RemindersError::Offset(..))));
        assert!(matches!("24h,1d".parse::<Reminders>(), Err(RemindersError::Repeated(..))));
        assert!(matches!("1h,2h,3h,4h,5h,6h,7h,8h,9h".parse::<Reminders>(), Err(RemindersError::TooMany)));
    }

    #[test]
    fn password_classes_read_back_what_they_show() {
        for classes in
            [PasswordClasses::ALL, PasswordClasses::NONE, PasswordClasses { digit: true, ..PasswordClasses::NONE }]
        {
            assert_eq!(classes.to_string().parse::<PasswordClasses>().unwrap(), classes);
        }
        assert_eq!("".parse::<PasswordClasses>().unwrap(), PasswordClasses::NONE);
        assert!("upper,emoji".parse::<PasswordClasses>().is_err());
    }
}
