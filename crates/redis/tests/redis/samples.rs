//! One value of each kind the store keeps, fixed to the byte: ids, times,
//! hashes and texts are constants, so encoding them gives the same bytes on
//! every machine and run. Every variant of an enum inside a stored value
//! appears in at least one sample, and every optional field both set and
//! unset (`format` checks the variants).

use onboard_domain::ports::{OutboxEntry, StoredAnswer};
use onboard_domain::{
    CodeDelivery, CodeHash, DeliveryState, Editor, Email, EmailAddress, Gender, Grant, GrantScope, InitCode, Language,
    Notification, NotificationId, OrgId, PasswordHash, Phone, PlainCode, Profile, RecordedEvent, Role, ServiceAccount,
    TokenRecord, UrlTemplate, User, UserEvent, UserId, UserName, UserState,
};
use time::OffsetDateTime;
use time::macros::datetime;

/// When the sample user was added; later times are after it.
const ADDED: OffsetDateTime = datetime!(2026-01-01 09:30:00 UTC);
/// A time with a fraction of a second, which the encoding keeps to the nanosecond.
const LATER: OffsetDateTime = datetime!(2026-01-02 17:45:12.345678901 UTC);
const EXPIRES: OffsetDateTime = datetime!(2026-01-04 09:30:00 UTC);

pub fn org() -> OrgId {
    OrgId::parse("384598082123866112").unwrap()
}

pub fn user_id() -> UserId {
    UserId::parse("384598082123868958").unwrap()
}

pub fn notification_id() -> NotificationId {
    NotificationId::parse("384598082123868959").unwrap()
}

fn address(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

fn password() -> PasswordHash {
    PasswordHash::from_stored(
        "$argon2id$v=19$m=19456,t=2,p=1$b25ib2FyZC1zYW1wbGU$9gJbDCwGOb7eyXcN0ff9bEYn6pKqpC0dhnxeMn2VEWQ".into(),
    )
}

/// A profile with every optional field unset.
fn bare_profile(gender: Gender) -> Profile {
    Profile { first_name: "Jane".into(), last_name: "Doe".into(), gender, ..Profile::default() }
}

/// A profile with every field set.
fn full_profile(gender: Gender) -> Profile {
    Profile {
        first_name: "Jane".into(),
        last_name: "Doe-Smith".into(),
        nick_name: "jd".into(),
        display_name: "Jane Doe-Smith".into(),
        preferred_language: Some(Language::parse("de-CH").unwrap()),
        gender,
    }
}

fn phone() -> Phone {
    Phone { number: "+41 79 123 45 67".into(), verified: true }
}

fn init_code() -> InitCode {
    InitCode {
        hash: CodeHash([0xA5; 32]),
        generation: 2,
        created_at: ADDED,
        expires_at: EXPIRES,
        failed_attempts: 1,
        // Not stored with the user (a snapshot is only taken of a user whose code has the default).
        delivery: CodeDelivery::Mailed,
    }
}

fn user(state: UserState, profile: Profile) -> User {
    User {
        id: user_id(),
        org: org(),
        user_name: UserName::parse("jane.doe").unwrap(),
        profile,
        email: Email { address: address("jane.doe@example.com"), verified: false },
        phone: None,
        state,
        password_hash: None,
        password_change_required: false,
        init_code: None,
        sequence: 16,
        created_at: ADDED,
        changed_at: LATER,
    }
}

/// User snapshots (field `s` of the user hash): one per state.
pub fn users() -> Vec<(&'static str, User)> {
    vec![
        ("unspecified", user(UserState::Unspecified, bare_profile(Gender::Unspecified))),
        ("initial", User { init_code: Some(init_code()), ..user(UserState::Initial, full_profile(Gender::Female)) }),
        (
            "active",
            User {
                email: Email { address: address("jane.doe@example.com"), verified: true },
                phone: Some(phone()),
                password_hash: Some(password()),
                password_change_required: true,
                sequence: 32,
                ..user(UserState::Active, full_profile(Gender::Male))
            },
        ),
        (
            "inactive",
            User { password_hash: Some(password()), ..user(UserState::Inactive, bare_profile(Gender::Diverse)) },
        ),
        ("deleted", user(UserState::Deleted, bare_profile(Gender::Female))),
        ("locked", User { phone: Some(phone()), ..user(UserState::Locked, full_profile(Gender::Unspecified)) }),
        ("suspend", User { init_code: Some(init_code()), ..user(UserState::Suspend, bare_profile(Gender::Male)) }),
    ]
}

fn event(sequence: u64, event: UserEvent) -> RecordedEvent {
    RecordedEvent { sequence, at: if sequence == 1 { ADDED } else { LATER }, event, editor: None }
}

/// Log entries (the user's event list): one per variant, `user.added` with
/// its optional fields unset and set.
pub fn events() -> Vec<(&'static str, RecordedEvent)> {
    let added = |profile, phone, state, password_hash: Option<PasswordHash>| UserEvent::Added {
        user_name: UserName::parse("jane.doe").unwrap(),
        profile,
        email: Email { address: address("jane.doe@example.com"), verified: password_hash.is_some() },
        phone,
        state,
        password_change_required: password_hash.is_some(),
        password_hash,
    };
    vec![
        ("added-bare", event(1, added(bare_profile(Gender::Unspecified), None, UserState::Initial, None))),
        (
            "added-full",
            event(1, added(full_profile(Gender::Diverse), Some(phone()), UserState::Active, Some(password()))),
        ),
        ("email-changed", event(2, UserEvent::EmailChanged { address: address("jane@example.org") })),
        ("email-verified", event(3, UserEvent::EmailVerified)),
        ("init-code-added", event(4, UserEvent::InitCodeAdded { hash: CodeHash([0x5A; 32]), expires_at: EXPIRES })),
        ("init-code-sent", event(5, UserEvent::InitCodeSent { notification: notification_id(), generation: 4 })),
        ("init-check-failed", event(6, UserEvent::InitCheckFailed)),
        ("init-check-succeeded", event(7, UserEvent::InitCheckSucceeded)),
        ("password-changed", event(200, UserEvent::PasswordChanged { hash: password() })),
        ("removed", event(8, UserEvent::Removed)),
        (
            "init-code-added-by-editor",
            event(4, UserEvent::InitCodeAdded { hash: CodeHash([0x5A; 32]), expires_at: EXPIRES })
                .by(&Editor::new("384598082123866113", "Importer")),
        ),
        ("invite-code-added-mailed", invite(8, CodeDelivery::Mailed)),
        (
            "invite-code-added-template",
            invite(
                9,
                CodeDelivery::MailedWith {
                    url_template: Some(
                        UrlTemplate::parse("https://app.example.com/invite?user={{.UserID}}&code={{.Code}}").unwrap(),
                    ),
                    application_name: Some("Example Shop".into()),
                },
            ),
        ),
        (
            "invite-code-added-named",
            invite(10, CodeDelivery::MailedWith { url_template: None, application_name: Some("Shop".into()) }),
        ),
        ("invite-code-added-returned", invite(11, CodeDelivery::Returned)),
        ("invite-check-succeeded", event(12, UserEvent::InviteCheckSucceeded)),
        ("password-set", event(13, UserEvent::PasswordSet { hash: password(), change_required: true })),
        ("link-opened", event(14, UserEvent::LinkOpened { generation: 11 })),
        ("renewal-requested", event(15, UserEvent::RenewalRequested)),
        ("reminder-issued", event(16, UserEvent::ReminderIssued)),
    ]
}

fn invite(sequence: u64, delivery: CodeDelivery) -> RecordedEvent {
    event(sequence, UserEvent::InviteCodeAdded { hash: CodeHash([0x3C; 32]), expires_at: EXPIRES, delivery })
}

/// The pending email (the `o:` key), an invitation's and a reminder's (its
/// kind after the entry's bytes).
pub fn outbox_entries() -> Vec<(&'static str, OutboxEntry)> {
    let pending = OutboxEntry {
        id: notification_id(),
        user_id: user_id(),
        recipient: address("jane.doe@example.com"),
        code: PlainCode::from_stored("K7QF2M".into()),
        code_generation: 4,
        enqueued_at: ADDED,
        attempts: 2,
        not_before: LATER,
        receipt: String::new(),
        kind: Default::default(),
    };
    let reminder = OutboxEntry { kind: onboard_domain::NotificationKind::Reminder, ..pending.clone() };
    vec![("pending", pending), ("reminder", reminder)]
}

fn notification(state: DeliveryState) -> Notification {
    Notification {
        id: notification_id(),
        user_id: user_id(),
        recipient: address("jane.doe@example.com"),
        state,
        created_at: ADDED,
        updated_at: LATER,
        attempts: 1,
        last_error: None,
        provider_message_id: None,
        kind: onboard_domain::NotificationKind::Invitation,
    }
}

/// Notification records (`#<id>` fields of the user hash): one per state;
/// `true` where the record keeps its recipient (another than the user's usual).
pub fn notifications() -> Vec<(&'static str, Notification, bool)> {
    let provider = || Some("W86EgYT6SQKk0lRflfLRsA".to_owned());
    let error = |e: &str| Some(e.to_owned());
    use DeliveryState::*;
    vec![
        ("queued", Notification { attempts: 0, updated_at: ADDED, ..notification(Queued) }, false),
        ("sending", Notification { recipient: address("jane@example.org"), ..notification(Sending) }, true),
        ("sent", Notification { provider_message_id: provider(), ..notification(Sent) }, false),
        (
            "deferred",
            Notification {
                last_error: error("421 try again later"),
                provider_message_id: provider(),
                ..notification(Deferred)
            },
            false,
        ),
        ("delivered", Notification { provider_message_id: provider(), ..notification(Delivered) }, false),
        (
            "bounced",
            Notification {
                recipient: address("jane@example.org"),
                last_error: error("550 5.1.1 no such user"),
                provider_message_id: provider(),
                ..notification(Bounced)
            },
            true,
        ),
        ("dropped", Notification { last_error: error("Bounced Address"), ..notification(Dropped) }, false),
        ("spam-reported", Notification { provider_message_id: provider(), ..notification(SpamReported) }, false),
        ("failed", Notification { attempts: 5, last_error: error("401 unauthorized"), ..notification(Failed) }, false),
        ("superseded", Notification { attempts: 0, ..notification(Superseded) }, false),
        ("expired", Notification { attempts: 3, ..notification(Expired) }, false),
        ("withdrawn", Notification { attempts: 0, ..notification(Withdrawn) }, false),
        // A reminder's record: its kind follows the record's bytes.
        (
            "reminder-sent",
            Notification {
                provider_message_id: provider(),
                kind: onboard_domain::NotificationKind::Reminder,
                ..notification(Sent)
            },
            false,
        ),
    ]
}

/// Service accounts (`onb:{dir}:accounts`): one holding every role, in both scopes.
pub fn accounts() -> Vec<(&'static str, ServiceAccount)> {
    let grants = Role::ALL
        .into_iter()
        .map(|role| Grant {
            scope: if role.is_instance_role() { GrantScope::Instance } else { GrantScope::Organization(org()) },
            role,
        })
        .collect();
    vec![(
        "every-role",
        ServiceAccount {
            id: "384598082123866113".into(),
            org: org(),
            name: "importer".into(),
            grants,
            created_at: ADDED,
        },
    )]
}

/// Token records (`onb:{dir}:tokens`).
pub fn tokens() -> Vec<(&'static str, TokenRecord)> {
    let record = TokenRecord {
        id: "384598082123866114".into(),
        account: "384598082123866113".into(),
        created_at: ADDED,
        expires_at: None,
        revoked: false,
    };
    vec![
        ("lasting", record.clone()),
        ("expiring-revoked", TokenRecord { expires_at: Some(EXPIRES), revoked: true, ..record }),
    ]
}

/// Answers kept for replay (`a` of an idempotency key).
pub fn answers() -> Vec<(&'static str, StoredAnswer)> {
    vec![
        ("empty", StoredAnswer { status: 200, headers: vec![], body: vec![] }),
        (
            "created",
            StoredAnswer {
                status: 201,
                headers: vec![
                    ("content-type".into(), "application/json; charset=utf-8".into()),
                    ("x-onboard-notification-id".into(), "384598082123868959".into()),
                ],
                body: br#"{"userId":"384598082123868958","details":{"sequence":"2"}}"#.to_vec(),
            },
        ),
    ]
}

/// Branding (`onb:{brand:<org>}`): one with every field set (logo, both
/// languages' overrides), one with none; every `LogoKind` among them and
/// in `logos`.
pub fn brandings() -> Vec<(&'static str, onboard_domain::Branding)> {
    let full = onboard_domain::testkit::full_branding();
    let bare = onboard_domain::Branding {
        display_name: None,
        palette: None,
        sender_name: None,
        sender_address: None,
        reply_to: None,
        default_language: None,
        overrides: Default::default(),
        logo: None,
        updated_at: ADDED,
    };
    let png = onboard_domain::branding::Logo::parse(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()).unwrap();
    let jpeg = onboard_domain::branding::Logo::parse(b"\xff\xd8\xff\xe0\0\x10JFIF".to_vec()).unwrap();
    vec![
        ("full", full),
        ("bare", bare.clone()),
        ("png-logo", onboard_domain::Branding { logo: Some(png), ..bare.clone() }),
        ("jpeg-logo", onboard_domain::Branding { logo: Some(jpeg), ..bare }),
    ]
}

/// Webhook endpoints (`onb:{hooks}:endpoints`): one wanting every event type
/// with a secret in its overlap, one disabled naming every type.
pub fn webhook_endpoints() -> Vec<(&'static str, onboard_domain::webhooks::WebhookEndpoint)> {
    use onboard_domain::webhooks::{EndpointUrl, EventType, WebhookEndpoint, WebhookSecret};
    let every = WebhookEndpoint {
        id: "384598082123868960".into(),
        org: org(),
        url: EndpointUrl::parse("https://hooks.example.com/onboard").unwrap(),
        event_types: vec![],
        enabled: true,
        secrets: vec![
            (WebhookSecret::from_bytes(vec![7; 32]).unwrap(), None),
            (WebhookSecret::from_bytes(vec![8; 24]).unwrap(), Some(LATER)),
        ],
        created_at: ADDED,
    };
    let named = WebhookEndpoint {
        id: "384598082123868961".into(),
        url: EndpointUrl::parse("http://10.1.2.3:8080/in?x=1").unwrap(),
        event_types: EventType::ALL.to_vec(),
        enabled: false,
        secrets: vec![(WebhookSecret::from_bytes(vec![9; 64]).unwrap(), None)],
        ..every.clone()
    };
    vec![("every-type", every), ("named-types", named)]
}

/// Webhook events as the partitions' streams hold them (field `e`): one from
/// a write, one from a notification record with its reason, one told at a
/// code's expiry.
pub fn hook_events() -> Vec<(&'static str, onboard_domain::webhook_events::HookEvent)> {
    use onboard_domain::webhook_events::HookEvent;
    use onboard_domain::webhooks::EventType;
    let created = HookEvent {
        id: "384598082123868958.1.invitation.created".into(),
        event_type: EventType::InvitationCreated,
        at: ADDED,
        user_id: user_id(),
        sequence: 2,
        email: address("jane@example.com"),
        notification_id: Some(notification_id()),
        reason: None,
        receipt: String::new(),
    };
    let bounced = HookEvent {
        id: "384598082123868959.email.bounced".into(),
        event_type: EventType::EmailBounced,
        at: LATER,
        sequence: 0,
        notification_id: None,
        reason: Some("550 5.1.1 no such user".into()),
        ..created.clone()
    };
    let expired = HookEvent {
        id: "384598082123868958.3.invitation.expired".into(),
        event_type: EventType::InvitationExpired,
        at: LATER,
        sequence: 3,
        notification_id: None,
        ..created.clone()
    };
    vec![("created", created), ("bounced", bounced), ("expired", expired)]
}

/// Webhook deliveries (`onb:{wh:<endpoint>}:d`): pending before its first
/// attempt, delivered, dead-lettered after an answer, the test event.
pub fn hook_deliveries() -> Vec<(&'static str, onboard_domain::webhook_events::WebhookDelivery)> {
    use onboard_domain::webhook_events::{HookData, HookDeliveryState, WebhookDelivery};
    use onboard_domain::webhooks::EventType;
    let pending = WebhookDelivery {
        id: "384598082123868958.1.invitation.created.384598082123868960".into(),
        endpoint_id: "384598082123868960".into(),
        event_id: "384598082123868958.1.invitation.created".into(),
        event_type: EventType::InvitationCreated,
        at: ADDED,
        data: HookData {
            user_id: user_id(),
            org: org(),
            login_name: "jane".into(),
            email: address("jane@example.com"),
            notification_id: Some(notification_id()),
            reason: None,
            sequence: 2,
        },
        state: HookDeliveryState::Pending,
        attempts: 0,
        next_attempt_at: ADDED,
        last_attempt_at: None,
        last_status: None,
        last_error: None,
        created_at: ADDED,
    };
    let delivered = WebhookDelivery {
        state: HookDeliveryState::Delivered,
        attempts: 3,
        last_attempt_at: Some(LATER),
        last_status: Some(204),
        ..pending.clone()
    };
    let dead = WebhookDelivery {
        state: HookDeliveryState::DeadLetter,
        attempts: 1,
        last_attempt_at: Some(LATER),
        last_status: Some(400),
        last_error: Some("answered 400".into()),
        data: HookData { reason: Some("550 5.1.1 no such user".into()), notification_id: None, ..pending.data.clone() },
        ..pending.clone()
    };
    let test = WebhookDelivery { event_type: EventType::WebhookTest, event_id: "test.1".into(), ..pending.clone() };
    vec![("pending", pending), ("delivered", delivered), ("dead-letter", dead), ("test-event", test)]
}
