//! The figures of one bench run, as a table for people and JSON for machines.

use std::fmt::Write as _;

use serde::Serialize;

use crate::redis_cost::RedisCost;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
}

impl Machine {
    pub fn this_one() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { nproc, cpu_model, memory_gib: kib / 1024.0 / 1024.0 }
    }
}

/// One endpoint driven for the measured duration.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub ok: u64,
    pub errors: u64,
    /// Server CPU time (user + system) over the window, per answered request.
    pub server_cpu_us_per_request: f64,
    /// Server CPU use over the window, in cores.
    pub server_cores: f64,
}

/// Outbox to mailer.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Emails sent per second while the resend load ran (the mailer competing with requests).
    pub under_load_per_s: f64,
    /// Emails sent per second draining the backlog left when the load stopped (`None`: no backlog).
    pub drain_per_s: Option<f64>,
    pub backlog_at_load_end: u64,
    pub mailer: String,
}

/// One server configuration: store, metrics on or off.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub store: String,
    pub metrics: bool,
    pub users: usize,
    pub preload_per_s: f64,
    pub baseline: Load,
    pub resend: Load,
    /// resend rps / baseline rps.
    pub ratio: f64,
    pub server_peak_rss_mib: f64,
    pub delivery: Option<Delivery>,
    /// What the Redis servers spent on the resends (Redis scenarios only).
    pub redis: Option<RedisCost>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedisMemory {
    pub users: usize,
    pub bytes_per_user: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub connections: usize,
    pub warmup_s: f64,
    pub duration_s: f64,
    /// Where the servers' data folders were made.
    pub data_dir: String,
    pub scenarios: Vec<Scenario>,
    pub redis_memory: Vec<RedisMemory>,
    /// Resend rps with metrics off over with metrics on (embedded store), minus 1.
    pub metrics_cost: Option<f64>,
    /// Pending measurement: the batched SendGrid path (target ≥ 10,000 emails/s).
    pub sendgrid: String,
}

fn load_row(out: &mut String, name: &str, l: &Load) {
    let _ = writeln!(
        out,
        "  {name:<9} {:>9.0} rps  p50 {:>6.2} ms  p99 {:>6.2} ms  p99.9 {:>6.2} ms  cpu {:>6.1} µs/req ({:.2} cores)  errors {}",
        l.rps, l.p50_ms, l.p99_ms, l.p999_ms, l.server_cpu_us_per_request, l.server_cores, l.errors
    );
}

impl Report {
    pub fn text(&self) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "machine: {} cores, {}, {:.1} GiB", m.nproc, m.cpu_model, m.memory_gib);
        let _ = writeln!(
            out,
            "load: {} connections, {:.0} s warm-up, {:.0} s measured, HTTP/1.1 keep-alive on loopback; data in {}",
            self.connections, self.warmup_s, self.duration_s, self.data_dir
        );
        for s in &self.scenarios {
            let metrics = if s.metrics { "on" } else { "off" };
            let _ = writeln!(
                out,
                "\n{} store, metrics {metrics}, {} users (preload {:.0} users/s), peak RSS {:.0} MiB",
                s.store, s.users, s.preload_per_s, s.server_peak_rss_mib
            );
            load_row(&mut out, "/healthz", &s.baseline);
            load_row(&mut out, "resend", &s.resend);
            let _ = writeln!(out, "  ratio resend/baseline: {:.2}", s.ratio);
            if let Some(d) = &s.delivery {
                let drain = d.drain_per_s.map_or_else(|| "no backlog".into(), |r| format!("{r:.0}/s"));
                let _ = writeln!(
                    out,
                    "  emails ({}): {:.0}/s under load, drain {drain} (backlog {} at load end)",
                    d.mailer, d.under_load_per_s, d.backlog_at_load_end
                );
            }
            if let Some(r) = &s.redis {
                let _ = writeln!(
                    out,
                    "  redis-server ({} node{}): {:.1} µs CPU per resend in the window, {:.1} µs with its email \
                     delivered; {:.1} µs inside commands",
                    r.nodes,
                    if r.nodes == 1 { "" } else { "s" },
                    r.cpu_us_per_resend,
                    r.cpu_us_per_resend_drained,
                    r.command_us_per_resend
                );
                let top: Vec<String> = r
                    .commands
                    .iter()
                    .take(8)
                    .map(|c| format!("{} {:.2}× {:.1} µs", c.command, c.calls_per_resend, c.us_per_resend))
                    .collect();
                let _ = writeln!(out, "  per resend: {}", top.join(", "));
            }
        }
        for r in &self.redis_memory {
            let _ = writeln!(out, "\nredis memory at {} Initial users: {:.0} bytes/user", r.users, r.bytes_per_user);
        }
        if let Some(cost) = self.metrics_cost {
            let _ = writeln!(out, "metrics on vs off (resend rps, embedded): {:+.1} %", cost * 100.0);
        }
        let _ = writeln!(out, "sendgrid: {}", self.sendgrid);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rps: f64) -> Load {
        Load {
            rps,
            p50_ms: 0.5,
            p99_ms: 2.25,
            p999_ms: 4.0,
            ok: 10,
            errors: 0,
            server_cpu_us_per_request: 40.0,
            server_cores: 1.5,
        }
    }

    #[test]
    fn the_table_and_json_carry_the_figures() {
        let report = Report {
            machine: Machine { nproc: 2, cpu_model: "Test CPU".into(), memory_gib: 24.0 },
            connections: 64,
            warmup_s: 2.0,
            duration_s: 10.0,
            data_dir: "/dev/shm".into(),
            scenarios: vec![Scenario {
                store: "embedded".into(),
                metrics: true,
                users: 1000,
                preload_per_s: 5000.0,
                baseline: load(40_000.0),
                resend: load(20_000.0),
                ratio: 0.5,
                server_peak_rss_mib: 80.0,
                delivery: Some(Delivery {
                    under_load_per_s: 9000.0,
                    drain_per_s: None,
                    backlog_at_load_end: 0,
                    mailer: "eml".into(),
                }),
                redis: Some(RedisCost {
                    nodes: 3,
                    cpu_us_per_resend: 20.5,
                    cpu_us_per_resend_drained: 31.25,
                    command_us_per_resend: 12.0,
                    commands: vec![crate::redis_cost::CommandCost {
                        command: "evalsha".into(),
                        calls_per_resend: 1.5,
                        us_per_resend: 12.0,
                    }],
                }),
            }],
            redis_memory: vec![RedisMemory { users: 100_000, bytes_per_user: 950.4 }],
            metrics_cost: Some(-0.031),
            sendgrid: "pending".into(),
        };
        let text = report.text();
        assert!(text.contains("2 cores, Test CPU, 24.0 GiB"), "{text}");
        assert!(text.contains("  resend        20000 rps  p50   0.50 ms  p99   2.25 ms"), "{text}");
        assert!(text.contains("ratio resend/baseline: 0.50"), "{text}");
        assert!(text.contains("data in /dev/shm"), "{text}");
        assert!(text.contains("drain no backlog"), "{text}");
        assert!(text.contains("redis-server (3 nodes): 20.5 µs CPU per resend in the window, 31.2 µs"), "{text}");
        assert!(text.contains("per resend: evalsha 1.50× 12.0 µs"), "{text}");
        assert!(text.contains("100000 Initial users: 950 bytes/user"), "{text}");
        assert!(text.contains("-3.1 %"), "{text}");
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(json["scenarios"][0]["resend"]["rps"], 20_000.0);
        assert_eq!(json["redis_memory"][0]["users"], 100_000);
    }
}
