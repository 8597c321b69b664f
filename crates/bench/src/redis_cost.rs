//! What the Redis servers spent: their own CPU accounting (`INFO cpu`) and
//! their per-command figures (`INFO commandstats`), read before and after a
//! phase from every node the server uses.

use std::collections::BTreeMap;

use onboard_redis::testing::{command, info_fields};
use serde::Serialize;

/// The Redis servers of one scenario (one, a primary and its replica, or a
/// cluster's nodes), by port.
#[derive(Debug, Clone)]
pub struct RedisNodes {
    pub ports: Vec<u16>,
}

/// The servers' counters at one moment, summed over the nodes.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// `used_cpu_user + used_cpu_sys`, seconds.
    cpu_s: f64,
    /// Per command: calls and microseconds inside it.
    commands: BTreeMap<String, (u64, u64)>,
}

impl RedisNodes {
    pub fn counters(&self) -> Counters {
        let mut total = Counters::default();
        for &port in &self.ports {
            let cpu = command(port, "INFO cpu").unwrap_or_default();
            for (field, value) in info_fields(&cpu) {
                if field == "used_cpu_user" || field == "used_cpu_sys" {
                    total.cpu_s += value.parse::<f64>().unwrap_or(0.0);
                }
            }
            let stats = command(port, "INFO commandstats").unwrap_or_default();
            for (field, value) in info_fields(&stats) {
                let Some(name) = field.strip_prefix("cmdstat_") else { continue };
                let number = |key: &str| {
                    value.split(',').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse::<u64>().ok())
                };
                let entry = total.commands.entry(name.to_owned()).or_default();
                entry.0 += number("calls").unwrap_or(0);
                entry.1 += number("usec").unwrap_or(0);
            }
        }
        total
    }
}

/// One command's share of a resend.
#[derive(Debug, Clone, Serialize)]
pub struct CommandCost {
    pub command: String,
    pub calls_per_resend: f64,
    pub us_per_resend: f64,
}

/// What the Redis servers spent per resend.
#[derive(Debug, Clone, Serialize)]
pub struct RedisCost {
    pub nodes: usize,
    /// Server CPU (all nodes) over the measured window, per resend answered in it.
    pub cpu_us_per_resend: f64,
    /// The same from the window's start until the emails left behind were
    /// delivered: what a resend and its email cost together.
    pub cpu_us_per_resend_drained: f64,
    /// Time inside commands (commandstats, window and drain) per resend:
    /// scripts (`evalsha`) and the commands onboard sends itself.
    pub command_us_per_resend: f64,
    /// Every command seen, busiest first. Commands a script runs are counted
    /// here by themselves as well as in their script's time.
    pub commands: Vec<CommandCost>,
}

/// Commands onboard never sends itself, only its scripts do: left out of
/// [`RedisCost::command_us_per_resend`] so that nothing counts twice.
const ONLY_IN_SCRIPTS: &[&str] = &[
    "hget",
    "hset",
    "hsetnx",
    "hdel",
    "hmget",
    "hexists",
    "rpush",
    "lrange",
    "set",
    "get",
    "del",
    "zadd",
    "zrem",
    "zrangebyscore",
    "xadd",
    "xack",
    "xdel",
    "xrange",
    "xautoclaim",
    "pexpire",
    "exists",
];

/// The cost of `resends` from the counters at the window's start, its end,
/// and when the emails were drained.
pub fn cost(nodes: usize, start: &Counters, end: &Counters, drained: &Counters, resends: u64) -> RedisCost {
    let per = |x: f64| x / resends.max(1) as f64;
    let mut commands: Vec<CommandCost> = drained
        .commands
        .iter()
        .map(|(name, &(calls, usec))| {
            let (c0, u0) = start.commands.get(name).copied().unwrap_or_default();
            CommandCost {
                command: name.clone(),
                calls_per_resend: per(calls.saturating_sub(c0) as f64),
                us_per_resend: per(usec.saturating_sub(u0) as f64),
            }
        })
        .filter(|c| c.calls_per_resend > 0.0)
        .collect();
    commands.sort_by(|a, b| b.us_per_resend.total_cmp(&a.us_per_resend));
    // INFO itself is the bench's, not onboard's.
    commands.retain(|c| c.command != "info");
    let command_us_per_resend = commands
        .iter()
        .filter(|c| !ONLY_IN_SCRIPTS.contains(&c.command.as_str()) || c.command == "xreadgroup")
        .map(|c| c.us_per_resend)
        .sum();
    RedisCost {
        nodes,
        cpu_us_per_resend: per((end.cpu_s - start.cpu_s) * 1e6),
        cpu_us_per_resend_drained: per((drained.cpu_s - start.cpu_s) * 1e6),
        command_us_per_resend,
        commands,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_deltas_per_resend_without_info_or_double_counts() {
        let at = |cpu_s: f64, evalsha: (u64, u64), hset: (u64, u64), info: (u64, u64)| Counters {
            cpu_s,
            commands: [("evalsha".into(), evalsha), ("hset".into(), hset), ("info".into(), info)].into(),
        };
        let start = at(1.0, (10, 100), (5, 5), (1, 50));
        let end = at(1.5, (1010, 20_100), (1005, 1005), (2, 100));
        let drained = at(2.0, (2010, 30_100), (2005, 2005), (3, 150));
        let c = cost(1, &start, &end, &drained, 1000);
        assert_eq!(c.cpu_us_per_resend, 500.0);
        assert_eq!(c.cpu_us_per_resend_drained, 1000.0);
        assert_eq!(c.commands.iter().map(|c| c.command.as_str()).collect::<Vec<_>>(), ["evalsha", "hset"]);
        assert_eq!((c.commands[0].calls_per_resend, c.commands[0].us_per_resend), (2.0, 30.0));
        // hset runs inside the scripts: its time is the scripts' already.
        assert_eq!(c.command_us_per_resend, 30.0);
    }
}
