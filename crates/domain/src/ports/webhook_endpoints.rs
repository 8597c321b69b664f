//! Where each organization's webhook endpoints are kept.

use async_trait::async_trait;

use super::Unavailable;
use crate::ids::OrgId;
use crate::webhooks::WebhookEndpoint;

/// The webhook endpoints of every organization, with their signing secrets;
/// what administration writes and delivery reads.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookEndpoints: Send + Sync {
    /// Stores `endpoint` under its id, replacing any endpoint there. Errors: [`Unavailable`].
    async fn put_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), Unavailable>;

    /// The endpoint of that id, `None` when there is none. Errors: [`Unavailable`].
    async fn endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, Unavailable>;

    /// The endpoints of `org` (of every organization when `None`), in no
    /// particular order. Errors: [`Unavailable`].
    async fn endpoints<'a>(&self, org: Option<&'a OrgId>) -> Result<Vec<WebhookEndpoint>, Unavailable>;

    /// Removes the endpoint; whether there was one. Errors: [`Unavailable`].
    async fn remove_endpoint(&self, id: &str) -> Result<bool, Unavailable>;
}
