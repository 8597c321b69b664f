use clap::Parser;
use onboard_server::admin_cli::{self, Command};
use onboard_server::{Cli, Config, ConfigError, start, telemetry};

// jemalloc rather than glibc malloc: under load glibc's arena locks and
// consolidation took a fifth of the server's CPU (docs/performance.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A refused setting gets the same one line as any other bad setting;
        // usage errors, --help and --version are clap's to print.
        Err(e) => match ConfigError::from_clap(&e) {
            Some(bad) => {
                eprintln!("onboard: {bad}");
                return std::process::ExitCode::from(2);
            }
            None => e.exit(),
        },
    };
    let command = cli.command.take();
    let config = match Config::resolve(cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("onboard: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Without logging: its stdout is for the answer alone.
    if let Some(Command::Admin(args)) = command {
        return admin_cli::run(&config, args).await;
    }
    telemetry::init(&config.log);
    // Installed before the server announces itself, so a signal sent right
    // after start-up is never missed.
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            eprintln!("onboard: cannot handle SIGTERM: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let interrupt = tokio::signal::ctrl_c();
    let running = match start(config).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("onboard: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    println!("onboard listening on http://{}", running.addr);
    if let Some(path) = &running.admin_pat_path {
        println!("admin token (IAM_OWNER) written to {}", path.display());
    }
    if let Some(url) = &running.mailbox_url {
        println!("emails are written to files; read them at {url}");
    }
    match running.run_until(shutdown_signal(&mut term, interrupt)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onboard: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal(term: &mut tokio::signal::unix::Signal, interrupt: impl std::future::Future) {
    tokio::select! {
        _ = interrupt => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
