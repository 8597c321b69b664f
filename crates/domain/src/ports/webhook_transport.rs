//! What carries a signed message to a customer's endpoint.

use std::time::Duration;

use async_trait::async_trait;

use crate::webhooks::{EndpointUrl, WebhookMessage, WebhookSecret};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Worth trying again later: no answer in time, a refused or dropped
    /// connection, 429 or a 5xx status (`status` when the endpoint answered).
    #[error("endpoint did not take the message ({reason}); will retry")]
    Retry { status: Option<u16>, reason: String, retry_after: Option<Duration> },
    /// Will fail again: any other status, or an endpoint the adapter refuses
    /// to reach (a private address, a redirect).
    #[error("endpoint refused the message ({reason})")]
    Permanent { status: Option<u16>, reason: String },
}

/// Posts webhook messages.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Posts `message` to `url`, signed with each of `secrets`, and returns
    /// the endpoint's (2xx) status. Errors: [`WebhookError`]; the adapter
    /// must tell what is worth retrying.
    async fn post(
        &self,
        url: &EndpointUrl,
        secrets: &[WebhookSecret],
        message: &WebhookMessage,
    ) -> Result<u16, WebhookError>;
}
