//! Real `redis-server` processes for tests, each on a free loopback port in a
//! folder of its own, stopped when dropped. A missing `redis-server` fails
//! the test with the way to install it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "redis-server was not found on PATH; install it (Debian/Ubuntu: `apt-get install -y redis-server`, macOS: `brew install redis`)";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Sends one inline command and returns the first reply line.
fn ask(port: u16, command: &str) -> Option<String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    conn.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut buf = [0u8; 4096];
    let n = conn.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Sends one inline command and returns its whole reply: a bulk string's
/// contents, or the line of any other reply.
pub fn command(port: u16, command: &str) -> Option<String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    conn.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
        let Some(line_end) = got.windows(2).position(|w| w == b"\r\n") else { continue };
        if got[0] != b'$' {
            return Some(String::from_utf8_lossy(&got[..line_end]).into_owned());
        }
        let len: usize = std::str::from_utf8(&got[1..line_end]).ok()?.parse().ok()?;
        let body = line_end + 2;
        if got.len() >= body + len {
            return Some(String::from_utf8_lossy(&got[body..body + len]).into_owned());
        }
    }
}

/// The `field:value` lines of an `INFO` reply.
pub fn info_fields(info: &str) -> impl Iterator<Item = (&str, &str)> {
    info.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.trim_end().split_once(':'))
}

/// One `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    pub port: u16,
    dir: tempfile::TempDir,
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Without persistence.
    pub fn start() -> Self {
        Self::with_args(&["--save", "", "--appendonly", "no"])
    }

    /// With an append-only file synced on every write, so a restart keeps
    /// every acknowledged write.
    pub fn start_persistent() -> Self {
        Self::with_args(&["--save", "", "--appendonly", "yes", "--appendfsync", "always"])
    }

    pub fn with_args(args: &[&str]) -> Self {
        let mut server = Self {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
        };
        server.launch();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `INFO <section>`, whole.
    pub fn info(&self, section: &str) -> String {
        command(self.port, &format!("INFO {section}")).unwrap_or_default()
    }

    /// A replica of `primary`, without persistence; returns once it has the
    /// primary's data (`master_link_status:up`).
    pub fn replica_of(primary: &RedisServer) -> Self {
        let replica = Self::with_args(&[
            "--save",
            "",
            "--appendonly",
            "no",
            "--replicaof",
            "127.0.0.1",
            &primary.port.to_string(),
        ]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !replica.info("replication").contains("master_link_status:up") {
            assert!(Instant::now() < deadline, "the replica on port {} did not sync", replica.port);
            std::thread::sleep(Duration::from_millis(50));
        }
        replica
    }

    fn launch(&mut self) {
        // A free port may be taken by another test before the server binds
        // it (a cluster node also needs port + 10000): such a server exits,
        // and a fresh port is tried.
        for _ in 0..5 {
            if self.try_launch() {
                return;
            }
            self.port = free_port();
        }
        panic!("redis-server did not start (last port {})", self.port);
    }

    fn try_launch(&mut self) -> bool {
        let child = Command::new("redis-server")
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
            Err(e) => panic!("could not start redis-server: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return false;
            }
            // Answered by this child, not by another test's server that got the port.
            let pid = format!("process_id:{}", child.id());
            if command(self.port, "INFO server").is_some_and(|info| info.lines().any(|l| l.trim() == pid)) {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not answer PING", self.port);
    }

    /// Kills the server (as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and folder.
    pub fn restart(&mut self) {
        self.kill();
        assert!(self.try_launch(), "redis-server could not start again on port {}", self.port);
    }

    /// `INFO memory`'s used_memory, in bytes.
    pub fn used_memory(&self) -> u64 {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        conn.write_all(b"INFO memory\r\n").expect("write");
        conn.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        let mut text = String::new();
        let mut buf = [0u8; 8192];
        while !text.contains("used_memory:") || !text.ends_with("\r\n") {
            let n = conn.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        text.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("used_memory in INFO")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A local Redis Cluster: masters, and as many replicas of each as asked.
#[derive(Debug)]
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

/// One node as `CLUSTER NODES` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    pub port: u16,
    pub primary: bool,
    /// Whether the others see it as failed.
    pub failed: bool,
    /// The slot ranges it serves (primaries only), inclusive.
    pub slots: Vec<(u16, u16)>,
}

impl RedisCluster {
    /// Masters without replicas, a node timeout of 2 s.
    pub fn start(masters: usize) -> Self {
        Self::start_with(masters, 0, 2000)
    }

    /// `masters` masters with `replicas` replicas each; `node_timeout_ms` is
    /// how long a silent primary goes before its replica takes over.
    pub fn start_with(masters: usize, replicas: usize, node_timeout_ms: u32) -> Self {
        let timeout = node_timeout_ms.to_string();
        let nodes: Vec<RedisServer> = (0..masters * (1 + replicas))
            .map(|_| {
                RedisServer::with_args(&[
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    &timeout,
                ])
            })
            .collect();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &nodes {
            create.arg(node.addr());
        }
        let out = create
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| panic!("redis-cli --cluster create: {e}; {INSTALL_HINT}"));
        assert!(out.status.success(), "cluster create failed: {}", String::from_utf8_lossy(&out.stdout));
        let cluster = Self { nodes };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let all_ok = cluster
                .nodes
                .iter()
                .all(|n| ask(n.port, "CLUSTER INFO").is_some_and(|i| i.contains("cluster_state:ok")));
            let replicas_synced = cluster.nodes.iter().all(|n| {
                let info = n.info("replication");
                info.contains("role:master") || info.contains("master_link_status:up")
            });
            if all_ok && replicas_synced && cluster.topology().iter().filter(|n| n.primary).count() == masters {
                return cluster;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the cluster did not become ready");
    }

    /// Seed nodes, as `host:port`.
    pub fn seeds(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::addr).collect()
    }

    /// The cluster as the first running node sees it.
    pub fn topology(&self) -> Vec<ClusterNode> {
        let text = self.nodes.iter().filter(|n| n.pid().is_some()).find_map(|n| command(n.port, "CLUSTER NODES"));
        text.unwrap_or_default().lines().filter_map(parse_cluster_node).collect()
    }

    /// The slot of `key` (hash tags included).
    pub fn slot_of(&self, key: &str) -> u16 {
        let node = self.nodes.iter().find(|n| n.pid().is_some()).expect("a running node");
        command(node.port, &format!("CLUSTER KEYSLOT {key}"))
            .and_then(|r| r.trim_start_matches(':').trim().parse().ok())
            .expect("CLUSTER KEYSLOT answers")
    }

    /// The index in [`Self::nodes`] of the primary serving `slot` now.
    pub fn primary_of(&self, slot: u16) -> Option<usize> {
        let node = self
            .topology()
            .into_iter()
            .find(|n| n.primary && !n.failed && n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot)))?;
        self.nodes.iter().position(|n| n.port == node.port)
    }

    /// Waits until every slot is served by a live primary again (after a
    /// primary died, its replica was promoted); returns when that was seen.
    pub fn wait_until_served(&self, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let live: Vec<&RedisServer> = self.nodes.iter().filter(|n| n.pid().is_some()).collect();
            let ok = live.iter().all(|n| ask(n.port, "CLUSTER INFO").is_some_and(|i| i.contains("cluster_state:ok")));
            let served: u32 = self
                .topology()
                .iter()
                .filter(|n| n.primary && !n.failed && live.iter().any(|l| l.port == n.port))
                .flat_map(|n| n.slots.iter().map(|&(a, b)| u32::from(b - a) + 1))
                .sum();
            if ok && served == 16384 {
                return Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

fn parse_cluster_node(line: &str) -> Option<ClusterNode> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let port = fields.get(1)?.split('@').next()?.rsplit(':').next()?.parse().ok()?;
    let flags = fields.get(2)?;
    let slots = fields
        .iter()
        .skip(8)
        .filter(|s| !s.starts_with('['))
        .filter_map(|s| match s.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => s.parse().ok().map(|a| (a, a)),
        })
        .collect();
    Some(ClusterNode {
        port,
        primary: flags.contains("master"),
        failed: flags.contains("fail") && !flags.contains("fail?"),
        slots,
    })
}

/// The key of `user`'s hash in a store of `partitions` outbox partitions.
pub fn user_key(partitions: usize, user: &onboard_domain::UserId) -> String {
    crate::keys::Keys::new(partitions).user(user)
}

/// Values as the store encodes them, for the samples that pin the stored
/// format (`tests/format/`, docs/redis.md).
pub mod format {
    pub use crate::format::FORMAT;
    pub use crate::stored::StoredNotification;

    /// The bytes the store keeps for `value`.
    pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
        crate::codec::encode(value)
    }

    /// The value the store reads from `bytes`.
    pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
        crate::codec::decode(bytes).map_err(|e| e.to_string())
    }

    /// A notification record's bytes (its kind after them for a reminder).
    pub fn encode_notification(record: &StoredNotification) -> Vec<u8> {
        record.encode()
    }

    pub fn decode_notification(bytes: &[u8]) -> Result<StoredNotification, String> {
        StoredNotification::decode(bytes).map_err(|e| e.to_string())
    }

    /// An outbox entry's bytes (its kind after them for a reminder).
    pub fn encode_entry(entry: &onboard_domain::OutboxEntry) -> Vec<u8> {
        crate::stored::encode_entry(entry)
    }

    pub fn decode_entry(bytes: &[u8]) -> Result<onboard_domain::OutboxEntry, String> {
        crate::stored::decode_entry(bytes).map_err(|e| e.to_string())
    }

    /// The log entry the store reads from `bytes`, in any format it reads.
    pub fn decode_event(bytes: &[u8]) -> Result<onboard_domain::RecordedEvent, String> {
        crate::stored::decode_event(bytes).map_err(|e| e.to_string())
    }
}

/// The users a memory probe writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeUsers {
    /// [`onboard_domain::testkit::new_user`]'s: short names and address, a
    /// fixed time; the email's record stays as queued.
    Testkit,
    /// Longer names and address (14-character user name, display name,
    /// 33-character address), the real time, and the email's record as the
    /// dispatcher leaves it once sent (one attempt, the provider's message id).
    Realistic,
}

/// Bytes of Redis memory per Initial user: a redis-server of its own, `n`
/// users written through the store as the use cases write them (created with
/// a pending email, then "code sent") by `writers` concurrent writers, every
/// email drained as after delivery, `INFO memory` before and after.
pub async fn bytes_per_initial_user(n: usize, writers: usize) -> Result<f64, String> {
    bytes_per_user(n, writers, ProbeUsers::Testkit).await
}

/// [`bytes_per_initial_user`] with the users of `users`.
pub async fn bytes_per_user(n: usize, writers: usize, users: ProbeUsers) -> Result<f64, String> {
    bytes_per_reminded_user(n, writers, users, onboard_domain::reminders::ReminderOffsets::OFF).await
}

/// [`bytes_per_user`] by a store that schedules reminders at `offsets`
/// (each user's stay scheduled: none is due yet).
pub async fn bytes_per_reminded_user(
    n: usize,
    writers: usize,
    users: ProbeUsers,
    offsets: onboard_domain::reminders::ReminderOffsets,
) -> Result<f64, String> {
    use crate::{RedisSettings, RedisStore, RedisTarget, connect};

    let server = RedisServer::start();
    let redis = connect(RedisSettings::new(RedisTarget::Url(server.url()))).await?;
    let store = std::sync::Arc::new(RedisStore::open(redis, "memory-probe").await?.with_reminders(offsets));
    let before = server.used_memory();
    write_initial_users(store, n, writers, users).await?;
    Ok(server.used_memory().saturating_sub(before) as f64 / n as f64)
}

/// A realistic Initial user `i` of `org` and the write that creates it, with its email due.
fn realistic_user(org: &onboard_domain::OrgId, i: usize) -> (onboard_domain::User, onboard_domain::ports::UserWrite) {
    use onboard_domain::ports::{OutboxEntry, UserWrite};
    use onboard_domain::{
        CodeHash, Email, EmailAddress, Gender, Language, NotificationId, PlainCode, Profile, User, UserEvent, UserId,
        UserName, UserState,
    };

    let now = time::OffsetDateTime::now_utc();
    let added = UserEvent::Added {
        user_name: UserName::parse(&format!("jane.doe.{i:05}")).expect("a user name"),
        profile: Profile {
            first_name: "Jane".into(),
            last_name: "Doe-Smith".into(),
            nick_name: String::new(),
            display_name: "Jane Doe-Smith".into(),
            preferred_language: Language::parse("de").ok(),
            gender: Gender::Female,
        },
        email: Email {
            address: EmailAddress::parse(&format!("jane.doe.{i:05}@example-company.com")).expect("an address"),
            verified: false,
        },
        phone: None,
        state: UserState::Initial,
        password_hash: None,
        password_change_required: false,
    };
    let (mut user, added) = User::create(UserId::generate(), org.clone(), added, now);
    let code = user
        .record(UserEvent::InitCodeAdded { hash: CodeHash([7; 32]), expires_at: now + time::Duration::hours(72) }, now);
    let entry = OutboxEntry {
        id: NotificationId::generate(),
        user_id: user.id.clone(),
        recipient: user.email.address.clone(),
        code: PlainCode::from_stored("K7QF2M9X".into()),
        code_generation: user.sequence,
        enqueued_at: now,
        attempts: 0,
        not_before: now,
        receipt: String::new(),
        kind: Default::default(),
    };
    let write = UserWrite { expected_sequence: 0, user: user.clone(), events: vec![added, code], outbox: Some(entry) };
    (user, write)
}

/// Writes `n` Initial users through `store` as the use cases write them
/// (created with a pending email, then "code sent"), by `writers` concurrent
/// writers, and drains every email as after delivery.
pub async fn write_initial_users(
    store: std::sync::Arc<crate::RedisStore>,
    n: usize,
    writers: usize,
    users: ProbeUsers,
) -> Result<(), String> {
    use onboard_domain::ports::{NotificationLog, Outbox, UserRepository, UserWrite};
    use onboard_domain::testkit::new_user;
    use onboard_domain::{DeliveryState, Notification, NotificationId, OrgId, UserEvent};

    let writers = writers.max(1);
    let org = OrgId::generate();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..writers {
        let (store, org) = (store.clone(), org.clone());
        tasks.spawn(async move {
            for i in (chunk..n).step_by(writers) {
                let (mut user, write) = match users {
                    ProbeUsers::Testkit => new_user(&org, &format!("user{i}")),
                    ProbeUsers::Realistic => realistic_user(&org, i),
                };
                let entry = write.outbox.clone().ok_or("the probe's users have their email due")?;
                store.save(write).await.map_err(|e| e.to_string())?;
                let expected = user.sequence;
                let (notification, at) = match users {
                    ProbeUsers::Testkit => (NotificationId::generate(), user.changed_at),
                    ProbeUsers::Realistic => (entry.id.clone(), time::OffsetDateTime::now_utc()),
                };
                let sent = user.record(UserEvent::InitCodeSent { notification, generation: 2 }, at);
                let write = UserWrite { expected_sequence: expected, user, events: vec![sent], outbox: None };
                store.save(write).await.map_err(|e| e.to_string())?;
                if users == ProbeUsers::Realistic {
                    let mut record = Notification::after_attempt(&entry, DeliveryState::Sent, at);
                    record.attempts = 1;
                    record.provider_message_id = Some("W86EgYT6SQKk0lRflfLRsA".into());
                    store.put(&record).await.map_err(|e| e.to_string())?;
                }
            }
            Ok::<_, String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let mut drained = 0;
    for p in 0..store.partitions() {
        loop {
            let due = store
                .claim_due(p, time::OffsetDateTime::now_utc(), 1000, time::Duration::seconds(60))
                .await
                .map_err(|e| e.to_string())?;
            if due.is_empty() {
                break;
            }
            for entry in &due {
                store.complete(entry).await.map_err(|e| e.to_string())?;
            }
            drained += due.len();
        }
    }
    if drained != n {
        return Err(format!("drained {drained} emails of {n}"));
    }
    // And every webhook event, as after fan-out: they wait only until then.
    use onboard_domain::ports::HookQueue;
    for p in 0..store.hook_partitions() {
        loop {
            let events =
                store.claim_hook_events(p, 1000, time::Duration::seconds(60)).await.map_err(|e| e.to_string())?;
            if events.is_empty() {
                break;
            }
            store.ack_hook_events(p, &events).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Loads `n` users into `org` for a listing benchmark, `batch` per call
/// (grouped by partition, one script per partition), by `writers`
/// concurrent writers: every other user Initial (with a code, no email
/// due), the others Active, created a millisecond apart from `start` so
/// creation order is load order. Names are not claimed (listings by state
/// do not read them). Returns the ids in creation order.
pub async fn load_listing_users(
    store: std::sync::Arc<crate::RedisStore>,
    org: &onboard_domain::OrgId,
    n: usize,
    batch: usize,
    writers: usize,
) -> Result<Vec<onboard_domain::UserId>, String> {
    use onboard_domain::ports::UserWrite;
    use onboard_domain::{CodeHash, Email, EmailAddress, Profile, User, UserEvent, UserId, UserName, UserState};

    let start = time::OffsetDateTime::now_utc() - time::Duration::milliseconds(n as i64);
    let ids: Vec<UserId> = (0..n).map(|_| UserId::generate()).collect();
    let ids = std::sync::Arc::new(ids);
    let mut tasks = tokio::task::JoinSet::new();
    let writers = writers.max(1);
    let chunks = n.div_ceil(batch.max(1));
    for w in 0..writers {
        let (store, org, ids) = (store.clone(), org.clone(), ids.clone());
        tasks.spawn(async move {
            for c in (w..chunks).step_by(writers) {
                let mut writes = Vec::with_capacity(batch);
                for i in c * batch..((c + 1) * batch).min(n) {
                    let at = start + time::Duration::milliseconds(i as i64);
                    let state = if i % 2 == 0 { UserState::Initial } else { UserState::Active };
                    let added = UserEvent::Added {
                        user_name: UserName::parse(&format!("bench.user.{i:07}")).map_err(|e| e.to_string())?,
                        profile: Profile {
                            first_name: "Bench".into(),
                            last_name: format!("User {i}"),
                            display_name: format!("Bench User {i}"),
                            ..Profile::default()
                        },
                        email: Email {
                            address: EmailAddress::parse(&format!("bench.user.{i:07}@example-company.com"))
                                .map_err(|e| e.to_string())?,
                            verified: state == UserState::Active,
                        },
                        phone: None,
                        state,
                        password_hash: None,
                        password_change_required: false,
                    };
                    let (mut user, added) = User::create(ids[i].clone(), org.clone(), added, at);
                    let mut events = vec![added];
                    if state == UserState::Initial {
                        let code = UserEvent::InitCodeAdded {
                            hash: CodeHash([7; 32]),
                            expires_at: at + time::Duration::hours(72),
                        };
                        events.push(user.record(code, at));
                    }
                    writes.push(UserWrite { expected_sequence: 0, user, events, outbox: None });
                }
                store.save_batch_unclaimed(&writes).await.map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(std::sync::Arc::try_unwrap(ids).unwrap_or_else(|ids| (*ids).clone()))
}

/// Bytes the user indexes take on the Redis at `port`: every index key's
/// `MEMORY USAGE` (exact), plus the index fields of the user hashes (`t`,
/// `m`) as measured on `sample` of them (removed from those users' hashes).
pub fn index_bytes(port: u16, users: &[onboard_domain::UserId], partitions: usize) -> Result<u64, String> {
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .and_then(|c| c.get_connection())
        .map_err(|e| e.to_string())?;
    let mut total = 0u64;
    for p in 0..partitions {
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("onb:{{p{p}}}:x*"))
                .arg("COUNT")
                .arg(10_000)
                .query(&mut conn)
                .map_err(|e| e.to_string())?;
            for key in keys {
                let bytes: Option<u64> = redis::cmd("MEMORY")
                    .arg("USAGE")
                    .arg(&key)
                    .arg("SAMPLES")
                    .arg(0)
                    .query(&mut conn)
                    .map_err(|e| e.to_string())?;
                total += bytes.unwrap_or(0);
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
    }
    let keys = crate::keys::Keys::new(partitions);
    let sample: Vec<&onboard_domain::UserId> = users.iter().step_by((users.len() / 1000).max(1)).collect();
    let mut fields = 0u64;
    for id in &sample {
        let key = keys.user(id);
        let with: u64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(&key)
            .arg("SAMPLES")
            .arg(0)
            .query(&mut conn)
            .map_err(|e| e.to_string())?;
        redis::cmd("HDEL").arg(&key).arg("t").arg("m").query::<()>(&mut conn).map_err(|e| e.to_string())?;
        let without: u64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(&key)
            .arg("SAMPLES")
            .arg(0)
            .query(&mut conn)
            .map_err(|e| e.to_string())?;
        fields += with.saturating_sub(without);
    }
    let per_user_fields = fields as f64 / sample.len().max(1) as f64;
    Ok(total + (per_user_fields * users.len() as f64) as u64)
}
