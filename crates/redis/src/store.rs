//! Users, event logs and the outbox on Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use onboard_domain::ports::{
    FunnelCounts, FunnelDurations, HookQueue, IdPage, InvitationCounts, InvitationIndex, Mailed, MarkChange, Milestone,
    NotificationLog, Outbox, OutboxEntry, ReminderQueue, SaveError, TIMED_STEPS, Unavailable, UserIndex,
    UserRepository, UserWrite, WaitingMark, WaitingSplit, replay_steps,
};
use onboard_domain::reminders::{DueReminder, ReminderOffsets, reminders_of_write};
use onboard_domain::webhook_events::{HookEvent, HookExpiry, event_of_notification, events_of_write, expiry_of_write};
use onboard_domain::{
    DeliveryState, EmailAddress, InvitationSource, Notification, NotificationId, OrgId, Page, Position, RecordedEvent,
    User, UserEvent, UserId, UserState,
};
use redis::{AsyncCommands, Script};
use time::{Duration, OffsetDateTime};

use crate::codec::{decode, encode};
use crate::conn::{Conn, RedisConnection};
use crate::keys::{EMAIL_BUCKETS, INVITATION_WEEK_MS, Keys, email_digest, from_index_id, index_id};
use crate::lua::{Call, Durability, Lua, run_reads};
use crate::millis::ms;
use crate::stored::{
    RECIPIENT_FIELD, StoredNotification, decode_entry, decode_event, delivery_code, delivery_of_code, encode_entry,
    mark_change, mark_code, milestone_code, milestone_codes, notification_field, notification_id, rebuild,
    snapshot_due,
};
use crate::user_cache::UserCache;

/// A name claim whose user never appeared is free again after this long
/// (the creating node died between claiming and writing).
const STALE_CLAIM_MS: i64 = 30_000;

/// The wire number of [`UserState::Deleted`], as the user hash's `t` holds it.
const DELETED: &str = "3";

/// The layout of the user keys this version writes and reads (recorded in
/// [`Keys::LAYOUT`]). Layout 1 kept a snapshot of each user in its hash and
/// the notification records in a hash of their own; layout 2 rebuilds users
/// from their logs and keeps the records in the user hash.
const LAYOUT: &str = "2";

/// The scripts of users, names and the outbox. Those that take a batch
/// (load, save, put_notification, complete) take items of one partition.
struct Scripts {
    load: Lua,
    save: Lua,
    put_notification: Lua,
    claim: Lua,
    complete: Lua,
    reschedule: Lua,
    claim_name: Lua,
    release_name: Lua,
    mailed: Lua,
    lease: Lua,
    index_scan: Lua,
    index_backfill: Lua,
    count_backfill: Lua,
    funnel_backfill: Lua,
    expire: Lua,
    /// The earliest due bucket of a per-second schedule: expiries and reminders alike.
    due_bucket: Lua,
    settle_reminders: Lua,
}

impl Scripts {
    fn new() -> Self {
        Self {
            load: Lua::new(include_str!("lua/load.lua")),
            save: Lua::new(concat!(include_str!("lua/durations.lua"), include_str!("lua/save.lua"))),
            put_notification: Lua::new(concat!(
                include_str!("lua/durations.lua"),
                include_str!("lua/put_notification.lua")
            )),
            claim: Lua::new(include_str!("lua/claim.lua")),
            complete: Lua::new(include_str!("lua/complete.lua")),
            reschedule: Lua::new(include_str!("lua/reschedule.lua")),
            claim_name: Lua::new(include_str!("lua/claim_name.lua")),
            release_name: Lua::new(include_str!("lua/release_name.lua")),
            mailed: Lua::new(include_str!("lua/mailed.lua")),
            lease: Lua::new(include_str!("lua/lease.lua")),
            index_scan: Lua::new(include_str!("lua/index_scan.lua")),
            index_backfill: Lua::new(include_str!("lua/index_backfill.lua")),
            count_backfill: Lua::new(include_str!("lua/count_backfill.lua")),
            funnel_backfill: Lua::new(include_str!("lua/funnel_backfill.lua")),
            expire: Lua::new(include_str!("lua/expire.lua")),
            due_bucket: Lua::new(include_str!("lua/due_bucket.lua")),
            settle_reminders: Lua::new(include_str!("lua/settle_reminders.lua")),
        }
    }
}

/// Items grouped by their outbox partition (the slot of their keys), each
/// with its index in the caller's order.
fn by_partition<'a, T>(keys: &Keys, items: &'a [T], user: impl Fn(&T) -> &UserId) -> Vec<Vec<(usize, &'a T)>> {
    let mut groups: std::collections::BTreeMap<usize, Vec<(usize, &T)>> = std::collections::BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        groups.entry(keys.partition_of(user(item))).or_default().push((i, item));
    }
    groups.into_values().collect()
}

/// Per partition: the dedicated connection of its blocking reads, and the
/// message ids such a read handed to this consumer, for the next claim.
#[derive(Default)]
struct PartitionState {
    blocking: tokio::sync::Mutex<Option<Conn>>,
    handed_over: Mutex<Vec<String>>,
}

/// The Redis store: implements [`UserRepository`] and [`Outbox`].
pub struct RedisStore {
    redis: Arc<RedisConnection>,
    keys: Keys,
    scripts: Scripts,
    consumer: String,
    partitions: Vec<PartitionState>,
    cache: UserCache,
    /// The sequence each user had when a claim here just returned its
    /// entry: a cached user at that sequence is the stored one then, and
    /// answers the dispatcher's read that follows (see `get_many`).
    claimed: Mutex<HashMap<UserId, u64>>,
    /// When reminders are due before a code's expiry; off by default.
    reminder_offsets: ReminderOffsets,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("partitions", &self.keys.partitions())
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Opens the store: refuses a Redis whose users were written in another
    /// layout or whose values in another format ([`crate::format`]), fixes
    /// the partition count at the first start (and refuses another one
    /// later) and makes the consumer groups.
    /// `consumer` names this node among the dispatchers; it must be unique.
    pub async fn open(redis: Arc<RedisConnection>, consumer: &str) -> Result<Self, String> {
        let wanted = redis.settings.partitions.max(1);
        let mut conn = redis.conn();
        let layout: String = redis
            .run(
                Script::new(include_str!("lua/layout.lua"))
                    .key(Keys::LAYOUT)
                    .key(Keys::PARTITIONS)
                    .arg(LAYOUT)
                    .invoke_async(&mut conn),
            )
            .await
            .map_err(|e| e.to_string())?;
        if layout != LAYOUT {
            return Err(format!(
                "this Redis holds users in store layout {layout}; this version reads only layout {LAYOUT} and does \
                 not migrate (see docs/redis.md)"
            ));
        }
        // Before the partitions are set: their absence marks a first start.
        crate::format::check(&redis).await.map_err(|e| e.to_string())?;
        let _: bool = redis.run(conn.set_nx(Keys::PARTITIONS, wanted)).await.map_err(|e| e.to_string())?;
        let stored: usize = redis.run(conn.get(Keys::PARTITIONS)).await.map_err(|e| e.to_string())?;
        if stored != wanted {
            return Err(format!(
                "this Redis holds {stored} outbox partitions; the configured {wanted} cannot change once data exists"
            ));
        }
        for p in 0..stored {
            let made: Result<(), _> = redis
                .run(
                    redis::cmd("XGROUP")
                        .arg("CREATE")
                        .arg(Keys::stream(p))
                        .arg(Keys::GROUP)
                        .arg("0")
                        .arg("MKSTREAM")
                        .query_async::<()>(&mut conn),
                )
                .await;
            if let Err(e) = made {
                if !e.0.contains("BUSYGROUP") {
                    return Err(e.to_string());
                }
            }
        }
        let store = Self {
            keys: Keys::new(stored),
            scripts: Scripts::new(),
            consumer: consumer.to_owned(),
            partitions: (0..stored).map(|_| PartitionState::default()).collect(),
            cache: UserCache::new(redis.settings.user_cache),
            claimed: Mutex::default(),
            reminder_offsets: ReminderOffsets::OFF,
            redis,
        };
        // Users written before the indexes existed get their entries once;
        // every node may do it at its start until one has finished (the
        // writes are idempotent).
        let built: Option<String> = store.redis.run(conn.get(Keys::INDEXED)).await.map_err(|e| e.to_string())?;
        if built.as_deref() != Some("1") {
            let indexed = store.backfill_indexes().await.map_err(|e| e.to_string())?;
            let _: () = store.redis.run(conn.set(Keys::INDEXED, "1")).await.map_err(|e| e.to_string())?;
            if indexed > 0 {
                tracing::info!(users = indexed, "indexed the users written before the user indexes existed");
            }
        }
        // Likewise the invitation counts: the Initial users written before
        // they existed are counted once, after the indexes are there; and
        // the funnel's milestones of the users written before the funnel's
        // counts existed (one pass for both, each script idempotent).
        let counted: Option<String> = store.redis.run(conn.get(Keys::COUNTED)).await.map_err(|e| e.to_string())?;
        let funneled: Option<String> =
            store.redis.run(conn.get(Keys::FUNNEL_COUNTED)).await.map_err(|e| e.to_string())?;
        if counted.as_deref() != Some("1") || funneled.as_deref() != Some("1") {
            let (counted, reached) = store.backfill_counts().await.map_err(|e| e.to_string())?;
            let _: () = store.redis.run(conn.set(Keys::COUNTED, "1")).await.map_err(|e| e.to_string())?;
            let _: () = store.redis.run(conn.set(Keys::FUNNEL_COUNTED, "1")).await.map_err(|e| e.to_string())?;
            if counted > 0 || reached > 0 {
                tracing::info!(
                    users = counted,
                    milestones = reached,
                    "counted the invitations written before the invitation counts existed"
                );
            }
        }
        // And the split of the waiting: the users locked or expired before
        // it was counted are marked and counted once (expire.lua's marks,
        // guarded by the mark and the sequence: two nodes at once count
        // nobody twice).
        let split: Option<String> = store.redis.run(conn.get(Keys::SPLIT_COUNTED)).await.map_err(|e| e.to_string())?;
        if split.as_deref() != Some("1") {
            let marked = store.backfill_split().await.map_err(|e| e.to_string())?;
            let _: () = store.redis.run(conn.set(Keys::SPLIT_COUNTED, "1")).await.map_err(|e| e.to_string())?;
            if marked > 0 {
                tracing::info!(
                    users = marked,
                    "counted the locked and expired invitations written before their counts"
                );
            }
        }
        Ok(store)
    }

    /// Marks and counts, once, the waiting users locked or expired now
    /// that were written before the split of the waiting was counted: each
    /// user hash of each partition is found and read, and expire.lua marks
    /// those still at the sequence read and unmarked. Answers how many.
    async fn backfill_split(&self) -> Result<u64, Unavailable> {
        let mut marked = 0;
        let now = OffsetDateTime::now_utc();
        let max_attempts = self.redis.settings.code_max_attempts;
        for p in 0..self.keys.partitions() {
            let mut cursor = "0".to_owned();
            loop {
                let mut call = self.scripts.index_backfill.call();
                call.key(Keys::stream(p)).arg(&cursor).arg(Keys::user_prefix(p));
                let found: Vec<String> = call.run(&self.redis, Durability::Local).await?;
                let mut found = found.into_iter();
                cursor = found.next().unwrap_or_else(|| "0".into());
                let ids: Vec<UserId> = found.filter_map(|id| UserId::parse(&id).ok()).collect();
                for chunk in ids.chunks(100) {
                    let marks: Vec<(UserId, u64, WaitingMark)> = self
                        .get_many(chunk)
                        .await?
                        .into_iter()
                        .flatten()
                        .filter(|u| u.state == UserState::Initial)
                        .filter_map(|u| {
                            let code = u.init_code.as_ref()?;
                            let mark = if code.failed_attempts >= max_attempts {
                                WaitingMark::Locked
                            } else if code.is_expired(now) {
                                WaitingMark::Expired
                            } else {
                                return None;
                            };
                            Some((u.id.clone(), u.sequence, mark))
                        })
                        .collect();
                    if !marks.is_empty() {
                        marked += self.settle(p, &[], &marks, &[]).await?;
                    }
                }
                if cursor == "0" {
                    break;
                }
            }
        }
        Ok(marked)
    }

    /// One run of expire.lua: records `expired`, marks `marks` (user,
    /// sequence, mark) and drops the expiries `done`; how many it marked.
    async fn settle(
        &self,
        partition: usize,
        expired: &[HookEvent],
        marks: &[(UserId, u64, WaitingMark)],
        done: &[HookExpiry],
    ) -> Result<u64, Unavailable> {
        let mut call = self.scripts.expire.call();
        call.key(Keys::hooks(partition)).key(Keys::hooks_expiry(partition)).arg(expired.len());
        for e in expired {
            call.arg(encode(e));
        }
        call.arg(marks.len());
        for (id, sequence, mark) in marks {
            call.arg(id.as_str()).arg(*sequence).arg(mark_code(*mark).to_string());
        }
        // How many of each bucket's first entries are done, buckets in order.
        let mut buckets: Vec<(i64, usize)> = Vec::new();
        for d in done {
            match buckets.last_mut() {
                Some((at, n)) if *at == ms(d.at) => *n += 1,
                _ => buckets.push((ms(d.at), 1)),
            }
        }
        for (at, n) in buckets {
            call.arg(at).arg(n);
        }
        // The counts move with the marks: as durable as the other counts.
        let durability = if marks.is_empty() { Durability::Local } else { Durability::Replicated };
        call.run::<u64>(&self.redis, durability).await
    }

    /// Schedules reminders at `offsets` before each new code's expiry (in
    /// the save script's reminders block).
    pub fn with_reminders(mut self, offsets: ReminderOffsets) -> Self {
        self.reminder_offsets = offsets;
        self
    }

    /// Claims the user name of a new user; `Ok(false)` when another user has it.
    async fn claim_name(&self, user: &User) -> Result<bool, Unavailable> {
        let key = Keys::name(&user.org, &user.user_name.unique_key());
        let now = ms(OffsetDateTime::now_utc());
        let mut claim = self.scripts.claim_name.call();
        claim.key(&key).arg(user.id.as_str()).arg(now);
        let answer: String = claim.run(&self.redis, Durability::Replicated).await?;
        if answer == "ok" {
            return Ok(true);
        }
        // Taken: by a user that exists, or by a creation that died half-way?
        let (owner, at) = answer.rsplit_once('|').unwrap_or((&answer, "0"));
        // A removed user (state 3) has given its name up.
        let owner_exists = match UserId::parse(owner) {
            Ok(owner) => {
                let mut conn = self.redis.conn();
                let (q, t): (Option<String>, Option<String>) =
                    self.redis.run(conn.hmget(self.keys.user(&owner), &["q", "t"])).await?;
                q.is_some() && t.as_deref() != Some(DELETED)
            }
            Err(_) => false,
        };
        let age = now - at.parse::<i64>().unwrap_or(0);
        if owner_exists || age < STALE_CLAIM_MS {
            return Ok(false);
        }
        let mut retake = self.scripts.claim_name.call();
        retake.key(&key).arg(user.id.as_str()).arg(now).arg(&answer);
        let retaken: String = retake.run(&self.redis, Durability::Replicated).await?;
        Ok(retaken == "ok")
    }

    async fn release_name(&self, user: &User) {
        let key = Keys::name(&user.org, &user.user_name.unique_key());
        let mut release = self.scripts.release_name.call();
        release.key(&key).arg(user.id.as_str());
        if let Err(e) = release.run::<i64>(&self.redis, Durability::Local).await {
            // The claim goes stale and is taken over after STALE_CLAIM_MS.
            tracing::warn!(error = %e, "could not release a user name claim");
        }
    }

    fn invitation_retention_ms(&self) -> i64 {
        i64::try_from(self.redis.settings.invitation_retention.as_millis()).unwrap_or(i64::MAX / 4)
    }

    /// Adds `write` to a call of the save script (see save.lua).
    fn add_write(&self, call: &mut Call<'_>, write: &UserWrite) {
        let user = &write.user;
        call.key(self.keys.user(&user.id)).key(self.keys.events(&user.id)).key(self.keys.pending(&user.id));
        call.arg(write.events.len()).arg(write.expected_sequence).arg(user.sequence).arg(user.org.as_str());
        call.arg(user.id.as_str());
        if snapshot_due(write.expected_sequence, user.sequence) && user.snapshot_safe() {
            call.arg(encode(user));
        } else {
            call.arg("");
        }
        match &write.outbox {
            Some(entry) => {
                let queued = Notification::queued(entry);
                call.arg(encode_entry(entry))
                    .arg(entry.id.as_str())
                    .arg(notification_field(&entry.id))
                    .arg(entry.recipient.as_str())
                    .arg(StoredNotification::of(&queued, false).encode())
                    .arg(StoredNotification::of(&queued, true).encode())
            }
            None => call.arg("").arg("").arg("").arg("").arg("").arg(""),
        };
        let (digest, _) = email_digest(&user.org, &user.email.address.as_str().to_lowercase());
        call.arg(user.state as i32).arg(ms(user.created_at)).arg(&digest[..]).arg(index_id(&user.id));
        // How the invitation ended, if this write ends it (save.lua adds the
        // user only when the write also takes it out of Initial).
        let ended = write.events.iter().find_map(|e| match e.event {
            UserEvent::InitCheckSucceeded => Some("c"),
            UserEvent::Removed => Some("w"),
            _ => None,
        });
        // The week's set lives until the retention after the week's end,
        // as a time to live from the write (so from Redis's clock: a write
        // whose time is not the server's keeps its set the same span).
        let at = ms(user.changed_at);
        let week = at.div_euclid(INVITATION_WEEK_MS);
        let ttl = (week + 1) * INVITATION_WEEK_MS + self.invitation_retention_ms() - at;
        call.arg(ended.unwrap_or("")).arg(week).arg(ttl);
        // The funnel's milestones the write's events reach (save.lua counts
        // each one the user has not reached before).
        call.arg(milestone_codes(write.events.iter().filter_map(|e| Milestone::of_event(&e.event))));
        // When they are reached, for timing them from the step before.
        call.arg(at);
        // How the write leaves the user's mark for the split of the waiting.
        call.arg(mark_change(MarkChange::of_write(user, &write.events, self.redis.settings.code_max_attempts)));
        for event in &write.events {
            call.arg(encode(event));
        }
    }

    /// Saves writes of one partition in one script; one result per write.
    async fn save_in_partition(&self, writes: &[&UserWrite], durability: Durability) -> Result<Vec<bool>, Unavailable> {
        let Some(first) = writes.first() else { return Ok(Vec::new()) };
        let p = self.keys.partition_of(&first.user.id);
        let mut call = self.scripts.save.call();
        call.key(Keys::stream(p)).key(Keys::retry(p));
        call.arg(Keys::partition_prefix(p)).arg(EMAIL_BUCKETS);
        for write in writes {
            self.add_write(&mut call, write);
        }
        // The webhook block as add_hooks makes it, each write's events
        // followed by the expiry its new code schedules (see save.lua).
        call.key(Keys::hooks(p)).key(Keys::hooks_expiry(p));
        for write in writes {
            let events = events_of_write(write);
            call.arg(events.len());
            for e in &events {
                call.arg(encode(e));
            }
            match expiry_of_write(write) {
                Some(e) => call.arg(expiry_bucket(e.at)).arg(index_id(&e.user_id)),
                None => call.arg("").arg(""),
            };
        }
        // The reminders block (see save.lua): per write its reminders.
        for write in writes {
            let due = reminders_of_write(write, &self.reminder_offsets);
            call.arg(due.len());
            for d in &due {
                call.arg(expiry_bucket(d.at)).arg(reminder_entry(d));
            }
        }
        let saved: Vec<i64> = call.run(&self.redis, durability).await?;
        if saved.len() != writes.len() {
            return Err(Unavailable("redis: the save script answered for another number of writes".into()));
        }
        Ok(saved.into_iter().map(|s| s == 1).collect())
    }

    /// Keeps or forgets the written user by the write's outcome.
    fn remember(&self, write: &UserWrite, saved: &Result<bool, Unavailable>) {
        match saved {
            Ok(true) => self.cache.put(&write.user, self.redis.failures()),
            // A conflict: the stored user is another; a failure: unknown.
            _ => self.cache.forget(&write.user.id),
        }
    }

    async fn settle_mailed(&self, mailed: &[Mailed]) -> Result<Vec<Result<(), SaveError>>, Unavailable> {
        let mut results: Vec<Result<(), SaveError>> = (0..mailed.len()).map(|_| Ok(())).collect();
        for group in by_partition(&self.keys, mailed, |m| &m.entry.user_id) {
            let p = self.keys.partition_of(&group[0].1.entry.user_id);
            let mut call = self.scripts.mailed.call();
            call.key(Keys::stream(p)).arg(Keys::GROUP);
            for (_, m) in &group {
                let (entry, write, record) = (&m.entry, &m.write, &m.record);
                let user = &write.user;
                let [event] = write.events.as_slice() else {
                    return Err(Unavailable("a mailed email's write carries one event".into()));
                };
                call.key(self.keys.user(&user.id)).key(self.keys.events(&user.id)).key(self.keys.pending(&user.id));
                call.arg(&entry.receipt).arg(entry.id.as_str()).arg(write.expected_sequence).arg(user.sequence);
                if snapshot_due(write.expected_sequence, user.sequence) && user.snapshot_safe() {
                    call.arg(encode(user));
                } else {
                    call.arg("");
                }
                call.arg(encode(event))
                    .arg(notification_field(&record.id))
                    .arg(record.recipient.as_str())
                    .arg(StoredNotification::of(record, false).encode())
                    .arg(StoredNotification::of(record, true).encode())
                    .arg(delivery_code(record.state))
                    .arg(index_id(&user.id));
                // The event moves the sequence expire.lua checks: this write
                // marks a user it sees expired itself (see save.lua).
                let change = MarkChange::of_write(user, &write.events, self.redis.settings.code_max_attempts);
                call.arg(if change == MarkChange::Set(WaitingMark::Expired) { "e" } else { "" });
            }
            add_hooks(&mut call, p, group.iter().map(|(_, m)| event_of_notification(&m.record).into_iter().collect()));
            let saved: Vec<i64> = call.run(&self.redis, Durability::Local).await?;
            if saved.len() != group.len() {
                return Err(Unavailable("redis: the mailed script answered for another number of emails".into()));
            }
            for ((i, m), saved) in group.into_iter().zip(saved) {
                let saved = Ok(saved == 1);
                self.remember(&m.write, &saved);
                if saved != Ok(true) {
                    results[i] = Err(SaveError::Conflict);
                }
            }
        }
        Ok(results)
    }

    /// Rebuilds a user from what load.lua answered for it.
    fn rebuild(&self, id: &UserId, raw: &[Vec<u8>]) -> Result<Option<User>, Unavailable> {
        let [sequence, org, snapshot, events @ ..] = raw else {
            return Ok(None);
        };
        let sequence = std::str::from_utf8(sequence).ok().and_then(|q| q.parse().ok());
        let org = std::str::from_utf8(org).ok().and_then(|g| OrgId::parse(g).ok());
        let (Some(sequence), Some(org)) = (sequence, org) else {
            return Err(Unavailable(format!("stored user {id} has no valid sequence or organization")));
        };
        let snapshot = if snapshot.is_empty() { None } else { Some(decode(snapshot)?) };
        let events = events.iter().map(|bytes| decode_event(bytes)).collect::<Result<_, _>>()?;
        let user = rebuild(id, org, sequence, snapshot, events)?;
        self.cache.put(&user, self.redis.failures());
        Ok(Some(user))
    }

    fn partition_state(&self, partition: usize) -> &PartitionState {
        &self.partitions[partition % self.partitions.len()]
    }
}

#[async_trait]
impl UserRepository for RedisStore {
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %id))]
    async fn get(&self, id: &UserId) -> Result<Option<User>, Unavailable> {
        let mut call = self.scripts.load.call();
        call.key(self.keys.user(id)).key(self.keys.events(id));
        let raw: Vec<Vec<Vec<u8>>> = call.run(&self.redis, Durability::Local).await?;
        match raw.first() {
            Some(raw) => self.rebuild(id, raw),
            None => Ok(None),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %id))]
    async fn get_for_write(&self, id: &UserId) -> Result<Option<User>, Unavailable> {
        match self.cache.get(id, self.redis.failures()) {
            Some(cached) => cached.map(Some),
            None => self.get(id).await,
        }
    }

    /// Users whose entries a claim here just returned, at the sequence the
    /// claim saw, come from the cache (as fresh as that claim); the others
    /// are read.
    #[tracing::instrument(level = "debug", skip_all, fields(users = ids.len()))]
    async fn get_many(&self, ids: &[UserId]) -> Result<Vec<Option<User>>, Unavailable> {
        let mut users = vec![None; ids.len()];
        let mut unread = Vec::with_capacity(ids.len());
        {
            let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
            let failures = self.redis.failures();
            for (i, id) in ids.iter().enumerate() {
                let seen = claimed.remove(id);
                match (seen, self.cache.get(id, failures)) {
                    (Some(q), Some(Ok(user))) if user.sequence == q => users[i] = Some(user),
                    _ => unread.push(i),
                }
            }
        }
        if unread.is_empty() {
            return Ok(users);
        }
        let wanted: Vec<UserId> = unread.iter().map(|&i| ids[i].clone()).collect();
        // One script per partition, all in one pipeline.
        let groups = by_partition(&self.keys, &wanted, |id| id);
        let calls: Vec<Call<'_>> = groups
            .iter()
            .map(|group| {
                let mut call = self.scripts.load.call();
                for (_, id) in group {
                    call.key(self.keys.user(id)).key(self.keys.events(id));
                }
                call
            })
            .collect();
        let answers: Vec<Vec<Vec<Vec<u8>>>> = run_reads(&calls, &self.redis).await?;
        for (group, raw) in groups.into_iter().zip(answers) {
            if raw.len() != group.len() {
                return Err(Unavailable("redis: the load script answered for another number of users".into()));
            }
            for ((i, id), raw) in group.into_iter().zip(raw) {
                users[unread[i]] = self.rebuild(id, &raw)?;
            }
        }
        Ok(users)
    }

    async fn events(&self, id: &UserId) -> Result<Vec<RecordedEvent>, Unavailable> {
        let mut conn = self.redis.conn();
        let raw: Vec<Vec<u8>> = self.redis.run(conn.lrange(self.keys.events(id), 0, -1)).await?;
        raw.iter().map(|bytes| decode_event(bytes)).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %write.user.id, expected = write.expected_sequence))]
    async fn save(&self, write: UserWrite) -> Result<(), SaveError> {
        let creating = write.expected_sequence == 0;
        if creating && !self.claim_name(&write.user).await? {
            return Err(SaveError::UserNameTaken);
        }
        let saved = self.save_in_partition(&[&write], Durability::Replicated).await.map(|s| s[0]);
        self.remember(&write, &saved);
        match saved {
            Ok(true) => {
                if write.events.iter().any(|e| e.event == UserEvent::Removed) {
                    // Best effort: a claim left by a removed user is taken over by the next claim.
                    self.release_name(&write.user).await;
                }
                Ok(())
            }
            Ok(false) => {
                if creating {
                    self.release_name(&write.user).await;
                }
                Err(SaveError::Conflict)
            }
            // Whether the script ran (or replicated) is unknown; a creation's
            // name claim stays with its id, so a retry with the same id is not
            // blocked and a stale one is taken over later.
            Err(e) => Err(SaveError::Unavailable(e)),
        }
    }

    async fn ping(&self) -> Result<(), Unavailable> {
        let mut conn = self.redis.conn();
        self.redis.run(redis::cmd("PING").query_async::<()>(&mut conn)).await
    }
}

/// Adds the webhook block's key and arguments to a call of save.lua,
/// mailed.lua or put_notification.lua: the partition's webhook stream, and
/// per item the number of its events and them.
fn add_hooks(call: &mut Call<'_>, partition: usize, items: impl Iterator<Item = Vec<HookEvent>>) {
    call.key(Keys::hooks(partition));
    for events in items {
        call.arg(events.len());
        for e in &events {
            call.arg(encode(e));
        }
    }
}

/// The expiry bucket of `at` (ms): the next whole second, so an entry is
/// never due before its code expired.
fn expiry_bucket(at: OffsetDateTime) -> i64 {
    ms(at).div_euclid(1000) * 1000 + if ms(at).rem_euclid(1000) == 0 { 0 } else { 1000 }
}

/// A reminder as its bucket's list holds it: the user's index id, ':', the
/// code's expiry (ms).
fn reminder_entry(d: &DueReminder) -> String {
    format!("{}:{}", index_id(&d.user_id), ms(d.deadline))
}

/// The reminder a bucket's entry stands for; `None` for one unreadable.
fn reminder_of_entry(bucket: OffsetDateTime, entry: &str) -> Option<DueReminder> {
    let (id, deadline) = entry.rsplit_once(':')?;
    let deadline =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(deadline.parse::<i64>().ok()?) * 1_000_000).ok()?;
    Some(DueReminder { at: bucket, user_id: from_index_id(id)?, deadline })
}

/// The states a user is indexed under (every one but deleted), in the order scans walk them.
const INDEXED_STATES: [UserState; 6] = [
    UserState::Initial,
    UserState::Active,
    UserState::Unspecified,
    UserState::Inactive,
    UserState::Locked,
    UserState::Suspend,
];

/// Offsets up to this read each set's first `offset + limit` entries; a
/// deeper page first finds the score it starts at.
const DEEP_OFFSET: u64 = 1_000;

/// `limit` entries after skipping `skip`, as ids.
fn take_page(entries: Vec<(f64, String)>, skip: u64, limit: u32) -> Vec<UserId> {
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    entries.into_iter().skip(skip).take(limit as usize).filter_map(|(_, entry)| from_index_id(&entry)).collect()
}

/// Where a scan of an organization's users stands: partition, then index
/// and rank inside it (see index_scan.lua).
fn scan_cursor(cursor: Option<&str>) -> (usize, i64, i64) {
    let parsed = cursor.and_then(|c| {
        let mut parts = c.split(':').map(str::parse::<i64>);
        Some((parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?))
    });
    match parsed {
        Some((p, k, r)) => (usize::try_from(p).unwrap_or(usize::MAX), k.max(1), r.max(0)),
        None => (0, 1, 0),
    }
}

impl RedisStore {
    /// One page of the sorted sets `keys_of(partition)` over every
    /// partition: each set's count and first `offset + limit` entries, all
    /// in one pipeline (plain commands: a script turning the replies into
    /// Lua tables cost four times as much), merged here. Its cost grows
    /// with the page's end, not with the size of the index.
    async fn index_page(&self, keys_of: impl Fn(usize) -> Vec<String>, page: &Page) -> Result<IdPage, Unavailable> {
        let groups: Vec<Vec<String>> = (0..self.keys.partitions()).map(keys_of).collect();
        let want = page.offset.saturating_add(u64::from(page.limit));
        if page.offset <= DEEP_OFFSET {
            let (total, entries) = self.index_heads(&groups, None, want, page.asc).await?;
            return Ok(IdPage { total, ids: take_page(entries, page.offset, page.limit) });
        }
        // A deep page: find the score where it starts (a binary search on
        // the counts below a score), then read each set from there.
        let total = self.index_count(&groups, None, page.asc).await?;
        if page.offset >= total {
            return Ok(IdPage { total, ids: Vec::new() });
        }
        let (lo, hi) = self.index_score_range(&groups).await?;
        let (mut lo, mut hi) = (lo, hi);
        // Invariant: the entry at `offset` has a score in [lo, hi].
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let bound = if page.asc { mid } else { mid + 1 };
            let counted = self.index_count(&groups, Some(bound), page.asc).await?;
            if page.asc {
                if counted > page.offset { hi = mid } else { lo = mid + 1 }
            } else if counted > page.offset {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        let start = lo;
        // Entries strictly before `start` in the page's order.
        let before = if page.asc {
            self.index_count(&groups, Some(start - 1), true).await?
        } else {
            self.index_count(&groups, Some(start + 1), false).await?
        };
        let skip = page.offset - before;
        let (_, entries) = self.index_heads(&groups, Some(start), skip + u64::from(page.limit), page.asc).await?;
        Ok(IdPage { total, ids: take_page(entries, skip, page.limit) })
    }

    /// Each set's count and first `n` entries (from score `from` on, in the
    /// page's direction), all in one pipeline per partition, merged.
    async fn index_heads(
        &self,
        groups: &[Vec<String>],
        from: Option<i64>,
        n: u64,
        asc: bool,
    ) -> Result<(u64, Vec<(f64, String)>), Unavailable> {
        let cmds: Vec<Vec<redis::Cmd>> = groups
            .iter()
            .map(|keys| {
                let mut cmds = Vec::new();
                for key in keys {
                    cmds.push(redis::cmd("ZCARD").arg(key).clone());
                    if n == 0 {
                        continue;
                    }
                    let mut range = redis::cmd("ZRANGE");
                    match (from, asc) {
                        (None, _) => {
                            range.arg(key).arg(0).arg(n - 1);
                            if !asc {
                                range.arg("REV");
                            }
                        }
                        (Some(s), true) => {
                            range.arg(key).arg(s).arg("+inf").arg("BYSCORE").arg("LIMIT").arg(0).arg(n);
                        }
                        (Some(s), false) => {
                            range.arg(key).arg(s).arg("-inf").arg("BYSCORE").arg("REV").arg("LIMIT").arg(0).arg(n);
                        }
                    }
                    range.arg("WITHSCORES");
                    cmds.push(range);
                }
                cmds
            })
            .collect();
        let mut total = 0u64;
        let mut entries: Vec<(f64, String)> = Vec::new();
        for reply in self.redis.grouped(&cmds).await? {
            match reply {
                redis::Value::Int(n) => total += u64::try_from(n).unwrap_or(0),
                other => {
                    let pairs: Vec<(String, f64)> = self.reply_of(other)?;
                    entries.extend(pairs.into_iter().map(|(id, score)| (score, id)));
                }
            }
        }
        entries.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        if !asc {
            entries.reverse();
        }
        Ok((total, entries))
    }

    /// How many entries the sets hold in all, or (with a bound) how many
    /// come at or before `score` in the page's direction (`ZCOUNT`).
    async fn index_count(&self, groups: &[Vec<String>], bound: Option<i64>, asc: bool) -> Result<u64, Unavailable> {
        let cmds: Vec<Vec<redis::Cmd>> = groups
            .iter()
            .map(|keys| {
                keys.iter()
                    .map(|key| match bound {
                        None => redis::cmd("ZCARD").arg(key).clone(),
                        Some(s) if asc => redis::cmd("ZCOUNT").arg(key).arg("-inf").arg(s).clone(),
                        Some(s) => redis::cmd("ZCOUNT").arg(key).arg(s).arg("+inf").clone(),
                    })
                    .collect()
            })
            .collect();
        let mut total = 0u64;
        for reply in self.redis.grouped(&cmds).await? {
            match reply {
                redis::Value::Int(n) => total += u64::try_from(n).unwrap_or(0),
                other => return Err(Unavailable(format!("redis: unexpected reply to a count: {other:?}"))),
            }
        }
        Ok(total)
    }

    /// The lowest and highest score of the sets (ms).
    async fn index_score_range(&self, groups: &[Vec<String>]) -> Result<(i64, i64), Unavailable> {
        let cmds: Vec<Vec<redis::Cmd>> = groups
            .iter()
            .map(|keys| {
                keys.iter()
                    .flat_map(|key| {
                        [
                            redis::cmd("ZRANGE").arg(key).arg(0).arg(0).arg("WITHSCORES").clone(),
                            redis::cmd("ZRANGE").arg(key).arg(-1).arg(-1).arg("WITHSCORES").clone(),
                        ]
                    })
                    .collect()
            })
            .collect();
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for reply in self.redis.grouped(&cmds).await? {
            let pairs: Vec<(String, f64)> =
                redis::from_redis_value(reply).map_err(|e| Unavailable(format!("redis: unexpected reply: {e}")))?;
            for (_, score) in pairs {
                lo = lo.min(score as i64);
                hi = hi.max(score as i64);
            }
        }
        Ok((lo, hi.max(lo)))
    }

    /// Saves `writes` (new users, no email due) a partition's worth per
    /// script, without claiming their names and without waiting for
    /// replicas: for loading a benchmark's users fast.
    #[cfg(feature = "testing")]
    pub async fn save_batch_unclaimed(&self, writes: &[UserWrite]) -> Result<(), Unavailable> {
        for group in by_partition(&self.keys, writes, |w| &w.user.id) {
            let refs: Vec<&UserWrite> = group.iter().map(|(_, w)| *w).collect();
            let saved = self.save_in_partition(&refs, Durability::Local).await?;
            if saved.iter().any(|s| !s) {
                return Err(Unavailable("a bulk-loaded user was there already".into()));
            }
        }
        Ok(())
    }

    /// One reply of `RedisConnection::grouped`, where errors
    /// come back as values: an error counts as the store failing.
    fn reply_of<T: redis::FromRedisValue>(&self, reply: redis::Value) -> Result<T, Unavailable> {
        if let redis::Value::ServerError(e) = &reply {
            self.redis.count_failure();
            return Err(Unavailable(format!("redis: {}", e.details().unwrap_or(e.code()))));
        }
        redis::from_redis_value(reply).map_err(|e| Unavailable(format!("redis: unexpected reply: {e}")))
    }

    fn org_indexes(p: usize, org: &OrgId) -> Vec<String> {
        INDEXED_STATES.iter().map(|s| Keys::state_index(p, org, *s as i32)).collect()
    }

    /// The earliest due bucket of the per-second schedule `buckets` (the
    /// webhook expiries', the reminders') and up to `limit` of its first
    /// entries, when this node holds (or now takes, for `lease`) the
    /// schedule's `lease_key`; none otherwise (see due_bucket.lua).
    async fn due_bucket(
        &self,
        lease_key: String,
        buckets: String,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<(OffsetDateTime, Vec<String>), Unavailable> {
        let mut call = self.scripts.due_bucket.call();
        call.key(lease_key).key(buckets);
        call.arg(&self.consumer).arg(lease.whole_milliseconds().max(1) as i64).arg(ms(now)).arg(limit.max(1));
        let (bucket, entries): (i64, Vec<String>) = call.run(&self.redis, Durability::Local).await?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(bucket) * 1_000_000)
            .map_err(|e| Unavailable(format!("redis: a schedule bucket out of range: {e}")))?;
        Ok((at, entries))
    }

    /// Builds the indexes of users written before this version kept any:
    /// each user hash of each partition is read and saved again unchanged,
    /// which makes save.lua index it. Runs once per store (see [`Keys::INDEXED`]).
    async fn backfill_indexes(&self) -> Result<u64, Unavailable> {
        let mut indexed = 0;
        for p in 0..self.keys.partitions() {
            let mut cursor = "0".to_owned();
            loop {
                let mut call = self.scripts.index_backfill.call();
                call.key(Keys::stream(p)).arg(&cursor).arg(Keys::user_prefix(p));
                let found: Vec<String> = call.run(&self.redis, Durability::Local).await?;
                let mut found = found.into_iter();
                cursor = found.next().unwrap_or_else(|| "0".into());
                let ids: Vec<UserId> = found.filter_map(|id| UserId::parse(&id).ok()).collect();
                let users = self.get_many(&ids).await?;
                let writes: Vec<UserWrite> = users
                    .into_iter()
                    .flatten()
                    .map(|user| UserWrite { expected_sequence: user.sequence, user, events: Vec::new(), outbox: None })
                    .collect();
                for chunk in writes.chunks(100) {
                    let refs: Vec<&UserWrite> = chunk.iter().collect();
                    // A user written meanwhile is indexed by that write.
                    self.save_in_partition(&refs, Durability::Replicated).await?;
                    indexed += chunk.len() as u64;
                }
                if cursor == "0" {
                    break;
                }
            }
        }
        Ok(indexed)
    }

    /// Counts the Initial users written before the invitation counts
    /// existed under their latest email's state: each user hash of each
    /// partition is found, its records read, and count_backfill.lua counts
    /// those not counted yet; and funnel_backfill.lua counts the milestones
    /// their logs and records show that they were not counted for yet.
    /// Runs once per store (see [`Keys::COUNTED`], [`Keys::FUNNEL_COUNTED`]).
    /// Answers the users counted and the milestones counted.
    async fn backfill_counts(&self) -> Result<(u64, u64), Unavailable> {
        let (mut counted, mut reached) = (0, 0);
        for p in 0..self.keys.partitions() {
            let mut cursor = "0".to_owned();
            loop {
                let mut call = self.scripts.index_backfill.call();
                call.key(Keys::stream(p)).arg(&cursor).arg(Keys::user_prefix(p));
                let found: Vec<String> = call.run(&self.redis, Durability::Local).await?;
                let mut found = found.into_iter();
                cursor = found.next().unwrap_or_else(|| "0".into());
                let ids: Vec<UserId> = found.filter_map(|id| UserId::parse(&id).ok()).collect();
                for chunk in ids.chunks(100) {
                    let facts = self.facts(chunk).await?;
                    let mut call = self.scripts.count_backfill.call();
                    let mut funnel = self.scripts.funnel_backfill.call();
                    let mut any = false;
                    for (id, (events, notifications)) in chunk.iter().zip(facts) {
                        let milestones = events
                            .iter()
                            .filter_map(|e| Milestone::of_event(&e.event))
                            .chain(notifications.iter().filter_map(|n| Milestone::of_delivery(n.state)));
                        let replayed = replay_steps(&events, &notifications);
                        let timed: Vec<String> =
                            replayed.buckets.iter().map(|(m, b)| format!("{}{b}", milestone_code(*m))).collect();
                        let kept = replayed.kept.map(|t| t.map(base36).unwrap_or_default());
                        funnel
                            .key(self.keys.user(id))
                            .arg(milestone_codes(milestones))
                            .arg(timed.join(","))
                            .arg(&kept[0])
                            .arg(&kept[1]);
                        // The latest email as the scripts judge it: the newest id
                        // (ids are decimal and made in time order).
                        let latest = notifications.iter().max_by(|a, b| {
                            (a.id.as_str().len(), a.id.as_str()).cmp(&(b.id.as_str().len(), b.id.as_str()))
                        });
                        if let Some(latest) = latest {
                            call.key(self.keys.user(id)).arg(delivery_code(latest.state)).arg(index_id(id));
                            any = true;
                        }
                    }
                    if any {
                        counted += call.run::<u64>(&self.redis, Durability::Replicated).await?;
                    }
                    if !chunk.is_empty() {
                        reached += funnel.run::<u64>(&self.redis, Durability::Replicated).await?;
                    }
                }
                if cursor == "0" {
                    break;
                }
            }
        }
        Ok((counted, reached))
    }
}

#[async_trait]
impl HookQueue for RedisStore {
    fn hook_partitions(&self) -> usize {
        self.keys.partitions()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn claim_hook_events(
        &self,
        partition: usize,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HookEvent>, Unavailable> {
        let mut call = self.scripts.lease.call();
        call.key(Keys::hooks_lease(partition)).arg(&self.consumer).arg(lease.whole_milliseconds().max(1) as i64);
        if call.run::<i64>(&self.redis, Durability::Local).await? != 1 {
            return Ok(Vec::new());
        }
        let mut conn = self.redis.conn();
        let reply: redis::streams::StreamRangeReply =
            self.redis.run(conn.xrange_count(Keys::hooks(partition), "-", "+", limit)).await?;
        reply
            .ids
            .into_iter()
            .map(|entry| {
                let bytes: Vec<u8> = entry
                    .get("e")
                    .ok_or_else(|| Unavailable(format!("redis: webhook event {} has no field e", entry.id)))?;
                let mut event: HookEvent = decode(&bytes)?;
                if event.sequence == 0 {
                    // The user's sequence when the record was kept, read by the script that kept it.
                    let stored: Option<String> = entry.get("s");
                    event.sequence = stored.and_then(|s| s.parse().ok()).unwrap_or(0);
                }
                event.receipt = entry.id;
                Ok(event)
            })
            .collect()
    }

    async fn ack_hook_events(&self, partition: usize, events: &[HookEvent]) -> Result<(), Unavailable> {
        if events.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("XDEL");
        cmd.arg(Keys::hooks(partition));
        for e in events {
            cmd.arg(&e.receipt);
        }
        self.redis.write(&cmd).await.map(|_: i64| ())
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn due_expiries(
        &self,
        partition: usize,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<HookExpiry>, Unavailable> {
        let (at, members) =
            self.due_bucket(Keys::hooks_lease(partition), Keys::hooks_expiry(partition), now, limit, lease).await?;
        Ok(members.iter().filter_map(|m| from_index_id(m)).map(|user_id| HookExpiry { at, user_id }).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(partition, expired = expired.len(), done = done.len()))]
    async fn settle_expiries(
        &self,
        partition: usize,
        expired: &[HookEvent],
        done: &[HookExpiry],
    ) -> Result<(), Unavailable> {
        if expired.is_empty() && done.is_empty() {
            return Ok(());
        }
        // Each user told expired is marked so, if still at the event's
        // sequence and unmarked (see expire.lua).
        let marks: Vec<(UserId, u64, WaitingMark)> = expired
            .iter()
            .filter(|e| e.event_type == onboard_domain::webhooks::EventType::InvitationExpired)
            .map(|e| (e.user_id.clone(), e.sequence, WaitingMark::Expired))
            .collect();
        self.settle(partition, expired, &marks, done).await.map(|_| ())
    }
}

#[async_trait]
impl ReminderQueue for RedisStore {
    fn reminder_partitions(&self) -> usize {
        self.keys.partitions()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn due_reminders(
        &self,
        partition: usize,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<DueReminder>, Unavailable> {
        let (at, entries) =
            self.due_bucket(Keys::reminders_lease(partition), Keys::reminders(partition), now, limit, lease).await?;
        let mut due = Vec::with_capacity(entries.len());
        for entry in &entries {
            match reminder_of_entry(at, entry) {
                Some(d) => due.push(d),
                None => return Err(Unavailable(format!("redis: an unreadable reminder entry {entry:?}"))),
            }
        }
        Ok(due)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(partition, done = done.len()))]
    async fn settle_reminders(&self, partition: usize, done: &[DueReminder]) -> Result<(), Unavailable> {
        if done.is_empty() {
            return Ok(());
        }
        let mut call = self.scripts.settle_reminders.call();
        call.key(Keys::reminders(partition));
        for d in done {
            call.arg(ms(d.at)).arg(reminder_entry(d));
        }
        call.run::<i64>(&self.redis, Durability::Local).await.map(|_| ())
    }
}

#[async_trait]
impl UserIndex for RedisStore {
    #[tracing::instrument(level = "debug", skip_all, fields(org = %org, state = ?state))]
    async fn by_state(&self, org: &OrgId, state: UserState, page: &Page) -> Result<IdPage, Unavailable> {
        if state == UserState::Deleted {
            return Ok(IdPage::default());
        }
        self.index_page(|p| vec![Keys::state_index(p, org, state as i32)], page).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(org = %org))]
    async fn in_org(&self, org: &OrgId, page: &Page) -> Result<IdPage, Unavailable> {
        self.index_page(|p| Self::org_indexes(p, org), page).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(org = %org))]
    async fn scan_org(
        &self,
        org: &OrgId,
        cursor: Option<String>,
        count: u32,
    ) -> Result<(Vec<UserId>, Option<String>), Unavailable> {
        let (mut p, mut k, mut rank) = scan_cursor(cursor.as_deref());
        let mut ids = Vec::new();
        while p < self.keys.partitions() && ids.len() < count as usize {
            let mut call = self.scripts.index_scan.call();
            for key in Self::org_indexes(p, org) {
                call.key(key);
            }
            call.arg(k).arg(rank).arg(count as usize - ids.len());
            let answer: Vec<String> = call.run(&self.redis, Durability::Local).await?;
            let mut answer = answer.into_iter();
            let next_k: i64 = answer.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            let next_rank: i64 = answer.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            ids.extend(answer.filter_map(|entry| from_index_id(&entry)));
            if next_k == 0 {
                (p, k, rank) = (p + 1, 1, 0);
            } else {
                (k, rank) = (next_k, next_rank);
            }
        }
        let next = (p < self.keys.partitions()).then(|| format!("{p}:{k}:{rank}"));
        Ok((ids, next))
    }

    /// The name claims: `org`'s own, or every organization's in turn (there
    /// are few organizations; one read per organization, all in one pipeline).
    #[tracing::instrument(level = "debug", skip_all)]
    async fn by_user_name(&self, org: Option<OrgId>, unique_name: &str) -> Result<Vec<UserId>, Unavailable> {
        let orgs = match org {
            Some(org) => vec![org],
            None => {
                let mut conn = self.redis.conn();
                let all: Vec<String> = self.redis.run(conn.hkeys(Keys::ORGANIZATIONS)).await?;
                all.iter().filter_map(|o| OrgId::parse(o).ok()).collect()
            }
        };
        let groups: Vec<Vec<redis::Cmd>> =
            orgs.iter().map(|org| vec![redis::cmd("GET").arg(Keys::name(org, unique_name)).clone()]).collect();
        let mut ids = Vec::new();
        for reply in self.redis.grouped(&groups).await? {
            let claim: Option<String> = self.reply_of(reply)?;
            // A claim is `<user id>|<ms>`; its user may be gone or never
            // written, which the reader of the ids finds out.
            if let Some(id) = claim.as_deref().and_then(|c| c.split('|').next()).and_then(|i| UserId::parse(i).ok()) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(org = %org))]
    async fn by_email(&self, org: &OrgId, address: &str) -> Result<Vec<UserId>, Unavailable> {
        let (digest, bucket) = email_digest(org, address);
        let groups: Vec<Vec<redis::Cmd>> = (0..self.keys.partitions())
            .map(|p| vec![redis::cmd("HGET").arg(Keys::email_bucket(p, bucket)).arg(&digest[..]).clone()])
            .collect();
        let mut ids = Vec::new();
        for reply in self.redis.grouped(&groups).await? {
            let listed: Option<String> = self.reply_of(reply)?;
            ids.extend(listed.iter().flat_map(|l| l.split(',')).filter_map(from_index_id));
        }
        Ok(ids)
    }
}

/// The most entries of one millisecond a partition's index answers at a
/// page's boundary: users created in one millisecond in one organization and
/// partition beyond this would be skipped there (writes of one node take
/// longer than a millisecond / 1000 each).
const TIES_READ: usize = 1000;

#[async_trait]
impl InvitationIndex for RedisStore {
    /// Per partition the index's sets (the Initial users' state index, or
    /// the weeks of the window of an ended kind), each read from the
    /// position on with plain `ZRANGE`s in one pipeline, merged here: the
    /// cost grows with `count` and the partitions, not with the index.
    #[tracing::instrument(level = "debug", skip_all, fields(org = %org, source = ?source, count))]
    async fn invitations(
        &self,
        org: &OrgId,
        source: InvitationSource,
        window: (OffsetDateTime, OffsetDateTime),
        after: Option<Position>,
        count: u32,
    ) -> Result<Vec<(Position, UserId)>, Unavailable> {
        let after = after.as_ref();
        if count == 0 {
            return Ok(Vec::new());
        }
        let weeks = ms(window.0).div_euclid(INVITATION_WEEK_MS)..=ms(window.1).div_euclid(INVITATION_WEEK_MS);
        let keys_of = |p: usize| -> Vec<String> {
            match source {
                InvitationSource::Waiting => vec![Keys::state_index(p, org, UserState::Initial as i32)],
                InvitationSource::DeliveryException => vec![Keys::delivery_exceptions(p, org)],
                InvitationSource::Completed => weeks.clone().map(|w| Keys::invitations_ended(p, org, "c", w)).collect(),
                InvitationSource::Withdrawn => weeks.clone().map(|w| Keys::invitations_ended(p, org, "w", w)).collect(),
            }
        };
        let groups: Vec<Vec<redis::Cmd>> = (0..self.keys.partitions())
            .map(|p| {
                let mut cmds = Vec::new();
                for key in keys_of(p) {
                    let mut older = redis::cmd("ZRANGE");
                    match after {
                        // Same millisecond, smaller id: read the millisecond's entries.
                        Some(a) => {
                            let mut ties = redis::cmd("ZRANGE");
                            ties.arg(&key).arg(a.created_ms).arg(a.created_ms).arg("BYSCORE").arg("REV");
                            ties.arg("LIMIT").arg(0).arg(TIES_READ).arg("WITHSCORES");
                            cmds.push(ties);
                            older.arg(&key).arg(format!("({}", a.created_ms)).arg("-inf");
                        }
                        None => {
                            older.arg(&key).arg("+inf").arg("-inf");
                        }
                    }
                    older.arg("BYSCORE").arg("REV").arg("LIMIT").arg(0).arg(count).arg("WITHSCORES");
                    cmds.push(older);
                }
                cmds
            })
            .collect();
        let mut entries = Vec::new();
        for reply in self.redis.grouped(&groups).await? {
            let pairs: Vec<(String, f64)> = self.reply_of(reply)?;
            for (member, score) in pairs {
                let position = Position { created_ms: score as i64, key: member };
                if after.is_some_and(|a| position >= *a) {
                    continue;
                }
                if let Some(id) = from_index_id(&position.key) {
                    entries.push((position, id));
                }
            }
        }
        entries.sort_by(|a, b| b.0.cmp(&a.0));
        // A user in two weeks' sets (ended twice within the window) shows once.
        entries.dedup_by(|a, b| a.0 == b.0);
        entries.truncate(count as usize);
        Ok(entries)
    }

    /// `ZCARD` of each set of the source (the weeks of the window for the
    /// ended ones), in one pipeline.
    #[tracing::instrument(level = "debug", skip_all, fields(org = %org, source = ?source))]
    async fn count(
        &self,
        org: &OrgId,
        source: InvitationSource,
        window: (OffsetDateTime, OffsetDateTime),
    ) -> Result<u64, Unavailable> {
        let weeks = ms(window.0).div_euclid(INVITATION_WEEK_MS)..=ms(window.1).div_euclid(INVITATION_WEEK_MS);
        let groups: Vec<Vec<redis::Cmd>> = (0..self.keys.partitions())
            .map(|p| {
                let keys: Vec<String> = match source {
                    InvitationSource::Waiting => vec![Keys::state_index(p, org, UserState::Initial as i32)],
                    InvitationSource::DeliveryException => vec![Keys::delivery_exceptions(p, org)],
                    InvitationSource::Completed => {
                        weeks.clone().map(|w| Keys::invitations_ended(p, org, "c", w)).collect()
                    }
                    InvitationSource::Withdrawn => {
                        weeks.clone().map(|w| Keys::invitations_ended(p, org, "w", w)).collect()
                    }
                };
                keys.into_iter().map(|k| redis::cmd("ZCARD").arg(k).clone()).collect()
            })
            .collect();
        let mut total = 0u64;
        for reply in self.redis.grouped(&groups).await? {
            total += self.reply_of::<u64>(reply)?;
        }
        Ok(total)
    }

    async fn delivery_counts(&self, org: &OrgId) -> Result<Vec<(DeliveryState, u64)>, Unavailable> {
        Ok(self.invitation_counts(org).await?.deliveries)
    }

    async fn waiting_split(&self, org: &OrgId) -> Result<WaitingSplit, Unavailable> {
        Ok(self.invitation_counts(org).await?.split)
    }

    async fn funnel_counts(&self, org: &OrgId) -> Result<FunnelCounts, Unavailable> {
        Ok(self.invitation_counts(org).await?.funnel)
    }

    async fn funnel_durations(&self, org: &OrgId) -> Result<FunnelDurations, Unavailable> {
        Ok(self.invitation_counts(org).await?.durations)
    }

    /// The organization's counts of each partition (`HGETALL` of its
    /// `xs:<org>`), in one pipeline, summed: `d<code>` the deliveries,
    /// `f<code>` the funnel, `h<code><bucket>` its histograms, `s<code>`
    /// the split.
    #[tracing::instrument(level = "debug", skip_all, fields(org = %org))]
    async fn invitation_counts(&self, org: &OrgId) -> Result<InvitationCounts, Unavailable> {
        let groups: Vec<Vec<redis::Cmd>> = (0..self.keys.partitions())
            .map(|p| vec![redis::cmd("HGETALL").arg(Keys::invitation_counts(p, org)).clone()])
            .collect();
        let mut counts = InvitationCounts::default();
        for reply in self.redis.grouped(&groups).await? {
            let fields: Vec<(String, i64)> = self.reply_of(reply)?;
            for (field, n) in fields {
                // A count below zero would be a bug of the scripts: refused, not hidden.
                let n = u64::try_from(n)
                    .map_err(|_| Unavailable(format!("redis: a negative invitation count {field}={n}")))?;
                let mut chars = field.chars();
                let (kind, rest) = (chars.next(), chars.as_str());
                match kind {
                    Some('d') => {
                        let Some(state) = delivery_of_code(rest) else { continue };
                        match counts.deliveries.iter_mut().find(|(s, _)| *s == state) {
                            Some((_, total)) => *total += n,
                            None => counts.deliveries.push((state, n)),
                        }
                    }
                    Some('f') => {
                        if let Some(m) = Milestone::ALL.into_iter().find(|m| one_char(rest) == Some(milestone_code(*m)))
                        {
                            counts.funnel.add(m, n);
                        }
                    }
                    Some('h') => {
                        let mut chars = rest.chars();
                        let step =
                            chars.next().and_then(|code| TIMED_STEPS.into_iter().find(|m| milestone_code(*m) == code));
                        let (Some(step), Ok(bucket)) = (step, chars.as_str().parse::<u16>()) else {
                            return Err(Unavailable(format!("redis: an unknown funnel histogram field {field}")));
                        };
                        if let Some(h) = counts.durations.of_mut(step) {
                            h.add(bucket, n);
                        }
                    }
                    Some('s') => {
                        if one_char(rest) == Some(mark_code(WaitingMark::Expired)) {
                            counts.split.expired += n;
                        } else if one_char(rest) == Some(mark_code(WaitingMark::Locked)) {
                            counts.split.locked += n;
                        }
                    }
                    _ => {}
                }
            }
        }
        counts.deliveries.retain(|(_, n)| *n > 0);
        counts.deliveries.sort_by_key(|(s, _)| s.as_str());
        Ok(counts)
    }

    /// Each user's event log and hash (its notification records), all in
    /// one pipeline (one per partition on a cluster).
    #[tracing::instrument(level = "debug", skip_all, fields(users = ids.len()))]
    async fn facts(&self, ids: &[UserId]) -> Result<Vec<onboard_domain::ports::Facts>, Unavailable> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let groups = by_partition(&self.keys, ids, |id| id);
        let cmds: Vec<Vec<redis::Cmd>> = groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .flat_map(|(_, id)| {
                        [
                            redis::cmd("LRANGE").arg(self.keys.events(id)).arg(0).arg(-1).clone(),
                            redis::cmd("HGETALL").arg(self.keys.user(id)).clone(),
                        ]
                    })
                    .collect()
            })
            .collect();
        let mut replies = self.redis.grouped(&cmds).await?.into_iter();
        let mut facts = vec![(Vec::new(), Vec::new()); ids.len()];
        for group in groups {
            for (i, id) in group {
                let (Some(log), Some(hash)) = (replies.next(), replies.next()) else {
                    return Err(Unavailable("redis: fewer replies than reads".into()));
                };
                let raw: Vec<Vec<u8>> = self.reply_of(log)?;
                let events = raw.iter().map(|bytes| decode_event(bytes)).collect::<Result<Vec<_>, _>>()?;
                let fields: Vec<(Vec<u8>, Vec<u8>)> = self.reply_of(hash)?;
                facts[i] = (events, notifications_of(id, &fields)?);
            }
        }
        Ok(facts)
    }
}

/// The notification records of a user hash's `fields`, newest first.
/// The one character `s` is, if it is one.
fn one_char(s: &str) -> Option<char> {
    let mut chars = s.chars();
    chars.next().filter(|_| chars.next().is_none())
}

fn notifications_of(user: &UserId, fields: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<Notification>, Unavailable> {
    let usual = fields
        .iter()
        .find(|(field, _)| field == RECIPIENT_FIELD.as_bytes())
        .and_then(|(_, r)| EmailAddress::parse(std::str::from_utf8(r).ok()?).ok());
    let mut list = fields
        .iter()
        .filter_map(|(field, value)| notification_id(field).map(|id| (id, value)))
        .map(|(id, value)| StoredNotification::decode(value)?.into_notification(id, user.clone(), usual.as_ref()))
        .collect::<Result<Vec<_>, Unavailable>>()?;
    list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    Ok(list)
}

/// `seconds` in base 36 (lower case), as the scripts keep a step's time
/// (`fw`, `fo`; save.lua's `base36`).
fn base36(seconds: i64) -> String {
    let mut n = seconds.max(0) as u64;
    let mut digits = Vec::new();
    loop {
        digits.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

#[async_trait]
impl NotificationLog for RedisStore {
    async fn put(&self, notification: &Notification) -> Result<(), Unavailable> {
        self.put_many(std::slice::from_ref(notification)).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(records = notifications.len()))]
    async fn put_many(&self, notifications: &[Notification]) -> Result<(), Unavailable> {
        for group in by_partition(&self.keys, notifications, |n| &n.user_id) {
            let p = self.keys.partition_of(&group[0].1.user_id);
            let mut call = self.scripts.put_notification.call();
            let hooks: Vec<Vec<HookEvent>> =
                group.iter().map(|(_, n)| event_of_notification(n).into_iter().collect()).collect();
            for (_, n) in group {
                call.key(self.keys.user(&n.user_id))
                    .arg(notification_field(&n.id))
                    .arg(n.recipient.as_str())
                    .arg(StoredNotification::of(n, false).encode())
                    .arg(StoredNotification::of(n, true).encode())
                    .arg(if n.state.is_exceptional() { "1" } else { "0" })
                    .arg(index_id(&n.user_id))
                    .arg(delivery_code(n.state))
                    .arg(ms(n.updated_at));
            }
            add_hooks(&mut call, p, hooks.into_iter());
            call.run::<i64>(&self.redis, Durability::Local).await?;
        }
        Ok(())
    }

    async fn find(&self, user: &UserId, id: &NotificationId) -> Result<Option<Notification>, Unavailable> {
        let mut conn = self.redis.conn();
        let (raw, usual): (Option<Vec<u8>>, Option<String>) = self
            .redis
            .run(conn.hmget(self.keys.user(user), &[notification_field(id).as_str(), RECIPIENT_FIELD]))
            .await?;
        let usual = usual.and_then(|r| EmailAddress::parse(&r).ok());
        raw.map(|bytes| StoredNotification::decode(&bytes)?.into_notification(id.clone(), user.clone(), usual.as_ref()))
            .transpose()
    }

    async fn list(&self, user: &UserId) -> Result<Vec<Notification>, Unavailable> {
        let mut conn = self.redis.conn();
        let fields: Vec<(Vec<u8>, Vec<u8>)> = self.redis.run(conn.hgetall(self.keys.user(user))).await?;
        notifications_of(user, &fields)
    }
}

#[async_trait]
impl Outbox for RedisStore {
    fn partitions(&self) -> usize {
        self.keys.partitions()
    }

    #[tracing::instrument(level = "debug", skip(self, now, lease))]
    async fn claim_due(
        &self,
        partition: usize,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxEntry>, Unavailable> {
        let handed: Vec<String> =
            std::mem::take(&mut *self.partition_state(partition).handed_over.lock().unwrap_or_else(|e| e.into_inner()));
        let lease_ms = lease.whole_milliseconds().max(1);
        let mut invocation = self.scripts.claim.call();
        invocation
            .key(Keys::stream(partition))
            .key(Keys::retry(partition))
            .arg(Keys::GROUP)
            .arg(&self.consumer)
            .arg(limit.max(1))
            .arg(lease_ms as i64)
            .arg(ms(now))
            .arg(Keys::user_prefix(partition))
            .arg(Keys::pending_prefix(partition));
        for id in &handed {
            invocation.arg(id);
        }
        let flat: Vec<Vec<u8>> = match invocation.run(&self.redis, Durability::Local).await {
            Ok(flat) => flat,
            Err(e) => {
                // Keep what the blocking read handed over for the next try.
                self.partition_state(partition).handed_over.lock().unwrap_or_else(|e| e.into_inner()).extend(handed);
                return Err(e);
            }
        };
        let entries = flat
            .chunks_exact(3)
            .map(|claimed| {
                let mut entry: OutboxEntry = decode_entry(&claimed[1])?;
                entry.receipt = String::from_utf8_lossy(&claimed[0]).into_owned();
                let sequence = std::str::from_utf8(&claimed[2]).ok().and_then(|q| q.parse().ok()).unwrap_or(0);
                Ok((entry, sequence))
            })
            .collect::<Result<Vec<(OutboxEntry, u64)>, Unavailable>>()?;
        let mut seen = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 100_000 {
            // Claims whose users were never read (a dispatcher that failed
            // between the two); they are only hints.
            seen.clear();
        }
        seen.extend(entries.iter().map(|(e, q)| (e.user_id.clone(), *q)));
        Ok(entries.into_iter().map(|(e, _)| e).collect())
    }

    async fn complete(&self, entry: &OutboxEntry) -> Result<(), Unavailable> {
        self.complete_many(std::slice::from_ref(entry)).await
    }

    // The entries carry codes: nothing of them is logged but their number.
    #[tracing::instrument(level = "debug", skip_all, fields(entries = entries.len()))]
    async fn complete_many(&self, entries: &[OutboxEntry]) -> Result<(), Unavailable> {
        for group in by_partition(&self.keys, entries, |e| &e.user_id) {
            let p = self.keys.partition_of(&group[0].1.user_id);
            let mut call = self.scripts.complete.call();
            call.key(Keys::stream(p)).arg(Keys::GROUP);
            for (_, entry) in group {
                call.key(self.keys.user(&entry.user_id))
                    .key(self.keys.pending(&entry.user_id))
                    .arg(&entry.receipt)
                    .arg(entry.id.as_str());
            }
            call.run::<i64>(&self.redis, Durability::Local).await?;
        }
        Ok(())
    }

    /// One script per partition: per email one `HMGET` and one `HSET` of
    /// the user hash, instead of one each in three scripts.
    #[tracing::instrument(level = "debug", skip_all, fields(emails = mailed.len()))]
    async fn complete_mailed(&self, mailed: &[Mailed]) -> Option<Result<Vec<Result<(), SaveError>>, Unavailable>> {
        Some(self.settle_mailed(mailed).await)
    }

    async fn reschedule(
        &self,
        entry: &OutboxEntry,
        attempts: u32,
        not_before: OffsetDateTime,
    ) -> Result<(), Unavailable> {
        let p = self.keys.partition_of(&entry.user_id);
        let updated = OutboxEntry { attempts, not_before, receipt: String::new(), ..entry.clone() };
        let mut call = self.scripts.reschedule.call();
        call.key(Keys::stream(p))
            .key(self.keys.user(&entry.user_id))
            .key(Keys::retry(p))
            .key(self.keys.pending(&entry.user_id))
            .arg(Keys::GROUP)
            .arg(&entry.receipt)
            .arg(entry.id.as_str())
            .arg(encode_entry(&updated))
            .arg(ms(not_before))
            .arg(entry.user_id.as_str());
        call.run::<i64>(&self.redis, Durability::Local).await.map(drop)
    }

    /// A blocking read of the partition's stream on a connection of its own.
    /// Messages it receives are now this consumer's; the next claim resolves them.
    async fn wait_for_work(&self, partition: usize, max_wait: std::time::Duration) {
        let state = self.partition_state(partition);
        let mut slot = state.blocking.lock().await;
        if slot.is_none() {
            match self.redis.dedicated().await {
                Ok(conn) => *slot = Some(conn),
                Err(e) => {
                    tracing::debug!(error = %e, partition, "no connection for blocking reads");
                    drop(slot);
                    tokio::time::sleep(max_wait).await;
                    return;
                }
            }
        }
        let Some(conn) = slot.as_mut() else { return };
        let block_ms = max_wait.min(self.redis.settings.block).as_millis().max(1) as u64;
        let read: redis::RedisResult<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(Keys::GROUP)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(100)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(Keys::stream(partition))
            .arg(">")
            .query_async(conn)
            .await;
        match read {
            Ok(reply) => {
                let ids = reply.keys.into_iter().flat_map(|k| k.ids).map(|m| m.id);
                state.handed_over.lock().unwrap_or_else(|e| e.into_inner()).extend(ids);
            }
            Err(e) => {
                tracing::debug!(error = %e, partition, "blocking read failed");
                // A fresh connection next time; pause so an outage is not a hot loop.
                *slot = None;
                drop(slot);
                tokio::time::sleep(max_wait).await;
            }
        }
    }
}
