//! Settings of sending through SendGrid, and of its Event Webhook.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;

use super::duration::{Span, SpanError};
use super::error::ConfigError;
use super::number::Count;
use super::server::HttpUrl;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "SendGrid")]
pub struct SendGridArgs {
    /// SendGrid API key: emails go through SendGrid; unset: `.eml` files in the data folder.
    #[arg(long, env = "ONBOARD_SENDGRID_API_KEY", hide_env_values = true)]
    pub sendgrid_api_key: Option<Secret>,
    /// File holding the SendGrid API key (instead of the key itself).
    #[arg(long, env = "ONBOARD_SENDGRID_API_KEY_FILE")]
    pub sendgrid_api_key_file: Option<PathBuf>,
    /// SendGrid's API origin, for proxies and tests.
    #[arg(long, env = "ONBOARD_SENDGRID_BASE_URL", default_value = "https://api.sendgrid.com")]
    pub sendgrid_base_url: HttpUrl,
    /// A SendGrid dynamic template (`d-…`) to use instead of onboard's templates.
    #[arg(long, env = "ONBOARD_SENDGRID_TEMPLATE_ID")]
    pub sendgrid_template_id: Option<TemplateId>,
    /// Recipients per SendGrid call, 1 (no batching) to 1000.
    #[arg(long, env = "ONBOARD_SENDGRID_BATCH", default_value = "1000")]
    pub sendgrid_batch: Count<1, 1000>,
    /// How long batches of the outbox's partitions wait for one another to go in one SendGrid call (at most 1s; 0: each goes alone).
    #[arg(long, env = "ONBOARD_SENDGRID_GATHER", default_value = "50ms")]
    pub sendgrid_gather: GatherWindow,
    /// Verification key of SendGrid's signed Event Webhook (base64 DER, as SendGrid shows it); unset: `POST /webhooks/sendgrid` is off.
    #[arg(long, env = "ONBOARD_SENDGRID_WEBHOOK_PUBLIC_KEY")]
    pub sendgrid_webhook_public_key: Option<String>,
}

/// How emails leave.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// `.eml` files in the data folder's `mail/`.
    Files,
    SendGrid {
        api_key: Secret,
        base_url: String,
        template_id: Option<String>,
        batch: usize,
        /// How long a batch waits for others to share its call.
        gather: std::time::Duration,
    },
    Smtp(onboard_smtp::SmtpSettings),
}

impl PartialEq for MailTransport {
    /// The relay's settings compare by what they name, not their secrets.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Files, Self::Files) => true,
            (
                Self::SendGrid { api_key, base_url, template_id, batch, gather },
                Self::SendGrid { api_key: k, base_url: u, template_id: t, batch: b, gather: g },
            ) => (api_key, base_url, template_id, batch, gather) == (k, u, t, b, g),
            (Self::Smtp(a), Self::Smtp(b)) => a.url == b.url && a.timeout == b.timeout && a.pool_size == b.pool_size,
            _ => false,
        }
    }
}

impl SendGridArgs {
    /// Reads the key file, if that is where the key is.
    pub(super) fn transport(&self) -> Result<MailTransport, ConfigError> {
        let api_key = match (&self.sendgrid_api_key, &self.sendgrid_api_key_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict { one: "sendgrid_api_key", other: "sendgrid_api_key_file" });
            }
            (Some(key), None) => key.clone(),
            (None, Some(path)) => read_key(path)?,
            (None, None) => return Ok(MailTransport::Files),
        };
        Ok(MailTransport::SendGrid {
            api_key,
            base_url: self.sendgrid_base_url.to_string(),
            template_id: self.sendgrid_template_id.as_ref().map(|t| t.0.clone()),
            batch: self.sendgrid_batch.usize(),
            gather: self.sendgrid_gather.0.get(),
        })
    }

    /// `None` when unset or blank.
    pub(super) fn webhook_key(&self) -> Option<String> {
        self.sendgrid_webhook_public_key.as_deref().map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned)
    }
}

fn read_key(path: &std::path::Path) -> Result<Secret, ConfigError> {
    let unusable =
        |reason: String| ConfigError::KeyFile { setting: "sendgrid_api_key_file", path: path.to_owned(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| unusable(e.to_string()))?;
    text.parse().map_err(|_| unusable("is empty".into()))
}

/// A value that must not reach logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("is empty")]
pub struct EmptySecret;

/// Without the blanks around it (a key file usually ends with a newline).
impl FromStr for Secret {
    type Err = EmptySecret;

    fn from_str(raw: &str) -> Result<Self, EmptySecret> {
        let secret = raw.trim();
        if secret.is_empty() {
            return Err(EmptySecret);
        }
        Ok(Self(secret.to_owned()))
    }
}

/// How long a batch waits for others: emails wait that much longer, so it
/// is kept short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatherWindow(Span);

#[derive(Debug, thiserror::Error)]
pub enum GatherWindowError {
    #[error(transparent)]
    Unreadable(#[from] SpanError),
    #[error("must be at most 1s: every email waits that long")]
    TooLong,
}

impl FromStr for GatherWindow {
    type Err = GatherWindowError;

    fn from_str(raw: &str) -> Result<Self, GatherWindowError> {
        let span: Span = raw.parse()?;
        if span.get() > std::time::Duration::from_secs(1) {
            return Err(GatherWindowError::TooLong);
        }
        Ok(Self(span))
    }
}

impl fmt::Display for GatherWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of a SendGrid dynamic template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateId(String);

#[derive(Debug, thiserror::Error)]
#[error("dynamic templates start with d-")]
pub struct NotADynamicTemplate;

impl FromStr for TemplateId {
    type Err = NotADynamicTemplate;

    fn from_str(raw: &str) -> Result<Self, NotADynamicTemplate> {
        let id = raw.trim();
        if !id.starts_with("d-") {
            return Err(NotADynamicTemplate);
        }
        Ok(Self(id.to_owned()))
    }
}
