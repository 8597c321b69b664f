//! Organizations, service accounts and token digests, in process memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use onboard_domain::ports::{Directory, TokenRecord, Unavailable};
use onboard_domain::token::TokenDigest;
use onboard_domain::{Branding, CompletionUrl, OrgId, Organization, ServiceAccount};

#[derive(Default)]
struct State {
    organizations: HashMap<OrgId, String>,
    brandings: HashMap<OrgId, Branding>,
    completion_urls: HashMap<OrgId, CompletionUrl>,
    accounts: HashMap<String, ServiceAccount>,
    tokens: HashMap<TokenDigest, TokenRecord>,
    secrets: HashMap<String, Vec<u8>>,
}

/// The embedded directory. Tokens are kept only as SHA-256 digests.
#[derive(Default)]
pub struct InMemoryDirectory {
    state: Mutex<State>,
    started: AtomicBool,
}

impl std::fmt::Debug for InMemoryDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("InMemoryDirectory")
            .field("organizations", &state.organizations.len())
            .field("accounts", &state.accounts.len())
            .field("tokens", &state.tokens.len())
            .finish()
    }
}

impl InMemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Directory for InMemoryDirectory {
    async fn create_organization(&self, name: &str) -> Result<OrgId, Unavailable> {
        let id = OrgId::generate();
        self.lock().organizations.insert(id.clone(), name.to_owned());
        Ok(id)
    }

    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable> {
        Ok(self.lock().organizations.get(org).cloned())
    }

    async fn organizations(&self) -> Result<Vec<Organization>, Unavailable> {
        let state = self.lock();
        Ok(state.organizations.iter().map(|(id, name)| Organization { id: id.clone(), name: name.clone() }).collect())
    }

    async fn branding(&self, org: &OrgId) -> Result<Option<Branding>, Unavailable> {
        Ok(self.lock().brandings.get(org).cloned())
    }

    async fn put_branding(&self, org: &OrgId, branding: &Branding) -> Result<(), Unavailable> {
        self.lock().brandings.insert(org.clone(), branding.clone());
        Ok(())
    }

    async fn completion_url(&self, org: &OrgId) -> Result<Option<CompletionUrl>, Unavailable> {
        Ok(self.lock().completion_urls.get(org).cloned())
    }

    async fn put_completion_url(&self, org: &OrgId, url: Option<CompletionUrl>) -> Result<(), Unavailable> {
        let mut state = self.lock();
        match url {
            Some(url) => state.completion_urls.insert(org.clone(), url),
            None => state.completion_urls.remove(org),
        };
        Ok(())
    }

    async fn remove_branding(&self, org: &OrgId) -> Result<(), Unavailable> {
        self.lock().brandings.remove(org);
        Ok(())
    }

    async fn put_account(&self, account: &ServiceAccount) -> Result<(), Unavailable> {
        self.lock().accounts.insert(account.id.clone(), account.clone());
        Ok(())
    }

    async fn account(&self, id: &str) -> Result<Option<ServiceAccount>, Unavailable> {
        Ok(self.lock().accounts.get(id).cloned())
    }

    async fn accounts(&self) -> Result<Vec<ServiceAccount>, Unavailable> {
        Ok(self.lock().accounts.values().cloned().collect())
    }

    async fn put_token(&self, digest: &TokenDigest, record: &TokenRecord) -> Result<(), Unavailable> {
        self.lock().tokens.insert(digest.clone(), record.clone());
        Ok(())
    }

    async fn token(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, Unavailable> {
        Ok(self.lock().tokens.get(digest).cloned())
    }

    async fn tokens(&self) -> Result<Vec<(TokenDigest, TokenRecord)>, Unavailable> {
        Ok(self.lock().tokens.iter().map(|(d, r)| (d.clone(), r.clone())).collect())
    }

    async fn credentials(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(TokenRecord, Option<ServiceAccount>)>, Unavailable> {
        let state = self.lock();
        Ok(state.tokens.get(digest).map(|record| (record.clone(), state.accounts.get(&record.account).cloned())))
    }

    async fn claim_first_start(&self) -> Result<bool, Unavailable> {
        Ok(!self.started.swap(true, Ordering::SeqCst))
    }

    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, Unavailable> {
        Ok(self.lock().secrets.entry(name.to_owned()).or_insert_with(|| candidate.to_vec()).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn behaves_as_every_directory_must() {
        onboard_domain::testkit::check_directory(&InMemoryDirectory::new()).await;
    }

    #[tokio::test]
    async fn administers_branding_as_every_directory_must() {
        onboard_domain::testkit::check_branding_administration(std::sync::Arc::new(InMemoryDirectory::new())).await;
    }
}
