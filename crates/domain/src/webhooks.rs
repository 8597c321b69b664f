//! Webhooks: what happened to invitations, told to the customer's own
//! endpoints, signed per the Standard Webhooks specification.

use std::fmt;

use time::OffsetDateTime;

use crate::ids::OrgId;

/// What an event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum EventType {
    InvitationCreated,
    InvitationResent,
    EmailSent,
    EmailDelivered,
    EmailBounced,
    EmailDropped,
    EmailFailed,
    InvitationOpened,
    InvitationCompleted,
    InvitationExpired,
    InvitationWithdrawn,
    /// A test event sent by hand; no endpoint subscribes to it (not in [`Self::ALL`]).
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        Self::InvitationCreated,
        Self::InvitationResent,
        Self::EmailSent,
        Self::EmailDelivered,
        Self::EmailBounced,
        Self::EmailDropped,
        Self::EmailFailed,
        Self::InvitationOpened,
        Self::InvitationCompleted,
        Self::InvitationExpired,
        Self::InvitationWithdrawn,
    ];

    /// The name receivers see (`invitation.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvitationCreated => "invitation.created",
            Self::InvitationResent => "invitation.resent",
            Self::EmailSent => "email.sent",
            Self::EmailDelivered => "email.delivered",
            Self::EmailBounced => "email.bounced",
            Self::EmailDropped => "email.dropped",
            Self::EmailFailed => "email.failed",
            Self::InvitationOpened => "invitation.opened",
            Self::InvitationCompleted => "invitation.completed",
            Self::InvitationExpired => "invitation.expired",
            Self::InvitationWithdrawn => "invitation.withdrawn",
            Self::WebhookTest => "webhook.test",
        }
    }

    /// One of [`Self::ALL`] by its name: what endpoints may subscribe to.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// An endpoint's signing secret: random bytes, shown once as `whsec_` and
/// their base64 (the form the Standard Webhooks libraries take).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookSecret(Vec<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Why a secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret must be 24 to 64 bytes")]
    Length,
}

impl WebhookSecret {
    /// A new secret of 32 random bytes.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        getrandom::getrandom(&mut bytes).expect("the operating system's randomness");
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if (24..=64).contains(&bytes.len()) { Ok(Self(bytes)) } else { Err(SecretError::Length) }
    }

    /// The key the signatures are made with.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as customers see it, once, when it is made: `whsec_` and
    /// its base64, the form the Standard Webhooks libraries take.
    pub fn shown(&self) -> String {
        use base64::Engine;
        format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be an absolute http or https URL with a host")]
    Shape,
    #[error("must not hold a user name or password")]
    Credentials,
    #[error("must be at most 2048 characters")]
    TooLong,
}

/// Where an endpoint receives its events: an absolute http(s) URL with a
/// host and no credentials. Where the host leads is checked when a message
/// is sent, by the adapter that sends it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EndpointUrl(String);

impl TryFrom<String> for EndpointUrl {
    type Error = UrlError;

    fn try_from(raw: String) -> Result<Self, UrlError> {
        Self::parse(&raw)
    }
}

impl From<EndpointUrl> for String {
    fn from(u: EndpointUrl) -> String {
        u.0
    }
}

impl EndpointUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let raw = raw.trim();
        if raw.len() > 2048 {
            return Err(UrlError::TooLong);
        }
        let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")).ok_or(UrlError::Shape)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        if host.is_empty() || raw.contains(char::is_whitespace) || raw.contains('#') {
            return Err(UrlError::Shape);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One message to one endpoint: the id and time receivers see in
/// `webhook-id` and `webhook-timestamp`, and the JSON body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookMessage {
    pub id: String,
    pub timestamp: OffsetDateTime,
    pub body: Vec<u8>,
}

/// An organization's endpoint, with the secrets that sign for it (more than
/// one while a rotation overlaps).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub org: OrgId,
    pub url: EndpointUrl,
    /// Empty: every type.
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    /// The newest first; each with the end of its overlap, `None` for the current one.
    pub secrets: Vec<(WebhookSecret, Option<OffsetDateTime>)>,
    pub created_at: OffsetDateTime,
}

impl WebhookEndpoint {
    pub fn wants(&self, event: EventType) -> bool {
        self.enabled && (self.event_types.is_empty() || self.event_types.contains(&event))
    }

    /// The secrets that sign at `now`: the current one and those still in
    /// their overlap.
    pub fn signing_secrets(&self, now: OffsetDateTime) -> Vec<&WebhookSecret> {
        self.secrets.iter().filter(|(_, until)| until.is_none_or(|u| now < u)).map(|(s, _)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_have_their_names_both_ways() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::InvitationCreated.as_str(), "invitation.created");
        assert_eq!(EventType::parse("invitation.exploded"), None);
        assert_eq!(EventType::parse("webhook.test"), None, "nobody subscribes to the test event");
    }

    #[test]
    fn endpoint_urls_are_http_with_a_host_and_no_credentials() {
        for good in ["https://hooks.example.com/onboard", "http://127.0.0.1:9000/x?y=1", "https://[::1]:8443/"] {
            assert!(EndpointUrl::parse(good).is_ok(), "{good}");
        }
        assert_eq!(EndpointUrl::parse("ftp://x"), Err(UrlError::Shape));
        assert_eq!(EndpointUrl::parse("https://"), Err(UrlError::Shape));
        assert_eq!(EndpointUrl::parse("https://u:p@x.example.com/"), Err(UrlError::Credentials));
        assert_eq!(EndpointUrl::parse("https://x.example.com/a b"), Err(UrlError::Shape));
        assert_eq!(EndpointUrl::parse(&format!("https://x.example.com/{}", "a".repeat(2048))), Err(UrlError::TooLong));
    }

    #[test]
    fn rotated_secrets_sign_until_their_overlap_ends() {
        let t = time::macros::datetime!(2026-01-01 00:00 UTC);
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::generate());
        let endpoint = WebhookEndpoint {
            id: "wh_1".into(),
            org: OrgId::parse("1").unwrap(),
            url: EndpointUrl::parse("https://x.example.com/").unwrap(),
            event_types: vec![EventType::EmailBounced],
            enabled: true,
            secrets: vec![(new.clone(), None), (old.clone(), Some(t + time::Duration::hours(1)))],
            created_at: t,
        };
        assert_eq!(endpoint.signing_secrets(t), vec![&new, &old]);
        assert_eq!(endpoint.signing_secrets(t + time::Duration::hours(2)), vec![&new]);
        assert!(endpoint.wants(EventType::EmailBounced) && !endpoint.wants(EventType::EmailSent));
        assert!(!format!("{new:?}").contains(char::is_numeric));
    }
}
