//! The reminder loops of one node: one per partition of the schedule. Which
//! node works a partition is decided by its lease in the store, so a second
//! node waits, and takes over when the first one dies.

use std::time::Duration;

use onboard_domain::usecases::ReminderSender;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Reminders are due by the second (stores group them so): a round a second
/// apart is never more than that late.
const IDLE: Duration = Duration::from_millis(500);

/// Starts the loops; they end at shutdown.
pub fn spawn(sender: ReminderSender, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    (0..sender.partitions()).map(|p| tokio::spawn(remind(sender.clone(), p, shutdown.clone()))).collect()
}

async fn remind(sender: ReminderSender, partition: usize, shutdown: watch::Receiver<bool>) {
    crate::rounds::run("reminders", partition, IDLE, shutdown, || async {
        let round = sender.remind(partition).await?;
        if round.sent > 0 {
            tracing::debug!(partition, sent = round.sent, skipped = round.skipped, "reminders sent");
        }
        // A full batch may have more behind it; deferred ones wait a round.
        Ok(round.sent + round.skipped > 0)
    })
    .await;
}
