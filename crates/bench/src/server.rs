//! The server under test, as a process of its own so that its CPU time and
//! peak memory are its own and not the load generator's.
//!
//! By default the bench starts itself with the hidden `serve` command, which
//! runs exactly what the `onboard` binary's main does (same library, same
//! release profile, same tokio runtime); `ONBOARD_BENCH_SERVER=<path>` runs
//! another binary instead (e.g. `target/release/onboard`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    pub token: String,
}

/// What runs the server: the store, whether metrics are on, and where
/// emails go (`.eml` files, or a SendGrid-compatible server).
#[derive(Debug, Clone)]
pub struct ServerSetup {
    pub redis: Option<RedisSetup>,
    pub metrics: bool,
    pub sendgrid: Option<SendGridSetup>,
}

/// The Redis the server keeps its state in.
#[derive(Debug, Clone)]
pub struct RedisSetup {
    pub target: onboard_redis::RedisTarget,
    /// Replicas every write waits for (`ONBOARD_REDIS_MIN_REPLICAS_ACK`); unset when 0, so
    /// servers that predate the setting run too.
    pub min_replicas_ack: usize,
}

#[derive(Debug, Clone)]
pub struct SendGridSetup {
    pub base_url: String,
    pub api_key: String,
    /// Recipients per call.
    pub batch: usize,
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl ServerProcess {
    pub async fn start(setup: &ServerSetup, data_dir: &Path) -> Result<Self, String> {
        let addr: SocketAddr =
            format!("127.0.0.1:{}", free_port().map_err(|e| e.to_string())?).parse().map_err(|e| format!("{e}"))?;
        let log = std::fs::File::create(data_dir.join("server.log")).map_err(|e| e.to_string())?;
        let mut cmd = match std::env::var_os("ONBOARD_BENCH_SERVER") {
            Some(path) => Command::new(path),
            None => {
                let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                cmd.arg("serve");
                cmd
            }
        };
        cmd.env("ONBOARD_HTTP_ADDR", addr.to_string())
            .env("ONBOARD_DATA_DIR", data_dir)
            .env("ONBOARD_METRICS", if setup.metrics { "true" } else { "false" })
            // The bench resends to the same users and calls with one token at
            // full speed: the throttles would refuse most of it.
            .env("ONBOARD_RESEND_COOLDOWN", "0")
            .env("ONBOARD_RECIPIENT_DAILY_CAP", "0")
            .env("ONBOARD_CALLER_RATE", "0")
            .env_remove("ONBOARD_CONFIG")
            .env_remove("ONBOARD_REDIS_CLUSTER_NODES")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        cmd.env_remove("ONBOARD_REDIS_URL").env_remove("ONBOARD_REDIS_MIN_REPLICAS_ACK");
        match setup.redis.as_ref().map(|r| (&r.target, r.min_replicas_ack)) {
            Some((onboard_redis::RedisTarget::Url(url), _)) => cmd.env("ONBOARD_REDIS_URL", url),
            Some((onboard_redis::RedisTarget::Cluster(seeds), _)) => {
                cmd.env("ONBOARD_REDIS_CLUSTER_NODES", seeds.join(","))
            }
            None => &mut cmd,
        };
        if let Some(ack) = setup.redis.as_ref().map(|r| r.min_replicas_ack).filter(|&n| n > 0) {
            cmd.env("ONBOARD_REDIS_MIN_REPLICAS_ACK", ack.to_string());
        }
        cmd.env_remove("ONBOARD_SENDGRID_API_KEY_FILE");
        match &setup.sendgrid {
            Some(sg) => cmd
                .env("ONBOARD_SENDGRID_API_KEY", &sg.api_key)
                .env("ONBOARD_SENDGRID_BASE_URL", &sg.base_url)
                .env("ONBOARD_SENDGRID_BATCH", sg.batch.to_string()),
            None => cmd.env_remove("ONBOARD_SENDGRID_API_KEY"),
        };
        let child = cmd.spawn().map_err(|e| format!("starting the server: {e}"))?;
        let mut server = Self { child, addr, token: String::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        let pat = data_dir.join("admin.pat");
        loop {
            if let Some(status) = server.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("the server exited ({status}); see {}", data_dir.join("server.log").display()));
            }
            let healthy = crate::load::once(addr, hyper::Method::GET, "/healthz", None, None).await;
            if let (Ok((200, _)), Ok(token)) = (healthy, std::fs::read_to_string(&pat)) {
                server.token = token.trim().to_owned();
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err("the server did not become healthy within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time (user + system) the server used so far.
    pub fn cpu_time(&self) -> Duration {
        proc_cpu_time(self.pid()).unwrap_or_default()
    }

    /// Peak resident memory (VmHWM) so far, in bytes.
    pub fn peak_rss(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:").unwrap_or(0) * 1024
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second of /proc/<pid>/stat; 100 on every Linux we run on,
/// asked of `getconf` to be sure (no libc call: the workspace forbids unsafe).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

fn proc_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at state (3).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some(Duration::from_secs_f64((utime + stime) as f64 / clock_ticks() as f64))
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The hidden `serve` command: what `onboard`'s main does, configured from
/// the environment the bench set.
pub fn serve() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        use clap::Parser;
        let config = match onboard_server::Config::resolve(onboard_server::Cli::parse_from(["onboard"])) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("onboard: {e}");
                return std::process::ExitCode::from(2);
            }
        };
        onboard_server::telemetry::init(&config.log);
        let running = match onboard_server::start(config).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("onboard: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        // The bench ends the process with SIGKILL; nothing to clean up here.
        let _ = running.run_until(std::future::pending::<()>()).await;
        std::process::ExitCode::SUCCESS
    })
}
