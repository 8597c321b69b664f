//! The mail system that initialization emails are handed to.

use async_trait::async_trait;

use crate::init_message::InitMessage;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth trying again later (timeouts, connection errors, provider errors).
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// The provider asks to wait `retry_after` before trying again.
    #[error("mail provider throttled: {reason}")]
    Throttled { reason: String, retry_after: std::time::Duration },
    /// Will fail again (rejected request, bad credentials, too large).
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}

/// Hands messages to a mail system.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Delivers `message` to its recipient, returning the provider's message
    /// id. Errors: [`MailError`]; the adapter must tell transient from
    /// permanent failures.
    async fn send_init(&self, message: &InitMessage) -> Result<String, MailError>;

    /// Delivers several messages, as few provider calls as the adapter can
    /// make of them; one result per message, in order. By default, one
    /// [`Mailer::send_init`] after the other.
    async fn send_batch(&self, messages: &[InitMessage]) -> Vec<Result<String, MailError>> {
        let mut results = Vec::with_capacity(messages.len());
        for m in messages {
            results.push(self.send_init(m).await);
        }
        results
    }
}
