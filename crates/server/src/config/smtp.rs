//! Settings of sending through an SMTP relay.

use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use onboard_smtp::{SmtpSettings, SmtpUrl};

use super::duration::NonZeroSpan;
use super::error::ConfigError;
use super::number::Count;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "SMTP")]
pub struct SmtpArgs {
    /// SMTP relay: emails go through it. `smtp://[user[:password]@]host[:port]` (STARTTLS when offered; `?tls=required` insists, `?tls=none` for a trusted local relay) or `smtps://…` (TLS from the first byte); ports 587 and 465 by default.
    #[arg(long, env = "ONBOARD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<RelayUrl>,
    /// File holding the relay's password (instead of one in the URL).
    #[arg(long, env = "ONBOARD_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// A certificate (PEM) to trust for the relay besides the system's, for a private certificate authority.
    #[arg(long, env = "ONBOARD_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Longest wait for the relay to connect or answer a command.
    #[arg(long, env = "ONBOARD_SMTP_TIMEOUT", default_value = "10s")]
    pub smtp_timeout: NonZeroSpan,
    /// Connections kept open to the relay, and emails sent at once.
    #[arg(long, env = "ONBOARD_SMTP_POOL_SIZE", default_value = "8")]
    pub smtp_pool_size: Count<1, 100>,
}

/// A relay URL, checked when it is read; it may hold a password, so it is
/// never shown.
#[derive(Clone)]
pub struct RelayUrl(SmtpUrl);

impl std::fmt::Debug for RelayUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for RelayUrl {
    type Err = onboard_smtp::SettingsError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        SmtpUrl::parse(raw).map(Self)
    }
}

impl SmtpArgs {
    /// The relay's settings, or `None` when no relay is set; reads the
    /// password and certificate files.
    pub(super) fn settings(&self) -> Result<Option<SmtpSettings>, ConfigError> {
        let Some(url) = &self.smtp_url else {
            for (given, name) in [
                (self.smtp_password_file.is_some(), "smtp_password_file"),
                (self.smtp_ca_file.is_some(), "smtp_ca_file"),
            ] {
                if given {
                    return Err(ConfigError::Needs { setting: name, needs: "smtp_url" });
                }
            }
            return Ok(None);
        };
        let mut settings = SmtpSettings::new(url.0.clone());
        settings.timeout = self.smtp_timeout.get();
        settings.pool_size = self.smtp_pool_size.get();
        if let Some(path) = &self.smtp_password_file {
            let read = std::fs::read_to_string(path).map_err(|e| ConfigError::KeyFile {
                setting: "smtp_password_file",
                path: path.clone(),
                reason: e.to_string(),
            })?;
            // A password file usually ends with a newline that is not part of it.
            let password = read.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&read);
            settings.password = Some(password.to_owned());
        }
        if let Some(path) = &self.smtp_ca_file {
            let pem = std::fs::read(path).map_err(|e| ConfigError::KeyFile {
                setting: "smtp_ca_file",
                path: path.clone(),
                reason: e.to_string(),
            })?;
            settings.trusted_ca_pem = Some(pem);
        }
        Ok(Some(settings))
    }
}
