//! Where organizations, service accounts and token digests are kept.

use async_trait::async_trait;

use super::Unavailable;
use crate::accounts::{Organization, ServiceAccount, TokenRecord};
use crate::branding::Branding;
use crate::completion::CompletionUrl;
use crate::ids::OrgId;
use crate::token::TokenDigest;

/// Where organizations, service accounts and token digests are kept; what
/// administration (and the first start) writes and the [`Authorizer`](super::Authorizer) reads.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Directory: Send + Sync {
    /// Creates an organization with a new id. Errors: [`Unavailable`].
    async fn create_organization(&self, name: &str) -> Result<OrgId, Unavailable>;

    /// The organization's name, `None` when it does not exist. Errors: [`Unavailable`].
    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable>;

    /// Every organization, in no particular order. Errors: [`Unavailable`].
    async fn organizations(&self) -> Result<Vec<Organization>, Unavailable>;

    /// The organization's branding, `None` when it has none. Errors: [`Unavailable`].
    async fn branding(&self, org: &OrgId) -> Result<Option<Branding>, Unavailable>;

    /// Stores `branding` as the organization's, replacing any. Errors: [`Unavailable`].
    async fn put_branding(&self, org: &OrgId, branding: &Branding) -> Result<(), Unavailable>;

    /// Removes the organization's branding; none there is no error. Errors: [`Unavailable`].
    async fn remove_branding(&self, org: &OrgId) -> Result<(), Unavailable>;

    /// The organization's completion URL (where its users return after the
    /// initialization), `None` when it has none. Errors: [`Unavailable`].
    async fn completion_url(&self, org: &OrgId) -> Result<Option<CompletionUrl>, Unavailable>;

    /// Sets the organization's completion URL, or removes it with `None`. Errors: [`Unavailable`].
    async fn put_completion_url(&self, org: &OrgId, url: Option<CompletionUrl>) -> Result<(), Unavailable>;

    /// Stores `account` under its id, replacing any account there. Errors: [`Unavailable`].
    async fn put_account(&self, account: &ServiceAccount) -> Result<(), Unavailable>;

    /// The account of that id, `None` when there is none. Errors: [`Unavailable`].
    async fn account(&self, id: &str) -> Result<Option<ServiceAccount>, Unavailable>;

    /// Every service account, in no particular order. Errors: [`Unavailable`].
    async fn accounts(&self) -> Result<Vec<ServiceAccount>, Unavailable>;

    /// Stores a token's record under its digest, replacing any record there.
    async fn put_token(&self, digest: &TokenDigest, record: &TokenRecord) -> Result<(), Unavailable>;

    /// The record stored under `digest`, valid or not.
    async fn token(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, Unavailable>;

    /// The record stored under `digest` and the account it authenticates
    /// as (`None` when the account is gone): what every call reads, so stores
    /// that can should answer it in one round trip. Errors: [`Unavailable`].
    async fn credentials(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(TokenRecord, Option<ServiceAccount>)>, Unavailable> {
        let Some(record) = self.token(digest).await? else { return Ok(None) };
        let account = self.account(&record.account).await?;
        Ok(Some((record, account)))
    }

    /// Every token record with its digest, valid or not, in no particular
    /// order. Errors: [`Unavailable`].
    async fn tokens(&self) -> Result<Vec<(TokenDigest, TokenRecord)>, Unavailable>;

    /// True exactly once per store, for the first caller: whoever gets true
    /// makes the default organization and admin token. Errors: [`Unavailable`].
    async fn claim_first_start(&self) -> Result<bool, Unavailable>;

    /// The secret named `name` that every node of this store uses (the key
    /// of the init-code hashes, say): `candidate` if none was stored yet,
    /// else the stored one. Errors: [`Unavailable`].
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, Unavailable>;
}
