//! Settings of the throttles. Their defaults are the domain's own
//! ([`ThrottleConfig::default`]), so they are written in one place.

use clap::Args;
use onboard_domain::ThrottleConfig;

use super::duration::Span;
use super::number::{Count, PerSecond};

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Throttles")]
pub struct ThrottleArgs {
    /// Least time between two resends to one user; `0` turns it off.
    #[arg(long, env = "ONBOARD_RESEND_COOLDOWN", default_value_t = Span::from(ThrottleConfig::default().resend_cooldown))]
    pub resend_cooldown: Span,
    /// Most resent initialization emails per address and UTC day; `0` turns it off.
    #[arg(long, env = "ONBOARD_RECIPIENT_DAILY_CAP",
        default_value_t = Count::declared(ThrottleConfig::default().recipient_daily_cap))]
    pub recipient_daily_cap: Count<0, 1_000_000>,
    /// Management calls per second and caller; `0` turns it off.
    #[arg(long, env = "ONBOARD_CALLER_RATE", default_value_t = PerSecond::declared(ThrottleConfig::default().caller_rate))]
    pub caller_rate: PerSecond,
    /// Management calls a caller may make at once, beyond its rate.
    #[arg(long, env = "ONBOARD_CALLER_BURST", default_value_t = Count::declared(ThrottleConfig::default().caller_burst))]
    pub caller_burst: Count<1, 1_000_000>,
}

impl ThrottleArgs {
    pub(super) fn config(&self) -> ThrottleConfig {
        ThrottleConfig {
            resend_cooldown: self.resend_cooldown.get(),
            recipient_daily_cap: self.recipient_daily_cap.get(),
            caller_rate: self.caller_rate.get(),
            caller_burst: self.caller_burst.get(),
        }
    }
}
