//! Settings of the outbound webhooks: events posted to organizations' endpoints.

use clap::Args;
use clap::builder::BoolishValueParser;

use super::duration::NonZeroSpan;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Webhooks")]
pub struct WebhookArgs {
    /// Allow webhook endpoints on loopback, link-local and private addresses (`true` or `false`);
    /// refused by default, so an endpoint cannot reach into the network onboard runs in.
    #[arg(long, env = "ONBOARD_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set,
        value_parser = BoolishValueParser::new())]
    pub webhook_allow_private: bool,
    /// Longest wait for an endpoint's answer, connecting included; longer counts as a failed attempt.
    #[arg(long, env = "ONBOARD_WEBHOOK_TIMEOUT", default_value = "10s")]
    pub webhook_timeout: NonZeroSpan,
    /// Wait before the first retry of a failed webhook delivery, doubled for each further one (at most 1 hour),
    /// less up to a fifth at random.
    #[arg(long, env = "ONBOARD_WEBHOOK_RETRY_BASE", default_value = "5s")]
    pub webhook_retry_base: NonZeroSpan,
    /// A webhook delivery still failing this long after its event is dead-lettered.
    #[arg(long, env = "ONBOARD_WEBHOOK_RETRY_PERIOD", default_value = "24h")]
    pub webhook_retry_period: NonZeroSpan,
}
