use clap::Parser;
use onboard_server::{Cli, Config, start, telemetry};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = match Config::resolve(Cli::parse()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("onboard: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    let running = match start(config).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("onboard: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    println!("onboard listening on http://{}", running.addr);
    println!("admin token (IAM_OWNER) written to {}", running.admin_pat_path.display());
    match running.run_until(shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onboard: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
