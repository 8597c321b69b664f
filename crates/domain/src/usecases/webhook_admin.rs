//! Administration of organizations' webhook endpoints: create, list,
//! disable and enable, delete, and rotate the signing secret with an overlap
//! during which both secrets sign.

use std::sync::Arc;

use time::Duration;

use super::administration::{AdminError, Administration, permit};
use crate::authz::Principal;
use crate::ids::{OrgId, UserId};
use crate::ports::{HookDeliveries, WebhookEndpoints};
use crate::webhook_events::{HookData, HookDeliveryState, WebhookDelivery};
use crate::webhooks::{EndpointUrl, EventType, WebhookEndpoint, WebhookSecret};

/// Most endpoints one organization may have: each event is posted to every
/// endpoint that wants it.
pub const MAX_ENDPOINTS_PER_ORG: usize = 20;

/// Longest overlap of a rotated secret with its successor.
pub const MAX_ROTATION_OVERLAP: Duration = Duration::days(7);

/// An endpoint just made, or just given a new secret: the only time its
/// secret is seen (`whsec_…`).
#[derive(Clone)]
pub struct NewWebhookSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

impl std::fmt::Debug for NewWebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhookSecret").field("endpoint", &self.endpoint.id).finish_non_exhaustive()
    }
}

/// The event types named in `raw` (an empty list: every type), each once, in
/// their declared order.
pub fn parse_event_types(raw: &[String]) -> Result<Vec<EventType>, AdminError> {
    let mut types = Vec::with_capacity(raw.len());
    for name in raw {
        let t = EventType::parse(name.trim()).ok_or_else(|| {
            AdminError::Invalid(format!(
                "eventTypes: {name:?} is not one of {}",
                EventType::ALL.map(EventType::as_str).join(", ")
            ))
        })?;
        types.push(t);
    }
    types.sort();
    types.dedup();
    Ok(types)
}

impl Administration {
    fn endpoints_store(&self) -> Result<&Arc<dyn WebhookEndpoints>, AdminError> {
        self.webhooks.as_ref().ok_or(AdminError::WebhooksNotServed)
    }

    async fn existing_webhook(&self, id: &str) -> Result<WebhookEndpoint, AdminError> {
        let store = self.endpoints_store()?;
        store.endpoint(id.trim()).await?.ok_or_else(|| AdminError::UnknownWebhook(id.trim().to_owned()))
    }

    /// A new endpoint of `org` receiving `event_types` (none: every type) at
    /// `url`, enabled, with a new secret (shown once, in the answer).
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn create_webhook(
        &self,
        caller: &Principal,
        org: &OrgId,
        url: &str,
        event_types: &[String],
    ) -> Result<NewWebhookSecret, AdminError> {
        permit(caller)?;
        let url = EndpointUrl::parse(url).map_err(|e| AdminError::Invalid(format!("url: {e}")))?;
        let event_types = parse_event_types(event_types)?;
        let store = self.endpoints_store()?;
        self.existing_org(org).await?;
        if store.endpoints(Some(org)).await?.len() >= MAX_ENDPOINTS_PER_ORG {
            return Err(AdminError::Invalid(format!(
                "an organization has at most {MAX_ENDPOINTS_PER_ORG} webhook endpoints"
            )));
        }
        let secret = WebhookSecret::generate();
        let endpoint = WebhookEndpoint {
            id: UserId::generate().to_string(),
            org: org.clone(),
            url,
            event_types,
            enabled: true,
            secrets: vec![(secret.clone(), None)],
            created_at: self.clock().now(),
        };
        store.put_endpoint(&endpoint).await?;
        Ok(NewWebhookSecret { endpoint, secret: secret.shown() })
    }

    /// The endpoints, of `org` only when given, by organization and age.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn webhooks(&self, caller: &Principal, org: Option<&OrgId>) -> Result<Vec<WebhookEndpoint>, AdminError> {
        permit(caller)?;
        let mut all = self.endpoints_store()?.endpoints(org).await?;
        all.retain(|e| org.is_none_or(|o| &e.org == o));
        all.sort_by(|a, b| (&a.org, a.created_at, &a.id).cmp(&(&b.org, b.created_at, &b.id)));
        Ok(all)
    }

    /// The endpoint of that id.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn webhook(&self, caller: &Principal, id: &str) -> Result<WebhookEndpoint, AdminError> {
        permit(caller)?;
        self.existing_webhook(id).await
    }

    /// Enables or disables the endpoint. A disabled endpoint is sent
    /// nothing: events meanwhile are not kept for it, and deliveries pending
    /// when it was disabled wait until it is enabled again.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn set_webhook_enabled(
        &self,
        caller: &Principal,
        id: &str,
        enabled: bool,
    ) -> Result<WebhookEndpoint, AdminError> {
        permit(caller)?;
        let mut endpoint = self.existing_webhook(id).await?;
        if endpoint.enabled != enabled {
            endpoint.enabled = enabled;
            self.endpoints_store()?.put_endpoint(&endpoint).await?;
        }
        Ok(endpoint)
    }

    /// Deletes the endpoint and its secrets.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn delete_webhook(&self, caller: &Principal, id: &str) -> Result<(), AdminError> {
        permit(caller)?;
        let store = self.endpoints_store()?;
        if store.remove_endpoint(id.trim()).await? {
            Ok(())
        } else {
            Err(AdminError::UnknownWebhook(id.trim().to_owned()))
        }
    }

    /// Gives the endpoint a new secret (shown once, in the answer). The
    /// secrets it had keep signing for `overlap` (at most
    /// [`MAX_ROTATION_OVERLAP`]; zero: they stop at once), so receivers can
    /// switch without missing a message; secrets whose overlap is over are dropped.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn rotate_webhook_secret(
        &self,
        caller: &Principal,
        id: &str,
        overlap: Duration,
    ) -> Result<NewWebhookSecret, AdminError> {
        permit(caller)?;
        if overlap.is_negative() || overlap > MAX_ROTATION_OVERLAP {
            return Err(AdminError::Invalid(format!("overlap: 0 to {} seconds", MAX_ROTATION_OVERLAP.whole_seconds())));
        }
        let mut endpoint = self.existing_webhook(id).await?;
        let now = self.clock().now();
        let until = now + overlap;
        let mut secrets = vec![];
        let secret = WebhookSecret::generate();
        secrets.push((secret.clone(), None));
        for (old, ends) in endpoint.secrets {
            // An overlap never grows by rotating again.
            let ends = ends.map_or(until, |e| e.min(until));
            if ends > now {
                secrets.push((old, Some(ends)));
            }
        }
        endpoint.secrets = secrets;
        self.endpoints_store()?.put_endpoint(&endpoint).await?;
        Ok(NewWebhookSecret { endpoint, secret: secret.shown() })
    }
}

/// Most deliveries one listing shows.
pub const MAX_DELIVERIES_LISTED: usize = 1000;

impl Administration {
    fn deliveries_store(&self) -> Result<&Arc<dyn HookDeliveries>, AdminError> {
        self.hook_deliveries.as_ref().ok_or(AdminError::WebhooksNotServed)
    }

    /// The endpoint's deliveries, newest first: up to `limit` (at most
    /// [`MAX_DELIVERIES_LISTED`]) of the newest the store keeps.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn webhook_deliveries(
        &self,
        caller: &Principal,
        endpoint: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, AdminError> {
        permit(caller)?;
        let endpoint = self.existing_webhook(endpoint).await?;
        let limit = limit.clamp(1, MAX_DELIVERIES_LISTED);
        Ok(self.deliveries_store()?.recent_deliveries(&endpoint.id, limit).await?)
    }

    /// Makes a delivered or dead-lettered delivery pending again, after the
    /// endpoint's other pending ones, with a whole retry period of its own.
    /// A pending one stays as it is.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn retry_webhook_delivery(
        &self,
        caller: &Principal,
        endpoint: &str,
        delivery: &str,
    ) -> Result<WebhookDelivery, AdminError> {
        permit(caller)?;
        let endpoint = self.existing_webhook(endpoint).await?;
        let store = self.deliveries_store()?;
        let delivery = delivery.trim();
        let mut found = store
            .delivery(&endpoint.id, delivery)
            .await?
            .ok_or_else(|| AdminError::UnknownWebhookDelivery(delivery.to_owned()))?;
        if found.state != HookDeliveryState::Pending {
            let now = self.clock().now();
            found.state = HookDeliveryState::Pending;
            found.next_attempt_at = now;
            found.created_at = now;
            store.put_delivery(&found).await?;
        }
        Ok(found)
    }

    /// Queues a `webhook.test` event for the endpoint (whatever types it
    /// wants), delivered as any other: its delivery shows what became of it.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn send_test_webhook(&self, caller: &Principal, endpoint: &str) -> Result<WebhookDelivery, AdminError> {
        permit(caller)?;
        let endpoint = self.existing_webhook(endpoint).await?;
        let store = self.deliveries_store()?;
        let now = self.clock().now();
        let event_id = format!("test.{}", UserId::generate());
        let delivery = WebhookDelivery {
            id: format!("{event_id}.{}", endpoint.id),
            endpoint_id: endpoint.id.clone(),
            event_id,
            event_type: EventType::WebhookTest,
            at: now,
            data: HookData {
                user_id: UserId::parse("0").expect("a valid id"),
                org: endpoint.org.clone(),
                login_name: "onboard.test".into(),
                email: crate::email::EmailAddress::parse("test@example.com").expect("a valid address"),
                notification_id: None,
                reason: None,
                sequence: 0,
            },
            state: HookDeliveryState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_attempt_at: None,
            last_status: None,
            last_error: None,
            created_at: now,
        };
        store.add_delivery(&delivery).await?;
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{Grant, GrantScope, Role};
    use crate::ports::{MockDirectory, MockWebhookEndpoints};
    use crate::usecases::test_support::{T0, clock_at};

    fn admin_with(directory: MockDirectory, endpoints: MockWebhookEndpoints) -> Administration {
        Administration::new(Arc::new(directory), clock_at(T0)).with_webhooks(Arc::new(endpoints))
    }

    #[tokio::test]
    async fn non_owners_are_refused_before_anything_is_read() {
        // Mocks without expectations fail the test on any call.
        let admin = admin_with(MockDirectory::new(), MockWebhookEndpoints::new());
        let org = OrgId::parse("100").unwrap();
        let owner_of_org = Principal {
            subject: "svc".into(),
            name: String::new(),
            home_org: org.clone(),
            grants: vec![Grant { scope: GrantScope::Organization(org.clone()), role: Role::OrgOwner }],
        };
        let denied = |r: Result<(), AdminError>| assert_eq!(r, Err(AdminError::PermissionDenied));
        denied(admin.create_webhook(&owner_of_org, &org, "ftp://bad", &[]).await.map(drop));
        denied(admin.webhooks(&owner_of_org, None).await.map(drop));
        denied(admin.webhook(&owner_of_org, "1").await.map(drop));
        denied(admin.set_webhook_enabled(&owner_of_org, "1", false).await.map(drop));
        denied(admin.delete_webhook(&owner_of_org, "1").await);
        denied(admin.rotate_webhook_secret(&owner_of_org, "1", Duration::hours(1)).await.map(drop));
        denied(admin.webhook_deliveries(&owner_of_org, "1", 10).await.map(drop));
        denied(admin.retry_webhook_delivery(&owner_of_org, "1", "d").await.map(drop));
        denied(admin.send_test_webhook(&owner_of_org, "1").await.map(drop));
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_anything_is_read() {
        let admin = admin_with(MockDirectory::new(), MockWebhookEndpoints::new());
        let op = Principal::local_operator();
        let org = OrgId::parse("100").unwrap();
        let invalid = |r: Result<NewWebhookSecret, AdminError>, needle: &str| {
            assert!(matches!(&r, Err(AdminError::Invalid(m)) if m.contains(needle)), "{r:?}");
        };
        invalid(admin.create_webhook(&op, &org, "ftp://x.example.com", &[]).await, "url");
        invalid(admin.create_webhook(&op, &org, "https://u:p@x.example.com", &[]).await, "url");
        invalid(
            admin.create_webhook(&op, &org, "https://x.example.com", &["invitation.exploded".into()]).await,
            "eventTypes",
        );
        invalid(admin.rotate_webhook_secret(&op, "1", Duration::days(8)).await, "overlap");
        invalid(admin.rotate_webhook_secret(&op, "1", Duration::seconds(-1)).await, "overlap");
    }

    #[tokio::test]
    async fn without_a_store_webhooks_are_not_served() {
        let admin = Administration::new(Arc::new(MockDirectory::new()), clock_at(T0));
        let op = Principal::local_operator();
        assert_eq!(admin.webhooks(&op, None).await, Err(AdminError::WebhooksNotServed));
    }

    #[test]
    fn event_types_are_parsed_each_once_in_order() {
        let raw = ["email.bounced".to_owned(), " invitation.created ".into(), "email.bounced".into()];
        assert_eq!(parse_event_types(&raw).unwrap(), vec![EventType::InvitationCreated, EventType::EmailBounced]);
        assert!(parse_event_types(&[]).unwrap().is_empty());
    }
}
