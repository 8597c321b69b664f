//! Behaviour every adapter of [`UserRepository`] and [`Outbox`] must show.
//! Each adapter crate runs [`check_store`] against a fresh store in its tests,
//! so adapters stay swappable.

use time::{Duration, OffsetDateTime};

use crate::email::EmailAddress;
use crate::events::UserEvent;
use crate::ids::{NotificationId, OrgId, UserId};
use crate::init_code::{CodeHash, PlainCode};
use crate::ports::{Outbox, OutboxEntry, SaveError, UserRepository, UserWrite};
use crate::user::{Email, Profile, User, UserName, UserState};

const T0: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

/// A new Initial user named `name` in `org` and the write that creates it,
/// with its email due.
pub fn new_user(org: &OrgId, name: &str) -> (User, UserWrite) {
    let (mut user, added) = User::create(
        UserId::generate(),
        org.clone(),
        UserEvent::Added {
            user_name: UserName::parse(name).unwrap(),
            profile: Profile { first_name: "F".into(), last_name: "L".into(), ..Profile::default() },
            email: Email { address: EmailAddress::parse("u@example.com").unwrap(), verified: false },
            phone: None,
            state: UserState::Initial,
            password_hash: None,
            password_change_required: false,
        },
        T0,
    );
    let code =
        user.record(UserEvent::InitCodeAdded { hash: CodeHash([1; 32]), expires_at: T0 + Duration::hours(72) }, T0);
    let entry = entry_for(&user, "n-first");
    let write = UserWrite { expected_sequence: 0, user: user.clone(), events: vec![added, code], outbox: Some(entry) };
    (user, write)
}

fn entry_for(user: &User, id: &str) -> OutboxEntry {
    OutboxEntry {
        id: NotificationId::parse(&format!("{id}-{}", user.id)).unwrap(),
        user_id: user.id.clone(),
        recipient: user.email.address.clone(),
        code: PlainCode::from_stored("ABC123".into()),
        code_generation: user.sequence,
        enqueued_at: T0,
        attempts: 0,
        not_before: T0,
    }
}

/// Runs every check against `store`, which must be empty.
pub async fn check_store<S: UserRepository + Outbox>(store: &S) {
    saves_and_reads_users_with_their_logs(store).await;
    rejects_stale_writes(store).await;
    keeps_user_names_unique_per_organization(store).await;
    outbox_keeps_only_the_newest_entry_per_user(store).await;
    outbox_leases_reschedules_and_completes(store).await;
}

async fn drain<S: Outbox>(store: &S) {
    for e in store.claim_due(T0 + Duration::days(3650), 10_000, Duration::seconds(1)).await.unwrap() {
        store.complete(&e.id).await.unwrap();
    }
}

async fn saves_and_reads_users_with_their_logs<S: UserRepository + Outbox>(store: &S) {
    let org = OrgId::generate();
    let (user, write) = new_user(&org, "reader");
    assert_eq!(store.get(&user.id).await.unwrap(), None);
    store.save(write).await.unwrap();
    assert_eq!(store.get(&user.id).await.unwrap(), Some(user.clone()));
    let log = store.events(&user.id).await.unwrap();
    let seqs: Vec<_> = log.iter().map(|e| (e.sequence, e.event.kind())).collect();
    assert_eq!(seqs, [(1, "user.added"), (2, "user.initialization.code.added")]);
    store.ping().await.unwrap();
    drain(store).await;
}

async fn rejects_stale_writes<S: UserRepository + Outbox>(store: &S) {
    let org = OrgId::generate();
    let (user, write) = new_user(&org, "stale");
    store.save(write.clone()).await.unwrap();
    // The same create again: the id exists.
    assert_eq!(store.save(write).await, Err(SaveError::Conflict));

    let mut changed = user.clone();
    let ev = changed.record(UserEvent::EmailVerified, T0);
    let update = UserWrite { expected_sequence: 2, user: changed.clone(), events: vec![ev], outbox: None };
    store.save(update.clone()).await.unwrap();
    // Written on the state before the update: rejected, nothing changes.
    assert_eq!(store.save(update).await, Err(SaveError::Conflict));
    assert_eq!(store.get(&user.id).await.unwrap(), Some(changed));
    assert_eq!(store.events(&user.id).await.unwrap().len(), 3);
    drain(store).await;
}

async fn keeps_user_names_unique_per_organization<S: UserRepository + Outbox>(store: &S) {
    let org = OrgId::generate();
    let (_, first) = new_user(&org, "Unique");
    store.save(first).await.unwrap();
    let (other, clash) = new_user(&org, "uNIQUE");
    assert_eq!(store.save(clash).await, Err(SaveError::UserNameTaken));
    assert_eq!(store.get(&other.id).await.unwrap(), None);
    let (_, elsewhere) = new_user(&OrgId::generate(), "unique");
    store.save(elsewhere).await.unwrap();
    drain(store).await;
}

async fn outbox_keeps_only_the_newest_entry_per_user<S: UserRepository + Outbox>(store: &S) {
    let (mut user, write) = new_user(&OrgId::generate(), "newest");
    store.save(write).await.unwrap();
    let expected = user.sequence;
    let ev =
        user.record(UserEvent::InitCodeAdded { hash: CodeHash([2; 32]), expires_at: T0 + Duration::hours(72) }, T0);
    let newer = entry_for(&user, "n-second");
    store
        .save(UserWrite {
            expected_sequence: expected,
            user: user.clone(),
            events: vec![ev],
            outbox: Some(newer.clone()),
        })
        .await
        .unwrap();
    let claimed = store.claim_due(T0, 100, Duration::seconds(30)).await.unwrap();
    assert_eq!(claimed, vec![newer.clone()]);
    store.complete(&newer.id).await.unwrap();
    assert!(store.claim_due(T0 + Duration::hours(1), 100, Duration::seconds(30)).await.unwrap().is_empty());
}

async fn outbox_leases_reschedules_and_completes<S: UserRepository + Outbox>(store: &S) {
    let (_, write) = new_user(&OrgId::generate(), "leased");
    let entry = write.outbox.clone().unwrap();
    store.save(write).await.unwrap();
    let claimed = store.claim_due(T0, 100, Duration::seconds(30)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // Leased: nobody else gets it until the lease runs out.
    assert!(store.claim_due(T0 + Duration::seconds(29), 100, Duration::seconds(30)).await.unwrap().is_empty());
    assert_eq!(store.claim_due(T0 + Duration::seconds(30), 100, Duration::seconds(30)).await.unwrap().len(), 1);
    // Rescheduled: due again only at the given time, with its attempts.
    store.reschedule(&entry.id, 3, T0 + Duration::minutes(5)).await.unwrap();
    assert!(store.claim_due(T0 + Duration::minutes(4), 100, Duration::seconds(30)).await.unwrap().is_empty());
    let again = store.claim_due(T0 + Duration::minutes(5), 100, Duration::seconds(30)).await.unwrap();
    assert_eq!(again[0].attempts, 3);
    store.complete(&entry.id).await.unwrap();
    store.complete(&entry.id).await.unwrap();
    store.reschedule(&entry.id, 4, T0).await.unwrap();
    assert!(store.claim_due(T0 + Duration::days(1), 100, Duration::seconds(30)).await.unwrap().is_empty());
    // Limits are honoured.
    for name in ["l1", "l2", "l3"] {
        store.save(new_user(&OrgId::generate(), name).1).await.unwrap();
    }
    assert_eq!(store.claim_due(T0, 2, Duration::seconds(30)).await.unwrap().len(), 2);
    drain(store).await;
}
