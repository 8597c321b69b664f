//! The dispatcher: due emails from the outbox to the mailer.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::branding::{Brandings, MessageBrand};
use crate::events::{Editor, UserEvent};
use crate::init_message::InitMessage;
use crate::notifications::{DeliveryState, Notification};
use crate::outbox::OutboxEntry;
use crate::ports::{Clock, MailError, Mailed, Mailer, NotificationLog, Outbox, SaveError, Unavailable, UserRepository};
use crate::user::{User, UserState, UserWrite};

use super::MAX_WRITE_ATTEMPTS;

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Origin of the links in emails, e.g. `https://id.example.com`.
    pub external_url: String,
    /// Entries claimed per round.
    pub batch_size: usize,
    /// How long a claimed entry is kept from other dispatchers.
    pub lease: Duration,
    /// Attempts before a transiently failing email is given up.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for every further one.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// An email still not sent this long after it became due is given up.
    pub max_age: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            external_url: "http://127.0.0.1:8080".into(),
            batch_size: 100,
            lease: Duration::seconds(60),
            max_attempts: 10,
            retry_base: Duration::seconds(2),
            retry_max: Duration::minutes(10),
            max_age: Duration::hours(24),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// A newer code (or a finished initialization) made the email pointless.
    pub superseded: usize,
    /// The code expired before it could be sent.
    pub expired: usize,
    pub retrying: usize,
    /// Given up: permanent failure or attempts exhausted.
    pub failed: usize,
}

impl DeliveryReport {
    pub fn handled(&self) -> usize {
        self.sent + self.superseded + self.expired + self.retrying + self.failed
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    users: Arc<dyn UserRepository>,
    outbox: Arc<dyn Outbox>,
    notifications: Arc<dyn NotificationLog>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    config: DeliveryConfig,
    brandings: Option<Brandings>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").field("config", &self.config).finish_non_exhaustive()
    }
}

enum Verdict {
    Send(Box<User>),
    Superseded,
    Expired,
    Withdrawn,
}

/// Whether the email of `entry` is still worth sending to `user` (as read
/// this round) at `now`.
fn verdict(entry: &OutboxEntry, user: Option<User>, now: OffsetDateTime) -> Verdict {
    let Some(user) = user else { return Verdict::Superseded };
    let current = user.init_code.as_ref().filter(|c| c.generation == entry.code_generation);
    match current {
        _ if user.state == UserState::Deleted => Verdict::Withdrawn,
        _ if user.state != UserState::Initial => Verdict::Superseded,
        None => Verdict::Superseded,
        // A returned code is the caller's to deliver; no entry is made for
        // one, and none is ever mailed.
        Some(code) if code.delivery.is_returned() => Verdict::Superseded,
        Some(code) if code.is_expired(now) => Verdict::Expired,
        Some(_) => Verdict::Send(Box::new(user)),
    }
}

/// What a round settles at its end, together.
#[derive(Default)]
struct Settled {
    /// Mailed: each with the write of its "code sent" event and its record.
    mailed: Vec<Mailed>,
    /// Done with: mailed, given up, or no longer worth mailing.
    completed: Vec<OutboxEntry>,
    /// What became of each email.
    records: Vec<Notification>,
}

impl Settled {
    /// `entry` is done with, its email now in `state`.
    fn done(
        &mut self,
        entry: &OutboxEntry,
        state: DeliveryState,
        at: OffsetDateTime,
        update: impl FnOnce(&mut Notification),
    ) {
        let mut record = Notification::after_attempt(entry, state, at);
        update(&mut record);
        self.completed.push(entry.clone());
        self.records.push(record);
    }
}

impl Dispatcher {
    pub fn new(
        users: Arc<dyn UserRepository>,
        outbox: Arc<dyn Outbox>,
        notifications: Arc<dyn NotificationLog>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        config: DeliveryConfig,
    ) -> Self {
        Self { users, outbox, notifications, mailer, clock, config, brandings: None }
    }

    /// Sends each email with its organization's branding, read through
    /// `brandings`. Without it every email looks like onboard's.
    pub fn with_brandings(mut self, brandings: Brandings) -> Self {
        self.brandings = Some(brandings);
        self
    }

    /// The branding of `user`'s organization for its email. A directory that
    /// cannot say fails the round: sending from onboard's sender instead of
    /// the organization's would be worse than sending a little later.
    async fn brand_of(&self, user: &User) -> Result<Option<MessageBrand>, Unavailable> {
        let Some(brandings) = &self.brandings else { return Ok(None) };
        let Some(branding) = brandings.get(&user.org).await? else { return Ok(None) };
        let logo_url =
            branding.logo_path(&user.org).map(|p| format!("{}{p}", self.config.external_url.trim_end_matches('/')));
        Ok(Some(MessageBrand { branding, logo_url }))
    }

    /// Entries claimed per round at most.
    pub fn batch_size(&self) -> usize {
        self.config.batch_size.max(1)
    }

    /// The outbox's partitions; each is drained by its own loop.
    pub fn partitions(&self) -> usize {
        self.outbox.partitions().max(1)
    }

    /// Waits until work in `partition` may be due (or `max_wait` passed).
    pub async fn idle(&self, partition: usize, max_wait: std::time::Duration) {
        self.outbox.wait_for_work(partition, max_wait).await;
    }

    /// One round in `partition`: claims what is due, reads the users of the
    /// batch at once, drops what is no longer worth sending, hands the rest
    /// to the mailer in one batch and settles the batch together: its "code
    /// sent" events, its completed entries and its records each in one call.
    #[tracing::instrument(skip(self))]
    pub async fn deliver_due(&self, partition: usize) -> Result<DeliveryReport, Unavailable> {
        let now = self.clock.now();
        let entries = self.outbox.claim_due(partition, now, self.config.batch_size, self.config.lease).await?;
        let mut report = DeliveryReport::default();
        if entries.is_empty() {
            return Ok(report);
        }
        let ids: Vec<_> = entries.iter().map(|e| e.user_id.clone()).collect();
        let users = self.users.get_many(&ids).await?;
        let mut settled = Settled::default();
        let mut sendable = Vec::with_capacity(entries.len());
        for (entry, user) in entries.into_iter().zip(users) {
            match verdict(&entry, user, now) {
                Verdict::Send(user) => {
                    let mut message = self.message(&user, &entry);
                    message.brand = self.brand_of(&user).await?;
                    sendable.push((entry, user, message));
                }
                Verdict::Superseded => {
                    report.superseded += 1;
                    settled.done(&entry, DeliveryState::Superseded, now, |_| {});
                }
                Verdict::Withdrawn => {
                    // Counted with the superseded: not sent because of a later write.
                    report.superseded += 1;
                    settled.done(&entry, DeliveryState::Withdrawn, now, |_| {});
                }
                Verdict::Expired => {
                    tracing::info!(notification = %entry.id, "init code expired before it was sent; email dropped");
                    report.expired += 1;
                    settled.done(&entry, DeliveryState::Expired, now, |_| {});
                }
            }
        }
        if !sendable.is_empty() {
            let sending: Vec<Notification> = sendable
                .iter()
                .map(|(entry, _, _)| {
                    let mut n = Notification::after_attempt(entry, DeliveryState::Sending, now);
                    n.attempts = entry.attempts + 1;
                    n
                })
                .collect();
            self.keep_records(&sending).await;
            let messages: Vec<InitMessage> = sendable.iter().map(|(_, _, m)| m.clone()).collect();
            let results = self.mailer.send_batch(&messages).await;
            for ((entry, user, _), result) in sendable.into_iter().zip(results) {
                self.settle(entry, *user, result, now, &mut report, &mut settled).await?;
            }
        }
        let mailed = std::mem::take(&mut settled.mailed);
        match self.outbox.complete_mailed(&mailed).await {
            Some(results) => {
                for (m, result) in mailed.iter().zip(results?) {
                    self.after_sent_write(&m.entry, result).await;
                }
            }
            None => {
                let mut sent = Vec::with_capacity(mailed.len());
                for m in mailed {
                    settled.completed.push(m.entry.clone());
                    settled.records.push(m.record);
                    sent.push((m.entry, m.write));
                }
                self.record_sent(sent).await;
            }
        }
        self.outbox.complete_many(&settled.completed).await?;
        self.keep_records(&settled.records).await;
        Ok(report)
    }

    /// Records what became of emails. The records are for people looking;
    /// failing to write them does not hold up delivery.
    async fn keep_records(&self, records: &[Notification]) {
        if records.is_empty() {
            return;
        }
        if let Err(e) = self.notifications.put_many(records).await {
            tracing::warn!(error = %e, emails = records.len(), "could not record the delivery state");
        }
    }

    /// Decides what happens to one sent (or failed) email: a sent one gets
    /// its "code sent" event and is completed, a failed one given up or
    /// rescheduled (at once: retries are few). At debug: one span per email
    /// is too many at info; its warnings and errors name the email themselves.
    #[tracing::instrument(level = "debug", skip_all, fields(notification = %entry.id, user_id = %entry.user_id, attempt = entry.attempts + 1))]
    async fn settle(
        &self,
        entry: OutboxEntry,
        mut user: User,
        result: Result<String, MailError>,
        now: OffsetDateTime,
        report: &mut DeliveryReport,
        settled: &mut Settled,
    ) -> Result<(), Unavailable> {
        let attempts = entry.attempts + 1;
        let too_old = now - entry.enqueued_at >= self.config.max_age;
        let retry_at = match &result {
            Ok(provider_id) => {
                tracing::debug!(recipient = %entry.recipient, provider_id, "init email sent");
                report.sent += 1;
                let expected_sequence = user.sequence;
                let event =
                    UserEvent::InitCodeSent { notification: entry.id.clone(), generation: entry.code_generation };
                let recorded = user.record(event, self.clock.now()).by(&Editor::notification());
                let mut record = Notification::after_attempt(&entry, DeliveryState::Sent, now);
                record.attempts = attempts;
                record.provider_message_id = Some(provider_id.clone()).filter(|i| !i.is_empty());
                let write = UserWrite { expected_sequence, user, events: vec![recorded], outbox: None };
                settled.mailed.push(Mailed { entry, write, record });
                return Ok(());
            }
            Err(MailError::Throttled { retry_after, .. }) => {
                now + time::Duration::try_from(*retry_after).unwrap_or(self.config.retry_max).max(self.backoff(1))
            }
            Err(MailError::Transient(_)) => now + self.backoff(attempts),
            Err(MailError::Permanent(_)) => now,
        };
        let error = result.expect_err("success returned above");
        let permanent = matches!(error, MailError::Permanent(_));
        if permanent || attempts >= self.config.max_attempts || too_old {
            // The dead letter: one clear line with the reason.
            tracing::error!(%error, notification = %entry.id, user_id = %entry.user_id, recipient = %entry.recipient, attempts, "init email given up");
            report.failed += 1;
            settled.done(&entry, DeliveryState::Failed, now, |n| {
                n.attempts = attempts;
                n.last_error = Some(error.to_string());
            });
            return Ok(());
        }
        tracing::warn!(%error, notification = %entry.id, user_id = %entry.user_id, attempts, %retry_at, "init email failed; will retry");
        report.retrying += 1;
        self.outbox.reschedule(&entry, attempts, retry_at).await?;
        let mut record = Notification::after_attempt(&entry, DeliveryState::Queued, now);
        record.attempts = attempts;
        record.last_error = Some(error.to_string());
        settled.records.push(record);
        Ok(())
    }

    /// Appends "init code sent" to the logs of the users mailed, all at once
    /// from the state the round read; a user changed meanwhile is read again
    /// and written alone. The emails are out either way, so a failure here is
    /// logged and not retried by mailing again.
    async fn record_sent(&self, sent: Vec<(OutboxEntry, UserWrite)>) {
        if sent.is_empty() {
            return;
        }
        let (entries, writes): (Vec<_>, Vec<_>) = sent.into_iter().unzip();
        let results = self.users.save_many(writes).await;
        for (entry, result) in entries.iter().zip(results) {
            self.after_sent_write(entry, result).await;
        }
    }

    /// A user changed since the round read it is read again and written
    /// alone; other failures are logged.
    async fn after_sent_write(&self, entry: &OutboxEntry, result: Result<(), SaveError>) {
        match result {
            Ok(()) => {}
            Err(SaveError::Conflict) => self.record_sent_alone(entry).await,
            Err(e) => {
                tracing::warn!(error = %e, notification = %entry.id, user_id = %entry.user_id, "could not record that the init email was sent");
            }
        }
    }

    /// Appends "init code sent" to the user's log, reading it afresh each try.
    async fn record_sent_alone(&self, entry: &OutboxEntry) {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let mut user = match self.users.get(&entry.user_id).await {
                Ok(Some(user)) => user,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, notification = %entry.id, user_id = %entry.user_id, "could not record that the init email was sent");
                    return;
                }
            };
            // Removed while its email was on its way: the notification record
            // says it was sent; a removed user's log ends with its removal.
            if user.state == UserState::Deleted {
                return;
            }
            let expected_sequence = user.sequence;
            let event = UserEvent::InitCodeSent { notification: entry.id.clone(), generation: entry.code_generation };
            let recorded = user.record(event, self.clock.now()).by(&Editor::notification());
            match self.users.save(UserWrite { expected_sequence, user, events: vec![recorded], outbox: None }).await {
                Ok(()) => return,
                Err(SaveError::Conflict) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, notification = %entry.id, user_id = %entry.user_id, "could not record that the init email was sent");
                    return;
                }
            }
        }
    }

    fn message(&self, user: &User, entry: &OutboxEntry) -> InitMessage {
        let template = user.init_code.as_ref().and_then(|c| c.delivery.url_template());
        let link = match template {
            // The integrator's own link (the v2 API's `url_template`).
            Some(t) => t.fill(user.id.as_str(), entry.code.expose(), user.org.as_str()),
            None => crate::init_link::InitLink {
                user_id: user.id.to_string(),
                login_name: user.login_name().to_owned(),
                code: entry.code.expose().to_owned(),
                org_id: user.org.to_string(),
                password_set: Some(user.password_hash.is_some()),
            }
            .url(&self.config.external_url),
        };
        InitMessage {
            notification_id: entry.id.clone(),
            user_id: user.id.clone(),
            org_id: user.org.clone(),
            recipient: entry.recipient.clone(),
            display_name: user.profile.display_name.clone(),
            login_name: user.login_name().to_owned(),
            code: entry.code.clone(),
            link,
            expires_at: user.init_code.as_ref().map_or(entry.enqueued_at, |c| c.expires_at),
            language: user.profile.preferred_language.clone(),
            brand: None,
            application_name: user.init_code.as_ref().and_then(|c| c.delivery.application_name()).map(str::to_owned),
            reminder: entry.kind == crate::notifications::NotificationKind::Reminder,
        }
    }

    /// Exponential, capped, with jitter (50–100 %) so retries of many emails
    /// do not arrive at the provider together.
    fn backoff(&self, attempts: u32) -> Duration {
        let exp = self.config.retry_base * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
        let capped = exp.min(self.config.retry_max);
        let mut b = [0u8; 1];
        let _ = getrandom::getrandom(&mut b);
        capped * (0.5 + f64::from(b[0]) / 510.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ids::NotificationId;
    use crate::ports::{MockMailer, MockOutbox};
    use crate::usecases::test_support::*;

    fn entry_for(user: &User, code: &crate::PlainCode) -> OutboxEntry {
        OutboxEntry {
            id: NotificationId::parse("n1").unwrap(),
            user_id: user.id.clone(),
            recipient: user.email.address.clone(),
            code: code.clone(),
            code_generation: user.init_code.as_ref().unwrap().generation,
            enqueued_at: T0,
            attempts: 0,
            not_before: T0,
            receipt: String::new(),
            kind: Default::default(),
        }
    }

    struct Harness {
        completed: Arc<Mutex<Vec<String>>>,
        rescheduled: Arc<Mutex<Vec<(u32, OffsetDateTime)>>>,
        sent: Arc<Mutex<Vec<InitMessage>>>,
        writes: Arc<Mutex<Vec<UserWrite>>>,
        notes: Arc<Mutex<Vec<Notification>>>,
        dispatcher: Dispatcher,
    }

    fn harness(user: User, entry: OutboxEntry, now: OffsetDateTime, mail: Result<String, MailError>) -> Harness {
        let (repo, writes) = repo_with(Some(user));
        let mut outbox = MockOutbox::new();
        let pending = Mutex::new(Some(entry));
        outbox.expect_partitions().return_const(1usize);
        outbox.expect_claim_due().returning(move |_, _, _, _| Ok(pending.lock().unwrap().take().into_iter().collect()));
        let completed = Arc::new(Mutex::new(Vec::new()));
        let c = completed.clone();
        outbox.expect_complete().returning(move |e| {
            c.lock().unwrap().push(e.id.to_string());
            Ok(())
        });
        let rescheduled = Arc::new(Mutex::new(Vec::new()));
        let r = rescheduled.clone();
        outbox.expect_reschedule().returning(move |_, a, at| {
            r.lock().unwrap().push((a, at));
            Ok(())
        });
        let sent = Arc::new(Mutex::new(Vec::new()));
        let s = sent.clone();
        let mut mailer = MockMailer::new();
        // One batch call per round, one result per message.
        mailer.expect_send_batch().returning(move |ms| {
            s.lock().unwrap().extend(ms.iter().cloned());
            ms.iter().map(|_| mail.clone()).collect()
        });
        let config = DeliveryConfig { external_url: "https://id.example.com/".into(), ..DeliveryConfig::default() };
        let notes = Arc::new(Mutex::new(Vec::new()));
        let mut log = crate::ports::MockNotificationLog::new();
        let n = notes.clone();
        log.expect_put().returning(move |r| {
            n.lock().unwrap().push(r.clone());
            Ok(())
        });
        let dispatcher =
            Dispatcher::new(Arc::new(repo), Arc::new(outbox), Arc::new(log), Arc::new(mailer), clock_at(now), config);
        Harness { completed, rescheduled, sent, writes, notes, dispatcher }
    }

    #[tokio::test]
    async fn a_reminders_email_says_so_and_its_records_keep_the_kind() {
        use crate::notifications::NotificationKind;
        let (user, code) = initial_user();
        let entry = OutboxEntry { kind: NotificationKind::Reminder, ..entry_for(&user, &code) };
        let h = harness(user.clone(), entry, T0, Ok("msg-1".into()));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().sent, 1);
        assert!(h.sent.lock().unwrap()[0].reminder);
        let notes = h.notes.lock().unwrap().clone();
        assert!(notes.len() == 2 && notes.iter().all(|n| n.kind == NotificationKind::Reminder), "{notes:?}");
        // An invitation's does not.
        let h = harness(user.clone(), entry_for(&user, &code), T0, Ok("msg-1".into()));
        h.dispatcher.deliver_due(0).await.unwrap();
        assert!(!h.sent.lock().unwrap()[0].reminder);
        assert!(h.notes.lock().unwrap().iter().all(|n| n.kind == NotificationKind::Invitation));
    }

    #[tokio::test]
    async fn a_removed_users_email_is_withdrawn_unsent() {
        let (mut user, code) = initial_user();
        let entry = entry_for(&user, &code);
        user.record(UserEvent::Removed, T0);
        let h = harness(user, entry, T0, Ok("msg-1".into()));
        let report = h.dispatcher.deliver_due(0).await.unwrap();
        assert_eq!(report, DeliveryReport { superseded: 1, ..DeliveryReport::default() });
        assert!(h.sent.lock().unwrap().is_empty());
        assert_eq!(h.completed.lock().unwrap().len(), 1);
        let notes = h.notes.lock().unwrap();
        assert_eq!(notes.iter().map(|n| n.state).collect::<Vec<_>>(), [DeliveryState::Withdrawn]);
    }

    #[tokio::test]
    async fn the_current_code_is_mailed_with_its_link_and_recorded() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0, Ok("msg-1".into()));
        let report = h.dispatcher.deliver_due(0).await.unwrap();
        assert_eq!(report, DeliveryReport { sent: 1, ..DeliveryReport::default() });
        let sent = h.sent.lock().unwrap();
        assert_eq!(sent[0].recipient.as_str(), "jane@example.com");
        assert_eq!(
            sent[0].link,
            format!(
                "https://id.example.com/ui/login/user/init?userID=200&loginname=jane&code={}&orgID=100&passwordset=false",
                code.expose()
            )
        );
        assert_eq!(sent[0].expires_at, T0 + Duration::hours(72));
        assert_eq!(*h.completed.lock().unwrap(), ["n1"]);
        let w = &h.writes.lock().unwrap()[0];
        assert_eq!(w.events[0].event.kind(), "user.initialization.code.sent");
        assert_eq!(w.events[0].sequence, 3);
        let states: Vec<_> = h.notes.lock().unwrap().iter().map(|n| (n.state, n.attempts)).collect();
        assert_eq!(states, [(DeliveryState::Sending, 1), (DeliveryState::Sent, 1)]);
        assert_eq!(h.notes.lock().unwrap()[1].provider_message_id.as_deref(), Some("msg-1"));
    }

    fn branded(logo: bool) -> crate::branding::Branding {
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>".to_vec();
        let logo = logo.then(|| crate::branding::Logo::parse(svg).unwrap());
        let draft = crate::branding::BrandingDraft {
            display_name: Some("Acme".into()),
            sender_address: Some("it@acme.example".into()),
            ..Default::default()
        };
        draft.into_branding(logo, T0, &|_, _, _| Ok(())).unwrap()
    }

    #[tokio::test]
    async fn a_branded_organizations_email_carries_its_branding_and_the_logos_address() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0, Ok("msg-1".into()));
        let mut directory = crate::ports::MockDirectory::new();
        directory.expect_branding().withf(|o| *o == org()).returning(|_| Ok(Some(branded(true))));
        let brandings = Brandings::new(Arc::new(directory), clock_at(T0), crate::branding::BRANDING_TTL);
        let dispatcher = h.dispatcher.clone().with_brandings(brandings);
        assert_eq!(dispatcher.deliver_due(0).await.unwrap().sent, 1);
        let sent = h.sent.lock().unwrap();
        let brand = sent[0].brand.as_ref().expect("branded");
        assert_eq!(brand.branding.display_name.as_deref(), Some("Acme"));
        let version = brand.branding.logo.as_ref().unwrap().version();
        assert_eq!(
            brand.logo_url.as_deref(),
            Some(format!("https://id.example.com/ui/login/user/init/brand/100/logo?v={version}").as_str())
        );
    }

    #[tokio::test]
    async fn a_directory_that_cannot_say_the_branding_fails_the_round_before_anything_is_sent() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0, Ok("msg-1".into()));
        let mut directory = crate::ports::MockDirectory::new();
        directory.expect_branding().returning(|_| Err(Unavailable("down".into())));
        let brandings = Brandings::new(Arc::new(directory), clock_at(T0), crate::branding::BRANDING_TTL);
        let dispatcher = h.dispatcher.clone().with_brandings(brandings);
        assert_eq!(dispatcher.deliver_due(0).await, Err(Unavailable("down".into())));
        assert!(h.sent.lock().unwrap().is_empty(), "nothing sent from the wrong sender");
        assert!(h.completed.lock().unwrap().is_empty(), "the entry's lease runs out and it is tried again");
    }

    #[tokio::test]
    async fn without_brandings_emails_go_unbranded() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0, Ok("msg-1".into()));
        h.dispatcher.deliver_due(0).await.unwrap();
        assert!(h.sent.lock().unwrap()[0].brand.is_none());
    }

    #[tokio::test]
    async fn an_older_code_is_not_mailed() {
        let (mut user, code) = initial_user();
        let entry = entry_for(&user, &code);
        let (_, hash, expires_at) = codes().issue(&user.id, T0);
        user.record(UserEvent::InitCodeAdded { hash, expires_at }, T0);
        let h = harness(user, entry, T0, Ok("x".into()));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().superseded, 1);
        assert!(h.sent.lock().unwrap().is_empty());
        assert_eq!(*h.completed.lock().unwrap(), ["n1"]);
    }

    #[tokio::test]
    async fn an_expired_code_is_not_mailed() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0 + Duration::hours(73), Ok("x".into()));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().expired, 1);
        assert!(h.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn transient_failures_are_rescheduled_with_backoff() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0, Err(MailError::Transient("503".into())));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().retrying, 1);
        let (attempts, at) = h.rescheduled.lock().unwrap()[0];
        assert_eq!(attempts, 1);
        assert!(at >= T0 + Duration::seconds(1) && at <= T0 + Duration::seconds(2), "{at}");
        assert!(h.completed.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn permanent_failures_and_exhausted_attempts_are_given_up() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0, Err(MailError::Permanent("401".into())));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().failed, 1);
        assert_eq!(*h.completed.lock().unwrap(), ["n1"]);
        let last = h.notes.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last.state, DeliveryState::Failed);
        assert!(last.last_error.unwrap().contains("401"));

        let last_try = OutboxEntry { attempts: 9, ..entry_for(&user, &code) };
        let h = harness(user, last_try, T0, Err(MailError::Transient("503".into())));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().failed, 1);
        assert!(h.rescheduled.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_throttled_send_waits_as_long_as_the_provider_asks() {
        let (user, code) = initial_user();
        let throttled = MailError::Throttled { reason: "429".into(), retry_after: std::time::Duration::from_secs(30) };
        let h = harness(user.clone(), entry_for(&user, &code), T0, Err(throttled));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().retrying, 1);
        assert_eq!(h.rescheduled.lock().unwrap()[0], (1, T0 + Duration::seconds(30)));
    }

    #[tokio::test]
    async fn an_email_past_its_maximum_age_is_given_up() {
        let (user, code) = initial_user();
        let old = OutboxEntry { enqueued_at: T0 - Duration::hours(25), ..entry_for(&user, &code) };
        let h = harness(user, old, T0, Err(MailError::Transient("503".into())));
        assert_eq!(h.dispatcher.deliver_due(0).await.unwrap().failed, 1);
        assert!(h.rescheduled.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn due_emails_go_to_the_mailer_in_one_batch() {
        let (first, first_code) = initial_user();
        let (mut second, _) = initial_user();
        second.id = crate::UserId::parse("201").unwrap();
        let (second_code, hash, expires_at) = codes().issue(&second.id, T0);
        second.record(UserEvent::InitCodeAdded { hash, expires_at }, T0);
        let entries = vec![
            entry_for(&first, &first_code),
            OutboxEntry { id: NotificationId::parse("n2").unwrap(), ..entry_for(&second, &second_code) },
        ];
        let users: std::collections::HashMap<_, _> =
            [(first.id.clone(), first.clone()), (second.id.clone(), second.clone())].into_iter().collect();
        let mut repo = crate::ports::MockUserRepository::new();
        repo.expect_get().returning(move |id| Ok(users.get(id).cloned()));
        repo.expect_save().returning(|_| Ok(()));
        let mut outbox = MockOutbox::new();
        let pending = Mutex::new(Some(entries));
        outbox.expect_claim_due().returning(move |_, _, _, _| Ok(pending.lock().unwrap().take().unwrap_or_default()));
        outbox.expect_complete().times(2).returning(|_| Ok(()));
        let mut log = crate::ports::MockNotificationLog::new();
        log.expect_put().returning(|_| Ok(()));
        let mut mailer = MockMailer::new();
        mailer
            .expect_send_batch()
            .times(1)
            .withf(|ms| ms.len() == 2)
            .returning(|ms| ms.iter().map(|m| Ok(format!("x-{}", m.notification_id))).collect());
        let dispatcher = Dispatcher::new(
            Arc::new(repo),
            Arc::new(outbox),
            Arc::new(log),
            Arc::new(mailer),
            clock_at(T0),
            DeliveryConfig::default(),
        );
        assert_eq!(dispatcher.deliver_due(0).await.unwrap().sent, 2);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (user, code) = initial_user();
        let h = harness(user.clone(), entry_for(&user, &code), T0, Ok("x".into()));
        let d = |n| h.dispatcher.backoff(n);
        assert!(d(3) >= Duration::seconds(4) && d(3) <= Duration::seconds(8));
        assert!(d(40) <= Duration::minutes(10) && d(40) >= Duration::minutes(5));
    }
}
