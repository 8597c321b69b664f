//! How an init code reaches its user (ZITADEL v2 calls it the invite code):
//! mailed with onboard's link, mailed with the integrator's own link
//! template, or returned to the caller, who delivers it. The choice belongs
//! to the code and is remembered with it, so a resend mails the same kind of
//! link and a returned code is never mailed.

use std::fmt;

/// ZITADEL's placeholders of a confirmation link template (`ConfirmURLData`
/// in its `internal/domain`): the user's id, the code and the user's
/// organization.
pub const PLACEHOLDERS: [(&str, Placeholder); 3] =
    [("UserID", Placeholder::UserId), ("Code", Placeholder::Code), ("OrgID", Placeholder::OrgId)];

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    UserId,
    Code,
    OrgId,
}

/// Longest template accepted (ZITADEL's proto validation allows 200 runes
/// for a `url_template`).
pub const MAX_TEMPLATE_CHARS: usize = 200;

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Not text/template syntax onboard fills in: an unclosed `{{`, or an
    /// action other than `{{.UserID}}`, `{{.Code}}`, `{{.OrgID}}`.
    #[error("the template's placeholders must be {{{{.UserID}}}}, {{{{.Code}}}} or {{{{.OrgID}}}}")]
    Syntax,
    /// The link it makes is not an absolute http(s) URL.
    #[error("the template must make an absolute http or https URL")]
    NotHttp,
    #[error("the template is longer than {MAX_TEMPLATE_CHARS} characters")]
    TooLong,
}

enum Piece<'a> {
    Text(&'a str),
    Value(Placeholder),
}

fn pieces(raw: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(start) = rest.find("{{") {
        out.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Syntax)?;
        // Go's trim markers (`{{- .Code -}}`) are not needed in a URL: refused.
        let action = after[..end].trim();
        let name = action.strip_prefix('.').ok_or(TemplateError::Syntax)?;
        let (_, placeholder) = PLACEHOLDERS.iter().find(|(n, _)| *n == name).ok_or(TemplateError::Syntax)?;
        out.push(Piece::Value(*placeholder));
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err(TemplateError::Syntax);
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// A link template as ZITADEL's `url_template` takes it
/// (`https://app.example.com/invite?user={{.UserID}}&code={{.Code}}`),
/// checked on construction: only ZITADEL's placeholders, and what it makes
/// is an absolute http(s) URL.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UrlTemplate(String);

impl TryFrom<String> for UrlTemplate {
    type Error = TemplateError;

    fn try_from(raw: String) -> Result<Self, TemplateError> {
        Self::parse(&raw)
    }
}

impl From<UrlTemplate> for String {
    fn from(t: UrlTemplate) -> String {
        t.0
    }
}

impl fmt::Debug for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UrlTemplate({:?})", self.0)
    }
}

impl UrlTemplate {
    pub fn parse(raw: &str) -> Result<Self, TemplateError> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(TemplateError::TooLong);
        }
        pieces(raw)?;
        let template = Self(raw.to_owned());
        // Filled with sample values, the link must be an absolute http(s) URL with a host.
        let sample = template.fill("1", "CODE", "1");
        let origin = origin_of(&sample).ok_or(TemplateError::NotHttp)?;
        // The origin must not depend on a value: a code cannot choose the host.
        if origin_of(&template.fill("2", "OTHER", "2")) != Some(origin) {
            return Err(TemplateError::NotHttp);
        }
        Ok(template)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The link for `user_id`, `code` and `org_id`. Ids and codes are digits
    /// and capital letters, so nothing needs escaping.
    pub fn fill(&self, user_id: &str, code: &str, org_id: &str) -> String {
        let mut out = String::with_capacity(self.0.len() + 32);
        for piece in pieces(&self.0).expect("checked on construction") {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Value(Placeholder::UserId) => out.push_str(user_id),
                Piece::Value(Placeholder::Code) => out.push_str(code),
                Piece::Value(Placeholder::OrgId) => out.push_str(org_id),
            }
        }
        out
    }

    /// `scheme://host[:port]` of the links it makes, lower-cased.
    pub fn origin(&self) -> String {
        origin_of(&self.fill("1", "CODE", "1")).expect("checked on construction")
    }
}

/// `scheme://authority` of an absolute http(s) URL, lower-cased; `None` for
/// anything else (no host, user info, another scheme).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.split_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return None,
        None => authority,
    };
    let valid = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    valid.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// An application name for the invitation email (ZITADEL's
/// `application_name`): at most 200 characters, no control characters.
pub fn application_name(raw: &str) -> Result<Option<String>, crate::TextError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    crate::person::checked_text(raw, crate::person::MAX_TEXT_CHARS, false).map(Some)
}

/// How the current code is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum CodeDelivery {
    /// Mailed with onboard's link to its page, or with the link `url_template`
    /// makes; `application_name` is named in the email.
    #[default]
    Mailed,
    MailedWith {
        url_template: Option<UrlTemplate>,
        application_name: Option<String>,
    },
    /// Handed to the caller, never mailed.
    Returned,
}

impl CodeDelivery {
    /// Mailed, with the template and name when given (the plain form without).
    pub fn mailed(url_template: Option<UrlTemplate>, application_name: Option<String>) -> Self {
        if url_template.is_none() && application_name.is_none() {
            Self::Mailed
        } else {
            Self::MailedWith { url_template, application_name }
        }
    }

    pub fn is_returned(&self) -> bool {
        matches!(self, Self::Returned)
    }

    pub fn url_template(&self) -> Option<&UrlTemplate> {
        match self {
            Self::MailedWith { url_template, .. } => url_template.as_ref(),
            _ => None,
        }
    }

    pub fn application_name(&self) -> Option<&str> {
        match self {
            Self::MailedWith { application_name, .. } => application_name.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zitadels_placeholders_are_filled_and_nothing_else_is_accepted() {
        let t = UrlTemplate::parse("https://app.example.com/invite?user={{.UserID}}&code={{ .Code }}&org={{.OrgID}}")
            .unwrap();
        assert_eq!(t.fill("7", "AB12CD", "9"), "https://app.example.com/invite?user=7&code=AB12CD&org=9");
        assert_eq!(t.origin(), "https://app.example.com");
        for bad in ["https://x.example/{{.Password}}", "https://x.example/{{.Code", "https://x.example/{{Code}}"] {
            assert_eq!(UrlTemplate::parse(bad), Err(TemplateError::Syntax), "{bad}");
        }
        assert_eq!(UrlTemplate::parse("https://x.example/}}"), Err(TemplateError::Syntax));
    }

    #[test]
    fn only_absolute_http_links_with_a_fixed_host() {
        for bad in [
            "/invite?code={{.Code}}",
            "javascript:alert({{.Code}})",
            "ftp://x.example/{{.Code}}",
            "https://{{.Code}}.example.com/",
            "https://user@x.example/{{.Code}}",
            "https:///{{.Code}}",
        ] {
            assert_eq!(UrlTemplate::parse(bad), Err(TemplateError::NotHttp), "{bad}");
        }
        assert!(UrlTemplate::parse(&format!("https://x.example/{}", "a".repeat(200))).is_err());
        let t = UrlTemplate::parse("HTTP://LocalHost:8080/i/{{.Code}}").unwrap();
        assert_eq!(t.origin(), "http://localhost:8080");
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("https://a.example.com/x?y#z").as_deref(), Some("https://a.example.com"));
        assert_eq!(origin_of("http://127.0.0.1:9/").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(origin_of("mailto:a@b"), None);
    }

    #[test]
    fn the_plain_mailed_delivery_is_the_default() {
        assert_eq!(CodeDelivery::mailed(None, None), CodeDelivery::default());
        let named = CodeDelivery::mailed(None, Some("App".into()));
        assert_eq!(named.application_name(), Some("App"));
        assert!(CodeDelivery::Returned.is_returned());
    }
}
