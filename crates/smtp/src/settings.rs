//! Where and how to reach the relay: `smtp://` (STARTTLS, opportunistic by
//! default, `?tls=required` to insist, `?tls=none` for a trusted local relay
//! such as Mailpit) or `smtps://` (TLS from the first byte), with the user
//! name (and the password, unless it comes from a file) in the URL.

use std::fmt;
use std::time::Duration;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No TLS at all (`smtp://…?tls=none`).
    Plain,
    /// STARTTLS when the relay offers it (`smtp://`).
    StartTlsOpportunistic,
    /// STARTTLS, or no email (`smtp://…?tls=required`).
    StartTlsRequired,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Why a relay URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("not a URL: {0}")]
    NotAUrl(String),
    #[error("the scheme must be smtp or smtps, not {0:?}")]
    Scheme(String),
    #[error("the URL names no host")]
    NoHost,
    #[error("tls must be none, opportunistic or required, not {0:?}")]
    Tls(String),
    #[error("tls={0} does not go with smtps:// (TLS from the first byte)")]
    TlsWithSmtps(String),
    #[error("a password needs a user name")]
    PasswordWithoutUser,
}

/// A parsed relay URL. Its password never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    password: Option<String>,
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl SmtpUrl {
    /// Default ports: 587 (submission) for `smtp://`, 465 for `smtps://`.
    pub fn parse(raw: &str) -> Result<Self, SettingsError> {
        let url = url::Url::parse(raw.trim()).map_err(|e| SettingsError::NotAUrl(e.to_string()))?;
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None | Some("opportunistic")) => (Security::StartTlsOpportunistic, 587),
            ("smtp", Some("required")) => (Security::StartTlsRequired, 587),
            ("smtp", Some("none")) => (Security::Plain, 587),
            ("smtp", Some(other)) => return Err(SettingsError::Tls(other.to_owned())),
            ("smtps", None) => (Security::Implicit, 465),
            ("smtps", Some(other)) => return Err(SettingsError::TlsWithSmtps(other.to_owned())),
            (scheme, _) => return Err(SettingsError::Scheme(scheme.to_owned())),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(SettingsError::NoHost)?;
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = Some(decode(url.username())).filter(|u| !u.is_empty());
        let password = url.password().map(decode);
        if password.is_some() && user.is_none() {
            return Err(SettingsError::PasswordWithoutUser);
        }
        Ok(Self {
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: url.port().unwrap_or(default_port),
            security,
            user,
            password,
        })
    }
}

/// Everything the mailer needs to reach the relay.
#[derive(Clone)]
pub struct SmtpSettings {
    pub url: SmtpUrl,
    /// The password, read from a file, in place of the URL's.
    pub password: Option<String>,
    /// A certificate (PEM) to trust besides the system's, for a relay with a
    /// private certificate authority.
    pub trusted_ca_pem: Option<Vec<u8>>,
    /// For connecting and for each SMTP command.
    pub timeout: Duration,
    /// Connections kept open, and transactions at once.
    pub pool_size: u32,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

impl SmtpSettings {
    pub fn new(url: SmtpUrl) -> Self {
        Self { url, password: None, trusted_ca_pem: None, timeout: Duration::from_secs(10), pool_size: 8 }
    }

    /// The user and password to authenticate with, when the URL names a user.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        let user = self.url.user.as_deref()?;
        let password = self.password.as_deref().or(self.url.password.as_deref()).unwrap_or_default();
        Some((user, password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_ports_and_tls_modes() {
        let u = SmtpUrl::parse("smtp://relay.example.com").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.security), ("relay.example.com", 587, Security::StartTlsOpportunistic));
        let u = SmtpUrl::parse("smtp://relay.example.com:2525?tls=required").unwrap();
        assert_eq!((u.port, u.security), (2525, Security::StartTlsRequired));
        assert_eq!(SmtpUrl::parse("smtp://127.0.0.1:1025?tls=none").unwrap().security, Security::Plain);
        let u = SmtpUrl::parse("smtps://smtp.example.com").unwrap();
        assert_eq!((u.port, u.security), (465, Security::Implicit));
        assert_eq!(SmtpUrl::parse("http://x").unwrap_err(), SettingsError::Scheme("http".into()));
        assert_eq!(SmtpUrl::parse("smtp://x?tls=maybe").unwrap_err(), SettingsError::Tls("maybe".into()));
        assert!(matches!(SmtpUrl::parse("smtps://x?tls=required"), Err(SettingsError::TlsWithSmtps(_))));
        assert!(matches!(SmtpUrl::parse("not a url"), Err(SettingsError::NotAUrl(_))));
    }

    #[test]
    fn credentials_come_from_the_url_or_a_file_and_never_show() {
        let url = SmtpUrl::parse("smtp://ap%40p:s%3Acret@relay.example.com").unwrap();
        let mut s = SmtpSettings::new(url);
        assert_eq!(s.credentials(), Some(("ap@p", "s:cret")));
        s.password = Some("from-file".into());
        assert_eq!(s.credentials(), Some(("ap@p", "from-file")));
        assert!(!format!("{s:?}").contains("cret") && !format!("{s:?}").contains("from-file"));
        assert_eq!(SmtpSettings::new(SmtpUrl::parse("smtp://r.example.com").unwrap()).credentials(), None);
        assert_eq!(SmtpUrl::parse("smtp://:pw@r.example.com").unwrap_err(), SettingsError::PasswordWithoutUser);
    }
}
