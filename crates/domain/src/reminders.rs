//! Reminders of pending invitations (`ONBOARD_REMINDERS`): when they are
//! due, what the write that gives a code schedules, and whether a due one
//! still goes out.
//!
//! Codes are kept only as hashes, so a reminder cannot repeat the code the
//! user holds: it mails a fresh one that expires when the current one would
//! have. The deadline never moves, so a reminder schedules no reminders of
//! its own; a code with a new deadline (a resend, a renewal) schedules its own.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::events::UserEvent;
use crate::ids::UserId;
use crate::user::{User, UserState, UserWrite};

/// How long before a code's expiry each reminder goes out: distinct, each
/// longer than zero, longest first. Empty: reminders are off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderOffsets(Vec<Duration>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReminderOffsetsError {
    #[error("a reminder's offset must be longer than zero")]
    Zero,
    #[error("the reminder offset {0} is given twice")]
    Repeated(Duration),
    #[error("at most {MAX_REMINDERS} reminders per code")]
    TooMany,
}

/// Reminders per code at most: each costs the store an entry per pending
/// invitation.
pub const MAX_REMINDERS: usize = 8;

impl ReminderOffsets {
    pub const OFF: Self = Self(Vec::new());

    pub fn new(mut offsets: Vec<Duration>) -> Result<Self, ReminderOffsetsError> {
        if offsets.iter().any(|d| !d.is_positive()) {
            return Err(ReminderOffsetsError::Zero);
        }
        if offsets.len() > MAX_REMINDERS {
            return Err(ReminderOffsetsError::TooMany);
        }
        offsets.sort_by(|a, b| b.cmp(a));
        if let Some(w) = offsets.windows(2).find(|w| w[0] == w[1]) {
            return Err(ReminderOffsetsError::Repeated(w[0]));
        }
        Ok(Self(offsets))
    }

    pub fn is_off(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[Duration] {
        &self.0
    }
}

/// A reminder of the user's invitation due at `at`, for the code that
/// expires at `deadline`. Kept in the user's partition, written by the same
/// atomic write as the code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DueReminder {
    pub at: OffsetDateTime,
    pub user_id: UserId,
    pub deadline: OffsetDateTime,
}

/// The reminders `write` schedules: its user is Initial, the write gave it
/// a new code that is mailed (not returned to the integrator) and that is
/// not itself a reminder's; one per offset that falls after the code was
/// made, earliest first.
pub fn reminders_of_write(write: &UserWrite, offsets: &ReminderOffsets) -> Vec<DueReminder> {
    if offsets.is_off() || write.outbox.is_none() || write.user.state != UserState::Initial {
        return Vec::new();
    }
    let mut new_code = false;
    for e in &write.events {
        match e.event {
            UserEvent::InitCodeAdded { .. } | UserEvent::InviteCodeAdded { .. } => new_code = true,
            // The reminder's code keeps the deadline: its reminders are scheduled already.
            UserEvent::ReminderIssued => return Vec::new(),
            _ => {}
        }
    }
    let Some(code) = write.user.init_code.as_ref().filter(|c| new_code && !c.delivery.is_returned()) else {
        return Vec::new();
    };
    let mut due: Vec<DueReminder> = offsets
        .as_slice()
        .iter()
        .map(|o| code.expires_at - *o)
        .filter(|at| *at > code.created_at)
        .map(|at| DueReminder { at, user_id: write.user.id.clone(), deadline: code.expires_at })
        .collect();
    due.sort();
    due
}

/// Whether `a` and `b` fall in the same millisecond: stores keep a
/// reminder's deadline to the millisecond.
pub fn same_millisecond(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    a.unix_timestamp_nanos().div_euclid(1_000_000) == b.unix_timestamp_nanos().div_euclid(1_000_000)
}

/// Why a due reminder is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderSkip {
    /// No such user, or removed (the invitation was withdrawn).
    Withdrawn,
    /// Past Initial, or its code used (v2's VerifyInviteCode): completed.
    Completed,
    /// Its code is one the integrator delivers (v2's `returnCode`).
    Returned,
    /// Its code expires at another time: a resend or renewal gave it a new
    /// deadline, which has reminders of its own.
    NewDeadline,
    /// Its code was made at or after the reminder's time: the reminder went
    /// out already (a round that ran again after a crash, or another node).
    AlreadySent,
    /// Too many wrong attempts: the code is dead until a resend.
    Locked,
    /// The code expired.
    Expired,
    /// The last email to the user bounced, was dropped, reported as spam or
    /// given up: another would not fare better.
    Undeliverable,
    /// The recipient got its daily number of emails.
    DailyCap,
}

impl ReminderSkip {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Withdrawn => "withdrawn",
            Self::Completed => "completed",
            Self::Returned => "code returned to the integrator",
            Self::NewDeadline => "a newer code with its own deadline",
            Self::AlreadySent => "already sent",
            Self::Locked => "locked",
            Self::Expired => "expired",
            Self::Undeliverable => "the last email did not arrive",
            Self::DailyCap => "the recipient's daily cap",
        }
    }
}

impl fmt::Display for ReminderSkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `due` still goes to `user` at `now`, as far as the user alone
/// says (the last email's fate and the daily cap are asked elsewhere).
/// A reminder sent makes its code's creation later than its time, so the
/// same reminder decided again (after a crash, or by a second node that
/// read the user before) is [`ReminderSkip::AlreadySent`], or loses the
/// save's sequence check.
pub fn reminder_verdict(
    user: Option<&User>,
    due: &DueReminder,
    now: OffsetDateTime,
    max_attempts: u32,
) -> Result<(), ReminderSkip> {
    let user = user.filter(|u| u.state != UserState::Deleted).ok_or(ReminderSkip::Withdrawn)?;
    if user.state != UserState::Initial {
        return Err(ReminderSkip::Completed);
    }
    let code = user.init_code.as_ref().ok_or(ReminderSkip::Completed)?;
    if code.delivery.is_returned() {
        return Err(ReminderSkip::Returned);
    }
    if !same_millisecond(code.expires_at, due.deadline) {
        return Err(ReminderSkip::NewDeadline);
    }
    if code.created_at >= due.at {
        return Err(ReminderSkip::AlreadySent);
    }
    if code.failed_attempts >= max_attempts {
        return Err(ReminderSkip::Locked);
    }
    if code.is_expired(now) {
        return Err(ReminderSkip::Expired);
    }
    Ok(())
}
