//! The webhook delivery loops of one node: a fan-out loop per partition of
//! the event queue, and a sender per endpoint (each on its own, so a slow
//! or dead endpoint delays nothing else: not the emails, not another
//! endpoint). Which node sends to an endpoint, or fans a partition out, is
//! decided by leases in the store.

use std::collections::HashMap;
use std::time::Duration;

use onboard_domain::usecases::WebhookDispatcher;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const IDLE: Duration = Duration::from_millis(200);
/// How often the endpoints are listed, so new ones get a sender.
const LIST_EVERY: Duration = Duration::from_secs(1);

/// Starts the loops; they end at shutdown.
pub fn spawn(dispatcher: WebhookDispatcher, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut handles: Vec<JoinHandle<()>> =
        (0..dispatcher.partitions()).map(|p| tokio::spawn(fan_out(dispatcher.clone(), p, shutdown.clone()))).collect();
    handles.push(tokio::spawn(supervise(dispatcher, shutdown)));
    handles
}

async fn fan_out(dispatcher: WebhookDispatcher, partition: usize, shutdown: watch::Receiver<bool>) {
    crate::rounds::run("webhook fan-out", partition, IDLE, shutdown, || async {
        dispatcher.fan_out(partition).await.map(|added| added > 0)
    })
    .await;
}

/// Keeps one sender running per endpoint.
async fn supervise(dispatcher: WebhookDispatcher, mut shutdown: watch::Receiver<bool>) {
    let mut senders: HashMap<String, JoinHandle<()>> = HashMap::new();
    loop {
        if let Ok(ids) = dispatcher.endpoint_ids().await {
            senders.retain(|id, handle| ids.contains(id) || !handle.is_finished());
            for id in ids {
                senders
                    .entry(id.clone())
                    .or_insert_with(|| tokio::spawn(send(dispatcher.clone(), id, shutdown.clone())));
            }
        }
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep(LIST_EVERY) => {}
        }
    }
    for (_, handle) in senders {
        let _ = handle.await;
    }
}

async fn send(dispatcher: WebhookDispatcher, endpoint: String, mut shutdown: watch::Receiver<bool>) {
    loop {
        let round = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            round = dispatcher.deliver(&endpoint) => round,
        };
        let wait = match round {
            Ok((r, _)) if r.delivered + r.dead_lettered > 0 => Duration::ZERO,
            Ok((_, Some(next))) => {
                let until = next - time::OffsetDateTime::now_utc();
                Duration::try_from(until).unwrap_or(Duration::ZERO).min(IDLE)
            }
            Ok(_) => IDLE,
            Err(e) => {
                tracing::debug!(endpoint, error = %e, "webhook delivery round failed");
                IDLE
            }
        };
        if !wait.is_zero() {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
