//! The onboard server: configuration, telemetry and the wiring of adapters
//! to use cases. The only crate that knows every adapter.

pub mod admin_cli;
pub mod config;
mod reminder_loops;
mod rounds;
mod secrets;
pub mod telemetry;
mod webhook_loops;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use onboard_api::webhook::SendGridWebhook;
use onboard_domain::ports::{
    Directory, HookDeliveries, HookQueue, IdempotencyStore, InvitationIndex, Mailer, NotificationLog, Outbox,
    RateLimiter, ReminderQueue, UserIndex, UserRepository, WebhookEndpoints,
};
use onboard_domain::reminders::ReminderOffsets;
use onboard_domain::usecases::{
    Administration, DeliveryConfig, Dispatcher, ProviderEvents, ReminderConfig, ReminderSender, TokenAuthorizer,
    UserService, WebhookConfig, WebhookDispatcher,
};
use onboard_domain::{CodeIssuer, CodeSecret, InitCodeConfig, OrgId, PasswordPolicy};
use onboard_mail::Templates;
use onboard_memory::{
    EmlMailer, InMemoryDirectory, InMemoryHookDeliveries, InMemoryIdempotencyStore, InMemoryRateLimiter, InMemoryStore,
    InMemoryWebhookEndpoints,
};
use onboard_redis::{
    RedisDirectory, RedisHookDeliveries, RedisIdempotencyStore, RedisRateLimiter, RedisSettings, RedisStore,
    RedisWebhookEndpoints,
};
use onboard_sendgrid::{GatheringMailer, SendGridMailer, SendGridSettings};
use onboard_smtp::SmtpMailer;
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
    #[error("store: {0}")]
    Store(String),
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The organization made at the store's first start, when this was it.
    pub default_org: Option<OrgId>,
    /// Where the admin token was written, when this start made one.
    pub admin_pat_path: Option<PathBuf>,
    /// Administration of organizations and tokens in the configured store.
    pub admin: Administration,
    /// Where the development mailbox shows the emails, when they go to files.
    pub mailbox_url: Option<String>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    dispatchers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, stops the dispatchers.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.server.await.map_err(std::io::Error::other)?;
        for d in self.dispatchers {
            let _ = d.await;
        }
        served
    }

    /// Runs until `signal` completes, then stops.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        self.stop().await
    }
}

/// The ports, as the configuration chose them.
struct Stores {
    users: Arc<dyn UserRepository>,
    index: Option<Arc<dyn UserIndex>>,
    invitations: Option<Arc<dyn InvitationIndex>>,
    outbox: Arc<dyn Outbox>,
    notifications: Arc<dyn NotificationLog>,
    directory: Arc<dyn Directory>,
    limiter: Arc<dyn RateLimiter>,
    idempotency: Arc<dyn IdempotencyStore>,
    webhook_endpoints: Arc<dyn WebhookEndpoints>,
    hook_queue: Arc<dyn HookQueue>,
    hook_deliveries: Arc<dyn HookDeliveries>,
    reminders: Arc<dyn ReminderQueue>,
}

/// The reminders' offsets as the configuration gives them.
fn reminder_offsets(config: &Config) -> Result<ReminderOffsets, StartError> {
    let offsets =
        config.reminders.iter().map(|d| std_to_time(*d, "reminders")).collect::<Result<Vec<time::Duration>, _>>()?;
    ReminderOffsets::new(offsets).map_err(|e| StartError::Config(format!("reminders: {e}")))
}

async fn open_stores(config: &Config) -> Result<Stores, StartError> {
    let offsets = reminder_offsets(config)?;
    match &config.store {
        config::Store::Embedded => {
            let store =
                Arc::new(InMemoryStore::new().with_reminders(offsets).with_code_max_attempts(config.code_max_attempts));
            Ok(Stores {
                users: store.clone(),
                index: Some(store.clone()),
                invitations: Some(store.clone()),
                outbox: store.clone(),
                notifications: store.clone(),
                reminders: store.clone(),
                hook_queue: store,
                hook_deliveries: Arc::new(InMemoryHookDeliveries::new()),
                directory: Arc::new(InMemoryDirectory::new()),
                limiter: Arc::new(InMemoryRateLimiter::new()),
                idempotency: Arc::new(InMemoryIdempotencyStore::new()),
                webhook_endpoints: Arc::new(InMemoryWebhookEndpoints::new()),
            })
        }
        config::Store::Redis(target) => {
            let redis = onboard_redis::connect(redis_settings(config, target)).await.map_err(StartError::Store)?;
            let store = RedisStore::open(redis.clone(), &config.node_name).await.map_err(StartError::Store)?;
            let store = Arc::new(store.with_reminders(offsets));
            Ok(Stores {
                users: store.clone(),
                index: Some(store.clone()),
                invitations: Some(store.clone()),
                outbox: store.clone(),
                notifications: store.clone(),
                reminders: store.clone(),
                hook_queue: store,
                hook_deliveries: Arc::new(RedisHookDeliveries::new(redis.clone())),
                directory: Arc::new(RedisDirectory::new(redis.clone())),
                limiter: Arc::new(RedisRateLimiter::new(redis.clone())),
                idempotency: Arc::new(RedisIdempotencyStore::new(redis.clone())),
                webhook_endpoints: Arc::new(RedisWebhookEndpoints::new(redis)),
            })
        }
    }
}

/// The settings of a connection to the configured Redis.
fn redis_settings(config: &Config, target: &onboard_redis::RedisTarget) -> RedisSettings {
    let mut settings = RedisSettings::new(target.clone());
    settings.timeout = config.redis_timeout;
    settings.min_replicas_ack = config.redis_min_replicas_ack;
    settings.user_cache = config.redis_user_cache;
    settings.partitions = config.outbox_partitions;
    settings.reclaim_after = config.outbox_reclaim_after;
    settings.invitation_retention = config.invitation_retention;
    settings.code_max_attempts = config.code_max_attempts;
    settings
}

/// Administration of the configured store without serving it (`onboard
/// admin`). `None` for the embedded store: it lives only inside a running
/// server, so it is administered over that server's HTTP API.
pub async fn open_administration(config: &Config) -> Result<Option<Administration>, StartError> {
    match &config.store {
        config::Store::Embedded => Ok(None),
        // Only the directory: administering must not set up the outbox nor claim the first start.
        config::Store::Redis(target) => {
            let redis = onboard_redis::connect(redis_settings(config, target)).await.map_err(StartError::Store)?;
            let directory: Arc<dyn Directory> = Arc::new(RedisDirectory::uncached(redis.clone()));
            Ok(Some(
                Administration::new(directory, config.clock.0.clone())
                    .with_template_check(templates(config)?)
                    .with_webhooks(Arc::new(RedisWebhookEndpoints::new(redis.clone())))
                    .with_hook_deliveries(Arc::new(RedisHookDeliveries::new(redis))),
            ))
        }
    }
}

fn std_to_time(d: std::time::Duration, name: &str) -> Result<time::Duration, StartError> {
    time::Duration::try_from(d).map_err(|e| StartError::Config(format!("{name}: {e}")))
}

/// The email templates the configuration names: what the mailer renders
/// and what checks an organization's templates.
fn templates(config: &Config) -> Result<Arc<Templates>, StartError> {
    Ok(Arc::new(match &config.mail_templates {
        Some(dir) => Templates::with_overrides(dir).map_err(|e| StartError::Config(format!("mail_templates: {e}")))?,
        None => Templates::builtin(),
    }))
}

/// The mailer the configuration asks for, with `templates`.
fn mailer(config: &Config, templates: Arc<Templates>) -> Result<Arc<dyn Mailer>, StartError> {
    Ok(match &config.mail_transport {
        config::MailTransport::Files => Arc::new(EmlMailer::new(
            config.data_dir.join("mail"),
            &config.mail_from_name,
            &config.mail_from_address,
            templates,
        )),
        config::MailTransport::SendGrid { api_key, base_url, template_id, batch, gather } => {
            let mut settings = SendGridSettings::new(
                api_key.0.clone(),
                config.mail_from_address.clone(),
                config.mail_from_name.clone(),
            );
            settings.base_url = base_url.clone();
            settings.template_id = template_id.clone();
            settings.batch_limit = *batch;
            tracing::info!(%base_url, batch, gather_ms = gather.as_millis() as u64, "emails go through SendGrid");
            let sendgrid = SendGridMailer::new(settings, templates).map_err(StartError::Config)?;
            // The outbox's partitions deliver in loops of their own: gathered,
            // their batches share calls of up to `batch` recipients.
            Arc::new(GatheringMailer::new(sendgrid, *gather, *batch))
        }
        config::MailTransport::Smtp(settings) => {
            let mailer = SmtpMailer::new(settings, &config.mail_from_name, &config.mail_from_address, templates)
                .map_err(|e| StartError::Config(format!("smtp: {e}")))?;
            tracing::info!(relay = %settings.url.host, port = settings.url.port, "emails go through SMTP");
            Arc::new(mailer)
        }
    })
}

/// On a store nobody started before: the default organization and an
/// IAM_OWNER token, written to `admin.pat` (mode 0600).
async fn first_start(admin: &Administration, config: &Config) -> Result<Option<(OrgId, PathBuf)>, StartError> {
    let Some(first) = admin.first_start().await.map_err(|e| StartError::Store(e.to_string()))? else {
        tracing::info!("store already set up; use the admin token from its first start");
        return Ok(None);
    };
    let path = config.data_dir.join(ADMIN_PAT_FILE);
    secrets::write_private(&path, format!("{}\n", first.admin_token).as_bytes())
        .map_err(|source| StartError::DataDir { path: path.clone(), source })?;
    tracing::info!(path = %path.display(), org = %first.org, "created the default organization and an IAM_OWNER token");
    Ok(Some((first.org, path)))
}

/// Builds the adapters, binds the listener and starts serving and delivering.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let data_err = |path: PathBuf| move |source| StartError::DataDir { path, source };
    std::fs::create_dir_all(&config.data_dir).map_err(data_err(config.data_dir.clone()))?;
    let lifetime = time::Duration::try_from(config.code_lifetime)
        .map_err(|e| StartError::Config(format!("code_lifetime: {e}")))?;
    let classes = config.password_classes;
    let policy = PasswordPolicy {
        min_length: config.password_min_length,
        require_upper: classes.upper,
        require_lower: classes.lower,
        require_digit: classes.digit,
        require_symbol: classes.symbol,
    };

    // Bound before the first start's bootstrap, so a start that cannot
    // listen leaves the admin token of a running server in place.
    let acceptor = TcpListener::bind(config.http_addr)
        .into_acceptor()
        .await
        .map_err(|source| StartError::Listen { addr: config.http_addr, source })?;
    let addr = acceptor.local_addr().first().and_then(|a| a.as_socket_addr().copied()).unwrap_or(config.http_addr);

    let stores = open_stores(&config).await?;
    // Every node of a store must hash codes with one key: the first node's
    // key (from its data folder) is kept in the store for the others.
    let secret_path = config.data_dir.join("code.secret");
    let local_secret = secrets::load_or_create_code_secret(&secret_path).map_err(data_err(secret_path))?;
    let secret =
        stores.directory.shared_secret("code", &local_secret).await.map_err(|e| StartError::Store(e.to_string()))?;
    let secret = CodeSecret::new(secret).map_err(StartError::Config)?;
    let codes = CodeIssuer::new(
        secret,
        InitCodeConfig { length: config.code_length, lifetime, max_attempts: config.code_max_attempts },
    );
    let clock = config.clock.0.clone();
    let templates = templates(&config)?;
    let admin = Administration::new(stores.directory.clone(), clock.clone())
        .with_template_check(templates.clone())
        .with_webhooks(stores.webhook_endpoints.clone())
        .with_hook_deliveries(stores.hook_deliveries.clone());
    // One cache of branding per node, dropped by this node's administration.
    let brandings = admin.brandings();
    let (default_org, admin_pat_path) = first_start(&admin, &config).await?.unzip();
    let mailer = mailer(&config, templates)?;
    let mut authorizer = TokenAuthorizer::new(stores.directory.clone(), clock.clone());
    if let Some(settings) = &config.jwt {
        let verifier = onboard_jwt::JwtVerifier::new(settings.clone())
            .await
            .map_err(|e| StartError::Config(format!("jwt: {e}")))?;
        tracing::info!(issuer = %settings.issuer, jwks = %settings.jwks, "JWT access tokens accepted");
        authorizer = authorizer.with_verifier(Arc::new(verifier));
    }
    let authorizer = Arc::new(authorizer);
    // Reminders count against the recipients' daily caps, in the resends' limiter.
    let reminders = (!config.reminders.is_empty()).then(|| {
        ReminderSender::new(
            stores.users.clone(),
            stores.reminders.clone(),
            stores.notifications.clone(),
            clock.clone(),
            codes.clone(),
            ReminderConfig {
                // A dead node's partitions are taken over as its emails are.
                lease: time::Duration::try_from(config.outbox_reclaim_after).unwrap_or(time::Duration::seconds(30)),
                ..ReminderConfig::default()
            },
        )
        .with_throttling(stores.limiter.clone(), config.throttle)
    });
    let users =
        UserService::new(stores.users.clone(), stores.notifications.clone(), authorizer, clock.clone(), codes, policy)
            .with_throttling(stores.limiter.clone(), config.throttle)
            .with_idempotency(stores.idempotency.clone())
            .with_brandings(brandings.clone())
            .with_self_service_renewal(config.self_service_renewal);
    let users = match config.invite_url_origins.clone() {
        Some(origins) => users.with_invite_origins(origins),
        None => users,
    };
    let users = match &stores.index {
        Some(index) => users.with_index(index.clone()),
        None => users,
    };
    let retention = time::Duration::try_from(config.invitation_retention)
        .map_err(|e| StartError::Config(format!("invitation_retention: {e}")))?;
    let users = match &stores.invitations {
        Some(index) => users.with_invitations(index.clone(), retention),
        None => users,
    };
    let webhook = match &config.sendgrid_webhook_key {
        Some(key) => Some(
            SendGridWebhook::new(key, ProviderEvents::new(stores.notifications.clone()))
                .map_err(|e| StartError::Config(format!("sendgrid_webhook_public_key: {e}")))?,
        ),
        None => None,
    };

    let external_url = config.external_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let lease = time::Duration::try_from(config.outbox_reclaim_after)
        .map_err(|e| StartError::Config(format!("outbox_reclaim_after: {e}")))?;
    let hooks = webhook_dispatcher(&config, &stores, clock.clone())?;
    let dispatcher = Dispatcher::new(
        stores.users,
        stores.outbox,
        stores.notifications,
        mailer,
        clock,
        DeliveryConfig {
            external_url: external_url.clone(),
            lease,
            batch_size: config.delivery_batch,
            max_attempts: config.delivery_max_attempts,
            retry_base: std_to_time(config.delivery_retry_base, "delivery_retry_base")?,
            max_age: std_to_time(config.delivery_max_age, "delivery_max_age")?,
            ..DeliveryConfig::default()
        },
    )
    .with_brandings(brandings);
    let (shutdown, watcher) = watch::channel(false);

    // Prometheus metrics at /metrics. The outbox depth is read at scrape time,
    // on Redis over a connection of its own so scrapes never queue behind requests.
    if config.metrics {
        let outbox_stats: Option<Arc<dyn onboard_domain::ports::OutboxStats>> = match &config.store {
            // The embedded store is owned by the use cases by now; it reports no depth yet.
            config::Store::Embedded => None,
            config::Store::Redis(target) => {
                let redis = onboard_redis::connect(redis_settings(&config, target)).await.map_err(StartError::Store)?;
                Some(Arc::new(onboard_redis::RedisOutboxStats::new(redis)))
            }
        };
        onboard_api::metrics::install(outbox_stats).map_err(StartError::Config)?;
    }
    use poem::EndpointExt as _;
    let http = onboard_api::app_with(users.clone(), webhook, Some(admin.clone()));
    // The development mailbox, only where emails are files (it shows their codes).
    let (http, mailbox_url): (poem::endpoint::BoxEndpoint<'static, poem::Response>, _) = match &config.mail_transport {
        config::MailTransport::Files => (
            onboard_api::dev_mailbox::with_mailbox(config.data_dir.join("mail"), http).boxed(),
            Some(format!("{external_url}{}/", onboard_api::dev_mailbox::PATH)),
        ),
        _ => (http.map_to_response().boxed(), None),
    };
    // gRPC and gRPC-Web (by content type) in front of the HTTP/JSON application, on one listener.
    let app = onboard_grpc::with_grpc(users, http);
    let mut stop_serving = watcher.clone();
    let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
        app,
        async move {
            let _ = stop_serving.wait_for(|stop| *stop).await;
        },
        Some(config.shutdown_timeout),
    ));
    let mut dispatchers: Vec<JoinHandle<()>> = (0..dispatcher.partitions())
        .map(|partition| tokio::spawn(deliver(dispatcher.clone(), partition, watcher.clone())))
        .collect();
    dispatchers.extend(webhook_loops::spawn(hooks, watcher.clone()));
    if let Some(reminders) = reminders {
        tracing::info!(offsets = ?config.reminders, "reminders on");
        dispatchers.extend(reminder_loops::spawn(reminders, watcher.clone()));
    }
    tracing::info!(%addr, %external_url, data_dir = %config.data_dir.display(), "onboard serving");
    Ok(Running { addr, default_org, admin_pat_path, admin, mailbox_url, shutdown, server, dispatchers })
}

/// The webhook dispatcher over the configured stores and an HTTP sender.
fn webhook_dispatcher(
    config: &Config,
    stores: &Stores,
    clock: Arc<dyn onboard_domain::ports::Clock>,
) -> Result<WebhookDispatcher, StartError> {
    let sender = onboard_webhooks::WebhookSender::new(onboard_webhooks::SenderSettings {
        timeout: config.webhook_timeout,
        allow_private: config.webhook_allow_private,
    })
    .map_err(StartError::Config)?;
    let hook_config = WebhookConfig {
        retry_base: std_to_time(config.webhook_retry_base, "webhook_retry_base")?,
        retry_period: std_to_time(config.webhook_retry_period, "webhook_retry_period")?,
        // A dead node's endpoints and claimed events are taken over as its emails are.
        lease: std_to_time(config.outbox_reclaim_after, "outbox_reclaim_after")?,
        ..WebhookConfig::default()
    };
    Ok(WebhookDispatcher::new(
        stores.hook_queue.clone(),
        stores.hook_deliveries.clone(),
        stores.webhook_endpoints.clone(),
        stores.users.clone(),
        Arc::new(sender),
        clock,
        hook_config,
        &config.node_name,
    ))
}

/// The delivery loop of one outbox partition: a round whenever work may be
/// due, until shutdown. A failing store is logged when it starts and stops
/// failing, not on every round.
async fn deliver(dispatcher: Dispatcher, partition: usize, mut shutdown: watch::Receiver<bool>) {
    const POLL: std::time::Duration = std::time::Duration::from_secs(1);
    const GATHER: std::time::Duration = std::time::Duration::from_millis(25);
    // Deliveries by outcome (a no-op unless the metrics recorder is installed).
    fn record_deliveries(report: &onboard_domain::usecases::DeliveryReport) {
        let outcomes = [
            ("sent", report.sent),
            ("superseded", report.superseded),
            ("expired", report.expired),
            ("retrying", report.retrying),
            ("failed", report.failed),
        ];
        for (outcome, n) in outcomes.into_iter().filter(|(_, n)| *n > 0) {
            metrics::counter!("onboard_deliveries_total", "outcome" => outcome).increment(n as u64);
        }
    }
    let mut failing = false;
    let batch = dispatcher.batch_size();
    loop {
        let handled = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            round = dispatcher.deliver_due(partition) => match round {
                Ok(report) => {
                    record_deliveries(&report);
                    if failing {
                        tracing::info!(partition, "delivery resumed");
                        failing = false;
                    }
                    report.handled()
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(partition, error = %e, "delivery paused: store unavailable");
                        failing = true;
                    }
                    0
                }
            },
        };
        if handled == 0 {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = dispatcher.idle(partition, POLL) => {}
            }
        }
        if handled < batch {
            // Woken by one email, or done with a part of a batch: let more
            // gather, so a round (six store calls however many emails it
            // carries) is not spent on one. Emails wait that much longer.
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(GATHER) => {}
            }
        }
    }
}
