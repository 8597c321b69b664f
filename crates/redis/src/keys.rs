//! Key layout. Every key of one user carries the hash tag of the user's
//! partition (`{pN}`), so one Lua script can write a user, its log and its
//! partition's outbox in one slot. Names each have a tag of their own; the
//! directory (organizations, service accounts, tokens) shares one, and so do
//! the rate limiter's keys.

use onboard_domain::{OrgId, UserId};

/// The span of one bucket of the ended invitations' indexes: a listing
/// reads the buckets of its retention period (5 for 30 days).
pub const INVITATION_WEEK_MS: i64 = 7 * 86_400_000;

/// FNV-1a: stable across processes and versions (unlike std's hasher).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[derive(Debug, Clone)]
pub struct Keys {
    partitions: usize,
}

impl Keys {
    pub fn new(partitions: usize) -> Self {
        Self { partitions: partitions.max(1) }
    }

    pub fn partitions(&self) -> usize {
        self.partitions
    }

    pub fn partition_of(&self, user: &UserId) -> usize {
        (fnv1a(user.as_str().as_bytes()) % self.partitions as u64) as usize
    }

    /// Prefix of the user hashes in `partition`; the claim script appends the id.
    pub fn user_prefix(partition: usize) -> String {
        format!("onb:{{p{partition}}}:u:")
    }

    pub fn user(&self, user: &UserId) -> String {
        format!("{}{user}", Self::user_prefix(self.partition_of(user)))
    }

    pub fn events(&self, user: &UserId) -> String {
        format!("onb:{{p{}}}:e:{user}", self.partition_of(user))
    }

    /// Prefix of the pending outbox entries in `partition`; the claim script
    /// appends the id.
    pub fn pending_prefix(partition: usize) -> String {
        format!("onb:{{p{partition}}}:o:")
    }

    /// The user's pending outbox entry, only while an email is due. Kept out
    /// of the user hash: the entry is longer than `hash-max-listpack-value`
    /// (64 bytes), and one such value would turn the hash into a hashtable
    /// for good.
    pub fn pending(&self, user: &UserId) -> String {
        format!("{}{user}", Self::pending_prefix(self.partition_of(user)))
    }

    /// What every key of `partition` starts with: the scripts build the
    /// index keys of the partition from it (they share its tag, so its slot).
    pub fn partition_prefix(partition: usize) -> String {
        format!("onb:{{p{partition}}}:")
    }

    /// The users of `org` in `state` (its wire number) whose keys are in
    /// `partition`: a sorted set of user ids scored by creation (ms). Built
    /// by save.lua as `<prefix>x:<org>:<state>`.
    pub fn state_index(partition: usize, org: &OrgId, state: i32) -> String {
        format!("{}x:{org}:{state}", Self::partition_prefix(partition))
    }

    /// The users of `org` in `partition` whose invitation ended (`kind` `c`:
    /// completed, `w`: withdrawn) in week `week` (Unix ms / [`INVITATION_WEEK_MS`]):
    /// a sorted set of user ids scored by creation (ms) that expires once
    /// the retention after its week is over. Built by save.lua as
    /// `<prefix>xi:<org>:<kind>:<week>`.
    pub fn invitations_ended(partition: usize, org: &OrgId, kind: &str, week: i64) -> String {
        format!("{}xi:{org}:{kind}:{week}", Self::partition_prefix(partition))
    }

    /// The Initial users of `org` in `partition` whose latest email is
    /// exceptional (bounced, dropped, spam reported, failed): a sorted set
    /// of user ids scored by creation (ms), kept by put_notification.lua and
    /// save.lua as `<prefix>xe:<org>`.
    pub fn delivery_exceptions(partition: usize, org: &OrgId) -> String {
        format!("{}xe:{org}", Self::partition_prefix(partition))
    }

    /// The invitation counters of `org` in `partition`: a hash of small
    /// counts, `d<code>` the Initial users whose latest email is in the
    /// delivery state of that code ([`crate::stored::delivery_code`]).
    /// Kept by save.lua, put_notification.lua and mailed.lua as
    /// `<prefix>xs:<org>`, in the same script as the change they count.
    pub fn invitation_counts(partition: usize, org: &OrgId) -> String {
        format!("{}xs:{org}", Self::partition_prefix(partition))
    }

    /// Bucket `bucket` of the address index of `partition`: a hash of
    /// address digest → user ids. Built by save.lua as `<prefix>xm:<bucket>`.
    pub fn email_bucket(partition: usize, bucket: u32) -> String {
        format!("{}xm:{bucket}", Self::partition_prefix(partition))
    }

    /// Whether the indexes of the users written before there were any are
    /// built (`1`), see `RedisStore::open`.
    pub const INDEXED: &'static str = "onb:{meta}:indexed";

    /// Whether the invitation counts of the users written before there were
    /// any are counted (`1`), see `RedisStore::open`.
    pub const COUNTED: &'static str = "onb:{meta}:counted";

    /// Whether the funnel's counts of the users written before there were
    /// any are counted (`1`), see `RedisStore::open`.
    pub const FUNNEL_COUNTED: &'static str = "onb:{meta}:funnel-counted";

    /// Whether the waiting users written before the split of the waiting
    /// was counted are marked and counted locked or expired (`1`), see
    /// `RedisStore::open`.
    pub const SPLIT_COUNTED: &'static str = "onb:{meta}:split-counted";

    pub fn stream(partition: usize) -> String {
        format!("onb:{{p{partition}}}:outbox")
    }

    pub fn retry(partition: usize) -> String {
        format!("onb:{{p{partition}}}:retry")
    }

    /// The partition's webhook events (a stream, field `e`: the encoded
    /// event), appended by the same scripts that save the changes they follow.
    pub fn hooks(partition: usize) -> String {
        format!("onb:{{p{partition}}}:hooks")
    }

    /// The partition's buckets of pending invitations' expiries (a sorted set
    /// of whole seconds in ms; each bucket's users, index ids, are the list
    /// at this key, ':', the bucket), added by the save script with the code.
    pub fn hooks_expiry(partition: usize) -> String {
        format!("onb:{{p{partition}}}:hooks-expiry")
    }

    /// The partition's buckets of scheduled reminders (a sorted set of whole
    /// seconds in ms; each bucket's reminders are the list at this key, ':',
    /// the bucket), added by the save script with the code. save.lua builds
    /// it from the partition's prefix.
    pub fn reminders(partition: usize) -> String {
        format!("{}reminders", Self::partition_prefix(partition))
    }

    /// Which node sends the partition's reminders (its name, with a TTL).
    pub fn reminders_lease(partition: usize) -> String {
        format!("onb:{{p{partition}}}:reminders-lease")
    }

    /// Which node fans the partition's webhook events out (its name, with a TTL).
    pub fn hooks_lease(partition: usize) -> String {
        format!("onb:{{p{partition}}}:hooks-lease")
    }

    /// An endpoint's deliveries: a hash of delivery id → encoded delivery.
    pub fn hook_deliveries(endpoint: &str) -> String {
        format!("onb:{{wh:{endpoint}}}:d")
    }

    /// An endpoint's pending deliveries: a sorted set of ids by the order they were added in.
    pub fn hook_pending(endpoint: &str) -> String {
        format!("onb:{{wh:{endpoint}}}:pending")
    }

    /// An endpoint's deliveries, whatever their state: a sorted set of ids by
    /// the order they were added in, trimmed to the newest few thousand.
    pub fn hook_recent(endpoint: &str) -> String {
        format!("onb:{{wh:{endpoint}}}:recent")
    }

    /// The counter that orders an endpoint's deliveries.
    pub fn hook_order(endpoint: &str) -> String {
        format!("onb:{{wh:{endpoint}}}:order")
    }

    /// Which node sends to the endpoint (its name, with a TTL).
    pub fn hook_lease(endpoint: &str) -> String {
        format!("onb:{{wh:{endpoint}}}:lease")
    }

    pub fn name(org: &OrgId, unique_name: &str) -> String {
        format!("onb:{{name:{org}:{unique_name}}}")
    }

    /// What every directory key starts with: the prefix the nodes track
    /// for their cache of credentials.
    pub const DIRECTORY_PREFIX: &'static str = "onb:{dir}:";
    /// Organizations: a hash of id → name. Like the accounts and tokens, one
    /// key under the directory's tag: small, read on every call, listed by admins.
    pub const ORGANIZATIONS: &'static str = "onb:{dir}:orgs";
    /// Service accounts: a hash of id → encoded account.
    pub const ACCOUNTS: &'static str = "onb:{dir}:accounts";
    /// Token records: a hash of digest (hex) → encoded record.
    pub const TOKENS: &'static str = "onb:{dir}:tokens";
    /// Token digest (hex) → account id: what lets one script read a token
    /// and its account (the record itself is opaque to Lua).
    pub const TOKEN_ACCOUNTS: &'static str = "onb:{dir}:token-accounts";

    /// An organization's branding (encoded), one key each: up to a 100 KiB
    /// logo apiece, so kept out of the directory's hashes (read whole by
    /// admins) and out of its prefix (whose changes drop every node's
    /// cached credentials). Read through the nodes' short-lived cache.
    pub fn branding(org: &OrgId) -> String {
        format!("onb:{{brand:{org}}}")
    }

    /// Webhook endpoints: a hash of id → encoded endpoint (with its signing
    /// secrets), under a tag of its own.
    pub const WEBHOOK_ENDPOINTS: &'static str = "onb:{hooks}:endpoints";

    /// An organization's completion URL, as plain UTF-8: beside its branding
    /// (and for the same reason out of the directory's prefix).
    pub fn completion_url(org: &OrgId) -> String {
        format!("onb:{{brand:{org}}}:completion")
    }

    /// Secrets all nodes share, under the meta tag.
    pub fn secret(name: &str) -> String {
        format!("onb:{{meta}}:secret:{name}")
    }

    /// A rate limiter key. Every one shares the `{rl}` tag because one
    /// acquire checks and charges several limits all or none in one script,
    /// and a script may only touch one slot; the cost is that all limiter
    /// traffic of a cluster goes to the node owning that slot. The quota's
    /// kind (and a window's period and index) is part of the key, so two
    /// quotas on one domain key never share or clash. Domain keys hold no
    /// personal data in clear (addresses are hashed before they get here).
    pub fn cooldown(key: &str) -> String {
        format!("onb:{{rl}}:c:{key}")
    }

    /// A window's counter: `period_ms` and the window's index since the epoch.
    pub fn window(key: &str, period_ms: i64, index: i64) -> String {
        format!("onb:{{rl}}:w:{period_ms}:{index}:{key}")
    }

    pub fn bucket(key: &str) -> String {
        format!("onb:{{rl}}:b:{key}")
    }

    /// An idempotency key (already scoped to its caller by the use case).
    /// Its scripts touch only this key, so it needs no tag and the keys
    /// spread over the cluster.
    pub fn idempotency(key: &str) -> String {
        format!("onb:idem:{key}")
    }

    pub const PARTITIONS: &'static str = "onb:{meta}:partitions";
    /// Which layout of the user keys this Redis holds (see `RedisStore::open`).
    pub const LAYOUT: &'static str = "onb:{meta}:layout";
    /// Which format of the stored values this Redis holds (see [`crate::format`]).
    pub const FORMAT: &'static str = "onb:{meta}:format";
    pub const FIRST_START: &'static str = "onb:{meta}:first-start";
    /// Consumer group of the outbox streams.
    pub const GROUP: &'static str = "dispatchers";
}

/// How many buckets the address index has per partition: at a million
/// users (one entry each, in 16 partitions) a bucket holds about 60, within Redis's `hash-max-listpack-entries` (128), so buckets stay
/// compact listpacks.
pub const EMAIL_BUCKETS: u32 = 1024;

/// The digest an address is indexed under in `org` (4 bytes of FNV-1a, the
/// field of its bucket), and its bucket: the digest's first two bytes, as
/// save.lua computes it. Four bytes keep the entry small; two addresses
/// sharing a digest share an entry, and the reader checks each user's
/// address anyway.
pub fn email_digest(org: &OrgId, lower_address: &str) -> ([u8; 4], u32) {
    let mut bytes = Vec::with_capacity(org.as_str().len() + 1 + lower_address.len());
    bytes.extend_from_slice(org.as_str().as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(lower_address.as_bytes());
    let full = fnv1a(&bytes).to_be_bytes();
    let digest = [full[0], full[1], full[2], full[3]];
    (digest, (u32::from(digest[0]) * 256 + u32::from(digest[1])) % EMAIL_BUCKETS)
}

/// The 64 digits of the index form of an id, in ASCII order (so that, at a
/// fixed width, the forms sort as the numbers do); no `,` (the address
/// index's separator) and no `!` (the mark of an id kept as it is).
const DIGITS: &[u8; 64] = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// Base-64 digits of a u64: 11.
const WIDTH: usize = 11;

/// A user id as the indexes hold it: an id made here (decimal, a u64) in
/// base 64 at a fixed width, 11 characters instead of 18 or 19 (a few bytes
/// per entry, a million entries), sorting as the numbers do; any other id
/// as it is, after `!` (ids are made here; one with a `,` would not do).
pub fn index_id(id: &UserId) -> String {
    let raw = id.as_str();
    match raw.parse::<u64>() {
        Ok(mut n) if n.to_string() == raw => {
            let mut digits = vec![DIGITS[0]; WIDTH];
            for d in digits.iter_mut().rev() {
                *d = DIGITS[(n % 64) as usize];
                n /= 64;
            }
            String::from_utf8(digits).expect("ASCII digits")
        }
        _ => format!("!{raw}"),
    }
}

/// The id of an index entry ([`index_id`]'s inverse).
pub fn from_index_id(entry: &str) -> Option<UserId> {
    if let Some(raw) = entry.strip_prefix('!') {
        return UserId::parse(raw).ok();
    }
    let mut n: u64 = 0;
    for b in entry.bytes() {
        let d = DIGITS.iter().position(|&x| x == b)? as u64;
        n = n.checked_mul(64)?.checked_add(d)?;
    }
    UserId::parse(&n.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_keys_share_its_partitions_tag() {
        let keys = Keys::new(16);
        let id = UserId::parse("384554905894531584").unwrap();
        let p = keys.partition_of(&id);
        assert!(p < 16);
        let tag = format!("{{p{p}}}");
        assert!(keys.user(&id).contains(&tag));
        assert!(keys.events(&id).contains(&tag));
        assert!(keys.pending(&id).contains(&tag));
        assert!(Keys::stream(p).contains(&tag));
        assert!(Keys::retry(p).contains(&tag));
        assert!(Keys::hooks(p).contains(&tag) && Keys::hooks_lease(p).contains(&tag));
    }

    #[test]
    fn limiter_keys_share_one_tag_and_name_their_quota() {
        let keys = [Keys::cooldown("a"), Keys::window("a", 60_000, 7), Keys::bucket("a")];
        assert!(keys.iter().all(|k| k.starts_with("onb:{rl}:")), "{keys:?}");
        assert_eq!(keys.iter().collect::<std::collections::HashSet<_>>().len(), 3);
        assert_ne!(Keys::window("a", 60_000, 7), Keys::window("a", 3_600_000, 7));
    }

    #[test]
    fn index_ids_round_trip_and_are_short() {
        for raw in ["384554905894531584", "0", "18446744073709551615", "200", "007", "not-a-number"] {
            let id = UserId::parse(raw).unwrap();
            let entry = index_id(&id);
            assert!(!entry.contains(','), "{entry}");
            assert_eq!(from_index_id(&entry), Some(id), "{raw} as {entry}");
        }
        assert_eq!(index_id(&UserId::parse("384554905894531584").unwrap()).len(), 11);
        assert!(index_id(&UserId::parse("007").unwrap()).starts_with('!'));
        let (a, b) = (UserId::parse("9").unwrap(), UserId::parse("64").unwrap());
        assert!(index_id(&a) < index_id(&b), "in the numbers' order");
    }

    #[test]
    fn partitions_spread_users() {
        let keys = Keys::new(16);
        let mut counts = [0usize; 16];
        for i in 0..16_000 {
            counts[keys.partition_of(&UserId::parse(&(384554905894531584u64 + i).to_string()).unwrap())] += 1;
        }
        assert!(counts.iter().all(|&c| (700..=1300).contains(&c)), "{counts:?}");
    }
}
