//! Configuration: every setting declared once ([`cli`]), grouped by the
//! part of onboard it configures, and resolved into a [`Config`]. A setting
//! comes from, in rising rank: its declared default, the TOML file named by
//! `--config` / `ONBOARD_CONFIG`, its environment variable, its flag.

mod cli;
mod codes;
mod delivery;
mod duration;
mod error;
mod file;
mod jwt;
mod mail;
mod number;
#[cfg(test)]
mod readme;
mod redis;
mod sendgrid;
mod server;
mod smtp;
mod throttle;
mod webhooks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use onboard_domain::ThrottleConfig;
use onboard_jwt::JwtSettings;

pub use cli::{Cli, Settings};
pub use codes::PasswordClasses;
pub use error::ConfigError;
pub use redis::Store;
pub use sendgrid::{MailTransport, Secret};

/// The settings resolved into what the server is built from.
#[derive(Debug, Clone)]
pub struct Config {
    pub http_addr: SocketAddr,
    pub data_dir: PathBuf,
    /// None: `http://` and the address actually bound.
    pub external_url: Option<String>,
    /// Origins the v2 API's link templates may point at; None: any.
    pub invite_url_origins: Option<Vec<String>>,
    pub log: String,
    pub code_length: usize,
    pub code_lifetime: Duration,
    pub code_max_attempts: u32,
    pub password_min_length: usize,
    /// Character classes a password needs (upper, lower, digit, symbol).
    pub password_classes: PasswordClasses,
    pub mail_from_name: String,
    pub mail_from_address: String,
    pub shutdown_timeout: Duration,
    pub store: Store,
    pub redis_timeout: Duration,
    /// Replicas each state-changing write waits for.
    pub redis_min_replicas_ack: usize,
    /// Users cached per node for the writes that follow.
    pub redis_user_cache: usize,
    pub outbox_partitions: usize,
    pub outbox_reclaim_after: Duration,
    pub node_name: String,
    /// Whether /metrics is served (and metrics recorded).
    pub metrics: bool,
    pub mail_transport: MailTransport,
    /// Verification key of SendGrid's Event Webhook; the webhook is off without it.
    pub sendgrid_webhook_key: Option<String>,
    pub mail_templates: Option<PathBuf>,
    pub delivery_max_attempts: u32,
    pub delivery_max_age: Duration,
    pub delivery_retry_base: Duration,
    pub delivery_batch: usize,
    /// Throttles on resend and on every caller.
    pub throttle: ThrottleConfig,
    /// Whether the link's page offers "Send me a new link".
    pub self_service_renewal: bool,
    /// How long before a pending invitation's code expires each reminder goes out; empty: none.
    pub reminders: Vec<Duration>,
    /// How long completed and withdrawn invitations stay listed.
    pub invitation_retention: Duration,
    /// JWT access tokens of an identity provider, accepted beside onboard's own tokens.
    pub jwt: Option<JwtSettings>,
    /// Whether webhook endpoints may lead to loopback, link-local or private addresses.
    pub webhook_allow_private: bool,
    pub webhook_timeout: Duration,
    pub webhook_retry_base: Duration,
    pub webhook_retry_period: Duration,
    /// The time the server goes by: the system's, unless an embedder (a
    /// test moving time forward, say) gives its own. Not a setting.
    pub clock: ServerClock,
}

/// The clock a server reads the time from.
#[derive(Clone)]
pub struct ServerClock(pub std::sync::Arc<dyn onboard_domain::ports::Clock>);

impl Default for ServerClock {
    fn default() -> Self {
        Self(std::sync::Arc::new(onboard_domain::SystemClock))
    }
}

impl std::fmt::Debug for ServerClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerClock")
    }
}

/// The declared defaults.
impl Default for Config {
    fn default() -> Self {
        Self::resolve(Cli::default()).expect("the defaults are valid")
    }
}

impl Config {
    /// Adds what the file named by `cli.config` says (if any), below what
    /// `cli` was given, and resolves every setting.
    pub fn resolve(mut cli: Cli) -> Result<Self, ConfigError> {
        if let Some(path) = cli.config.clone() {
            file::overlay(&mut cli, &path)?;
        }
        Self::from_settings(&cli.settings)
    }

    fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let Settings { server, codes, mail, redis, sendgrid, smtp, delivery, throttle, jwt, webhooks } = settings;
        let mail_transport = match (sendgrid.transport()?, smtp.settings()?) {
            (MailTransport::Files, Some(relay)) => MailTransport::Smtp(relay),
            (transport, None) => transport,
            (_, Some(_)) => return Err(ConfigError::Conflict { one: "sendgrid_api_key", other: "smtp_url" }),
        };
        Ok(Self {
            http_addr: server.http_addr,
            data_dir: server.data_dir.clone(),
            external_url: server.external_url.clone().map(server::HttpUrl::into_string),
            invite_url_origins: server.invite_url_origins.clone().map(server::OriginList::into_vec),
            log: server.log.clone().into_string(),
            code_length: codes.code_length.usize(),
            code_lifetime: codes.code_lifetime.get(),
            code_max_attempts: codes.code_max_attempts.get(),
            password_min_length: codes.password_min_length.usize(),
            password_classes: codes.password_classes,
            mail_from_name: mail.mail_from.name.clone(),
            mail_from_address: mail.mail_from.address.clone(),
            shutdown_timeout: server.shutdown_timeout.get(),
            store: redis.store()?,
            redis_timeout: redis.redis_timeout.get(),
            redis_min_replicas_ack: redis.redis_min_replicas_ack.usize(),
            redis_user_cache: redis.redis_user_cache.usize(),
            outbox_partitions: redis.outbox_partitions.usize(),
            outbox_reclaim_after: redis.outbox_reclaim_after.get(),
            node_name: redis.node_name(),
            metrics: server.metrics,
            mail_transport,
            sendgrid_webhook_key: sendgrid.webhook_key(),
            mail_templates: mail.mail_templates.clone(),
            delivery_max_attempts: delivery.delivery_max_attempts.get(),
            delivery_max_age: delivery.delivery_max_age.get(),
            delivery_retry_base: delivery.delivery_retry_base.get(),
            delivery_batch: delivery.delivery_batch.usize(),
            throttle: throttle.config(),
            self_service_renewal: codes.self_service_renewal,
            reminders: reminders_within(&codes.reminders, codes.code_lifetime.get())?,
            invitation_retention: codes.invitation_retention.get(),
            jwt: jwt.settings()?,
            webhook_allow_private: webhooks.webhook_allow_private,
            webhook_timeout: webhooks.webhook_timeout.get(),
            webhook_retry_base: webhooks.webhook_retry_base.get(),
            webhook_retry_period: webhooks.webhook_retry_period.get(),
            clock: ServerClock::default(),
        })
    }

    /// Settings for tests and embedding: defaults, a data folder, any free port.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        let mut config = Self { data_dir: data_dir.to_owned(), ..Self::default() };
        config.http_addr = "127.0.0.1:0".parse().expect("valid address");
        config
    }
}

/// The reminders' offsets, each shorter than a code's lifetime: one at
/// least as long would be due before its code was made, and never sent.
fn reminders_within(reminders: &codes::Reminders, lifetime: Duration) -> Result<Vec<Duration>, ConfigError> {
    let offsets = reminders.get();
    match offsets.iter().find(|o| **o >= lifetime) {
        Some(_) => Err(ConfigError::Invalid {
            setting: "reminders".into(),
            env: error::env_of("reminders"),
            value: Some(reminders.to_string()),
            file: None,
            reason: format!(
                "each reminder must come before the code expires: shorter than ONBOARD_CODE_LIFETIME ({})",
                duration::Span::from(lifetime)
            ),
        }),
        None => Ok(offsets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// Resolves `args` given as flags, without the environment, reporting a
    /// refused value as `main` does.
    fn resolve(args: &[&str]) -> Result<Config, ConfigError> {
        let cli = Cli::parse_ignoring_env(std::iter::once("onboard").chain(args.iter().copied()))
            .map_err(|e| ConfigError::from_clap(&e).unwrap_or_else(|| panic!("not a refused value: {e}")))?;
        Config::resolve(cli)
    }

    fn file(text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("onboard.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path.to_str().unwrap().to_owned())
    }

    #[test]
    fn defaults_run_out_of_the_box() {
        let c = Config::default();
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.external_url, None);
        assert_eq!(c.data_dir, PathBuf::from("./var"));
        assert_eq!((c.code_length, c.code_max_attempts, c.password_min_length), (6, 5, 8));
        assert_eq!(c.code_lifetime, std::time::Duration::from_secs(72 * 3600));
        assert_eq!(c.mail_from_address, "noreply@onboard.localhost");
        assert_eq!(c.store, Store::Embedded);
        assert_eq!(c.password_classes, PasswordClasses::ALL);
        assert_eq!(c.throttle, ThrottleConfig::default());
        assert!(c.self_service_renewal);
        assert!(c.reminders.is_empty(), "reminders are off by default");
        let on = resolve(&["--reminders", "48h,24h"]).unwrap().reminders;
        assert_eq!(on, [Duration::from_secs(48 * 3600), Duration::from_secs(24 * 3600)]);
        let late = resolve(&["--reminders", "72h", "--code-lifetime", "72h"]).unwrap_err().to_string();
        assert!(
            late.contains("ONBOARD_REMINDERS") && late.contains("shorter than ONBOARD_CODE_LIFETIME (72h)"),
            "{late}"
        );
        let bad = resolve(&["--reminders", "48h,soon"]).unwrap_err().to_string();
        assert!(bad.contains("ONBOARD_REMINDERS") && bad.contains("\"soon\""), "{bad}");
        assert!(!resolve(&["--self-service-renewal", "false"]).unwrap().self_service_renewal);
        let off = resolve(&["--resend-cooldown", "0", "--recipient-daily-cap", "0", "--caller-rate", "0"]);
        let off = off.unwrap().throttle;
        assert_eq!((off.resend_cooldown, off.recipient_daily_cap, off.caller_rate), (Duration::ZERO, 0, 0.0));
        assert!(resolve(&["--caller-rate=-1"]).is_err());
        assert!(resolve(&["--resend-cooldown", "soon"]).is_err());
        assert_eq!(c.jwt, None);
        let jwt = resolve(&[
            "--jwt-issuer",
            "https://id.example.com",
            "--jwt-audience",
            "123",
            "--jwt-jwks",
            "https://id.example.com/oauth/v2/keys",
            "--jwt-org-claim",
            "org",
        ]);
        let jwt = jwt.unwrap().jwt.unwrap();
        assert_eq!(jwt.jwks, onboard_jwt::JwksSource::Url("https://id.example.com/oauth/v2/keys".into()));
        assert_eq!((jwt.org_claim.as_str(), jwt.roles_claim.as_str()), ("org", onboard_jwt::ZITADEL_ROLES_CLAIM));
        let half = resolve(&["--jwt-issuer", "https://id.example.com"]);
        assert!(half.unwrap_err().to_string().contains("jwt_audience"));
        let orphan = resolve(&["--jwt-jwks", "keys.json"]);
        assert!(orphan.is_err());
        let c = resolve(&["--password-classes", "none"]).unwrap();
        assert_eq!(c.password_classes, PasswordClasses::NONE);
        let c = resolve(&["--password-classes", "digit, upper"]).unwrap();
        assert_eq!(c.password_classes, PasswordClasses { upper: true, digit: true, ..PasswordClasses::NONE });
        assert_eq!((c.redis_timeout.as_secs(), c.outbox_partitions), (2, 16));
        assert!(!c.node_name.is_empty());
    }

    #[test]
    fn sendgrid_is_chosen_by_a_key_which_never_shows() {
        assert_eq!(Config::default().mail_transport, MailTransport::Files);
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "SG.from-file\n").unwrap();
        let c = resolve(&["--sendgrid-api-key-file", key.to_str().unwrap()]).unwrap();
        assert_eq!(
            c.mail_transport,
            MailTransport::SendGrid {
                api_key: Secret("SG.from-file".into()),
                base_url: "https://api.sendgrid.com".into(),
                template_id: None,
                batch: 1000,
                gather: std::time::Duration::from_millis(50),
            }
        );
        let off = resolve(&["--sendgrid-api-key", "k", "--sendgrid-gather", "0"]).unwrap();
        assert!(matches!(off.mail_transport, MailTransport::SendGrid { gather, .. } if gather.is_zero()));
        assert!(!format!("{c:?}").contains("SG.from-file"));
        let both = resolve(&["--sendgrid-api-key", "a", "--sendgrid-api-key-file", "b"]);
        assert!(both.unwrap_err().to_string().contains("choose one"));
        let cli = Cli::parse_ignoring_env(["onboard", "--sendgrid-api-key", "SG.flag"]).unwrap();
        assert!(!format!("{cli:?}").contains("SG.flag"));
    }

    #[test]
    fn redis_is_chosen_by_url_or_cluster_seeds() {
        let c = resolve(&["--redis-url", "redis://:pw@127.0.0.1:6380/1"]).unwrap();
        assert_eq!(c.store, Store::Redis(onboard_redis::RedisTarget::Url("redis://:pw@127.0.0.1:6380/1".into())));
        let c = resolve(&["--redis-cluster-nodes", "10.0.0.1:7000, 10.0.0.2:7000"]).unwrap();
        assert_eq!(
            c.store,
            Store::Redis(onboard_redis::RedisTarget::Cluster(vec!["10.0.0.1:7000".into(), "10.0.0.2:7000".into()]))
        );
    }

    #[test]
    fn file_values_apply_and_flags_win() {
        let (_dir, path) = file(
            "http_addr = \"127.0.0.1:9000\"\ncode_length = 8\ncode_lifetime = \"30m\"\nmail_from = \"IdP <id@example.com>\"\nreminders = \"10m, 5m\"\n",
        );
        let c = resolve(&["--config", &path, "--code-length", "10"]).unwrap();
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:9000");
        assert_eq!(c.code_length, 10);
        assert_eq!(c.code_lifetime, std::time::Duration::from_secs(1800));
        assert_eq!(c.reminders, [Duration::from_secs(600), Duration::from_secs(300)]);
        assert_eq!((c.mail_from_name.as_str(), c.mail_from_address.as_str()), ("IdP", "id@example.com"));
    }

    #[test]
    fn file_values_may_be_bare_or_strings_and_blank_is_unset() {
        let (_dir, path) = file(concat!(
            "code_length = \"8\"\ncaller_rate = 0.5\nresend_cooldown = 0\nmetrics = false\n",
            "outbox_partitions = 4\nredis_url = \"\"\ndelivery_max_age = \"2h\"\n",
        ));
        let c = resolve(&["--config", &path]).unwrap();
        assert_eq!((c.code_length, c.throttle.caller_rate, c.throttle.resend_cooldown), (8, 0.5, Duration::ZERO));
        assert_eq!((c.metrics, c.outbox_partitions, c.store), (false, 4, Store::Embedded));
        assert_eq!(c.delivery_max_age, Duration::from_secs(7200));
        // Given after `admin` as well as before it, and still above the file.
        let cli = Cli::parse_ignoring_env(["onboard", "admin", "--config", &path, "--metrics", "true", "org", "list"]);
        let c = Config::resolve(cli.unwrap()).unwrap();
        assert_eq!((c.metrics, c.code_length), (true, 8));
    }

    #[test]
    fn a_bad_file_value_names_the_setting_and_the_file() {
        for (text, name) in [
            ("code_length = 2\n", "code_length (ONBOARD_CODE_LENGTH) = \"2\" in "),
            ("metrics = \"maybe\"\n", "metrics (ONBOARD_METRICS) = \"maybe\" in "),
            ("reminders = \"24h,24h\"\n", "reminders (ONBOARD_REMINDERS) = \"24h,24h\" in "),
            ("redis_timeout = [1]\n", "redis_timeout: expected a string"),
            ("code_length = \n", "config file"),
        ] {
            let (_dir, path) = file(text);
            let err = resolve(&["--config", &path]).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(&path), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let (_dir, path) = file("redis_url = \"http://user:secret@x\"\n");
        let err = resolve(&["--config", &path]).unwrap_err().to_string();
        assert!(err.contains("redis_url (ONBOARD_REDIS_URL)") && !err.contains("secret"), "{err}");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases: [(&[&str], &str); 18] = [
            (&["--http-addr", "nowhere"], "http_addr (ONBOARD_HTTP_ADDR)"),
            (&["--code-length", "2"], "code_length (ONBOARD_CODE_LENGTH)"),
            (&["--code-lifetime", "soon"], "code_lifetime (ONBOARD_CODE_LIFETIME)"),
            (&["--external-url", "ftp://x"], "external_url (ONBOARD_EXTERNAL_URL)"),
            (&["--mail-from", "nobody"], "mail_from (ONBOARD_MAIL_FROM)"),
            (&["--log", "[["], "log (ONBOARD_LOG)"),
            (&["--redis-url", "http://x"], "redis_url (ONBOARD_REDIS_URL)"),
            (&["--redis-url", "redis://a:1", "--redis-cluster-nodes", "b:2"], "choose one"),
            (&["--redis-cluster-nodes", "nohost"], "redis_cluster_nodes"),
            (&["--outbox-partitions", "0"], "outbox_partitions"),
            (&["--password-classes", "upper,emoji"], "password_classes"),
            (&["--metrics", "maybe"], "metrics (ONBOARD_METRICS)"),
            (&["--sendgrid-api-key", "k", "--sendgrid-batch", "1001"], "sendgrid_batch (ONBOARD_SENDGRID_BATCH)"),
            (&["--sendgrid-api-key", "k", "--sendgrid-template-id", "t-1"], "sendgrid_template_id"),
            (&["--sendgrid-api-key", "k", "--sendgrid-gather", "2s"], "sendgrid_gather (ONBOARD_SENDGRID_GATHER)"),
            (&["--sendgrid-api-key", "k", "--sendgrid-gather", "soon"], "sendgrid_gather"),
            (&["--sendgrid-api-key-file", "/nonexistent/key"], "ONBOARD_SENDGRID_API_KEY_FILE"),
            (&["--delivery-max-age", "0s"], "delivery_max_age"),
        ];
        for (args, name) in cases {
            let err = resolve(args).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        for key in ["htp_addr", "config"] {
            let (_dir, path) = file(&format!("{key} = \"127.0.0.1:9000\"\n"));
            let err = resolve(&["--config", &path]).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn each_setting_is_one_name_as_flag_variable_and_file_key() {
        let command = Cli::command();
        let settings: Vec<_> = command.get_arguments().filter(|a| cli::is_setting(a)).collect();
        assert!(settings.len() > 30, "{}", settings.len());
        for arg in settings {
            let id = arg.get_id().as_str();
            assert_eq!(arg.get_long(), Some(id.replace('_', "-").as_str()));
            assert_eq!(arg.get_env().and_then(|e| e.to_str()), Some(error::env_of(id).as_str()));
            assert!(arg.is_global_set(), "{id} can be given after `admin`");
            assert!(arg.get_help().is_some(), "{id} says what it means");
        }
    }

    /// Variables are read when clap builds the command, so this test runs
    /// itself again in a process of its own with the environment it needs.
    #[test]
    fn the_environment_wins_over_the_file_and_flags_over_the_environment() {
        const CHILD: &str = "ONBOARD_TEST_CHILD";
        const NAME: &str = "config::tests::the_environment_wins_over_the_file_and_flags_over_the_environment";
        if std::env::var_os(CHILD).is_none() {
            let (_dir, path) =
                file("code_length = 8\ncode_max_attempts = 7\nlog = \"warn\"\nredis_url = \"redis://127.0.0.1:1\"\n");
            let mut child = std::process::Command::new(std::env::current_exe().unwrap());
            for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("ONBOARD_")) {
                child.env_remove(name);
            }
            let out = child
                .args(["--exact", NAME, "--nocapture"])
                .env(CHILD, "1")
                .env("ONBOARD_CONFIG", &path)
                .env("ONBOARD_CODE_LENGTH", "9")
                .env("ONBOARD_CODE_MAX_ATTEMPTS", "9")
                .env("ONBOARD_REDIS_URL", " ")
                .output()
                .unwrap();
            let report = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && report.contains("1 passed"), "{report}");
            return;
        }
        let c = Config::resolve(Cli::try_parse_from(["onboard", "--code-max-attempts", "3"]).unwrap()).unwrap();
        assert_eq!(c.log, "warn", "the file wins over the default");
        assert_eq!(c.code_length, 9, "the environment wins over the file");
        assert_eq!(c.code_max_attempts, 3, "the flag wins over the environment");
        assert_eq!(c.store, Store::Embedded, "a blank variable unsets, over the file");
        let cli = Cli::try_parse_from(["onboard", "admin", "--code-length", "10", "org", "list"]).unwrap();
        assert_eq!(Config::resolve(cli).unwrap().code_length, 10, "a flag after `admin` wins too");
        assert!(Cli::try_parse_from(["onboard", "--redis-url", ""]).is_err(), "a blank flag is still refused");
    }
}
