//! The ports that keep throttles and idempotency keys, shared by every node
//! of a store.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::Unavailable;
use crate::idempotency::{IdempotencyClaim, StoredAnswer};
use crate::throttle::{Admission, Limit};

/// Counts what the [`Limit`]s restrict.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Charges every limit in `limits` once, all or none, at `now`: granted
    /// when each has room, else denied naming the first (by index) without
    /// room and when it will have room again. Atomic across nodes sharing the
    /// store. Errors: [`Unavailable`].
    async fn acquire(&self, limits: &[Limit], now: OffsetDateTime) -> Result<Admission, Unavailable>;
}

/// Idempotency keys, each already scoped to its caller by the use case.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Looks `key` up and, when it is free, holds it for `fingerprint` until
    /// `now + hold`. Atomic across nodes. Errors: [`Unavailable`].
    async fn claim(
        &self,
        key: &str,
        fingerprint: &[u8; 32],
        now: OffsetDateTime,
        hold: time::Duration,
    ) -> Result<IdempotencyClaim, Unavailable>;

    /// Keeps `answer` under `key` (held for `fingerprint`) until `now + keep`.
    /// Errors: [`Unavailable`].
    async fn complete(
        &self,
        key: &str,
        fingerprint: &[u8; 32],
        answer: &StoredAnswer,
        now: OffsetDateTime,
        keep: time::Duration,
    ) -> Result<(), Unavailable>;

    /// Lets go of a hold without an answer (the request failed in a way worth
    /// retrying); a key holding an answer or held for another fingerprint is
    /// left alone. Errors: [`Unavailable`].
    async fn release(&self, key: &str, fingerprint: &[u8; 32]) -> Result<(), Unavailable>;
}
