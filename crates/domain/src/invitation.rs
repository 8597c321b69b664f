//! The invitation view of a user: a user that has (had) an init code, seen
//! as the invitation it stands for. Derived on reading from the user, its
//! event log and its notifications; nothing of it is stored on its own
//! except the indexes that find the users (see
//! [`InvitationIndex`](crate::ports::InvitationIndex)).

use base64::Engine;
use time::{Duration, OffsetDateTime};

use crate::email::EmailAddress;
use crate::events::{RecordedEvent, UserEvent};
use crate::ids::{OrgId, UserId};
use crate::notifications::{DeliveryState, Notification};
use crate::user::{User, UserState};

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationState {
    /// Its code is live: not expired, attempts left.
    Pending,
    /// Its code expired unused.
    Expired,
    /// Its code took too many wrong attempts; only a resend helps.
    Locked,
    /// The user finished its initialization (left Initial with the code).
    Completed,
    /// The user was removed while it was still Initial.
    Withdrawn,
}

impl InvitationState {
    pub const ALL: [Self; 5] = [Self::Pending, Self::Expired, Self::Locked, Self::Completed, Self::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Expired => "expired",
            Self::Locked => "locked",
            Self::Completed => "completed",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Where a store keeps the invitations in this state.
    pub fn source(self) -> InvitationSource {
        match self {
            Self::Pending | Self::Expired | Self::Locked => InvitationSource::Waiting,
            Self::Completed => InvitationSource::Completed,
            Self::Withdrawn => InvitationSource::Withdrawn,
        }
    }
}

/// The index an invitation is found through: the users still Initial (the
/// state index every store keeps anyway), and two small ones of the users
/// that completed or were withdrawn, each kept for the retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationSource {
    Waiting,
    Completed,
    Withdrawn,
    /// The waiting ones whose latest email is exceptional (bounced, dropped,
    /// spam reported, failed): few, and what a back office asks for first.
    DeliveryException,
}

impl InvitationSource {
    /// The indexes that hold every invitation once.
    pub const ALL: [Self; 3] = [Self::Waiting, Self::Completed, Self::Withdrawn];

    /// Whether an invitation in `state` is shown from this index (a user
    /// that moved meanwhile is in two, and shows from the one of its state).
    pub fn holds(self, state: InvitationState) -> bool {
        match self {
            Self::DeliveryException => state.source() == Self::Waiting,
            source => state.source() == source,
        }
    }
}

/// Where an entry of an invitation index stands: creation time in
/// milliseconds, then a key the store derives from the user id (and orders
/// as the ids of one millisecond). Listings run newest first, so "after" a
/// position means "less than it".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub created_ms: i64,
    pub key: String,
}

/// The latest email's delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub state: DeliveryState,
    pub at: OffsetDateTime,
    pub reason: Option<String>,
}

/// One invitation, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub user_id: UserId,
    pub login_name: String,
    pub email: EmailAddress,
    pub org_id: OrgId,
    pub state: InvitationState,
    pub created_at: OffsetDateTime,
    /// The current code's expiry; none once the code is used or gone.
    pub code_expires_at: Option<OffsetDateTime>,
    /// Codes issued after the first one.
    pub resends: u32,
    pub last_resent_at: Option<OffsetDateTime>,
    pub delivery: Option<Delivery>,
    /// First page view of the current invitation's link.
    pub opened: Option<OffsetDateTime>,
    pub reminders_sent: u32,
    /// When it completed or was withdrawn.
    pub ended_at: Option<OffsetDateTime>,
}

/// What decides an invitation's state beyond the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationRules {
    /// Wrong attempts that lock a code ([`InitCodeConfig::max_attempts`](crate::InitCodeConfig)).
    pub max_attempts: u32,
    /// How long completed and withdrawn invitations stay listed.
    pub retention: Duration,
}

impl Default for InvitationRules {
    fn default() -> Self {
        Self { max_attempts: 5, retention: DEFAULT_RETENTION }
    }
}

/// How long completed and withdrawn invitations stay listed by default.
pub const DEFAULT_RETENTION: Duration = Duration::days(30);

fn is_code(event: &UserEvent) -> bool {
    matches!(event, UserEvent::InitCodeAdded { .. } | UserEvent::InviteCodeAdded { .. })
}

/// The codes of `events` (oldest first), each with whether a reminder
/// issued it (a reminder's code follows its `ReminderIssued`).
fn codes(events: &[RecordedEvent]) -> impl Iterator<Item = (&RecordedEvent, bool)> {
    events.iter().enumerate().filter(|(_, e)| is_code(&e.event)).map(|(i, e)| {
        let by_reminder = i > 0 && matches!(events[i - 1].event, UserEvent::ReminderIssued);
        (e, by_reminder)
    })
}

/// The reminders sent for the invitation's current deadline: those since
/// the newest code a reminder did not issue (a resend or renewal sets a new
/// deadline, whose reminders count anew).
pub fn reminders_sent(events: &[RecordedEvent], _notifications: &[Notification]) -> u32 {
    let since = codes(events).filter(|(_, by_reminder)| !by_reminder).last().map_or(0, |(e, _)| e.sequence);
    let sent = events.iter().filter(|e| e.sequence > since && matches!(e.event, UserEvent::ReminderIssued)).count();
    u32::try_from(sent).unwrap_or(u32::MAX)
}

/// The state of an Initial user's invitation from the user alone.
fn waiting_state(user: &User, now: OffsetDateTime, rules: &InvitationRules) -> InvitationState {
    match &user.init_code {
        Some(code) if code.failed_attempts >= rules.max_attempts => InvitationState::Locked,
        Some(code) if code.is_expired(now) => InvitationState::Expired,
        // No code while Initial: the invite code was proven and the user
        // sets its password next; still on its way, so pending.
        _ => InvitationState::Pending,
    }
}

impl Invitation {
    /// The invitation `user` stands for, given its log `events` (oldest
    /// first) and its `notifications` (newest first); `None` when the user
    /// never had a code, left Initial other than by its code, or completed
    /// or was withdrawn longer than the retention period ago.
    pub fn of(
        user: &User,
        events: &[RecordedEvent],
        notifications: &[Notification],
        now: OffsetDateTime,
        rules: &InvitationRules,
    ) -> Option<Self> {
        let (last, _) = codes(events).last()?;
        // Resends are the codes after the first that a reminder did not issue.
        let resent: Vec<&RecordedEvent> = codes(events).skip(1).filter(|(_, r)| !r).map(|(e, _)| e).collect();
        let completed = events.iter().find(|e| matches!(e.event, UserEvent::InitCheckSucceeded));
        let removed = events.iter().find(|e| matches!(e.event, UserEvent::Removed));
        let (state, code_expires_at, ended_at) = match (user.state, completed, removed) {
            (UserState::Initial, _, _) => {
                (waiting_state(user, now, rules), user.init_code.as_ref().map(|c| c.expires_at), None)
            }
            (UserState::Deleted, None, Some(r)) if now - r.at < rules.retention => {
                (InvitationState::Withdrawn, None, Some(r.at))
            }
            (UserState::Deleted, _, _) => return None,
            (_, Some(c), _) if now - c.at < rules.retention => (InvitationState::Completed, None, Some(c.at)),
            _ => return None,
        };
        // The current invitation is the newest code's: its generation is
        // the sequence of the event that added it.
        let generation = last.sequence;
        let opened = events
            .iter()
            .find(|e| matches!(e.event, UserEvent::LinkOpened { generation: g } if g == generation))
            .map(|e| e.at);
        let delivery =
            notifications.first().map(|n| Delivery { state: n.state, at: n.updated_at, reason: n.last_error.clone() });
        Some(Self {
            user_id: user.id.clone(),
            login_name: user.login_name().to_owned(),
            email: user.email.address.clone(),
            org_id: user.org.clone(),
            state,
            created_at: user.created_at,
            code_expires_at,
            resends: u32::try_from(resent.len()).unwrap_or(u32::MAX),
            last_resent_at: resent.last().map(|e| e.at),
            delivery,
            opened,
            reminders_sent: reminders_sent(events, notifications),
            ended_at,
        })
    }
}

/// A filter that cannot hold for any invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Completed and withdrawn invitations have no live code to expire.
    #[error("expiresBefore applies to pending, expired and locked invitations only, not {0}")]
    ExpiryOfFinished(&'static str),
}

/// Which invitations a listing shows: every condition given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvitationFilter {
    state: Option<InvitationState>,
    delivery: Option<DeliveryState>,
    expires_before: Option<OffsetDateTime>,
    created_before: Option<OffsetDateTime>,
    opened: Option<bool>,
}

impl InvitationFilter {
    pub fn new(
        state: Option<InvitationState>,
        delivery: Option<DeliveryState>,
        expires_before: Option<OffsetDateTime>,
        created_before: Option<OffsetDateTime>,
        opened: Option<bool>,
    ) -> Result<Self, FilterError> {
        if let (Some(s @ (InvitationState::Completed | InvitationState::Withdrawn)), Some(_)) = (state, expires_before)
        {
            return Err(FilterError::ExpiryOfFinished(s.as_str()));
        }
        Ok(Self { state, delivery, expires_before, created_before, opened })
    }

    pub fn state(&self) -> Option<InvitationState> {
        self.state
    }

    pub fn created_before(&self) -> Option<OffsetDateTime> {
        self.created_before
    }

    /// The filter as one line of text, the same for the same filter: what
    /// makes two requests with one idempotency key the same.
    pub fn canonical(&self) -> String {
        let time = |t: Option<OffsetDateTime>| t.map_or(String::new(), |t| t.unix_timestamp_nanos().to_string());
        format!(
            "state={}&delivery={}&expiresBefore={}&createdBefore={}&opened={}",
            self.state.map_or("", InvitationState::as_str),
            self.delivery.map_or("", DeliveryState::as_str),
            time(self.expires_before),
            time(self.created_before),
            self.opened.map_or("", |o| if o { "true" } else { "false" }),
        )
    }

    /// The indexes the matching invitations are in.
    pub fn sources(&self) -> Vec<InvitationSource> {
        use InvitationSource::{Completed, DeliveryException, Waiting, Withdrawn};
        // Waiting ones with an exceptional latest email have an index of their own.
        let waiting =
            if self.delivery.is_some_and(DeliveryState::is_exceptional) { DeliveryException } else { Waiting };
        match (self.state, self.expires_before) {
            (Some(s), _) if s.source() == Waiting => vec![waiting],
            (Some(s), _) => vec![s.source()],
            // Only a live code expires.
            (None, Some(_)) => vec![waiting],
            (None, None) => vec![waiting, Completed, Withdrawn],
        }
    }

    /// Whether the invitation of `user` may match, judged on the user alone:
    /// what a listing checks before reading the user's log.
    pub fn may_match_user(&self, user: &User, now: OffsetDateTime, rules: &InvitationRules) -> bool {
        if self.created_before.is_some_and(|c| user.created_at >= c) {
            return false;
        }
        if user.state != UserState::Initial {
            return true;
        }
        let state = waiting_state(user, now, rules);
        if self.state.is_some_and(|s| s != state) {
            return false;
        }
        match (self.expires_before, &user.init_code) {
            (Some(limit), Some(code)) => code.expires_at < limit,
            (Some(_), None) => false,
            (None, _) => true,
        }
    }

    pub fn matches(&self, invitation: &Invitation) -> bool {
        self.state.is_none_or(|s| s == invitation.state)
            && self.delivery.is_none_or(|d| invitation.delivery.as_ref().is_some_and(|x| x.state == d))
            && self.expires_before.is_none_or(|e| invitation.code_expires_at.is_some_and(|x| x < e))
            && self.created_before.is_none_or(|c| invitation.created_at < c)
            && self.opened.is_none_or(|o| invitation.opened.is_some() == o)
    }
}

/// A page token that is not one this server made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the page token is not one a listing of invitations returned")]
pub struct BadPageToken;

/// Where the next page starts: the position of the last invitation the
/// listing looked at. Opaque to callers (URL-safe base64 of a version, the
/// creation milliseconds and the store's key of the user id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(pub Position);

impl PageToken {
    const VERSION: &str = "i1";

    pub fn encode(&self) -> String {
        let raw = format!("{}:{}:{}", Self::VERSION, self.0.created_ms, self.0.key);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(token: &str) -> Result<Self, BadPageToken> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| BadPageToken)?;
        let raw = String::from_utf8(bytes).map_err(|_| BadPageToken)?;
        let mut parts = raw.splitn(3, ':');
        if parts.next() != Some(Self::VERSION) {
            return Err(BadPageToken);
        }
        let created_ms = parts.next().and_then(|m| m.parse::<i64>().ok()).ok_or(BadPageToken)?;
        let key = parts.next().filter(|k| !k.is_empty()).ok_or(BadPageToken)?;
        Ok(Self(Position { created_ms, key: key.to_owned() }))
    }
}

/// One page of invitations and where the next one starts (none at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationPage {
    pub invitations: Vec<Invitation>,
    pub next_page_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NotificationId;
    use crate::init_code::CodeHash;
    use crate::user::{Email, Profile, UserName};

    const T0: OffsetDateTime = time::macros::datetime!(2026-01-01 12:00 UTC);

    fn rules() -> InvitationRules {
        InvitationRules::default()
    }

    /// An Initial user with a code added at `T0` (expiring after 72 h), and its log.
    fn invited() -> (User, Vec<RecordedEvent>) {
        let (mut user, added) = User::create(
            UserId::parse("7").unwrap(),
            OrgId::parse("1").unwrap(),
            UserEvent::Added {
                user_name: UserName::parse("jane").unwrap(),
                profile: Profile::default(),
                email: Email { address: EmailAddress::parse("jane@example.com").unwrap(), verified: false },
                phone: None,
                state: UserState::Initial,
                password_hash: None,
                password_change_required: false,
            },
            T0,
        );
        let code = user.record(code_added(T0), T0);
        (user, vec![added, code])
    }

    fn code_added(at: OffsetDateTime) -> UserEvent {
        UserEvent::InitCodeAdded { hash: CodeHash([1; 32]), expires_at: at + Duration::hours(72) }
    }

    fn notification(state: DeliveryState, at: OffsetDateTime, reason: Option<&str>) -> Notification {
        Notification {
            id: NotificationId::parse("n1").unwrap(),
            user_id: UserId::parse("7").unwrap(),
            recipient: EmailAddress::parse("jane@example.com").unwrap(),
            state,
            created_at: T0,
            updated_at: at,
            attempts: 1,
            last_error: reason.map(Into::into),
            provider_message_id: None,
            kind: Default::default(),
        }
    }

    fn view(user: &User, log: &[RecordedEvent], now: OffsetDateTime) -> Option<Invitation> {
        Invitation::of(user, log, &[], now, &rules())
    }

    #[test]
    fn a_live_code_is_pending_until_it_expires_or_locks() {
        let (mut user, log) = invited();
        let v = view(&user, &log, T0 + Duration::hours(1)).unwrap();
        assert_eq!(
            (v.state, v.code_expires_at, v.resends, v.last_resent_at),
            (InvitationState::Pending, Some(T0 + Duration::hours(72)), 0, None)
        );
        assert_eq!((v.login_name.as_str(), v.email.as_str(), v.created_at), ("jane", "jane@example.com", T0));
        assert_eq!(view(&user, &log, T0 + Duration::hours(72)).unwrap().state, InvitationState::Expired);
        user.init_code.as_mut().unwrap().failed_attempts = 5;
        assert_eq!(view(&user, &log, T0).unwrap().state, InvitationState::Locked, "attempts count before expiry");
        user.init_code.as_mut().unwrap().failed_attempts = 4;
        assert_eq!(view(&user, &log, T0).unwrap().state, InvitationState::Pending);
    }

    #[test]
    fn users_without_a_code_are_no_invitation() {
        let (user, log) = invited();
        assert_eq!(view(&user, &log[..1], T0), None);
    }

    #[test]
    fn resends_count_codes_after_the_first_and_opened_is_the_current_codes() {
        let (mut user, mut log) = invited();
        log.push(user.record(UserEvent::LinkOpened { generation: 2 }, T0 + Duration::minutes(5)));
        assert_eq!(view(&user, &log, T0).unwrap().opened, Some(T0 + Duration::minutes(5)));
        let resent_at = T0 + Duration::hours(1);
        log.push(user.record(code_added(resent_at), resent_at));
        let v = view(&user, &log, resent_at).unwrap();
        assert_eq!((v.resends, v.last_resent_at, v.opened), (1, Some(resent_at), None), "the new link is unopened");
        let generation = user.sequence;
        log.push(user.record(UserEvent::LinkOpened { generation }, resent_at + Duration::minutes(1)));
        log.push(user.record(UserEvent::LinkOpened { generation }, resent_at + Duration::minutes(9)));
        assert_eq!(
            view(&user, &log, resent_at).unwrap().opened,
            Some(resent_at + Duration::minutes(1)),
            "the first view"
        );
        assert_eq!(view(&user, &log, resent_at).unwrap().reminders_sent, 0);
    }

    #[test]
    fn reminders_are_counted_for_the_current_deadline_and_are_not_resends() {
        let (mut user, mut log) = invited();
        let remind = |user: &mut User, log: &mut Vec<RecordedEvent>, at: OffsetDateTime| {
            log.push(user.record(UserEvent::ReminderIssued, at));
            log.push(user.record(code_added(at), at));
        };
        remind(&mut user, &mut log, T0 + Duration::hours(24));
        remind(&mut user, &mut log, T0 + Duration::hours(48));
        let v = view(&user, &log, T0 + Duration::hours(48)).unwrap();
        assert_eq!((v.reminders_sent, v.resends, v.last_resent_at), (2, 0, None));
        // A resend sets a new deadline: its reminders count anew.
        let resent_at = T0 + Duration::hours(50);
        log.push(user.record(code_added(resent_at), resent_at));
        let v = view(&user, &log, resent_at).unwrap();
        assert_eq!((v.reminders_sent, v.resends, v.last_resent_at), (0, 1, Some(resent_at)));
        remind(&mut user, &mut log, resent_at + Duration::hours(1));
        assert_eq!(view(&user, &log, resent_at).unwrap().reminders_sent, 1);
    }

    #[test]
    fn the_latest_email_is_the_delivery() {
        let (user, log) = invited();
        let later = T0 + Duration::minutes(3);
        let notes = [
            notification(DeliveryState::Bounced, later, Some("550 no such user")),
            notification(DeliveryState::Delivered, T0, None),
        ];
        let v = Invitation::of(&user, &log, &notes, T0, &rules()).unwrap();
        assert_eq!(
            v.delivery,
            Some(Delivery { state: DeliveryState::Bounced, at: later, reason: Some("550 no such user".into()) })
        );
        assert_eq!(view(&user, &log, T0).unwrap().delivery, None);
    }

    #[test]
    fn completed_and_withdrawn_show_for_the_retention_period() {
        let (mut user, mut log) = invited();
        let done = T0 + Duration::hours(2);
        log.push(user.record(UserEvent::InitCheckSucceeded, done));
        let v = view(&user, &log, done).unwrap();
        assert_eq!((v.state, v.code_expires_at), (InvitationState::Completed, None));
        assert_eq!(
            view(&user, &log, done + Duration::days(30) - Duration::seconds(1)).unwrap().state,
            InvitationState::Completed
        );
        assert_eq!(view(&user, &log, done + Duration::days(30)), None);
        // Removed after completing: no invitation any more.
        log.push(user.record(UserEvent::Removed, done));
        assert_eq!(view(&user, &log, done), None);

        let (mut user, mut log) = invited();
        log.push(user.record(UserEvent::Removed, done));
        assert_eq!(view(&user, &log, done).unwrap().state, InvitationState::Withdrawn);
        assert_eq!(view(&user, &log, done + Duration::days(31)), None);
        let short = InvitationRules { retention: Duration::hours(1), ..rules() };
        assert_eq!(Invitation::of(&user, &log, &[], done + Duration::hours(1), &short), None);
    }

    #[test]
    fn users_that_left_initial_otherwise_are_no_invitation() {
        let (mut user, log) = invited();
        user.state = UserState::Inactive;
        assert_eq!(view(&user, &log, T0), None);
    }

    #[test]
    fn filters_check_every_condition_given() {
        let (user, log) = invited();
        let notes = [notification(DeliveryState::Bounced, T0, None)];
        let v = Invitation::of(&user, &log, &notes, T0, &rules()).unwrap();
        let f = |s, d, e, c, o| InvitationFilter::new(s, d, e, c, o).unwrap();
        assert!(f(None, None, None, None, None).matches(&v));
        assert!(f(Some(InvitationState::Pending), Some(DeliveryState::Bounced), None, None, Some(false)).matches(&v));
        assert!(!f(Some(InvitationState::Expired), None, None, None, None).matches(&v));
        assert!(!f(None, Some(DeliveryState::Delivered), None, None, None).matches(&v));
        assert!(!f(None, None, None, None, Some(true)).matches(&v));
        let expiry = T0 + Duration::hours(72);
        assert!(f(None, None, Some(expiry + Duration::seconds(1)), None, None).matches(&v));
        assert!(!f(None, None, Some(expiry), None, None).matches(&v), "before is strict");
        assert!(f(None, None, None, Some(T0 + Duration::seconds(1)), None).matches(&v));
        assert!(!f(None, None, None, Some(T0), None).matches(&v));
        let no_delivery = view(&user, &log, T0).unwrap();
        assert!(!f(None, Some(DeliveryState::Queued), None, None, None).matches(&no_delivery));
    }

    #[test]
    fn contradictory_filters_are_refused() {
        for s in [InvitationState::Completed, InvitationState::Withdrawn] {
            assert_eq!(
                InvitationFilter::new(Some(s), None, Some(T0), None, None),
                Err(FilterError::ExpiryOfFinished(s.as_str()))
            );
        }
        assert!(InvitationFilter::new(Some(InvitationState::Expired), None, Some(T0), None, None).is_ok());
    }

    #[test]
    fn sources_follow_the_state_and_expiry() {
        let f = |s, e| InvitationFilter::new(s, None, e, None, None).unwrap().sources();
        assert_eq!(f(None, None), InvitationSource::ALL.to_vec());
        assert_eq!(f(None, Some(T0)), vec![InvitationSource::Waiting]);
        assert_eq!(f(Some(InvitationState::Locked), None), vec![InvitationSource::Waiting]);
        assert_eq!(f(Some(InvitationState::Withdrawn), None), vec![InvitationSource::Withdrawn]);
        assert_eq!(f(Some(InvitationState::Completed), None), vec![InvitationSource::Completed]);
        let d = |s, d| InvitationFilter::new(s, Some(d), None, None, None).unwrap().sources();
        use InvitationSource::{Completed, DeliveryException, Waiting, Withdrawn};
        assert_eq!(d(None, DeliveryState::Bounced), vec![DeliveryException, Completed, Withdrawn]);
        assert_eq!(d(Some(InvitationState::Pending), DeliveryState::Failed), vec![DeliveryException]);
        assert_eq!(d(Some(InvitationState::Withdrawn), DeliveryState::Dropped), vec![Withdrawn]);
        assert_eq!(d(None, DeliveryState::Delivered), vec![Waiting, Completed, Withdrawn]);
        assert!(
            DeliveryException.holds(InvitationState::Locked) && !DeliveryException.holds(InvitationState::Completed)
        );
    }

    #[test]
    fn the_user_alone_rules_out_what_it_can() {
        let (mut user, _) = invited();
        let f = |s, e, c| InvitationFilter::new(s, None, e, c, None).unwrap();
        assert!(f(Some(InvitationState::Pending), None, None).may_match_user(&user, T0, &rules()));
        assert!(!f(Some(InvitationState::Expired), None, None).may_match_user(&user, T0, &rules()));
        assert!(!f(None, Some(T0), None).may_match_user(&user, T0, &rules()));
        assert!(f(None, Some(T0 + Duration::hours(73)), None).may_match_user(&user, T0, &rules()));
        assert!(!f(None, None, Some(T0)).may_match_user(&user, T0, &rules()));
        user.state = UserState::Active;
        assert!(
            f(Some(InvitationState::Expired), None, None).may_match_user(&user, T0, &rules()),
            "decided on the log"
        );
    }

    #[test]
    fn page_tokens_round_trip_and_refuse_anything_else() {
        let p = PageToken(Position { created_ms: 1_767_268_800_000, key: "0Ab:c".into() });
        assert_eq!(PageToken::decode(&p.encode()), Ok(p));
        for bad in ["", "!!!", "aTE6MTI", "aTI6MToy", "aTE6eDp5", "aTE6MTo"] {
            assert_eq!(PageToken::decode(bad), Err(BadPageToken), "{bad}");
        }
        assert_eq!(InvitationState::parse("locked"), Some(InvitationState::Locked));
        assert_eq!(InvitationState::parse("LOCKED"), None);
    }
}
