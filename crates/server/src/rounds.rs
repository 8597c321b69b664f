//! The shape every per-partition loop of a node shares: a round, at once
//! again while rounds find work, after a pause when one finds none; a store
//! that fails is told once when it starts failing and once when it is back.

use std::future::Future;
use std::time::Duration;

use onboard_domain::ports::Unavailable;
use tokio::sync::watch;

/// Runs `round` (whether it found work) for `partition` until shutdown,
/// waiting `idle` after a round that found none or failed. `what` names the
/// loop in its log lines ("webhook fan-out", "reminders").
pub async fn run<F, Fut>(
    what: &'static str,
    partition: usize,
    idle: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, Unavailable>>,
{
    let mut failing = false;
    loop {
        let outcome = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            outcome = round() => outcome,
        };
        let busy = match outcome {
            Ok(busy) => {
                if failing {
                    tracing::info!(partition, "{what} resumed");
                    failing = false;
                }
                busy
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(partition, error = %e, "{what} paused: store unavailable");
                    failing = true;
                }
                false
            }
        };
        if !busy {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(idle) => {}
            }
        }
    }
}
