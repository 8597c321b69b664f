//! The onboard server: configuration, telemetry and the wiring of adapters
//! to use cases. The only crate that knows every adapter.

pub mod config;
mod secrets;
pub mod telemetry;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use onboard_domain::usecases::{DeliveryConfig, Dispatcher, UserService};
use onboard_domain::{
    CodeIssuer, CodeSecret, Grant, GrantScope, InitCodeConfig, OrgId, PasswordPolicy, Role, SystemClock,
};
use onboard_memory::{EmlMailer, InMemoryAuthorizer, InMemoryStore};
use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Cli, Config, ConfigError};

/// Name of the file the first start writes the admin token to.
pub const ADMIN_PAT_FILE: &str = "admin.pat";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("data folder {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The organization made at first start.
    pub default_org: OrgId,
    /// Where the admin token was written.
    pub admin_pat_path: PathBuf,
    /// The embedded authorizer, for setting up organizations and tokens.
    pub authorizer: Arc<InMemoryAuthorizer>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    dispatcher: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, stops the dispatcher.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.finish().await
    }

    /// Runs until `signal` completes, then stops.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        self.stop().await
    }

    async fn finish(self) -> std::io::Result<()> {
        let served = self.server.await.map_err(std::io::Error::other)?;
        let _ = self.dispatcher.await;
        served
    }
}

/// Makes the default organization and an IAM_OWNER token on a store that has
/// none, writing the token to `admin.pat` (mode 0600).
fn bootstrap(authorizer: &InMemoryAuthorizer, config: &Config) -> Result<(OrgId, PathBuf), StartError> {
    let org = authorizer.create_organization("Default");
    let token =
        authorizer.issue_token("admin", &org, vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }], None);
    let path = config.data_dir.join(ADMIN_PAT_FILE);
    secrets::write_private(&path, format!("{token}\n").as_bytes())
        .map_err(|source| StartError::DataDir { path: path.clone(), source })?;
    tracing::info!(path = %path.display(), org = %org, "created the default organization and an IAM_OWNER token");
    Ok((org, path))
}

/// Builds the adapters, binds the listener and starts serving and delivering.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let data_err = |path: PathBuf| move |source| StartError::DataDir { path, source };
    std::fs::create_dir_all(&config.data_dir).map_err(data_err(config.data_dir.clone()))?;
    let secret_path = config.data_dir.join("code.secret");
    let secret = secrets::load_or_create_code_secret(&secret_path).map_err(data_err(secret_path))?;
    let secret = CodeSecret::new(secret).map_err(StartError::Config)?;
    let lifetime = time::Duration::try_from(config.code_lifetime)
        .map_err(|e| StartError::Config(format!("code_lifetime: {e}")))?;
    let codes = CodeIssuer::new(
        secret,
        InitCodeConfig { length: config.code_length, lifetime, max_attempts: config.code_max_attempts },
    );
    let policy = PasswordPolicy { min_length: config.password_min_length, ..PasswordPolicy::default() };

    // Bound before the bootstrap, so a start that cannot listen leaves the
    // admin token of a running server in place.
    let acceptor = TcpListener::bind(config.http_addr)
        .into_acceptor()
        .await
        .map_err(|source| StartError::Listen { addr: config.http_addr, source })?;
    let addr = acceptor.local_addr().first().and_then(|a| a.as_socket_addr().copied()).unwrap_or(config.http_addr);
    let store = Arc::new(InMemoryStore::new());
    let authorizer = Arc::new(InMemoryAuthorizer::new(SystemClock));
    let (default_org, admin_pat_path) = bootstrap(&authorizer, &config)?;
    let mailer =
        Arc::new(EmlMailer::new(config.data_dir.join("mail"), &config.mail_from_name, &config.mail_from_address));
    let clock = Arc::new(SystemClock);

    let users = UserService::new(store.clone(), authorizer.clone(), clock.clone(), codes, policy);
    let external_url = config.external_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let dispatcher = Dispatcher::new(
        store.clone(),
        store,
        mailer,
        clock,
        DeliveryConfig { external_url: external_url.clone(), ..DeliveryConfig::default() },
    );
    let (shutdown, watcher) = watch::channel(false);

    let app = onboard_api::app(users);
    let mut stop_serving = watcher.clone();
    let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
        app,
        async move {
            let _ = stop_serving.wait_for(|stop| *stop).await;
        },
        Some(config.shutdown_timeout),
    ));
    let dispatcher = tokio::spawn(deliver(dispatcher, watcher));
    tracing::info!(%addr, %external_url, data_dir = %config.data_dir.display(), "onboard serving");
    Ok(Running { addr, default_org, admin_pat_path, authorizer, shutdown, server, dispatcher })
}

/// The delivery loop: a round whenever work may be due, until shutdown.
async fn deliver(dispatcher: Dispatcher, mut shutdown: watch::Receiver<bool>) {
    const POLL: std::time::Duration = std::time::Duration::from_secs(1);
    loop {
        let busy = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            round = dispatcher.deliver_due() => match round {
                Ok(report) => report.handled() > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed");
                    false
                }
            },
        };
        if !busy {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = dispatcher.idle(POLL) => {}
            }
        }
    }
}
