//! Why the configuration cannot be used. Each is one line that names the
//! setting and its environment variable.

use std::path::{Path, PathBuf};

use clap::error::{ContextKind, ContextValue, ErrorKind};

use super::cli::declaration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value its setting does not accept.
    #[error("invalid configuration: {setting} ({env}){}: {reason}", shown(.value.as_deref(), .file.as_deref()))]
    Invalid {
        setting: String,
        env: String,
        /// `None` for values that may be secret.
        value: Option<String>,
        /// The config file it came from, if it did.
        file: Option<PathBuf>,
        reason: String,
    },
    /// Two settings that exclude each other.
    #[error("invalid configuration: {one} ({}) and {other} ({}) are both set; choose one", env_of(.one), env_of(.other))]
    Conflict { one: &'static str, other: &'static str },
    #[error("invalid configuration: {setting} ({}) needs {needs} ({})", env_of(.setting), env_of(.needs))]
    Needs { setting: &'static str, needs: &'static str },
    /// A file a setting names (a key, a password, a certificate) cannot be used.
    #[error("invalid configuration: {setting} ({}) {}: {reason}", env_of(.setting), .path.display())]
    KeyFile { setting: &'static str, path: PathBuf, reason: String },
    /// The config file cannot be read, is no TOML, or holds an unknown key.
    #[error("invalid configuration: config file {}: {reason}", .path.display())]
    File { path: PathBuf, reason: String },
}

/// Every setting's variable is its name in capitals after `ONBOARD_` (a test
/// holds the declaration to that).
pub(super) fn env_of(setting: &str) -> String {
    format!("ONBOARD_{}", setting.to_ascii_uppercase())
}

fn shown(value: Option<&str>, file: Option<&Path>) -> String {
    let value = value.map(|v| format!(" = {v:?}")).unwrap_or_default();
    let file = file.map(|f| format!(" in {}", f.display())).unwrap_or_default();
    format!("{value}{file}")
}

impl ConfigError {
    /// The one line for a value that a setting refused while clap parsed the
    /// flags and the environment. `None` for every other error (a usage
    /// mistake, `--help`), which clap reports itself.
    pub fn from_clap(err: &clap::Error) -> Option<Self> {
        Self::from_clap_in(err, None)
    }

    /// The same, for a value read from the config file `file`.
    pub(super) fn from_clap_in(err: &clap::Error, file: Option<&Path>) -> Option<Self> {
        if !matches!(err.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
            return None;
        }
        // clap names the argument as in its usage: `--code-lifetime <CODE_LIFETIME>`.
        let Some(ContextValue::String(usage)) = err.get(ContextKind::InvalidArg) else { return None };
        let long = usage.strip_prefix("--")?.split([' ', '=']).next()?;
        let command = declaration();
        let arg = command.get_arguments().find(|a| a.get_long() == Some(long))?;
        let value = match err.get(ContextKind::InvalidValue) {
            Some(ContextValue::String(v)) if !arg.is_hide_env_values_set() => Some(v.clone()),
            _ => None,
        };
        Some(Self::Invalid {
            setting: arg.get_id().to_string(),
            env: arg.get_env()?.to_string_lossy().into_owned(),
            value,
            file: file.map(Path::to_owned),
            reason: std::error::Error::source(err).map_or_else(|| "a value is needed".to_owned(), |e| e.to_string()),
        })
    }
}
