//! Settings of the emails themselves, whichever way they leave.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Email")]
pub struct MailArgs {
    /// Sender of emails, `Name <address>` or `address`.
    #[arg(long, env = "ONBOARD_MAIL_FROM", default_value = "onboard <noreply@onboard.localhost>")]
    pub mail_from: Mailbox,
    /// Folder with templates `init.<en|de>.<txt|html>` that replace the built-in ones.
    #[arg(long, env = "ONBOARD_MAIL_TEMPLATES")]
    pub mail_templates: Option<PathBuf>,
}

/// A sender: a display name and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: String,
    pub address: String,
}

#[derive(Debug, thiserror::Error)]
#[error("expected \"Name <address@example.com>\" or \"address@example.com\"")]
pub struct NotAMailbox;

/// `Name <address>`, or a bare address sent as "onboard".
impl FromStr for Mailbox {
    type Err = NotAMailbox;

    fn from_str(raw: &str) -> Result<Self, NotAMailbox> {
        let raw = raw.trim();
        let (name, address) = match raw.rsplit_once('<') {
            Some((name, rest)) => (name.trim().trim_matches('"'), rest.strip_suffix('>').unwrap_or("")),
            None => ("onboard", raw),
        };
        if !address.contains('@') || address.contains(char::is_whitespace) {
            return Err(NotAMailbox);
        }
        Ok(Self { name: name.to_owned(), address: address.to_owned() })
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <{}>", self.name, self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_is_a_named_or_bare_address() {
        let named: Mailbox = "\"IdP\" <id@example.com>".parse().unwrap();
        assert_eq!((named.name.as_str(), named.address.as_str()), ("IdP", "id@example.com"));
        assert_eq!(named.to_string().parse::<Mailbox>().unwrap(), named);
        assert_eq!("id@example.com".parse::<Mailbox>().unwrap().name, "onboard");
        for bad in ["nobody", "IdP <id@example.com", "a b@example.com"] {
            assert!(bad.parse::<Mailbox>().is_err(), "{bad}");
        }
    }
}
