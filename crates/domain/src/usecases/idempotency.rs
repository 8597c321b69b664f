//! `Idempotency-Key`: a create or resend sent again with the same key and
//! body gets the first answer again, without a new code or email.

use sha2::{Digest, Sha256};

use crate::authz::Principal;
use crate::idempotency::{IdempotencyClaim, StoredAnswer};
use crate::ports::Unavailable;

use super::UserService;

/// How long answers are kept for replay.
pub const IDEMPOTENCY_KEEP: time::Duration = time::Duration::hours(24);
/// How long a request may hold its key before another may take it over
/// (a node that died mid-request must not lock the key for a day).
pub const IDEMPOTENCY_HOLD: time::Duration = time::Duration::seconds(60);
/// Longest key accepted.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    #[error("the idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters")]
    InvalidKey,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// A held key: hand it back with the answer.
#[derive(Debug)]
pub struct IdempotencyTicket {
    key: String,
    fingerprint: [u8; 32],
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum IdempotencyStart {
    /// Run the request; hand the ticket (if any) to [`UserService::finish_idempotent`].
    Proceed(Option<IdempotencyTicket>),
    /// Answer with this, as the first request was answered.
    Replay(StoredAnswer),
    /// The first request with this key has not answered yet.
    InFlight,
    /// The key was used for a request with another body.
    Mismatch,
}

/// The key as stored: the caller and the key hashed together, so keys of
/// different callers never meet and stored keys reveal neither.
fn scoped_key(caller: &Principal, key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(caller.subject.as_bytes());
    hash.update([0]);
    hash.update(key.as_bytes());
    let digest = hash.finalize();
    format!("idem:{}", crate::token::hex(&digest[..20]))
}

impl UserService {
    /// Looks the caller's `key` up for a request whose method, path,
    /// organization and body hash to `fingerprint`.
    #[tracing::instrument(skip_all, fields(caller = %caller.subject))]
    pub async fn begin_idempotent(
        &self,
        caller: &Principal,
        key: &str,
        fingerprint: [u8; 32],
    ) -> Result<IdempotencyStart, IdempotencyError> {
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdempotencyError::InvalidKey);
        }
        let Some(store) = &self.idempotency else { return Ok(IdempotencyStart::Proceed(None)) };
        let key = scoped_key(caller, key);
        let claim = store.claim(&key, &fingerprint, self.clock.now(), IDEMPOTENCY_HOLD).await?;
        Ok(match claim {
            IdempotencyClaim::Fresh => IdempotencyStart::Proceed(Some(IdempotencyTicket { key, fingerprint })),
            IdempotencyClaim::Replay(answer) => IdempotencyStart::Replay(answer),
            IdempotencyClaim::InFlight => IdempotencyStart::InFlight,
            IdempotencyClaim::Mismatch => IdempotencyStart::Mismatch,
        })
    }

    /// Keeps `answer` for replay, or, without one (the request failed and
    /// changed nothing), frees the key for a retry. A store failure here is
    /// logged, not raised: the request itself was answered.
    #[tracing::instrument(skip_all, fields(kept = answer.is_some()))]
    pub async fn finish_idempotent(&self, ticket: IdempotencyTicket, answer: Option<&StoredAnswer>) {
        let Some(store) = &self.idempotency else { return };
        let done = match answer {
            Some(answer) => {
                store.complete(&ticket.key, &ticket.fingerprint, answer, self.clock.now(), IDEMPOTENCY_KEEP).await
            }
            None => store.release(&ticket.key, &ticket.fingerprint).await,
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "idempotency key not updated; a retry within a minute gets 409");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ports::{MockIdempotencyStore, MockUserRepository};
    use crate::usecases::test_support::*;

    fn caller(subject: &str) -> Principal {
        Principal { subject: subject.into(), ..acting().principal }
    }

    #[tokio::test]
    async fn keys_are_validated_and_scoped_to_the_caller() {
        let mut store = MockIdempotencyStore::new();
        let keys = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = keys.clone();
        store.expect_claim().returning(move |k, _, _, _| {
            seen.lock().unwrap().push(k.to_owned());
            Ok(IdempotencyClaim::Fresh)
        });
        let svc = service(MockUserRepository::new(), T0).with_idempotency(Arc::new(store));
        for bad in ["", "with space", "ü", &"k".repeat(256)] {
            assert_eq!(
                svc.begin_idempotent(&caller("a"), bad, [0; 32]).await.unwrap_err(),
                IdempotencyError::InvalidKey,
                "{bad:?}"
            );
        }
        assert!(matches!(
            svc.begin_idempotent(&caller("a"), "key-1", [0; 32]).await,
            Ok(IdempotencyStart::Proceed(Some(_)))
        ));
        svc.begin_idempotent(&caller("b"), "key-1", [0; 32]).await.unwrap();
        let keys = keys.lock().unwrap();
        assert_ne!(keys[0], keys[1], "two callers, two keys");
        assert!(keys.iter().all(|k| !k.contains("key-1")));
    }

    #[tokio::test]
    async fn without_a_store_requests_just_run() {
        let svc = service(MockUserRepository::new(), T0);
        assert!(matches!(svc.begin_idempotent(&caller("a"), "k", [0; 32]).await, Ok(IdempotencyStart::Proceed(None))));
    }

    #[tokio::test]
    async fn answers_are_kept_and_failures_free_the_key() {
        let mut store = MockIdempotencyStore::new();
        store.expect_claim().returning(|_, _, _, _| Ok(IdempotencyClaim::Fresh));
        store.expect_complete().times(1).returning(|_, _, a, _, keep| {
            assert_eq!((a.status, keep), (200, IDEMPOTENCY_KEEP));
            Ok(())
        });
        store.expect_release().times(1).returning(|_, _| Ok(()));
        let svc = service(MockUserRepository::new(), T0).with_idempotency(Arc::new(store));
        let answer = StoredAnswer { status: 200, headers: vec![], body: b"{}".to_vec() };
        for kept in [Some(&answer), None] {
            let IdempotencyStart::Proceed(Some(ticket)) =
                svc.begin_idempotent(&caller("a"), "k", [1; 32]).await.unwrap()
            else {
                panic!("a fresh key proceeds with a ticket")
            };
            svc.finish_idempotent(ticket, kept).await;
        }
    }
}
