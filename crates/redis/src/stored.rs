//! What the user hash holds besides its sequence, and how a user is rebuilt
//! from its event log.
//!
//! The user itself is not stored: it is what its events make of it
//! ([`User::create`] and [`User::record`], the domain's own functions), so
//! [`rebuild`] replays the log. Only a user whose log grew long gets a
//! snapshot ([`SNAPSHOT_EVERY`]), and then only the events after it are
//! replayed.

use onboard_domain::ports::{MarkChange, Milestone, Unavailable, WaitingMark};
use onboard_domain::{
    DeliveryState, EmailAddress, Notification, NotificationId, NotificationKind, OrgId, OutboxEntry, RecordedEvent,
    User, UserEvent, UserId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A snapshot of the user is stored whenever a write takes its sequence past
/// a multiple of this, so reading a user replays fewer than this many events
/// plus one write's. An Initial user (three events) has none.
pub const SNAPSHOT_EVERY: u64 = 16;

/// Whether a write from `expected` to `new` stores a snapshot (of a user
/// whose snapshot would hold all of it, [`User::snapshot_safe`]: a code's
/// delivery is not in the snapshot's format, so a user holding such a code
/// is rebuilt from an earlier snapshot and the events since, that code's
/// event among them).
pub fn snapshot_due(expected: u64, new: u64) -> bool {
    new / SNAPSHOT_EVERY > expected / SNAPSHOT_EVERY
}

/// Notification records live in their user's hash, one field each: this
/// prefix and the notification id. Other fields of the hash are single
/// letters, so the prefix keeps them apart.
const NOTIFICATION_FIELD: &str = "#";

/// The field of the user's usual recipient (see [`StoredNotification`]).
pub const RECIPIENT_FIELD: &str = "r";

/// The one-letter code of a delivery state, as the delivery counts hold it:
/// field `d` of an Initial user's hash (the state it is counted under) and
/// `d<code>` of the organization's counts (`xs:<org>`, see
/// [`crate::keys::Keys::invitation_counts`]). save.lua writes `q` (queued)
/// itself. Never change a code: stored counts use them.
pub fn delivery_code(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Queued => "q",
        DeliveryState::Sending => "s",
        DeliveryState::Sent => "t",
        DeliveryState::Deferred => "f",
        DeliveryState::Delivered => "d",
        DeliveryState::Bounced => "b",
        DeliveryState::Dropped => "x",
        DeliveryState::SpamReported => "p",
        DeliveryState::Failed => "e",
        DeliveryState::Superseded => "u",
        DeliveryState::Expired => "z",
        DeliveryState::Withdrawn => "w",
    }
}

/// The state of a [`delivery_code`].
pub fn delivery_of_code(code: &str) -> Option<DeliveryState> {
    DeliveryState::ALL.into_iter().find(|s| delivery_code(*s) == code)
}

/// The one-letter code of a waiting user's [`WaitingMark`], as the split's
/// counts hold it: in field `w` of its hash and `s<code>` of the
/// organization's counts (`xs:<org>`). Never change a code: stored counts
/// use them.
pub fn mark_code(m: WaitingMark) -> char {
    match m {
        WaitingMark::Locked => 'l',
        WaitingMark::Expired => 'e',
    }
}

/// A write's [`MarkChange`] as save.lua takes it: the mark's code to set,
/// `n` to clear, empty to keep.
pub fn mark_change(change: MarkChange) -> String {
    match change {
        MarkChange::Set(m) => mark_code(m).to_string(),
        MarkChange::Clear => "n".into(),
        MarkChange::Keep => String::new(),
    }
}

/// The one-letter code of a funnel milestone, as the funnel's counts hold
/// it: in field `f` of a user's hash (the milestones it was counted for)
/// and `f<code>` of the organization's counts (`xs:<org>`). `v` (delivered)
/// is also written by put_notification.lua itself. Never change a code:
/// stored counts use them.
pub fn milestone_code(m: Milestone) -> char {
    match m {
        Milestone::Created => 'c',
        Milestone::Delivered => 'v',
        Milestone::Opened => 'o',
        Milestone::Completed => 'k',
    }
}

/// The codes of the milestones `reached`, each once, in [`Milestone::ALL`] order.
pub fn milestone_codes(reached: impl IntoIterator<Item = Milestone>) -> String {
    let reached: std::collections::BTreeSet<Milestone> = reached.into_iter().collect();
    reached.into_iter().map(milestone_code).collect()
}

pub fn notification_field(id: &NotificationId) -> String {
    format!("{NOTIFICATION_FIELD}{id}")
}

/// The notification id of a field of the user hash, if it is a notification's.
pub fn notification_id(field: &[u8]) -> Option<NotificationId> {
    let id = field.strip_prefix(NOTIFICATION_FIELD.as_bytes())?;
    NotificationId::parse(std::str::from_utf8(id).ok()?).ok()
}

/// A notification record as stored: without its id and user id, which are
/// the field's and the key's, and without its recipient when that is the
/// user's usual one ([`RECIPIENT_FIELD`], the first recipient recorded for
/// the user and never changed). So a record stays within 64 bytes, Redis's
/// default `hash-max-listpack-value`, and the user hash a compact listpack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredNotification {
    recipient: Option<EmailAddress>,
    state: DeliveryState,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    attempts: u32,
    last_error: Option<String>,
    provider_message_id: Option<String>,
    /// Kept after the record's bytes (see [`encode_with_kind`]).
    #[serde(skip)]
    kind: NotificationKind,
}

/// `value` as stored, then its kind when it is a reminder: the kind came
/// after these types' formats, so an invitation's bytes are what they
/// always were and a record written before reminders reads as one.
pub fn encode_with_kind<T: Serialize>(value: &T, kind: NotificationKind) -> Vec<u8> {
    let mut out = crate::codec::encode(value);
    if kind != NotificationKind::Invitation {
        out.extend(postcard::to_stdvec(&kind).expect("postcard encodes a kind"));
    }
    out
}

/// What [`encode_with_kind`] wrote: the value, and its kind (an
/// invitation when nothing follows the value).
pub fn decode_with_kind<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<(T, NotificationKind), Unavailable> {
    let Some((&format, rest)) = bytes.split_first() else {
        return Err(Unavailable("stored value is empty".into()));
    };
    if !(crate::format::OLDEST_READ..=crate::format::FORMAT).contains(&format) {
        return Err(Unavailable(format!("stored value has unknown format {format}")));
    }
    let undecodable = |e: postcard::Error| Unavailable(format!("undecodable stored value: {e}"));
    let (value, after) = postcard::take_from_bytes::<T>(rest).map_err(undecodable)?;
    let kind = match after {
        [] => NotificationKind::Invitation,
        more => match postcard::take_from_bytes::<NotificationKind>(more).map_err(undecodable)? {
            (kind, []) => kind,
            _ => return Err(Unavailable("undecodable stored value: bytes after its kind".into())),
        },
    };
    Ok((value, kind))
}

/// An outbox entry as stored: its bytes, then its kind for a reminder.
pub fn encode_entry(entry: &OutboxEntry) -> Vec<u8> {
    encode_with_kind(entry, entry.kind)
}

pub fn decode_entry(bytes: &[u8]) -> Result<OutboxEntry, Unavailable> {
    let (entry, kind) = decode_with_kind::<OutboxEntry>(bytes)?;
    Ok(OutboxEntry { kind, ..entry })
}

impl StoredNotification {
    /// The record's stored bytes (its kind after them for a reminder).
    pub fn encode(&self) -> Vec<u8> {
        encode_with_kind(self, self.kind)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, Unavailable> {
        let (record, kind) = decode_with_kind::<Self>(bytes)?;
        Ok(Self { kind, ..record })
    }

    /// The record of `n`, with its recipient or without.
    pub fn of(n: &Notification, with_recipient: bool) -> Self {
        Self {
            recipient: with_recipient.then(|| n.recipient.clone()),
            state: n.state,
            created_at: n.created_at,
            updated_at: n.updated_at,
            attempts: n.attempts,
            last_error: n.last_error.clone(),
            provider_message_id: n.provider_message_id.clone(),
            kind: n.kind,
        }
    }

    /// The notification `id` of `user_id` this record stands for; `usual` is
    /// the user's usual recipient, if stored.
    pub fn into_notification(
        self,
        id: NotificationId,
        user_id: UserId,
        usual: Option<&EmailAddress>,
    ) -> Result<Notification, Unavailable> {
        let Some(recipient) = self.recipient.or_else(|| usual.cloned()) else {
            return Err(corrupt(&user_id, "a notification record lacks its recipient"));
        };
        Ok(Notification {
            id,
            user_id,
            recipient,
            state: self.state,
            created_at: self.created_at,
            updated_at: self.updated_at,
            attempts: self.attempts,
            last_error: self.last_error,
            provider_message_id: self.provider_message_id,
            kind: self.kind,
        })
    }
}

/// A logged event as format 1 stored it: without its editor.
#[derive(Deserialize)]
struct RecordedEventV1 {
    sequence: u64,
    at: OffsetDateTime,
    event: UserEvent,
}

/// An entry of a user's event log, in any format this version reads: one
/// of format 1 is read with no editor.
pub fn decode_event(bytes: &[u8]) -> Result<RecordedEvent, Unavailable> {
    match bytes.split_first() {
        Some((1, rest)) => {
            let RecordedEventV1 { sequence, at, event } = crate::codec::decode_body(rest)?;
            Ok(RecordedEvent { sequence, at, event, editor: None })
        }
        _ => crate::codec::decode(bytes),
    }
}

fn corrupt(id: &UserId, what: &str) -> Unavailable {
    Unavailable(format!("stored user {id} is inconsistent: {what}"))
}

/// The user `id` of `org` as its events make it: from its snapshot (when it
/// has one) or its first event, then every later event in order. `sequence`
/// is the one stored beside the log; the result must end there.
pub fn rebuild(
    id: &UserId,
    org: OrgId,
    sequence: u64,
    snapshot: Option<User>,
    events: Vec<RecordedEvent>,
) -> Result<User, Unavailable> {
    let mut events = events.into_iter();
    let mut user = match snapshot {
        Some(user) if &user.id == id => user,
        Some(_) => return Err(corrupt(id, "its snapshot is another user's")),
        None => match events.next() {
            Some(RecordedEvent { sequence: 1, at, event: event @ UserEvent::Added { .. }, .. }) => {
                User::create(id.clone(), org, event, at).0
            }
            _ => return Err(corrupt(id, "its log does not start with user.added")),
        },
    };
    for e in events {
        if e.sequence != user.sequence + 1 || matches!(e.event, UserEvent::Added { .. }) {
            return Err(corrupt(id, "its log has a gap or a second user.added"));
        }
        user.record(e.event, e.at);
    }
    if user.sequence != sequence {
        return Err(corrupt(id, "its log does not end at its sequence"));
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use onboard_domain::testkit::new_user;

    use super::*;

    #[test]
    fn a_user_is_what_its_events_make_it() {
        let (mut user, write) = new_user(&OrgId::generate(), "replayed");
        let mut events = write.events;
        events.push(user.record(UserEvent::EmailVerified, user.changed_at + time::Duration::seconds(1)));
        let rebuilt = rebuild(&user.id, user.org.clone(), 3, None, events.clone()).unwrap();
        assert_eq!(rebuilt, user);
        // From a snapshot: only the later events.
        let mut at_two = user.clone();
        at_two.sequence = 2;
        at_two.email.verified = false;
        at_two.changed_at = events[1].at;
        assert_eq!(rebuild(&user.id, user.org.clone(), 3, Some(at_two), events[2..].to_vec()).unwrap(), user);
        // Inconsistent logs are reported, never panicking.
        assert!(rebuild(&user.id, user.org.clone(), 3, None, events[1..].to_vec()).is_err());
        assert!(rebuild(&user.id, user.org.clone(), 4, None, events.clone()).is_err());
        let mut gap = events.clone();
        gap.remove(1);
        assert!(rebuild(&user.id, user.org.clone(), 3, None, gap).is_err());
        let twice = vec![events[0].clone(), RecordedEvent { sequence: 2, ..events[0].clone() }];
        assert!(rebuild(&user.id, user.org.clone(), 2, None, twice).is_err());
    }

    #[test]
    fn snapshots_are_due_past_each_multiple() {
        assert!(!snapshot_due(0, 3));
        assert!(!snapshot_due(3, SNAPSHOT_EVERY - 1));
        assert!(snapshot_due(SNAPSHOT_EVERY - 1, SNAPSHOT_EVERY));
        assert!(snapshot_due(SNAPSHOT_EVERY - 2, SNAPSHOT_EVERY + 3));
        assert!(!snapshot_due(SNAPSHOT_EVERY, 2 * SNAPSHOT_EVERY - 1));
    }

    #[test]
    fn records_to_the_usual_recipient_leave_it_out() {
        let usual = EmailAddress::parse("jane.doe@example-company.com").unwrap();
        let n = Notification {
            id: NotificationId::parse("384598082123868959").unwrap(),
            user_id: UserId::parse("384598082123868958").unwrap(),
            recipient: usual.clone(),
            state: DeliveryState::Sent,
            created_at: OffsetDateTime::now_utc(),
            updated_at: OffsetDateTime::now_utc(),
            attempts: 1,
            last_error: None,
            provider_message_id: Some("W86EgYT6SQKk0lRflfLRsA".into()),
            kind: NotificationKind::Invitation,
        };
        let short = crate::codec::encode(&StoredNotification::of(&n, false));
        assert!(short.len() <= 64, "{} bytes", short.len());
        let back = crate::codec::decode::<StoredNotification>(&short).unwrap();
        assert_eq!(back.into_notification(n.id.clone(), n.user_id.clone(), Some(&usual)).unwrap(), n);
        let back = crate::codec::decode::<StoredNotification>(&short).unwrap();
        assert!(back.into_notification(n.id.clone(), n.user_id.clone(), None).is_err());
        let full = crate::codec::decode::<StoredNotification>(&crate::codec::encode(&StoredNotification::of(&n, true)));
        let other = EmailAddress::parse("other@example.com").unwrap();
        assert_eq!(full.unwrap().into_notification(n.id.clone(), n.user_id.clone(), Some(&other)).unwrap(), n);
    }

    #[test]
    fn a_reminders_kind_follows_its_record_and_older_records_are_invitations() {
        let usual = EmailAddress::parse("jane.doe@example-company.com").unwrap();
        let n = Notification {
            id: NotificationId::parse("384598082123868959").unwrap(),
            user_id: UserId::parse("384598082123868958").unwrap(),
            recipient: usual.clone(),
            state: DeliveryState::Sent,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            attempts: 1,
            last_error: None,
            provider_message_id: Some("W86EgYT6SQKk0lRflfLRsA".into()),
            kind: NotificationKind::Reminder,
        };
        let invitation = Notification { kind: NotificationKind::Invitation, ..n.clone() };
        let old = crate::codec::encode(&StoredNotification::of(&invitation, false));
        assert_eq!(StoredNotification::of(&invitation, false).encode(), old, "an invitation keeps its bytes");
        let reminder = StoredNotification::of(&n, false).encode();
        assert_eq!(reminder.len(), old.len() + 1);
        assert!(reminder.len() <= 64, "{} bytes", reminder.len());
        let back = |b: &[u8]| {
            StoredNotification::decode(b).unwrap().into_notification(n.id.clone(), n.user_id.clone(), Some(&usual))
        };
        assert_eq!(back(&reminder).unwrap(), n);
        assert_eq!(back(&old).unwrap(), invitation);
        let mut junk = reminder.clone();
        junk.push(0);
        assert!(StoredNotification::decode(&junk).is_err(), "nothing may follow the kind");
    }

    #[test]
    fn delivery_codes_are_one_letter_each_and_queued_is_what_save_lua_writes() {
        let codes: std::collections::BTreeSet<&str> = DeliveryState::ALL.into_iter().map(delivery_code).collect();
        assert_eq!(codes.len(), DeliveryState::ALL.len());
        assert!(codes.iter().all(|c| c.len() == 1));
        for state in DeliveryState::ALL {
            assert_eq!(delivery_of_code(delivery_code(state)), Some(state));
        }
        assert_eq!(delivery_of_code(""), None);
        assert!(include_str!("lua/save.lua").contains("local QUEUED = 'q'"));
    }

    #[test]
    fn notification_fields_carry_their_id() {
        let id = NotificationId::parse("384598082123868959").unwrap();
        assert_eq!(notification_field(&id), "#384598082123868959");
        assert_eq!(notification_id(notification_field(&id).as_bytes()), Some(id));
        assert_eq!(notification_id(b"q"), None);
        assert_eq!(notification_id(b"#"), None);
    }
}
