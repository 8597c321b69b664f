//! Sending the reminders of pending invitations as they come due
//! (`ONBOARD_REMINDERS`; the rules are in [`crate::reminders`]).

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::events::{Editor, UserEvent};
use crate::ids::NotificationId;
use crate::init_code::CodeIssuer;
use crate::invite::CodeDelivery;
use crate::notifications::{DeliveryState, NotificationKind};
use crate::outbox::OutboxEntry;
use crate::ports::{Clock, NotificationLog, RateLimiter, ReminderQueue, SaveError, Unavailable, UserRepository};
use crate::reminders::{DueReminder, ReminderSkip, reminder_verdict};
use crate::throttle::{Admission, ThrottleConfig};
use crate::user::UserWrite;

use super::{MAX_WRITE_ATTEMPTS, stamped};

/// How the reminder rounds behave.
#[derive(Debug, Clone, Copy)]
pub struct ReminderConfig {
    /// Due reminders taken per round and partition.
    pub batch: usize,
    /// How long a node holds a partition's reminders (taken again each round).
    pub lease: Duration,
}

impl Default for ReminderConfig {
    fn default() -> Self {
        Self { batch: 100, lease: Duration::seconds(30) }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderRound {
    /// Due reminders taken.
    pub due: usize,
    pub sent: usize,
    pub skipped: usize,
    /// Left for the next round: the user's writes kept colliding.
    pub deferred: usize,
}

/// Sends due reminders: each a fresh code with the deadline of the code it
/// replaces, and its email, saved in one write as any code is.
#[derive(Clone)]
pub struct ReminderSender {
    users: Arc<dyn UserRepository>,
    queue: Arc<dyn ReminderQueue>,
    notifications: Arc<dyn NotificationLog>,
    clock: Arc<dyn Clock>,
    codes: CodeIssuer,
    limiter: Option<Arc<dyn RateLimiter>>,
    throttle: ThrottleConfig,
    config: ReminderConfig,
}

impl std::fmt::Debug for ReminderSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderSender").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Whether the state of a user's last email says another will not arrive.
fn undeliverable(state: DeliveryState) -> bool {
    matches!(
        state,
        DeliveryState::Bounced | DeliveryState::Dropped | DeliveryState::SpamReported | DeliveryState::Failed
    )
}

impl ReminderSender {
    pub fn new(
        users: Arc<dyn UserRepository>,
        queue: Arc<dyn ReminderQueue>,
        notifications: Arc<dyn NotificationLog>,
        clock: Arc<dyn Clock>,
        codes: CodeIssuer,
        config: ReminderConfig,
    ) -> Self {
        Self { users, queue, notifications, clock, codes, limiter: None, throttle: ThrottleConfig::OFF, config }
    }

    /// Charges each reminder to its recipient's daily cap as `config` sets
    /// it (counted in `limiter`, the one the resends count in).
    pub fn with_throttling(mut self, limiter: Arc<dyn RateLimiter>, config: ThrottleConfig) -> Self {
        self.limiter = Some(limiter);
        self.throttle = config;
        self
    }

    pub fn partitions(&self) -> usize {
        self.queue.reminder_partitions()
    }

    /// One round over `partition`: the reminders due now, each sent or
    /// skipped (logged with its reason), then settled. A round cut short by
    /// the store leaves its reminders due; the next one decides them again,
    /// and those sent meanwhile are then [`ReminderSkip::AlreadySent`].
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn remind(&self, partition: usize) -> Result<ReminderRound, Unavailable> {
        let now = self.clock.now();
        let due = self.queue.due_reminders(partition, now, self.config.batch, self.config.lease).await?;
        let mut round = ReminderRound { due: due.len(), ..ReminderRound::default() };
        if due.is_empty() {
            return Ok(round);
        }
        let mut done = Vec::with_capacity(due.len());
        for d in due {
            match self.remind_one(&d, now).await? {
                Some(Ok(())) => round.sent += 1,
                Some(Err(skip)) => {
                    tracing::info!(user_id = %d.user_id, reason = %skip, "reminder not sent");
                    round.skipped += 1;
                }
                None => {
                    tracing::warn!(user_id = %d.user_id, "reminder deferred: the user's writes kept colliding");
                    round.deferred += 1;
                    continue;
                }
            }
            done.push(d);
        }
        self.queue.settle_reminders(partition, &done).await?;
        Ok(round)
    }

    /// Sends `due` or says why not; `None` when every write collided.
    async fn remind_one(
        &self,
        due: &DueReminder,
        now: OffsetDateTime,
    ) -> Result<Option<Result<(), ReminderSkip>>, Unavailable> {
        let mut charged = false;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let user = self.users.get_for_write(&due.user_id).await?;
            if let Err(skip) = reminder_verdict(user.as_ref(), due, now, self.codes.config().max_attempts) {
                return Ok(Some(Err(skip)));
            }
            let Some(mut user) = user else { return Ok(Some(Err(ReminderSkip::Withdrawn))) };
            if !charged {
                let last = self.notifications.list(&user.id).await?.into_iter().max_by_key(|n| n.created_at);
                if last.is_some_and(|n| undeliverable(n.state)) {
                    return Ok(Some(Err(ReminderSkip::Undeliverable)));
                }
                if let (Some(limiter), Some((limit, _))) =
                    (&self.limiter, self.throttle.recipient_cap(&user.email.address))
                {
                    if let Admission::Denied { .. } = limiter.acquire(&[limit], now).await? {
                        return Ok(Some(Err(ReminderSkip::DailyCap)));
                    }
                }
                charged = true;
            }
            let expected_sequence = user.sequence;
            let Some(current) = user.init_code.clone() else { return Ok(Some(Err(ReminderSkip::Completed))) };
            let (code, hash, _) = self.codes.issue(&user.id, now);
            // The deadline of the code it replaces, exactly (a store may keep the schedule's to the ms).
            let (expires_at, delivery) = (current.expires_at, current.delivery);
            let mut events = vec![user.record(UserEvent::ReminderIssued, now)];
            let code_event = match delivery {
                CodeDelivery::Mailed => UserEvent::InitCodeAdded { hash, expires_at },
                delivery => UserEvent::InviteCodeAdded { hash, expires_at, delivery },
            };
            events.push(user.record(code_event, now));
            let outbox = OutboxEntry {
                id: NotificationId::generate(),
                user_id: user.id.clone(),
                recipient: user.email.address.clone(),
                code,
                code_generation: user.sequence,
                enqueued_at: now,
                attempts: 0,
                not_before: now,
                receipt: String::new(),
                kind: NotificationKind::Reminder,
            };
            let events = stamped(events, &Editor::notification());
            match self.users.save(UserWrite { expected_sequence, user, events, outbox: Some(outbox) }).await {
                Ok(()) => return Ok(Some(Ok(()))),
                // Decided again on the user as it is now: sent by another node, say.
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Unavailable(u)) => return Err(u),
                Err(SaveError::UserNameTaken) => {
                    return Err(Unavailable("store reported a name clash on update".into()));
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ids::UserId;
    use crate::init_code::CodeHash;
    use crate::notifications::Notification;
    use crate::ports::{MockNotificationLog, MockReminderQueue, MockUserRepository};
    use crate::reminders::{ReminderOffsets, reminders_of_write};
    use crate::usecases::test_support::*;
    use crate::user::{User, UserState};

    const DEADLINE: OffsetDateTime = time::macros::datetime!(2026-01-04 12:00 UTC);

    fn due_at(hours_before: i64) -> DueReminder {
        DueReminder { at: DEADLINE - Duration::hours(hours_before), user_id: user().id, deadline: DEADLINE }
    }

    fn user() -> User {
        initial_user().0
    }

    struct Harness {
        sender: ReminderSender,
        writes: Arc<Mutex<Vec<UserWrite>>>,
        settled: Arc<Mutex<Vec<DueReminder>>>,
    }

    /// A sender at `now` with `due` due, over `repo`, whose user's last
    /// email is in `last` (none: no email recorded).
    fn harness_with(
        repo: MockUserRepository,
        writes: Arc<Mutex<Vec<UserWrite>>>,
        due: Vec<DueReminder>,
        now: OffsetDateTime,
        last: Option<DeliveryState>,
    ) -> Harness {
        let mut queue = MockReminderQueue::new();
        queue.expect_due_reminders().returning(move |_, _, _, _| Ok(due.clone()));
        let settled = Arc::new(Mutex::new(Vec::new()));
        let log = settled.clone();
        queue.expect_settle_reminders().returning(move |_, done| {
            log.lock().unwrap().extend(done.iter().cloned());
            Ok(())
        });
        let mut notifications = MockNotificationLog::new();
        notifications.expect_list().returning(move |u| {
            Ok(last
                .map(|state| Notification {
                    id: NotificationId::parse("n1").unwrap(),
                    user_id: u.clone(),
                    recipient: crate::email::EmailAddress::parse("jane@example.com").unwrap(),
                    state,
                    created_at: T0,
                    updated_at: T0,
                    attempts: 1,
                    last_error: None,
                    provider_message_id: None,
                    kind: NotificationKind::Invitation,
                })
                .into_iter()
                .collect())
        });
        let sender = ReminderSender::new(
            Arc::new(repo),
            Arc::new(queue),
            Arc::new(notifications),
            clock_at(now),
            codes(),
            ReminderConfig::default(),
        );
        Harness { sender, writes, settled }
    }

    fn harness(user: Option<User>, due: Vec<DueReminder>, now: OffsetDateTime) -> Harness {
        let (repo, writes) = repo_with(user);
        harness_with(repo, writes, due, now, Some(DeliveryState::Delivered))
    }

    /// A reminder 48 h before expiry, run at that time.
    async fn skipped_for(user: Option<User>) -> Harness {
        let h = harness(user, vec![due_at(48)], DEADLINE - Duration::hours(48));
        let round = h.sender.remind(0).await.unwrap();
        assert_eq!((round.due, round.sent, round.skipped), (1, 0, 1), "{round:?}");
        assert!(h.writes.lock().unwrap().is_empty(), "a skipped reminder writes nothing");
        assert_eq!(h.settled.lock().unwrap().len(), 1, "and is settled");
        h
    }

    #[test]
    fn each_mailed_code_schedules_one_reminder_per_offset_after_its_making() {
        let offsets =
            ReminderOffsets::new(vec![Duration::hours(24), Duration::hours(48), Duration::hours(100)]).unwrap();
        let (user, _) = initial_user();
        let entry = OutboxEntry {
            id: NotificationId::generate(),
            user_id: user.id.clone(),
            recipient: user.email.address.clone(),
            code: crate::init_code::PlainCode::from_stored("ABC123".into()),
            code_generation: 2,
            enqueued_at: T0,
            attempts: 0,
            not_before: T0,
            receipt: String::new(),
            kind: NotificationKind::Invitation,
        };
        // A created user's write: its code (72 h) expires at DEADLINE.
        let (_, _, log) = logged_user();
        let write =
            UserWrite { expected_sequence: 0, user: user.clone(), events: log.clone(), outbox: Some(entry.clone()) };
        // 100 h before the deadline is before the code was made: none then.
        assert_eq!(reminders_of_write(&write, &offsets), [due_at(48), due_at(24)]);
        assert!(reminders_of_write(&write, &ReminderOffsets::OFF).is_empty(), "off by default");
        // Without an email (a returned code), or without a new code, none.
        let unmailed = UserWrite { outbox: None, ..write.clone() };
        assert!(reminders_of_write(&unmailed, &offsets).is_empty());
        let no_code = UserWrite { events: log[..1].to_vec(), ..write.clone() };
        assert!(reminders_of_write(&no_code, &offsets).is_empty());
        // A reminder's own code keeps the deadline: it schedules none.
        let mut reminded = user.clone();
        let mut events = vec![reminded.record(UserEvent::ReminderIssued, T0)];
        events.push(reminded.record(UserEvent::InitCodeAdded { hash: CodeHash([1; 32]), expires_at: DEADLINE }, T0));
        let reminder = UserWrite { expected_sequence: 2, user: reminded, events, outbox: Some(entry) };
        assert!(reminders_of_write(&reminder, &offsets).is_empty());
        // Nor is it a resend to the webhooks (a resend's write is).
        assert!(crate::webhook_events::events_of_write(&reminder).is_empty());
        let mut resent = reminder.clone();
        resent.events.remove(0);
        let told = crate::webhook_events::events_of_write(&resent);
        assert_eq!(
            told.iter().map(|e| e.event_type).collect::<Vec<_>>(),
            [crate::webhooks::EventType::InvitationResent]
        );
        assert!(ReminderOffsets::new(vec![Duration::ZERO]).is_err());
        assert!(ReminderOffsets::new(vec![Duration::hours(1), Duration::hours(1)]).is_err());
    }

    #[tokio::test]
    async fn a_due_reminder_mails_a_fresh_code_with_the_same_deadline() {
        let now = DEADLINE - Duration::hours(48);
        let h = harness(Some(user()), vec![due_at(48)], now);
        let round = h.sender.remind(0).await.unwrap();
        assert_eq!(round, ReminderRound { due: 1, sent: 1, skipped: 0, deferred: 0 });
        let writes = h.writes.lock().unwrap();
        let w = &writes[0];
        let kinds: Vec<_> = w.events.iter().map(|e| (e.sequence, e.event.kind())).collect();
        assert_eq!(kinds, [(3, "user.initialization.reminder.issued"), (4, "user.initialization.code.added")]);
        assert!(w.events.iter().all(|e| e.editor.as_ref().is_some_and(|e| e.id == Editor::NOTIFICATION)));
        let code = w.user.init_code.as_ref().unwrap();
        assert_eq!((code.expires_at, code.created_at, code.generation), (DEADLINE, now, 4));
        let entry = w.outbox.as_ref().unwrap();
        assert_eq!(entry.kind, NotificationKind::Reminder);
        assert_eq!(entry.code_generation, 4);
        assert!(codes().matches(&w.user.id, entry.code.expose(), &code.hash));
        assert_eq!(*h.settled.lock().unwrap(), [due_at(48)]);
    }

    #[tokio::test]
    async fn a_reminder_decided_again_sends_nothing_more() {
        // The first round sent it and died before settling; the next one
        // (or another node) reads the user with the reminder's code.
        let now = DEADLINE - Duration::hours(48);
        let h = harness(Some(user()), vec![due_at(48)], now);
        h.sender.remind(0).await.unwrap();
        let reminded = h.writes.lock().unwrap()[0].user.clone();
        let again = skipped_for(Some(reminded.clone())).await;
        drop(again);
        // Both reminders due at once (the loop was down): one email, not two.
        let h = harness(Some(user()), vec![due_at(48), due_at(24)], DEADLINE - Duration::hours(20));
        let round = h.sender.remind(0).await.unwrap();
        assert_eq!((round.sent, round.skipped), (1, 1));
        assert_eq!(h.settled.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_lost_race_is_decided_on_the_users_new_state() {
        // Another node sent it between this one's read and write.
        let now = DEADLINE - Duration::hours(48);
        let first = harness(Some(user()), vec![due_at(48)], now);
        first.sender.remind(0).await.unwrap();
        let reminded = first.writes.lock().unwrap()[0].user.clone();
        let mut repo = MockUserRepository::new();
        let reads = Arc::new(Mutex::new(0));
        let n = reads.clone();
        let stale = user();
        repo.expect_get().returning(move |_| {
            *n.lock().unwrap() += 1;
            Ok(Some(if *n.lock().unwrap() == 1 { stale.clone() } else { reminded.clone() }))
        });
        repo.expect_save().times(1).returning(|_| Err(SaveError::Conflict));
        let h =
            harness_with(repo, Arc::new(Mutex::new(Vec::new())), vec![due_at(48)], now, Some(DeliveryState::Delivered));
        let round = h.sender.remind(0).await.unwrap();
        assert_eq!((round.sent, round.skipped), (0, 1));
        assert_eq!(*reads.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn withdrawn_completed_and_returned_invitations_get_none() {
        skipped_for(None).await;
        let mut removed = user();
        removed.record(UserEvent::Removed, T0);
        skipped_for(Some(removed)).await;
        let mut done = user();
        done.record(UserEvent::InitCheckSucceeded, T0);
        skipped_for(Some(done)).await;
        let mut verified = user();
        verified.record(UserEvent::InviteCheckSucceeded, T0);
        skipped_for(Some(verified)).await;
        let mut returned = user();
        returned.record(
            UserEvent::InviteCodeAdded {
                hash: CodeHash([2; 32]),
                expires_at: DEADLINE,
                delivery: CodeDelivery::Returned,
            },
            T0,
        );
        skipped_for(Some(returned)).await;
    }

    #[tokio::test]
    async fn a_newer_deadline_a_locked_or_an_expired_code_gets_none() {
        let mut resent = user();
        let later = DEADLINE + Duration::hours(10);
        resent
            .record(UserEvent::InitCodeAdded { hash: CodeHash([3; 32]), expires_at: later }, T0 + Duration::hours(10));
        skipped_for(Some(resent)).await;
        let mut locked = user();
        for _ in 0..codes().config().max_attempts {
            locked.record(UserEvent::InitCheckFailed, T0);
        }
        skipped_for(Some(locked)).await;
        // A reminder taken after its code expired (the loop was down long).
        let h = harness(Some(user()), vec![due_at(48)], DEADLINE);
        assert_eq!(h.sender.remind(0).await.unwrap().skipped, 1);
        assert!(h.writes.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn none_follows_an_email_that_did_not_arrive() {
        let now = DEADLINE - Duration::hours(48);
        for state in
            [DeliveryState::Bounced, DeliveryState::Dropped, DeliveryState::SpamReported, DeliveryState::Failed]
        {
            let (repo, writes) = repo_with(Some(user()));
            let h = harness_with(repo, writes, vec![due_at(48)], now, Some(state));
            assert_eq!(h.sender.remind(0).await.unwrap().skipped, 1, "{state:?}");
            assert!(h.writes.lock().unwrap().is_empty());
        }
        for state in [None, Some(DeliveryState::Sent), Some(DeliveryState::Deferred)] {
            let (repo, writes) = repo_with(Some(user()));
            let h = harness_with(repo, writes, vec![due_at(48)], now, state);
            assert_eq!(h.sender.remind(0).await.unwrap().sent, 1, "{state:?}");
        }
    }

    #[tokio::test]
    async fn reminders_count_against_the_daily_cap_only() {
        let now = DEADLINE - Duration::hours(48);
        let on = ThrottleConfig::default();
        // Refused by the cap: skipped and settled, not tried again.
        let h = harness(Some(user()), vec![due_at(48)], now);
        let sender = h.sender.clone().with_throttling(limiter_denying("resend:rcpt:"), on);
        let round = sender.remind(0).await.unwrap();
        assert_eq!((round.sent, round.skipped), (0, 1));
        assert!(h.writes.lock().unwrap().is_empty());
        assert_eq!(h.settled.lock().unwrap().len(), 1);
        // The per-user cooldown of resends is not charged.
        let h = harness(Some(user()), vec![due_at(48)], now);
        let keys = Arc::new(Mutex::new(Vec::new()));
        let seen = keys.clone();
        let mut limiter = crate::ports::MockRateLimiter::new();
        limiter.expect_acquire().returning(move |limits, _| {
            seen.lock().unwrap().extend(limits.iter().map(|l| l.key.clone()));
            Ok(Admission::Granted)
        });
        let sender = h.sender.clone().with_throttling(Arc::new(limiter), on);
        assert_eq!(sender.remind(0).await.unwrap().sent, 1);
        let keys = keys.lock().unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].starts_with("resend:rcpt:"), "{keys:?}");
    }

    #[tokio::test]
    async fn a_store_failure_settles_nothing() {
        let mut repo = MockUserRepository::new();
        repo.expect_get().returning(|_| Err(Unavailable("timeout".into())));
        let h = harness_with(
            repo,
            Arc::new(Mutex::new(Vec::new())),
            vec![due_at(48)],
            DEADLINE - Duration::hours(48),
            None,
        );
        assert!(h.sender.remind(0).await.is_err());
        assert!(h.settled.lock().unwrap().is_empty(), "left due for the next round");
        let _ = UserId::parse("200").unwrap();
        let _ = UserState::Initial;
    }
}
