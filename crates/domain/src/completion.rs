//! Where a user returns after finishing the initialization: the completion
//! URL an administrator sets per organization. The page links and redirects
//! only to this configured address, never to one a request names, so it
//! cannot be made an open redirect.

use std::fmt;

/// Longest completion URL accepted.
pub const MAX_COMPLETION_URL_CHARS: usize = 2000;

/// An absolute `https://` (or `http://`) URL with a host, without user info,
/// whitespace, control characters or anything HTML would need escaped.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompletionUrl(String);

impl fmt::Debug for CompletionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompletionUrl({:?})", self.0)
    }
}

impl fmt::Display for CompletionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl CompletionUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = raw.trim();
        let fail = |why: &str| Err(format!("completionUrl: {why}"));
        if url.chars().count() > MAX_COMPLETION_URL_CHARS {
            return fail(&format!("at most {MAX_COMPLETION_URL_CHARS} characters"));
        }
        let lower = url.to_ascii_lowercase();
        let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) else {
            return fail("an absolute http:// or https:// URL");
        };
        if url.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\' | '`')) {
            return fail("no whitespace, control characters, quotes, angle brackets or backslashes");
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return fail("no user name or password");
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((addr, port)) if addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') => (addr, port),
                _ => return fail("a host name"),
            },
            None => {
                authority.split_once(':').map_or((authority, ""), |(h, p)| (h, &authority[h.len()..][..p.len() + 1]))
            }
        };
        let port_ok = port.is_empty()
            || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        let host_ok =
            !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !host_ok || !port_ok {
            return fail("a host name, and a port of digits if any");
        }
        Ok(Self(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `scheme://host[:port]`, lower-cased.
    pub fn origin(&self) -> String {
        let lower = self.0.to_ascii_lowercase();
        let (scheme, rest) = lower.split_once("://").unwrap_or(("https", &lower));
        format!("{scheme}://{}", rest.split(['/', '?', '#']).next().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_http_urls_with_a_host_are_accepted() {
        for ok in [
            "https://app.example.com",
            "https://app.example.com/welcome?from=onboard",
            " http://localhost:3000/done ",
            "https://[::1]:8443/x",
        ] {
            let url = CompletionUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(url.as_str(), ok.trim());
        }
        assert_eq!(
            CompletionUrl::parse("HTTPS://App.Example.com:8443/a?b#c").unwrap().origin(),
            "https://app.example.com:8443"
        );
    }

    #[test]
    fn anything_that_could_go_elsewhere_or_break_out_is_refused() {
        for bad in [
            "",
            "/relative",
            "//evil.example",
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://files.example",
            "https://",
            "https:///path",
            "https://user:pw@evil.example",
            "https://good.example@evil.example/",
            "https://app.example.com/\"><script>",
            "https://app.example.com/a b",
            "https://app.example.com/\\evil",
            "https://exa_mple.com",
        ] {
            assert!(CompletionUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(CompletionUrl::parse(&format!("https://a.example/{}", "x".repeat(2000))).is_err());
    }
}
