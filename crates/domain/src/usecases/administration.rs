//! Administration of organizations, service accounts, their grants and
//! personal access tokens, kept in the [`Directory`]; the first start that
//! makes the default organization and its owner.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::accounts::{Organization, ServiceAccount, TokenRecord};
use crate::authz::{Grant, GrantScope, Permission, Principal, Role};
use crate::branding::{BRANDING_TTL, Branding, BrandingDraft, Brandings, EmailPart, Logo};
use crate::completion::CompletionUrl;
use crate::ids::{OrgId, UserId};
use crate::ports::{Clock, Directory, TemplateCheck, Unavailable, WebhookEndpoints};
use crate::token::{TokenDigest, generate_token};

/// What the first start made: the default organization and an IAM_OWNER token.
#[derive(Clone)]
pub struct FirstStart {
    pub org: OrgId,
    /// Shown once; only its digest is stored.
    pub admin_token: String,
}

impl std::fmt::Debug for FirstStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstStart").field("org", &self.org).finish_non_exhaustive()
    }
}

/// A token just issued: the only time the token itself is seen.
#[derive(Clone)]
pub struct IssuedToken {
    pub token: String,
    pub record: TokenRecord,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken").field("record", &self.record).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("organization {0} does not exist")]
    UnknownOrganization(String),
    #[error("service account {0} does not exist")]
    UnknownAccount(String),
    #[error("token {0} does not exist")]
    UnknownToken(String),
    #[error("{0}")]
    Invalid(String),
    /// The caller does not hold IAM_OWNER instance-wide.
    #[error("no matching permissions found")]
    PermissionDenied,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error("webhook endpoint {0} does not exist")]
    UnknownWebhook(String),
    /// Webhooks are not served by this server (no store for their endpoints).
    #[error("webhooks are not served here")]
    WebhooksNotServed,
    #[error("webhook delivery {0} does not exist")]
    UnknownWebhookDelivery(String),
}

fn invalid(e: crate::branding::BrandingError) -> AdminError {
    AdminError::Invalid(e.to_string())
}

/// Longest organization or account name.
pub const MAX_NAME_CHARS: usize = 200;

fn check_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AdminError::Invalid(format!("name: 1 to {MAX_NAME_CHARS} printable characters")));
    }
    Ok(name.to_owned())
}

/// Administration of organizations, service accounts, grants and tokens.
///
/// Every use case takes the caller and refuses unless it holds
/// [`Permission::Administer`] instance-wide (IAM_OWNER): the HTTP API passes
/// the token's principal, the command line [`Principal::local_operator`].
/// Only [`Administration::first_start`] acts without one: it makes the first
/// owner, once per store.
#[derive(Clone)]
pub struct Administration {
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
    brandings: Brandings,
    templates: Option<Arc<dyn TemplateCheck>>,
    pub(super) webhooks: Option<Arc<dyn WebhookEndpoints>>,
    pub(super) hook_deliveries: Option<Arc<dyn crate::ports::HookDeliveries>>,
}

impl std::fmt::Debug for Administration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Administration").finish_non_exhaustive()
    }
}

/// Checked before anything else, so a caller without the permission learns
/// nothing, not even whether its input was valid.
pub(super) fn permit(caller: &Principal) -> Result<(), AdminError> {
    if caller.may_everywhere(Permission::Administer) { Ok(()) } else { Err(AdminError::PermissionDenied) }
}

impl Administration {
    pub fn new(directory: Arc<dyn Directory>, clock: Arc<dyn Clock>) -> Self {
        let brandings = Brandings::new(directory.clone(), clock.clone(), BRANDING_TTL);
        Self { directory, clock, brandings, templates: None, webhooks: None, hook_deliveries: None }
    }

    /// Accepts email template overrides that `check` finds working. Without
    /// it, branding that holds email templates is refused.
    pub fn with_template_check(mut self, check: Arc<dyn TemplateCheck>) -> Self {
        self.templates = Some(check);
        self
    }

    /// Administers webhook endpoints kept in `endpoints`. Without it, every
    /// webhook use case answers [`AdminError::WebhooksNotServed`].
    pub fn with_webhooks(mut self, endpoints: Arc<dyn WebhookEndpoints>) -> Self {
        self.webhooks = Some(endpoints);
        self
    }

    /// Shows and retries deliveries kept in `deliveries`, and sends test
    /// events through it. Without it those use cases answer
    /// [`AdminError::WebhooksNotServed`].
    pub fn with_hook_deliveries(mut self, deliveries: Arc<dyn crate::ports::HookDeliveries>) -> Self {
        self.hook_deliveries = Some(deliveries);
        self
    }

    pub(super) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The cache of branding this administration invalidates when it changes
    /// one: what the page and the dispatcher of this node should read through.
    pub fn brandings(&self) -> Brandings {
        self.brandings.clone()
    }

    /// The organization's branding, as stored (not cached).
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn branding(&self, caller: &Principal, org: &OrgId) -> Result<Option<Branding>, AdminError> {
        permit(caller)?;
        self.existing_org(org).await?;
        Ok(self.directory.branding(org).await?)
    }

    /// Sets everything of the organization's branding but its logo (which
    /// stays as it is) to `draft`: what the draft leaves out goes back to
    /// onboard's default.
    #[tracing::instrument(skip(self, caller, draft), fields(caller = %caller.subject, org = %org))]
    pub async fn set_branding(
        &self,
        caller: &Principal,
        org: &OrgId,
        draft: BrandingDraft,
    ) -> Result<Branding, AdminError> {
        permit(caller)?;
        let templates = self.templates.clone();
        let check = move |lang: &str, part: EmailPart, source: &str| match &templates {
            Some(t) => t.check(lang, part, source),
            None => Err("email templates are not accepted by this server".to_owned()),
        };
        // Checked before anything is read, so a refusal names the input.
        let checked = draft.clone().into_branding(None, self.clock.now(), &check).map_err(invalid)?;
        self.existing_org(org).await?;
        let logo = self.directory.branding(org).await?.and_then(|b| b.logo);
        let branding = Branding { logo, ..checked };
        self.store_branding(org, &branding).await?;
        Ok(branding)
    }

    /// Sets the organization's logo (PNG, JPEG or SVG, recognised by its
    /// bytes), keeping the rest of its branding.
    #[tracing::instrument(skip(self, caller, bytes), fields(caller = %caller.subject, org = %org, bytes = bytes.len()))]
    pub async fn set_logo(&self, caller: &Principal, org: &OrgId, bytes: Vec<u8>) -> Result<Branding, AdminError> {
        permit(caller)?;
        let logo = Logo::parse(bytes).map_err(|e| invalid(e.into()))?;
        self.existing_org(org).await?;
        let now = self.clock.now();
        let current = match self.directory.branding(org).await? {
            Some(b) => b,
            None => BrandingDraft::default()
                .into_branding(None, now, &|_: &str, _: EmailPart, _: &str| Ok(()))
                .map_err(invalid)?,
        };
        let branding = Branding { logo: Some(logo), updated_at: now, ..current };
        self.store_branding(org, &branding).await?;
        Ok(branding)
    }

    /// Removes the organization's logo; the rest of its branding stays.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn remove_logo(&self, caller: &Principal, org: &OrgId) -> Result<Option<Branding>, AdminError> {
        permit(caller)?;
        self.existing_org(org).await?;
        let Some(current) = self.directory.branding(org).await? else { return Ok(None) };
        let branding = Branding { logo: None, updated_at: self.clock.now(), ..current };
        self.store_branding(org, &branding).await?;
        Ok(Some(branding))
    }

    /// Removes the organization's branding: its emails and page look as
    /// onboard's own again. Removing none is harmless.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn remove_branding(&self, caller: &Principal, org: &OrgId) -> Result<(), AdminError> {
        permit(caller)?;
        self.existing_org(org).await?;
        self.directory.remove_branding(org).await?;
        self.brandings.invalidate(org);
        Ok(())
    }

    /// The organization's completion URL: where its users return after the
    /// initialization. `None` when it has none.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn completion_url(&self, caller: &Principal, org: &OrgId) -> Result<Option<CompletionUrl>, AdminError> {
        permit(caller)?;
        self.existing_org(org).await?;
        Ok(self.directory.completion_url(org).await?)
    }

    /// Sets the organization's completion URL (checked: an absolute http(s)
    /// URL), or removes it with `None`. Nodes read it when the page is done.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn set_completion_url(
        &self,
        caller: &Principal,
        org: &OrgId,
        url: Option<&str>,
    ) -> Result<Option<CompletionUrl>, AdminError> {
        permit(caller)?;
        let url = url.map(CompletionUrl::parse).transpose().map_err(AdminError::Invalid)?;
        self.existing_org(org).await?;
        self.directory.put_completion_url(org, url.clone()).await?;
        Ok(url)
    }

    async fn store_branding(&self, org: &OrgId, branding: &Branding) -> Result<(), AdminError> {
        self.directory.put_branding(org, branding).await?;
        self.brandings.invalidate(org);
        Ok(())
    }

    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn create_organization(&self, caller: &Principal, name: &str) -> Result<OrgId, AdminError> {
        permit(caller)?;
        let name = check_name(name)?;
        Ok(self.directory.create_organization(&name).await?)
    }

    /// Every organization, by name.
    #[tracing::instrument(skip_all, fields(caller = %caller.subject))]
    pub async fn organizations(&self, caller: &Principal) -> Result<Vec<Organization>, AdminError> {
        permit(caller)?;
        let mut orgs = self.directory.organizations().await?;
        orgs.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(orgs)
    }

    pub(super) async fn existing_org(&self, org: &OrgId) -> Result<(), AdminError> {
        match self.directory.organization_name(org).await? {
            Some(_) => Ok(()),
            None => Err(AdminError::UnknownOrganization(org.to_string())),
        }
    }

    async fn existing_account(&self, id: &str) -> Result<ServiceAccount, AdminError> {
        self.directory.account(id).await?.ok_or_else(|| AdminError::UnknownAccount(id.to_owned()))
    }

    /// A new service account of `org`, without grants.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn create_service_account(
        &self,
        caller: &Principal,
        org: &OrgId,
        name: &str,
    ) -> Result<ServiceAccount, AdminError> {
        permit(caller)?;
        self.put_new_account(org, name, Vec::new()).await
    }

    /// Stores a new account of `org` named `name` holding `grants`, as given.
    async fn put_new_account(&self, org: &OrgId, name: &str, grants: Vec<Grant>) -> Result<ServiceAccount, AdminError> {
        let name = check_name(name)?;
        self.existing_org(org).await?;
        let account = ServiceAccount {
            id: UserId::generate().to_string(),
            org: org.clone(),
            name,
            grants,
            created_at: self.clock.now(),
        };
        self.directory.put_account(&account).await?;
        Ok(account)
    }

    /// Service accounts, by organization and name; of `org` only when given.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn service_accounts(
        &self,
        caller: &Principal,
        org: Option<&OrgId>,
    ) -> Result<Vec<ServiceAccount>, AdminError> {
        permit(caller)?;
        let mut accounts = self.directory.accounts().await?;
        accounts.retain(|a| org.is_none_or(|o| &a.org == o));
        accounts.sort_by(|a, b| (&a.org, &a.name, &a.id).cmp(&(&b.org, &b.name, &b.id)));
        Ok(accounts)
    }

    /// Grants `role` to the account: instance roles (IAM_*) instance-wide,
    /// organization roles (ORG_*) in `org`. Granting a held role changes nothing.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn grant(
        &self,
        caller: &Principal,
        account: &str,
        role: Role,
        org: Option<&OrgId>,
    ) -> Result<ServiceAccount, AdminError> {
        permit(caller)?;
        let scope = self.scope_of(role, org).await?;
        let mut account = self.existing_account(account).await?;
        let grant = Grant { scope, role };
        if !account.grants.contains(&grant) {
            account.grants.push(grant);
            self.directory.put_account(&account).await?;
        }
        Ok(account)
    }

    /// Takes `role` (in `org`, for organization roles) from the account.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn revoke_grant(
        &self,
        caller: &Principal,
        account: &str,
        role: Role,
        org: Option<&OrgId>,
    ) -> Result<ServiceAccount, AdminError> {
        permit(caller)?;
        let scope = self.scope_of(role, org).await?;
        let mut account = self.existing_account(account).await?;
        let before = account.grants.len();
        account.grants.retain(|g| !(g.role == role && g.scope == scope));
        if account.grants.len() != before {
            self.directory.put_account(&account).await?;
        }
        Ok(account)
    }

    async fn scope_of(&self, role: Role, org: Option<&OrgId>) -> Result<GrantScope, AdminError> {
        match (role.is_instance_role(), org) {
            (true, None) => Ok(GrantScope::Instance),
            (true, Some(_)) => {
                Err(AdminError::Invalid(format!("{} holds instance-wide; name no organization", role.as_str())))
            }
            (false, Some(org)) => {
                self.existing_org(org).await?;
                Ok(GrantScope::Organization(org.clone()))
            }
            (false, None) => Err(AdminError::Invalid(format!("{} holds in an organization; name one", role.as_str()))),
        }
    }

    /// Issues a token for the account; the token is returned once and only
    /// its digest is stored. `expires_at` must lie in the future.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn issue_pat(
        &self,
        caller: &Principal,
        account: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken, AdminError> {
        permit(caller)?;
        let now = self.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(AdminError::Invalid("expiration: must lie in the future".into()));
        }
        let account = self.existing_account(account).await?;
        self.mint(account.id, expires_at).await
    }

    /// A new token for `account`, stored as its digest; the expiry unchecked.
    async fn mint(&self, account: String, expires_at: Option<OffsetDateTime>) -> Result<IssuedToken, AdminError> {
        let (token, digest) = generate_token();
        let record =
            TokenRecord { id: token_id(&digest), account, created_at: self.clock.now(), expires_at, revoked: false };
        self.directory.put_token(&digest, &record).await?;
        Ok(IssuedToken { token, record })
    }

    /// Tokens (never the tokens themselves), of `account` only when given,
    /// oldest first.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn tokens(&self, caller: &Principal, account: Option<&str>) -> Result<Vec<TokenRecord>, AdminError> {
        permit(caller)?;
        let mut tokens: Vec<TokenRecord> = self
            .directory
            .tokens()
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .filter(|r| account.is_none_or(|a| r.account == a))
            .collect();
        tokens.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(tokens)
    }

    /// Revokes the token whose public id is `id`; revoking twice is harmless.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject))]
    pub async fn revoke_pat(&self, caller: &Principal, id: &str) -> Result<TokenRecord, AdminError> {
        permit(caller)?;
        let found = self.directory.tokens().await?.into_iter().find(|(_, r)| r.id == id);
        let Some((digest, mut record)) = found else { return Err(AdminError::UnknownToken(id.to_owned())) };
        if !record.revoked {
            record.revoked = true;
            self.directory.put_token(&digest, &record).await?;
        }
        Ok(record)
    }

    /// Revokes `token` itself; returns whether it was known.
    #[tracing::instrument(skip_all, fields(caller = %caller.subject))]
    pub async fn revoke_token(&self, caller: &Principal, token: &str) -> Result<bool, AdminError> {
        permit(caller)?;
        let digest = TokenDigest::of(token);
        let Some(mut record) = self.directory.token(&digest).await? else { return Ok(false) };
        record.revoked = true;
        self.directory.put_token(&digest, &record).await?;
        Ok(true)
    }

    /// A service account named `name` in `org` holding `grants`, and a token
    /// for it: one step for tests and scripts. The expiry is not checked, so
    /// tests can issue tokens that have already expired.
    #[tracing::instrument(skip(self, caller), fields(caller = %caller.subject, org = %org))]
    pub async fn issue_token(
        &self,
        caller: &Principal,
        name: &str,
        org: &OrgId,
        grants: Vec<Grant>,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<String, AdminError> {
        permit(caller)?;
        let account = self.put_new_account(org, name, grants).await?;
        Ok(self.mint(account.id, expires_at).await?.token)
    }

    /// On a store nobody started before: the default organization, an
    /// `admin` service account holding IAM_OWNER and its token. `None` on
    /// every later start (of any node).
    #[tracing::instrument(skip(self))]
    pub async fn first_start(&self) -> Result<Option<FirstStart>, AdminError> {
        if !self.directory.claim_first_start().await? {
            return Ok(None);
        }
        let org = self.directory.create_organization("Default").await?;
        let owner = vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }];
        let account = self.put_new_account(&org, "admin", owner).await?;
        let admin_token = self.mint(account.id, None).await?.token;
        Ok(Some(FirstStart { org, admin_token }))
    }
}

/// A token's public id: the first 16 hex digits of its digest's own digest,
/// so it reveals nothing of the token and cannot be used to look it up.
fn token_id(digest: &TokenDigest) -> String {
    use sha2::{Digest, Sha256};
    let again = Sha256::digest(digest.0);
    crate::token::hex(&again[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockDirectory;
    use crate::ports::{AuthenticateError, Authorizer};
    use crate::usecases::test_support::{T0, clock_at, directory_setup};

    #[tokio::test]
    async fn accounts_grants_and_tokens_are_administered() {
        let (admin, auth) = directory_setup();
        let op = Principal::local_operator();
        let acme = admin.create_organization(&op, " Acme ").await.unwrap();
        let other = admin.create_organization(&op, "Other").await.unwrap();
        assert_eq!(
            admin.organizations(&op).await.unwrap().iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            ["Acme", "Other"]
        );
        assert!(matches!(admin.create_organization(&op, "  ").await, Err(AdminError::Invalid(_))));

        let bot = admin.create_service_account(&op, &acme, "importer").await.unwrap();
        let unknown = OrgId::parse("nope").unwrap();
        assert_eq!(
            admin.create_service_account(&op, &unknown, "x").await,
            Err(AdminError::UnknownOrganization("nope".into()))
        );
        let issued = admin.issue_pat(&op, &bot.id, Some(T0 + time::Duration::days(30))).await.unwrap();
        assert!(!format!("{issued:?}").contains(&issued.token));
        let principal = auth.authenticate(&issued.token).await.unwrap();
        assert_eq!((principal.subject.as_str(), &principal.home_org), (bot.id.as_str(), &acme));
        assert!(principal.grants.is_empty());

        // Grants reach tokens issued before them.
        admin.grant(&op, &bot.id, Role::OrgUserManager, Some(&other)).await.unwrap();
        admin.grant(&op, &bot.id, Role::OrgUserManager, Some(&other)).await.unwrap();
        admin.grant(&op, &bot.id, Role::IamOwnerViewer, None).await.unwrap();
        let principal = auth.authenticate(&issued.token).await.unwrap();
        assert_eq!(
            principal.grants,
            vec![
                Grant { scope: GrantScope::Organization(other.clone()), role: Role::OrgUserManager },
                Grant { scope: GrantScope::Instance, role: Role::IamOwnerViewer },
            ]
        );
        assert!(matches!(admin.grant(&op, &bot.id, Role::IamOwner, Some(&acme)).await, Err(AdminError::Invalid(_))));
        assert!(matches!(admin.grant(&op, &bot.id, Role::OrgOwner, None).await, Err(AdminError::Invalid(_))));
        assert!(matches!(
            admin.grant(&op, &bot.id, Role::OrgOwner, Some(&unknown)).await,
            Err(AdminError::UnknownOrganization(_))
        ));
        assert!(matches!(admin.grant(&op, "ghost", Role::IamOwner, None).await, Err(AdminError::UnknownAccount(_))));
        let after = admin.revoke_grant(&op, &bot.id, Role::IamOwnerViewer, None).await.unwrap();
        assert_eq!(after.grants.len(), 1);

        assert!(matches!(admin.issue_pat(&op, &bot.id, Some(T0)).await, Err(AdminError::Invalid(_))));
        let listed = admin.tokens(&op, Some(&bot.id)).await.unwrap();
        assert_eq!(listed, vec![issued.record.clone()]);
        assert_eq!(admin.service_accounts(&op, Some(&acme)).await.unwrap().len(), 1);
        assert!(admin.service_accounts(&op, Some(&other)).await.unwrap().is_empty());

        let revoked = admin.revoke_pat(&op, &issued.record.id).await.unwrap();
        assert!(revoked.revoked);
        assert!(admin.revoke_pat(&op, &issued.record.id).await.unwrap().revoked, "twice is harmless");
        assert_eq!(auth.authenticate(&issued.token).await, Err(AuthenticateError::InvalidToken));
        assert!(matches!(admin.revoke_pat(&op, "0000").await, Err(AdminError::UnknownToken(_))));
    }

    #[tokio::test]
    async fn the_first_start_happens_once() {
        let (admin, auth) = directory_setup();
        let first = admin.first_start().await.unwrap().unwrap();
        let principal = auth.authenticate(&first.admin_token).await.unwrap();
        assert_eq!(principal.home_org, first.org);
        assert_eq!(principal.grants, vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }]);
        assert!(admin.first_start().await.unwrap().is_none());
        assert!(!format!("{first:?}").contains(&first.admin_token));
    }

    #[tokio::test]
    async fn the_first_owner_administers() {
        let (admin, auth) = directory_setup();
        let first = admin.first_start().await.unwrap().unwrap();
        let owner = auth.authenticate(&first.admin_token).await.unwrap();
        assert!(admin.create_organization(&owner, "Acme").await.is_ok());
        assert_eq!(admin.organizations(&owner).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn callers_without_iam_owner_everywhere_are_refused_before_anything_is_read() {
        // A directory without expectations fails the test on any call.
        let admin = Administration::new(Arc::new(MockDirectory::new()), clock_at(T0));
        let org = OrgId::parse("100").unwrap();
        let holding = |scope, role| Principal {
            subject: "svc".into(),
            name: String::new(),
            home_org: org.clone(),
            grants: vec![Grant { scope, role }],
        };
        let callers = [
            Principal { grants: vec![], ..Principal::local_operator() },
            holding(GrantScope::Instance, Role::IamOwnerViewer),
            holding(GrantScope::Instance, Role::IamOrgManager),
            holding(GrantScope::Organization(org.clone()), Role::OrgOwner),
        ];
        fn refused<T>(answer: Result<T, AdminError>) -> bool {
            matches!(answer, Err(AdminError::PermissionDenied))
        }
        for c in &callers {
            assert!(refused(admin.create_organization(c, "Acme").await), "{c:?}");
            assert!(refused(admin.organizations(c).await), "{c:?}");
            assert!(refused(admin.create_service_account(c, &org, "bot").await), "{c:?}");
            assert!(refused(admin.service_accounts(c, None).await), "{c:?}");
            assert!(refused(admin.grant(c, "1", Role::IamOwner, None).await), "{c:?}");
            assert!(refused(admin.revoke_grant(c, "1", Role::OrgOwner, Some(&org)).await), "{c:?}");
            assert!(refused(admin.issue_pat(c, "1", None).await), "{c:?}");
            assert!(refused(admin.tokens(c, None).await), "{c:?}");
            assert!(refused(admin.revoke_pat(c, "0000").await), "{c:?}");
            assert!(refused(admin.revoke_token(c, "onb_x").await), "{c:?}");
            assert!(refused(admin.issue_token(c, "bot", &org, vec![], None).await), "{c:?}");
        }
    }

    #[tokio::test]
    async fn branding_is_administered_by_iam_owners_only_and_checked_before_anything_is_read() {
        // A directory without expectations fails the test on any call.
        let admin = Administration::new(Arc::new(MockDirectory::new()), clock_at(T0));
        let org = OrgId::parse("100").unwrap();
        let viewer = Principal {
            subject: "svc".into(),
            name: String::new(),
            home_org: org.clone(),
            grants: vec![Grant { scope: GrantScope::Organization(org.clone()), role: Role::OrgOwner }],
        };
        let draft = crate::branding::BrandingDraft::default;
        assert_eq!(admin.branding(&viewer, &org).await, Err(AdminError::PermissionDenied));
        assert_eq!(admin.set_branding(&viewer, &org, draft()).await, Err(AdminError::PermissionDenied));
        assert_eq!(admin.set_logo(&viewer, &org, vec![1]).await, Err(AdminError::PermissionDenied));
        assert_eq!(admin.remove_logo(&viewer, &org).await, Err(AdminError::PermissionDenied));
        assert_eq!(admin.remove_branding(&viewer, &org).await, Err(AdminError::PermissionDenied));
        let op = Principal::local_operator();
        let low = crate::branding::BrandingDraft {
            primary_color: Some("#777777".into()),
            background_color: Some("#ffffff".into()),
            ..draft()
        };
        assert!(
            matches!(admin.set_branding(&op, &org, low).await, Err(AdminError::Invalid(m)) if m.contains("4.47:1"))
        );
        assert!(matches!(admin.set_logo(&op, &org, b"GIF89a".to_vec()).await, Err(AdminError::Invalid(_))));
        // Without a template check, email templates are refused, not taken unchecked.
        let with_template = crate::branding::BrandingDraft {
            templates: vec![crate::branding::TemplatesDraft {
                language: "en".into(),
                text: Some("{{ link }}".into()),
                ..Default::default()
            }],
            ..draft()
        };
        let refused = admin.set_branding(&op, &org, with_template).await;
        assert!(matches!(&refused, Err(AdminError::Invalid(m)) if m.contains("not accepted")), "{refused:?}");
    }
}
