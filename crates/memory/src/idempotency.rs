//! Idempotency keys in process memory, for the embedded deployment and tests.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use onboard_domain::ports::{IdempotencyClaim, IdempotencyStore, StoredAnswer, Unavailable};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone)]
enum Entry {
    Held { fingerprint: [u8; 32], until: OffsetDateTime },
    Answered { fingerprint: [u8; 32], answer: StoredAnswer, until: OffsetDateTime },
}

impl Entry {
    fn until(&self) -> OffsetDateTime {
        match self {
            Self::Held { until, .. } | Self::Answered { until, .. } => *until,
        }
    }
}

/// Keys with their hold or answer; expired entries are swept now and then.
#[derive(Debug, Default)]
pub struct InMemoryIdempotencyStore {
    state: Mutex<(HashMap<String, Entry>, u64)>,
}

const SWEEP_EVERY: u64 = 1024;

impl InMemoryIdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl IdempotencyStore for InMemoryIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &[u8; 32],
        now: OffsetDateTime,
        hold: Duration,
    ) -> Result<IdempotencyClaim, Unavailable> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (entries, claims) = &mut *state;
        *claims += 1;
        if *claims % SWEEP_EVERY == 0 {
            entries.retain(|_, e| e.until() > now);
        }
        let claim = match entries.get(key).filter(|e| e.until() > now) {
            Some(Entry::Answered { fingerprint: f, answer, .. }) if f == fingerprint => {
                IdempotencyClaim::Replay(answer.clone())
            }
            Some(Entry::Held { fingerprint: f, .. }) if f == fingerprint => IdempotencyClaim::InFlight,
            Some(_) => IdempotencyClaim::Mismatch,
            None => {
                entries.insert(key.to_owned(), Entry::Held { fingerprint: *fingerprint, until: now + hold });
                IdempotencyClaim::Fresh
            }
        };
        Ok(claim)
    }

    async fn complete(
        &self,
        key: &str,
        fingerprint: &[u8; 32],
        answer: &StoredAnswer,
        now: OffsetDateTime,
        keep: Duration,
    ) -> Result<(), Unavailable> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let ours = match state.0.get(key) {
            None => true,
            Some(Entry::Held { fingerprint: f, .. }) => f == fingerprint,
            Some(e @ Entry::Answered { .. }) => e.until() <= now,
        };
        if ours {
            let entry = Entry::Answered { fingerprint: *fingerprint, answer: answer.clone(), until: now + keep };
            state.0.insert(key.to_owned(), entry);
        }
        Ok(())
    }

    async fn release(&self, key: &str, fingerprint: &[u8; 32]) -> Result<(), Unavailable> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if matches!(state.0.get(key), Some(Entry::Held { fingerprint: f, .. }) if f == fingerprint) {
            state.0.remove(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn behaves_as_every_idempotency_store_must() {
        onboard_domain::testkit::check_idempotency_store(&InMemoryIdempotencyStore::new()).await;
    }
}
