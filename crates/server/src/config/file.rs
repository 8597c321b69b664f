//! The config file: TOML whose keys are the settings' names. Its values are
//! read as the flags would be, by the same parsers, and rank below the
//! environment and the flags. Numbers and booleans may be written bare or as
//! strings.

use std::path::Path;

use clap::FromArgMatches;

use super::cli::{Cli, declaration, is_setting};
use super::error::ConfigError;

/// Sets what the file at `path` says, except what `cli` was given otherwise.
pub(super) fn overlay(cli: &mut Cli, path: &Path) -> Result<(), ConfigError> {
    let fail = |reason: String| ConfigError::File { path: path.to_owned(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| fail(e.message().replace('\n', "; ")))?;
    let declared = declaration();
    let mut flags = vec!["onboard".to_owned()];
    for (key, value) in table {
        let Some(arg) = declared.get_arguments().find(|a| is_setting(a) && a.get_id() == key.as_str()) else {
            return Err(fail(format!("unknown setting {key:?}")));
        };
        // A flag or a variable gave it already, if only as blank.
        if cli.given.contains(&key) {
            continue;
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(fail(format!("{key}: expected a string, number or boolean, not {}", other.type_str())));
            }
        };
        // Blank is unset, as in the environment.
        if text.trim().is_empty() && arg.get_default_values().is_empty() {
            continue;
        }
        let long = arg.get_long().expect("every setting is a long flag");
        flags.push(format!("--{long}={text}"));
    }
    // Only what the file says: without defaults and variables, clap reports
    // nothing else, and updating changes only what the file set.
    let command = declared.mut_args(|arg| arg.env(None::<&str>).default_value(None::<&str>));
    let matches = command
        .try_get_matches_from(flags)
        .map_err(|e| ConfigError::from_clap_in(&e, Some(path)).unwrap_or_else(|| fail(e.kind().to_string())))?;
    cli.settings.update_from_arg_matches(&matches).map_err(|e| fail(e.to_string()))
}
