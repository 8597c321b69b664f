//! Webhook endpoints on Redis: one hash of id → encoded endpoint under a tag
//! of its own (`{hooks}`), so listing them is one command and changing one
//! leaves the directory's prefix, which drops every node's cached
//! credentials, alone.

use std::sync::Arc;

use async_trait::async_trait;
use onboard_domain::OrgId;
use onboard_domain::ports::{Unavailable, WebhookEndpoints};
use onboard_domain::webhooks::WebhookEndpoint;
use redis::AsyncCommands;

use crate::codec::{decode, encode};
use crate::conn::RedisConnection;
use crate::keys::Keys;

#[derive(Clone)]
pub struct RedisWebhookEndpoints {
    redis: Arc<RedisConnection>,
}

impl std::fmt::Debug for RedisWebhookEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisWebhookEndpoints").finish_non_exhaustive()
    }
}

impl RedisWebhookEndpoints {
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl WebhookEndpoints for RedisWebhookEndpoints {
    async fn put_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), Unavailable> {
        self.redis
            .write(redis::cmd("HSET").arg(Keys::WEBHOOK_ENDPOINTS).arg(&endpoint.id).arg(encode(endpoint)))
            .await
            .map(|_: i64| ())
    }

    async fn endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Option<Vec<u8>> = self.redis.run(conn.hget(Keys::WEBHOOK_ENDPOINTS, id)).await?;
        raw.map(|bytes| decode(&bytes)).transpose()
    }

    async fn endpoints<'a>(&self, org: Option<&'a OrgId>) -> Result<Vec<WebhookEndpoint>, Unavailable> {
        let mut conn = self.redis.conn();
        let all: Vec<Vec<u8>> = self.redis.run(conn.hvals(Keys::WEBHOOK_ENDPOINTS)).await?;
        let mut endpoints = Vec::with_capacity(all.len());
        for bytes in &all {
            let endpoint: WebhookEndpoint = decode(bytes)?;
            if org.is_none_or(|o| &endpoint.org == o) {
                endpoints.push(endpoint);
            }
        }
        Ok(endpoints)
    }

    async fn remove_endpoint(&self, id: &str) -> Result<bool, Unavailable> {
        self.redis.write(redis::cmd("HDEL").arg(Keys::WEBHOOK_ENDPOINTS).arg(id)).await.map(|n: i64| n > 0)
    }
}
