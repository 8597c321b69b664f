//! The stored format pinned. Every type the store keeps has checked-in
//! samples in `tests/format/` (hex, one file each); each must still decode
//! to its value and encode to the same bytes, so a change to a stored type
//! fails here before it meets a store written by an earlier version
//! (docs/redis.md, "Stored format").

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use onboard_domain::branding::{EmailPart, LogoKind, PageText};
use onboard_domain::webhook_events::HookDeliveryState;
use onboard_domain::webhooks::EventType;
use onboard_domain::{CodeDelivery, DeliveryState, Gender, GrantScope, NotificationKind, Role, UserEvent, UserState};
use onboard_redis::testing::format::{
    StoredNotification, decode, decode_entry, decode_event, decode_notification, encode, encode_entry,
    encode_notification,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::samples;

const REGENERATE: &str = "UPDATE=1 cargo test -p onboard-redis --test redis format::";

/// Decodes checked-in bytes, checks they are the sample's value, and
/// encodes that again.
type Reread = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, String>>;

/// A value as the store keeps it, and how to read checked-in bytes back.
struct Sample {
    name: String,
    /// The Rust type it is a value of, for messages.
    type_name: &'static str,
    encoded: Vec<u8>,
    reread: Reread,
}

impl Sample {
    fn of<T>(kind: &str, name: &str, value: T) -> Self
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug + 'static,
    {
        Self::read_by(kind, name, value, decode::<T>)
    }

    /// A sample read back as the store reads it with `read`.
    fn read_by<T>(kind: &str, name: &str, value: T, read: fn(&[u8]) -> Result<T, String>) -> Self
    where
        T: Serialize + PartialEq + Debug + 'static,
    {
        Self::stored_by(kind, name, value, encode::<T>, read)
    }

    /// A sample the store writes with `write` and reads with `read`.
    fn stored_by<T>(
        kind: &str,
        name: &str,
        value: T,
        write: fn(&T) -> Vec<u8>,
        read: fn(&[u8]) -> Result<T, String>,
    ) -> Self
    where
        T: PartialEq + Debug + 'static,
    {
        let encode = write;
        let encoded = encode(&value);
        let reread = Box::new(move |bytes: &[u8]| {
            let back: T = read(bytes).map_err(|e| format!("does not decode: {e}"))?;
            if back != value {
                return Err(format!("decodes as\n    {back:?}\n  not as\n    {value:?}"));
            }
            Ok(encode(&back))
        });
        let type_name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
        Self { name: format!("{kind}-{name}"), type_name, encoded, reread }
    }
}

fn all_samples() -> Vec<Sample> {
    let mut all = Vec::new();
    all.extend(samples::users().into_iter().map(|(name, v)| Sample::of("user", name, v)));
    all.extend(samples::events().into_iter().map(|(name, v)| Sample::read_by("event", name, v, decode_event)));
    all.extend(
        samples::outbox_entries()
            .into_iter()
            .map(|(name, v)| Sample::stored_by("outbox", name, v, encode_entry, decode_entry)),
    );
    all.extend(samples::notifications().into_iter().map(|(name, n, with_recipient)| {
        let record = StoredNotification::of(&n, with_recipient);
        Sample::stored_by("notification", name, record, encode_notification, decode_notification)
    }));
    all.extend(samples::accounts().into_iter().map(|(name, v)| Sample::of("account", name, v)));
    all.extend(samples::tokens().into_iter().map(|(name, v)| Sample::of("token", name, v)));
    all.extend(samples::answers().into_iter().map(|(name, v)| Sample::of("idempotency-answer", name, v)));
    all.extend(samples::brandings().into_iter().map(|(name, v)| Sample::of("branding", name, v)));
    all.extend(samples::webhook_endpoints().into_iter().map(|(name, v)| Sample::of("webhook-endpoint", name, v)));
    all.extend(samples::hook_events().into_iter().map(|(name, v)| Sample::of("webhook-event", name, v)));
    all.extend(samples::hook_deliveries().into_iter().map(|(name, v)| Sample::of("webhook-delivery", name, v)));
    all
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/format")
}

/// Hex, 32 bytes a line: reviewable in a diff.
fn to_hex(bytes: &[u8]) -> String {
    bytes.chunks(32).map(|line| line.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n").collect()
}

fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err("an odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).map_err(|_| "not hex".to_owned())?;
            u8::from_str_radix(pair, 16).map_err(|_| format!("{pair:?} is not hex"))
        })
        .collect()
}

/// The checked-in samples, by name.
fn checked_in(dir: &Path) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "hex"))
                .filter_map(|p| Some((p.file_stem()?.to_str()?.to_owned(), p)))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_stored_value_keeps_its_bytes() {
    let samples = all_samples();
    let names: BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), samples.len(), "two samples share a name");
    let dir = samples_dir();
    let files = checked_in(&dir);

    if std::env::var_os("UPDATE").is_some() {
        std::fs::create_dir_all(&dir).expect("make tests/format");
        for sample in &samples {
            std::fs::write(dir.join(format!("{}.hex", sample.name)), to_hex(&sample.encoded)).expect("write a sample");
        }
        for (name, path) in &files {
            if !names.contains(name.as_str()) {
                std::fs::remove_file(path).expect("remove a sample no longer made");
            }
        }
        return;
    }

    let (mut changed, mut new) = (Vec::new(), Vec::new());
    for sample in &samples {
        let label = format!("{} ({})", sample.name, sample.type_name);
        let Some(path) = files.get(&sample.name) else {
            new.push(format!("{label}: no checked-in sample"));
            continue;
        };
        let text = std::fs::read_to_string(path).expect("read a sample");
        let bytes = match from_hex(&text) {
            Ok(bytes) => bytes,
            Err(e) => {
                changed.push(format!("{label}: the checked-in sample is not hex: {e}"));
                continue;
            }
        };
        match (sample.reread)(&bytes) {
            Err(e) => changed.push(format!("{label}: the checked-in sample {e}")),
            Ok(again) if again != bytes => changed.push(format!(
                "{label}: the checked-in sample encodes again as\n{}  not as\n{}",
                to_hex(&again),
                to_hex(&bytes)
            )),
            Ok(_) if sample.encoded != bytes => changed.push(format!(
                "{label}: the value encodes as\n{}  the checked-in sample holds\n{}",
                to_hex(&sample.encoded),
                to_hex(&bytes)
            )),
            Ok(_) => {}
        }
    }
    for name in files.keys().filter(|name| !names.contains(name.as_str())) {
        changed.push(format!("{name}: a checked-in sample no test makes (a stored type or variant went away?)"));
    }

    assert!(
        changed.is_empty(),
        "the stored format changed:\n{}\n\nStores hold values in the checked-in format, so this version would \
         misread them or fail to read them. If the change is meant, it is a format change: follow \"How a stored \
         type changes\" in docs/redis.md (a new format and a migration note), then regenerate the samples with `{}` \
         and commit them.{}",
        changed.join("\n"),
        REGENERATE,
        if new.is_empty() { String::new() } else { format!("\n\nAlso new: {}", new.join("; ")) }
    );
    assert!(
        new.is_empty(),
        "{}.\nA new stored type or variant: write its sample with `{REGENERATE}` and commit it (samples added \
         without others changing are no format change).",
        new.join("\n")
    );
}

/// Where the samples of format 1 are kept: values a store of that format
/// holds, which this version still reads.
fn v1_dir() -> PathBuf {
    samples_dir().join("v1")
}

#[test]
fn values_of_format_1_still_read_as_they_were() {
    let samples = all_samples();
    let files = checked_in(&v1_dir());
    assert!(files.len() >= 30, "the format 1 samples are missing from {}", v1_dir().display());
    let mut failed = Vec::new();
    for (name, path) in &files {
        let bytes = from_hex(&std::fs::read_to_string(path).expect("read a sample")).expect("hex");
        assert_eq!(bytes[0], 1, "{name} is a format 1 value");
        let Some(sample) = samples.iter().find(|s| &s.name == name) else {
            failed.push(format!("{name}: no sample of this name is made any more"));
            continue;
        };
        // Events of format 1 have no editor; each sample of one has none either.
        if let Err(e) = (sample.reread)(&bytes) {
            failed.push(format!("{name}: {e}"));
        }
    }
    assert!(failed.is_empty(), "format 1 values this version misreads:\n{}", failed.join("\n"));
}

/// How many variants postcard finds in `E`: the first index that is not one.
/// A variant with fields reads as one too (it then runs out of bytes).
fn variant_count<E: DeserializeOwned>() -> u8 {
    (0..128)
        .find(|&i| matches!(postcard::from_bytes::<E>(&[i]), Err(postcard::Error::SerdeDeCustom)))
        .expect("fewer than 128 variants")
}

/// The variants of `E` (by index) that none of `values` is.
fn uncovered<'a, E: Serialize + DeserializeOwned + 'a>(
    name: &str,
    values: impl IntoIterator<Item = &'a E>,
) -> Option<String> {
    let covered: BTreeSet<u8> = values.into_iter().map(|v| postcard::to_stdvec(v).unwrap()[0]).collect();
    let missing: Vec<u8> = (0..variant_count::<E>()).filter(|i| !covered.contains(i)).collect();
    (!missing.is_empty()).then(|| format!("{name} variants {missing:?} (0 is the first declared)"))
}

#[test]
fn every_variant_inside_a_stored_value_has_a_sample() {
    let users: Vec<_> = samples::users().into_iter().map(|(_, u)| u).collect();
    let events: Vec<_> = samples::events().into_iter().map(|(_, e)| e.event).collect();
    let genders: Vec<Gender> = users
        .iter()
        .map(|u| u.profile.gender)
        .chain(events.iter().filter_map(|e| match e {
            UserEvent::Added { profile, .. } => Some(profile.gender),
            _ => None,
        }))
        .collect();
    let states: Vec<DeliveryState> = samples::notifications().into_iter().map(|(_, n, _)| n.state).collect();
    let kinds: Vec<NotificationKind> = samples::notifications()
        .into_iter()
        .map(|(_, n, _)| n.kind)
        .chain(samples::outbox_entries().into_iter().map(|(_, e)| e.kind))
        .collect();
    let grants: Vec<_> = samples::accounts().into_iter().flat_map(|(_, a)| a.grants).collect();
    let brandings: Vec<_> = samples::brandings().into_iter().map(|(_, b)| b).collect();
    let logo_kinds: Vec<LogoKind> = brandings.iter().filter_map(|b| b.logo.as_ref().map(|l| l.kind())).collect();
    let parts: Vec<EmailPart> =
        brandings.iter().flat_map(|b| b.overrides.values().flat_map(|o| o.email.keys().copied())).collect();
    let page_texts: Vec<PageText> =
        brandings.iter().flat_map(|b| b.overrides.values().flat_map(|o| o.page.keys().copied())).collect();
    let event_types: Vec<EventType> = samples::webhook_endpoints()
        .into_iter()
        .flat_map(|(_, e)| e.event_types)
        .chain(samples::hook_deliveries().into_iter().map(|(_, d)| d.event_type))
        .collect();
    let hook_states: Vec<HookDeliveryState> = samples::hook_deliveries().into_iter().map(|(_, d)| d.state).collect();
    let deliveries: Vec<CodeDelivery> = events
        .iter()
        .filter_map(|e| match e {
            UserEvent::InviteCodeAdded { delivery, .. } => Some(delivery.clone()),
            _ => None,
        })
        .collect();
    let missing: Vec<String> = [
        uncovered::<UserEvent>("UserEvent", &events),
        uncovered::<UserState>("UserState", users.iter().map(|u| &u.state)),
        uncovered::<Gender>("Gender", &genders),
        uncovered::<DeliveryState>("DeliveryState", &states),
        uncovered::<Role>("Role", grants.iter().map(|g| &g.role)),
        uncovered::<GrantScope>("GrantScope", grants.iter().map(|g| &g.scope)),
        uncovered::<LogoKind>("LogoKind", &logo_kinds),
        uncovered::<EmailPart>("EmailPart", &parts),
        uncovered::<PageText>("PageText", &page_texts),
        uncovered::<EventType>("EventType", &event_types),
        uncovered::<HookDeliveryState>("HookDeliveryState", &hook_states),
        uncovered::<CodeDelivery>("CodeDelivery", &deliveries),
        uncovered::<NotificationKind>("NotificationKind", &kinds),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(
        missing.is_empty(),
        "no sample holds {}: add one to tests/redis/samples.rs and write it with `{REGENERATE}`",
        missing.join(", ")
    );
    // The check itself sees every variant, not just the first few.
    assert_eq!(variant_count::<UserEvent>(), 15);
    assert_eq!(variant_count::<NotificationKind>(), 2);
    assert_eq!(variant_count::<CodeDelivery>(), 3);
    assert_eq!(variant_count::<DeliveryState>(), 12);
    assert_eq!(variant_count::<EventType>(), 12);
    assert_eq!(variant_count::<HookDeliveryState>(), 3);
}

#[test]
fn an_outbox_entry_keeps_no_receipt() {
    let (_, entry) = samples::outbox_entries().remove(0);
    let claimed = onboard_domain::ports::OutboxEntry { receipt: "1767259800000-0".into(), ..entry.clone() };
    assert_eq!(encode(&claimed), encode(&entry));
}
