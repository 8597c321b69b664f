//! Organizations, service accounts and token digests on Redis: a hash each,
//! under one tag, so listing them is one command. Credentials, read on every
//! call, are kept on the node until Redis says the directory changed
//! ([`crate::credentials_cache`]).

use std::sync::Arc;

use async_trait::async_trait;
use onboard_domain::ports::{Directory, TokenRecord, Unavailable};
use onboard_domain::token::TokenDigest;
use onboard_domain::{Branding, CompletionUrl, OrgId, Organization, ServiceAccount};
use redis::AsyncCommands;

use crate::codec::{decode, encode};
use crate::conn::RedisConnection;
use crate::credentials_cache::{self, CredentialsCache};
use crate::keys::Keys;
use crate::lua::{Durability, Lua};

#[derive(Clone)]
pub struct RedisDirectory {
    redis: Arc<RedisConnection>,
    scripts: Arc<Scripts>,
    cache: Option<Arc<CredentialsCache>>,
}

struct Scripts {
    credentials: Lua,
    put_token: Lua,
}

impl std::fmt::Debug for RedisDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDirectory").finish_non_exhaustive()
    }
}

impl RedisDirectory {
    /// The directory, with credentials cached on this node and invalidated by
    /// Redis (a connection of its own tracks the directory's keys). Must be
    /// made inside a tokio runtime.
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        let cache = Arc::new(CredentialsCache::default());
        credentials_cache::track(redis.clone(), &cache);
        Self { cache: Some(cache), ..Self::uncached(redis) }
    }

    /// The directory without a cache: every call reads Redis (administration
    /// from the command line, which authenticates nobody).
    pub fn uncached(redis: Arc<RedisConnection>) -> Self {
        let scripts = Scripts {
            credentials: Lua::new(include_str!("lua/credentials.lua")),
            put_token: Lua::new(include_str!("lua/put_token.lua")),
        };
        Self { redis, scripts: Arc::new(scripts), cache: None }
    }

    /// Returns after one round trip on the tracking connection, by when every
    /// invalidation Redis sent before it has been applied; `false` while
    /// tracking is not set up (credentials are then read from Redis).
    pub async fn invalidations_applied(&self) -> bool {
        match &self.cache {
            Some(cache) => cache.caught_up().await,
            None => false,
        }
    }

    async fn read_credentials(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(TokenRecord, Option<ServiceAccount>)>, Unavailable> {
        let mut call = self.scripts.credentials.call();
        call.key(Keys::TOKENS).key(Keys::TOKEN_ACCOUNTS).key(Keys::ACCOUNTS).arg(digest.to_hex());
        let found: Option<(Vec<u8>, Option<Vec<u8>>)> = call.run(&self.redis, Durability::Local).await?;
        let Some((record, account)) = found else { return Ok(None) };
        Ok(Some((decode(&record)?, account.map(|a| decode(&a)).transpose()?)))
    }
}

#[async_trait]
impl Directory for RedisDirectory {
    async fn create_organization(&self, name: &str) -> Result<OrgId, Unavailable> {
        loop {
            let id = OrgId::generate();
            let made: bool =
                self.redis.write(redis::cmd("HSETNX").arg(Keys::ORGANIZATIONS).arg(id.as_str()).arg(name)).await?;
            if made {
                return Ok(id);
            }
        }
    }

    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable> {
        let mut conn = self.redis.conn();
        self.redis.run(conn.hget(Keys::ORGANIZATIONS, org.as_str())).await
    }

    async fn organizations(&self) -> Result<Vec<Organization>, Unavailable> {
        let mut conn = self.redis.conn();
        let all: Vec<(String, String)> = self.redis.run(conn.hgetall(Keys::ORGANIZATIONS)).await?;
        all.into_iter()
            .map(|(id, name)| {
                let id = OrgId::parse(&id).map_err(|e| Unavailable(format!("stored organization id: {e}")))?;
                Ok(Organization { id, name })
            })
            .collect()
    }

    async fn branding(&self, org: &OrgId) -> Result<Option<Branding>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Option<Vec<u8>> = self.redis.run(conn.get(Keys::branding(org))).await?;
        raw.map(|bytes| decode(&bytes)).transpose()
    }

    async fn put_branding(&self, org: &OrgId, branding: &Branding) -> Result<(), Unavailable> {
        self.redis.write(redis::cmd("SET").arg(Keys::branding(org)).arg(encode(branding))).await.map(|_: String| ())
    }

    async fn completion_url(&self, org: &OrgId) -> Result<Option<CompletionUrl>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Option<String> = self.redis.run(conn.get(Keys::completion_url(org))).await?;
        raw.map(|url| CompletionUrl::parse(&url).map_err(|e| Unavailable(format!("stored completion URL: {e}"))))
            .transpose()
    }

    async fn put_completion_url(&self, org: &OrgId, url: Option<CompletionUrl>) -> Result<(), Unavailable> {
        let key = Keys::completion_url(org);
        match url {
            Some(url) => self.redis.write(redis::cmd("SET").arg(key).arg(url.as_str())).await.map(|_: String| ()),
            None => self.redis.write(redis::cmd("DEL").arg(key)).await.map(|_: i64| ()),
        }
    }

    async fn remove_branding(&self, org: &OrgId) -> Result<(), Unavailable> {
        self.redis.write(redis::cmd("DEL").arg(Keys::branding(org))).await.map(|_: i64| ())
    }

    async fn put_account(&self, account: &ServiceAccount) -> Result<(), Unavailable> {
        self.redis
            .write(redis::cmd("HSET").arg(Keys::ACCOUNTS).arg(&account.id).arg(encode(account)))
            .await
            .map(|_: i64| ())
    }

    async fn account(&self, id: &str) -> Result<Option<ServiceAccount>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Option<Vec<u8>> = self.redis.run(conn.hget(Keys::ACCOUNTS, id)).await?;
        raw.map(|bytes| decode(&bytes)).transpose()
    }

    async fn accounts(&self) -> Result<Vec<ServiceAccount>, Unavailable> {
        let mut conn = self.redis.conn();
        let all: Vec<Vec<u8>> = self.redis.run(conn.hvals(Keys::ACCOUNTS)).await?;
        all.iter().map(|bytes| decode(bytes)).collect()
    }

    async fn put_token(&self, digest: &TokenDigest, record: &TokenRecord) -> Result<(), Unavailable> {
        let mut call = self.scripts.put_token.call();
        call.key(Keys::TOKENS).key(Keys::TOKEN_ACCOUNTS).arg(digest.to_hex()).arg(encode(record)).arg(&record.account);
        call.run::<i64>(&self.redis, Durability::Replicated).await.map(drop)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn credentials(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(TokenRecord, Option<ServiceAccount>)>, Unavailable> {
        let Some(cache) = &self.cache else { return self.read_credentials(digest).await };
        if let Some(hit) = cache.get(digest) {
            return Ok(Some(hit));
        }
        let epoch = cache.epoch();
        let found = self.read_credentials(digest).await?;
        // Unknown tokens are not kept: callers could fill the cache with them.
        if let (Some(epoch), Some(credentials)) = (epoch, &found) {
            cache.keep(epoch, digest, credentials);
        }
        Ok(found)
    }

    async fn token(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Option<Vec<u8>> = self.redis.run(conn.hget(Keys::TOKENS, digest.to_hex())).await?;
        raw.map(|bytes| decode(&bytes)).transpose()
    }

    async fn tokens(&self) -> Result<Vec<(TokenDigest, TokenRecord)>, Unavailable> {
        let mut conn = self.redis.conn();
        let all: Vec<(String, Vec<u8>)> = self.redis.run(conn.hgetall(Keys::TOKENS)).await?;
        all.into_iter()
            .map(|(hex, bytes)| {
                let digest = TokenDigest::from_hex(&hex)
                    .ok_or_else(|| Unavailable(format!("stored token digest {hex:?} is not 64 hex digits")))?;
                Ok((digest, decode(&bytes)?))
            })
            .collect()
    }

    async fn claim_first_start(&self) -> Result<bool, Unavailable> {
        self.redis
            .write(redis::cmd("SET").arg(Keys::FIRST_START).arg(1).arg("NX"))
            .await
            .map(|set: Option<String>| set.is_some())
    }

    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, Unavailable> {
        let key = Keys::secret(name);
        let _: Option<String> = self.redis.write(redis::cmd("SET").arg(&key).arg(candidate).arg("NX")).await?;
        let mut conn = self.redis.conn();
        let stored: Option<Vec<u8>> = self.redis.run(conn.get(&key)).await?;
        stored.ok_or_else(|| Unavailable(format!("secret {name} vanished")))
    }
}
