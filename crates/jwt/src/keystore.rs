//! The key set in memory, and when it is fetched again.
//!
//! Two things make us fetch: a token whose `kid` we do not know (the identity
//! provider may have rotated its keys), and age (it may have withdrawn one).
//! Both go through one gate: at most one fetch per `refresh_min_interval`,
//! counted from the end of the previous one, whatever its outcome. Tokens are
//! unauthenticated input, so without the gate anyone could make us hammer the
//! identity provider by sending made-up `kid`s.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use onboard_domain::ports::Unavailable;
use tokio::sync::Mutex;

use crate::jwks::{JwksError, JwksFetcher, KeySet, VerifyingKey};

#[derive(Debug, Clone)]
pub(crate) struct KeyStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fetcher: JwksFetcher,
    current: RwLock<Current>,
    /// Held for the whole of a fetch, so concurrent misses wait for one fetch
    /// instead of each starting their own.
    gate: Arc<Mutex<Gate>>,
    min_interval: Duration,
    max_age: Duration,
}

#[derive(Debug)]
struct Current {
    keys: Arc<KeySet>,
    fetched_at: Instant,
}

#[derive(Debug)]
struct Gate {
    /// When the last fetch ended.
    last_attempt: Instant,
    /// Why the last fetch failed, if it did.
    last_failure: Option<String>,
}

impl Gate {
    fn open(&self, min_interval: Duration) -> bool {
        self.last_attempt.elapsed() >= min_interval
    }
}

impl KeyStore {
    /// Fetches the key set once; an error here should stop the start.
    pub(crate) async fn load(
        fetcher: JwksFetcher,
        min_interval: Duration,
        max_age: Duration,
    ) -> Result<Self, JwksError> {
        let keys = fetcher.fetch().await?;
        tracing::info!(source = %fetcher.source(), keys = keys.len(), "jwt: JWKS loaded");
        let now = Instant::now();
        Ok(Self {
            inner: Arc::new(Inner {
                fetcher,
                current: RwLock::new(Current { keys: Arc::new(keys), fetched_at: now }),
                gate: Arc::new(Mutex::new(Gate { last_attempt: now, last_failure: None })),
                min_interval,
                max_age,
            }),
        })
    }

    /// The key named `kid`: from memory, or after a fetch when it is unknown
    /// and the gate is open. `Ok(None)`: no such key. `Unavailable`: the last
    /// fetch failed, so whether the key exists cannot be told.
    pub(crate) async fn key(&self, kid: &str) -> Result<Option<VerifyingKey>, Unavailable> {
        let (keys, fetched_at) = self.inner.snapshot();
        if fetched_at.elapsed() >= self.inner.max_age {
            self.refresh_in_background();
        }
        if let Some(key) = keys.get(kid) {
            return Ok(Some(key.clone()));
        }
        let mut gate = self.inner.gate.lock().await;
        // A fetch may have finished while we waited for the gate.
        if let Some(key) = self.inner.snapshot().0.get(kid) {
            return Ok(Some(key.clone()));
        }
        if gate.open(self.inner.min_interval) {
            self.inner.refresh(&mut gate).await;
            if let Some(key) = self.inner.snapshot().0.get(kid) {
                return Ok(Some(key.clone()));
            }
        }
        match &gate.last_failure {
            Some(failure) => Err(Unavailable(failure.clone())),
            None => Ok(None),
        }
    }

    /// Starts a fetch of a stale key set unless one is running or the gate is
    /// closed. The request that noticed goes on with the keys it has, so no
    /// request waits on the identity provider because of age alone.
    fn refresh_in_background(&self) {
        let Ok(mut gate) = self.inner.gate.clone().try_lock_owned() else { return };
        if !gate.open(self.inner.min_interval) {
            return;
        }
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.refresh(&mut gate).await });
    }
}

impl Inner {
    fn snapshot(&self) -> (Arc<KeySet>, Instant) {
        // A poisoned lock only means a panic elsewhere while swapping an Arc: the value is whole.
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        (current.keys.clone(), current.fetched_at)
    }

    /// Fetches the key set and, if it is usable, replaces the one in memory:
    /// keys the identity provider no longer lists stop being accepted. On
    /// failure the keys in memory stay, so known keys keep working while the
    /// identity provider is unreachable.
    async fn refresh(&self, gate: &mut Gate) {
        let fetched = self.fetcher.fetch().await;
        gate.last_attempt = Instant::now();
        match fetched {
            Ok(keys) => {
                tracing::info!(source = %self.fetcher.source(), keys = keys.len(), "jwt: JWKS refreshed");
                let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
                *current = Current { keys: Arc::new(keys), fetched_at: Instant::now() };
                gate.last_failure = None;
            }
            Err(e) => {
                let failure = format!("jwt: JWKS from {}: {e}", self.fetcher.source());
                tracing::warn!(%failure, "jwt: JWKS refresh failed; keeping the keys in memory");
                gate.last_failure = Some(failure);
            }
        }
    }
}
