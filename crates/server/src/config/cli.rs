//! The command line, where every setting is declared once: a flag with its
//! environment variable, type, default and meaning. The config file and the
//! README's table are read from the same declaration.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Args, CommandFactory, FromArgMatches, Parser};

use super::codes::CodeArgs;
use super::delivery::DeliveryArgs;
use super::jwt::JwtArgs;
use super::mail::MailArgs;
use super::redis::RedisArgs;
use super::sendgrid::SendGridArgs;
use super::server::ServerArgs;
use super::smtp::SmtpArgs;
use super::throttle::ThrottleArgs;
use super::webhooks::WebhookArgs;

/// onboard: the user-initialization service, wire-compatible with ZITADEL's
/// Management API v1.
///
/// Every setting is a flag, an environment variable and a key of the TOML
/// file named by --config (the flag's name with underscores). Flags win over
/// the environment, the environment over the file, the file over the
/// defaults. Settings may be given before or after `admin`.
#[derive(Debug, Parser)]
#[command(name = "onboard", version)]
struct Arguments {
    /// TOML file with any of the settings, named as the flags with underscores (`code_length = 8`).
    #[arg(long, env = "ONBOARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
    /// Instead of serving: `admin …` administers the configured store.
    #[command(subcommand)]
    command: Option<crate::admin_cli::Command>,
}

/// Every setting, by the part of onboard it configures.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub codes: CodeArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub sendgrid: SendGridArgs,
    #[command(flatten)]
    pub smtp: SmtpArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    #[command(flatten)]
    pub throttle: ThrottleArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

/// The parsed command line, and which settings it (or the environment) gave,
/// so that the config file can rank below them.
#[derive(Debug)]
pub struct Cli {
    pub config: Option<PathBuf>,
    pub settings: Settings,
    pub command: Option<crate::admin_cli::Command>,
    /// Settings given as a flag or an environment variable (a blank one
    /// counts, as unset).
    pub(super) given: BTreeSet<String>,
}

/// Whether `arg` (of the [`declaration`]) is a setting: every setting has a
/// variable, and the config file's name is not one.
pub(super) fn is_setting(arg: &Arg) -> bool {
    arg.get_env().is_some() && arg.get_id() != "config"
}

/// The settings as declared, before what [`for_every_setting`] does
/// depending on the environment.
pub(super) fn declaration() -> clap::Command {
    Arguments::command()
}

/// Whether `arg` is a setting without a default whose variable is set but
/// blank: that leaves it unset (`ONBOARD_REDIS_URL=` means no Redis, even if
/// the file names one) rather than failing to parse.
fn blank_in_env(arg: &Arg) -> bool {
    let blank = |v: std::ffi::OsString| v.to_str().is_some_and(|v| v.trim().is_empty());
    arg.get_default_values().is_empty() && arg.get_env().and_then(std::env::var_os).is_some_and(blank)
}

/// What holds for every setting, written once here rather than in each
/// declaration: it may be given on either side of `admin`, and a blank
/// variable is not parsed (see [`blank_in_env`]).
fn for_every_setting(command: clap::Command) -> clap::Command {
    command.mut_args(|arg| {
        if arg.get_env().is_none() {
            return arg;
        }
        let blank = blank_in_env(&arg);
        let arg = arg.global(true);
        if blank { arg.env(None::<&str>) } else { arg }
    })
}

impl CommandFactory for Cli {
    fn command() -> clap::Command {
        for_every_setting(Arguments::command())
    }

    fn command_for_update() -> clap::Command {
        for_every_setting(Arguments::command_for_update())
    }
}

impl FromArgMatches for Cli {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given = given(matches);
        given.extend(blank_settings());
        Self::new(matches, given)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        let mut arguments =
            Arguments { config: self.config.take(), settings: self.settings.clone(), command: self.command.take() };
        arguments.update_from_arg_matches(matches)?;
        (self.config, self.settings, self.command) = (arguments.config, arguments.settings, arguments.command);
        self.given.extend(given(matches));
        self.given.extend(blank_settings());
        Ok(())
    }
}

impl Parser for Cli {}

/// Settings given blank in the environment: given, as unset.
fn blank_settings() -> Vec<String> {
    declaration().get_arguments().filter(|a| is_setting(a) && blank_in_env(a)).map(|a| a.get_id().to_string()).collect()
}

/// Settings given as a flag or a (non-blank) variable.
fn given(matches: &ArgMatches) -> BTreeSet<String> {
    // `ids` holds the subcommands' global arguments too (`admin --json`),
    // which are not this level's to ask about.
    matches
        .ids()
        .filter(|id| matches.try_contains_id(id.as_str()).is_ok())
        .filter(|id| {
            matches!(matches.value_source(id.as_str()), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
        })
        .map(|id| id.to_string())
        .collect()
}

impl Cli {
    /// Parses `args` as the command line, without reading the environment.
    pub fn parse_ignoring_env<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command().mut_args(|arg| arg.env(None::<&str>)).try_get_matches_from(args)?;
        Self::new(&matches, given(&matches))
    }

    fn new(matches: &ArgMatches, given: BTreeSet<String>) -> Result<Self, clap::Error> {
        let Arguments { config, settings, command } = Arguments::from_arg_matches(matches)?;
        Ok(Self { config, settings, command, given })
    }
}

/// The declared defaults alone: no flags, no environment, no file.
impl Default for Cli {
    fn default() -> Self {
        Self::parse_ignoring_env(["onboard"]).expect("the declared defaults parse")
    }
}
