//! onboard's benchmark: resend load against a trivial endpoint of the same
//! server in the same run, the delivery path, Redis memory per user and the
//! cost of metrics. `cargo run --release -p onboard-bench -- --help`.
//! Needs nothing but this repository and `redis-server` on PATH; all traffic
//! stays on loopback and every phase is bounded in time.

mod listing;
mod load;
mod preload;
mod redis_cost;
mod report;
mod scrape;
mod server;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand, ValueEnum};
use onboard_redis::RedisTarget;
use onboard_redis::testing::{RedisCluster, RedisServer};

use crate::load::{Outcome, Shape, Target};
use crate::redis_cost::RedisNodes;
use crate::report::{Delivery, Load, Machine, RedisMemory, Report, Scenario};
use crate::server::{RedisSetup, SendGridSetup, ServerProcess, ServerSetup};

// jemalloc rather than glibc malloc: under load glibc's arena locks and
// consolidation took a fifth of the server's CPU (docs/performance.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks onboard: resend vs /healthz, delivery, Redis memory, metrics cost")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Initial users preloaded (over the API) before the load.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Keep-alive connections of the load generator.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of warm-up before each measured run.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Seconds measured per endpoint.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Stores to run on: `redis` is one redis-server, `redis-cluster` three
    /// masters, `redis-replicated` a primary and its replica with every
    /// write waiting for the replica (`ONBOARD_REDIS_MIN_REPLICAS_ACK=1`).
    #[arg(long, value_delimiter = ',', default_value = "embedded,redis,redis-cluster,redis-replicated")]
    stores: Vec<StoreKind>,
    /// Also run the embedded store with metrics off, to price them.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    metrics_comparison: bool,
    /// User counts at which to measure Redis memory per user (`--memory-users` alone: skip).
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "100000,1000000")]
    memory_users: Vec<usize>,
    /// Also measure delivery from the outbox to a SendGrid-compatible server
    /// on loopback (`sendgrid-fake`), batched and unbatched.
    #[arg(long, value_enum, default_value = "eml")]
    mailer: MailerKind,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Where the servers' data folders (with the `.eml` files) are made
    /// [default: the system's temporary directory]. On a disk that has seen
    /// many runs, creating the files can cost more than onboard itself;
    /// `/dev/shm` measures onboard (docs/performance.md).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server as `onboard` would, configured from the environment
    /// (the bench starts itself this way).
    #[command(hide = true)]
    Serve,
    /// Webhook events per second to a receiver on loopback, one endpoint,
    /// on the embedded store and on one redis-server.
    Webhooks {
        /// Events (one new user each).
        #[arg(long, default_value_t = 5000)]
        events: usize,
    },
    /// ListUsers on Redis at scale: pages of one state out of `--users`
    /// users of one organization (loaded with batched writes), and the
    /// indexes' memory.
    Listing {
        #[arg(long, default_value_t = 1_000_000)]
        users: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Embedded,
    Redis,
    RedisCluster,
    RedisReplicated,
}

/// The Redis servers a scenario runs on, stopped when dropped.
enum RedisRun {
    Standalone(RedisServer),
    Cluster(RedisCluster),
    /// The primary, then its replica.
    Replicated(RedisServer, RedisServer),
}

impl RedisRun {
    fn start(store: StoreKind) -> Option<Self> {
        match store {
            StoreKind::Embedded => None,
            StoreKind::Redis => Some(Self::Standalone(RedisServer::start())),
            StoreKind::RedisCluster => Some(Self::Cluster(RedisCluster::start(3))),
            StoreKind::RedisReplicated => {
                let primary = RedisServer::start();
                let replica = RedisServer::replica_of(&primary);
                Some(Self::Replicated(primary, replica))
            }
        }
    }

    fn setup(&self) -> RedisSetup {
        match self {
            Self::Standalone(s) => RedisSetup { target: RedisTarget::Url(s.url()), min_replicas_ack: 0 },
            Self::Cluster(c) => RedisSetup { target: RedisTarget::Cluster(c.seeds()), min_replicas_ack: 0 },
            Self::Replicated(p, _) => RedisSetup { target: RedisTarget::Url(p.url()), min_replicas_ack: 1 },
        }
    }

    fn nodes(&self) -> RedisNodes {
        let ports = match self {
            Self::Standalone(s) => vec![s.port],
            Self::Cluster(c) => c.nodes.iter().map(|n| n.port).collect(),
            Self::Replicated(p, r) => vec![p.port, r.port],
        };
        RedisNodes { ports }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MailerKind {
    Eml,
    SendgridFake,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Some(Command::Serve) = args.command {
        return server::serve();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    if let Some(Command::Webhooks { events }) = args.command {
        return match runtime.block_on(webhook_bench(events)) {
            Ok(text) => {
                print!("{text}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("onboard-bench: {e}");
                std::process::ExitCode::from(1)
            }
        };
    }
    if let Some(Command::Listing { users }) = args.command {
        return match runtime.block_on(listing::run(users)) {
            Ok(report) => {
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&report).expect("a serializable report"));
                } else {
                    print!("{}", report.text());
                }
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("onboard-bench listing: {e}");
                std::process::ExitCode::from(1)
            }
        };
    }
    match runtime.block_on(bench(&args)) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report).expect("a serializable report"));
            } else {
                print!("{}", report.text());
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("onboard-bench: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn webhook_bench(events: usize) -> Result<String, String> {
    use onboard_memory::{InMemoryDirectory, InMemoryHookDeliveries, InMemoryStore, InMemoryWebhookEndpoints};
    let store = Arc::new(InMemoryStore::new());
    let embedded = webhooks::events_per_second(
        webhooks::HookStores {
            users: store.clone(),
            queue: store,
            deliveries: Arc::new(InMemoryHookDeliveries::new()),
            endpoints: Arc::new(InMemoryWebhookEndpoints::new()),
            directory: Arc::new(InMemoryDirectory::new()),
        },
        events,
    )
    .await?;
    let server = RedisServer::start();
    let redis = onboard_redis::connect(onboard_redis::RedisSettings::new(RedisTarget::Url(server.url()))).await?;
    let store = Arc::new(onboard_redis::RedisStore::open(redis.clone(), "bench").await?);
    let on_redis = webhooks::events_per_second(
        webhooks::HookStores {
            users: store.clone(),
            queue: store,
            deliveries: Arc::new(onboard_redis::RedisHookDeliveries::new(redis.clone())),
            endpoints: Arc::new(onboard_redis::RedisWebhookEndpoints::new(redis.clone())),
            directory: Arc::new(onboard_redis::RedisDirectory::uncached(redis)),
        },
        events,
    )
    .await?;
    Ok(format!(
        "webhooks, {events} events to one endpoint on loopback: embedded {embedded:.0} events/s, redis {on_redis:.0} events/s\n"
    ))
}

async fn bench(args: &Args) -> Result<Report, String> {
    let mut scenarios = Vec::new();
    for store in &args.stores {
        scenarios.push(scenario(args, *store, true).await?);
        if *store == StoreKind::Embedded && args.metrics_comparison {
            scenarios.push(scenario(args, *store, false).await?);
        }
    }
    let on = scenarios.iter().find(|s| s.store == "embedded" && s.metrics);
    let off = scenarios.iter().find(|s| s.store == "embedded" && !s.metrics);
    let metrics_cost = on.zip(off).map(|(on, off)| (off.resend.rps - on.resend.rps) / off.resend.rps);
    let mut redis_memory = Vec::new();
    for &users in &args.memory_users {
        progress(&format!("redis memory: writing {users} users through the store"));
        let bytes_per_user = onboard_redis::testing::bytes_per_initial_user(users, 64).await?;
        redis_memory.push(RedisMemory { users, bytes_per_user });
    }
    Ok(Report {
        machine: Machine::this_one(),
        connections: args.connections,
        warmup_s: args.warmup as f64,
        duration_s: args.duration as f64,
        data_dir: args.data_root().display().to_string(),
        scenarios,
        redis_memory,
        metrics_cost,
        sendgrid: match args.mailer {
            MailerKind::SendgridFake => {
                let batched = sendgrid_delivery(args, 1000).await?;
                let unbatched = sendgrid_delivery(args, 1).await?;
                format!("outbox → SendGrid fake: batched {batched}; unbatched {unbatched}")
            }
            MailerKind::Eml => "not measured (run with --mailer sendgrid-fake)".into(),
        },
    })
}

/// Emails per second from the outbox to a SendGrid-compatible server on
/// loopback: the users are created over the API (each makes an email due)
/// and the time runs until the last email was accepted. When delivery keeps
/// up with the creation, the figure is the creation rate: a lower bound.
async fn sendgrid_delivery(args: &Args, batch: usize) -> Result<String, String> {
    let users = args.users.min(50_000);
    progress(&format!("outbox → SendGrid fake, {batch} per call: {users} users"));
    let fake = onboard_sendgrid::testing::FakeSendGrid::start("SG.bench").await;
    let data = data_dir(args)?;
    let setup = ServerSetup {
        redis: None,
        metrics: true,
        sendgrid: Some(SendGridSetup { base_url: fake.base_url.clone(), api_key: fake.api_key.clone(), batch }),
    };
    let server = ServerProcess::start(&setup, data.path()).await?;
    let mails = MailCount { addr: server.addr, data_dir: data.path().to_owned(), metrics: true };
    let started = Instant::now();
    let created = preload::users_over_http(server.addr, &server.token, users, args.connections).await?;
    let created_in = started.elapsed().as_secs_f64();
    let last = mails.settle(Duration::from_secs(300)).await;
    let sent = mails.sent().await;
    let secs = last.saturating_duration_since(started).as_secs_f64().max(created_in);
    Ok(format!(
        "{:.0} emails/s ({sent} of {} sent in {secs:.1} s; the users were created at {:.0}/s; {} calls)",
        sent as f64 / secs,
        created.len(),
        created.len() as f64 / created_in,
        fake.accepted_calls()
    ))
}

impl Args {
    /// Where the servers' data folders are made.
    fn data_root(&self) -> std::path::PathBuf {
        self.data_dir.clone().unwrap_or_else(std::env::temp_dir)
    }
}

/// A fresh data folder for one server, removed when dropped.
fn data_dir(args: &Args) -> Result<tempfile::TempDir, String> {
    let root = args.data_root();
    tempfile::tempdir_in(&root).map_err(|e| format!("data folder in {}: {e}", root.display()))
}

fn progress(what: &str) {
    eprintln!("onboard-bench: {what}");
}

async fn scenario(args: &Args, store: StoreKind, metrics: bool) -> Result<Scenario, String> {
    let name = match store {
        StoreKind::Embedded => "embedded",
        StoreKind::Redis => "redis",
        StoreKind::RedisCluster => "redis-cluster",
        StoreKind::RedisReplicated => "redis-replicated",
    };
    progress(&format!("{name} store, metrics {}: starting", if metrics { "on" } else { "off" }));
    let data = data_dir(args)?;
    // Dropped after the server (declared first), so the server never loses its Redis mid-run.
    let redis = RedisRun::start(store);
    let setup = ServerSetup { redis: redis.as_ref().map(RedisRun::setup), metrics, sendgrid: None };
    let nodes = redis.as_ref().map(RedisRun::nodes);
    let server = ServerProcess::start(&setup, data.path()).await?;
    let addr = server.addr;
    let mails = MailCount { addr, data_dir: data.path().to_owned(), metrics };

    progress(&format!("preloading {} users over the API", args.users));
    let started = Instant::now();
    let ids = preload::users_over_http(addr, &server.token, args.users, args.connections).await?;
    let preload_per_s = ids.len() as f64 / started.elapsed().as_secs_f64();
    // The preload's emails go out before anything is measured.
    mails.settle(Duration::from_secs(180)).await;

    let shape =
        Shape { connections: args.connections, warmup: Duration::ZERO, duration: Duration::from_secs(args.duration) };
    let warmup = Shape { duration: Duration::from_secs(args.warmup), ..shape };
    let counter = Arc::new(AtomicUsize::new(0));

    progress("baseline: GET /healthz");
    let healthz =
        Target { method: hyper::Method::GET, path: Arc::new(|_| "/healthz".into()), bearer: None, body: None };
    load::run(addr, healthz.clone(), warmup, counter.clone()).await;
    let baseline = measured(&server, addr, healthz, shape, counter.clone()).await;
    mails.settle(Duration::from_secs(30)).await;

    progress("resend: POST /management/v1/users/{id}/_resend_initialization");
    let ids = Arc::new(ids);
    let resend = Target {
        method: hyper::Method::POST,
        path: Arc::new(move |n| format!("/management/v1/users/{}/_resend_initialization", ids[n % ids.len()])),
        bearer: Some(server.token.clone()),
        body: Some(Bytes::from_static(b"{}")),
    };
    let warm = load::run(addr, resend.clone(), warmup, counter.clone()).await;
    let sent_before = mails.sent().await;
    let redis_start = nodes.as_ref().map(RedisNodes::counters);
    let started = Instant::now();
    let resend_load = measured(&server, addr, resend, shape, counter).await;
    let load_time = started.elapsed().as_secs_f64();
    let redis_end = nodes.as_ref().map(RedisNodes::counters);
    let delivery = if metrics {
        let (handled_end, sent_end) = (mails.handled().await, mails.sent().await);
        let due = args.users as u64 + warm.ok + resend_load.ok;
        let backlog = due.saturating_sub(handled_end);
        let load_end = Instant::now();
        let last_change = mails.settle(Duration::from_secs(120)).await;
        let drained = mails.sent().await - sent_end;
        let drain_time = last_change.saturating_duration_since(load_end).as_secs_f64();
        Some(Delivery {
            under_load_per_s: (sent_end - sent_before) as f64 / load_time,
            drain_per_s: (backlog > 100 && drain_time > 0.0).then(|| drained as f64 / drain_time),
            backlog_at_load_end: backlog,
            mailer: "eml (embedded, .eml files)".into(),
        })
    } else {
        mails.settle(Duration::from_secs(120)).await;
        None
    };
    let redis_cost = match (&nodes, redis_start, redis_end) {
        (Some(nodes), Some(start), Some(end)) => {
            Some(redis_cost::cost(nodes.ports.len(), &start, &end, &nodes.counters(), resend_load.ok))
        }
        _ => None,
    };
    let peak_rss = server.peak_rss();
    drop(server);
    drop(redis);
    Ok(Scenario {
        store: name.into(),
        metrics,
        users: args.users,
        preload_per_s,
        ratio: resend_load.rps / baseline.rps,
        baseline,
        resend: resend_load,
        server_peak_rss_mib: peak_rss as f64 / 1024.0 / 1024.0,
        delivery,
        redis: redis_cost,
    })
}

/// Runs `target` and reads the server's CPU time around it.
async fn measured(server: &ServerProcess, addr: SocketAddr, target: Target, shape: Shape, n: Arc<AtomicUsize>) -> Load {
    let cpu_before = server.cpu_time();
    let outcome = load::run(addr, target, shape, n).await;
    let cpu = server.cpu_time().saturating_sub(cpu_before).as_secs_f64();
    summarize(&outcome, cpu)
}

fn summarize(o: &Outcome, cpu_s: f64) -> Load {
    let ms = |q: f64| o.latency_us.value_at_quantile(q) as f64 / 1000.0;
    Load {
        rps: o.rps(),
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        ok: o.ok,
        errors: o.errors,
        server_cpu_us_per_request: cpu_s * 1e6 / o.ok.max(1) as f64,
        server_cores: cpu_s / o.elapsed.as_secs_f64().max(1e-9),
    }
}

/// Emails the server handled: from its deliveries counter with metrics on,
/// else from the embedded mailer's `.eml` files.
struct MailCount {
    addr: SocketAddr,
    data_dir: std::path::PathBuf,
    metrics: bool,
}

impl MailCount {
    async fn sent(&self) -> u64 {
        if self.metrics {
            scrape::metric_sum(self.addr, "onboard_deliveries_total", "outcome=\"sent\"").await.unwrap_or(0.0) as u64
        } else {
            scrape::eml_files(&self.data_dir)
        }
    }

    /// Sent, superseded, expired, retried or failed.
    async fn handled(&self) -> u64 {
        if self.metrics {
            scrape::metric_sum(self.addr, "onboard_deliveries_total", "").await.unwrap_or(0.0) as u64
        } else {
            scrape::eml_files(&self.data_dir)
        }
    }

    /// Waits until the count of handled emails stops moving for a second
    /// (or `limit` passed); returns when it last moved.
    async fn settle(&self, limit: Duration) -> Instant {
        let deadline = Instant::now() + limit;
        let (mut last, mut changed) = (self.handled().await, Instant::now());
        while Instant::now() < deadline && changed.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.handled().await;
            if now != last {
                (last, changed) = (now, Instant::now());
            }
        }
        changed
    }
}
