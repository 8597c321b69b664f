//! Behaviour every adapter of [`UserRepository`] and [`Outbox`] must show.
//! Each adapter crate runs [`check_store`] against a fresh store in its tests,
//! so adapters stay swappable.

use time::{Duration, OffsetDateTime};

use crate::email::EmailAddress;
use crate::events::UserEvent;
use crate::ids::{NotificationId, OrgId, UserId};
use crate::init_code::{CodeHash, PlainCode};
use crate::outbox::OutboxEntry;
use crate::ports::{Outbox, SaveError, UserIndex, UserRepository};
use crate::user::{Email, Profile, User, UserName, UserState, UserWrite};

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
        receipt: String::new(),
        kind: Default::default(),
    }
}

/// Runs every check against `store`, which must be empty. Leases are
/// measured in real time (adapters may use their server's clock for them),
/// so this takes about a second.
pub async fn check_store<S: UserRepository + Outbox + crate::ports::NotificationLog>(store: &S) {
    assert!(store.partitions() >= 1);
    saves_and_reads_users_with_their_logs(store).await;
    rejects_stale_writes(store).await;
    keeps_user_names_unique_per_organization(store).await;
    outbox_keeps_only_the_newest_entry_per_user(store).await;
    outbox_leases_reschedules_and_completes(store).await;
    outbox_wakes_a_waiting_dispatcher(store).await;
    notifications_are_recorded_and_listed(store).await;
    a_codes_delivery_survives_a_long_log(store).await;
}

/// A code's delivery (the v2 API's link template, say) is what the user reads
/// back, however long its log grew since: it is not in a snapshot's format.
async fn a_codes_delivery_survives_a_long_log<S: UserRepository>(store: &S) {
    use crate::invite::{CodeDelivery, UrlTemplate};
    let (mut user, write) = new_user(&OrgId::generate(), "templated");
    store.save(write).await.unwrap();
    let delivery = CodeDelivery::MailedWith {
        url_template: Some(UrlTemplate::parse("https://app.example.com/i?c={{.Code}}").unwrap()),
        application_name: Some("Shop".into()),
    };
    let expected = user.sequence;
    let added = UserEvent::InviteCodeAdded {
        hash: CodeHash([6; 32]),
        expires_at: T0 + Duration::hours(72),
        delivery: delivery.clone(),
    };
    let event = user.record(added, T0);
    store
        .save(UserWrite { expected_sequence: expected, user: user.clone(), events: vec![event], outbox: None })
        .await
        .unwrap();
    // Past two multiples of any snapshot interval up to 16, one write at a time.
    for _ in 0..40 {
        let expected = user.sequence;
        let event = user.record(UserEvent::InitCheckFailed, T0);
        let write = UserWrite { expected_sequence: expected, user: user.clone(), events: vec![event], outbox: None };
        store.save(write).await.unwrap();
    }
    let read = store.get(&user.id).await.unwrap().unwrap();
    assert_eq!(read.init_code.as_ref().map(|c| &c.delivery), Some(&delivery));
    assert_eq!(read, user);
}

async fn notifications_are_recorded_and_listed<S: UserRepository + Outbox + crate::ports::NotificationLog>(store: &S) {
    use crate::notifications::{DeliveryState, Notification};
    let (mut user, write) = new_user(&OrgId::generate(), "noted");
    let first = write.outbox.clone().unwrap();
    store.save(write).await.unwrap();
    // A due email is recorded as queued by the same write.
    assert_eq!(store.list(&user.id).await.unwrap(), vec![Notification::queued(&first)]);
    let expected = user.sequence;
    let ev =
        user.record(UserEvent::InitCodeAdded { hash: CodeHash([4; 32]), expires_at: T0 + Duration::hours(72) }, T0);
    let second = OutboxEntry { enqueued_at: T0 + Duration::minutes(1), ..entry_for(&user, "n-noted") };
    store
        .save(UserWrite {
            expected_sequence: expected,
            user: user.clone(),
            events: vec![ev],
            outbox: Some(second.clone()),
        })
        .await
        .unwrap();
    let mut sent = Notification::after_attempt(&first, DeliveryState::Superseded, T0 + Duration::minutes(2));
    sent.attempts = 0;
    store.put(&sent).await.unwrap();
    let listed = store.list(&user.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|n| (n.id.clone(), n.state)).collect::<Vec<_>>(),
        vec![(second.id.clone(), DeliveryState::Queued), (first.id.clone(), DeliveryState::Superseded)]
    );
    assert_eq!(store.find(&user.id, &first.id).await.unwrap(), Some(sent));
    assert_eq!(store.find(&user.id, &crate::ids::NotificationId::generate()).await.unwrap(), None);
    assert!(store.list(&UserId::generate()).await.unwrap().is_empty());
    drain(store).await;
}

const LEASE: Duration = Duration::milliseconds(300);

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Claims in every partition.
async fn claim_all<S: Outbox>(store: &S, at: OffsetDateTime, limit: usize, lease: Duration) -> Vec<OutboxEntry> {
    let mut all = Vec::new();
    for p in 0..store.partitions() {
        all.extend(store.claim_due(p, at, limit, lease).await.unwrap());
    }
    all
}

/// Claims and completes everything due now.
async fn drain<S: Outbox>(store: &S) {
    for e in claim_all(store, now(), 10_000, LEASE).await {
        store.complete(&e).await.unwrap();
    }
}

async fn saves_and_reads_users_with_their_logs<S: UserRepository + Outbox>(store: &S) {
    let org = OrgId::generate();
    let (user, write) = new_user(&org, "reader");
    assert_eq!(store.get(&user.id).await.unwrap(), None);
    assert!(store.events(&user.id).await.unwrap().is_empty());
    store.save(write).await.unwrap();
    assert_eq!(store.get(&user.id).await.unwrap(), Some(user.clone()));
    let log = store.events(&user.id).await.unwrap();
    let seqs: Vec<_> = log.iter().map(|e| (e.sequence, e.event.kind())).collect();
    assert_eq!(seqs, [(1, "user.added"), (2, "user.initialization.code.added")]);
    assert_eq!(log[0].at, T0);
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
    let claimed = claim_all(store, now(), 100, LEASE).await;
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(OutboxEntry { receipt: String::new(), ..claimed[0].clone() }, newer);
    store.complete(&claimed[0]).await.unwrap();
    assert!(claim_all(store, now() + Duration::hours(1), 100, LEASE).await.is_empty());
}

async fn outbox_leases_reschedules_and_completes<S: UserRepository + Outbox>(store: &S) {
    let (user, write) = new_user(&OrgId::generate(), "leased");
    store.save(write).await.unwrap();
    let claimed = claim_all(store, now(), 100, LEASE).await;
    assert_eq!(claimed.len(), 1);
    // Leased: nobody else gets it until the lease runs out.
    assert!(claim_all(store, now(), 100, LEASE).await.is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let reclaimed = claim_all(store, now(), 100, LEASE).await;
    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].user_id, user.id);
    // Rescheduled: due again only at the given time, with its attempts.
    let later = now() + Duration::minutes(5);
    store.reschedule(&reclaimed[0], 3, later).await.unwrap();
    assert!(claim_all(store, now(), 100, LEASE).await.is_empty());
    let again = claim_all(store, later, 100, LEASE).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 3);
    store.complete(&again[0]).await.unwrap();
    // Completing twice, or rescheduling what is gone, is harmless.
    store.complete(&again[0]).await.unwrap();
    store.reschedule(&again[0], 4, now()).await.unwrap();
    assert!(claim_all(store, now() + Duration::days(1), 100, LEASE).await.is_empty());
    // A newer entry survives completing the older one.
    let (mut user, write) = new_user(&OrgId::generate(), "replaced");
    store.save(write).await.unwrap();
    let old = claim_all(store, now(), 100, LEASE).await.remove(0);
    let expected = user.sequence;
    let ev =
        user.record(UserEvent::InitCodeAdded { hash: CodeHash([3; 32]), expires_at: T0 + Duration::hours(72) }, T0);
    let newer = entry_for(&user, "n-third");
    store
        .save(UserWrite { expected_sequence: expected, user, events: vec![ev], outbox: Some(newer.clone()) })
        .await
        .unwrap();
    store.complete(&old).await.unwrap();
    let left = claim_all(store, now(), 100, LEASE).await;
    assert_eq!(left.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), vec![newer.id]);
    store.complete(&left[0]).await.unwrap();
    // Limits are honoured in each partition.
    for name in ["l1", "l2", "l3"] {
        store.save(new_user(&OrgId::generate(), name).1).await.unwrap();
    }
    let mut got = 0;
    for p in 0..store.partitions() {
        let some = store.claim_due(p, now(), 1, LEASE).await.unwrap();
        assert!(some.len() <= 1);
        got += some.len();
        for e in some {
            store.complete(&e).await.unwrap();
        }
    }
    assert!(got >= 1);
    drain(store).await;
    assert!(claim_all(store, now(), 100, LEASE).await.is_empty());
}

async fn outbox_wakes_a_waiting_dispatcher<S: UserRepository + Outbox>(store: &S) {
    // With nothing due, waiting takes the whole (short) wait and returns.
    store.wait_for_work(0, std::time::Duration::from_millis(50)).await;
    let (_, write) = new_user(&OrgId::generate(), "woken");
    store.save(write).await.unwrap();
    // After a save, the waits of the entry's partition end at once; the
    // entry can then be claimed.
    let claimed = claim_all(store, now(), 100, LEASE).await;
    assert_eq!(claimed.len(), 1);
    store.complete(&claimed[0]).await.unwrap();
}

/// Runs every check of the [`Directory`](crate::ports::Directory) port
/// against `directory`, which must be new (never started).
pub async fn check_directory<D: crate::ports::Directory>(directory: &D) {
    use crate::accounts::{ServiceAccount, TokenRecord};
    use crate::authz::{Grant, GrantScope, Role};
    use crate::token::TokenDigest;

    let org = directory.create_organization("Acme").await.unwrap();
    let other = directory.create_organization("Other").await.unwrap();
    assert_ne!(org, other);
    assert_eq!(directory.organization_name(&org).await.unwrap().as_deref(), Some("Acme"));
    assert_eq!(directory.organization_name(&OrgId::generate()).await.unwrap(), None);
    let mut orgs: Vec<_> = directory.organizations().await.unwrap().into_iter().map(|o| (o.id, o.name)).collect();
    orgs.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(orgs, vec![(org.clone(), "Acme".to_owned()), (other.clone(), "Other".to_owned())]);

    assert_eq!(directory.account("kit-1").await.unwrap(), None);
    let account = ServiceAccount {
        id: "kit-1".into(),
        org: org.clone(),
        name: "Importer".into(),
        grants: vec![
            Grant { scope: GrantScope::Instance, role: Role::IamOwnerViewer },
            Grant { scope: GrantScope::Organization(other.clone()), role: Role::OrgUserManager },
        ],
        created_at: T0,
    };
    directory.put_account(&account).await.unwrap();
    assert_eq!(directory.account("kit-1").await.unwrap(), Some(account.clone()));
    let changed = ServiceAccount { grants: vec![], ..account.clone() };
    directory.put_account(&changed).await.unwrap();
    assert_eq!(directory.account("kit-1").await.unwrap(), Some(changed.clone()));
    let second = ServiceAccount { id: "kit-2".into(), org: other.clone(), ..account.clone() };
    directory.put_account(&second).await.unwrap();
    let mut ids: Vec<_> = directory.accounts().await.unwrap().into_iter().map(|a| a.id).collect();
    ids.sort();
    assert_eq!(ids, ["kit-1", "kit-2"]);

    let digest = TokenDigest::of("onb_kit_token");
    assert_eq!(directory.token(&digest).await.unwrap(), None);
    assert!(directory.tokens().await.unwrap().is_empty());
    let record = TokenRecord {
        id: "0123456789abcdef".into(),
        account: "kit-1".into(),
        created_at: T0,
        expires_at: Some(T0 + Duration::days(1)),
        revoked: false,
    };
    assert_eq!(directory.credentials(&digest).await.unwrap(), None);
    directory.put_token(&digest, &record).await.unwrap();
    assert_eq!(directory.token(&digest).await.unwrap(), Some(record.clone()));
    assert_eq!(directory.credentials(&digest).await.unwrap(), Some((record.clone(), Some(changed.clone()))));
    let orphan = TokenDigest::of("onb_kit_orphan");
    let orphan_record = TokenRecord { account: "kit-gone".into(), ..record.clone() };
    directory.put_token(&orphan, &orphan_record).await.unwrap();
    assert_eq!(directory.credentials(&orphan).await.unwrap(), Some((orphan_record.clone(), None)));
    let revoked = TokenRecord { revoked: true, ..record };
    directory.put_token(&digest, &revoked).await.unwrap();
    assert_eq!(directory.token(&digest).await.unwrap(), Some(revoked.clone()));
    assert_eq!(directory.credentials(&digest).await.unwrap(), Some((revoked.clone(), Some(changed))));
    let mut tokens = directory.tokens().await.unwrap();
    tokens.sort_by(|a, b| a.1.account.cmp(&b.1.account));
    assert_eq!(tokens, vec![(digest, revoked), (orphan, orphan_record)]);

    assert!(directory.claim_first_start().await.unwrap());
    assert!(!directory.claim_first_start().await.unwrap());

    let first = directory.shared_secret("kit", &[1; 32]).await.unwrap();
    assert_eq!(first, vec![1; 32]);
    assert_eq!(directory.shared_secret("kit", &[2; 32]).await.unwrap(), first, "the first one stays");
    assert_eq!(directory.shared_secret("other", &[3; 32]).await.unwrap(), vec![3; 32]);

    check_branding_storage(directory, &org, &other).await;
}

/// A branding with every field set, a logo and overrides in both languages.
pub fn full_branding() -> crate::branding::Branding {
    use crate::branding::{BrandingDraft, Logo, TemplatesDraft};
    let draft = BrandingDraft {
        display_name: Some("Acme Corporation".into()),
        primary_color: Some("#b3261e".into()),
        background_color: Some("#fffbfe".into()),
        sender_name: Some("Acme IT".into()),
        sender_address: Some("it@acme.example".into()),
        reply_to: Some("help@acme.example".into()),
        default_language: Some("de".into()),
        templates: vec![
            TemplatesDraft {
                language: "en".into(),
                subject: Some("Welcome to {{ org }}".into()),
                text: Some("Hi {{ name }}: {{ link }}\n".into()),
                html: Some("<p>Hi {{ name }}: <a href=\"{{ link }}\">start</a></p>\n".into()),
                page: crate::branding::PageText::ALL
                    .iter()
                    .map(|k| (k.as_str().to_owned(), format!("Acme's {}.", k.as_str())))
                    .collect(),
            },
            TemplatesDraft {
                language: "de".into(),
                page: vec![("setupTitle".into(), "Willkommen bei Acme".into())],
                ..TemplatesDraft::default()
            },
        ],
    };
    let logo = Logo::parse(crate::testkit::SVG_LOGO.as_bytes().to_vec()).expect("the sample logo is an SVG");
    draft.into_branding(Some(logo), T0, &|_, _, _| Ok(())).expect("the sample branding is valid")
}

/// A small SVG logo.
pub const SVG_LOGO: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 24 24\" width=\"48\" \
                            height=\"48\"><rect width=\"24\" height=\"24\" rx=\"5\" fill=\"#b3261e\"/>\
                            <path d=\"M6 18 12 5l6 13h-3l-3-7-3 7z\" fill=\"#fff\"/></svg>\n";

/// Branding is kept per organization, whole, and removed without trace.
async fn check_branding_storage<D: crate::ports::Directory>(directory: &D, org: &OrgId, other: &OrgId) {
    assert_eq!(directory.branding(org).await.unwrap(), None);
    let full = full_branding();
    directory.put_branding(org, &full).await.unwrap();
    assert_eq!(directory.branding(org).await.unwrap(), Some(full.clone()));
    assert_eq!(directory.branding(other).await.unwrap(), None, "per organization");
    let bare = crate::branding::Branding { logo: None, overrides: Default::default(), ..full.clone() };
    directory.put_branding(org, &bare).await.unwrap();
    assert_eq!(directory.branding(org).await.unwrap(), Some(bare), "replaced whole");
    directory.remove_branding(org).await.unwrap();
    assert_eq!(directory.branding(org).await.unwrap(), None);
    directory.remove_branding(org).await.unwrap();
    assert_eq!(
        directory.organization_name(org).await.unwrap().as_deref(),
        Some("Acme"),
        "the organization stays as it was"
    );
}

/// Branding administered over `directory` (which needs no other content):
/// set, read, logo set and removed, refused input changing nothing, and
/// the cache dropping what changed.
pub async fn check_branding_administration(directory: std::sync::Arc<dyn crate::ports::Directory>) {
    use crate::authz::Principal;
    use crate::branding::{BrandingDraft, LogoKind};
    use crate::usecases::{AdminError, Administration};

    struct AnyTemplate;
    impl crate::ports::TemplateCheck for AnyTemplate {
        fn check(&self, _: &str, _: crate::branding::EmailPart, source: &str) -> Result<(), String> {
            if source.contains("{% if %}") { Err("syntax error".into()) } else { Ok(()) }
        }
    }
    let admin = Administration::new(directory.clone(), std::sync::Arc::new(crate::SystemClock))
        .with_template_check(std::sync::Arc::new(AnyTemplate));
    let op = Principal::local_operator();
    let org = admin.create_organization(&op, "Acme").await.unwrap();
    let cache = admin.brandings();
    assert_eq!(cache.get(&org).await.unwrap(), None);
    assert_eq!(admin.branding(&op, &org).await.unwrap(), None);

    // The completion URL: set, read back (also through the cache), replaced, removed.
    assert_eq!(admin.completion_url(&op, &org).await.unwrap(), None);
    let url = admin.set_completion_url(&op, &org, Some("https://app.acme.example/welcome")).await.unwrap();
    assert_eq!(url.as_ref().map(|u| u.as_str()), Some("https://app.acme.example/welcome"));
    assert_eq!(admin.completion_url(&op, &org).await.unwrap(), url);
    assert_eq!(cache.completion_url(&org).await.unwrap(), url);
    assert!(matches!(
        admin.set_completion_url(&op, &org, Some("javascript:alert(1)")).await,
        Err(AdminError::Invalid(_))
    ));
    assert_eq!(admin.completion_url(&op, &org).await.unwrap(), url, "a refusal changes nothing");
    admin.set_completion_url(&op, &org, Some("http://localhost:3000/")).await.unwrap();
    assert_eq!(admin.completion_url(&op, &org).await.unwrap().unwrap().as_str(), "http://localhost:3000/");
    assert_eq!(admin.set_completion_url(&op, &org, None).await.unwrap(), None);
    assert_eq!(admin.completion_url(&op, &org).await.unwrap(), None);
    let nowhere = OrgId::parse("999999").unwrap();
    assert!(matches!(
        admin.set_completion_url(&op, &nowhere, Some("https://a.example")).await,
        Err(AdminError::UnknownOrganization(_))
    ));

    let draft = BrandingDraft {
        display_name: Some("Acme Corporation".into()),
        primary_color: Some("#1d4ed8".into()),
        background_color: Some("#ffffff".into()),
        sender_name: Some("Acme IT".into()),
        sender_address: Some("it@acme.example".into()),
        ..BrandingDraft::default()
    };
    let set = admin.set_branding(&op, &org, draft.clone()).await.unwrap();
    assert_eq!(admin.branding(&op, &org).await.unwrap(), Some(set.clone()));
    assert_eq!(cache.get(&org).await.unwrap().as_deref(), Some(&set), "the cache was dropped");

    let with_logo = admin.set_logo(&op, &org, SVG_LOGO.as_bytes().to_vec()).await.unwrap();
    assert_eq!(with_logo.logo.as_ref().map(|l| l.kind()), Some(LogoKind::Svg));
    assert_eq!(with_logo.display_name, set.display_name, "the rest stays");
    // Setting the rest again keeps the logo.
    let again = admin.set_branding(&op, &org, draft.clone()).await.unwrap();
    assert_eq!(again.logo, with_logo.logo);

    let low = BrandingDraft { primary_color: Some("#aaaaaa".into()), ..draft.clone() };
    let refused = admin.set_branding(&op, &org, low).await.unwrap_err();
    assert_eq!(
        refused,
        AdminError::Invalid(
            "primaryColor, backgroundColor: the contrast of primary colour #aaaaaa on background colour #ffffff is \
             2.32:1; WCAG AA needs at least 4.5:1"
                .into()
        )
    );
    assert!(matches!(admin.set_logo(&op, &org, b"GIF89a".to_vec()).await, Err(AdminError::Invalid(_))));
    let bad_template = BrandingDraft {
        templates: vec![crate::branding::TemplatesDraft {
            language: "en".into(),
            html: Some("{% if %}".into()),
            ..Default::default()
        }],
        ..draft.clone()
    };
    assert!(matches!(admin.set_branding(&op, &org, bad_template).await, Err(AdminError::Invalid(_))));
    assert_eq!(admin.branding(&op, &org).await.unwrap(), Some(again.clone()), "refusals change nothing");

    let unknown = OrgId::generate();
    assert!(matches!(admin.set_branding(&op, &unknown, draft).await, Err(AdminError::UnknownOrganization(_))));
    assert_eq!(directory.branding(&unknown).await.unwrap(), None);

    let without = admin.remove_logo(&op, &org).await.unwrap().unwrap();
    assert_eq!(without.logo, None);
    assert_eq!(without.display_name.as_deref(), Some("Acme Corporation"));
    admin.remove_branding(&op, &org).await.unwrap();
    assert_eq!(admin.branding(&op, &org).await.unwrap(), None);
    assert_eq!(cache.get(&org).await.unwrap(), None);
}

/// Runs every check of the [`RateLimiter`](crate::ports::RateLimiter) port
/// against `limiter`; keys are made unique per run, so a shared store works.
pub async fn check_rate_limiter<L: crate::ports::RateLimiter>(limiter: &L) {
    use std::time::Duration as Std;

    use crate::throttle::{Admission, Limit, Quota};

    let run = UserId::generate();
    let key = |name: &str| format!("kit:{run}:{name}");
    let limit = |name: &str, quota| Limit { key: key(name), quota };
    let t = |secs: i64| T0 + Duration::seconds(secs);
    let cooldown = Quota::Cooldown { period: Std::from_secs(60) };

    // Cooldown: once per period, counted from the last grant.
    let user = [limit("user", cooldown)];
    assert_eq!(limiter.acquire(&user, t(0)).await.unwrap(), Admission::Granted);
    assert_eq!(
        limiter.acquire(&user, t(20)).await.unwrap(),
        Admission::Denied { index: 0, retry_after: Std::from_secs(40) }
    );
    assert_eq!(limiter.acquire(&user, t(60)).await.unwrap(), Admission::Granted);
    assert!(matches!(limiter.acquire(&user, t(61)).await.unwrap(), Admission::Denied { index: 0, .. }));

    // Window: `limit` per aligned window; the answer says when it turns.
    let day = Quota::Window { limit: 2, period: Std::from_secs(86_400) };
    let rcpt = [limit("rcpt", day)];
    let morning = t(8 * 3600);
    assert_eq!(limiter.acquire(&rcpt, morning).await.unwrap(), Admission::Granted);
    assert_eq!(limiter.acquire(&rcpt, morning).await.unwrap(), Admission::Granted);
    assert_eq!(
        limiter.acquire(&rcpt, morning).await.unwrap(),
        Admission::Denied { index: 0, retry_after: Std::from_secs(16 * 3600) }
    );
    assert_eq!(limiter.acquire(&rcpt, t(86_400)).await.unwrap(), Admission::Granted, "a new UTC day");

    // Bucket: a burst, then the refill rate.
    let bucket = [limit("caller", Quota::Bucket { per_second: 2.0, burst: 3 })];
    for _ in 0..3 {
        assert_eq!(limiter.acquire(&bucket, t(0)).await.unwrap(), Admission::Granted);
    }
    match limiter.acquire(&bucket, t(0)).await.unwrap() {
        Admission::Denied { index: 0, retry_after } => {
            assert!(retry_after > Std::ZERO && retry_after <= Std::from_millis(500), "{retry_after:?}")
        }
        other => panic!("the empty bucket admitted: {other:?}"),
    }
    let half = t(0) + Duration::milliseconds(500);
    assert_eq!(limiter.acquire(&bucket, half).await.unwrap(), Admission::Granted, "refilled one");
    assert!(matches!(limiter.acquire(&bucket, half).await.unwrap(), Admission::Denied { .. }));

    // All or none: a denied limit charges none of the others.
    let pair = [limit("pair-free", Quota::Window { limit: 1, period: Std::from_secs(3600) }), user[0].clone()];
    assert_eq!(
        limiter.acquire(&pair, t(62)).await.unwrap(),
        Admission::Denied { index: 1, retry_after: Std::from_secs(58) }
    );
    let free_alone = [pair[0].clone()];
    assert_eq!(limiter.acquire(&free_alone, t(62)).await.unwrap(), Admission::Granted, "was not charged");
    assert!(matches!(limiter.acquire(&pair, t(200)).await.unwrap(), Admission::Denied { index: 0, .. }));
    assert_eq!(limiter.acquire(&user, t(200)).await.unwrap(), Admission::Granted, "was not charged either");

    // Keys are independent.
    let other_user = [limit("other-user", cooldown)];
    assert_eq!(limiter.acquire(&other_user, t(200)).await.unwrap(), Admission::Granted);
    assert_eq!(limiter.acquire(&[], t(0)).await.unwrap(), Admission::Granted);
}

/// Runs every check of the [`IdempotencyStore`](crate::ports::IdempotencyStore)
/// port against `store`; keys are made unique per run, so a shared store works.
pub async fn check_idempotency_store<S: crate::ports::IdempotencyStore>(store: &S) {
    use crate::idempotency::{IdempotencyClaim, StoredAnswer};

    let run = UserId::generate();
    let key = format!("kit:{run}:a");
    let (mine, theirs) = ([1u8; 32], [2u8; 32]);
    let hold = Duration::seconds(30);
    let keep = Duration::hours(24);
    let answer = StoredAnswer {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into()), ("x-n".into(), "1".into())],
        body: br#"{"ok":true}"#.to_vec(),
    };

    assert_eq!(store.claim(&key, &mine, T0, hold).await.unwrap(), IdempotencyClaim::Fresh);
    assert_eq!(store.claim(&key, &mine, T0, hold).await.unwrap(), IdempotencyClaim::InFlight);
    assert_eq!(store.claim(&key, &theirs, T0, hold).await.unwrap(), IdempotencyClaim::Mismatch);
    store.complete(&key, &mine, &answer, T0, keep).await.unwrap();
    let later = T0 + Duration::hours(23);
    assert_eq!(store.claim(&key, &mine, later, hold).await.unwrap(), IdempotencyClaim::Replay(answer.clone()));
    assert_eq!(store.claim(&key, &theirs, later, hold).await.unwrap(), IdempotencyClaim::Mismatch);
    store.release(&key, &mine).await.unwrap();
    assert_eq!(
        store.claim(&key, &mine, later, hold).await.unwrap(),
        IdempotencyClaim::Replay(answer.clone()),
        "release leaves answers alone"
    );

    // A released hold frees the key; a hold of another fingerprint is kept.
    let key_b = format!("kit:{run}:b");
    assert_eq!(store.claim(&key_b, &mine, T0, hold).await.unwrap(), IdempotencyClaim::Fresh);
    store.release(&key_b, &theirs).await.unwrap();
    assert_eq!(store.claim(&key_b, &mine, T0, hold).await.unwrap(), IdempotencyClaim::InFlight);
    store.release(&key_b, &mine).await.unwrap();
    assert_eq!(store.claim(&key_b, &theirs, T0, hold).await.unwrap(), IdempotencyClaim::Fresh);

    // A hold that ran out (its request died) frees the key.
    let key_c = format!("kit:{run}:c");
    assert_eq!(store.claim(&key_c, &mine, T0, hold).await.unwrap(), IdempotencyClaim::Fresh);
    let after_hold = T0 + Duration::seconds(31);
    assert_eq!(store.claim(&key_c, &theirs, after_hold, hold).await.unwrap(), IdempotencyClaim::Fresh);
}

/// Runs the webhook endpoint checks against `endpoints` (which must hold
/// none) and `directory`: the store directly, then administration over it
/// (create, list, disable and enable, rotate with overlap, delete).
pub async fn check_webhook_endpoints(
    endpoints: std::sync::Arc<dyn crate::ports::WebhookEndpoints>,
    directory: std::sync::Arc<dyn crate::ports::Directory>,
) {
    use crate::authz::Principal;
    use crate::usecases::{AdminError, Administration};
    use crate::webhooks::{EndpointUrl, EventType, WebhookEndpoint, WebhookSecret};

    // The store itself: put replaces, lists filter by organization, remove says whether.
    let (a, b) = (OrgId::generate(), OrgId::generate());
    let secret = WebhookSecret::generate();
    let stored = WebhookEndpoint {
        id: "kit-wh-1".into(),
        org: a.clone(),
        url: EndpointUrl::parse("https://hooks.example.com/a").unwrap(),
        event_types: vec![EventType::EmailBounced, EventType::InvitationExpired],
        enabled: true,
        secrets: vec![(secret.clone(), None), (WebhookSecret::generate(), Some(T0 + Duration::hours(1)))],
        created_at: T0,
    };
    assert_eq!(endpoints.endpoint("kit-wh-1").await.unwrap(), None);
    endpoints.put_endpoint(&stored).await.unwrap();
    let other = WebhookEndpoint { id: "kit-wh-2".into(), org: b.clone(), event_types: vec![], ..stored.clone() };
    endpoints.put_endpoint(&other).await.unwrap();
    assert_eq!(endpoints.endpoint("kit-wh-1").await.unwrap().as_ref(), Some(&stored));
    assert_eq!(endpoints.endpoints(Some(&a)).await.unwrap(), vec![stored.clone()]);
    assert_eq!(endpoints.endpoints(None).await.unwrap().len(), 2);
    let disabled = WebhookEndpoint { enabled: false, ..stored.clone() };
    endpoints.put_endpoint(&disabled).await.unwrap();
    assert_eq!(endpoints.endpoint("kit-wh-1").await.unwrap(), Some(disabled));
    assert!(endpoints.remove_endpoint("kit-wh-1").await.unwrap());
    assert!(!endpoints.remove_endpoint("kit-wh-1").await.unwrap());
    assert!(endpoints.remove_endpoint("kit-wh-2").await.unwrap());
    assert!(endpoints.endpoints(None).await.unwrap().is_empty());

    // Administration over it.
    let admin = Administration::new(directory.clone(), std::sync::Arc::new(crate::SystemClock))
        .with_webhooks(endpoints.clone());
    let op = Principal::local_operator();
    let org = directory.create_organization("Hooked").await.unwrap();
    let made = admin
        .create_webhook(&op, &org, " https://hooks.example.com/in ", &["email.bounced".into(), "email.bounced".into()])
        .await
        .unwrap();
    assert!(made.secret.starts_with("whsec_") && made.secret.len() > 40, "{}", made.secret);
    assert!(!format!("{made:?}").contains(&made.secret));
    let e = &made.endpoint;
    assert_eq!(
        (e.url.as_str(), e.event_types.as_slice(), e.enabled),
        ("https://hooks.example.com/in", &[EventType::EmailBounced][..], true)
    );
    assert_eq!(admin.webhook(&op, &e.id).await.unwrap(), made.endpoint);
    let every = admin.create_webhook(&op, &org, "http://10.0.0.1:8080/x", &[]).await.unwrap();
    assert!(every.endpoint.wants(EventType::InvitationCompleted));
    assert_eq!(admin.webhooks(&op, Some(&org)).await.unwrap().len(), 2);
    assert!(admin.webhooks(&op, Some(&OrgId::generate())).await.unwrap().is_empty());
    let unknown_org = admin.create_webhook(&op, &OrgId::generate(), "https://x.example.com", &[]).await;
    assert!(matches!(unknown_org, Err(AdminError::UnknownOrganization(_))), "{unknown_org:?}");

    let off = admin.set_webhook_enabled(&op, &e.id, false).await.unwrap();
    assert!(!off.enabled && !off.wants(EventType::EmailBounced));
    assert!(!admin.webhook(&op, &e.id).await.unwrap().enabled);
    assert!(admin.set_webhook_enabled(&op, &e.id, true).await.unwrap().enabled);

    // Rotation: the new secret signs at once, the old one until the overlap ends.
    let old = e.secrets[0].0.clone();
    let rotated = admin.rotate_webhook_secret(&op, &e.id, Duration::hours(2)).await.unwrap();
    assert_ne!(rotated.secret, made.secret);
    let now = OffsetDateTime::now_utc();
    let stored = admin.webhook(&op, &e.id).await.unwrap();
    let signing = stored.signing_secrets(now);
    assert_eq!(signing.len(), 2);
    assert_eq!(signing[0].shown(), rotated.secret);
    assert_eq!(signing[1], &old);
    assert_eq!(stored.signing_secrets(now + Duration::hours(3)).len(), 1);
    // Rotating without overlap drops every earlier secret.
    let again = admin.rotate_webhook_secret(&op, &e.id, Duration::ZERO).await.unwrap();
    let stored = admin.webhook(&op, &e.id).await.unwrap();
    assert_eq!(stored.secrets.len(), 1);
    assert_eq!(stored.signing_secrets(now)[0].shown(), again.secret);

    admin.delete_webhook(&op, &e.id).await.unwrap();
    assert!(matches!(admin.webhook(&op, &e.id).await, Err(AdminError::UnknownWebhook(_))));
    assert!(matches!(admin.delete_webhook(&op, &e.id).await, Err(AdminError::UnknownWebhook(_))));
    assert!(matches!(admin.set_webhook_enabled(&op, "nope", true).await, Err(AdminError::UnknownWebhook(_))));
    admin.delete_webhook(&op, &every.endpoint.id).await.unwrap();
}

/// The oldest webhook events of every partition of `queue`.
async fn claim_all_hooks<Q: crate::ports::HookQueue>(
    queue: &Q,
    lease: Duration,
) -> Vec<(usize, crate::webhook_events::HookEvent)> {
    let mut all = Vec::new();
    for p in 0..queue.hook_partitions() {
        all.extend(queue.claim_hook_events(p, 100, lease).await.unwrap().into_iter().map(|e| (p, e)));
    }
    all
}

/// Runs the webhook queue checks against `store`, which must hold no events:
/// saves and notification records record their events in the same write,
/// refused writes none; claims return the oldest until acknowledged.
pub async fn check_hook_queue<S: UserRepository + crate::ports::NotificationLog + crate::ports::HookQueue>(store: &S) {
    use crate::notifications::{DeliveryState, Notification};
    use crate::webhooks::EventType;
    assert!(store.hook_partitions() >= 1);
    let (mut user, write) = new_user(&OrgId::generate(), "hooked");
    let entry = write.outbox.clone().unwrap();
    store.save(write.clone()).await.unwrap();
    // A refused write records nothing.
    assert_eq!(store.save(write).await, Err(SaveError::Conflict));
    let mut sent = Notification::after_attempt(&entry, DeliveryState::Sent, T0 + Duration::seconds(1));
    store.put(&sent).await.unwrap();
    // States that tell nothing to webhooks record nothing.
    store.put(&Notification::after_attempt(&entry, DeliveryState::Deferred, T0)).await.unwrap();
    sent.advance(DeliveryState::Bounced, T0 + Duration::seconds(2), Some("550 no such user".into()));
    store.put(&sent).await.unwrap();
    let expected = user.sequence;
    let resend =
        user.record(UserEvent::InitCodeAdded { hash: CodeHash([5; 32]), expires_at: T0 + Duration::hours(72) }, T0);
    store
        .save(UserWrite { expected_sequence: expected, user: user.clone(), events: vec![resend], outbox: None })
        .await
        .unwrap();
    let waiting = user.clone();
    let expected = user.sequence;
    let done = user.record(UserEvent::InitCheckSucceeded, T0);
    store
        .save(UserWrite { expected_sequence: expected, user: user.clone(), events: vec![done], outbox: None })
        .await
        .unwrap();

    let lease = Duration::milliseconds(500);
    // Events of other checks' users may wait too: only this user's are looked at.
    let mine = |all: Vec<(usize, crate::webhook_events::HookEvent)>| -> Vec<(usize, crate::webhook_events::HookEvent)> {
        all.into_iter().filter(|(_, e)| e.user_id == user.id).collect()
    };
    let claimed = mine(claim_all_hooks(store, lease).await);
    let types: Vec<EventType> = claimed.iter().map(|(_, e)| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::InvitationCreated,
            EventType::EmailSent,
            EventType::EmailBounced,
            EventType::InvitationResent,
            EventType::InvitationCompleted
        ]
    );
    let (partition, created) = &claimed[0];
    assert!(claimed.iter().all(|(p, e)| p == partition && e.user_id == user.id));
    assert_eq!((created.sequence, created.notification_id.as_ref()), (2, Some(&entry.id)));
    assert_eq!(claimed[2].1.reason.as_deref(), Some("550 no such user"));
    assert_eq!(claimed[2].1.notification_id.as_ref(), Some(&entry.id));
    // A record's event carries the user's sequence when it was kept.
    assert_eq!((claimed[1].1.sequence, claimed[2].1.sequence), (2, 2));
    assert_eq!((claimed[3].1.sequence, claimed[4].1.sequence), (3, 4));
    let ids: std::collections::HashSet<&str> = claimed.iter().map(|(_, e)| e.id.as_str()).collect();
    assert_eq!(ids.len(), 5, "each event has an id of its own");

    // The same again until acknowledged; acknowledged: gone.
    assert_eq!(mine(claim_all_hooks(store, lease).await), claimed);
    let events: Vec<_> = claimed.iter().map(|(_, e)| e.clone()).collect();
    store.ack_hook_events(*partition, &events[..2]).await.unwrap();
    let again: Vec<EventType> =
        mine(claim_all_hooks(store, lease).await).into_iter().map(|(_, e)| e.event_type).collect();
    assert_eq!(again, [EventType::EmailBounced, EventType::InvitationResent, EventType::InvitationCompleted]);
    store.ack_hook_events(*partition, &events).await.unwrap();
    assert!(mine(claim_all_hooks(store, lease).await).is_empty());

    // The waiting user's newest code was scheduled at its expiry, in its
    // partition, and is not due before then.
    use crate::webhook_events::{HookExpiry, expired_event};
    let expiry = T0 + Duration::hours(72);
    let (uid, p) = (&user.id, *partition);
    // Every due one (settled as given) and this user's among them.
    let due_by = |at: OffsetDateTime| async move {
        let all = store.due_expiries(p, at, 100, Duration::seconds(30)).await.unwrap();
        let mine: Vec<HookExpiry> = all.iter().filter(|d| &d.user_id == uid).cloned().collect();
        (all, mine)
    };
    assert!(due_by(expiry - Duration::milliseconds(1)).await.1.is_empty());
    let (due, mine_due) = due_by(expiry).await;
    // Both codes expire then: a store may hold the older one's expiry too.
    assert!(!mine_due.is_empty() && mine_due.iter().all(|d| *d == HookExpiry { at: expiry, user_id: uid.clone() }));
    // Only a user still waiting with an expired code tells it.
    assert!(expired_event(Some(&user), expiry).is_none(), "completed in time");
    assert!(expired_event(Some(&waiting), expiry - Duration::milliseconds(1)).is_none());
    let expired = expired_event(Some(&waiting), expiry).unwrap();
    assert_eq!(expired.id, format!("{}.3.invitation.expired", user.id));
    // A newer code saved meanwhile has an expiry of its own: settling the old one leaves it.
    let mut again = waiting.clone();
    again.sequence = user.sequence;
    let later = T0 + Duration::hours(100);
    let newer = again.record(UserEvent::InitCodeAdded { hash: CodeHash([6; 32]), expires_at: later }, T0);
    store
        .save(UserWrite { expected_sequence: user.sequence, user: again.clone(), events: vec![newer], outbox: None })
        .await
        .unwrap();
    store.settle_expiries(p, &[], &due).await.unwrap();
    let (due, mine_due) = due_by(later).await;
    assert_eq!(mine_due, [HookExpiry { at: later, user_id: user.id.clone() }]);
    // Settled: the event joins the queue and the expiry is gone.
    store.settle_expiries(p, std::slice::from_ref(&expired), &due).await.unwrap();
    assert!(due_by(later + Duration::hours(1)).await.1.is_empty());
    let told = mine(claim_all_hooks(store, lease).await);
    let types: Vec<EventType> = told.iter().map(|(_, e)| e.event_type).collect();
    assert_eq!(types, [EventType::InvitationResent, EventType::InvitationExpired]);
    assert_eq!((told[1].1.id.as_str(), told[1].1.sequence), (expired.id.as_str(), waiting.sequence));
    let told: Vec<_> = told.into_iter().map(|(_, e)| e).collect();
    store.ack_hook_events(*partition, &told).await.unwrap();
}

async fn tokio_sleep(d: std::time::Duration) {
    tokio::time::sleep(d).await;
}

/// Runs the webhook delivery store checks against `deliveries`, which must be empty.
pub async fn check_hook_deliveries<D: crate::ports::HookDeliveries>(deliveries: &D) {
    use crate::webhook_events::{HookData, HookDeliveryState, WebhookDelivery};
    use crate::webhooks::EventType;
    let delivery = |n: u32, endpoint: &str| WebhookDelivery {
        id: format!("e{n}.{endpoint}"),
        endpoint_id: endpoint.into(),
        event_id: format!("e{n}"),
        event_type: EventType::InvitationCreated,
        at: T0,
        data: HookData {
            user_id: UserId::parse("1").unwrap(),
            org: OrgId::parse("2").unwrap(),
            login_name: "ada".into(),
            email: EmailAddress::parse("ada@example.com").unwrap(),
            notification_id: None,
            reason: None,
            sequence: u64::from(n),
        },
        state: HookDeliveryState::Pending,
        attempts: 0,
        next_attempt_at: T0,
        last_attempt_at: None,
        last_status: None,
        last_error: None,
        created_at: T0,
    };
    let ids = |ds: Vec<WebhookDelivery>| ds.into_iter().map(|d| d.id).collect::<Vec<_>>();
    for n in 1..=3 {
        assert!(deliveries.add_delivery(&delivery(n, "kit-a")).await.unwrap());
    }
    assert!(deliveries.add_delivery(&delivery(1, "kit-b")).await.unwrap());
    assert!(!deliveries.add_delivery(&delivery(1, "kit-a")).await.unwrap(), "added twice");
    assert_eq!(ids(deliveries.pending_deliveries("kit-a", 10).await.unwrap()), ["e1.kit-a", "e2.kit-a", "e3.kit-a"]);
    assert_eq!(ids(deliveries.pending_deliveries("kit-a", 2).await.unwrap()), ["e1.kit-a", "e2.kit-a"]);

    // A retry keeps its place; a delivered or dead one leaves the pending.
    let retried = WebhookDelivery {
        attempts: 1,
        last_status: Some(500),
        next_attempt_at: T0 + Duration::seconds(5),
        ..delivery(1, "kit-a")
    };
    deliveries.put_delivery(&retried).await.unwrap();
    let done = WebhookDelivery {
        state: HookDeliveryState::Delivered,
        attempts: 1,
        last_status: Some(204),
        ..delivery(2, "kit-a")
    };
    deliveries.put_delivery(&done).await.unwrap();
    let dead = WebhookDelivery { state: HookDeliveryState::DeadLetter, last_status: Some(400), ..delivery(3, "kit-a") };
    deliveries.put_delivery(&dead).await.unwrap();
    let pending = deliveries.pending_deliveries("kit-a", 10).await.unwrap();
    assert_eq!(pending, vec![retried.clone()]);
    assert_eq!(ids(deliveries.recent_deliveries("kit-a", 10).await.unwrap()), ["e3.kit-a", "e2.kit-a", "e1.kit-a"]);
    assert_eq!(deliveries.delivery("kit-a", "e2.kit-a").await.unwrap(), Some(done));
    assert_eq!(deliveries.delivery("kit-b", "e2.kit-a").await.unwrap(), None);
    // Made pending again by hand: after the pending ones.
    let again = WebhookDelivery { state: HookDeliveryState::Pending, ..dead };
    deliveries.put_delivery(&again).await.unwrap();
    assert_eq!(ids(deliveries.pending_deliveries("kit-a", 10).await.unwrap()), ["e1.kit-a", "e3.kit-a"]);
    assert_eq!(ids(deliveries.pending_deliveries("kit-b", 10).await.unwrap()), ["e1.kit-b"]);

    // One holder of an endpoint's lease at a time, until it runs out.
    let now = OffsetDateTime::now_utc();
    let ttl = Duration::milliseconds(500);
    assert!(deliveries.lease_endpoint("kit-a", "node-1", now, ttl).await.unwrap());
    assert!(deliveries.lease_endpoint("kit-a", "node-1", now, ttl).await.unwrap());
    assert!(!deliveries.lease_endpoint("kit-a", "node-2", now, ttl).await.unwrap());
    assert!(deliveries.lease_endpoint("kit-b", "node-2", now, ttl).await.unwrap());
    tokio_sleep(std::time::Duration::from_millis(700)).await;
    let later = OffsetDateTime::now_utc();
    assert!(deliveries.lease_endpoint("kit-a", "node-2", later, ttl).await.unwrap());
}

/// A user named `name` of `org` created `secs` after `T0`, with address
/// `email`, and the write that creates it (no email due).
fn user_at(org: &OrgId, name: &str, email: &str, secs: i64) -> (User, UserWrite) {
    let at = T0 + Duration::seconds(secs);
    let (user, added) = User::create(
        UserId::generate(),
        org.clone(),
        UserEvent::Added {
            user_name: UserName::parse(name).unwrap(),
            profile: Profile { first_name: "F".into(), last_name: "L".into(), ..Profile::default() },
            email: Email { address: EmailAddress::parse(email).unwrap(), verified: false },
            phone: None,
            state: UserState::Initial,
            password_hash: None,
            password_change_required: false,
        },
        at,
    );
    let editor = crate::events::Editor::new("kit-editor", "Kit Editor");
    let write = UserWrite { expected_sequence: 0, user: user.clone(), events: vec![added.by(&editor)], outbox: None };
    (user, write)
}

/// Records `event` on the stored user `id` and saves it, reading afresh
/// after a conflict; `false` when `keep` says the user is no longer one to change.
async fn change<S: UserRepository + ?Sized>(
    store: &S,
    id: &UserId,
    event: UserEvent,
    keep: impl Fn(&User) -> bool,
) -> bool {
    loop {
        let Some(mut user) = store.get(id).await.unwrap() else { return false };
        if !keep(&user) {
            return false;
        }
        let expected_sequence = user.sequence;
        let recorded = user.record(event.clone(), T0 + Duration::hours(1));
        let outbox = matches!(event, UserEvent::InitCodeAdded { .. }).then(|| entry_for(&user, "n-kit"));
        match store.save(UserWrite { expected_sequence, user, events: vec![recorded], outbox }).await {
            Ok(()) => return true,
            Err(SaveError::Conflict) => continue,
            Err(e) => panic!("saving {id}: {e}"),
        }
    }
}

fn page(offset: u64, limit: u32, asc: bool) -> crate::user_query::Page {
    crate::user_query::Page { offset, limit, asc }
}

/// Runs every check of the [`UserIndex`] port against `store`, with users in
/// `orgs`: two organizations without users that the store's directory
/// holds (a lookup in every organization looks in those).
pub async fn check_user_index<S: UserRepository + UserIndex>(store: &S, orgs: [OrgId; 2]) {
    use crate::ports::IdPage;
    let [org, other] = orgs;
    let (a, wa) = user_at(&org, "Ann", "ann@example.com", 1);
    let (b, wb) = user_at(&org, "bob", "Shared@example.com", 2);
    let (c, wc) = user_at(&org, "carl", "shared@example.com", 3);
    let (elsewhere, we) = user_at(&other, "ann", "ann@example.com", 0);
    for w in [wa, wb, wc, we] {
        store.save(w).await.unwrap();
    }
    let ids = |users: &[&User]| users.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    let org_ref = &org;
    let initial = |p| async move { store.by_state(org_ref, UserState::Initial, &p).await.unwrap() };

    // Creation order, both ways, paged, with the total.
    assert_eq!(initial(page(0, 2, true)).await, IdPage { total: 3, ids: ids(&[&a, &b]) });
    assert_eq!(initial(page(1, 5, false)).await, IdPage { total: 3, ids: ids(&[&b, &a]) });
    assert_eq!(initial(page(3, 5, true)).await, IdPage { total: 3, ids: vec![] });
    assert_eq!(store.in_org(&org, &page(0, 10, true)).await.unwrap(), IdPage { total: 3, ids: ids(&[&a, &b, &c]) });
    assert_eq!(store.by_state(&org, UserState::Active, &page(0, 10, true)).await.unwrap(), IdPage::default());
    assert_eq!(store.in_org(&OrgId::generate(), &page(0, 10, true)).await.unwrap(), IdPage::default());
    // A scan meets each user once, a chunk at a time.
    let mut scanned = Vec::new();
    let mut cursor = None;
    loop {
        let (chunk, next) = store.scan_org(&org, cursor, 2).await.unwrap();
        assert!(chunk.len() <= 2);
        scanned.extend(chunk);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    scanned.sort();
    let mut expected = ids(&[&a, &b, &c]);
    expected.sort();
    assert_eq!(scanned, expected);
    assert_eq!(store.scan_org(&OrgId::generate(), None, 10).await.unwrap(), (vec![], None));

    // Names in one organization or in all; addresses in lower case.
    assert_eq!(store.by_user_name(Some(org.clone()), "ann").await.unwrap(), ids(&[&a]));
    let mut everywhere = store.by_user_name(None, "ann").await.unwrap();
    everywhere.sort();
    let mut expected = ids(&[&a, &elsewhere]);
    expected.sort();
    assert_eq!(everywhere, expected);
    assert!(store.by_user_name(Some(org.clone()), "nobody").await.unwrap().is_empty());
    let mut shared = store.by_email(&org, "shared@example.com").await.unwrap();
    shared.sort();
    let mut expected = ids(&[&b, &c]);
    expected.sort();
    assert_eq!(shared, expected);
    assert_eq!(store.by_email(&other, "ann@example.com").await.unwrap(), ids(&[&elsewhere]));

    // A write moves its user in the indexes it changes.
    assert!(change(store, &b.id, UserEvent::InitCheckSucceeded, |_| true).await);
    assert_eq!(initial(page(0, 10, true)).await, IdPage { total: 2, ids: ids(&[&a, &c]) });
    let active = store.by_state(&org, UserState::Active, &page(0, 10, true)).await.unwrap();
    assert_eq!(active, IdPage { total: 1, ids: ids(&[&b]) });
    let moved = EmailAddress::parse("carl@example.org").unwrap();
    assert!(change(store, &c.id, UserEvent::EmailChanged { address: moved }, |_| true).await);
    assert_eq!(store.by_email(&org, "shared@example.com").await.unwrap(), ids(&[&b]));
    assert_eq!(store.by_email(&org, "carl@example.org").await.unwrap(), ids(&[&c]));

    // A removed user leaves every index and frees its name.
    assert!(change(store, &a.id, UserEvent::Removed, |_| true).await);
    assert_eq!(initial(page(0, 10, true)).await, IdPage { total: 1, ids: ids(&[&c]) });
    assert_eq!(store.in_org(&org, &page(0, 10, true)).await.unwrap().total, 2);
    assert!(store.by_user_name(Some(org.clone()), "ann").await.unwrap().is_empty());
    assert!(store.by_email(&org, "ann@example.com").await.unwrap().is_empty());
    assert_eq!(store.get(&a.id).await.unwrap().unwrap().state, UserState::Deleted);
    let (again, wa2) = user_at(&org, "ANN", "ann@example.com", 9);
    store.save(wa2).await.unwrap();
    assert_eq!(store.by_user_name(Some(org.clone()), "ann").await.unwrap(), ids(&[&again]));

    // The log keeps who made each event.
    let log = store.events(&a.id).await.unwrap();
    assert_eq!(log[0].editor, Some(crate::events::Editor::new("kit-editor", "Kit Editor")));
    assert_eq!(log.last().unwrap().event, UserEvent::Removed);
}

/// Index consistency under load: 100 users created at once, then for each
/// at once a resend racing a removal (or a completed initialization) and
/// another 100 creates. Afterwards every index holds exactly the users its
/// key describes. `store` must answer [`Outbox`] too (resends queue email).
pub async fn check_user_index_under_concurrency<S: UserRepository + UserIndex + Outbox + 'static>(
    store: std::sync::Arc<S>,
) {
    use std::collections::BTreeSet;
    let org = OrgId::generate();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let store = store.clone();
        let org = org.clone();
        tasks.spawn(async move {
            let (user, write) = user_at(&org, &format!("c{i}"), &format!("c{}@example.com", i % 7), i);
            store.save(write).await.unwrap();
            user.id
        });
    }
    let mut created = Vec::new();
    while let Some(id) = tasks.join_next().await {
        created.push(id.unwrap());
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, id) in created.iter().enumerate() {
        let resend = UserEvent::InitCodeAdded { hash: CodeHash([9; 32]), expires_at: T0 + Duration::hours(72) };
        let follow = if i % 2 == 0 { UserEvent::Removed } else { UserEvent::InitCheckSucceeded };
        for event in [resend, follow] {
            let (store, id) = (store.clone(), id.clone());
            tasks.spawn(async move {
                change(&*store, &id, event, |u| u.state == UserState::Initial).await;
            });
        }
        let (store, org) = (store.clone(), org.clone());
        tasks.spawn(async move {
            let (_, write) = user_at(&org, &format!("n{i}"), "new@example.com", 200 + i as i64);
            store.save(write).await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    let all = store.in_org(&org, &page(0, 1000, true)).await.unwrap();
    let mut live = Vec::new();
    for id in &all.ids {
        let user = store.get(id).await.unwrap().unwrap();
        assert_ne!(user.state, UserState::Deleted, "a removed user is still indexed");
        live.push(user);
    }
    assert_eq!(all.total, live.len() as u64);
    assert_eq!(live.len(), 150, "50 removed of 200");
    let mut by_creation = live.clone();
    by_creation.sort_by(crate::user_query::creation_order);
    assert_eq!(by_creation.iter().map(|u| &u.id).collect::<Vec<_>>(), all.ids.iter().collect::<Vec<_>>());
    for state in [UserState::Initial, UserState::Active, UserState::Deleted] {
        let indexed = store.by_state(&org, state, &page(0, 1000, true)).await.unwrap();
        let expected: Vec<UserId> = by_creation.iter().filter(|u| u.state == state).map(|u| u.id.clone()).collect();
        assert_eq!(indexed.ids, expected, "{state:?}");
        assert_eq!(indexed.total, expected.len() as u64);
    }
    for user in &live {
        let named = store.by_user_name(Some(org.clone()), &user.user_name.unique_key()).await.unwrap();
        assert_eq!(named, vec![user.id.clone()]);
    }
    for i in 0..100 {
        let gone = !live.iter().any(|u| u.user_name.as_str() == format!("c{i}"));
        let named = store.by_user_name(Some(org.clone()), &format!("c{i}")).await.unwrap();
        assert_eq!(named.is_empty(), gone);
    }
    for n in 0..7 {
        let address = format!("c{n}@example.com");
        let indexed: BTreeSet<UserId> = store.by_email(&org, &address).await.unwrap().into_iter().collect();
        let expected: BTreeSet<UserId> =
            live.iter().filter(|u| u.email.address.as_str() == address).map(|u| u.id.clone()).collect();
        assert_eq!(indexed, expected, "{address}");
    }
    drain(&*store).await;
}

/// The reminder offsets the stores given to [`check_reminder_schedule`]
/// are made with: 48 h and 24 h before a code's expiry.
pub fn reminder_offsets() -> crate::reminders::ReminderOffsets {
    crate::reminders::ReminderOffsets::new(vec![Duration::hours(48), Duration::hours(24)]).unwrap()
}

/// Runs the reminder schedule checks against `store`, made with
/// [`reminder_offsets`] and holding no reminders; `other`, when given, is a
/// second node on the same data (also with the offsets): while `store`
/// holds a partition's lease, `other` is given none of its reminders. Each
/// new mailed code schedules its reminders with its write (a refused write
/// and a reminder's own code none), due at their time and not before, until
/// settled.
pub async fn check_reminder_schedule<S: UserRepository + crate::ports::ReminderQueue>(store: &S, other: Option<&S>) {
    use crate::notifications::NotificationKind;
    use crate::reminders::DueReminder;
    let lease = Duration::seconds(30);
    let (mut user, write) = new_user(&OrgId::generate(), "reminded");
    store.save(write.clone()).await.unwrap();
    assert_eq!(store.save(write).await, Err(SaveError::Conflict), "a refused write schedules nothing");
    let uid = user.id.clone();
    // This user's due reminders in every partition, and all those given (to settle).
    let due_by = |at: OffsetDateTime| {
        let uid = uid.clone();
        async move {
            let mut all = Vec::new();
            for p in 0..store.reminder_partitions() {
                let due = store.due_reminders(p, at, 100, lease).await.unwrap();
                assert!(due.iter().all(|d| d.at <= at), "none early");
                all.push((p, due));
            }
            let mine: Vec<DueReminder> =
                all.iter().flat_map(|(_, d)| d.iter()).filter(|d| d.user_id == uid).cloned().collect();
            (all, mine)
        }
    };
    let settle = |all: Vec<(usize, Vec<DueReminder>)>| async move {
        for (p, due) in all {
            store.settle_reminders(p, &due).await.unwrap();
            // Settled ones gone are no error.
            store.settle_reminders(p, &due).await.unwrap();
        }
    };
    let deadline = T0 + Duration::hours(72);
    let reminder = |hours: i64, deadline: OffsetDateTime| DueReminder {
        at: deadline - Duration::hours(hours),
        user_id: uid.clone(),
        deadline,
    };
    assert!(due_by(T0 + Duration::hours(24) - Duration::milliseconds(1)).await.1.is_empty());
    let (all, mine) = due_by(T0 + Duration::hours(24)).await;
    assert_eq!(mine, [reminder(48, deadline)]);
    if let Some(other) = other {
        for p in 0..other.reminder_partitions() {
            let theirs = other.due_reminders(p, T0 + Duration::hours(24), 100, lease).await.unwrap();
            assert!(theirs.is_empty(), "another node holds partition {p}'s lease");
        }
    }
    // Not settled: given again.
    assert_eq!(due_by(T0 + Duration::hours(24)).await.1, mine);
    settle(all).await;
    assert!(due_by(T0 + Duration::hours(24)).await.1.is_empty());

    // A reminder's code keeps the deadline and schedules nothing more.
    let expected = user.sequence;
    let sent_at = T0 + Duration::hours(24);
    let mut events = vec![user.record(UserEvent::ReminderIssued, sent_at)];
    events.push(user.record(UserEvent::InitCodeAdded { hash: CodeHash([7; 32]), expires_at: deadline }, sent_at));
    let entry = OutboxEntry { kind: NotificationKind::Reminder, ..entry_for(&user, "n-reminder") };
    store
        .save(UserWrite { expected_sequence: expected, user: user.clone(), events, outbox: Some(entry) })
        .await
        .unwrap();
    let (all, mine) = due_by(T0 + Duration::hours(48)).await;
    assert_eq!(mine, [reminder(24, deadline)]);
    settle(all).await;

    // A resend's code has a new deadline and reminders of its own.
    let expected = user.sequence;
    let resent_at = T0 + Duration::hours(49);
    let later = resent_at + Duration::hours(72);
    let events = vec![user.record(UserEvent::InitCodeAdded { hash: CodeHash([8; 32]), expires_at: later }, resent_at)];
    let entry = entry_for(&user, "n-resent");
    store
        .save(UserWrite { expected_sequence: expected, user: user.clone(), events, outbox: Some(entry) })
        .await
        .unwrap();
    assert!(due_by(later - Duration::hours(48) - Duration::seconds(1)).await.1.is_empty());
    let (all, mine) = due_by(later - Duration::hours(48)).await;
    assert_eq!(mine, [reminder(48, later)]);
    settle(all).await;
    let (all, mine) = due_by(later - Duration::hours(24)).await;
    assert_eq!(mine, [reminder(24, later)]);
    settle(all).await;
    assert!(due_by(later + Duration::hours(100)).await.1.is_empty());

    // A code not mailed (returned to the integrator) schedules none.
    let expected = user.sequence;
    let returned = UserEvent::InviteCodeAdded {
        hash: CodeHash([9; 32]),
        expires_at: later + Duration::hours(72),
        delivery: crate::invite::CodeDelivery::Returned,
    };
    let events = vec![user.record(returned, later)];
    store.save(UserWrite { expected_sequence: expected, user: user.clone(), events, outbox: None }).await.unwrap();
    assert!(due_by(later + Duration::hours(200)).await.1.is_empty());
}

/// A clock that always answers `at`.
struct FixedClock(OffsetDateTime);

impl crate::ports::Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// An authorizer for use cases called with an [`Acting`](crate::Acting) made
/// by hand: it knows no token and no organization.
struct NoAuthorizer;

#[async_trait::async_trait]
impl crate::ports::Authorizer for NoAuthorizer {
    async fn authenticate(&self, _token: &str) -> Result<crate::Principal, crate::ports::AuthenticateError> {
        Err(crate::ports::AuthenticateError::InvalidToken)
    }

    async fn organization_exists(&self, _org: &OrgId) -> Result<bool, crate::ports::Unavailable> {
        Ok(false)
    }

    async fn organization_name(&self, _org: &OrgId) -> Result<Option<String>, crate::ports::Unavailable> {
        Ok(None)
    }
}

/// A service over `store` listing invitations as of `now`, and an acting
/// administrator of `org`.
fn invitation_service<S>(
    store: std::sync::Arc<S>,
    now: OffsetDateTime,
    org: &OrgId,
) -> (crate::usecases::UserService, crate::Acting)
where
    S: UserRepository + crate::ports::NotificationLog + crate::ports::InvitationIndex + 'static,
{
    let codes = crate::CodeIssuer::new(crate::CodeSecret::new(vec![3; 32]).unwrap(), crate::InitCodeConfig::default());
    let svc = crate::usecases::UserService::new(
        store.clone(),
        store.clone(),
        std::sync::Arc::new(NoAuthorizer),
        std::sync::Arc::new(FixedClock(now)),
        codes,
        crate::PasswordPolicy::default(),
    )
    .with_invitations(store, crate::invitation::DEFAULT_RETENTION);
    let principal = crate::Principal {
        subject: "kit".into(),
        name: "Kit".into(),
        home_org: org.clone(),
        grants: vec![crate::Grant { scope: crate::GrantScope::Instance, role: crate::Role::IamOwner }],
    };
    (svc, crate::Acting { principal, org: org.clone() })
}

/// An Initial user of `org` created `secs` after `T0` with a code from then,
/// and the write that creates it (no email due).
fn invitee(org: &OrgId, name: &str, secs: i64) -> (User, UserWrite) {
    let (mut user, mut write) = user_at(org, name, &format!("{name}@example.com"), secs);
    let at = user.created_at;
    let code =
        user.record(UserEvent::InitCodeAdded { hash: CodeHash([1; 32]), expires_at: at + Duration::hours(72) }, at);
    write.user = user.clone();
    write.events.push(code);
    (user, write)
}

/// Every invitation of the filter, page by page of `size`, as ids.
async fn all_invitations(
    svc: &crate::usecases::UserService,
    acting: &crate::Acting,
    filter: &crate::InvitationFilter,
    size: u32,
) -> Vec<UserId> {
    let (mut ids, mut token) = (Vec::new(), None::<String>);
    loop {
        let page = svc.list_invitations(acting, filter, size, token.as_deref()).await.unwrap();
        ids.extend(page.invitations.into_iter().map(|i| i.user_id));
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => return ids,
        }
    }
}

/// The delivery counts of `ids` recounted from the users themselves: each
/// Initial one with an email under its latest email's state (newest first
/// as [`InvitationIndex::facts`](crate::ports::InvitationIndex::facts) reads
/// them), sorted as the store answers them.
async fn recount_deliveries<S>(store: &S, ids: &[UserId]) -> Vec<(crate::DeliveryState, u64)>
where
    S: UserRepository + crate::ports::InvitationIndex,
{
    let mut counts: std::collections::BTreeMap<&'static str, (crate::DeliveryState, u64)> = Default::default();
    for (id, (_, notifications)) in ids.iter().zip(store.facts(ids).await.unwrap()) {
        let user = store.get(id).await.unwrap();
        if let (Some(latest), Some(UserState::Initial)) = (notifications.first(), user.map(|u| u.state)) {
            counts.entry(latest.state.as_str()).or_insert((latest.state, 0)).1 += 1;
        }
    }
    counts.into_values().collect()
}

/// The funnel of `ids` recounted from their logs and records: each user
/// once per milestone an event of its log or one of its records reached.
async fn recount_funnel<S>(store: &S, ids: &[UserId]) -> crate::ports::FunnelCounts
where
    S: crate::ports::InvitationIndex + ?Sized,
{
    use crate::ports::Milestone;
    let mut counts = crate::ports::FunnelCounts::default();
    for (events, notifications) in store.facts(ids).await.unwrap() {
        let reached: std::collections::BTreeSet<Milestone> = events
            .iter()
            .filter_map(|e| Milestone::of_event(&e.event))
            .chain(notifications.iter().filter_map(|n| Milestone::of_delivery(n.state)))
            .collect();
        for m in reached {
            counts.add(m, 1);
        }
    }
    counts
}

/// Runs every check of the [`InvitationIndex`](crate::ports::InvitationIndex)
/// port, and of the listing over it, against `store`.
pub async fn check_invitation_index<S>(store: std::sync::Arc<S>)
where
    S: UserRepository + crate::ports::NotificationLog + crate::ports::InvitationIndex + Outbox + 'static,
{
    use crate::{DeliveryState, InvitationFilter, InvitationSource, InvitationState};
    let (org, other) = (OrgId::generate(), OrgId::generate());
    let mut users = Vec::new();
    for i in 0..6 {
        let (user, write) = invitee(&org, &format!("inv{i}"), i);
        store.save(write).await.unwrap();
        users.push(user.id);
    }
    let (_, elsewhere) = invitee(&other, "inv-other", 3);
    store.save(elsewhere).await.unwrap();
    let window = (T0, T0 + Duration::hours(2));
    let source = |s, after: Option<crate::Position>, n| {
        let (store, org) = (store.clone(), org.clone());
        async move { store.invitations(&org, s, window, after, n).await.unwrap() }
    };
    let newest_first: Vec<UserId> = users.iter().rev().cloned().collect();
    let waiting = source(InvitationSource::Waiting, None, 10).await;
    assert_eq!(waiting.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(), newest_first);
    assert!(waiting.windows(2).all(|w| w[0].0 > w[1].0), "positions descend: {waiting:?}");
    let after = source(InvitationSource::Waiting, Some(waiting[1].0.clone()), 3).await;
    assert_eq!(after.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(), newest_first[2..5]);
    assert!(source(InvitationSource::Completed, None, 10).await.is_empty());

    // One completes, one is withdrawn, one completes and is removed after.
    assert!(change(&*store, &users[1], UserEvent::InitCheckSucceeded, |_| true).await);
    assert!(change(&*store, &users[2], UserEvent::Removed, |_| true).await);
    assert!(change(&*store, &users[3], UserEvent::InitCheckSucceeded, |_| true).await);
    assert!(change(&*store, &users[3], UserEvent::Removed, |_| true).await);
    let ids = |entries: Vec<(crate::Position, UserId)>| entries.into_iter().map(|(_, id)| id).collect::<Vec<_>>();
    let waiting = ids(source(InvitationSource::Waiting, None, 10).await);
    assert_eq!(waiting, [users[5].clone(), users[4].clone(), users[0].clone()]);
    let completed = ids(source(InvitationSource::Completed, None, 10).await);
    assert!(
        completed.starts_with(&[users[3].clone(), users[1].clone()]) || completed == vec![users[1].clone()],
        "{completed:?}"
    );
    assert_eq!(ids(source(InvitationSource::Withdrawn, None, 10).await), vec![users[2].clone()]);
    let count = |s| {
        let (store, org) = (store.clone(), org.clone());
        async move { store.count(&org, s, window).await.unwrap() }
    };
    assert_eq!(count(InvitationSource::Waiting).await, 3);
    assert!((1..=2).contains(&count(InvitationSource::Completed).await));
    assert_eq!(count(InvitationSource::Withdrawn).await, 1);

    // What a view is made of, in one read.
    let bounced = crate::Notification {
        id: NotificationId::parse("n-bounce").unwrap(),
        user_id: users[4].clone(),
        recipient: EmailAddress::parse("inv4@example.com").unwrap(),
        state: DeliveryState::Bounced,
        created_at: T0,
        updated_at: T0 + Duration::minutes(1),
        attempts: 1,
        last_error: Some("550 unknown".into()),
        provider_message_id: None,
        kind: Default::default(),
    };
    crate::ports::NotificationLog::put(&*store, &bounced).await.unwrap();
    assert_eq!(ids(source(InvitationSource::DeliveryException, None, 10).await), vec![users[4].clone()]);
    // A late bounce of an older email leaves a user whose latest one arrived out.
    let email = |id: &str, state, minutes| crate::Notification {
        id: NotificationId::parse(id).unwrap(),
        user_id: users[5].clone(),
        state,
        created_at: T0 + Duration::minutes(minutes),
        ..bounced.clone()
    };
    crate::ports::NotificationLog::put(&*store, &email("1001", DeliveryState::Sent, 1)).await.unwrap();
    crate::ports::NotificationLog::put(&*store, &email("1002", DeliveryState::Delivered, 2)).await.unwrap();
    crate::ports::NotificationLog::put(&*store, &email("1001", DeliveryState::Bounced, 1)).await.unwrap();
    assert_eq!(ids(source(InvitationSource::DeliveryException, None, 10).await), vec![users[4].clone()]);
    // A completed user's bounce is not a waiting one's.
    let done_bounce = crate::Notification { user_id: users[1].clone(), ..bounced.clone() };
    crate::ports::NotificationLog::put(&*store, &done_bounce).await.unwrap();
    assert_eq!(ids(source(InvitationSource::DeliveryException, None, 10).await), vec![users[4].clone()]);
    let facts = store.facts(&[users[4].clone(), users[0].clone(), UserId::generate()]).await.unwrap();
    assert_eq!(facts.len(), 3);
    assert_eq!((facts[0].0.len(), facts[0].1.clone()), (2, vec![bounced.clone()]));
    assert_eq!((facts[1].0.len(), facts[1].1.len(), facts[2].0.len()), (2, 0, 0));

    // An opened link counts once, however often it is recorded.
    for _ in 0..2 {
        assert!(change(&*store, &users[0], UserEvent::LinkOpened { generation: 1 }, |_| true).await);
    }
    crate::ports::NotificationLog::put(&*store, &email("1002", DeliveryState::Delivered, 2)).await.unwrap();

    // The listing over it.
    let (svc, acting) = invitation_service(store.clone(), T0 + Duration::hours(2), &org);
    let f = |s: Option<InvitationState>, d| InvitationFilter::new(s, d, None, None, None).unwrap();
    let all = all_invitations(&svc, &acting, &f(None, None), 1).await;
    assert_eq!(all, [users[5].clone(), users[4].clone(), users[2].clone(), users[1].clone(), users[0].clone()]);
    assert_eq!(all_invitations(&svc, &acting, &f(None, None), 1000).await, all);
    let pending = all_invitations(&svc, &acting, &f(Some(InvitationState::Pending), None), 2).await;
    assert_eq!(pending, [users[5].clone(), users[4].clone(), users[0].clone()]);
    let done = all_invitations(&svc, &acting, &f(Some(InvitationState::Completed), None), 10).await;
    assert_eq!(done, vec![users[1].clone()]);
    let gone = all_invitations(&svc, &acting, &f(Some(InvitationState::Withdrawn), None), 10).await;
    assert_eq!(gone, vec![users[2].clone()]);
    // The waiting one from the exceptional deliveries, the completed one from its own index.
    let bounced = all_invitations(&svc, &acting, &f(None, Some(DeliveryState::Bounced)), 10).await;
    assert_eq!(bounced, vec![users[4].clone(), users[1].clone()]);
    let delivered = all_invitations(&svc, &acting, &f(None, Some(DeliveryState::Delivered)), 10).await;
    assert_eq!(delivered, vec![users[5].clone()], "its latest email, not the late bounce of an older one");
    let page = svc.list_invitations(&acting, &f(None, None), 10, None).await.unwrap();
    let v = page.invitations.iter().find(|i| i.user_id == users[4]).unwrap();
    assert_eq!(
        v.delivery.as_ref().map(|d| (d.state, d.reason.clone())),
        Some((DeliveryState::Bounced, Some("550 unknown".into())))
    );
    assert_eq!(
        (v.org_id.clone(), v.login_name.as_str(), v.created_at),
        (org.clone(), "inv4", T0 + Duration::seconds(4))
    );
    let stats = svc.invitation_stats(&acting).await.unwrap();
    assert_eq!((stats.waiting, stats.withdrawn), (3, 1));
    // The ended ones are the totals (users[3], completed then removed, as
    // the index holds it: see the count above).
    assert_eq!(
        stats.by_state,
        vec![
            (InvitationState::Pending, 3),
            (InvitationState::Expired, 0),
            (InvitationState::Locked, 0),
            (InvitationState::Completed, stats.completed),
            (InvitationState::Withdrawn, 1),
        ]
    );
    // The waiting ones by their latest email, exact: the completed user's
    // bounce and the late bounce of an older email count for nothing.
    assert_eq!(stats.by_delivery, vec![(DeliveryState::Bounced, 1), (DeliveryState::Delivered, 1)]);
    assert_eq!(stats.by_delivery, recount_deliveries(&*store, &users).await);
    assert!(store.delivery_counts(&other).await.unwrap().is_empty(), "another organization's are its own");
    // The funnel's counts are exact, not the sample's: the completed and
    // removed user is in them; each user once per milestone (users[5]'s two
    // emails, one delivered; users[0]'s link opened twice).
    assert_eq!([&stats.created, &stats.delivered, &stats.opened, &stats.finished].map(|s| s.count), [6, 1, 1, 2]);
    let funnel = store.funnel_counts(&org).await.unwrap();
    assert_eq!(funnel, recount_funnel(&*store, &users).await, "the counters are a recount");
    assert_eq!(store.funnel_counts(&other).await.unwrap().created, 1, "another organization's are its own");
    // Past the retention, completed and withdrawn ones are gone.
    let (later, _) = invitation_service(store.clone(), T0 + Duration::days(31), &org);
    let left = all_invitations(&later, &acting, &f(None, None), 10).await;
    assert_eq!(left, [users[5].clone(), users[4].clone(), users[0].clone()]);
    let (_, outsider) = invitation_service(store.clone(), T0, &OrgId::generate());
    assert!(all_invitations(&svc, &outsider, &f(None, None), 10).await.is_empty());
    // A resend (a new email) takes the user out of the exceptional deliveries.
    let resend = UserEvent::InitCodeAdded { hash: CodeHash([2; 32]), expires_at: T0 + Duration::hours(80) };
    assert!(change(&*store, &users[4], resend, |_| true).await);
    assert!(source(InvitationSource::DeliveryException, None, 10).await.is_empty());
    let bounced = all_invitations(&svc, &acting, &f(None, Some(DeliveryState::Bounced)), 10).await;
    assert_eq!(bounced, vec![users[1].clone()]);
    // The resend's email counts as queued, then as sent once mailed (by the
    // store's own settling where it has one, as the dispatcher does).
    let counts = store.delivery_counts(&org).await.unwrap();
    assert_eq!(counts, vec![(DeliveryState::Delivered, 1), (DeliveryState::Queued, 1)]);
    let entry = claim_all(&*store, now(), 10_000, LEASE).await.into_iter().find(|e| e.user_id == users[4]).unwrap();
    let mut user = store.get(&users[4]).await.unwrap().unwrap();
    let expected_sequence = user.sequence;
    let sent = user.record(
        UserEvent::InitCodeSent { notification: entry.id.clone(), generation: entry.code_generation },
        T0 + Duration::hours(1),
    );
    let record = crate::Notification::after_attempt(&entry, DeliveryState::Sent, T0 + Duration::hours(1));
    let write = UserWrite { expected_sequence, user, events: vec![sent], outbox: None };
    let mailed = crate::ports::Mailed { entry, write, record: record.clone() };
    match store.complete_mailed(std::slice::from_ref(&mailed)).await {
        Some(results) => assert!(results.unwrap().iter().all(Result::is_ok)),
        None => crate::ports::NotificationLog::put(&*store, &record).await.unwrap(),
    }
    let counts = store.delivery_counts(&org).await.unwrap();
    assert_eq!(counts, vec![(DeliveryState::Delivered, 1), (DeliveryState::Sent, 1)]);
    assert_eq!(counts, recount_deliveries(&*store, &users).await);
    // The provider's word moves it on from what the settling counted.
    let delivered = crate::Notification { state: DeliveryState::Delivered, ..record };
    crate::ports::NotificationLog::put(&*store, &delivered).await.unwrap();
    assert_eq!(store.delivery_counts(&org).await.unwrap(), vec![(DeliveryState::Delivered, 2)]);
    assert_eq!(store.funnel_counts(&org).await.unwrap().delivered, 2, "users[4]'s first delivered email");
    assert_eq!(store.funnel_counts(&org).await.unwrap(), recount_funnel(&*store, &users).await);
    // Leaving Initial takes the user out.
    assert!(change(&*store, &users[5], UserEvent::Removed, |_| true).await);
    assert_eq!(store.delivery_counts(&org).await.unwrap(), vec![(DeliveryState::Delivered, 1)]);
    assert_eq!(recount_deliveries(&*store, &users).await, vec![(DeliveryState::Delivered, 1)]);
    check_funnel_durations(store.clone()).await;
    drain(&*store).await;
}

/// Records `event` for user `id` at `secs` after `T0` (retried on conflicts).
async fn change_at<S: UserRepository + ?Sized>(store: &S, id: &UserId, event: UserEvent, secs: i64) {
    loop {
        let mut user = store.get(id).await.unwrap().unwrap();
        let expected_sequence = user.sequence;
        let recorded = user.record(event.clone(), T0 + Duration::seconds(secs));
        match store.save(UserWrite { expected_sequence, user, events: vec![recorded], outbox: None }).await {
            Ok(()) => return,
            Err(SaveError::Conflict) => continue,
            Err(e) => panic!("saving {id}: {e}"),
        }
    }
}

/// A scripted set of step durations lands in exactly the histogram
/// buckets of [`duration_bucket`](crate::ports::duration_bucket), each
/// user's step once, each from the step before as
/// [`InvitationIndex::funnel_durations`](crate::ports::InvitationIndex::funnel_durations)
/// says; the statistics' medians are the middle observations' buckets.
async fn check_funnel_durations<S>(store: std::sync::Arc<S>)
where
    S: UserRepository + crate::ports::NotificationLog + crate::ports::InvitationIndex + Outbox + 'static,
{
    use crate::DeliveryState::Delivered;
    use crate::ports::{DurationHistogram, Milestone, bucket_middle, duration_bucket};
    let org = OrgId::generate();
    let mut ids = Vec::new();
    for i in 0..6 {
        let (user, write) = invitee(&org, &format!("timed{i}"), 10 * i);
        store.save(write).await.unwrap();
        ids.push(user.id);
    }
    let delivered = |i: usize, secs: i64| crate::Notification {
        id: NotificationId::parse(&format!("n-timed-{i}")).unwrap(),
        user_id: ids[i].clone(),
        recipient: EmailAddress::parse(&format!("timed{i}@example.com")).unwrap(),
        state: Delivered,
        created_at: T0,
        updated_at: T0 + Duration::seconds(secs),
        attempts: 1,
        last_error: None,
        provider_message_id: None,
        kind: Default::default(),
    };
    let put = |n: crate::Notification| {
        let store = store.clone();
        async move { crate::ports::NotificationLog::put(&*store, &n).await.unwrap() }
    };
    let opened = UserEvent::LinkOpened { generation: 1 };
    // 0: delivered after 30 s, opened 600 s later, completed 3,600 s later.
    put(delivered(0, 30)).await;
    change_at(&*store, &ids[0], opened.clone(), 630).await;
    change_at(&*store, &ids[0], UserEvent::InitCheckSucceeded, 4_230).await;
    // 1 (created at 10 s): opened before any delivery was known (timed from
    // its creation), delivered after (timed, kept for nothing), completed
    // 900 s after the opening.
    change_at(&*store, &ids[1], opened.clone(), 110).await;
    put(delivered(1, 209)).await;
    change_at(&*store, &ids[1], UserEvent::InitCheckSucceeded, 1_010).await;
    // 2 (20 s): delivered after 50 s, completed 4,950 s after the delivery, never opened.
    put(delivered(2, 70)).await;
    change_at(&*store, &ids[2], UserEvent::InitCheckSucceeded, 5_020).await;
    // 3 (30 s): completed after 70 s; a delivery reported after that is
    // counted, not timed.
    change_at(&*store, &ids[3], UserEvent::InitCheckSucceeded, 100).await;
    put(delivered(3, 110)).await;
    // 4 (40 s): delivered after 5 s, opened 5 s after that, and again
    // (later, and twice delivered): each step once.
    put(delivered(4, 45)).await;
    put(delivered(4, 45)).await;
    change_at(&*store, &ids[4], opened.clone(), 50).await;
    change_at(&*store, &ids[4], opened.clone(), 5_000).await;
    put(delivered(4, 6_000)).await;
    // 5 (50 s): delivered after 40 s, then withdrawn.
    put(delivered(5, 90)).await;
    change_at(&*store, &ids[5], UserEvent::Removed, 95).await;
    let of = |seconds: &[u64]| {
        let mut h = DurationHistogram::default();
        for s in seconds {
            h.add(duration_bucket(*s), 1);
        }
        h
    };
    let durations = store.funnel_durations(&org).await.unwrap();
    assert_eq!(durations.of(Milestone::Delivered), Some(&of(&[30, 199, 50, 5, 40])), "created → delivered");
    assert_eq!(durations.of(Milestone::Opened), Some(&of(&[600, 100, 5])), "delivered → opened");
    assert_eq!(durations.of(Milestone::Completed), Some(&of(&[3_600, 900, 4_950, 70])), "opened → completed");
    assert_eq!(durations.of(Milestone::Created), None);
    let funnel = store.funnel_counts(&org).await.unwrap();
    assert_eq!((funnel.created, funnel.delivered, funnel.opened, funnel.completed), (6, 6, 3, 4));
    assert_eq!(store.funnel_durations(&OrgId::generate()).await.unwrap(), Default::default(), "per organization");
    // The statistics' medians: the middle observation's bucket (the lower
    // middle of an even count).
    let (svc, acting) = invitation_service(store.clone(), T0 + Duration::hours(2), &org);
    let stats = svc.invitation_stats(&acting).await.unwrap();
    let medians = [&stats.created, &stats.delivered, &stats.opened, &stats.finished].map(|s| s.median_from_previous);
    let middle = |s: u64| Some(bucket_middle(duration_bucket(s)));
    assert_eq!(medians, [None, middle(40), middle(100), middle(900)]);
    drain(&*store).await;
}

/// 100 invitations resent, completed and withdrawn concurrently: each
/// index then holds exactly the users of its state, and a walk of the
/// listing shows each invitation once.
pub async fn check_invitation_index_under_concurrency<S>(store: std::sync::Arc<S>)
where
    S: UserRepository + crate::ports::NotificationLog + crate::ports::InvitationIndex + Outbox + 'static,
{
    use crate::{InvitationFilter, InvitationSource, InvitationState};
    let org = OrgId::generate();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let (store, org) = (store.clone(), org.clone());
        tasks.spawn(async move {
            // Ten per second: some share a millisecond's neighbourhood.
            let (user, write) = invitee(&org, &format!("ci{i}"), i / 10);
            store.save(write).await.unwrap();
            user.id
        });
    }
    let mut created = Vec::new();
    while let Some(id) = tasks.join_next().await {
        created.push(id.unwrap());
    }
    let mut tasks = tokio::task::JoinSet::new();
    // With the changes, records of the resend's email (its id: entry_for's)
    // and of an older one arrive in any order.
    let record = |id: &UserId, name: &str, state, minutes| crate::Notification {
        id: NotificationId::parse(&format!("{name}-{id}")).unwrap(),
        user_id: id.clone(),
        recipient: EmailAddress::parse("ci@example.com").unwrap(),
        state,
        created_at: T0 + Duration::minutes(minutes),
        updated_at: T0 + Duration::hours(1),
        attempts: 1,
        last_error: None,
        provider_message_id: None,
        kind: Default::default(),
    };
    for (i, id) in created.iter().enumerate() {
        use crate::DeliveryState::{Bounced, Delivered, Sent};
        let records = match i % 4 {
            0 => vec![record(id, "n-kit", Delivered, 0)],
            1 => vec![record(id, "n-jit", Bounced, -1), record(id, "n-kit", Sent, 0)],
            2 => vec![record(id, "n-jit", Delivered, -1)],
            _ => Vec::new(),
        };
        for r in records {
            let store = store.clone();
            tasks.spawn(async move { crate::ports::NotificationLog::put(&*store, &r).await.unwrap() });
        }
    }
    for (i, id) in created.iter().enumerate() {
        let resend = UserEvent::InitCodeAdded { hash: CodeHash([9; 32]), expires_at: T0 + Duration::hours(72) };
        let follow = match i % 3 {
            0 => Some(UserEvent::Removed),
            1 => Some(UserEvent::InitCheckSucceeded),
            _ => None,
        };
        for event in std::iter::once(resend).chain(follow) {
            let (store, id) = (store.clone(), id.clone());
            tasks.spawn(async move {
                change(&*store, &id, event, |u| u.state == UserState::Initial).await;
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let mut expected = std::collections::HashMap::new();
    for id in &created {
        let user = store.get(id).await.unwrap().unwrap();
        let source = match user.state {
            UserState::Initial => InvitationSource::Waiting,
            UserState::Active => InvitationSource::Completed,
            _ => InvitationSource::Withdrawn,
        };
        expected.entry(source).or_insert_with(std::collections::BTreeSet::new).insert(id.clone());
    }
    let window = (T0, T0 + Duration::hours(2));
    for source in InvitationSource::ALL {
        let entries = store.invitations(&org, source, window, None, 1000).await.unwrap();
        assert!(entries.windows(2).all(|w| w[0].0 > w[1].0), "{source:?} descends");
        let indexed: std::collections::BTreeSet<UserId> = entries.into_iter().map(|(_, id)| id).collect();
        assert_eq!(Some(&indexed), expected.get(&source), "{source:?}");
    }
    let counts = store.delivery_counts(&org).await.unwrap();
    assert_eq!(counts, recount_deliveries(&*store, &created).await, "the counters are a recount");
    assert!(counts.iter().map(|(_, n)| n).sum::<u64>() > 0, "{counts:?}");
    // Every user's milestones once, however its writes and records raced
    // (each record arrives twice). Delivered counts what happened: a
    // resend's queued record may since have replaced a delivered one of
    // the same id, so only the events' milestones are recounted.
    let funnel = store.funnel_counts(&org).await.unwrap();
    let recount = recount_funnel(&*store, &created).await;
    assert_eq!((funnel.created, funnel.opened, funnel.completed), (recount.created, 0, recount.completed));
    assert_eq!((funnel.created, funnel.delivered, funnel.completed), (100, 50, 33));
    // Each user's step timed once, whatever raced: every completion (from
    // its delivery when that came first, else its creation, all at
    // T0 + 1 h), no opening; a delivery only while still waiting.
    let durations = store.funnel_durations(&org).await.unwrap();
    let timed = |m| durations.of(m).unwrap().clone();
    assert_eq!(timed(crate::ports::Milestone::Completed).total(), 33);
    assert_eq!(timed(crate::ports::Milestone::Opened).total(), 0);
    let delivered = timed(crate::ports::Milestone::Delivered);
    assert!((1..=50).contains(&delivered.total()), "{delivered:?}");
    let possible: std::collections::BTreeSet<u16> = (0..10).map(|s| crate::ports::duration_bucket(3_600 - s)).collect();
    assert!(delivered.0.keys().all(|b| possible.contains(b)), "{delivered:?}");
    let possible: std::collections::BTreeSet<u16> = possible.into_iter().chain([0]).collect();
    assert!(timed(crate::ports::Milestone::Completed).0.keys().all(|b| possible.contains(b)), "{durations:?}");
    let (svc, acting) = invitation_service(store.clone(), T0 + Duration::hours(2), &org);
    let walked = all_invitations(&svc, &acting, &InvitationFilter::default(), 7).await;
    let unique: std::collections::BTreeSet<UserId> = walked.iter().cloned().collect();
    assert_eq!((walked.len(), unique.len()), (100, 100), "each invitation once");
    let pending = InvitationFilter::new(Some(InvitationState::Pending), None, None, None, None).unwrap();
    let listed: std::collections::BTreeSet<UserId> =
        all_invitations(&svc, &acting, &pending, 9).await.into_iter().collect();
    assert_eq!(Some(&listed), expected.get(&InvitationSource::Waiting));
    drain(&*store).await;
}

/// Tells the store's due expiries by `now` as the webhook fan-out does
/// (`WebhookDispatcher::record_expired`): each user still waiting with an
/// expired code gets its `invitation.expired` event, and the expiries are
/// settled; every partition until none is due.
async fn tell_expiries<S>(store: &S, now: OffsetDateTime)
where
    S: UserRepository + crate::ports::HookQueue + ?Sized,
{
    for p in 0..store.hook_partitions() {
        loop {
            let due = store.due_expiries(p, now, 50, Duration::seconds(30)).await.unwrap();
            if due.is_empty() {
                break;
            }
            let ids: Vec<UserId> = due.iter().map(|d| d.user_id.clone()).collect();
            let users = store.get_many(&ids).await.unwrap();
            let expired: Vec<_> =
                users.iter().filter_map(|u| crate::webhook_events::expired_event(u.as_ref(), now)).collect();
            store.settle_expiries(p, &expired, &due).await.unwrap();
        }
    }
}

/// The split of `ids`' waiting ones recounted from the users as the
/// invitation's view judges them at `now` (locked before expired).
async fn recount_split<S>(store: &S, ids: &[UserId], now: OffsetDateTime) -> crate::ports::WaitingSplit
where
    S: UserRepository + ?Sized,
{
    let max = crate::InitCodeConfig::default().max_attempts;
    let mut split = crate::ports::WaitingSplit::default();
    for user in store.get_many(ids).await.unwrap().into_iter().flatten() {
        let Some(code) = user.init_code.as_ref().filter(|_| user.state == UserState::Initial) else { continue };
        if code.failed_attempts >= max {
            split.locked += 1;
        } else if code.is_expired(now) {
            split.expired += 1;
        }
    }
    split
}

/// The split of the waiting invitations into pending, expired and locked
/// (see [`InvitationIndex::waiting_split`](crate::ports::InvitationIndex::waiting_split)):
/// after a scripted mix and under concurrent writes and tellings, the
/// counts are a recount of the users' views, and the stats say the same.
/// Tells every due expiry of the store: run it after the checks that
/// schedule expiries of their own.
pub async fn check_waiting_split<S>(store: std::sync::Arc<S>)
where
    S: UserRepository
        + crate::ports::NotificationLog
        + crate::ports::InvitationIndex
        + crate::ports::HookQueue
        + Outbox
        + 'static,
{
    use crate::InvitationState::{Completed, Expired, Locked, Pending, Withdrawn};
    use crate::ports::WaitingSplit;
    let hours = |h: i64| h * 3_600;
    let org = OrgId::generate();
    let mut ids = Vec::new();
    for i in 0..9 {
        let (user, write) = invitee(&org, &format!("split{i}"), i);
        store.save(write).await.unwrap();
        ids.push(user.id);
    }
    let u = |i: usize| ids[i].clone();
    let wrong = |i: usize, secs: i64| {
        let (store, id) = (store.clone(), u(i));
        async move {
            for _ in 0..crate::InitCodeConfig::default().max_attempts {
                change_at(&*store, &id, UserEvent::InitCheckFailed, secs).await;
            }
        }
    };
    let resend = |h: i64| UserEvent::InitCodeAdded { hash: CodeHash([9; 32]), expires_at: T0 + Duration::hours(h) };
    let split = |expired, locked| WaitingSplit { expired, locked };
    let stats = |h: i64| {
        let store = store.clone();
        let org = org.clone();
        async move {
            let (svc, acting) = invitation_service(store, T0 + Duration::hours(h), &org);
            svc.invitation_stats(&acting).await.unwrap().by_state
        }
    };
    // Every code expires 72 h after its user's creation. Locked by wrong
    // attempts: 0, 3 and 4; 7 renewed in time.
    for i in [0, 3, 4] {
        wrong(i, 100).await;
    }
    assert_eq!(store.waiting_split(&org).await.unwrap(), split(0, 3));
    change_at(&*store, &u(7), resend(200), 50).await;
    // A write seeing the code expired counts it at once: 8, opened late.
    change_at(&*store, &u(8), UserEvent::LinkOpened { generation: 1 }, hours(80)).await;
    assert_eq!(store.waiting_split(&org).await.unwrap(), split(1, 3), "8 expired when written");
    // The expiries told (twice: a node dying before it settled tells again):
    // 1, 2, 5, 6 expired; 4 stays locked; 7's older code tells nothing.
    for _ in 0..2 {
        tell_expiries(&*store, T0 + Duration::hours(81)).await;
    }
    assert_eq!(store.waiting_split(&org).await.unwrap(), split(5, 3));
    assert_eq!(store.waiting_split(&org).await.unwrap(), recount_split(&*store, &ids, T0 + Duration::hours(81)).await);
    assert_eq!(
        stats(81).await,
        vec![(Pending, 1), (Expired, 5), (Locked, 3), (Completed, 0), (Withdrawn, 0)],
        "the view's split"
    );
    // A resend after expiry (2) and after lock (3) makes them pending; a
    // completion (6) and a removal (5) take them out; then 2 locked anew.
    change_at(&*store, &u(2), resend(300), hours(82)).await;
    change_at(&*store, &u(3), resend(300), hours(82)).await;
    change_at(&*store, &u(6), UserEvent::InitCheckSucceeded, hours(82)).await;
    change_at(&*store, &u(5), UserEvent::Removed, hours(82)).await;
    assert_eq!(store.waiting_split(&org).await.unwrap(), split(2, 2));
    wrong(2, hours(83)).await;
    let now = T0 + Duration::hours(83);
    assert_eq!(store.waiting_split(&org).await.unwrap(), split(2, 3));
    assert_eq!(store.waiting_split(&org).await.unwrap(), recount_split(&*store, &ids, now).await);
    assert_eq!(stats(83).await, vec![(Pending, 2), (Expired, 2), (Locked, 3), (Completed, 1), (Withdrawn, 1)]);
    assert_eq!(store.waiting_split(&OrgId::generate()).await.unwrap(), WaitingSplit::default());

    // An email settled after its code expired moves the sequence the
    // expiry's telling checks: the settling's own write counts it.
    let mailed_org = OrgId::generate();
    let (mut user, write) = invitee(&mailed_org, "split-mailed", 0);
    store.save(write).await.unwrap();
    let expected_sequence = user.sequence;
    let code = user.record(resend(90), T0 + Duration::hours(1));
    let outbox = Some(entry_for(&user, "n-split"));
    store.save(UserWrite { expected_sequence, user: user.clone(), events: vec![code], outbox }).await.unwrap();
    let entry = claim_all(&*store, OffsetDateTime::now_utc(), 10_000, LEASE)
        .await
        .into_iter()
        .find(|e| e.user_id == user.id)
        .unwrap();
    let expected_sequence = user.sequence;
    let sent = user.record(
        UserEvent::InitCodeSent { notification: entry.id.clone(), generation: entry.code_generation },
        T0 + Duration::hours(91),
    );
    let record = crate::Notification::after_attempt(&entry, crate::DeliveryState::Sent, T0 + Duration::hours(91));
    let write = UserWrite { expected_sequence, user: user.clone(), events: vec![sent], outbox: None };
    let mailed = crate::ports::Mailed { entry, write: write.clone(), record: record.clone() };
    match store.complete_mailed(std::slice::from_ref(&mailed)).await {
        Some(results) => assert!(results.unwrap().iter().all(Result::is_ok)),
        None => {
            store.save(write).await.unwrap();
            crate::ports::NotificationLog::put(&*store, &record).await.unwrap();
        }
    }
    assert_eq!(store.waiting_split(&mailed_org).await.unwrap(), split(1, 0), "counted by the settling");
    tell_expiries(&*store, T0 + Duration::hours(92)).await;
    assert_eq!(store.waiting_split(&mailed_org).await.unwrap(), split(1, 0), "once");
    assert_eq!(
        store.waiting_split(&mailed_org).await.unwrap(),
        recount_split(&*store, std::slice::from_ref(&user.id), T0 + Duration::hours(92)).await
    );

    // Under concurrency: 24 users whose codes expire while wrong attempts,
    // resends and removals race the telling of their expiries; every
    // write after the expiry, so each user is judged by a write or a tell.
    let org = OrgId::generate();
    let mut ids = Vec::new();
    for i in 0..24 {
        let (user, write) = invitee(&org, &format!("race{i}"), i);
        store.save(write).await.unwrap();
        ids.push(user.id);
    }
    let at = hours(75);
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (store, id) = (store.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            match i % 4 {
                0 => {
                    for _ in 0..crate::InitCodeConfig::default().max_attempts {
                        change_at(&*store, &id, UserEvent::InitCheckFailed, at).await;
                    }
                }
                1 => change_at(&*store, &id, resend(300), at).await,
                2 => change_at(&*store, &id, UserEvent::Removed, at).await,
                _ => change_at(&*store, &id, UserEvent::LinkOpened { generation: 1 }, at).await,
            }
        }));
    }
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { tell_expiries(&*store, T0 + Duration::hours(75)).await }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    tell_expiries(&*store, T0 + Duration::hours(75)).await;
    let counted = store.waiting_split(&org).await.unwrap();
    assert_eq!(counted, recount_split(&*store, &ids, T0 + Duration::hours(75)).await);
    assert_eq!(counted, split(6, 6), "the opened ones expired, the attempted ones locked");
}
