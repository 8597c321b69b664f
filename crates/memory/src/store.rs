//! Users, their event logs and the outbox, in process memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use onboard_domain::ports::{
    FunnelCounts, FunnelDurations, HookQueue, IdPage, InvitationIndex, MarkChange, Milestone, NotificationLog, Outbox,
    OutboxEntry, ReminderQueue, SaveError, Unavailable, UserIndex, UserRepository, UserWrite, WaitingMark,
    WaitingSplit, duration_bucket,
};
use onboard_domain::reminders::{DueReminder, ReminderOffsets, reminders_of_write};
use onboard_domain::webhook_events::{HookEvent, HookExpiry, event_of_notification, events_of_write, expiry_of_write};
use onboard_domain::{
    DeliveryState, InvitationSource, Notification, NotificationId, OrgId, Page, Position, RecordedEvent, User,
    UserEvent, UserId, UserState,
};
use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;

#[derive(Default)]
struct State {
    users: HashMap<UserId, User>,
    notifications: HashMap<UserId, Vec<Notification>>,
    events: HashMap<UserId, Vec<RecordedEvent>>,
    names: HashMap<(OrgId, String), UserId>,
    index: Indexes,
    outbox: OutboxState,
    /// The webhook events recorded, oldest first.
    hooks: std::collections::VecDeque<HookEvent>,
    /// The pending invitations' expiries, earliest first, and each user's.
    expiries: std::collections::BTreeSet<HookExpiry>,
    expiry_of: HashMap<UserId, OffsetDateTime>,
    /// The reminders scheduled, earliest first.
    reminders: BTreeSet<DueReminder>,
}

/// Creation time (Unix nanoseconds), then id: the order of the indexes.
type Created = (i128, UserId);

/// The [`UserIndex`] of the users that are not deleted.
#[derive(Default)]
struct Indexes {
    in_org: HashMap<OrgId, BTreeSet<Created>>,
    by_state: HashMap<(OrgId, UserState), BTreeSet<Created>>,
    /// Lower-case user name → users, in every organization.
    by_name: HashMap<String, BTreeSet<UserId>>,
    /// Organization and lower-case address → users.
    by_email: HashMap<(OrgId, String), BTreeSet<UserId>>,
    /// The invitation indexes: creation ms and id, per organization and
    /// source. Completed and withdrawn entries stay (the process's memory
    /// is its lifetime); the use case judges the retention.
    invitations: HashMap<(OrgId, InvitationSource), BTreeSet<Position>>,
    /// When each completed or withdrawn invitation ended, for counting
    /// those of a window.
    ended_at: HashMap<UserId, OffsetDateTime>,
    /// The delivery state each Initial user with an email is counted under
    /// (its latest email's), and the counts per organization and state:
    /// moved under the lock by every write that changes either.
    counted_delivery: HashMap<UserId, (OrgId, DeliveryState)>,
    delivery_counts: HashMap<(OrgId, DeliveryState), u64>,
    /// The funnel's milestones each user reached (counted once each) and
    /// the counts per organization, moved under the lock with the event or
    /// the record that reaches them.
    milestones: HashMap<UserId, BTreeSet<Milestone>>,
    funnel: HashMap<OrgId, FunnelCounts>,
    /// When (whole seconds) each waiting user was first delivered and
    /// opened, kept only while a later step may still be timed from it, and
    /// the histograms of the steps' durations per organization (as save.lua
    /// and put_notification.lua keep `fw`, `fo` and `h<code><bucket>`).
    step_times: HashMap<UserId, [Option<i64>; 2]>,
    durations: HashMap<OrgId, FunnelDurations>,
    /// Each waiting user's mark, locked or expired (none: pending), and the
    /// counts per organization, moved under the lock by the write that
    /// changes the mark and by the settling of the expiries (as save.lua
    /// and expire.lua keep the field `w` and `se`, `sl`).
    marks: HashMap<UserId, WaitingMark>,
    split: HashMap<OrgId, WaitingSplit>,
}

/// A user's entry in the invitation indexes.
fn position(user: &User) -> Position {
    Position { created_ms: (user.created_at.unix_timestamp_nanos() / 1_000_000) as i64, key: user.id.to_string() }
}

impl Indexes {
    /// Moves `user`'s mark from what it is to `next` and its
    /// organization's counts with it.
    fn mark(&mut self, user: &UserId, org: &OrgId, next: Option<WaitingMark>) {
        let current = self.marks.get(user).copied();
        if current == next {
            return;
        }
        let split = self.split.entry(org.clone()).or_default();
        fn count(split: &mut WaitingSplit, m: WaitingMark) -> &mut u64 {
            match m {
                WaitingMark::Expired => &mut split.expired,
                WaitingMark::Locked => &mut split.locked,
            }
        }
        if let Some(m) = current {
            *count(split, m) -= 1;
        }
        match next {
            Some(m) => {
                *count(split, m) += 1;
                self.marks.insert(user.clone(), m);
            }
            None => {
                self.marks.remove(user);
            }
        }
    }

    /// Moves the user's invitation entries along with the write that took
    /// it from `old` to `new` by `events`: the waiting index is the users in
    /// Initial; leaving it by the code's check completes, removal withdraws.
    fn follow_invitation(&mut self, old: Option<&User>, new: &User, events: &[RecordedEvent]) {
        let reached: BTreeSet<Milestone> = events.iter().filter_map(|e| Milestone::of_event(&e.event)).collect();
        let waiting = new.state == UserState::Initial;
        for m in reached {
            self.reach(new, m, new.changed_at.unix_timestamp(), waiting);
        }
        if !waiting {
            self.step_times.remove(&new.id);
        }
        let was_initial = old.is_some_and(|u| u.state == UserState::Initial);
        let entry = position(new);
        let org = &new.org;
        if new.state == UserState::Initial {
            self.invitation_set(org, InvitationSource::Waiting).insert(entry);
            return;
        }
        if was_initial {
            self.invitation_set(org, InvitationSource::Waiting).remove(&entry);
            self.invitation_set(org, InvitationSource::DeliveryException).remove(&entry);
        }
        if events.iter().any(|e| matches!(e.event, UserEvent::InitCheckSucceeded)) {
            self.invitation_set(org, InvitationSource::Completed).insert(entry);
            self.ended_at.insert(new.id.clone(), new.changed_at);
        } else if was_initial && new.state == UserState::Deleted {
            self.invitation_set(org, InvitationSource::Withdrawn).insert(entry);
            self.ended_at.insert(new.id.clone(), new.changed_at);
        }
    }

    /// Counts `m` for `user` unless it reached it before, at `at` (whole
    /// seconds), and times it from the step before (see
    /// [`InvitationIndex::funnel_durations`]); `waiting` whether the user is
    /// in Initial then.
    fn reach(&mut self, user: &User, m: Milestone, at: i64, waiting: bool) {
        let reached = self.milestones.entry(user.id.clone()).or_default();
        if !reached.insert(m) {
            return;
        }
        let (opened, completed) = (reached.contains(&Milestone::Opened), reached.contains(&Milestone::Completed));
        self.funnel.entry(user.org.clone()).or_default().add(m, 1);
        let created = user.created_at.unix_timestamp();
        let times = self.step_times.entry(user.id.clone()).or_default();
        let from = match m {
            Milestone::Created => None,
            Milestone::Delivered => {
                if waiting && !opened {
                    times[0] = Some(at);
                }
                waiting.then_some(created)
            }
            Milestone::Opened => {
                let from = times[0].take().unwrap_or(created);
                if waiting && !completed {
                    times[1] = Some(at);
                }
                Some(from)
            }
            Milestone::Completed => Some(times[1].take().or(times[0].take()).unwrap_or(created)),
        };
        if *times == [None, None] {
            self.step_times.remove(&user.id);
        }
        if let Some(from) = from {
            let durations = self.durations.entry(user.org.clone()).or_default();
            if let Some(h) = durations.of_mut(m) {
                h.add(duration_bucket(u64::try_from(at - from).unwrap_or(0)), 1);
            }
        }
    }

    fn invitation_set(&mut self, org: &OrgId, source: InvitationSource) -> &mut BTreeSet<Position> {
        self.invitations.entry((org.clone(), source)).or_default()
    }

    fn entries(user: &User) -> (Created, (OrgId, UserState), String, (OrgId, String)) {
        (
            (user.created_at.unix_timestamp_nanos(), user.id.clone()),
            (user.org.clone(), user.state),
            user.user_name.unique_key(),
            (user.org.clone(), user.email.address.as_str().to_lowercase()),
        )
    }

    fn remove(&mut self, user: &User) {
        let (created, state, name, email) = Self::entries(user);
        self.in_org.get_mut(&user.org).map(|s| s.remove(&created));
        self.by_state.get_mut(&state).map(|s| s.remove(&created));
        self.by_name.get_mut(&name).map(|s| s.remove(&user.id));
        self.by_email.get_mut(&email).map(|s| s.remove(&user.id));
    }

    fn insert(&mut self, user: &User) {
        if user.state == UserState::Deleted {
            return;
        }
        let (created, state, name, email) = Self::entries(user);
        self.in_org.entry(user.org.clone()).or_default().insert(created.clone());
        self.by_state.entry(state).or_default().insert(created);
        self.by_name.entry(name).or_default().insert(user.id.clone());
        self.by_email.entry(email).or_default().insert(user.id.clone());
    }
}

/// One page of `set` (ascending), in the page's order.
fn page_of(set: Option<&BTreeSet<Created>>, page: &Page) -> IdPage {
    let Some(set) = set else { return IdPage::default() };
    let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let ids: Vec<UserId> = if page.asc {
        set.iter().skip(skip).take(page.limit as usize).map(|(_, id)| id.clone()).collect()
    } else {
        set.iter().rev().skip(skip).take(page.limit as usize).map(|(_, id)| id.clone()).collect()
    };
    IdPage { total: set.len() as u64, ids }
}

/// Entries by id, the one pending entry of each user, and an index by due
/// time. A claimed entry is re-keyed to the end of its lease, so an entry
/// whose dispatcher never finished becomes due again by itself.
#[derive(Default)]
struct OutboxState {
    entries: HashMap<NotificationId, (OutboxEntry, DueKey)>,
    by_user: HashMap<UserId, NotificationId>,
    due: BTreeMap<DueKey, NotificationId>,
    tiebreak: u64,
}

/// Due time in Unix nanoseconds, then a tiebreak: plain integers compare
/// cheaply, where `OffsetDateTime` converts to UTC on every comparison
/// (a measurable share of each save under load).
type DueKey = (i128, u64);

impl OutboxState {
    fn schedule(&mut self, id: &NotificationId, at: OffsetDateTime) {
        self.tiebreak += 1;
        let key = (at.unix_timestamp_nanos(), self.tiebreak);
        if let Some((_, old)) = self.entries.get_mut(id) {
            self.due.remove(old);
            *old = key;
            self.due.insert(key, id.clone());
        }
    }

    fn insert(&mut self, entry: OutboxEntry) {
        if let Some(old) = self.by_user.insert(entry.user_id.clone(), entry.id.clone()) {
            self.remove(&old);
        }
        let (id, at) = (entry.id.clone(), entry.not_before);
        self.entries.insert(id.clone(), (entry, (at.unix_timestamp_nanos(), 0)));
        self.schedule(&id, at);
    }

    fn remove(&mut self, id: &NotificationId) {
        if let Some((entry, key)) = self.entries.remove(id) {
            self.due.remove(&key);
            if self.by_user.get(&entry.user_id) == Some(id) {
                self.by_user.remove(&entry.user_id);
            }
        }
    }
}

/// The embedded store. Everything is lost when the process ends.
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
    work: Notify,
    /// When reminders are due before a code's expiry; off by default.
    reminder_offsets: ReminderOffsets,
    /// The failed attempts that lock a code (for counting the locked
    /// invitations); the default code configuration's when not given.
    code_max_attempts: Option<u32>,
}

impl std::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("InMemoryStore")
            .field("users", &state.users.len())
            .field("outbox", &state.outbox.entries.len())
            .finish()
    }
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a waiting user as locked once its code's failed attempts
    /// reach `max_attempts` ([`InitCodeConfig::max_attempts`](onboard_domain::InitCodeConfig)).
    pub fn with_code_max_attempts(mut self, max_attempts: u32) -> Self {
        self.code_max_attempts = Some(max_attempts);
        self
    }

    /// Schedules reminders at `offsets` before each new code's expiry.
    pub fn with_reminders(mut self, offsets: ReminderOffsets) -> Self {
        self.reminder_offsets = offsets;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves state that each write made
        // whole before unlocking; carrying on is safe.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Emails waiting in the outbox.
    pub fn pending_emails(&self) -> usize {
        self.lock().outbox.entries.len()
    }
}

/// Spends a unit of the task's cooperative budget, as a socket read would:
/// memory answers at once, so without it a task looping over the store (the
/// dispatcher, over hundreds of emails) never yields its worker, and the
/// requests queued behind it wait for the whole loop.
async fn cooperate() {
    tokio::task::consume_budget().await;
}

#[async_trait]
impl UserRepository for InMemoryStore {
    async fn get(&self, id: &UserId) -> Result<Option<User>, Unavailable> {
        cooperate().await;
        Ok(self.lock().users.get(id).cloned())
    }

    async fn events(&self, id: &UserId) -> Result<Vec<RecordedEvent>, Unavailable> {
        Ok(self.lock().events.get(id).cloned().unwrap_or_default())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %write.user.id, expected = write.expected_sequence))]
    async fn save(&self, write: UserWrite) -> Result<(), SaveError> {
        cooperate().await;
        let mut state = self.lock();
        let current = state.users.get(&write.user.id).map_or(0, |u| u.sequence);
        if current != write.expected_sequence {
            return Err(SaveError::Conflict);
        }
        let hooks = events_of_write(&write);
        let expiry = expiry_of_write(&write);
        let reminders = reminders_of_write(&write, &self.reminder_offsets);
        let UserWrite { user, events, outbox, .. } = write;
        let name = (user.org.clone(), user.user_name.unique_key());
        if current == 0 {
            if state.names.contains_key(&name) {
                return Err(SaveError::UserNameTaken);
            }
            state.names.insert(name.clone(), user.id.clone());
        }
        if user.state == UserState::Deleted && state.names.get(&name) == Some(&user.id) {
            state.names.remove(&name);
        }
        let old = state.users.get(&user.id).cloned();
        if let Some(old) = &old {
            state.index.remove(old);
        }
        state.index.insert(&user);
        state.index.follow_invitation(old.as_ref(), &user, &events);
        let max_attempts = self.code_max_attempts.unwrap_or(onboard_domain::InitCodeConfig::default().max_attempts);
        let change = MarkChange::of_write(&user, &events, max_attempts);
        let current = state.index.marks.get(&user.id).copied();
        let next = if user.state == UserState::Initial { change.apply(current) } else { None };
        state.index.mark(&user.id, &user.org, next);
        state.hooks.extend(hooks);
        if let Some(e) = expiry {
            if let Some(old) = state.expiry_of.insert(e.user_id.clone(), e.at) {
                state.expiries.remove(&HookExpiry { at: old, user_id: e.user_id.clone() });
            }
            state.expiries.insert(e);
        }
        state.reminders.extend(reminders);
        state.events.entry(user.id.clone()).or_default().extend(events);
        let id = user.id.clone();
        state.users.insert(user.id.clone(), user);
        // Leaving Initial takes the user out of the delivery counts; a new
        // email (below) moves it to queued.
        follow_delivery(&mut state, &id);
        if let Some(entry) = outbox {
            put_notification(&mut state, Notification::queued(&entry));
            state.outbox.insert(entry);
            drop(state);
            self.work.notify_one();
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), Unavailable> {
        Ok(())
    }
}

#[async_trait]
impl UserIndex for InMemoryStore {
    async fn by_state(&self, org: &OrgId, state: UserState, page: &Page) -> Result<IdPage, Unavailable> {
        cooperate().await;
        Ok(page_of(self.lock().index.by_state.get(&(org.clone(), state)), page))
    }

    async fn in_org(&self, org: &OrgId, page: &Page) -> Result<IdPage, Unavailable> {
        cooperate().await;
        Ok(page_of(self.lock().index.in_org.get(org), page))
    }

    async fn scan_org(
        &self,
        org: &OrgId,
        cursor: Option<String>,
        count: u32,
    ) -> Result<(Vec<UserId>, Option<String>), Unavailable> {
        cooperate().await;
        // The cursor is the creation key of the last user handed out, so
        // users added or removed meanwhile do not shift the rest.
        let state = self.lock();
        let Some(set) = state.index.in_org.get(org) else { return Ok((Vec::new(), None)) };
        let after = cursor
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .and_then(|(nanos, id)| Some((nanos.parse::<i128>().ok()?, UserId::parse(id).ok()?)));
        let chunk: Vec<&Created> = match &after {
            Some(after) => set.range((std::ops::Bound::Excluded(after.clone()), std::ops::Bound::Unbounded)),
            None => set.range(..),
        }
        .take(count as usize)
        .collect();
        let next = (chunk.len() == count as usize).then(|| chunk.last().map(|(n, id)| format!("{n}:{id}"))).flatten();
        Ok((chunk.into_iter().map(|(_, id)| id.clone()).collect(), next))
    }

    async fn by_user_name(&self, org: Option<OrgId>, unique_name: &str) -> Result<Vec<UserId>, Unavailable> {
        let state = self.lock();
        let Some(ids) = state.index.by_name.get(unique_name) else { return Ok(Vec::new()) };
        let in_scope = |id: &&UserId| org.as_ref().is_none_or(|o| state.users.get(*id).is_some_and(|u| &u.org == o));
        Ok(ids.iter().filter(in_scope).cloned().collect())
    }

    async fn by_email(&self, org: &OrgId, address: &str) -> Result<Vec<UserId>, Unavailable> {
        let key = (org.clone(), address.to_owned());
        Ok(self.lock().index.by_email.get(&key).map(|ids| ids.iter().cloned().collect()).unwrap_or_default())
    }
}

#[async_trait]
impl InvitationIndex for InMemoryStore {
    async fn invitations(
        &self,
        org: &OrgId,
        source: InvitationSource,
        _window: (OffsetDateTime, OffsetDateTime),
        after: Option<Position>,
        count: u32,
    ) -> Result<Vec<(Position, UserId)>, Unavailable> {
        cooperate().await;
        let state = self.lock();
        let Some(set) = state.index.invitations.get(&(org.clone(), source)) else { return Ok(Vec::new()) };
        let older = match after {
            Some(after) => set.range(..after),
            None => set.range(..),
        };
        Ok(older.rev().take(count as usize).filter_map(|p| Some((p.clone(), UserId::parse(&p.key).ok()?))).collect())
    }

    async fn count(
        &self,
        org: &OrgId,
        source: InvitationSource,
        window: (OffsetDateTime, OffsetDateTime),
    ) -> Result<u64, Unavailable> {
        cooperate().await;
        let state = self.lock();
        let Some(set) = state.index.invitations.get(&(org.clone(), source)) else { return Ok(0) };
        if source == InvitationSource::Waiting {
            return Ok(set.len() as u64);
        }
        let within = |p: &&Position| {
            let id = UserId::parse(&p.key).ok();
            id.and_then(|id| state.index.ended_at.get(&id)).is_some_and(|at| window.0 <= *at && *at <= window.1)
        };
        Ok(set.iter().filter(within).count() as u64)
    }

    async fn delivery_counts(&self, org: &OrgId) -> Result<Vec<(DeliveryState, u64)>, Unavailable> {
        cooperate().await;
        let state = self.lock();
        let mut counts: Vec<(DeliveryState, u64)> =
            state.index.delivery_counts.iter().filter(|((o, _), _)| o == org).map(|((_, d), n)| (*d, *n)).collect();
        counts.sort_by_key(|(d, _)| d.as_str());
        Ok(counts)
    }

    async fn funnel_counts(&self, org: &OrgId) -> Result<FunnelCounts, Unavailable> {
        cooperate().await;
        Ok(self.lock().index.funnel.get(org).copied().unwrap_or_default())
    }

    async fn funnel_durations(&self, org: &OrgId) -> Result<FunnelDurations, Unavailable> {
        cooperate().await;
        Ok(self.lock().index.durations.get(org).cloned().unwrap_or_default())
    }

    async fn waiting_split(&self, org: &OrgId) -> Result<WaitingSplit, Unavailable> {
        cooperate().await;
        Ok(self.lock().index.split.get(org).copied().unwrap_or_default())
    }

    async fn facts(&self, ids: &[UserId]) -> Result<Vec<onboard_domain::ports::Facts>, Unavailable> {
        cooperate().await;
        let state = self.lock();
        Ok(ids
            .iter()
            .map(|id| {
                let events = state.events.get(id).cloned().unwrap_or_default();
                let mut notifications: Vec<Notification> = state.notifications.get(id).cloned().unwrap_or_default();
                notifications.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
                (events, notifications)
            })
            .collect())
    }
}

/// The latest of a user's emails: newest by creation, then id, as the
/// listing orders them.
fn latest(list: &[Notification]) -> Option<&Notification> {
    list.iter().max_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)))
}

/// Moves the user's delivery count to what it is now: its latest email's
/// state while it is Initial, none otherwise.
fn follow_delivery(state: &mut State, id: &UserId) {
    let now = state.users.get(id).filter(|u| u.state == UserState::Initial).and_then(|u| {
        let latest = latest(state.notifications.get(id)?)?;
        Some((u.org.clone(), latest.state))
    });
    let index = &mut state.index;
    let before = index.counted_delivery.remove(id);
    if before == now {
        index.counted_delivery.extend(now.map(|n| (id.clone(), n)));
        return;
    }
    if let Some(before) = before {
        if let Some(n) = index.delivery_counts.get_mut(&before) {
            *n -= 1;
            if *n == 0 {
                index.delivery_counts.remove(&before);
            }
        }
    }
    if let Some(now) = now {
        *index.delivery_counts.entry(now.clone()).or_default() += 1;
        index.counted_delivery.insert(id.clone(), now);
    }
}

fn put_notification(state: &mut State, notification: Notification) {
    if let Some(mut event) = event_of_notification(&notification) {
        event.sequence = state.users.get(&notification.user_id).map_or(0, |u| u.sequence);
        state.hooks.push_back(event);
    }
    let (user_id, id, exceptional) =
        (notification.user_id.clone(), notification.id.clone(), notification.state.is_exceptional());
    let state_of_record = (notification.state, notification.updated_at);
    let list = state.notifications.entry(user_id.clone()).or_default();
    match list.iter_mut().find(|n| n.id == notification.id) {
        Some(existing) => *existing = notification,
        None => list.push(notification),
    }
    follow_delivery(state, &user_id);
    if let Some(m) = Milestone::of_delivery(state_of_record.0) {
        if let Some(user) = state.users.get(&user_id) {
            let waiting = user.state == UserState::Initial;
            state.index.reach(user, m, state_of_record.1.unix_timestamp(), waiting);
        }
    }
    let list = state.notifications.entry(user_id.clone()).or_default();
    // The index of exceptional deliveries follows the user's latest email.
    if latest(list).is_none_or(|n| n.id != id) {
        return;
    }
    let Some(user) = state.users.get(&user_id) else { return };
    let (entry, org) = (position(user), user.org.clone());
    let waiting = user.state == UserState::Initial;
    let set = state.index.invitation_set(&org, InvitationSource::DeliveryException);
    if waiting && exceptional {
        set.insert(entry);
    } else {
        set.remove(&entry);
    }
}

#[async_trait]
impl NotificationLog for InMemoryStore {
    async fn put(&self, notification: &Notification) -> Result<(), Unavailable> {
        cooperate().await;
        put_notification(&mut self.lock(), notification.clone());
        Ok(())
    }

    async fn find(&self, user: &UserId, id: &NotificationId) -> Result<Option<Notification>, Unavailable> {
        Ok(self.lock().notifications.get(user).and_then(|l| l.iter().find(|n| &n.id == id)).cloned())
    }

    async fn list(&self, user: &UserId) -> Result<Vec<Notification>, Unavailable> {
        let mut list = self.lock().notifications.get(user).cloned().unwrap_or_default();
        list.reverse();
        Ok(list)
    }
}

#[async_trait]
impl HookQueue for InMemoryStore {
    fn hook_partitions(&self) -> usize {
        1
    }

    /// One process: it always holds the lease.
    async fn claim_hook_events(
        &self,
        _partition: usize,
        limit: usize,
        _lease: Duration,
    ) -> Result<Vec<HookEvent>, Unavailable> {
        cooperate().await;
        Ok(self.lock().hooks.iter().take(limit).cloned().collect())
    }

    async fn ack_hook_events(&self, _partition: usize, events: &[HookEvent]) -> Result<(), Unavailable> {
        let done: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
        self.lock().hooks.retain(|e| !done.contains(e.id.as_str()));
        Ok(())
    }

    async fn due_expiries(
        &self,
        _partition: usize,
        now: OffsetDateTime,
        limit: usize,
        _lease: Duration,
    ) -> Result<Vec<HookExpiry>, Unavailable> {
        cooperate().await;
        Ok(self.lock().expiries.iter().take_while(|e| e.at <= now).take(limit).cloned().collect())
    }

    async fn settle_expiries(
        &self,
        _partition: usize,
        expired: &[HookEvent],
        done: &[HookExpiry],
    ) -> Result<(), Unavailable> {
        let mut state = self.lock();
        state.hooks.extend(expired.iter().cloned());
        // Each user told expired is counted so, if still at the event's
        // sequence (nothing written since the node judged it) and unmarked
        // (a locked one stays locked; one told twice counts once).
        for e in expired.iter().filter(|e| e.event_type == onboard_domain::webhooks::EventType::InvitationExpired) {
            let Some(user) = state.users.get(&e.user_id) else { continue };
            if user.sequence == e.sequence
                && user.state == UserState::Initial
                && !state.index.marks.contains_key(&user.id)
            {
                let org = user.org.clone();
                state.index.mark(&e.user_id, &org, Some(WaitingMark::Expired));
            }
        }
        for d in done {
            if state.expiries.remove(d) {
                state.expiry_of.remove(&d.user_id);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ReminderQueue for InMemoryStore {
    fn reminder_partitions(&self) -> usize {
        1
    }

    /// One process: it always holds the lease.
    async fn due_reminders(
        &self,
        _partition: usize,
        now: OffsetDateTime,
        limit: usize,
        _lease: Duration,
    ) -> Result<Vec<DueReminder>, Unavailable> {
        Ok(self.lock().reminders.iter().take_while(|r| r.at <= now).take(limit).cloned().collect())
    }

    async fn settle_reminders(&self, _partition: usize, done: &[DueReminder]) -> Result<(), Unavailable> {
        let mut state = self.lock();
        for d in done {
            state.reminders.remove(d);
        }
        Ok(())
    }
}

#[async_trait]
impl Outbox for InMemoryStore {
    /// One process, one partition.
    fn partitions(&self) -> usize {
        1
    }

    async fn claim_due(
        &self,
        _partition: usize,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxEntry>, Unavailable> {
        let mut state = self.lock();
        let due: Vec<NotificationId> = state
            .outbox
            .due
            .range(..=(now.unix_timestamp_nanos(), u64::MAX))
            .take(limit)
            .map(|(_, id)| id.clone())
            .collect();
        let mut claimed = Vec::with_capacity(due.len());
        for id in due {
            state.outbox.schedule(&id, now + lease);
            if let Some((entry, _)) = state.outbox.entries.get(&id) {
                claimed.push(entry.clone());
            }
        }
        Ok(claimed)
    }

    async fn complete(&self, entry: &OutboxEntry) -> Result<(), Unavailable> {
        cooperate().await;
        self.lock().outbox.remove(&entry.id);
        Ok(())
    }

    async fn reschedule(
        &self,
        entry: &OutboxEntry,
        attempts: u32,
        not_before: OffsetDateTime,
    ) -> Result<(), Unavailable> {
        let mut state = self.lock();
        if let Some((stored, _)) = state.outbox.entries.get_mut(&entry.id) {
            stored.attempts = attempts;
            stored.not_before = not_before;
            state.outbox.schedule(&entry.id, not_before);
        }
        Ok(())
    }

    async fn wait_for_work(&self, _partition: usize, max_wait: std::time::Duration) {
        let _ = tokio::time::timeout(max_wait, self.work.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn behaves_as_every_store_must() {
        onboard_domain::testkit::check_store(&InMemoryStore::new()).await;
        onboard_domain::testkit::check_user_index(&InMemoryStore::new(), [OrgId::generate(), OrgId::generate()]).await;
        onboard_domain::testkit::check_invitation_index(std::sync::Arc::new(InMemoryStore::new())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn keeps_its_indexes_consistent_under_concurrent_writes() {
        onboard_domain::testkit::check_user_index_under_concurrency(std::sync::Arc::new(InMemoryStore::new())).await;
        onboard_domain::testkit::check_invitation_index_under_concurrency(std::sync::Arc::new(InMemoryStore::new()))
            .await;
        onboard_domain::testkit::check_waiting_split(std::sync::Arc::new(InMemoryStore::new())).await;
    }

    #[tokio::test]
    async fn a_save_with_an_email_wakes_the_dispatcher() {
        let store = std::sync::Arc::new(InMemoryStore::new());
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move { store.wait_for_work(0, std::time::Duration::from_secs(600)).await })
        };
        tokio::task::yield_now().await;
        let (_, write) = onboard_domain::testkit::new_user(&OrgId::generate(), "woken");
        store.save(write).await.unwrap();
        // Returns on the notification, not after the 600 s wait.
        tokio::time::timeout(std::time::Duration::from_secs(60), waiter).await.unwrap().unwrap();
    }
}
