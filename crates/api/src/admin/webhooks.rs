//! An organization's webhook endpoints over the administration API: create
//! (the signing secret shown only in that answer), list, read, disable and
//! enable, delete, and rotate the secret with an overlap.

use onboard_domain::usecases::{Administration, NewWebhookSecret, UserService};
use onboard_domain::webhook_events::{HookDeliveryState, WebhookDelivery};
use onboard_domain::webhooks::WebhookEndpoint;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{AdminTags, administer, filter, org_id};
use crate::call::HttpCall;
use crate::errors::{ApiError, invalid_field};
use crate::scalars::Timestamp;

/// The webhook routes, beside [`super::AdminApi`]'s.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhooksApi;

/// How long a rotated secret keeps signing when the request names no overlap.
pub const DEFAULT_OVERLAP_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminCreateWebhookRequest", rename_all = "camelCase")]
pub struct CreateWebhookRequest {
    /// The organization whose events the endpoint receives.
    pub org_id: String,
    /// An absolute http or https URL without credentials, at most 2048
    /// characters. Addresses on loopback, link-local or private networks
    /// are refused when sending unless the server allows them.
    pub url: String,
    /// The event types to send, such as `invitation.completed`; empty or
    /// absent: every type.
    #[oai(default)]
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminRotateWebhookSecretRequest", rename_all = "camelCase")]
pub struct RotateSecretRequest {
    /// How long the secrets in use keep signing beside the new one, 0 to
    /// 604800 seconds [default: 86400].
    pub overlap_seconds: Option<i64>,
}

/// A webhook endpoint, without its secrets.
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminWebhook", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct WebhookView {
    pub id: String,
    pub org_id: String,
    pub url: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
    /// While an earlier secret still signs beside the current one: when its overlap ends.
    pub previous_secret_until: Option<Timestamp>,
}

impl From<&WebhookEndpoint> for WebhookView {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.clone(),
            org_id: e.org.to_string(),
            url: e.url.as_str().to_owned(),
            event_types: e.event_types.iter().map(|t| t.as_str().to_owned()).collect(),
            enabled: e.enabled,
            created_at: Timestamp(e.created_at),
            previous_secret_until: e.secrets.iter().filter_map(|(_, until)| *until).max().map(Timestamp),
        }
    }
}

/// A webhook endpoint with its new signing secret: the only time it is shown.
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminWebhookWithSecret", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct WebhookWithSecretView {
    pub id: String,
    pub org_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub previous_secret_until: Option<Timestamp>,
    /// `whsec_` and the base64 of the key, as the Standard Webhooks libraries take it.
    pub secret: String,
}

impl WebhookView {
    /// The JSON the API answers with (the command line's `--json`).
    pub fn to_value(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(self).unwrap_or_default()
    }
}

impl WebhookWithSecretView {
    /// The JSON the API answers with (the command line's `--json`).
    pub fn to_value(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(self).unwrap_or_default()
    }
}

impl From<NewWebhookSecret> for WebhookWithSecretView {
    fn from(n: NewWebhookSecret) -> Self {
        let v = WebhookView::from(&n.endpoint);
        Self {
            id: v.id,
            org_id: v.org_id,
            url: v.url,
            event_types: v.event_types,
            enabled: v.enabled,
            created_at: v.created_at,
            previous_secret_until: v.previous_secret_until,
            secret: n.secret,
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminListWebhooksResponse", rename_all = "camelCase")]
pub struct ListWebhooksResponse {
    /// By organization, oldest first.
    pub result: Vec<WebhookView>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminDeletedWebhook", rename_all = "camelCase")]
pub struct DeletedWebhookView {
    pub id: String,
}

/// One event's delivery to the endpoint.
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminWebhookDelivery", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct DeliveryView {
    pub id: String,
    /// The `webhook-id` the endpoint receives, the same on every attempt.
    pub event_id: String,
    pub event_type: String,
    /// pending, delivered or dead_letter.
    pub status: String,
    pub attempts: u32,
    /// The endpoint's status on the last attempt, when it answered.
    pub last_response_code: Option<u16>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<Timestamp>,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<Timestamp>,
    pub user_id: String,
    pub created_at: Timestamp,
}

impl DeliveryView {
    /// The JSON the API answers with (the command line's `--json`).
    pub fn to_value(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(self).unwrap_or_default()
    }
}

impl From<&WebhookDelivery> for DeliveryView {
    fn from(d: &WebhookDelivery) -> Self {
        Self {
            id: d.id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.as_str().to_owned(),
            status: d.state.as_str().to_owned(),
            attempts: d.attempts,
            last_response_code: d.last_status,
            last_error: d.last_error.clone(),
            last_attempt_at: d.last_attempt_at.map(Timestamp),
            next_attempt_at: (d.state == HookDeliveryState::Pending).then_some(Timestamp(d.next_attempt_at)),
            user_id: d.data.user_id.to_string(),
            created_at: Timestamp(d.created_at),
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "adminListWebhookDeliveriesResponse", rename_all = "camelCase")]
pub struct ListDeliveriesResponse {
    /// Newest first.
    pub result: Vec<DeliveryView>,
}

type Admin<'a> = Data<&'a Option<Administration>>;

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Administration")]
impl WebhooksApi {
    /// Create a webhook endpoint
    ///
    /// The answer holds the endpoint's signing secret (`whsec_…`): the only
    /// time it is shown.
    #[oai(path = "/webhooks", method = "post", operation_id = "AdminService_CreateWebhook")]
    async fn create_webhook(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        body: Json<CreateWebhookRequest>,
    ) -> Result<Json<WebhookWithSecretView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = org_id("orgId", &body.0.org_id)?;
        Ok(Json(admin.create_webhook(&caller, &org, &body.0.url, &body.0.event_types).await?.into()))
    }

    /// List webhook endpoints
    #[oai(path = "/webhooks", method = "get", operation_id = "AdminService_ListWebhooks")]
    async fn list_webhooks(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// Only the endpoints of this organization.
        #[oai(name = "orgId")]
        org_id_filter: Query<Option<String>>,
    ) -> Result<Json<ListWebhooksResponse>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let org = filter(org_id_filter.0).map(|o| org_id("orgId", &o)).transpose()?;
        let result = admin.webhooks(&caller, org.as_ref()).await?.iter().map(Into::into).collect();
        Ok(Json(ListWebhooksResponse { result }))
    }

    /// Get a webhook endpoint
    #[oai(path = "/webhooks/:id", method = "get", operation_id = "AdminService_GetWebhook")]
    async fn get_webhook(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
    ) -> Result<Json<WebhookView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        Ok(Json((&admin.webhook(&caller, &id.0).await?).into()))
    }

    /// Disable a webhook endpoint
    ///
    /// It is sent nothing until enabled again.
    #[oai(path = "/webhooks/:id/_disable", method = "post", operation_id = "AdminService_DisableWebhook")]
    async fn disable_webhook(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
    ) -> Result<Json<WebhookView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        Ok(Json((&admin.set_webhook_enabled(&caller, &id.0, false).await?).into()))
    }

    /// Enable a webhook endpoint
    #[oai(path = "/webhooks/:id/_enable", method = "post", operation_id = "AdminService_EnableWebhook")]
    async fn enable_webhook(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
    ) -> Result<Json<WebhookView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        Ok(Json((&admin.set_webhook_enabled(&caller, &id.0, true).await?).into()))
    }

    /// Delete a webhook endpoint
    #[oai(path = "/webhooks/:id", method = "delete", operation_id = "AdminService_DeleteWebhook")]
    async fn delete_webhook(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
    ) -> Result<Json<DeletedWebhookView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        admin.delete_webhook(&caller, &id.0).await?;
        Ok(Json(DeletedWebhookView { id: id.0.trim().to_owned() }))
    }

    /// Rotate a webhook endpoint's signing secret
    ///
    /// The answer holds the new secret, the only time it is shown. The
    /// secrets in use keep signing beside it for the overlap (every message
    /// then carries one signature per secret), so receivers can switch
    /// without missing one.
    #[oai(path = "/webhooks/:id/_rotate_secret", method = "post", operation_id = "AdminService_RotateWebhookSecret")]
    async fn rotate_secret(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
        body: Json<RotateSecretRequest>,
    ) -> Result<Json<WebhookWithSecretView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let seconds = body.0.overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS);
        if !(0..=onboard_domain::usecases::MAX_ROTATION_OVERLAP.whole_seconds()).contains(&seconds) {
            return Err(invalid_field("overlapSeconds", "must be 0 to 604800"));
        }
        let overlap = time::Duration::seconds(seconds);
        Ok(Json(admin.rotate_webhook_secret(&caller, &id.0, overlap).await?.into()))
    }

    /// List an endpoint's deliveries
    ///
    /// Newest first, with each one's status (pending, delivered,
    /// dead_letter), attempts and the endpoint's last answer.
    #[oai(path = "/webhooks/:id/deliveries", method = "get", operation_id = "AdminService_ListWebhookDeliveries")]
    async fn list_deliveries(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
        /// At most this many, 1 to 1000 [default: 100].
        limit: Query<Option<u32>>,
    ) -> Result<Json<ListDeliveriesResponse>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        let limit = limit.0.unwrap_or(100);
        if !(1..=onboard_domain::usecases::MAX_DELIVERIES_LISTED as u32).contains(&limit) {
            return Err(invalid_field("limit", "must be 1 to 1000"));
        }
        let found = admin.webhook_deliveries(&caller, &id.0, limit as usize).await?;
        Ok(Json(ListDeliveriesResponse { result: found.iter().map(Into::into).collect() }))
    }

    /// Retry a delivery
    ///
    /// A delivered or dead-lettered delivery is sent again, after the
    /// endpoint's pending ones, with a whole retry period of its own.
    #[oai(
        path = "/webhooks/:id/deliveries/:deliveryId/_retry",
        method = "post",
        operation_id = "AdminService_RetryWebhookDelivery"
    )]
    async fn retry_delivery(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
        /// The delivery's id.
        #[oai(name = "deliveryId")]
        delivery_id: Path<String>,
    ) -> Result<Json<DeliveryView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        Ok(Json((&admin.retry_webhook_delivery(&caller, &id.0, &delivery_id.0).await?).into()))
    }

    /// Send a test event
    ///
    /// Queues a `webhook.test` event for the endpoint, whatever types it
    /// receives; its delivery (in the answer, and listed) shows what became of it.
    #[oai(path = "/webhooks/:id/_test", method = "post", operation_id = "AdminService_SendTestWebhook")]
    async fn send_test(
        &self,
        Data(users): Data<&UserService>,
        Data(admin): Admin<'_>,
        call: HttpCall,
        /// The endpoint's id.
        id: Path<String>,
    ) -> Result<Json<DeliveryView>, ApiError> {
        let (admin, caller) = administer(users, admin, &call).await?;
        Ok(Json((&admin.send_test_webhook(&caller, &id.0).await?).into()))
    }
}
