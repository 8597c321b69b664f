//! The SMTP mailer (lettre): initialization emails handed to an SMTP relay
//! (a company's own, Amazon SES, Postmark, Mailgun, Mailpit in
//! development), one SMTP transaction per email (each carries its own
//! code), several at once over a pool of connections.
//!
//! The relay's answers map onto the delivery rules every mailer follows: a
//! 4xx reply, a timeout or a dropped connection is worth trying again; a 5xx
//! reply fails the email with the reply as its reason.

mod pool;
mod settings;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use onboard_domain::ports::{InitMessage, MailError, Mailer};
use onboard_mail::{Composer, Templates};

use pool::{Connector, Pool};

pub use settings::{Security, SettingsError, SmtpSettings, SmtpUrl};

/// Hands emails to an SMTP relay.
#[derive(Clone)]
pub struct SmtpMailer {
    pool: Arc<Pool>,
    composer: Composer,
    sender: Address,
    /// How many transactions run at once in a batch: the pool's size.
    concurrency: usize,
    relay: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("relay", &self.relay).finish_non_exhaustive()
    }
}

/// Why a mailer could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the sender {0:?} is not an address")]
    Sender(String),
    #[error("the trusted certificate file is not PEM: {0}")]
    Certificate(String),
    #[error("TLS settings: {0}")]
    Tls(String),
}

impl SmtpMailer {
    /// A mailer for `settings`, sending as `from_name <from_address>`. It
    /// connects on the first email, not here.
    pub fn new(
        settings: &SmtpSettings,
        from_name: &str,
        from_address: &str,
        templates: Arc<Templates>,
    ) -> Result<Self, BuildError> {
        let sender: Address = from_address.parse().map_err(|_| BuildError::Sender(from_address.to_owned()))?;
        let url = &settings.url;
        let tls = match url.security {
            Security::Plain => None,
            _ => Some(tls_parameters(settings)?),
        };
        let connector = Connector {
            host: url.host.clone(),
            port: url.port,
            security: url.security,
            tls,
            credentials: settings.credentials().map(|(u, p)| Credentials::new(u.to_owned(), p.to_owned())),
            timeout: settings.timeout,
            hello: ClientId::default(),
        };
        Ok(Self {
            pool: Arc::new(Pool::new(connector, settings.pool_size as usize)),
            composer: Composer::new(from_name, from_address, templates),
            sender,
            concurrency: settings.pool_size as usize,
            relay: format!("{}:{}", url.host, url.port),
        })
    }

    async fn send_one(&self, message: &InitMessage) -> Result<String, MailError> {
        let message_id = self.composer.message_id();
        let bytes =
            self.composer.compose(message, &message_id).map_err(|e| MailError::Permanent(format!("render: {e}")))?;
        let recipient: Address = message
            .recipient
            .as_str()
            .parse()
            .map_err(|e| MailError::Permanent(format!("recipient {}: {e}", message.recipient)))?;
        let envelope = Envelope::new(Some(self.sender.clone()), vec![recipient])
            .map_err(|e| MailError::Permanent(format!("envelope: {e}")))?;
        let reply = self.pool.send(&envelope, &bytes).await?;
        let said = reply.message().collect::<Vec<_>>().join(" ");
        tracing::debug!(relay = %self.relay, reply = %said, message_id = %message_id, "init email handed over");
        Ok(message_id)
    }
}

fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, BuildError> {
    let mut builder = TlsParameters::builder(settings.url.host.clone());
    if let Some(pem) = &settings.trusted_ca_pem {
        let cert = Certificate::from_pem(pem).map_err(|e| BuildError::Certificate(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| BuildError::Tls(e.to_string()))
}

#[async_trait]
impl Mailer for SmtpMailer {
    #[tracing::instrument(skip_all, fields(notification = %message.notification_id))]
    async fn send_init(&self, message: &InitMessage) -> Result<String, MailError> {
        self.send_one(message).await
    }

    /// One transaction per email, as many at once as the pool holds.
    #[tracing::instrument(skip_all, fields(emails = messages.len()))]
    async fn send_batch(&self, messages: &[InitMessage]) -> Vec<Result<String, MailError>> {
        let mut results: Vec<Option<Result<String, MailError>>> = (0..messages.len()).map(|_| None).collect();
        let mut running = tokio::task::JoinSet::new();
        let mut next = 0;
        while next < messages.len() || !running.is_empty() {
            while next < messages.len() && running.len() < self.concurrency.max(1) {
                let (mailer, message, index) = (self.clone(), messages[next].clone(), next);
                running.spawn(async move { (index, mailer.send_one(&message).await) });
                next += 1;
            }
            match running.join_next().await {
                Some(Ok((index, result))) => results[index] = Some(result),
                Some(Err(e)) => tracing::error!(error = %e, "an SMTP send task failed"),
                None => break,
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(MailError::Transient("the send did not finish".into()))))
            .collect()
    }
}
