//! Organizations, service accounts and token digests on Redis: a hash each,
//! under one tag, so listing them is one command.

use std::sync::Arc;

use async_trait::async_trait;
use onboard_domain::ports::{Directory, TokenRecord, Unavailable};
use onboard_domain::token::TokenDigest;
use onboard_domain::{OrgId, Organization, ServiceAccount};
use redis::{AsyncCommands, Script};

use crate::codec::{decode, encode};
use crate::conn::RedisConnection;
use crate::keys::Keys;

#[derive(Clone)]
pub struct RedisDirectory {
    redis: Arc<RedisConnection>,
    credentials: Arc<Script>,
}

impl std::fmt::Debug for RedisDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDirectory").finish_non_exhaustive()
    }
}

impl RedisDirectory {
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        Self { redis, credentials: Arc::new(Script::new(include_str!("lua/credentials.lua"))) }
    }
}

#[async_trait]
impl Directory for RedisDirectory {
    async fn create_organization(&self, name: &str) -> Result<OrgId, Unavailable> {
        let mut conn = self.redis.conn();
        loop {
            let id = OrgId::generate();
            let made: bool = self.redis.run(conn.hset_nx(Keys::ORGANIZATIONS, id.as_str(), name)).await?;
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

    async fn put_account(&self, account: &ServiceAccount) -> Result<(), Unavailable> {
        let mut conn = self.redis.conn();
        self.redis.run(conn.hset(Keys::ACCOUNTS, &account.id, encode(account))).await
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
        let mut conn = self.redis.conn();
        let hex = digest.to_hex();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset(Keys::TOKENS, &hex, encode(record))
            .ignore()
            .hset(Keys::TOKEN_ACCOUNTS, &hex, &record.account)
            .ignore();
        self.redis.run(pipe.query_async::<()>(&mut conn)).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn credentials(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(TokenRecord, Option<ServiceAccount>)>, Unavailable> {
        let mut conn = self.redis.conn();
        let mut invocation = self.credentials.key(Keys::TOKENS);
        invocation.key(Keys::TOKEN_ACCOUNTS).key(Keys::ACCOUNTS).arg(digest.to_hex());
        let found: Option<(Vec<u8>, Option<Vec<u8>>)> = self.redis.run(invocation.invoke_async(&mut conn)).await?;
        let Some((record, account)) = found else { return Ok(None) };
        Ok(Some((decode(&record)?, account.map(|a| decode(&a)).transpose()?)))
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
        let mut conn = self.redis.conn();
        self.redis.run(conn.set_nx(Keys::FIRST_START, 1)).await
    }

    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, Unavailable> {
        let key = Keys::secret(name);
        let mut conn = self.redis.conn();
        let _: bool = self.redis.run(conn.set_nx(&key, candidate)).await?;
        let stored: Option<Vec<u8>> = self.redis.run(conn.get(&key)).await?;
        stored.ok_or_else(|| Unavailable(format!("secret {name} vanished")))
    }
}
