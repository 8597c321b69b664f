//! The layout of a user's keys (docs/redis.md): what the behavioural checks
//! cannot see from the ports, checked on a real standalone Redis.

use onboard_domain::ports::{NotificationLog, Outbox, UserRepository, UserWrite};
use onboard_domain::testkit::new_user;
use onboard_domain::{EmailAddress, NotificationId, OrgId, UserEvent};
use onboard_redis::RedisStore;
use onboard_redis::testing::{ProbeUsers, RedisServer, bytes_per_initial_user, bytes_per_user};

use crate::support::{key_of, raw};

async fn open(server: &RedisServer) -> Result<RedisStore, String> {
    crate::support::open(server, "layout-test").await
}

#[tokio::test]
async fn a_long_log_is_read_from_its_snapshot_and_the_events_after_it() {
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let (mut user, write) = new_user(&OrgId::generate(), "long");
    store.save(write).await.unwrap();
    // 45 events, written one or three at a time: snapshots at 16 and 32 or past them.
    while user.sequence < 45 {
        let expected = user.sequence;
        let events: Vec<_> = (0..if expected % 2 == 0 { 3 } else { 1 })
            .map(|_| user.record(UserEvent::InitCheckFailed, user.changed_at + time::Duration::seconds(1)))
            .collect();
        store.save(UserWrite { expected_sequence: expected, user: user.clone(), events, outbox: None }).await.unwrap();
        assert_eq!(store.get(&user.id).await.unwrap().as_ref(), Some(&user), "at {}", user.sequence);
    }
    assert_eq!(store.events(&user.id).await.unwrap().len() as u64, user.sequence);
    let mut conn = raw(&server).await;
    let hash = key_of(&mut conn, "u", &user.id).await.unwrap();
    let at: u64 = redis::cmd("HGET").arg(&hash).arg("x").query_async(&mut conn).await.unwrap();
    assert!((32..=34).contains(&at), "snapshot at {at}");
}

#[tokio::test]
async fn an_email_to_another_address_keeps_its_recipient() {
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let (mut user, write) = new_user(&OrgId::generate(), "moved");
    let first = write.outbox.clone().unwrap();
    store.save(write).await.unwrap();
    let expected = user.sequence;
    let moved = EmailAddress::parse("moved@example.org").unwrap();
    let changed = user.record(UserEvent::EmailChanged { address: moved.clone() }, user.changed_at);
    let code = user.record(
        UserEvent::InitCodeAdded { hash: onboard_domain::CodeHash([9; 32]), expires_at: user.changed_at },
        user.changed_at,
    );
    let second = onboard_domain::ports::OutboxEntry {
        id: NotificationId::generate(),
        recipient: moved.clone(),
        enqueued_at: first.enqueued_at + time::Duration::minutes(1),
        ..first.clone()
    };
    let write = UserWrite {
        expected_sequence: expected,
        user: user.clone(),
        events: vec![changed, code],
        outbox: Some(second.clone()),
    };
    store.save(write).await.unwrap();
    let listed = store.list(&user.id).await.unwrap();
    let recipients: Vec<_> = listed.iter().map(|n| (n.id.clone(), n.recipient.clone())).collect();
    assert_eq!(recipients, vec![(second.id.clone(), moved.clone()), (first.id.clone(), first.recipient.clone())]);
    // Updated by the dispatcher or the provider's events: each keeps its own.
    for n in &listed {
        let mut sent = n.clone();
        sent.provider_message_id = Some("W86EgYT6SQKk0lRflfLRsA".into());
        store.put(&sent).await.unwrap();
        assert_eq!(store.find(&user.id, &n.id).await.unwrap(), Some(sent));
    }
    assert_eq!(store.get(&user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn an_initial_users_keys_stay_compact() {
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let (user, write) = new_user(&OrgId::generate(), "compact");
    store.save(write).await.unwrap();
    let mut conn = raw(&server).await;
    assert!(key_of(&mut conn, "o", &user.id).await.is_some(), "the pending entry has a key of its own");
    for p in 0..store.partitions() {
        let now = time::OffsetDateTime::now_utc();
        for e in store.claim_due(p, now, 100, time::Duration::seconds(60)).await.unwrap() {
            store.complete(&e).await.unwrap();
        }
    }
    assert_eq!(key_of(&mut conn, "o", &user.id).await, None, "and it goes once sent");
    let hash = key_of(&mut conn, "u", &user.id).await.unwrap();
    let encoding: String = redis::cmd("OBJECT").arg("ENCODING").arg(&hash).query_async(&mut conn).await.unwrap();
    assert_eq!(encoding, "listpack");
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("*{}*", user.id)).query_async(&mut conn).await.unwrap();
    assert_eq!(keys.len(), 2, "user hash and event log: {keys:?}");
}

#[tokio::test]
async fn an_initial_user_takes_at_most_a_kib() {
    // At 2,000 users the user indexes' sparse address buckets cost most of
    // a key per user (see below), which puts this small store at 1,000–1,040
    // bytes from run to run; at scale the figure is 706 + 140 bytes at
    // 1,000,000 users (docs/performance.md), within the KiB.
    let per_user = bytes_per_initial_user(2_000, 8).await.unwrap();
    assert!(per_user <= 1024.0 + 128.0, "{per_user:.0} bytes per Initial user");
    // 5,000: at 2,000 the store's fixed share (16 streams, the keyspace's
    // table, which doubles at 8,192 keys while the emails are pending) was
    // 150 bytes per user and put the realistic figure at 1,017–1,040 bytes
    // from run to run (853 at 100,000 users).
    // The user indexes add about 110 bytes per user (a state index entry,
    // an address index entry, the user hash's `t` and `m`) plus, at this
    // size, most of a key per user: the address index's 16,384 buckets are
    // sparse until the store nears 100,000 users (docs/redis.md, Memory).
    let per_user = bytes_per_user(5_000, 8, ProbeUsers::Realistic).await.unwrap();
    assert!(per_user <= 1024.0 + 256.0, "{per_user:.0} bytes per realistic Initial user");
}

/// Reminders (off by default, so the figures above hold without them) cost
/// each pending invitation an entry per reminder until it is due: measured
/// here with two (48h,24h) on the realistic users, the figure docs/redis.md
/// gives.
#[tokio::test]
async fn reminders_cost_a_pending_invitation_an_entry_each() {
    use onboard_redis::testing::bytes_per_reminded_user;
    let two =
        onboard_domain::reminders::ReminderOffsets::new(vec![time::Duration::hours(48), time::Duration::hours(24)])
            .unwrap();
    let off = bytes_per_user(5_000, 8, ProbeUsers::Realistic).await.unwrap();
    let on = bytes_per_reminded_user(5_000, 8, ProbeUsers::Realistic, two).await.unwrap();
    println!("realistic Initial user: {off:.0} bytes without reminders, {on:.0} with two (+{:.0})", on - off);
    // Two list entries (index id, ':', 13 digits) and a share of the buckets' keys.
    assert!(on - off > 20.0 && on - off <= 128.0, "{off:.0} → {on:.0} bytes per user");
}

#[tokio::test]
async fn users_written_in_another_layout_are_refused() {
    let server = RedisServer::start();
    // A store of layout 1 recorded its partitions but no layout.
    let mut conn = raw(&server).await;
    redis::cmd("SET").arg("onb:{meta}:partitions").arg(16).query_async::<()>(&mut conn).await.unwrap();
    let err = open(&server).await.unwrap_err();
    assert!(err.contains("layout 1") && err.contains("layout 2"), "{err}");
    // A new store records its layout and opens again.
    let fresh = RedisServer::start();
    open(&fresh).await.unwrap();
    open(&fresh).await.unwrap();
    let mut conn = raw(&fresh).await;
    let layout: String = redis::cmd("GET").arg("onb:{meta}:layout").query_async(&mut conn).await.unwrap();
    assert_eq!(layout, "2");
}

#[tokio::test]
async fn users_written_before_the_indexes_are_indexed_at_the_next_start() {
    use onboard_domain::ports::UserIndex;
    use onboard_domain::{Page, UserState};
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let org = OrgId::generate();
    let (user, write) = new_user(&org, "earlier");
    store.save(write).await.unwrap();
    let initial = Page { offset: 0, limit: 10, asc: true };
    assert_eq!(store.by_state(&org, UserState::Initial, &initial).await.unwrap().ids, vec![user.id.clone()]);
    // As a version without indexes left the store: no index keys, no `t` or `m`, no record.
    let mut conn = raw(&server).await;
    let index_keys: Vec<String> = redis::cmd("KEYS").arg("onb:{p*}:x[:m]*").query_async(&mut conn).await.unwrap();
    assert_eq!(index_keys.len(), 2, "a state index and an address bucket: {index_keys:?}");
    for key in index_keys.iter().map(String::as_str).chain(["onb:{meta}:indexed"]) {
        redis::cmd("DEL").arg(key).query_async::<()>(&mut conn).await.unwrap();
    }
    let hash = key_of(&mut conn, "u", &user.id).await.unwrap();
    redis::cmd("HDEL").arg(&hash).arg("t").arg("m").query_async::<()>(&mut conn).await.unwrap();
    drop(store);
    let reopened = open(&server).await.unwrap();
    assert_eq!(reopened.by_state(&org, UserState::Initial, &initial).await.unwrap().ids, vec![user.id.clone()]);
    assert_eq!(reopened.by_email(&org, "u@example.com").await.unwrap(), vec![user.id.clone()]);
    let indexed: String = redis::cmd("GET").arg("onb:{meta}:indexed").query_async(&mut conn).await.unwrap();
    assert_eq!(indexed, "1");
    assert_eq!(reopened.get(&user.id).await.unwrap(), Some(user), "the user itself is as it was");
}

#[tokio::test]
async fn invitations_written_before_the_counts_are_counted_once_at_the_next_start() {
    use onboard_domain::DeliveryState;
    use onboard_domain::ports::InvitationIndex;
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let org = OrgId::generate();
    let (user, write) = new_user(&org, "earlier");
    let entry = write.outbox.clone().unwrap();
    store.save(write).await.unwrap();
    let delivered = onboard_domain::Notification::after_attempt(&entry, DeliveryState::Delivered, entry.enqueued_at);
    store.put(&delivered).await.unwrap();
    assert_eq!(store.delivery_counts(&org).await.unwrap(), vec![(DeliveryState::Delivered, 1)]);
    // As a version without the counts left the store: no counts, no `d`.
    let mut conn = raw(&server).await;
    let counts: Vec<String> = redis::cmd("KEYS").arg("onb:{p*}:xs:*").query_async(&mut conn).await.unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    for key in counts.iter().map(String::as_str).chain(["onb:{meta}:counted"]) {
        redis::cmd("DEL").arg(key).query_async::<()>(&mut conn).await.unwrap();
    }
    let hash = key_of(&mut conn, "u", &user.id).await.unwrap();
    redis::cmd("HDEL").arg(&hash).arg("d").query_async::<()>(&mut conn).await.unwrap();
    drop(store);
    let reopened = open(&server).await.unwrap();
    assert_eq!(reopened.delivery_counts(&org).await.unwrap(), vec![(DeliveryState::Delivered, 1)]);
    let marked: String = redis::cmd("GET").arg("onb:{meta}:counted").query_async(&mut conn).await.unwrap();
    assert_eq!(marked, "1");
    // A start that counts again (two nodes at once) counts nobody twice.
    redis::cmd("DEL").arg("onb:{meta}:counted").query_async::<()>(&mut conn).await.unwrap();
    let again = open(&server).await.unwrap();
    assert_eq!(again.delivery_counts(&org).await.unwrap(), vec![(DeliveryState::Delivered, 1)]);
    assert_eq!(again.get(&user.id).await.unwrap(), Some(user), "the user itself is as it was");
}

#[tokio::test]
async fn invitations_written_before_the_funnel_counts_are_counted_once_at_the_next_start() {
    use onboard_domain::DeliveryState;
    use onboard_domain::ports::{FunnelCounts, InvitationIndex};
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let org = OrgId::generate();
    let (user, write) = new_user(&org, "earlier");
    let entry = write.outbox.clone().unwrap();
    store.save(write).await.unwrap();
    let delivered = onboard_domain::Notification::after_attempt(&entry, DeliveryState::Delivered, entry.enqueued_at);
    store.put(&delivered).await.unwrap();
    let funnel = FunnelCounts { created: 1, delivered: 1, opened: 0, completed: 0 };
    assert_eq!(store.funnel_counts(&org).await.unwrap(), funnel);
    let durations = store.funnel_durations(&org).await.unwrap();
    assert_eq!(durations.0.iter().map(|h| h.total()).collect::<Vec<_>>(), [1, 0, 0], "delivered timed");
    // As a version without the funnel's counts left the store: no `f<code>`
    // counts nor histograms, no `f` mark nor step time; the delivery counts stay.
    let mut conn = raw(&server).await;
    let counts: Vec<String> = redis::cmd("KEYS").arg("onb:{p*}:xs:*").query_async(&mut conn).await.unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    let fields: Vec<String> = redis::cmd("HKEYS").arg(&counts[0]).query_async(&mut conn).await.unwrap();
    for field in fields.iter().filter(|f| f.starts_with('f') || f.starts_with('h')) {
        redis::cmd("HDEL").arg(&counts[0]).arg(field).query_async::<()>(&mut conn).await.unwrap();
    }
    redis::cmd("DEL").arg("onb:{meta}:funnel-counted").query_async::<()>(&mut conn).await.unwrap();
    let hash = key_of(&mut conn, "u", &user.id).await.unwrap();
    let fw: String = redis::cmd("HGET").arg(&hash).arg("fw").query_async(&mut conn).await.unwrap();
    redis::cmd("HDEL").arg(&hash).arg("f").arg("fw").query_async::<()>(&mut conn).await.unwrap();
    assert_eq!(store.funnel_counts(&org).await.unwrap(), FunnelCounts::default());
    assert_eq!(store.funnel_durations(&org).await.unwrap(), Default::default());
    drop(store);
    let reopened = open(&server).await.unwrap();
    assert_eq!(reopened.funnel_counts(&org).await.unwrap(), funnel, "from its log and records");
    assert_eq!(reopened.funnel_durations(&org).await.unwrap(), durations, "timed as the live write timed it");
    let kept: String = redis::cmd("HGET").arg(&hash).arg("fw").query_async(&mut conn).await.unwrap();
    assert_eq!(kept, fw, "and the delivery's time kept for the opening");
    assert_eq!(reopened.delivery_counts(&org).await.unwrap(), vec![(DeliveryState::Delivered, 1)], "not twice");
    let marked: String = redis::cmd("GET").arg("onb:{meta}:funnel-counted").query_async(&mut conn).await.unwrap();
    assert_eq!(marked, "1");
    // A start that counts again (two nodes at once) counts nobody twice, nor
    // does a later delivered record of the user.
    redis::cmd("DEL").arg("onb:{meta}:funnel-counted").query_async::<()>(&mut conn).await.unwrap();
    let again = open(&server).await.unwrap();
    again.put(&delivered).await.unwrap();
    assert_eq!(again.funnel_counts(&org).await.unwrap(), funnel);
    assert_eq!(again.funnel_durations(&org).await.unwrap(), durations);
    assert_eq!(again.get(&user.id).await.unwrap(), Some(user), "the user itself is as it was");
}

/// A waiting user's first delivery and opening times (`fw`, `fo`, base-36
/// seconds) are in its hash only while a later step may be timed from
/// them: what the funnel's histograms cost per user.
#[tokio::test]
async fn a_users_step_times_are_kept_only_while_a_later_step_needs_them() {
    use onboard_domain::DeliveryState;
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let mut conn = raw(&server).await;
    let org = OrgId::generate();
    let reader = conn.clone();
    let times = |hash: String| {
        let mut conn = reader.clone();
        async move {
            let t: (Option<String>, Option<String>) =
                redis::cmd("HMGET").arg(&hash).arg("fw").arg("fo").query_async(&mut conn).await.unwrap();
            t
        }
    };
    let record = |user: &onboard_domain::User, event| {
        let mut user = user.clone();
        let expected_sequence = user.sequence;
        let recorded = user.record(event, user.changed_at + time::Duration::seconds(90));
        (user.clone(), UserWrite { expected_sequence, user, events: vec![recorded], outbox: None })
    };
    for ending in [UserEvent::InitCheckSucceeded, UserEvent::Removed] {
        let (user, write) = new_user(&org, &format!("timed{}", ending == UserEvent::Removed));
        let entry = write.outbox.clone().unwrap();
        store.save(write).await.unwrap();
        let hash = key_of(&mut conn, "u", &user.id).await.unwrap();
        assert_eq!(times(hash.clone()).await, (None, None), "nothing to time from yet");
        let delivered =
            onboard_domain::Notification::after_attempt(&entry, DeliveryState::Delivered, entry.enqueued_at);
        store.put(&delivered).await.unwrap();
        let at = entry.enqueued_at.unix_timestamp();
        let fw = times(hash.clone()).await.0.expect("the delivery's time");
        assert_eq!(i64::from_str_radix(&fw, 36).unwrap(), at);
        let (user, write) = if ending == UserEvent::Removed {
            (user, None)
        } else {
            let (user, write) = record(&user, UserEvent::LinkOpened { generation: 1 });
            (user, Some(write))
        };
        if let Some(write) = write {
            store.save(write).await.unwrap();
            let (fw, fo) = times(hash.clone()).await;
            assert_eq!(
                (fw, fo.map(|t| i64::from_str_radix(&t, 36).unwrap())),
                (None, Some(user.changed_at.unix_timestamp()))
            );
        }
        let (_, write) = record(&user, ending);
        store.save(write).await.unwrap();
        assert_eq!(times(hash).await, (None, None), "no later step needs them");
    }
}

#[tokio::test]
async fn deep_pages_of_an_index_are_the_pages_of_the_whole_order() {
    use onboard_domain::ports::UserIndex;
    use onboard_domain::{Page, UserState};
    let server = RedisServer::start();
    let store = std::sync::Arc::new(open(&server).await.unwrap());
    let org = OrgId::generate();
    // 6,000 users a millisecond apart, every other one Initial.
    let ids = onboard_redis::testing::load_listing_users(store.clone(), &org, 6_000, 500, 2).await.unwrap();
    let initial: Vec<_> = ids.iter().step_by(2).cloned().collect();
    for (offset, limit, asc) in [
        (0, 100, true),
        (1_000, 50, true),
        (1_001, 7, true),
        (2_950, 100, true),
        (1_500, 100, false),
        (2_999, 10, false),
        (3_000, 10, true),
    ] {
        let page = store.by_state(&org, UserState::Initial, &Page { offset, limit, asc }).await.unwrap();
        let mut order = initial.clone();
        if !asc {
            order.reverse();
        }
        let expected: Vec<_> = order.into_iter().skip(offset as usize).take(limit as usize).collect();
        assert_eq!((page.total, &page.ids), (3_000, &expected), "offset {offset} limit {limit} asc {asc}");
    }
    let all = store.in_org(&org, &Page { offset: 4_321, limit: 20, asc: true }).await.unwrap();
    assert_eq!((all.total, all.ids), (6_000, ids[4_321..4_341].to_vec()));
}

#[tokio::test]
async fn waiting_users_written_before_the_split_are_counted_once_at_the_next_start() {
    use onboard_domain::ports::{InvitationIndex, WaitingSplit};
    let server = RedisServer::start();
    let store = open(&server).await.unwrap();
    let org = OrgId::generate();
    // One whose code expired by now (its write did not see it), one locked
    // by wrong attempts, one with a code for a day yet.
    let (expired, write) = new_user(&org, "expired");
    store.save(write).await.unwrap();
    let (mut locked, write) = new_user(&org, "locked");
    store.save(write).await.unwrap();
    let expected = locked.sequence;
    let events: Vec<_> = (0..onboard_domain::InitCodeConfig::default().max_attempts)
        .map(|_| locked.record(UserEvent::InitCheckFailed, locked.changed_at))
        .collect();
    store.save(UserWrite { expected_sequence: expected, user: locked.clone(), events, outbox: None }).await.unwrap();
    let (mut fresh, write) = new_user(&org, "fresh");
    store.save(write).await.unwrap();
    let expected = fresh.sequence;
    let code = UserEvent::InitCodeAdded {
        hash: onboard_domain::CodeHash([7; 32]),
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::days(1),
    };
    let events = vec![fresh.record(code, fresh.changed_at)];
    store.save(UserWrite { expected_sequence: expected, user: fresh.clone(), events, outbox: None }).await.unwrap();
    assert_eq!(store.waiting_split(&org).await.unwrap(), WaitingSplit { expired: 0, locked: 1 }, "locked when written");
    // As a version without the split left the store: no marks, no counts.
    let mut conn = raw(&server).await;
    let counts: Vec<String> = redis::cmd("KEYS").arg("onb:{p*}:xs:*").query_async(&mut conn).await.unwrap();
    for key in &counts {
        redis::cmd("HDEL").arg(key).arg("se").arg("sl").query_async::<()>(&mut conn).await.unwrap();
    }
    for id in [&expired.id, &locked.id, &fresh.id] {
        let hash = key_of(&mut conn, "u", id).await.unwrap();
        redis::cmd("HDEL").arg(&hash).arg("w").query_async::<()>(&mut conn).await.unwrap();
    }
    redis::cmd("DEL").arg("onb:{meta}:split-counted").query_async::<()>(&mut conn).await.unwrap();
    assert_eq!(store.waiting_split(&org).await.unwrap(), WaitingSplit::default());
    drop(store);
    let split = WaitingSplit { expired: 1, locked: 1 };
    let reopened = open(&server).await.unwrap();
    assert_eq!(reopened.waiting_split(&org).await.unwrap(), split, "judged at the start");
    let marked: String = redis::cmd("GET").arg("onb:{meta}:split-counted").query_async(&mut conn).await.unwrap();
    assert_eq!(marked, "1");
    // A start that counts again (two nodes at once) counts nobody twice.
    redis::cmd("DEL").arg("onb:{meta}:split-counted").query_async::<()>(&mut conn).await.unwrap();
    let again = open(&server).await.unwrap();
    assert_eq!(again.waiting_split(&org).await.unwrap(), split);
    assert_eq!(again.get(&locked.id).await.unwrap(), Some(locked), "the user itself is as it was");
}
