//! Token credentials kept on the node, dropped the moment Redis says the
//! directory changed: server-assisted client-side caching (RESP3
//! `CLIENT TRACKING … BCAST PREFIX onb:{dir}:`) on a connection of its own.
//!
//! Why a revocation holds on every node within one round trip:
//! - Redis queues the invalidation for every tracking connection in the same
//!   pass of its event loop that writes the revoking client's reply, so by
//!   the time anyone has seen a revocation acknowledged, each node's
//!   invalidation is on the wire, and the node drops its whole cache as its
//!   connection reads it.
//! - A read that raced with a write cannot put the old value back: each read
//!   notes the cache's epoch before it goes to Redis and is kept only if no
//!   invalidation (nor loss of the connection) moved the epoch meanwhile,
//!   checked under the lock the invalidation takes.
//! - The cache is used only while the tracking connection answers: a
//!   heartbeat every [`HEARTBEAT`] renews a lease of [`LEASE`]; a lost or
//!   silent connection, or (on a cluster) a node that stopped being the
//!   primary of the directory's slot, turns the cache off and empties it
//!   until tracking runs again on the node that serves the slot now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use onboard_domain::ServiceAccount;
use onboard_domain::ports::TokenRecord;
use onboard_domain::token::TokenDigest;
use redis::{PushInfo, PushKind, Value};

use crate::conn::RedisConnection;
use crate::keys::Keys;

/// How often the tracking connection is checked.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(500);
/// How long one answered heartbeat keeps the cache in use.
pub(crate) const LEASE: Duration = Duration::from_millis(1500);
/// Tokens kept at most; past that the cache starts afresh (tokens are few;
/// this only bounds what unknown callers could make it hold).
const MOST: usize = 10_000;

pub(crate) type Credentials = (TokenRecord, Option<ServiceAccount>);

#[derive(Default)]
struct State {
    entries: HashMap<TokenDigest, Credentials>,
    /// Moves on every invalidation and every change of the connection.
    epoch: u64,
    /// Until when the tracking connection is known to work.
    live_until: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct CredentialsCache {
    state: Mutex<State>,
    /// The tracking connection while it is set up.
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
}

impl CredentialsCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached credentials of `digest`, while tracking is live.
    pub fn get(&self, digest: &TokenDigest) -> Option<Credentials> {
        let state = self.lock();
        state.live_until.filter(|&until| Instant::now() < until)?;
        state.entries.get(digest).cloned()
    }

    /// The epoch to hand to [`CredentialsCache::keep`] after a read, `None`
    /// while tracking is not live (nothing read then is kept).
    pub fn epoch(&self) -> Option<u64> {
        let state = self.lock();
        state.live_until.filter(|&until| Instant::now() < until).map(|_| state.epoch)
    }

    /// Keeps what a read that started at `epoch` found, unless the directory
    /// changed (or tracking stopped) since.
    pub fn keep(&self, epoch: u64, digest: &TokenDigest, credentials: &Credentials) {
        let mut state = self.lock();
        if state.epoch != epoch || state.live_until.is_none_or(|until| Instant::now() >= until) {
            return;
        }
        if state.entries.len() >= MOST {
            state.entries.clear();
        }
        state.entries.insert(digest.clone(), credentials.clone());
    }

    /// The directory changed, or tracking stopped or started: drop everything.
    fn invalidate(&self, live_until: Option<Instant>) {
        let mut state = self.lock();
        state.entries.clear();
        state.epoch += 1;
        state.live_until = live_until;
        metrics::counter!("onboard_redis_credentials_invalidations_total").increment(1);
    }

    fn renew(&self, until: Instant) {
        let mut state = self.lock();
        if state.live_until.is_some() {
            state.live_until = Some(until);
        }
    }

    /// Returns after one round trip on the tracking connection: every
    /// invalidation Redis sent before it has been applied. `false` when
    /// tracking is not set up.
    pub async fn caught_up(&self) -> bool {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(mut conn) = conn else { return false };
        redis::cmd("PING").query_async::<()>(&mut conn).await.is_ok()
    }

    fn on_push(&self, push: &PushInfo) {
        match push.kind {
            // Any change under the directory's prefix: tokens, accounts, organizations.
            PushKind::Invalidate => {
                let live = self.lock().live_until;
                self.invalidate(live);
            }
            PushKind::Disconnection => self.invalidate(None),
            _ => {}
        }
    }
}

/// Keeps the cache's tracking connection up for as long as the cache lives.
pub(crate) fn track(redis: Arc<RedisConnection>, cache: &Arc<CredentialsCache>) {
    tokio::spawn(tracker(redis, Arc::downgrade(cache)));
}

async fn tracker(redis: Arc<RedisConnection>, cache: Weak<CredentialsCache>) {
    let mut failing = false;
    loop {
        let Some(strong) = cache.upgrade() else { return };
        let pushes = Arc::downgrade(&strong);
        drop(strong);
        let push = move |info: PushInfo| {
            if let Some(cache) = pushes.upgrade() {
                cache.on_push(&info);
            }
            Ok::<(), std::convert::Infallible>(())
        };
        match follow(&redis, &cache, push).await {
            Ok(()) => return,
            Err(e) => {
                if let Some(cache) = cache.upgrade() {
                    *cache.conn.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    cache.invalidate(None);
                }
                if !failing {
                    tracing::warn!(error = %e, "credentials are read from Redis on every call until tracking resumes");
                    failing = true;
                }
            }
        }
        tokio::time::sleep(HEARTBEAT).await;
    }
}

/// Sets up tracking and keeps it checked; returns `Ok` when the cache is
/// gone, `Err` when tracking stopped working.
async fn follow(
    redis: &RedisConnection,
    cache: &Weak<CredentialsCache>,
    push: impl redis::aio::AsyncPushSender,
) -> Result<(), String> {
    let mut conn = redis.tracking_connection(Keys::TOKENS, push).await.map_err(|e| e.to_string())?;
    let cluster = matches!(redis.settings.target, crate::RedisTarget::Cluster(_));
    let mut tracking = redis::cmd("CLIENT");
    tracking.arg("TRACKING").arg("ON").arg("BCAST").arg("PREFIX").arg(Keys::DIRECTORY_PREFIX);
    redis.run(tracking.query_async::<()>(&mut conn)).await.map_err(|e| e.to_string())?;
    let Some(c) = cache.upgrade() else { return Ok(()) };
    *c.conn.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
    c.invalidate(Some(Instant::now() + LEASE));
    drop(c);
    tracing::info!("credentials cached, invalidated by Redis on every directory change");
    loop {
        let asked = Instant::now();
        // ROLE answers like PING and also says whether this node still is
        // the primary (a demoted one would miss the new primary's writes).
        let role: Value = redis.run(redis::cmd("ROLE").query_async(&mut conn)).await.map_err(|e| e.to_string())?;
        if cluster && !is_primary(&role) {
            return Err("the tracked node is no longer the directory's primary".into());
        }
        let Some(c) = cache.upgrade() else { return Ok(()) };
        c.renew(asked + LEASE);
        drop(c);
        tokio::time::sleep(HEARTBEAT).await;
    }
}

fn is_primary(role: &Value) -> bool {
    match role {
        Value::Array(parts) => matches!(parts.first(), Some(Value::BulkString(b)) if b == b"master"),
        _ => false,
    }
}
