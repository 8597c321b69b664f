//! Where invitations are found: per organization, newest first.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::Unavailable;
use crate::events::{RecordedEvent, UserEvent};
use crate::ids::{OrgId, UserId};
use crate::invitation::{InvitationSource, Position};
use crate::notifications::{DeliveryState, Notification};

/// A user's event log (oldest first) and notifications (newest first).
pub type Facts = (Vec<RecordedEvent>, Vec<Notification>);

/// A step of the invitation funnel an invitation reaches at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Milestone {
    /// Its first code was issued.
    Created,
    /// One of its emails first reached the recipient (the provider said
    /// delivered).
    Delivered,
    /// Its link's page was first shown.
    Opened,
    /// Its code's check succeeded (it left Initial by its code).
    Completed,
}

impl Milestone {
    pub const ALL: [Milestone; 4] = [Self::Created, Self::Delivered, Self::Opened, Self::Completed];

    /// The milestone `event` reaches, if any (delivery is an email's
    /// state, never an event: see [`Self::of_delivery`]).
    pub fn of_event(event: &UserEvent) -> Option<Self> {
        match event {
            UserEvent::InitCodeAdded { .. } | UserEvent::InviteCodeAdded { .. } => Some(Self::Created),
            UserEvent::LinkOpened { .. } => Some(Self::Opened),
            UserEvent::InitCheckSucceeded => Some(Self::Completed),
            _ => None,
        }
    }

    /// The milestone an email's record in `state` reaches, if any.
    pub fn of_delivery(state: DeliveryState) -> Option<Self> {
        (state == DeliveryState::Delivered).then_some(Self::Delivered)
    }
}

/// Why a waiting user is not pending, as the store marks and counts it
/// for the exact split of the waiting invitations (see
/// [`InvitationIndex::waiting_split`]); `Locked` takes precedence, as in
/// the invitation's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitingMark {
    /// Its code's failed attempts reached the maximum.
    Locked,
    /// Its code expired (counted once the expiry was told or a write saw it).
    Expired,
}

/// What a write tells the store about the user's [`WaitingMark`]: set it,
/// clear it (a new code, or no code: pending again), or keep it (nothing
/// the write did changes it). Leaving Initial clears it whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkChange {
    Set(WaitingMark),
    Clear,
    Keep,
}

impl MarkChange {
    /// The change a write of `events` leaving `user` makes, with codes
    /// locked at `max_attempts` failed attempts: judged at the write's time
    /// (`user.changed_at`), locked before expired as the view judges. An
    /// expired code is only set when seen (the expiry schedule tells the
    /// rest); it never clears one, so a node whose clock is behind keeps it.
    pub fn of_write(user: &crate::User, events: &[RecordedEvent], max_attempts: u32) -> Self {
        let Some(code) = user.init_code.as_ref().filter(|_| user.state == crate::UserState::Initial) else {
            return Self::Clear;
        };
        if code.failed_attempts >= max_attempts {
            Self::Set(WaitingMark::Locked)
        } else if events.iter().any(|e| Milestone::of_event(&e.event) == Some(Milestone::Created)) {
            Self::Clear
        } else if code.is_expired(user.changed_at) {
            Self::Set(WaitingMark::Expired)
        } else {
            Self::Keep
        }
    }

    /// The mark after this change of `current`.
    pub fn apply(self, current: Option<WaitingMark>) -> Option<WaitingMark> {
        match self {
            Self::Set(WaitingMark::Expired) if current == Some(WaitingMark::Locked) => current,
            Self::Set(mark) => Some(mark),
            Self::Clear => None,
            Self::Keep => current,
        }
    }
}

/// How many of an organization's waiting invitations are expired and
/// locked, exact (see [`InvitationIndex::waiting_split`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitingSplit {
    pub expired: u64,
    pub locked: u64,
}

/// How many of an organization's invitations ever reached each
/// [`Milestone`], exact: each invitation counted once per milestone, by the
/// atomic write that reaches it. Removing a user takes nothing back: they
/// count what happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FunnelCounts {
    pub created: u64,
    pub delivered: u64,
    pub opened: u64,
    pub completed: u64,
}

impl FunnelCounts {
    pub fn get(&self, m: Milestone) -> u64 {
        match m {
            Milestone::Created => self.created,
            Milestone::Delivered => self.delivered,
            Milestone::Opened => self.opened,
            Milestone::Completed => self.completed,
        }
    }

    pub fn add(&mut self, m: Milestone, n: u64) {
        match m {
            Milestone::Created => self.created += n,
            Milestone::Delivered => self.delivered += n,
            Milestone::Opened => self.opened += n,
            Milestone::Completed => self.completed += n,
        }
    }
}

/// The funnel's steps that have a duration: from the step before to this
/// one (created → delivered, delivered → opened, opened → completed).
pub const TIMED_STEPS: [Milestone; 3] = [Milestone::Delivered, Milestone::Opened, Milestone::Completed];

/// The histogram bucket of a step's duration of `seconds`: four buckets per
/// doubling of `seconds + 1`, linear within the doubling (so each is at most
/// 25% wide, and its geometric middle within 12% of anything in it).
/// Integer arithmetic only, so the store's scripts compute the same bucket
/// (the Redis store's durations.lua, the prelude of save.lua and put_notification.lua, repeats it).
pub fn duration_bucket(seconds: u64) -> u16 {
    let n = seconds.saturating_add(1);
    let k = 63 - n.leading_zeros() as u64;
    let j = ((n - (1 << k)) << 2) >> k;
    (4 * k + j) as u16
}

/// The geometric middle of `bucket`'s bounds (of `seconds + 1`, see
/// [`duration_bucket`]), in seconds: what a median in that bucket reports.
pub fn bucket_middle(bucket: u16) -> Duration {
    let (k, j) = (i32::from(bucket / 4), f64::from(bucket % 4));
    let low = 2f64.powi(k) * (1.0 + j / 4.0);
    let high = 2f64.powi(k) * (1.0 + (j + 1.0) / 4.0);
    Duration::from_secs_f64(((low * high).sqrt() - 1.0).max(0.0))
}

/// How long one step of the funnel took, per [`duration_bucket`]: how many
/// invitations' durations fell in each bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DurationHistogram(pub BTreeMap<u16, u64>);

impl DurationHistogram {
    pub fn add(&mut self, bucket: u16, n: u64) {
        if n > 0 {
            *self.0.entry(bucket).or_default() += n;
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// The median: the middle observation's bucket's middle (of an even
    /// count the lower middle's, as the sample's medians were). None when
    /// empty.
    pub fn median(&self) -> Option<Duration> {
        let rank = self.total().div_ceil(2);
        let mut seen = 0;
        self.0.iter().find_map(|(b, n)| {
            seen += n;
            (rank > 0 && seen >= rank).then(|| bucket_middle(*b))
        })
    }
}

/// The durations of an organization's [`TIMED_STEPS`], exact for the whole
/// organization: each invitation's duration binned once, by the atomic
/// write that counts the step (when the step before's time is known then).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunnelDurations(pub [DurationHistogram; 3]);

impl FunnelDurations {
    /// The histogram of the step to `m` (none for [`Milestone::Created`]).
    pub fn of(&self, m: Milestone) -> Option<&DurationHistogram> {
        TIMED_STEPS.iter().position(|t| *t == m).map(|i| &self.0[i])
    }

    pub fn of_mut(&mut self, m: Milestone) -> Option<&mut DurationHistogram> {
        TIMED_STEPS.iter().position(|t| *t == m).map(|i| &mut self.0[i])
    }
}

/// A user's funnel steps as its log and records show them, for a store's
/// backfill of the users counted before the histograms existed: each step's
/// bucket by the rule of [`InvitationIndex::funnel_durations`], and the
/// first delivery's and opening's times (whole seconds) a waiting user
/// keeps for timing a later step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayedSteps {
    pub buckets: Vec<(Milestone, u16)>,
    pub kept: [Option<i64>; 2],
}

/// Replays `events` (oldest first, from the user's creation) and
/// `notifications` through the timing rule: the invitation waits until its
/// code's check succeeds or it is removed; each milestone at its first
/// time, in time order (ties in [`Milestone::ALL`] order, as one write's).
pub fn replay_steps(events: &[RecordedEvent], notifications: &[Notification]) -> ReplayedSteps {
    let Some(created) = events.first().map(|e| e.at.unix_timestamp()) else { return ReplayedSteps::default() };
    let end = events
        .iter()
        .find(|e| matches!(e.event, UserEvent::InitCheckSucceeded | UserEvent::Removed))
        .map(|e| e.at.unix_timestamp());
    let mut reached: Vec<(i64, Milestone)> = Vec::new();
    for (at, m) in events.iter().filter_map(|e| Some((e.at.unix_timestamp(), Milestone::of_event(&e.event)?))).chain(
        notifications.iter().filter_map(|n| Some((n.updated_at.unix_timestamp(), Milestone::of_delivery(n.state)?))),
    ) {
        match reached.iter_mut().find(|(_, r)| *r == m) {
            Some((first, _)) => *first = (*first).min(at),
            None => reached.push((at, m)),
        }
    }
    reached.sort();
    let mut replayed = ReplayedSteps::default();
    let [delivered, opened] = &mut replayed.kept;
    for (i, (at, m)) in reached.iter().copied().enumerate() {
        let waiting = end.is_none_or(|e| at < e);
        let later = |l: Milestone| reached[..i].iter().any(|(_, r)| *r == l);
        let from = match m {
            Milestone::Created => None,
            Milestone::Delivered => {
                if waiting && !later(Milestone::Opened) {
                    *delivered = Some(at);
                }
                waiting.then_some(created)
            }
            Milestone::Opened => {
                let from = delivered.take().unwrap_or(created);
                if waiting && !later(Milestone::Completed) {
                    *opened = Some(at);
                }
                Some(from)
            }
            Milestone::Completed => Some(opened.take().or(delivered.take()).unwrap_or(created)),
        };
        if let Some(from) = from {
            replayed.buckets.push((m, duration_bucket(u64::try_from(at - from).unwrap_or(0))));
        }
    }
    if end.is_some() {
        replayed.kept = [None, None];
    }
    replayed
}

/// The invitation indexes, kept by the same atomic write that changes what
/// they index ([`UserRepository::save`](super::UserRepository::save)), so
/// an index never lags its user. [`InvitationSource::Waiting`] is the
/// users in state Initial (the state index every store keeps for
/// ListUsers); [`InvitationSource::Completed`] and
/// [`InvitationSource::Withdrawn`] the users that left Initial by their
/// code or were removed while Initial, each kept at least for the
/// retention period after that happened.
#[async_trait]
pub trait InvitationIndex: Send + Sync {
    /// Up to `count` entries of `org`'s `source`, newest first, each
    /// strictly after `after` in that order (older than it) when given.
    /// For the completed and withdrawn indexes only entries of what happened
    /// between `since` and `until` need to be there (a store may answer more;
    /// the use case judges each invitation itself). The cost does not grow
    /// with the size of the index.
    async fn invitations(
        &self,
        org: &OrgId,
        source: InvitationSource,
        window: (OffsetDateTime, OffsetDateTime),
        after: Option<Position>,
        count: u32,
    ) -> Result<Vec<(Position, UserId)>, Unavailable>;

    /// How many entries `org`'s `source` holds (for the ended ones: of what
    /// happened within `window`, as [`Self::invitations`] reads them).
    async fn count(
        &self,
        org: &OrgId,
        source: InvitationSource,
        window: (OffsetDateTime, OffsetDateTime),
    ) -> Result<u64, Unavailable>;

    /// Each of `ids`' event log (oldest first) and notifications (newest
    /// first), in order: what an invitation view is made of. In one round
    /// trip where the store can. By default one read after the other.
    async fn facts(&self, ids: &[UserId]) -> Result<Vec<Facts>, Unavailable>;

    /// How many of `org`'s waiting invitations (users in state Initial)
    /// have their latest email in each delivery state, exact: counters the
    /// store moves in the same atomic step as the latest email's record
    /// (its queuing by [`UserRepository::save`](super::UserRepository::save),
    /// its later states by the notification log) and as the user leaving
    /// Initial. States nobody is in are left out; in [`DeliveryState::as_str`]
    /// order. Waiting users without any email are in none.
    async fn delivery_counts(&self, org: &OrgId) -> Result<Vec<(DeliveryState, u64)>, Unavailable>;

    /// How many of `org`'s invitations reached each [`Milestone`], exact:
    /// counters the store moves in the same atomic step as the event or the
    /// email record that reaches it, once per user (a mark the store keeps
    /// per user and milestone).
    async fn funnel_counts(&self, org: &OrgId) -> Result<FunnelCounts, Unavailable>;

    /// The histograms of `org`'s [`TIMED_STEPS`]' durations, exact: moved
    /// in the same atomic step that counts the step for a user (see
    /// [`Self::funnel_counts`]), by [`duration_bucket`] of the whole seconds
    /// (of each time since the epoch, subtracted; none below zero) from the
    /// step before (delivered → opened from the creation when no
    /// delivery was known when the link was opened; opened → completed from
    /// the delivery, else the creation, when the link was never opened).
    /// A delivery reported once the user left Initial is counted, not timed.
    async fn funnel_durations(&self, org: &OrgId) -> Result<FunnelDurations, Unavailable>;

    /// How many of `org`'s waiting invitations are locked and expired,
    /// exact: counters the store moves with a per-user [`WaitingMark`] in
    /// the same atomic step as the write that locks the code, issues a new
    /// one or takes the user out of Initial ([`MarkChange::of_write`]), and
    /// as the settling of the expiries
    /// ([`HookQueue::settle_expiries`](super::HookQueue::settle_expiries)
    /// marks each user it records an `invitation.expired` event for, if
    /// still at that event's sequence and not locked). An expiry is counted
    /// when the expiry schedule tells it, not at the instant.
    async fn waiting_split(&self, org: &OrgId) -> Result<WaitingSplit, Unavailable>;

    /// All four of `org`'s counters at once ([`Self::delivery_counts`],
    /// [`Self::funnel_counts`], [`Self::funnel_durations`],
    /// [`Self::waiting_split`]): what the statistics read, in one round
    /// trip where the store keeps them together. By default one read after
    /// the other.
    async fn invitation_counts(&self, org: &OrgId) -> Result<InvitationCounts, Unavailable> {
        Ok(InvitationCounts {
            deliveries: self.delivery_counts(org).await?,
            funnel: self.funnel_counts(org).await?,
            durations: self.funnel_durations(org).await?,
            split: self.waiting_split(org).await?,
        })
    }
}

/// Everything an organization's invitation counters say (see
/// [`InvitationIndex::invitation_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationCounts {
    pub deliveries: Vec<(DeliveryState, u64)>,
    pub funnel: FunnelCounts,
    pub durations: FunnelDurations,
    pub split: WaitingSplit,
}

#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    pub InvitationIndex {}
    #[async_trait]
    impl InvitationIndex for InvitationIndex {
        async fn invitations(
            &self,
            org: &OrgId,
            source: InvitationSource,
            window: (OffsetDateTime, OffsetDateTime),
            after: Option<Position>,
            count: u32,
        ) -> Result<Vec<(Position, UserId)>, Unavailable>;
        async fn count(
            &self,
            org: &OrgId,
            source: InvitationSource,
            window: (OffsetDateTime, OffsetDateTime),
        ) -> Result<u64, Unavailable>;
        async fn facts(&self, ids: &[UserId]) -> Result<Vec<Facts>, Unavailable>;
        async fn delivery_counts(&self, org: &OrgId) -> Result<Vec<(DeliveryState, u64)>, Unavailable>;
        async fn funnel_counts(&self, org: &OrgId) -> Result<FunnelCounts, Unavailable>;
        async fn funnel_durations(&self, org: &OrgId) -> Result<FunnelDurations, Unavailable>;
        async fn waiting_split(&self, org: &OrgId) -> Result<WaitingSplit, Unavailable>;
    }
}
