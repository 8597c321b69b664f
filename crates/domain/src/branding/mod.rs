//! An organization's branding: the name, logo, colours, sender and words
//! its emails and init page show instead of onboard's defaults. Stored per
//! organization beside it in the directory, read through a short-lived
//! cache ([`Brandings`]).

mod cache;
mod color;
mod logo;
mod templates;

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

pub use cache::{BRANDING_TTL, Brandings};
pub use color::{Color, ColorError, LowContrast, MIN_CONTRAST, Palette};
pub use logo::{Logo, LogoError, LogoKind, MAX_LOGO_BYTES};
pub use templates::{
    EmailPart, LANGUAGES, LanguageOverrides, MAX_LINE_CHARS, MAX_TEMPLATE_BYTES, PageText, check_email_part,
    check_line, supported_language,
};

use crate::email::EmailAddress;
use crate::ids::OrgId;
use crate::user::Language;

/// Where onboard serves the branded parts of the init page (logo,
/// stylesheet): under the page's own path, from its own origin.
pub const BRAND_PATH: &str = "/ui/login/user/init/brand";

/// Longest display or sender name.
pub const MAX_NAME_CHARS: usize = 200;

/// An organization's branding as stored. Every field is optional: what is
/// absent stays onboard's default. Made only from a checked
/// [`BrandingDraft`] (and a checked [`Logo`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Branding {
    /// Shown instead of the organization's name.
    pub display_name: Option<String>,
    pub palette: Option<Palette>,
    /// The From name and address of its emails.
    pub sender_name: Option<String>,
    pub sender_address: Option<EmailAddress>,
    pub reply_to: Option<EmailAddress>,
    /// For users without a preferred language onboard speaks: one of [`LANGUAGES`].
    pub default_language: Option<String>,
    /// By language ([`LANGUAGES`]).
    pub overrides: BTreeMap<String, LanguageOverrides>,
    pub logo: Option<Logo>,
    pub updated_at: OffsetDateTime,
}

impl Branding {
    /// The language of `preferred` if onboard speaks it, else the default language.
    pub fn language_for(&self, preferred: Option<&Language>) -> Option<&'static str> {
        preferred
            .and_then(|l| supported_language(l.as_str()).ok())
            .or_else(|| self.default_language.as_deref().and_then(|l| supported_language(l).ok()))
    }

    pub fn email_override(&self, lang: &str, part: EmailPart) -> Option<&str> {
        self.overrides.get(lang).and_then(|o| o.email.get(&part)).map(String::as_str)
    }

    pub fn page_text(&self, lang: &str, key: PageText) -> Option<&str> {
        self.overrides.get(lang).and_then(|o| o.page.get(&key)).map(String::as_str)
    }

    /// The path of the logo, versioned by its bytes.
    pub fn logo_path(&self, org: &OrgId) -> Option<String> {
        self.logo.as_ref().map(|logo| format!("{BRAND_PATH}/{org}/logo?v={}", logo.version()))
    }

    /// The path of the page's stylesheet of these colours, versioned by them.
    pub fn style_path(&self, org: &OrgId) -> Option<String> {
        self.palette.map(|p| {
            format!("{BRAND_PATH}/{org}/style.css?v={}{}", &p.primary().hex()[1..], &p.background().hex()[1..])
        })
    }
}

/// Branding as an administrator sends it: unchecked text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandingDraft {
    pub display_name: Option<String>,
    /// Both colours or neither.
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    pub default_language: Option<String>,
    /// Per language: email parts and page texts.
    pub templates: Vec<TemplatesDraft>,
}

/// One language's words, unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplatesDraft {
    pub language: String,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Page text name ([`PageText::as_str`]) → sentence.
    pub page: Vec<(String, String)>,
}

/// Why a draft was refused: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrandingError {
    #[error("{field}: {reason}")]
    Field { field: String, reason: String },
    #[error("primaryColor, backgroundColor: {0}")]
    LowContrast(#[from] LowContrast),
    #[error("logo: {0}")]
    Logo(#[from] LogoError),
}

fn field(name: impl Into<String>, reason: impl ToString) -> BrandingError {
    BrandingError::Field { field: name.into(), reason: reason.to_string() }
}

/// Absent, empty and blank are the same: not set.
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn name(field_name: &str, raw: &Option<String>) -> Result<Option<String>, BrandingError> {
    let Some(name) = given(raw) else { return Ok(None) };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(field(field_name, format!("1 to {MAX_NAME_CHARS} printable characters")));
    }
    Ok(Some(name.to_owned()))
}

fn address(field_name: &str, raw: &Option<String>) -> Result<Option<EmailAddress>, BrandingError> {
    given(raw).map(|a| EmailAddress::parse(a).map_err(|e| field(field_name, e))).transpose()
}

impl BrandingDraft {
    /// The branding this draft describes, with `logo` kept, as of `now`.
    /// `check` sees every email template in its language (parse and render)
    /// after its shape passed.
    pub fn into_branding(
        self,
        logo: Option<Logo>,
        now: OffsetDateTime,
        check: &dyn Fn(&str, EmailPart, &str) -> Result<(), String>,
    ) -> Result<Branding, BrandingError> {
        let color = |name: &str, raw: &Option<String>| {
            given(raw).map(|c| Color::parse(c).map_err(|e| field(name, e))).transpose()
        };
        let palette =
            match (color("primaryColor", &self.primary_color)?, color("backgroundColor", &self.background_color)?) {
                (Some(primary), Some(background)) => Some(Palette::new(primary, background)?),
                (None, None) => None,
                (Some(_), None) => return Err(field("backgroundColor", "required with primaryColor")),
                (None, Some(_)) => return Err(field("primaryColor", "required with backgroundColor")),
            };
        let default_language = given(&self.default_language)
            .map(|l| supported_language(l).map(str::to_owned).map_err(|e| field("defaultLanguage", e)))
            .transpose()?;
        let mut overrides: BTreeMap<String, LanguageOverrides> = BTreeMap::new();
        let mut seen = Vec::new();
        for (i, t) in self.templates.iter().enumerate() {
            let at = |rest: &str| format!("templates[{i}].{rest}");
            let lang = supported_language(&t.language).map_err(|e| field(at("language"), e))?;
            if seen.contains(&lang) {
                return Err(field(at("language"), format!("{lang} is given twice")));
            }
            seen.push(lang);
            let mut o = LanguageOverrides::default();
            for (part, raw) in
                [(EmailPart::Subject, &t.subject), (EmailPart::Text, &t.text), (EmailPart::Html, &t.html)]
            {
                let Some(source) = raw.as_deref().filter(|s| !s.trim().is_empty()) else { continue };
                let source = if part == EmailPart::Subject { source.trim() } else { source };
                check_email_part(part, source).map_err(|e| field(at(part.as_str()), e))?;
                check(lang, part, source).map_err(|e| field(at(part.as_str()), e))?;
                o.email.insert(part, source.to_owned());
            }
            for (key, text) in &t.page {
                let k = PageText::parse(key).map_err(|e| field(at("page"), e))?;
                let text = text.trim();
                check_line(text).map_err(|e| field(at(&format!("page.{}", k.as_str())), e))?;
                o.page.insert(k, text.to_owned());
            }
            if !o.is_empty() {
                overrides.insert(lang.to_owned(), o);
            }
        }
        Ok(Branding {
            display_name: name("displayName", &self.display_name)?,
            palette,
            sender_name: name("senderName", &self.sender_name)?,
            sender_address: address("senderAddress", &self.sender_address)?,
            reply_to: address("replyTo", &self.reply_to)?,
            default_language,
            overrides,
            logo,
            updated_at: now,
        })
    }
}

/// The branding an email is sent with: the organization's, and the
/// absolute address of its logo (the email is read far from onboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBrand {
    pub branding: Arc<Branding>,
    pub logo_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

    fn accept(_: &str, _: EmailPart, _: &str) -> Result<(), String> {
        Ok(())
    }

    fn draft() -> BrandingDraft {
        BrandingDraft {
            display_name: Some(" Acme Corp ".into()),
            primary_color: Some("#1D4ED8".into()),
            background_color: Some("#ffffff".into()),
            sender_name: Some("Acme IT".into()),
            sender_address: Some("it@acme.example".into()),
            reply_to: Some("help@acme.example".into()),
            default_language: Some("de".into()),
            templates: vec![TemplatesDraft {
                language: "de-CH".into(),
                subject: Some(" Willkommen bei {{ org }} ".into()),
                text: None,
                html: Some("".into()),
                page: vec![("help".into(), "Fragen? Rufen Sie 123 an.".into())],
            }],
        }
    }

    #[test]
    fn a_draft_becomes_branding_trimmed_and_typed() {
        let b = draft().into_branding(None, T0, &accept).unwrap();
        assert_eq!(b.display_name.as_deref(), Some("Acme Corp"));
        assert_eq!(b.palette.unwrap().primary().hex(), "#1d4ed8");
        assert_eq!(b.sender_address.as_ref().map(EmailAddress::as_str), Some("it@acme.example"));
        assert_eq!(b.default_language.as_deref(), Some("de"));
        assert_eq!(b.email_override("de", EmailPart::Subject), Some("Willkommen bei {{ org }}"));
        assert_eq!(b.email_override("de", EmailPart::Html), None, "an empty part stays built in");
        assert_eq!(b.page_text("de", PageText::Help), Some("Fragen? Rufen Sie 123 an."));
        assert_eq!(b.page_text("en", PageText::Help), None);
        let org = OrgId::parse("100").unwrap();
        assert_eq!(b.style_path(&org).as_deref(), Some("/ui/login/user/init/brand/100/style.css?v=1d4ed8ffffff"));
        assert_eq!(b.logo_path(&org), None);
        let empty = BrandingDraft::default().into_branding(None, T0, &accept).unwrap();
        assert!(empty.palette.is_none() && empty.overrides.is_empty() && empty.display_name.is_none());
    }

    #[test]
    fn the_language_is_the_users_if_spoken_else_the_default() {
        let b = draft().into_branding(None, T0, &accept).unwrap();
        let lang = |t: &str| Language::parse(t).unwrap();
        assert_eq!(b.language_for(Some(&lang("en-GB"))), Some("en"));
        assert_eq!(b.language_for(Some(&lang("fr"))), Some("de"));
        assert_eq!(b.language_for(None), Some("de"));
    }

    #[test]
    fn bad_fields_are_refused_by_name() {
        let refused = |d: BrandingDraft| d.into_branding(None, T0, &accept).unwrap_err().to_string();
        assert!(refused(BrandingDraft { primary_color: Some("blue".into()), ..draft() }).starts_with("primaryColor: "));
        assert_eq!(
            refused(BrandingDraft { background_color: None, ..draft() }),
            "backgroundColor: required with primaryColor"
        );
        let low = refused(BrandingDraft { primary_color: Some("#aaaaaa".into()), ..draft() });
        assert_eq!(
            low,
            "primaryColor, backgroundColor: the contrast of primary colour #aaaaaa on background colour #ffffff is \
             2.32:1; WCAG AA needs at least 4.5:1"
        );
        assert!(
            refused(BrandingDraft { sender_address: Some("nope".into()), ..draft() }).starts_with("senderAddress: ")
        );
        assert!(refused(BrandingDraft { reply_to: Some("a@".into()), ..draft() }).starts_with("replyTo: "));
        assert!(
            refused(BrandingDraft { default_language: Some("fr".into()), ..draft() }).starts_with("defaultLanguage: ")
        );
        assert!(refused(BrandingDraft { display_name: Some("x".repeat(201)), ..draft() }).starts_with("displayName: "));
        let twice = BrandingDraft {
            templates: vec![
                TemplatesDraft { language: "de".into(), ..TemplatesDraft::default() },
                TemplatesDraft { language: "de-AT".into(), ..TemplatesDraft::default() },
            ],
            ..draft()
        };
        assert_eq!(refused(twice), "templates[1].language: de is given twice");
        let page = BrandingDraft {
            templates: vec![TemplatesDraft {
                language: "en".into(),
                page: vec![("submit".into(), "Go".into())],
                ..TemplatesDraft::default()
            }],
            ..draft()
        };
        assert!(refused(page).starts_with("templates[0].page: \"submit\" is no page text"));
    }

    #[test]
    fn the_template_check_sees_each_part_in_its_language() {
        let seen = std::sync::Mutex::new(Vec::new());
        let check = |lang: &str, part: EmailPart, source: &str| {
            seen.lock().unwrap().push((lang.to_owned(), part, source.to_owned()));
            if source.contains("{%") { Err("syntax error: unexpected end of input".to_owned()) } else { Ok(()) }
        };
        draft().into_branding(None, T0, &check).unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            vec![("de".to_owned(), EmailPart::Subject, "Willkommen bei {{ org }}".to_owned())]
        );
        let bad = BrandingDraft {
            templates: vec![TemplatesDraft {
                language: "en".into(),
                html: Some("<p>{% if %}</p>".into()),
                ..TemplatesDraft::default()
            }],
            ..draft()
        };
        assert_eq!(
            bad.into_branding(None, T0, &check).unwrap_err().to_string(),
            "templates[0].html: syntax error: unexpected end of input"
        );
    }
}
