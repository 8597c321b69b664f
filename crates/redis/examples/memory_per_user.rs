//! Prints Redis memory per Initial user (see
//! [`onboard_redis::testing::bytes_per_initial_user`]).
//!
//! `cargo run --release -p onboard-redis --features testing --example memory_per_user -- 100000`

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    match onboard_redis::testing::bytes_per_initial_user(n, 8).await {
        Ok(per_user) => {
            println!("users: {n}");
            println!("per Initial user (user, 3-event log, name claim, email record; email sent): {per_user:.0} bytes");
        }
        Err(e) => {
            eprintln!("memory_per_user: {e}");
            std::process::exit(1);
        }
    }
}
