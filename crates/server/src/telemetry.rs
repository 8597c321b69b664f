//! Logging. Secrets (codes, tokens, passwords) are never passed to it: the
//! types that hold them print as `<redacted>`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `filter` was validated with the config.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests embedding the server) keeps the first subscriber.
    // Colours only for a terminal: escape codes in a log file or a collector
    // are noise, and styling every span's fields costs CPU on each request.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).try_init();
}
