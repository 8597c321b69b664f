//! Prints Redis memory per Initial user (see
//! [`onboard_redis::testing::bytes_per_initial_user`]).
//!
//! `cargo run --release -p onboard-redis --features testing --example memory_per_user -- 100000`
//!
//! With `realistic` after the count, the users have longer names and
//! address and their email's record is the sent one the dispatcher leaves
//! ([`onboard_redis::testing::ProbeUsers::Realistic`]).

use onboard_redis::testing::{ProbeUsers, bytes_per_user};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let users = match std::env::args().nth(2).as_deref() {
        Some("realistic") => ProbeUsers::Realistic,
        _ => ProbeUsers::Testkit,
    };
    match bytes_per_user(n, 8, users).await {
        Ok(per_user) => {
            println!("users: {n} ({users:?})");
            println!("per Initial user (user, 3-event log, name claim, email record; email sent): {per_user:.0} bytes");
        }
        Err(e) => {
            eprintln!("memory_per_user: {e}");
            std::process::exit(1);
        }
    }
}
