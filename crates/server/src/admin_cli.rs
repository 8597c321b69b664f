//! `onboard admin …`: administration of the configured store from the
//! command line, without serving. It reads the same settings as the server
//! (flags, environment, TOML) to find the store.
//!
//! Exit codes: 0 done; 1 refused by the store (unknown id, invalid input,
//! store unreachable); 2 a usage or configuration error, or the embedded
//! store (which exists only inside a running server).

mod output;

use std::process::ExitCode;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use onboard_domain::branding::{EmailPart, TemplatesDraft};
use onboard_domain::usecases::{AdminError, Administration};
use onboard_domain::{BrandingDraft, OrgId, Principal, Role};
use time::OffsetDateTime;

use crate::Config;
pub use output::Output;

/// What the binary does instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Administer organizations, service accounts, grants and personal access
    /// tokens in the configured store (Redis), without serving.
    Admin(AdminArgs),
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Print JSON (the HTTP API's shapes) instead of aligned text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Organizations.
    #[command(subcommand)]
    Org(OrgAction),
    /// Service accounts: machine callers of an organization.
    #[command(subcommand)]
    ServiceAccount(AccountAction),
    /// Grant a role to a service account: IAM_* roles instance-wide, ORG_* roles in --org.
    Grant(GrantArgs),
    /// Take a role from a service account (the same arguments as grant).
    RevokeGrant(GrantArgs),
    /// Personal access tokens of service accounts.
    #[command(subcommand)]
    Pat(PatAction),
    /// Organizations, service accounts with their grants, and tokens (never the tokens themselves).
    List,
    /// An organization's branding: the look, sender and words of its emails and init page.
    #[command(subcommand)]
    Branding(BrandingAction),
    /// Webhook endpoints: where an organization's invitation events are posted, signed.
    #[command(subcommand)]
    Webhook(WebhookAction),
}

#[derive(Debug, Subcommand)]
pub enum WebhookAction {
    /// Create an endpoint; prints its id and its signing secret (whsec_…), shown only now.
    Create {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        /// An absolute http or https URL without credentials.
        url: String,
        /// An event type to send, such as invitation.completed (repeatable) [default: every type].
        #[arg(long = "event")]
        events: Vec<String>,
    },
    /// List endpoints, by organization, oldest first (never their secrets).
    List {
        /// Only the endpoints of this organization.
        #[arg(long, value_parser = parse_org)]
        org: Option<OrgId>,
    },
    /// Show one endpoint.
    Show { id: String },
    /// Stop sending to an endpoint.
    Disable { id: String },
    /// Send to an endpoint again.
    Enable { id: String },
    /// Delete an endpoint and its secrets.
    Delete { id: String },
    /// An endpoint's deliveries, newest first: status, attempts, the last answer.
    Deliveries {
        id: String,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Send a delivered or dead-lettered delivery again.
    Retry { id: String, delivery: String },
    /// Queue a webhook.test event for an endpoint; prints its delivery.
    Test { id: String },
    /// Give an endpoint a new signing secret; prints its id and the new secret, shown only now.
    RotateSecret {
        id: String,
        /// How long the secrets in use keep signing beside the new one (at most 7d).
        #[arg(long, value_parser = parse_overlap, default_value = "24h")]
        overlap: time::Duration,
    },
}

fn parse_overlap(raw: &str) -> Result<time::Duration, String> {
    let span = humantime::parse_duration(raw.trim()).map_err(|_| "expected a duration such as 24h or 0s".to_owned())?;
    time::Duration::try_from(span).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum BrandingAction {
    /// Show the organization's branding.
    Show {
        #[arg(value_parser = parse_org)]
        org: OrgId,
    },
    /// Set everything of the organization's branding but its logo; what is
    /// left out goes back to onboard's default.
    Set(BrandingSetArgs),
    /// Set the organization's logo from a PNG, JPEG or SVG file of at most 100 KiB.
    Logo {
        #[arg(value_parser = parse_org)]
        org: OrgId,
        file: PathBuf,
    },
    /// Remove the organization's logo, keeping the rest of its branding.
    RemoveLogo {
        #[arg(value_parser = parse_org)]
        org: OrgId,
    },
    /// Remove the organization's branding altogether.
    Remove {
        #[arg(value_parser = parse_org)]
        org: OrgId,
    },
}

#[derive(Debug, Args)]
pub struct BrandingSetArgs {
    #[arg(value_parser = parse_org)]
    pub org: OrgId,
    /// Shown instead of the organization's name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// Buttons and links, #rrggbb; its contrast with --background must be at least 4.5:1.
    #[arg(long)]
    pub primary: Option<String>,
    /// The background of the page and the email, #rrggbb.
    #[arg(long)]
    pub background: Option<String>,
    /// The From name of its emails.
    #[arg(long)]
    pub sender_name: Option<String>,
    /// The From address of its emails.
    #[arg(long)]
    pub sender_address: Option<String>,
    #[arg(long)]
    pub reply_to: Option<String>,
    /// For users without a preferred language onboard speaks: en or de.
    #[arg(long)]
    pub language: Option<String>,
    /// An email template from a file, as LANG:PART=FILE with PART subject, text or html (repeatable).
    #[arg(long = "template", value_parser = parse_template)]
    pub templates: Vec<(String, EmailPart, PathBuf)>,
    /// A page text, as LANG:NAME=TEXT with NAME one of setupTitle, introNewPassword,
    /// introHasPassword, help, doneTitle, doneText, doneNext (repeatable).
    #[arg(long = "page-text", value_parser = parse_page_text)]
    pub page_texts: Vec<(String, String, String)>,
}

fn parse_template(raw: &str) -> Result<(String, EmailPart, PathBuf), String> {
    let usage = || "expected LANG:PART=FILE, such as en:html=welcome.html".to_owned();
    let (key, file) = raw.split_once('=').ok_or_else(usage)?;
    let (lang, part) = key.split_once(':').ok_or_else(usage)?;
    let part = EmailPart::ALL.into_iter().find(|p| p.as_str() == part.trim()).ok_or_else(usage)?;
    Ok((lang.trim().to_owned(), part, PathBuf::from(file)))
}

fn parse_page_text(raw: &str) -> Result<(String, String, String), String> {
    let usage = || "expected LANG:NAME=TEXT, such as en:help=\"Call 555 0100\"".to_owned();
    let (key, text) = raw.split_once('=').ok_or_else(usage)?;
    let (lang, name) = key.split_once(':').ok_or_else(usage)?;
    Ok((lang.trim().to_owned(), name.trim().to_owned(), text.to_owned()))
}

impl BrandingSetArgs {
    /// The draft these arguments describe, template files read.
    fn draft(self) -> Result<BrandingDraft, AdminError> {
        let mut templates: Vec<TemplatesDraft> = Vec::new();
        fn of<'a>(templates: &'a mut Vec<TemplatesDraft>, lang: &str) -> &'a mut TemplatesDraft {
            match templates.iter().position(|t| t.language == lang) {
                Some(i) => &mut templates[i],
                None => {
                    templates.push(TemplatesDraft { language: lang.to_owned(), ..TemplatesDraft::default() });
                    templates.last_mut().expect("just pushed")
                }
            }
        }
        for (lang, part, file) in self.templates {
            let source = std::fs::read_to_string(&file)
                .map_err(|e| AdminError::Invalid(format!("template {}: {e}", file.display())))?;
            let t = of(&mut templates, &lang);
            *match part {
                EmailPart::Subject => &mut t.subject,
                EmailPart::Text => &mut t.text,
                EmailPart::Html => &mut t.html,
            } = Some(source);
        }
        for (lang, name, text) in self.page_texts {
            of(&mut templates, &lang).page.push((name, text));
        }
        Ok(BrandingDraft {
            display_name: self.display_name,
            primary_color: self.primary,
            background_color: self.background,
            sender_name: self.sender_name,
            sender_address: self.sender_address,
            reply_to: self.reply_to,
            default_language: self.language,
            templates,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum OrgAction {
    /// Create an organization; prints its id.
    Create {
        /// 1 to 200 printable characters.
        name: String,
    },
    /// List organizations, by name.
    List,
    /// Show, set or remove where the organization's users return after the
    /// initialization (the init page's button and automatic redirect).
    CompletionUrl {
        #[arg(value_parser = parse_org)]
        org: OrgId,
        /// An absolute https:// (or http://) URL; shows the current one when left out.
        #[arg(conflicts_with = "remove")]
        url: Option<String>,
        /// Remove the organization's completion URL.
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountAction {
    /// Create a service account without grants; prints its id.
    Create {
        /// The account's home organization.
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        /// 1 to 200 printable characters.
        name: String,
    },
    /// List service accounts with their grants.
    List {
        /// Only the accounts of this organization.
        #[arg(long, value_parser = parse_org)]
        org: Option<OrgId>,
    },
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The service account's id.
    pub account: String,
    /// IAM_OWNER, IAM_ORG_MANAGER, IAM_USER_MANAGER, IAM_OWNER_VIEWER, ORG_OWNER, ORG_USER_MANAGER or ORG_OWNER_VIEWER.
    #[arg(value_parser = parse_role)]
    pub role: Role,
    /// The organization an ORG_* role holds in (refused for IAM_* roles).
    #[arg(long, value_parser = parse_org)]
    pub org: Option<OrgId>,
}

#[derive(Debug, Subcommand)]
pub enum PatAction {
    /// Issue a token; prints just the token, once (only its digest is stored).
    Issue {
        /// The service account's id.
        account: String,
        /// When it stops working: an RFC 3339 time or a duration from now such as 30d or 12h [default: never].
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<OffsetDateTime>,
    },
    /// Revoke a token by its id; it stops working at once.
    Revoke {
        /// The token's id, as listed.
        token_id: String,
    },
    /// List tokens, oldest first: ids, accounts, dates and state.
    List {
        /// Only the tokens of this service account.
        #[arg(long)]
        account: Option<String>,
    },
}

fn parse_org(raw: &str) -> Result<OrgId, String> {
    OrgId::parse(raw.trim()).map_err(|e| format!("organization id {e}"))
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse_named(raw).map_err(|e| e.to_string())
}

fn parse_expiry(raw: &str) -> Result<OffsetDateTime, String> {
    let raw = raw.trim();
    if let Ok(at) = OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339) {
        return Ok(at);
    }
    let after = humantime::parse_duration(raw)
        .map_err(|_| "expected an RFC 3339 time (2030-01-31T00:00:00Z) or a duration such as 30d".to_owned())?;
    let after = time::Duration::try_from(after).map_err(|e| e.to_string())?;
    OffsetDateTime::now_utc().checked_add(after).ok_or_else(|| "too far in the future".to_owned())
}

/// Shown instead of administering the embedded store.
pub const EMBEDDED_STORE: &str = "onboard admin: the embedded store (no ONBOARD_REDIS_URL or \
ONBOARD_REDIS_CLUSTER_NODES configured) lives only inside a running server; administer it over that server's \
HTTP API (/admin/v1/…, with the IAM_OWNER token from its admin.pat), or configure Redis";

/// Runs one `onboard admin` command against the configured store.
pub async fn run(config: &Config, args: AdminArgs) -> ExitCode {
    let admin = match crate::open_administration(config).await {
        Ok(Some(admin)) => admin,
        Ok(None) => {
            eprintln!("{EMBEDDED_STORE}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("onboard admin: {e}");
            return ExitCode::from(1);
        }
    };
    // Whoever can read the store's settings can reach the store itself: the
    // command line acts as the instance-wide owner, a principal the use
    // cases check and log like any other.
    match execute(&admin, &Principal::local_operator(), args.action).await {
        Ok(output) => {
            print!("{}", output.render(args.json, OffsetDateTime::now_utc()));
            if let Some(note) = output.note() {
                eprintln!("{note}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("onboard admin: {e}");
            ExitCode::from(1)
        }
    }
}

/// Does what `action` asks, as `operator`; what to print is the caller's.
pub async fn execute(admin: &Administration, operator: &Principal, action: Action) -> Result<Output, AdminError> {
    Ok(match action {
        Action::Org(OrgAction::Create { name }) => {
            let id = admin.create_organization(operator, &name).await?;
            // The name as stored: the domain keeps it trimmed.
            Output::Organization(onboard_domain::Organization { id, name: name.trim().to_owned() })
        }
        Action::Org(OrgAction::List) => Output::Organizations(admin.organizations(operator).await?),
        Action::ServiceAccount(AccountAction::Create { org, name }) => {
            Output::NewAccount(admin.create_service_account(operator, &org, &name).await?)
        }
        Action::ServiceAccount(AccountAction::List { org }) => {
            Output::Accounts(admin.service_accounts(operator, org.as_ref()).await?)
        }
        Action::Grant(g) => Output::Account(admin.grant(operator, &g.account, g.role, g.org.as_ref()).await?),
        Action::RevokeGrant(g) => {
            Output::Account(admin.revoke_grant(operator, &g.account, g.role, g.org.as_ref()).await?)
        }
        Action::Pat(PatAction::Issue { account, expires }) => {
            Output::Issued(admin.issue_pat(operator, &account, expires).await?)
        }
        Action::Pat(PatAction::Revoke { token_id }) => {
            Output::Token(admin.revoke_pat(operator, token_id.trim()).await?)
        }
        Action::Pat(PatAction::List { account }) => Output::Tokens(admin.tokens(operator, account.as_deref()).await?),
        Action::List => Output::Everything {
            organizations: admin.organizations(operator).await?,
            accounts: admin.service_accounts(operator, None).await?,
            tokens: admin.tokens(operator, None).await?,
        },
        Action::Org(OrgAction::CompletionUrl { org, url, remove }) => {
            let url = match (url, remove) {
                (Some(url), _) => admin.set_completion_url(operator, &org, Some(&url)).await?,
                (None, true) => admin.set_completion_url(operator, &org, None).await?,
                (None, false) => admin.completion_url(operator, &org).await?,
            };
            Output::CompletionUrl { org, url }
        }
        Action::Branding(BrandingAction::Show { org }) => {
            let branding = admin.branding(operator, &org).await?;
            Output::Branding { org, branding }
        }
        Action::Branding(BrandingAction::Set(args)) => {
            let org = args.org.clone();
            let branding = Some(admin.set_branding(operator, &org, args.draft()?).await?);
            Output::Branding { org, branding }
        }
        Action::Branding(BrandingAction::Logo { org, file }) => {
            let bytes =
                std::fs::read(&file).map_err(|e| AdminError::Invalid(format!("logo {}: {e}", file.display())))?;
            let branding = Some(admin.set_logo(operator, &org, bytes).await?);
            Output::Branding { org, branding }
        }
        Action::Branding(BrandingAction::RemoveLogo { org }) => {
            let branding = admin.remove_logo(operator, &org).await?;
            Output::Branding { org, branding }
        }
        Action::Branding(BrandingAction::Remove { org }) => {
            admin.remove_branding(operator, &org).await?;
            Output::Branding { org, branding: None }
        }
        Action::Webhook(WebhookAction::Create { org, url, events }) => {
            Output::NewWebhook(admin.create_webhook(operator, &org, &url, &events).await?)
        }
        Action::Webhook(WebhookAction::List { org }) => Output::Webhooks(admin.webhooks(operator, org.as_ref()).await?),
        Action::Webhook(WebhookAction::Show { id }) => Output::Webhook(admin.webhook(operator, &id).await?),
        Action::Webhook(WebhookAction::Disable { id }) => {
            Output::Webhook(admin.set_webhook_enabled(operator, &id, false).await?)
        }
        Action::Webhook(WebhookAction::Enable { id }) => {
            Output::Webhook(admin.set_webhook_enabled(operator, &id, true).await?)
        }
        Action::Webhook(WebhookAction::Delete { id }) => {
            admin.delete_webhook(operator, &id).await?;
            Output::DeletedWebhook(id.trim().to_owned())
        }
        Action::Webhook(WebhookAction::Deliveries { id, limit }) => {
            Output::Deliveries(admin.webhook_deliveries(operator, &id, limit).await?)
        }
        Action::Webhook(WebhookAction::Retry { id, delivery }) => {
            Output::Deliveries(vec![admin.retry_webhook_delivery(operator, &id, &delivery).await?])
        }
        Action::Webhook(WebhookAction::Test { id }) => {
            Output::Deliveries(vec![admin.send_test_webhook(operator, &id).await?])
        }
        Action::Webhook(WebhookAction::RotateSecret { id, overlap }) => {
            Output::NewWebhook(admin.rotate_webhook_secret(operator, &id, overlap).await?)
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clap::Parser;
    use onboard_domain::SystemClock;
    use onboard_memory::InMemoryDirectory;

    use super::*;
    use crate::Cli;

    fn admin() -> Administration {
        Administration::new(Arc::new(InMemoryDirectory::new()), Arc::new(SystemClock))
            .with_webhooks(Arc::new(onboard_memory::InMemoryWebhookEndpoints::new()))
    }

    fn action(args: &[&str]) -> Action {
        let cli = Cli::try_parse_from(["onboard", "admin"].iter().chain(args)).unwrap();
        match cli.command {
            Some(Command::Admin(a)) => a.action,
            None => panic!("no command"),
        }
    }

    #[test]
    fn arguments_are_checked_before_the_store_is_opened() {
        for bad in [
            &["grant", "1", "PROJECT_OWNER"][..],
            &["pat", "issue", "1", "--expires", "soonish"],
            &["service-account", "create", "name"],
            &["service-account", "create", "--org", "", "name"],
        ] {
            let args = ["onboard", "admin"].iter().chain(bad);
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?}");
        }
        let parsed = Cli::try_parse_from(["onboard", "admin", "org", "list", "--json"]).unwrap();
        assert!(matches!(parsed.command, Some(Command::Admin(AdminArgs { json: true, .. }))));
        assert!(Cli::try_parse_from(["onboard"]).unwrap().command.is_none());
    }

    #[test]
    fn expiry_is_a_time_or_a_duration_from_now() {
        let at = parse_expiry("2030-01-31T00:00:00Z").unwrap();
        assert_eq!(at.year(), 2030);
        let in_30_days = parse_expiry("30d").unwrap() - OffsetDateTime::now_utc();
        assert!((in_30_days - time::Duration::days(30)).abs() < time::Duration::minutes(1));
    }

    #[tokio::test]
    async fn commands_administer_the_store() {
        let admin = admin();
        let op = Principal::local_operator();
        let Output::Organization(org) = execute(&admin, &op, action(&["org", "create", " Acme "])).await.unwrap()
        else {
            panic!("not an organization")
        };
        assert_eq!(org.name, "Acme");
        let org = org.id.to_string();
        let Output::NewAccount(bot) =
            execute(&admin, &op, action(&["service-account", "create", "--org", &org, "importer"])).await.unwrap()
        else {
            panic!("not an account")
        };
        execute(&admin, &op, action(&["grant", &bot.id, "ORG_USER_MANAGER", "--org", &org])).await.unwrap();
        let refused = execute(&admin, &op, action(&["grant", &bot.id, "ORG_OWNER"])).await;
        assert!(matches!(refused, Err(AdminError::Invalid(_))), "{refused:?}");
        let Output::Issued(issued) = execute(&admin, &op, action(&["pat", "issue", &bot.id])).await.unwrap() else {
            panic!("not a token")
        };
        let revoked = execute(&admin, &op, action(&["pat", "revoke", &issued.record.id])).await;
        assert!(matches!(revoked, Ok(Output::Token(t)) if t.revoked));
        let after = execute(&admin, &op, action(&["revoke-grant", &bot.id, "ORG_USER_MANAGER", "--org", &org])).await;
        assert!(matches!(after, Ok(Output::Account(a)) if a.grants.is_empty()));
        let unknown = execute(&admin, &op, action(&["pat", "revoke", "0000"])).await;
        assert!(matches!(unknown, Err(AdminError::UnknownToken(_))));
        let Output::Everything { organizations, accounts, tokens } =
            execute(&admin, &op, action(&["list"])).await.unwrap()
        else {
            panic!("not everything")
        };
        assert_eq!((organizations.len(), accounts.len(), tokens.len()), (1, 1, 1));
    }

    #[tokio::test]
    async fn webhook_commands_administer_endpoints() {
        let admin = admin();
        let op = Principal::local_operator();
        let org = admin.create_organization(&op, "Acme").await.unwrap().to_string();
        let create = ["webhook", "create", "--org", &org, "https://hooks.example.com/in", "--event", "email.bounced"];
        let Output::NewWebhook(made) = execute(&admin, &op, action(&create)).await.unwrap() else {
            panic!("not a new webhook")
        };
        let text = Output::NewWebhook(made.clone()).render(false, OffsetDateTime::now_utc());
        assert_eq!(text, format!("{}\n{}\n", made.endpoint.id, made.secret));
        assert!(made.secret.starts_with("whsec_"));
        let id = made.endpoint.id.clone();
        let off = execute(&admin, &op, action(&["webhook", "disable", &id])).await;
        assert!(matches!(off, Ok(Output::Webhook(e)) if !e.enabled));
        let Output::Webhooks(all) = execute(&admin, &op, action(&["webhook", "list", "--org", &org])).await.unwrap()
        else {
            panic!("not a list")
        };
        let listed = Output::Webhooks(all).render(true, OffsetDateTime::now_utc());
        assert!(listed.contains("\"enabled\": false") && !listed.contains(&made.secret), "{listed}");
        let Output::NewWebhook(rotated) =
            execute(&admin, &op, action(&["webhook", "rotate-secret", &id, "--overlap", "1h"])).await.unwrap()
        else {
            panic!("not rotated")
        };
        assert_eq!(rotated.endpoint.secrets.len(), 2);
        let too_long = execute(&admin, &op, action(&["webhook", "rotate-secret", &id, "--overlap", "8d"])).await;
        assert!(matches!(too_long, Err(AdminError::Invalid(_))), "{too_long:?}");
        let bad = execute(
            &admin,
            &op,
            action(&["webhook", "create", "--org", &org, "https://x.example.com", "--event", "nope"]),
        )
        .await;
        assert!(matches!(bad, Err(AdminError::Invalid(_))), "{bad:?}");
        let no_deliveries = execute(&admin, &op, action(&["webhook", "test", &id])).await;
        assert!(matches!(no_deliveries, Err(AdminError::WebhooksNotServed)), "{no_deliveries:?}");
        execute(&admin, &op, action(&["webhook", "delete", &id])).await.unwrap();
        let gone = execute(&admin, &op, action(&["webhook", "show", &id])).await;
        assert!(matches!(gone, Err(AdminError::UnknownWebhook(_))), "{gone:?}");
    }
}
