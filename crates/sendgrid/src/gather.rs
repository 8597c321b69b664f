//! Gathers the `send_batch` calls that arrive within a short window into one
//! call of the mailer it wraps. The outbox delivers each partition in its own
//! loop, so a bulk resend of 1,000 users reaches the mailer as ~16 batches of
//! ~60; gathered, SendGrid sees one call per 1,000 recipients of a group.
//!
//! The gathered call runs in a task of its own, not in any caller's future:
//! a caller that is dropped (shutdown, cancellation) loses only its own
//! answers — its emails stay leased in the outbox and come due again, which
//! is the at-least-once the outbox promises — while every other caller
//! still gets its results.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use onboard_domain::ports::{InitMessage, MailError, Mailer};
use tokio::sync::oneshot;
use tracing::Instrument;

type Results = Vec<Result<String, MailError>>;

/// A [`Mailer`] that holds `send_batch` calls up to `window` (or until
/// `limit` messages are waiting) and makes one call of `inner` of them,
/// handing each caller its own results, in order.
pub struct GatheringMailer<M> {
    shared: Arc<Shared<M>>,
}

impl<M> std::fmt::Debug for GatheringMailer<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatheringMailer")
            .field("window", &self.shared.window)
            .field("limit", &self.shared.limit)
            .finish_non_exhaustive()
    }
}

struct Shared<M> {
    inner: M,
    window: Duration,
    limit: usize,
    /// Never held across an await.
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    /// Which batch a window's timer belongs to: one sent early (full) must
    /// not be confused with the next one.
    generation: u64,
    batch: Option<Batch>,
}

struct Batch {
    generation: u64,
    messages: Vec<InitMessage>,
    /// How many of `messages` each caller brought, in order, and where its
    /// results go.
    callers: Vec<(usize, oneshot::Sender<Results>)>,
}

impl<M: Mailer + 'static> GatheringMailer<M> {
    /// `window` zero: every call goes straight to `inner`. `limit`: the most
    /// messages of one gathered call (a caller bringing more goes alone).
    pub fn new(inner: M, window: Duration, limit: usize) -> Self {
        let shared = Shared { inner, window, limit: limit.max(1), open: Mutex::default() };
        Self { shared: Arc::new(shared) }
    }

    #[tracing::instrument(name = "gathered_send", skip_all, fields(messages = messages.len()))]
    async fn gather(&self, messages: &[InitMessage]) -> Results {
        let shared = &self.shared;
        if shared.window.is_zero() || messages.is_empty() || messages.len() >= shared.limit {
            // Nothing to wait for: alone it already fills a call.
            return shared.inner.send_batch(messages).await;
        }
        let (tx, rx) = oneshot::channel();
        let (ready, timer) = {
            let mut open = shared.open.lock().unwrap_or_else(PoisonError::into_inner);
            let mut ready = Vec::new();
            // Joining would make the call too big: it goes now, as it is.
            if open.batch.as_ref().is_some_and(|b| b.messages.len() + messages.len() > shared.limit) {
                ready.extend(open.batch.take());
            }
            let timer = if open.batch.is_none() {
                open.generation += 1;
                let generation = open.generation;
                open.batch = Some(Batch { generation, messages: Vec::new(), callers: Vec::new() });
                Some(generation)
            } else {
                None
            };
            let batch = open.batch.as_mut().expect("just opened");
            batch.messages.extend_from_slice(messages);
            batch.callers.push((messages.len(), tx));
            if batch.messages.len() >= shared.limit {
                ready.extend(open.batch.take());
            }
            (ready, timer)
        };
        for batch in ready {
            tokio::spawn(Arc::clone(shared).send(batch).in_current_span());
        }
        if let Some(generation) = timer {
            let shared = Arc::clone(shared);
            tokio::spawn(
                async move {
                    tokio::time::sleep(shared.window).await;
                    let due = {
                        let mut open = shared.open.lock().unwrap_or_else(PoisonError::into_inner);
                        match &open.batch {
                            Some(b) if b.generation == generation => open.batch.take(),
                            _ => None,
                        }
                    };
                    if let Some(batch) = due {
                        shared.send(batch).await;
                    }
                }
                .in_current_span(),
            );
        }
        rx.await.unwrap_or_else(|_| {
            // The gathered call's task ended without answering (the runtime
            // is shutting down): the emails stay leased and come due again.
            messages.iter().map(|_| Err(MailError::Transient("gathered call ended without an answer".into()))).collect()
        })
    }
}

impl<M: Mailer> Shared<M> {
    /// One call of the inner mailer for `batch`; each caller gets its share.
    async fn send(self: Arc<Self>, batch: Batch) {
        let span = tracing::info_span!("gathered_call", messages = batch.messages.len(), callers = batch.callers.len());
        let results = self.inner.send_batch(&batch.messages).instrument(span).await;
        let mut results = results.into_iter();
        for (n, tx) in batch.callers {
            let mine: Results = (0..n)
                .map(|_| results.next().unwrap_or_else(|| Err(MailError::Transient("no result".into()))))
                .collect();
            // A caller that went away has nobody to tell.
            let _ = tx.send(mine);
        }
    }
}

#[async_trait]
impl<M: Mailer + 'static> Mailer for GatheringMailer<M> {
    async fn send_init(&self, message: &InitMessage) -> Result<String, MailError> {
        self.gather(std::slice::from_ref(message))
            .await
            .pop()
            .unwrap_or_else(|| Err(MailError::Transient("no result".into())))
    }

    async fn send_batch(&self, messages: &[InitMessage]) -> Results {
        self.gather(messages).await
    }
}
