//! Settings of the delivery of emails out of the outbox, whichever way they leave.

use clap::Args;

use super::duration::NonZeroSpan;
use super::number::Count;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Delivery")]
pub struct DeliveryArgs {
    /// Attempts before a failing email is given up.
    #[arg(long, env = "ONBOARD_DELIVERY_MAX_ATTEMPTS", default_value = "10")]
    pub delivery_max_attempts: Count<1, 1000>,
    /// An email not sent this long after it became due is given up.
    #[arg(long, env = "ONBOARD_DELIVERY_MAX_AGE", default_value = "24h")]
    pub delivery_max_age: NonZeroSpan,
    /// Wait before the first retry of a failed email, doubled for each further one (at most 10 minutes).
    #[arg(long, env = "ONBOARD_DELIVERY_RETRY_BASE", default_value = "2s")]
    pub delivery_retry_base: NonZeroSpan,
    /// Emails taken from the outbox per round and partition.
    #[arg(long, env = "ONBOARD_DELIVERY_BATCH", default_value = "500")]
    pub delivery_batch: Count<1, 10_000>,
}
