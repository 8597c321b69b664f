//! Settings of the process: where it listens, keeps its files and logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use clap::builder::BoolishValueParser;

use super::duration::NonZeroSpan;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Server")]
pub struct ServerArgs {
    /// Address to serve HTTP (and gRPC) on.
    #[arg(long, env = "ONBOARD_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Origin of the links in emails; unset: `http://` and the address bound.
    #[arg(long, env = "ONBOARD_EXTERNAL_URL")]
    pub external_url: Option<HttpUrl>,
    /// Origins (comma-separated, such as `https://app.example.com`) that the v2
    /// API's link templates (`urlTemplate`) may point at; unset: any http(s)
    /// origin. Keeps a stolen token from aiming codes at another site.
    #[arg(long, env = "ONBOARD_INVITE_URL_ORIGINS")]
    pub invite_url_origins: Option<OriginList>,
    /// Folder for state kept on disk: `admin.pat`, `code.secret`, `mail/`.
    #[arg(long, env = "ONBOARD_DATA_DIR", default_value = "./var")]
    pub data_dir: PathBuf,
    /// Log filter, such as `info` or `onboard_domain=debug,info`.
    #[arg(long, env = "ONBOARD_LOG", default_value = "info")]
    pub log: LogFilter,
    /// How long SIGINT or SIGTERM waits for requests in flight.
    #[arg(long, env = "ONBOARD_SHUTDOWN_TIMEOUT", default_value = "10s")]
    pub shutdown_timeout: NonZeroSpan,
    /// Serve Prometheus metrics at `/metrics` (and record them): `true` or `false`.
    #[arg(long, env = "ONBOARD_METRICS", default_value_t = true, action = clap::ArgAction::Set,
        value_parser = BoolishValueParser::new())]
    pub metrics: bool,
}

/// An `http://` or `https://` URL without query or fragment, kept without
/// a trailing `/` so paths can be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("must be an http:// or https:// origin such as https://id.example.com")]
pub struct NotAnHttpUrl;

impl FromStr for HttpUrl {
    type Err = NotAnHttpUrl;

    fn from_str(raw: &str) -> Result<Self, NotAnHttpUrl> {
        let url = raw.trim().trim_end_matches('/');
        let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
        if !scheme_ok || url.contains(['?', '#']) || url.contains(char::is_whitespace) {
            return Err(NotAnHttpUrl);
        }
        Ok(Self(url.to_owned()))
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Comma-separated http(s) origins (`scheme://host[:port]`, no path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginList(Vec<String>);

impl OriginList {
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("must be comma-separated http:// or https:// origins such as https://app.example.com (no path)")]
pub struct NotOrigins;

impl FromStr for OriginList {
    type Err = NotOrigins;

    fn from_str(raw: &str) -> Result<Self, NotOrigins> {
        let mut origins = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let part = part.trim_end_matches('/');
            match onboard_domain::invite::origin_of(part) {
                Some(origin) if origin.len() == part.len() => origins.push(origin),
                _ => return Err(NotOrigins),
            }
        }
        Ok(Self(origins))
    }
}

impl fmt::Display for OriginList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// A `tracing` filter, checked when read so a typo stops the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter(String);

impl LogFilter {
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for LogFilter {
    type Err = tracing_subscriber::filter::ParseError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        tracing_subscriber::EnvFilter::try_new(raw)?;
        Ok(Self(raw.to_owned()))
    }
}

impl fmt::Display for LogFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_origins_without_a_trailing_slash() {
        assert_eq!("https://id.example.com/".parse::<HttpUrl>().unwrap().to_string(), "https://id.example.com");
        assert_eq!("http://127.0.0.1:9/base".parse::<HttpUrl>().unwrap().to_string(), "http://127.0.0.1:9/base");
        for bad in ["ftp://x", "id.example.com", "https://x/?a=1", "https://x/#top", "https://a b"] {
            assert!(bad.parse::<HttpUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_lists_are_origins_only() {
        let list: OriginList = "https://App.example.com/, http://127.0.0.1:9".parse().unwrap();
        assert_eq!(list.into_vec(), ["https://app.example.com", "http://127.0.0.1:9"]);
        for bad in ["https://x.example/path", "app.example.com", "ftp://x", "https://x.example?q"] {
            assert!(bad.parse::<OriginList>().is_err(), "{bad}");
        }
    }
}
