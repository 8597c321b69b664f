//! The Standard Webhooks signature: `v1,` and the base64 of
//! HMAC-SHA256(secret, `<webhook-id>.<webhook-timestamp>.<body>`), one per
//! signing secret, separated by spaces; the secret shown to customers as
//! `whsec_` and its base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use onboard_domain::webhooks::{SecretError, WebhookMessage, WebhookSecret};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// The secret as customers see it, once, when it is made.
pub fn display(secret: &WebhookSecret) -> String {
    secret.shown()
}

/// Why a shown secret could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseSecretError {
    #[error("a webhook secret starts with whsec_ and continues in base64")]
    Shape,
    #[error(transparent)]
    Secret(#[from] SecretError),
}

pub fn parse(shown: &str) -> Result<WebhookSecret, ParseSecretError> {
    let encoded = shown.trim().strip_prefix(PREFIX).ok_or(ParseSecretError::Shape)?;
    let bytes = STANDARD.decode(encoded).map_err(|_| ParseSecretError::Shape)?;
    Ok(WebhookSecret::from_bytes(bytes)?)
}

/// The `webhook-timestamp` header's value: whole seconds since 1970.
pub fn timestamp(message: &WebhookMessage) -> String {
    message.timestamp.unix_timestamp().to_string()
}

/// The `webhook-signature` header's value for `message` under `secrets`.
pub fn sign(secrets: &[WebhookSecret], message: &WebhookMessage) -> String {
    let ts = timestamp(message);
    let signatures: Vec<String> = secrets
        .iter()
        .map(|secret| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose()).expect("HMAC takes keys of any length");
            mac.update(message.id.as_bytes());
            mac.update(b".");
            mac.update(ts.as_bytes());
            mac.update(b".");
            mac.update(&message.body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect();
    signatures.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_secrets_read_back_and_bad_ones_are_refused() {
        let secret = WebhookSecret::generate();
        let shown = display(&secret);
        assert!(shown.starts_with("whsec_"));
        assert_eq!(parse(&shown).unwrap(), secret);
        assert_eq!(parse("sk_abc"), Err(ParseSecretError::Shape));
        assert_eq!(parse("whsec_!!"), Err(ParseSecretError::Shape));
        assert_eq!(parse("whsec_AAAA"), Err(ParseSecretError::Secret(SecretError::Length)));
    }

    #[test]
    fn one_signature_per_secret_each_over_id_time_and_body() {
        let message = WebhookMessage {
            id: "msg_1".into(),
            timestamp: time::macros::datetime!(2026-01-01 00:00 UTC),
            body: br#"{"type":"email.sent"}"#.to_vec(),
        };
        let (a, b) = (WebhookSecret::generate(), WebhookSecret::generate());
        let both = sign(&[a.clone(), b.clone()], &message);
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts, [sign(std::slice::from_ref(&a), &message), sign(&[b], &message)]);
        assert!(parts.iter().all(|p| p.starts_with("v1,") && p.len() == 3 + 44));
        let other = WebhookMessage { body: br#"{"type":"email.failed"}"#.to_vec(), ..message.clone() };
        assert_ne!(sign(std::slice::from_ref(&a), &other), sign(&[a], &message));
        assert_eq!(timestamp(&message), "1767225600");
    }
}
