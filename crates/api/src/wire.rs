//! The JSON shapes of onboard's own additions to the Management API (the
//! notification list), laid out as ZITADEL's gateway writes its messages:
//! lowerCamelCase, unset fields omitted. ZITADEL's own messages are the
//! contract's (`onboard_contract::pb`), described from their descriptors.

use onboard_domain as domain;
use poem_openapi::{Enum, Object};

use crate::scalars::Timestamp;

/// What became of an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1NotificationState", rename_all = "snake_case")]
pub enum NotificationState {
    Queued,
    Sending,
    Sent,
    Deferred,
    Delivered,
    Bounced,
    Dropped,
    SpamReported,
    Failed,
    Superseded,
    Expired,
    /// Not sent: the user was removed first.
    Withdrawn,
}

impl From<domain::DeliveryState> for NotificationState {
    fn from(s: domain::DeliveryState) -> Self {
        use domain::DeliveryState as D;
        match s {
            D::Queued => Self::Queued,
            D::Sending => Self::Sending,
            D::Sent => Self::Sent,
            D::Deferred => Self::Deferred,
            D::Delivered => Self::Delivered,
            D::Bounced => Self::Bounced,
            D::Dropped => Self::Dropped,
            D::SpamReported => Self::SpamReported,
            D::Failed => Self::Failed,
            D::Superseded => Self::Superseded,
            D::Expired => Self::Expired,
            D::Withdrawn => Self::Withdrawn,
        }
    }
}

/// What an email is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1NotificationKind", rename_all = "snake_case")]
pub enum NotificationKind {
    /// The invitation: a created user's code, a resend, an invite code, a renewal.
    Invitation,
    /// A scheduled reminder before the code expires (`ONBOARD_REMINDERS`), with a fresh code.
    Reminder,
}

impl From<domain::NotificationKind> for NotificationKind {
    fn from(k: domain::NotificationKind) -> Self {
        match k {
            domain::NotificationKind::Invitation => Self::Invitation,
            domain::NotificationKind::Reminder => Self::Reminder,
        }
    }
}

/// One initialization email.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1Notification", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct NotificationView {
    /// The id returned in `x-onboard-notification-id`.
    pub id: String,
    pub state: NotificationState,
    pub recipient: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the email became due.
    pub creation_date: Timestamp,
    /// When its state last changed.
    pub change_date: Timestamp,
    /// Why the last attempt failed, or why it bounced or was dropped.
    pub last_error: Option<String>,
    /// The mail provider's id of the message.
    pub provider_message_id: Option<String>,
    /// Invitation or reminder.
    pub kind: NotificationKind,
}

impl From<domain::Notification> for NotificationView {
    fn from(n: domain::Notification) -> Self {
        Self {
            id: n.id.to_string(),
            state: n.state.into(),
            recipient: n.recipient.to_string(),
            attempts: n.attempts,
            creation_date: Timestamp(n.created_at),
            change_date: Timestamp(n.updated_at),
            last_error: n.last_error,
            provider_message_id: n.provider_message_id,
            kind: n.kind.into(),
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ListUserNotificationsResponse", rename_all = "camelCase")]
pub struct ListNotificationsResponse {
    pub result: Vec<NotificationView>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1InvitationState", rename_all = "snake_case")]
pub enum InvitationStateView {
    /// Its code is live.
    Pending,
    /// Its code expired unused.
    Expired,
    /// Its code took too many wrong attempts; a resend gives a new one.
    Locked,
    /// The user finished its initialization.
    Completed,
    /// The user was removed while it was still invited.
    Withdrawn,
}

impl From<domain::InvitationState> for InvitationStateView {
    fn from(s: domain::InvitationState) -> Self {
        use domain::InvitationState as S;
        match s {
            S::Pending => Self::Pending,
            S::Expired => Self::Expired,
            S::Locked => Self::Locked,
            S::Completed => Self::Completed,
            S::Withdrawn => Self::Withdrawn,
        }
    }
}

/// What became of the invitation's latest email.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1InvitationDelivery", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct DeliveryView {
    pub state: NotificationState,
    /// When it got to that state.
    pub at: Timestamp,
    /// Why it failed, bounced or was dropped.
    pub reason: Option<String>,
}

/// An invitation: a user that has (had) an initialization code.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1Invitation", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct InvitationView {
    pub user_id: String,
    pub login_name: String,
    pub email: String,
    pub org_id: String,
    pub state: InvitationStateView,
    pub created_at: Timestamp,
    /// The current code's expiry (none once it is used or gone).
    pub code_expires_at: Option<Timestamp>,
    /// Codes issued after the first.
    pub resends: u32,
    pub last_resent_at: Option<Timestamp>,
    /// The latest email's delivery; none before any email.
    pub delivery: Option<DeliveryView>,
    /// When the current link's page was first shown; none if never.
    pub opened: Option<Timestamp>,
    pub reminders_sent: u32,
}

impl From<domain::Invitation> for InvitationView {
    fn from(i: domain::Invitation) -> Self {
        Self {
            user_id: i.user_id.to_string(),
            login_name: i.login_name,
            email: i.email.to_string(),
            org_id: i.org_id.to_string(),
            state: i.state.into(),
            created_at: Timestamp(i.created_at),
            code_expires_at: i.code_expires_at.map(Timestamp),
            resends: i.resends,
            last_resent_at: i.last_resent_at.map(Timestamp),
            delivery: i.delivery.map(|d| DeliveryView { state: d.state.into(), at: Timestamp(d.at), reason: d.reason }),
            opened: i.opened.map(Timestamp),
            reminders_sent: i.reminders_sent,
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ListInvitationsResponse", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct ListInvitationsResponse {
    pub invitations: Vec<InvitationView>,
    /// Where the next page starts; none after the last. A page may hold
    /// fewer invitations than asked (even none) and still have one.
    pub next_page_token: Option<String>,
}

/// The invitation listing's filter, as a bulk resend takes it.
#[derive(Debug, Clone, Default, Object)]
#[oai(rename = "v1InvitationFilter", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct InvitationFilterBody {
    /// `pending`, `expired`, `locked`, `completed` or `withdrawn`.
    pub state: Option<String>,
    /// The latest email's state (`bounced`, `delivered`, ...).
    pub delivery: Option<String>,
    /// RFC 3339.
    pub expires_before: Option<String>,
    /// RFC 3339.
    pub created_before: Option<String>,
    pub opened: Option<bool>,
}

/// Whom to resend to: `userIds` or `filter`, exactly one.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ResendInvitationsRequest", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct ResendInvitationsRequest {
    /// 1 to 1,000 user ids; duplicates count once.
    pub user_ids: Option<Vec<String>>,
    /// The listing's filter; it may match at most 10,000 invitations.
    pub filter: Option<InvitationFilterBody>,
}

/// What became of one user's resend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1ResendOutcome", rename_all = "snake_case")]
pub enum ResendOutcome {
    /// A new code and email.
    Resent,
    /// Refused by a throttle, as a single resend would be; see `retryAfter`.
    Throttled,
    /// The user is no longer waiting for its initialization.
    NotPending,
    /// Not in the organization, removed, or unknown.
    NotFound,
    /// The store failed for this user; nothing changed for it and it may be tried again.
    Failed,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ResendResult", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct ResendResultView {
    pub user_id: String,
    pub outcome: ResendOutcome,
    /// The new email's id (as `x-onboard-notification-id` names it).
    pub notification_id: Option<String>,
    /// Whole seconds until this user's resend may succeed.
    pub retry_after: Option<u64>,
    pub reason: Option<String>,
}

impl From<domain::usecases::BulkResult> for ResendResultView {
    fn from(r: domain::usecases::BulkResult) -> Self {
        use domain::usecases::BulkOutcome as O;
        let retry_after = r.retry_after().map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        let (outcome, notification_id, reason) = match r.outcome {
            O::Resent(n) => (ResendOutcome::Resent, Some(n.to_string()), None),
            O::Throttled(t) => (ResendOutcome::Throttled, None, Some(t.reason.describe().to_owned())),
            O::NotPending => (ResendOutcome::NotPending, None, Some("the user is already initialized".to_owned())),
            O::NotFound => (ResendOutcome::NotFound, None, None),
            O::Failed(why) => (ResendOutcome::Failed, None, Some(why)),
        };
        Self { user_id: r.user_id.to_string(), outcome, notification_id, retry_after, reason }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1ResendInvitationsResponse", rename_all = "camelCase")]
pub struct ResendInvitationsResponse {
    /// One per user, in the order named (a filter's: newest first).
    pub results: Vec<ResendResultView>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1InvitationStateCount", rename_all = "camelCase")]
pub struct StateCount {
    pub state: InvitationStateView,
    pub count: u64,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1DeliveryStateCount", rename_all = "camelCase")]
pub struct DeliveryCount {
    pub state: NotificationState,
    pub count: u64,
}

/// A step of the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "v1FunnelStepName", rename_all = "snake_case")]
pub enum FunnelStepName {
    Created,
    Delivered,
    Opened,
    Completed,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1FunnelStep", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct FunnelStepView {
    pub step: FunnelStepName,
    /// How many of the organization's invitations ever reached the step,
    /// exact (each once; removed users' stay counted): created is a first
    /// code issued, delivered an email the provider first reported
    /// delivered, opened the link's page first shown, completed the code's
    /// check succeeded.
    pub count: u64,
    /// Median seconds from the step before, exact for the organization's
    /// invitations whose step was timed, to a histogram's resolution: the
    /// geometric middle of the bucket (four per doubling of seconds + 1,
    /// each at most 25% wide) holding the middle one (the lower middle of
    /// an even count), within 12% of the exact median. Opened is timed from
    /// the first delivery when one was known by then, else from the
    /// creation; completed from the first opening, else the first
    /// delivery, else the creation; a delivery reported after the
    /// invitation ended is counted, not timed. Absent when none was timed.
    pub median_seconds_from_previous: Option<f64>,
}

/// Totals counted in the indexes, exact.
#[derive(Debug, Clone, Object)]
#[oai(rename = "v1InvitationTotals", rename_all = "camelCase")]
pub struct InvitationTotals {
    /// Users waiting for their initialization (pending, expired and locked).
    pub waiting: u64,
    /// Completed within the retention period (by whole weeks on Redis).
    pub completed: u64,
    /// Withdrawn within the retention period (by whole weeks on Redis).
    pub withdrawn: u64,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "v1InvitationStatsResponse", rename_all = "camelCase")]
pub struct InvitationStatsResponse {
    pub totals: InvitationTotals,
    /// Every state's count, exact for the whole organization: pending,
    /// expired and locked split the waiting ones (locked taking precedence;
    /// an expiry is counted when the expiry schedule tells it, within about
    /// a second while a node runs); completed and withdrawn are the totals.
    pub by_state: Vec<StateCount>,
    /// The waiting invitations (pending, expired, locked) by their latest
    /// email's state, exact for the whole organization; states with none
    /// and invitations without an email are left out.
    pub by_delivery: Vec<DeliveryCount>,
    /// created → delivered → opened → completed: counts and medians exact
    /// for the whole organization (the medians to their histograms'
    /// resolution).
    pub funnel: Vec<FunnelStepView>,
}

impl From<domain::usecases::InvitationStats> for InvitationStatsResponse {
    fn from(s: domain::usecases::InvitationStats) -> Self {
        let step = |step, f: domain::usecases::FunnelStep| FunnelStepView {
            step,
            count: f.count,
            median_seconds_from_previous: f.median_from_previous.map(|d| d.as_secs_f64()),
        };
        Self {
            totals: InvitationTotals { waiting: s.waiting, completed: s.completed, withdrawn: s.withdrawn },
            by_state: s.by_state.into_iter().map(|(state, count)| StateCount { state: state.into(), count }).collect(),
            by_delivery: s
                .by_delivery
                .into_iter()
                .map(|(state, count)| DeliveryCount { state: state.into(), count })
                .collect(),
            funnel: vec![
                step(FunnelStepName::Created, s.created),
                step(FunnelStepName::Delivered, s.delivered),
                step(FunnelStepName::Opened, s.opened),
                step(FunnelStepName::Completed, s.finished),
            ],
        }
    }
}
