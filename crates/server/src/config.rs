//! Configuration: defaults that run out of the box, overridden by a TOML
//! file (`ONBOARD_CONFIG`), overridden by environment variables and flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use onboard_domain::ThrottleConfig;
use onboard_jwt::{JwksSource, JwtSettings};
use serde::Deserialize;

/// onboard: the user-initialization service, wire-compatible with ZITADEL's
/// Management API v1.
///
/// Every setting can be given as a flag, an environment variable or a key of
/// the TOML file named by --config / ONBOARD_CONFIG (flags and environment
/// win over the file).
#[derive(Debug, Default, Parser)]
#[command(name = "onboard", version)]
pub struct Cli {
    /// TOML file with settings (keys as the flags, with underscores).
    #[arg(long, env = "ONBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to serve HTTP on [default: 127.0.0.1:8080].
    #[arg(long, env = "ONBOARD_HTTP_ADDR")]
    pub http_addr: Option<String>,
    /// Folder for state kept on disk: mail/, admin.pat, code.secret [default: ./var].
    #[arg(long, env = "ONBOARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Origin of the links in emails [default: http://<http_addr>].
    #[arg(long, env = "ONBOARD_EXTERNAL_URL")]
    pub external_url: Option<String>,
    /// Log filter, e.g. "info" or "onboard=debug,info" [default: info].
    #[arg(long, env = "ONBOARD_LOG")]
    pub log: Option<String>,
    /// Characters per init code, 4 to 64 [default: 6].
    #[arg(long, env = "ONBOARD_CODE_LENGTH")]
    pub code_length: Option<String>,
    /// How long an init code is valid, e.g. "72h" or "30m" [default: 72h].
    #[arg(long, env = "ONBOARD_CODE_LIFETIME")]
    pub code_lifetime: Option<String>,
    /// Wrong attempts after which a code is dead until a resend [default: 5].
    #[arg(long, env = "ONBOARD_CODE_MAX_ATTEMPTS")]
    pub code_max_attempts: Option<String>,
    /// Shortest password accepted [default: 8].
    #[arg(long, env = "ONBOARD_PASSWORD_MIN_LENGTH")]
    pub password_min_length: Option<String>,
    /// Character classes a password must contain, comma-separated from upper, lower, digit, symbol; "none" for none [default: upper,lower,digit,symbol].
    #[arg(long, env = "ONBOARD_PASSWORD_CLASSES")]
    pub password_classes: Option<String>,
    /// Sender of emails, "Name <address>" or "address" [default: onboard <noreply@onboard.localhost>].
    #[arg(long, env = "ONBOARD_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// How long shutdown waits for requests in flight [default: 10s].
    #[arg(long, env = "ONBOARD_SHUTDOWN_TIMEOUT")]
    pub shutdown_timeout: Option<String>,
    /// Redis to keep state in: redis://[user:password@]host:port[/db] or rediss://… [default: embedded, in memory].
    #[arg(long, env = "ONBOARD_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Redis Cluster seed nodes, comma-separated host:port (instead of ONBOARD_REDIS_URL).
    #[arg(long, env = "ONBOARD_REDIS_CLUSTER_NODES")]
    pub redis_cluster_nodes: Option<String>,
    /// Longest a request waits for Redis before answering 503 [default: 2s].
    #[arg(long, env = "ONBOARD_REDIS_TIMEOUT")]
    pub redis_timeout: Option<String>,
    /// Outbox partitions in Redis, fixed at a store's first start [default: 16].
    #[arg(long, env = "ONBOARD_OUTBOX_PARTITIONS")]
    pub outbox_partitions: Option<String>,
    /// How long an email may stay with a silent node before another takes it over [default: 60s].
    #[arg(long, env = "ONBOARD_OUTBOX_RECLAIM_AFTER")]
    pub outbox_reclaim_after: Option<String>,
    /// This node's name among the dispatchers; unique per running node [default: host-pid-random].
    #[arg(long, env = "ONBOARD_NODE_NAME")]
    pub node_name: Option<String>,
    /// Serve Prometheus metrics at /metrics: true or false [default: true].
    #[arg(long, env = "ONBOARD_METRICS")]
    pub metrics: Option<String>,
    /// SendGrid API key: emails go through SendGrid instead of .eml files [default: unset].
    #[arg(long, env = "ONBOARD_SENDGRID_API_KEY", hide_env_values = true)]
    pub sendgrid_api_key: Option<String>,
    /// File holding the SendGrid API key (instead of ONBOARD_SENDGRID_API_KEY).
    #[arg(long, env = "ONBOARD_SENDGRID_API_KEY_FILE")]
    pub sendgrid_api_key_file: Option<PathBuf>,
    /// SendGrid's API origin, for proxies and tests [default: https://api.sendgrid.com].
    #[arg(long, env = "ONBOARD_SENDGRID_BASE_URL")]
    pub sendgrid_base_url: Option<String>,
    /// A SendGrid dynamic template (d-…) to use instead of onboard's templates.
    #[arg(long, env = "ONBOARD_SENDGRID_TEMPLATE_ID")]
    pub sendgrid_template_id: Option<String>,
    /// Recipients per SendGrid call, 1 (no batching) to 1000 [default: 1000].
    #[arg(long, env = "ONBOARD_SENDGRID_BATCH")]
    pub sendgrid_batch: Option<String>,
    /// Verification key of SendGrid's signed Event Webhook (base64 DER, as SendGrid shows it); enables POST /webhooks/sendgrid.
    #[arg(long, env = "ONBOARD_SENDGRID_WEBHOOK_PUBLIC_KEY")]
    pub sendgrid_webhook_public_key: Option<String>,
    /// Folder with templates init.<en|de>.<txt|html> that replace the built-in ones.
    #[arg(long, env = "ONBOARD_MAIL_TEMPLATES")]
    pub mail_templates: Option<PathBuf>,
    /// Attempts before a failing email is given up [default: 10].
    #[arg(long, env = "ONBOARD_DELIVERY_MAX_ATTEMPTS")]
    pub delivery_max_attempts: Option<String>,
    /// An email not sent this long after it became due is given up [default: 24h].
    #[arg(long, env = "ONBOARD_DELIVERY_MAX_AGE")]
    pub delivery_max_age: Option<String>,
    /// Wait before the first retry of a failed email, doubled for each further one [default: 2s].
    #[arg(long, env = "ONBOARD_DELIVERY_RETRY_BASE")]
    pub delivery_retry_base: Option<String>,
    /// Emails taken from the outbox per round and partition [default: 500].
    #[arg(long, env = "ONBOARD_DELIVERY_BATCH")]
    pub delivery_batch: Option<String>,
    /// Least time between two resends to one user; 0 turns it off [default: 60s].
    #[arg(long, env = "ONBOARD_RESEND_COOLDOWN")]
    pub resend_cooldown: Option<String>,
    /// Most resent initialization emails per address and UTC day; 0 turns it off [default: 10].
    #[arg(long, env = "ONBOARD_RECIPIENT_DAILY_CAP")]
    pub recipient_daily_cap: Option<String>,
    /// Management calls per second and caller; 0 turns it off [default: 100].
    #[arg(long, env = "ONBOARD_CALLER_RATE")]
    pub caller_rate: Option<String>,
    /// Management calls a caller may make at once, beyond its rate [default: 200].
    #[arg(long, env = "ONBOARD_CALLER_BURST")]
    pub caller_burst: Option<String>,
    /// Also accept JWT access tokens with this exact `iss` (turns JWTs on).
    #[arg(long, env = "ONBOARD_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// A value the JWT's `aud` must contain (ZITADEL: the project id).
    #[arg(long, env = "ONBOARD_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// The identity provider's keys: a JWKS URL (https://…/oauth/v2/keys) or file path.
    #[arg(long, env = "ONBOARD_JWT_JWKS")]
    pub jwt_jwks: Option<String>,
    /// Claim with the home organization's id [default: urn:zitadel:iam:user:resourceowner:id].
    #[arg(long, env = "ONBOARD_JWT_ORG_CLAIM")]
    pub jwt_org_claim: Option<String>,
    /// Claim with the roles per organization [default: urn:zitadel:iam:org:project:roles].
    #[arg(long, env = "ONBOARD_JWT_ROLES_CLAIM")]
    pub jwt_roles_claim: Option<String>,
    /// Instead of serving: `admin …` administers the configured store.
    #[command(subcommand)]
    pub command: Option<crate::admin_cli::Command>,
}

/// The same settings as read from the file. Numbers may be written as
/// numbers or strings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    http_addr: Option<String>,
    data_dir: Option<PathBuf>,
    external_url: Option<String>,
    log: Option<String>,
    code_length: Option<toml::Value>,
    code_lifetime: Option<String>,
    code_max_attempts: Option<toml::Value>,
    password_min_length: Option<toml::Value>,
    password_classes: Option<String>,
    mail_from: Option<String>,
    shutdown_timeout: Option<String>,
    redis_url: Option<String>,
    redis_cluster_nodes: Option<String>,
    redis_timeout: Option<String>,
    outbox_partitions: Option<toml::Value>,
    outbox_reclaim_after: Option<String>,
    node_name: Option<String>,
    metrics: Option<toml::Value>,
    sendgrid_api_key: Option<String>,
    sendgrid_api_key_file: Option<PathBuf>,
    sendgrid_base_url: Option<String>,
    sendgrid_template_id: Option<String>,
    sendgrid_batch: Option<toml::Value>,
    sendgrid_webhook_public_key: Option<String>,
    mail_templates: Option<PathBuf>,
    delivery_max_attempts: Option<toml::Value>,
    delivery_max_age: Option<String>,
    delivery_retry_base: Option<String>,
    delivery_batch: Option<toml::Value>,
    resend_cooldown: Option<String>,
    recipient_daily_cap: Option<toml::Value>,
    caller_rate: Option<toml::Value>,
    caller_burst: Option<toml::Value>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    jwt_jwks: Option<String>,
    jwt_org_claim: Option<String>,
    jwt_roles_claim: Option<String>,
}

/// A setting that could not be used; its text is the one line printed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordClasses {
    pub upper: bool,
    pub lower: bool,
    pub digit: bool,
    pub symbol: bool,
}

impl PasswordClasses {
    /// ZITADEL's default policy: one of each.
    pub const ALL: Self = Self { upper: true, lower: true, digit: true, symbol: true };
    pub const NONE: Self = Self { upper: false, lower: false, digit: false, symbol: false };
}

fn password_classes(raw: Option<String>) -> Result<PasswordClasses, ConfigError> {
    let Some(raw) = raw else { return Ok(PasswordClasses::ALL) };
    let mut classes = PasswordClasses::NONE;
    for word in raw.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word {
            "upper" => classes.upper = true,
            "lower" => classes.lower = true,
            "digit" => classes.digit = true,
            "symbol" => classes.symbol = true,
            "none" => {}
            other => {
                return Err(bad(
                    "password_classes",
                    &raw,
                    format!("unknown class {other:?}; use upper, lower, digit, symbol or none"),
                ));
            }
        }
    }
    Ok(classes)
}

/// A value that must not reach logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How emails leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// `.eml` files in the data folder's `mail/`.
    Files,
    SendGrid {
        api_key: Secret,
        base_url: String,
        template_id: Option<String>,
        batch: usize,
    },
}

fn transport(
    key: Option<String>,
    key_file: Option<PathBuf>,
    base_url: Option<String>,
    template_id: Option<String>,
    batch: Option<String>,
) -> Result<MailTransport, ConfigError> {
    let key = match (key.filter(|k| !k.trim().is_empty()), key_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError(
                "sendgrid_api_key (ONBOARD_SENDGRID_API_KEY) and sendgrid_api_key_file (ONBOARD_SENDGRID_API_KEY_FILE) are both set; choose one".into(),
            ));
        }
        (Some(key), None) => key.trim().to_owned(),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError(format!("sendgrid_api_key_file (ONBOARD_SENDGRID_API_KEY_FILE) {}: {e}", path.display()))
            })?;
            let key = text.trim().to_owned();
            if key.is_empty() {
                return Err(ConfigError(format!(
                    "sendgrid_api_key_file (ONBOARD_SENDGRID_API_KEY_FILE) {} is empty",
                    path.display()
                )));
            }
            key
        }
        (None, None) => return Ok(MailTransport::Files),
    };
    let base_url =
        base_url.unwrap_or_else(|| "https://api.sendgrid.com".into()).trim().trim_end_matches('/').to_owned();
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(bad("sendgrid_base_url", &base_url, "must be an http:// or https:// origin"));
    }
    let template_id = template_id.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if let Some(t) = &template_id {
        if !t.starts_with("d-") {
            return Err(bad("sendgrid_template_id", t, "dynamic templates start with d-"));
        }
    }
    let batch = number("sendgrid_batch", batch, 1000, 1..=1000)?;
    Ok(MailTransport::SendGrid { api_key: Secret(key), base_url, template_id, batch })
}

/// Where state is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// In process memory: lost on restart.
    Embedded,
    Redis(onboard_redis::RedisTarget),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub http_addr: SocketAddr,
    pub data_dir: PathBuf,
    /// None: `http://` and the address actually bound.
    pub external_url: Option<String>,
    pub log: String,
    pub code_length: usize,
    pub code_lifetime: std::time::Duration,
    pub code_max_attempts: u32,
    pub password_min_length: usize,
    /// Character classes a password needs (upper, lower, digit, symbol).
    pub password_classes: PasswordClasses,
    pub mail_from_name: String,
    pub mail_from_address: String,
    pub shutdown_timeout: std::time::Duration,
    pub store: Store,
    pub redis_timeout: std::time::Duration,
    pub outbox_partitions: usize,
    pub outbox_reclaim_after: std::time::Duration,
    pub node_name: String,
    /// Whether /metrics is served (and metrics recorded).
    pub metrics: bool,
    pub mail_transport: MailTransport,
    /// Verification key of SendGrid's Event Webhook; the webhook is off without it.
    pub sendgrid_webhook_key: Option<String>,
    pub mail_templates: Option<PathBuf>,
    pub delivery_max_attempts: u32,
    pub delivery_max_age: std::time::Duration,
    pub delivery_retry_base: std::time::Duration,
    pub delivery_batch: usize,
    /// Throttles on resend and on every caller.
    pub throttle: ThrottleConfig,
    /// JWT access tokens of an identity provider, accepted beside onboard's own tokens.
    pub jwt: Option<JwtSettings>,
}

impl Default for Config {
    fn default() -> Self {
        Self::resolve(Cli::default()).expect("the defaults are valid")
    }
}

fn value_text(v: toml::Value) -> String {
    match v {
        toml::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn bad(name: &str, value: &str, reason: impl std::fmt::Display) -> ConfigError {
    let env = format!("ONBOARD_{}", name.to_ascii_uppercase());
    ConfigError(format!("{name} ({env}) = {value:?}: {reason}"))
}

fn number<T>(name: &str, raw: Option<String>, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
    T::Err: std::fmt::Display,
{
    let Some(raw) = raw else { return Ok(default) };
    let n: T = raw.trim().parse().map_err(|e| bad(name, &raw, e))?;
    if !range.contains(&n) {
        return Err(bad(name, &raw, format!("must be between {} and {}", range.start(), range.end())));
    }
    Ok(n)
}

fn boolean(name: &str, raw: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match raw.as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(other) => Err(bad(name, other, "expected true or false")),
    }
}

/// A duration where 0 (or "off") turns the thing it limits off.
fn duration_or_off(name: &str, raw: Option<String>, default: &str) -> Result<std::time::Duration, ConfigError> {
    match raw.as_deref().map(str::trim) {
        Some("0" | "off") => Ok(std::time::Duration::ZERO),
        _ => duration(name, raw, default),
    }
}

fn duration(name: &str, raw: Option<String>, default: &str) -> Result<std::time::Duration, ConfigError> {
    let raw = raw.unwrap_or_else(|| default.to_owned());
    let d = humantime::parse_duration(raw.trim()).map_err(|e| bad(name, &raw, e))?;
    if d.is_zero() {
        return Err(bad(name, &raw, "must be longer than zero"));
    }
    Ok(d)
}

/// "Name <address>" or a bare address.
fn mailbox(raw: &str) -> Result<(String, String), ConfigError> {
    let raw = raw.trim();
    let (name, address) = match raw.rsplit_once('<') {
        Some((name, rest)) => (name.trim().trim_matches('"'), rest.strip_suffix('>').unwrap_or("")),
        None => ("onboard", raw),
    };
    if !address.contains('@') || address.contains(char::is_whitespace) {
        return Err(bad("mail_from", raw, "expected \"Name <address@example.com>\" or \"address@example.com\""));
    }
    Ok((name.to_owned(), address.to_owned()))
}

fn jwt(
    issuer: Option<String>,
    audience: Option<String>,
    jwks: Option<String>,
    org_claim: Option<String>,
    roles_claim: Option<String>,
) -> Result<Option<JwtSettings>, ConfigError> {
    let present = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let Some(issuer) = present(issuer) else {
        if audience.is_some() || jwks.is_some() {
            return Err(ConfigError("jwt_audience and jwt_jwks need jwt_issuer (ONBOARD_JWT_ISSUER)".into()));
        }
        return Ok(None);
    };
    let need =
        |name: &str| ConfigError(format!("jwt_issuer is set, so {name} (ONBOARD_{}) is needed", name.to_uppercase()));
    let audience = present(audience).ok_or_else(|| need("jwt_audience"))?;
    let jwks = present(jwks).ok_or_else(|| need("jwt_jwks"))?;
    let source = if jwks.starts_with("https://") || jwks.starts_with("http://") {
        JwksSource::Url(jwks)
    } else {
        JwksSource::File(PathBuf::from(jwks))
    };
    let mut settings = JwtSettings::new(issuer, audience, source);
    if let Some(claim) = present(org_claim) {
        settings.org_claim = claim;
    }
    if let Some(claim) = present(roles_claim) {
        settings.roles_claim = claim;
    }
    Ok(Some(settings))
}

fn store(url: Option<String>, cluster: Option<String>) -> Result<Store, ConfigError> {
    match (url.filter(|u| !u.trim().is_empty()), cluster.filter(|c| !c.trim().is_empty())) {
        (None, None) => Ok(Store::Embedded),
        (Some(_), Some(_)) => Err(ConfigError(
            "redis_url (ONBOARD_REDIS_URL) and redis_cluster_nodes (ONBOARD_REDIS_CLUSTER_NODES) are both set; choose one"
                .into(),
        )),
        (Some(url), None) => {
            let url = url.trim().to_owned();
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                // The value may hold a password: it is not repeated.
                return Err(ConfigError("redis_url (ONBOARD_REDIS_URL) must start with redis:// or rediss://".into()));
            }
            Ok(Store::Redis(onboard_redis::RedisTarget::Url(url)))
        }
        (None, Some(nodes)) => {
            let seeds: Vec<String> = nodes.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect();
            if seeds.iter().any(|s| !s.contains(':')) {
                return Err(bad("redis_cluster_nodes", &nodes, "expected comma-separated host:port seeds"));
            }
            Ok(Store::Redis(onboard_redis::RedisTarget::Cluster(seeds)))
        }
    }
}

/// Host name, process id and a random suffix: unique among running nodes.
fn default_node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let mut r = [0u8; 3];
    let _ = getrandom::getrandom(&mut r);
    let host = if host.is_empty() { "onboard".to_owned() } else { host };
    format!("{host}-{}-{:02x}{:02x}{:02x}", std::process::id(), r[0], r[1], r[2])
}

impl Config {
    /// Reads the file named by `cli.config` (if any) and resolves every setting.
    pub fn resolve(cli: Cli) -> Result<Self, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let http_raw = cli.http_addr.or(file.http_addr).unwrap_or_else(|| "127.0.0.1:8080".into());
        let http_addr: SocketAddr = http_raw.trim().parse().map_err(|e| bad("http_addr", &http_raw, e))?;
        let external_url = match cli.external_url.or(file.external_url) {
            None => None,
            Some(raw) => {
                let url = raw.trim().trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(['?', '#', ' ']) {
                    return Err(bad(
                        "external_url",
                        &raw,
                        "must be an http:// or https:// origin such as https://id.example.com",
                    ));
                }
                Some(url)
            }
        };
        let log = cli.log.or(file.log).unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log).map_err(|e| bad("log", &log, e))?;
        let (mail_from_name, mail_from_address) =
            mailbox(&cli.mail_from.or(file.mail_from).unwrap_or_else(|| "onboard <noreply@onboard.localhost>".into()))?;
        Ok(Self {
            http_addr,
            data_dir: cli.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("./var")),
            external_url,
            log,
            code_length: number("code_length", cli.code_length.or(file.code_length.map(value_text)), 6, 4..=64)?,
            code_lifetime: duration("code_lifetime", cli.code_lifetime.or(file.code_lifetime), "72h")?,
            code_max_attempts: number(
                "code_max_attempts",
                cli.code_max_attempts.or(file.code_max_attempts.map(value_text)),
                5,
                1..=100,
            )?,
            password_min_length: number(
                "password_min_length",
                cli.password_min_length.or(file.password_min_length.map(value_text)),
                8,
                1..=128,
            )?,
            password_classes: password_classes(cli.password_classes.or(file.password_classes))?,
            mail_from_name,
            mail_from_address,
            shutdown_timeout: duration("shutdown_timeout", cli.shutdown_timeout.or(file.shutdown_timeout), "10s")?,
            store: store(cli.redis_url.or(file.redis_url), cli.redis_cluster_nodes.or(file.redis_cluster_nodes))?,
            redis_timeout: duration("redis_timeout", cli.redis_timeout.or(file.redis_timeout), "2s")?,
            outbox_partitions: number(
                "outbox_partitions",
                cli.outbox_partitions.or(file.outbox_partitions.map(value_text)),
                16,
                1..=1024,
            )?,
            outbox_reclaim_after: duration(
                "outbox_reclaim_after",
                cli.outbox_reclaim_after.or(file.outbox_reclaim_after),
                "60s",
            )?,
            node_name: cli.node_name.or(file.node_name).unwrap_or_else(default_node_name),
            metrics: boolean("metrics", cli.metrics.or(file.metrics.map(value_text)), true)?,
            mail_transport: transport(
                cli.sendgrid_api_key.or(file.sendgrid_api_key),
                cli.sendgrid_api_key_file.or(file.sendgrid_api_key_file),
                cli.sendgrid_base_url.or(file.sendgrid_base_url),
                cli.sendgrid_template_id.or(file.sendgrid_template_id),
                cli.sendgrid_batch.or(file.sendgrid_batch.map(value_text)),
            )?,
            sendgrid_webhook_key: cli
                .sendgrid_webhook_public_key
                .or(file.sendgrid_webhook_public_key)
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty()),
            mail_templates: cli.mail_templates.or(file.mail_templates),
            delivery_max_attempts: number(
                "delivery_max_attempts",
                cli.delivery_max_attempts.or(file.delivery_max_attempts.map(value_text)),
                10,
                1..=1000,
            )?,
            delivery_max_age: duration("delivery_max_age", cli.delivery_max_age.or(file.delivery_max_age), "24h")?,
            delivery_retry_base: duration(
                "delivery_retry_base",
                cli.delivery_retry_base.or(file.delivery_retry_base),
                "2s",
            )?,
            delivery_batch: number(
                "delivery_batch",
                cli.delivery_batch.or(file.delivery_batch.map(value_text)),
                500,
                1..=10_000,
            )?,
            throttle: ThrottleConfig {
                resend_cooldown: duration_or_off(
                    "resend_cooldown",
                    cli.resend_cooldown.or(file.resend_cooldown),
                    "60s",
                )?,
                recipient_daily_cap: number(
                    "recipient_daily_cap",
                    cli.recipient_daily_cap.or(file.recipient_daily_cap.map(value_text)),
                    10,
                    0..=1_000_000,
                )?,
                caller_rate: number(
                    "caller_rate",
                    cli.caller_rate.or(file.caller_rate.map(value_text)),
                    100.0,
                    0.0..=1_000_000.0,
                )?,
                caller_burst: number(
                    "caller_burst",
                    cli.caller_burst.or(file.caller_burst.map(value_text)),
                    200,
                    1..=1_000_000,
                )?,
            },
            jwt: jwt(
                cli.jwt_issuer.or(file.jwt_issuer),
                cli.jwt_audience.or(file.jwt_audience),
                cli.jwt_jwks.or(file.jwt_jwks),
                cli.jwt_org_claim.or(file.jwt_org_claim),
                cli.jwt_roles_claim.or(file.jwt_roles_claim),
            )?,
        })
    }

    /// Settings for tests and embedding: defaults, a data folder, any free port.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        let mut config = Self { data_dir: data_dir.to_owned(), ..Self::default() };
        config.http_addr = "127.0.0.1:0".parse().expect("valid address");
        config
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| ConfigError(format!("config file {}: {}", path.display(), e.message())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
        let off = Cli {
            resend_cooldown: Some("0".into()),
            recipient_daily_cap: Some("0".into()),
            caller_rate: Some("0".into()),
            ..Cli::default()
        };
        let off = Config::resolve(off).unwrap().throttle;
        assert_eq!((off.resend_cooldown, off.recipient_daily_cap, off.caller_rate), (Duration::ZERO, 0, 0.0));
        assert!(Config::resolve(Cli { caller_rate: Some("-1".into()), ..Cli::default() }).is_err());
        assert!(Config::resolve(Cli { resend_cooldown: Some("soon".into()), ..Cli::default() }).is_err());
        assert_eq!(c.jwt, None);
        let jwt = Cli {
            jwt_issuer: Some("https://id.example.com".into()),
            jwt_audience: Some("123".into()),
            jwt_jwks: Some("https://id.example.com/oauth/v2/keys".into()),
            jwt_org_claim: Some("org".into()),
            ..Cli::default()
        };
        let jwt = Config::resolve(jwt).unwrap().jwt.unwrap();
        assert_eq!(jwt.jwks, JwksSource::Url("https://id.example.com/oauth/v2/keys".into()));
        assert_eq!((jwt.org_claim.as_str(), jwt.roles_claim.as_str()), ("org", onboard_jwt::ZITADEL_ROLES_CLAIM));
        let half = Cli { jwt_issuer: Some("https://id.example.com".into()), ..Cli::default() };
        assert!(Config::resolve(half).unwrap_err().0.contains("jwt_audience"));
        let orphan = Cli { jwt_jwks: Some("keys.json".into()), ..Cli::default() };
        assert!(Config::resolve(orphan).is_err());
        let c = Config::resolve(Cli { password_classes: Some("none".into()), ..Cli::default() }).unwrap();
        assert_eq!(c.password_classes, PasswordClasses::NONE);
        let c = Config::resolve(Cli { password_classes: Some("digit, upper".into()), ..Cli::default() }).unwrap();
        assert_eq!(c.password_classes, PasswordClasses { upper: true, digit: true, ..PasswordClasses::NONE });
        assert_eq!((c.redis_timeout.as_secs(), c.outbox_partitions), (2, 16));
        assert!(!c.node_name.is_empty());
    }

    #[test]
    fn sendgrid_is_chosen_by_a_key_which_never_shows() {
        assert_eq!(Config::default().mail_transport, MailTransport::Files);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "SG.from-file\n").unwrap();
        let c = Config::resolve(Cli { sendgrid_api_key_file: Some(file), ..Cli::default() }).unwrap();
        assert_eq!(
            c.mail_transport,
            MailTransport::SendGrid {
                api_key: Secret("SG.from-file".into()),
                base_url: "https://api.sendgrid.com".into(),
                template_id: None,
                batch: 1000
            }
        );
        assert!(!format!("{c:?}").contains("SG.from-file"));
        let both =
            Cli { sendgrid_api_key: Some("a".into()), sendgrid_api_key_file: Some("b".into()), ..Cli::default() };
        assert!(Config::resolve(both).unwrap_err().to_string().contains("choose one"));
    }

    #[test]
    fn redis_is_chosen_by_url_or_cluster_seeds() {
        let c =
            Config::resolve(Cli { redis_url: Some("redis://:pw@127.0.0.1:6380/1".into()), ..Cli::default() }).unwrap();
        assert_eq!(c.store, Store::Redis(onboard_redis::RedisTarget::Url("redis://:pw@127.0.0.1:6380/1".into())));
        let c =
            Config::resolve(Cli { redis_cluster_nodes: Some("10.0.0.1:7000, 10.0.0.2:7000".into()), ..Cli::default() })
                .unwrap();
        assert_eq!(
            c.store,
            Store::Redis(onboard_redis::RedisTarget::Cluster(vec!["10.0.0.1:7000".into(), "10.0.0.2:7000".into()]))
        );
    }

    #[test]
    fn file_values_apply_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("onboard.toml");
        std::fs::write(&path, "http_addr = \"127.0.0.1:9000\"\ncode_length = 8\ncode_lifetime = \"30m\"\nmail_from = \"IdP <id@example.com>\"\n").unwrap();
        let cli = Cli { config: Some(path), code_length: Some("10".into()), ..Cli::default() };
        let c = Config::resolve(cli).unwrap();
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:9000");
        assert_eq!(c.code_length, 10);
        assert_eq!(c.code_lifetime, std::time::Duration::from_secs(1800));
        assert_eq!((c.mail_from_name.as_str(), c.mail_from_address.as_str()), ("IdP", "id@example.com"));
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases = [
            (Cli { http_addr: Some("nowhere".into()), ..Cli::default() }, "http_addr (ONBOARD_HTTP_ADDR)"),
            (Cli { code_length: Some("2".into()), ..Cli::default() }, "code_length (ONBOARD_CODE_LENGTH)"),
            (Cli { code_lifetime: Some("soon".into()), ..Cli::default() }, "code_lifetime (ONBOARD_CODE_LIFETIME)"),
            (Cli { external_url: Some("ftp://x".into()), ..Cli::default() }, "external_url (ONBOARD_EXTERNAL_URL)"),
            (Cli { mail_from: Some("nobody".into()), ..Cli::default() }, "mail_from (ONBOARD_MAIL_FROM)"),
            (Cli { log: Some("[[".into()), ..Cli::default() }, "log (ONBOARD_LOG)"),
            (Cli { redis_url: Some("http://x".into()), ..Cli::default() }, "redis_url (ONBOARD_REDIS_URL)"),
            (
                Cli {
                    redis_url: Some("redis://a:1".into()),
                    redis_cluster_nodes: Some("b:2".into()),
                    ..Cli::default()
                },
                "choose one",
            ),
            (Cli { redis_cluster_nodes: Some("nohost".into()), ..Cli::default() }, "redis_cluster_nodes"),
            (Cli { outbox_partitions: Some("0".into()), ..Cli::default() }, "outbox_partitions"),
            (Cli { password_classes: Some("upper,emoji".into()), ..Cli::default() }, "password_classes"),
            (Cli { metrics: Some("maybe".into()), ..Cli::default() }, "metrics (ONBOARD_METRICS)"),
            (
                Cli { sendgrid_api_key: Some("k".into()), sendgrid_batch: Some("1001".into()), ..Cli::default() },
                "sendgrid_batch (ONBOARD_SENDGRID_BATCH)",
            ),
            (
                Cli { sendgrid_api_key: Some("k".into()), sendgrid_template_id: Some("t-1".into()), ..Cli::default() },
                "sendgrid_template_id",
            ),
            (
                Cli { sendgrid_api_key_file: Some("/nonexistent/key".into()), ..Cli::default() },
                "ONBOARD_SENDGRID_API_KEY_FILE",
            ),
            (Cli { delivery_max_age: Some("0s".into()), ..Cli::default() }, "delivery_max_age"),
        ];
        for (cli, name) in cases {
            let err = Config::resolve(cli).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("onboard.toml");
        std::fs::write(&path, "htp_addr = \"127.0.0.1:9000\"\n").unwrap();
        let err = Config::resolve(Cli { config: Some(path), ..Cli::default() }).unwrap_err().to_string();
        assert!(err.contains("htp_addr"), "{err}");
    }
}
