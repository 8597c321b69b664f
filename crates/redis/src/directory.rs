//! Organizations and token digests on Redis: one key each.

use std::sync::Arc;

use async_trait::async_trait;
use onboard_domain::OrgId;
use onboard_domain::ports::{Directory, TokenRecord, Unavailable};
use onboard_domain::token::TokenDigest;
use redis::AsyncCommands;

use crate::codec::{decode, encode};
use crate::conn::RedisConnection;
use crate::keys::Keys;

#[derive(Debug, Clone)]
pub struct RedisDirectory {
    redis: Arc<RedisConnection>,
}

impl RedisDirectory {
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl Directory for RedisDirectory {
    async fn create_organization(&self, name: &str) -> Result<OrgId, Unavailable> {
        let mut conn = self.redis.conn();
        loop {
            let id = OrgId::generate();
            let made: bool = self.redis.run(conn.set_nx(Keys::organization(&id), name)).await?;
            if made {
                return Ok(id);
            }
        }
    }

    async fn organization_name(&self, org: &OrgId) -> Result<Option<String>, Unavailable> {
        let mut conn = self.redis.conn();
        self.redis.run(conn.get(Keys::organization(org))).await
    }

    async fn put_token(&self, digest: &TokenDigest, record: &TokenRecord) -> Result<(), Unavailable> {
        let mut conn = self.redis.conn();
        self.redis.run(conn.set(Keys::token(digest), encode(record))).await
    }

    async fn token(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Option<Vec<u8>> = self.redis.run(conn.get(Keys::token(digest))).await?;
        raw.map(|bytes| decode(&bytes)).transpose()
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
