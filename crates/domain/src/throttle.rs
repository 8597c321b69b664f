//! Throttling: the quotas that keep resend from being abused, and what a
//! throttled call is told.

use std::time::Duration;

/// How much of something may happen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// At most once per `period`, counted from the last time it was granted.
    Cooldown { period: Duration },
    /// At most `limit` times per window of `period`; windows are aligned to
    /// the Unix epoch (a period of one day means UTC calendar days).
    Window { limit: u32, period: Duration },
    /// A token bucket: `burst` at once, refilled at `per_second`.
    Bucket { per_second: f64, burst: u32 },
}

/// One quota on one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// What is counted, for example `resend:user:<id>`. Keys hold no
    /// personal data in clear (addresses are hashed before they get here).
    pub key: String,
    pub quota: Quota,
}

/// The answer of a [`crate::ports::RateLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Every limit had room; each was charged once.
    Granted,
    /// The limit at `index` had no room; nothing was charged.
    Denied { index: usize, retry_after: Duration },
}

/// Why a call was throttled; stable, clients may match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleReason {
    /// The user was sent an initialization email less than the cooldown ago.
    ResendCooldown,
    /// The recipient address got its daily number of initialization emails.
    RecipientDailyCap,
    /// The caller used up its request rate.
    CallerRate,
}

impl ThrottleReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ResendCooldown => "an initialization email was sent to this user a short while ago",
            Self::RecipientDailyCap => "this address received the most initialization emails allowed per day",
            Self::CallerRate => "too many requests from this caller",
        }
    }
}

/// A call refused for now; `retry_after` says when it may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("throttled: {} (retry after {retry_after:?})", reason.describe())]
pub struct Throttled {
    pub reason: ThrottleReason,
    pub retry_after: Duration,
}

/// The limits. A zero turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleConfig {
    /// Least time between two resends to one user.
    pub resend_cooldown: Duration,
    /// Most resent initialization emails per recipient address and UTC day.
    pub recipient_daily_cap: u32,
    /// Management calls per second and caller (refill rate of its bucket).
    pub caller_rate: f64,
    /// Calls a caller may make at once.
    pub caller_burst: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            resend_cooldown: Duration::from_secs(60),
            recipient_daily_cap: 10,
            caller_rate: 100.0,
            caller_burst: 200,
        }
    }
}

impl ThrottleConfig {
    /// Every limit off.
    pub const OFF: Self =
        Self { resend_cooldown: Duration::ZERO, recipient_daily_cap: 0, caller_rate: 0.0, caller_burst: 0 };

    pub(crate) fn caller_limit(&self, subject: &str) -> Option<Limit> {
        (self.caller_rate > 0.0 && self.caller_burst > 0).then(|| Limit {
            key: format!("caller:{subject}"),
            quota: Quota::Bucket { per_second: self.caller_rate, burst: self.caller_burst },
        })
    }

    /// The limits one resend to `recipient` of `user` is charged against.
    pub(crate) fn resend_limits(
        &self,
        user: &crate::ids::UserId,
        recipient: &crate::email::EmailAddress,
    ) -> Vec<(Limit, ThrottleReason)> {
        let mut limits = Vec::with_capacity(2);
        if !self.resend_cooldown.is_zero() {
            let quota = Quota::Cooldown { period: self.resend_cooldown };
            limits.push((Limit { key: format!("resend:user:{user}"), quota }, ThrottleReason::ResendCooldown));
        }
        limits.extend(self.recipient_cap(recipient));
        limits
    }

    /// The recipient's daily cap alone, as a resend charges it: what a
    /// reminder is charged against (a reminder is no resend: the per-user
    /// cooldown does not apply).
    pub(crate) fn recipient_cap(&self, recipient: &crate::email::EmailAddress) -> Option<(Limit, ThrottleReason)> {
        (self.recipient_daily_cap > 0).then(|| {
            let quota = Quota::Window { limit: self.recipient_daily_cap, period: DAY };
            let key = format!("resend:rcpt:{}", recipient_digest(recipient));
            (Limit { key, quota }, ThrottleReason::RecipientDailyCap)
        })
    }
}

/// An address as a throttle key: hashed, so counters do not hold addresses.
/// Compared case-insensitively, as mail systems compare them in practice.
fn recipient_digest(recipient: &crate::email::EmailAddress) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(recipient.as_str().to_lowercase().as_bytes());
    crate::token::hex(&digest[..16])
}

pub const DAY: Duration = Duration::from_secs(86_400);
