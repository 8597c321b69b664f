//! Where invitations are found: per organization, newest first.

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
    }
}
