//! SendGrid's Event Webhook: signed batches of delivery events that move the
//! notification records along. The signature (ECDSA P-256 over SHA-256 of
//! timestamp || body, base64 DER) is checked on the body exactly as received;
//! a bad, missing or stale signature gets 401 and changes nothing.

use std::sync::Arc;

use base64::Engine;
use onboard_domain::usecases::{ProviderEvent, ProviderEvents};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use poem::web::{Data, Json};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::Value;
use time::OffsetDateTime;

use crate::errors::{ApiError, Code};

pub const PATH: &str = "/webhooks/sendgrid";
const SIGNATURE: &str = "x-twilio-email-event-webhook-signature";
const TIMESTAMP: &str = "x-twilio-email-event-webhook-timestamp";
/// Timestamps further than this from our clock are refused (replays).
const MAX_SKEW_SECS: i64 = 300;

/// The webhook's verification key and the use case it feeds.
#[derive(Clone)]
pub struct SendGridWebhook {
    key: VerifyingKey,
    events: ProviderEvents,
}

impl std::fmt::Debug for SendGridWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGridWebhook").finish_non_exhaustive()
    }
}

impl SendGridWebhook {
    /// `public_key`: base64 of the DER SubjectPublicKeyInfo, as SendGrid shows it.
    pub fn new(public_key: &str, events: ProviderEvents) -> Result<Self, String> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(public_key.trim())
            .map_err(|e| format!("the webhook public key is not base64: {e}"))?;
        let key = VerifyingKey::from_public_key_der(&der)
            .map_err(|e| format!("the webhook public key is not a P-256 key: {e}"))?;
        Ok(Self { key, events })
    }

    fn verify(&self, req: &Request, body: &[u8], now: OffsetDateTime) -> Result<(), &'static str> {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let (Some(signature), Some(timestamp)) = (header(SIGNATURE), header(TIMESTAMP)) else {
            return Err("signature or timestamp missing");
        };
        let at: i64 = timestamp.parse().map_err(|_| "timestamp is not a number")?;
        if (now.unix_timestamp() - at).abs() > MAX_SKEW_SECS {
            return Err("timestamp too far from now");
        }
        let der = base64::engine::general_purpose::STANDARD.decode(signature).map_err(|_| "signature is not base64")?;
        let signature = Signature::from_der(&der).map_err(|_| "signature is not DER")?;
        let mut signed = timestamp.as_bytes().to_vec();
        signed.extend_from_slice(body);
        self.key.verify(&signed, &signature).map_err(|_| "signature does not match")
    }
}

fn event_of(v: &Value) -> ProviderEvent {
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    ProviderEvent {
        event: text("event").unwrap_or_default(),
        notification_id: text("onboard_notification_id"),
        user_id: text("onboard_user_id"),
        provider_message_id: text("sg_message_id"),
        at: v["timestamp"]
            .as_i64()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .unwrap_or_else(OffsetDateTime::now_utc),
        reason: text("reason").or_else(|| text("response")),
    }
}

#[handler]
pub async fn receive(req: &Request, body: poem::Body, Data(hook): Data<&Option<Arc<SendGridWebhook>>>) -> Response {
    let Some(hook) = hook else {
        return ApiError::new(
            Code::NotFound,
            crate::errors::ids::ROUTE_NOT_FOUND,
            "The SendGrid webhook is not configured",
        )
        .into_response();
    };
    let Ok(body) = body.into_bytes_limit(crate::MAX_BODY_BYTES * 16).await else {
        return ApiError::new(Code::ResourceExhausted, crate::errors::ids::BODY_TOO_LARGE, "Webhook body is too large")
            .with_status(poem::http::StatusCode::PAYLOAD_TOO_LARGE)
            .into_response();
    };
    if let Err(why) = hook.verify(req, &body, OffsetDateTime::now_utc()) {
        tracing::warn!(why, "sendgrid webhook refused");
        return ApiError::new(
            Code::Unauthenticated,
            "ONBOARD-WEBHOOK-SIGNATURE",
            "Webhook signature is missing or invalid",
        )
        .into_response();
    }
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&body) else {
        return ApiError::new(
            Code::InvalidArgument,
            crate::errors::ids::REQUEST_INVALID,
            "Expected a JSON array of events",
        )
        .into_response();
    };
    let events: Vec<ProviderEvent> = items.iter().map(event_of).collect();
    match hook.events.apply(&events).await {
        Ok(applied) => {
            Json(serde_json::json!({"changed": applied.changed, "ignored": applied.ignored})).into_response()
        }
        Err(e) => ApiError::from(onboard_domain::usecases::GetUserError::Unavailable(e)).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;

    fn keys() -> (SigningKey, String) {
        let signing = SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
        let der = p256::PublicKey::from(signing.verifying_key()).to_public_key_der().unwrap();
        (signing, base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
    }

    fn hook(public: &str) -> SendGridWebhook {
        let log = onboard_memory_free_log();
        SendGridWebhook::new(public, ProviderEvents::new(log)).unwrap()
    }

    fn onboard_memory_free_log() -> Arc<dyn onboard_domain::ports::NotificationLog> {
        Arc::new(onboard_memory::InMemoryStore::new())
    }

    fn signed_request(signing: &SigningKey, ts: i64, body: &[u8]) -> Request {
        let mut msg = ts.to_string().into_bytes();
        msg.extend_from_slice(body);
        let sig: Signature = signing.sign(&msg);
        let sig = base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes());
        Request::builder().header(SIGNATURE, sig).header(TIMESTAMP, ts.to_string()).finish()
    }

    #[test]
    fn only_a_fresh_signature_over_these_exact_bytes_passes() {
        let (signing, public) = keys();
        let hook = hook(&public);
        let now = OffsetDateTime::now_utc();
        let body = br#"[{"event":"delivered"}]"#;
        let req = signed_request(&signing, now.unix_timestamp(), body);
        assert_eq!(hook.verify(&req, body, now), Ok(()));
        assert!(hook.verify(&req, br#"[{"event":"bounce"}]"#, now).is_err(), "another body");
        assert!(hook.verify(&req, body, now + time::Duration::minutes(6)).is_err(), "stale");
        assert!(hook.verify(&Request::builder().finish(), body, now).is_err(), "unsigned");
        let (other, _) = (SigningKey::from_bytes(&[9u8; 32].into()).unwrap(), ());
        assert!(hook.verify(&signed_request(&other, now.unix_timestamp(), body), body, now).is_err(), "another key");
    }

    #[test]
    fn keys_must_be_base64_der_p256() {
        let events = ProviderEvents::new(onboard_memory_free_log());
        assert!(SendGridWebhook::new("not base64!", events.clone()).is_err());
        assert!(SendGridWebhook::new("AAAA", events).is_err());
    }
}
