//! Webhook endpoints on Redis: one hash of id → encoded endpoint under a tag
//! of its own (`{hooks}`), so listing them is one command and changing one
//! leaves the directory's prefix, which drops every node's cached
//! credentials, alone. Each endpoint's deliveries live under the endpoint's
//! own tag (`{wh:<id>}`), so one script orders and keeps them.

use std::sync::Arc;

use async_trait::async_trait;
use onboard_domain::OrgId;
use onboard_domain::ports::{HookDeliveries, Unavailable, WebhookEndpoints};
use onboard_domain::webhook_events::{HookDeliveryState, WebhookDelivery};
use onboard_domain::webhooks::WebhookEndpoint;
use redis::AsyncCommands;
use time::{Duration, OffsetDateTime};

use crate::codec::{decode, encode};
use crate::conn::RedisConnection;
use crate::keys::Keys;
use crate::lua::{Durability, Lua};

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

/// Webhook deliveries on Redis, per endpoint: a hash of id → encoded
/// delivery, the pending ids and the recent ids in sorted sets ordered by a
/// counter, and the lease of the node that sends.
#[derive(Clone)]
pub struct RedisHookDeliveries {
    redis: Arc<RedisConnection>,
    scripts: Arc<DeliveryScripts>,
}

struct DeliveryScripts {
    add: Lua,
    put: Lua,
    lease: Lua,
}

impl std::fmt::Debug for RedisHookDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisHookDeliveries").finish_non_exhaustive()
    }
}

impl RedisHookDeliveries {
    pub fn new(redis: Arc<RedisConnection>) -> Self {
        let scripts = DeliveryScripts {
            add: Lua::new(include_str!("lua/hook_add.lua")),
            put: Lua::new(include_str!("lua/hook_put.lua")),
            lease: Lua::new(include_str!("lua/lease.lua")),
        };
        Self { redis, scripts: Arc::new(scripts) }
    }

    async fn read(&self, endpoint: &str, ids: Vec<String>) -> Result<Vec<WebhookDelivery>, Unavailable> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.redis.conn();
        let raw: Vec<Option<Vec<u8>>> = self
            .redis
            .run(redis::cmd("HMGET").arg(Keys::hook_deliveries(endpoint)).arg(&ids).query_async(&mut conn))
            .await?;
        raw.into_iter().flatten().map(|bytes| decode(&bytes)).collect()
    }
}

#[async_trait]
impl HookDeliveries for RedisHookDeliveries {
    async fn add_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, Unavailable> {
        let e = &delivery.endpoint_id;
        let mut call = self.scripts.add.call();
        call.key(Keys::hook_deliveries(e))
            .key(Keys::hook_pending(e))
            .key(Keys::hook_recent(e))
            .key(Keys::hook_order(e));
        call.arg(&delivery.id).arg(encode(delivery));
        call.run::<i64>(&self.redis, Durability::Replicated).await.map(|added| added == 1)
    }

    async fn put_delivery(&self, delivery: &WebhookDelivery) -> Result<(), Unavailable> {
        let e = &delivery.endpoint_id;
        let mut call = self.scripts.put.call();
        call.key(Keys::hook_deliveries(e))
            .key(Keys::hook_pending(e))
            .key(Keys::hook_recent(e))
            .key(Keys::hook_order(e));
        let pending = if delivery.state == HookDeliveryState::Pending { "1" } else { "0" };
        call.arg(&delivery.id).arg(encode(delivery)).arg(pending);
        call.run::<i64>(&self.redis, Durability::Local).await.map(drop)
    }

    async fn pending_deliveries(&self, endpoint: &str, limit: usize) -> Result<Vec<WebhookDelivery>, Unavailable> {
        let mut conn = self.redis.conn();
        let stop = limit.max(1) as isize - 1;
        let ids: Vec<String> = self.redis.run(conn.zrange(Keys::hook_pending(endpoint), 0, stop)).await?;
        self.read(endpoint, ids).await
    }

    async fn recent_deliveries(&self, endpoint: &str, limit: usize) -> Result<Vec<WebhookDelivery>, Unavailable> {
        let mut conn = self.redis.conn();
        let stop = limit.max(1) as isize - 1;
        let ids: Vec<String> = self.redis.run(conn.zrevrange(Keys::hook_recent(endpoint), 0, stop)).await?;
        self.read(endpoint, ids).await
    }

    async fn delivery(&self, endpoint: &str, id: &str) -> Result<Option<WebhookDelivery>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Option<Vec<u8>> = self.redis.run(conn.hget(Keys::hook_deliveries(endpoint), id)).await?;
        raw.map(|bytes| decode(&bytes)).transpose()
    }

    async fn lease_endpoint(
        &self,
        endpoint: &str,
        holder: &str,
        _now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<bool, Unavailable> {
        let mut call = self.scripts.lease.call();
        call.key(Keys::hook_lease(endpoint)).arg(holder).arg(ttl.whole_milliseconds().max(1) as i64);
        call.run::<i64>(&self.redis, Durability::Local).await.map(|held| held == 1)
    }
}
