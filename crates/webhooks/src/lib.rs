//! Outbound webhooks over HTTP: each message posted to its endpoint with the
//! Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), no redirect followed, the answer's body read only
//! up to a small cap, every wait bounded; endpoints that lead to loopback,
//! link-local or private addresses refused unless allowed.

mod guard;
pub mod signature;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use onboard_domain::ports::{WebhookError, WebhookTransport};
use onboard_domain::webhooks::{EndpointUrl, WebhookMessage, WebhookSecret};
use reqwest::StatusCode;

pub use guard::{GuardedResolver, PrivateAddress, is_public};

/// How much of an endpoint's answer is read (it is not used; reading it lets
/// the connection be reused).
const BODY_CAP: usize = 4 * 1024;

/// How the sender behaves.
#[derive(Debug, Clone, Copy)]
pub struct SenderSettings {
    /// Longest wait for an answer, connecting included.
    pub timeout: Duration,
    /// Allow endpoints on loopback and private networks (tests, internal hooks).
    pub allow_private: bool,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10), allow_private: false }
    }
}

/// Posts signed messages.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    http: reqwest::Client,
    settings: SenderSettings,
}

impl WebhookSender {
    pub fn new(settings: SenderSettings) -> Result<Self, String> {
        use rustls_platform_verifier::BuilderVerifierExt;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_platform_verifier())
            .map_err(|e| format!("webhooks: TLS setup: {e}"))?
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            // A redirect could lead anywhere, past every check made here.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver { allow_private: settings.allow_private })
            .user_agent(concat!("onboard-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhooks: http client: {e}"))?;
        Ok(Self { http, settings })
    }

    /// An endpoint written as an IP address is not resolved: checked here.
    fn check_literal(&self, url: &reqwest::Url) -> Result<(), WebhookError> {
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
            _ => None,
        };
        match literal {
            Some(ip) if !self.settings.allow_private && !is_public(ip) => {
                Err(WebhookError::Permanent { status: None, reason: format!("{ip} is not a public address") })
            }
            _ => Ok(()),
        }
    }
}

/// Whether the chain of `e` holds the guard's refusal.
fn refused_address(e: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(p) = c.downcast_ref::<PrivateAddress>() {
            return Some(p.to_string());
        }
        cause = c.source();
    }
    None
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let secs: u64 = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// Reads at most [`BODY_CAP`] bytes of the answer and drops the rest.
async fn drain(mut resp: reqwest::Response) {
    let mut read = 0;
    while read < BODY_CAP {
        match resp.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}

#[async_trait]
impl WebhookTransport for WebhookSender {
    #[tracing::instrument(skip_all, fields(endpoint = %url.as_str(), message = %message.id))]
    async fn post(
        &self,
        url: &EndpointUrl,
        secrets: &[WebhookSecret],
        message: &WebhookMessage,
    ) -> Result<u16, WebhookError> {
        let parsed = reqwest::Url::parse(url.as_str())
            .map_err(|e| WebhookError::Permanent { status: None, reason: format!("not a URL: {e}") })?;
        self.check_literal(&parsed)?;
        let sent = self
            .http
            .post(parsed)
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", signature::timestamp(message))
            .header("webhook-signature", signature::sign(secrets, message))
            .body(message.body.clone())
            .send()
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                if let Some(reason) = refused_address(&e) {
                    return Err(WebhookError::Permanent { status: None, reason });
                }
                let kind = if e.is_timeout() { "timed out" } else { "could not connect" };
                return Err(WebhookError::Retry { status: None, reason: format!("{kind}: {e}"), retry_after: None });
            }
        };
        let status = resp.status();
        let code = status.as_u16();
        let after = retry_after(&resp);
        drain(resp).await;
        match status {
            s if s.is_success() => Ok(code),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => {
                Err(WebhookError::Retry { status: Some(code), reason: format!("answered {code}"), retry_after: after })
            }
            s if s.is_server_error() => {
                Err(WebhookError::Retry { status: Some(code), reason: format!("answered {code}"), retry_after: after })
            }
            s if s.is_redirection() => Err(WebhookError::Permanent {
                status: Some(code),
                reason: format!("answered {code}, a redirect, which is not followed"),
            }),
            _ => Err(WebhookError::Permanent { status: Some(code), reason: format!("answered {code}") }),
        }
    }
}
