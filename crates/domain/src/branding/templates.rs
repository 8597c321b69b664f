//! An organization's own words: email templates (subject, text, HTML) and
//! page texts, per language. The email parts are templates of the mail
//! adapter's engine, checked there ([`TemplateCheck`](crate::ports::TemplateCheck))
//! before they are stored; here only their size and shape.

use std::collections::BTreeMap;

/// The languages onboard speaks, so the ones overrides and a default
/// language may name.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

/// The longest email template accepted (a whole HTML email fits easily).
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// The longest subject or page text.
pub const MAX_LINE_CHARS: usize = 500;

/// A part of the email an organization may word itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum EmailPart {
    Subject,
    Text,
    Html,
}

impl EmailPart {
    pub const ALL: [Self; 3] = [Self::Subject, Self::Text, Self::Html];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Text => "text",
            Self::Html => "html",
        }
    }
}

/// The sentences of the init page an organization may word itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum PageText {
    /// The form's heading ("Set up your account").
    SetupTitle,
    /// Under the greeting, for a user without a password.
    IntroNewPassword,
    /// Under the greeting, for a user who has one.
    IntroHasPassword,
    /// The line under the form ("Trouble with the code? …").
    Help,
    /// The heading when the account is ready.
    DoneTitle,
    /// The sentence when the account is ready.
    DoneText,
    /// What to do next when the account is ready.
    DoneNext,
}

impl PageText {
    pub const ALL: [Self; 7] = [
        Self::SetupTitle,
        Self::IntroNewPassword,
        Self::IntroHasPassword,
        Self::Help,
        Self::DoneTitle,
        Self::DoneText,
        Self::DoneNext,
    ];

    /// Its name in the API: the field names of the page's texts.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetupTitle => "setupTitle",
            Self::IntroNewPassword => "introNewPassword",
            Self::IntroHasPassword => "introHasPassword",
            Self::Help => "help",
            Self::DoneTitle => "doneTitle",
            Self::DoneText => "doneText",
            Self::DoneNext => "doneNext",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw.trim()).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
            format!("{raw:?} is no page text; one of {}", names.join(", "))
        })
    }
}

/// One language's overrides; what is absent stays built in.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LanguageOverrides {
    pub email: BTreeMap<EmailPart, String>,
    pub page: BTreeMap<PageText, String>,
}

impl LanguageOverrides {
    pub fn is_empty(&self) -> bool {
        self.email.is_empty() && self.page.is_empty()
    }
}

/// A language onboard speaks, by its primary subtag (`de` of `de-CH`).
pub fn supported_language(raw: &str) -> Result<&'static str, String> {
    let primary = raw.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    LANGUAGES
        .into_iter()
        .find(|l| *l == primary)
        .ok_or_else(|| format!("{raw:?} is not a language onboard speaks ({})", LANGUAGES.join(", ")))
}

/// The shape an email part must have before its engine sees it.
pub fn check_email_part(part: EmailPart, source: &str) -> Result<(), String> {
    match part {
        EmailPart::Subject => check_line(source),
        EmailPart::Text | EmailPart::Html => {
            if source.trim().is_empty() {
                return Err("must not be empty".into());
            }
            if source.len() > MAX_TEMPLATE_BYTES {
                return Err(format!("has {} bytes; at most {MAX_TEMPLATE_BYTES} are accepted", source.len()));
            }
            if source.contains('\0') {
                return Err("holds a NUL character".into());
            }
            Ok(())
        }
    }
}

/// One line of text: a subject or a page's sentence.
pub fn check_line(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > MAX_LINE_CHARS {
        return Err(format!("must be at most {MAX_LINE_CHARS} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must be one line of printable characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_texts_are_named_as_in_the_api() {
        for key in PageText::ALL {
            assert_eq!(PageText::parse(key.as_str()), Ok(key));
        }
        let err = PageText::parse("submit").unwrap_err();
        assert!(err.contains("setupTitle") && err.contains("doneNext"), "{err}");
    }

    #[test]
    fn only_languages_onboard_speaks_take_overrides() {
        assert_eq!(supported_language("de-CH"), Ok("de"));
        assert_eq!(supported_language("EN"), Ok("en"));
        assert!(supported_language("fr").unwrap_err().contains("en, de"));
        assert!(supported_language("").is_err());
    }

    #[test]
    fn parts_are_checked_for_shape() {
        assert!(check_email_part(EmailPart::Subject, "Welcome to {{ org }}").is_ok());
        assert!(check_email_part(EmailPart::Subject, "two\nlines").is_err());
        assert!(check_email_part(EmailPart::Subject, &"x".repeat(501)).is_err());
        assert!(check_email_part(EmailPart::Html, "  ").is_err());
        assert!(check_email_part(EmailPart::Html, "<p>{{ link }}</p>\n").is_ok());
        assert!(check_email_part(EmailPart::Text, &"x".repeat(MAX_TEMPLATE_BYTES + 1)).is_err());
        assert!(check_line("Konto einrichten").is_ok());
        assert!(check_line("tab\there").is_err());
    }
}
