//! The initialization email's content. Built-in templates in English and
//! German (minijinja; HTML parts auto-escape their values), chosen by the
//! user's preferred language, each overridable by a file in a folder given
//! in the configuration, and per organization by its branding (its look in
//! the built-in templates, or its own templates, checked when uploaded:
//! [`Templates`] is the domain's `TemplateCheck`).

mod compose;

use std::path::Path;

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use onboard_domain::branding::EmailPart;
use onboard_domain::ports::{InitMessage, TemplateCheck};
use onboard_domain::{Language, MessageBrand};

pub use compose::{Composer, NOTIFICATION_HEADER, sender};

/// ZITADEL's subject, kept so filters on it keep working.
pub const SUBJECT: &str = "Initialize User";

/// What a reminder's subject starts with (a built-in subject, or an
/// organization's own that does not change for a reminder).
pub const REMINDER_PREFIX: &str = "Reminder: ";

/// Languages with their own templates; any other gets English.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

const BUILTIN: [(&str, &str); 4] = [
    ("init.en.txt", include_str!("../templates/init.en.txt")),
    ("init.en.html", include_str!("../templates/init.en.html")),
    ("init.de.txt", include_str!("../templates/init.de.txt")),
    ("init.de.html", include_str!("../templates/init.de.html")),
];

/// One email, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The values a template sees. For batch sends they may be placeholders the
/// provider replaces per recipient.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    pub name: &'a str,
    pub link: &'a str,
    pub code: &'a str,
    pub expires: &'a str,
    /// The application the user is invited to; empty when none was named.
    pub application: &'a str,
    /// A scheduled reminder of the invitation: the templates say so.
    pub reminder: bool,
}

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Templates {
    pub fn builtin() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
        env.set_keep_trailing_newline(true);
        for (name, source) in BUILTIN {
            env.add_template(name, source).expect("built-in templates parse");
        }
        Self { env }
    }

    /// The built-in templates, with any of `init.<lang>.txt` and
    /// `init.<lang>.html` found in `dir` taking their place. A template that
    /// does not parse is an error naming the file.
    pub fn with_overrides(dir: &Path) -> Result<Self, String> {
        let mut templates = Self::builtin();
        for (name, _) in BUILTIN {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(source) => templates
                    .env
                    .add_template_owned(name.to_owned(), source)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        // Render each once, so a template that fails at render time fails at start-up.
        for lang in LANGUAGES {
            for application in ["", "a"] {
                for reminder in [false, true] {
                    let values = Values { name: "n", link: "l", code: "c", expires: "e", application, reminder };
                    templates.render(lang, values)?;
                }
            }
        }
        Ok(templates)
    }

    /// The template language for a user's preferred language.
    pub fn language_for(language: Option<&Language>) -> &'static str {
        let primary = language.map(Language::primary).unwrap_or_default();
        LANGUAGES.into_iter().find(|l| *l == primary).unwrap_or("en")
    }

    pub fn render(&self, lang: &str, v: Values<'_>) -> Result<Rendered, String> {
        self.render_branded(lang, v, None)
    }

    /// The email in `lang`, in the look and words of `brand` when given:
    /// its own templates where it has them, else the built-in ones showing
    /// its name, logo and colours.
    pub fn render_branded(&self, lang: &str, v: Values<'_>, brand: Option<&MessageBrand>) -> Result<Rendered, String> {
        let ctx = context_of(v, brand);
        let own = |part: EmailPart| brand.and_then(|b| b.branding.email_override(lang, part));
        let part = |kind: &str, email_part: EmailPart| match own(email_part) {
            Some(source) => self
                .env
                .template_from_named_str(override_name(email_part), source)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| format!("the organization's {} template ({lang}): {e}", email_part.as_str())),
            None => {
                let name = format!("init.{lang}.{kind}");
                self.env.get_template(&name).and_then(|t| t.render(&ctx)).map_err(|e| format!("template {name}: {e}"))
            }
        };
        let subject = match own(EmailPart::Subject) {
            Some(source) => {
                let subject = one_line(&part("", EmailPart::Subject)?)?;
                // An organization's subject that says nothing of reminders gets the prefix.
                let plain = || {
                    let ctx = context_of(Values { reminder: false, ..v }, brand);
                    self.env
                        .template_from_named_str(override_name(EmailPart::Subject), source)
                        .and_then(|t| t.render(&ctx))
                };
                if v.reminder && plain().is_ok_and(|p| p.trim() == subject) {
                    format!("{REMINDER_PREFIX}{subject}")
                } else {
                    subject
                }
            }
            None if v.reminder => format!("{REMINDER_PREFIX}{SUBJECT}"),
            None => SUBJECT.to_owned(),
        };
        Ok(Rendered { subject, text: part("txt", EmailPart::Text)?, html: part("html", EmailPart::Html)? })
    }

    /// `message` rendered in its recipient's language (or its organization's
    /// default language), in its organization's branding.
    pub fn render_message(&self, message: &InitMessage) -> Result<Rendered, String> {
        let expires = expiry_text(message);
        self.render_branded(
            language_of(message),
            Values {
                name: display_name(message),
                link: &message.link,
                code: message.code.expose(),
                expires: &expires,
                application: message.application_name.as_deref().unwrap_or_default(),
                reminder: message.reminder,
            },
            message.brand.as_ref(),
        )
    }
}

/// The template language of `message`: its recipient's if onboard speaks
/// it, else its organization's default, else English.
pub fn language_of(message: &InitMessage) -> &'static str {
    let branded = message.brand.as_ref().and_then(|b| b.branding.language_for(message.language.as_ref()));
    match branded {
        Some(lang) => LANGUAGES.into_iter().find(|l| *l == lang).unwrap_or("en"),
        None => Templates::language_for(message.language.as_ref()),
    }
}

/// The name an organization's template is parsed under: its ending decides
/// whether values are HTML-escaped.
fn override_name(part: EmailPart) -> &'static str {
    match part {
        EmailPart::Subject => "subject.txt",
        EmailPart::Text => "organization.txt",
        EmailPart::Html => "organization.html",
    }
}

fn one_line(subject: &str) -> Result<String, String> {
    let subject = subject.trim();
    if subject.is_empty() || subject.contains(['\r', '\n']) {
        return Err("the organization's subject template must render one non-empty line".into());
    }
    Ok(subject.to_owned())
}

/// What a template sees: the values of the email, and the organization's
/// look when branded (`org`, `logo_url`, `primary`, `background`,
/// `text_color`, `on_primary`; each absent when the branding lacks it).
fn context_of(v: Values<'_>, brand: Option<&MessageBrand>) -> BTreeMap<&'static str, Value> {
    let mut ctx: BTreeMap<&'static str, Value> =
        [("name", v.name), ("link", v.link), ("code", v.code), ("expires", v.expires), ("application", v.application)]
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect();
    ctx.insert("reminder", Value::from(v.reminder));
    let Some(brand) = brand else { return ctx };
    let b = &brand.branding;
    if let Some(name) = &b.display_name {
        ctx.insert("org", Value::from(name.as_str()));
    }
    if let Some(url) = &brand.logo_url {
        ctx.insert("logo_url", Value::from(url.as_str()));
    }
    if let Some(p) = b.palette {
        for (key, color) in [
            ("primary", p.primary()),
            ("background", p.background()),
            ("text_color", p.text()),
            ("on_primary", p.on_primary()),
        ] {
            ctx.insert(key, Value::from(color.hex()));
        }
    }
    ctx
}

/// A code no real email carries, also inside the sample link, so a template
/// that shows the link or the code shows it.
const SAMPLE_CODE: &str = "Q7K9ZX";

impl TemplateCheck for Templates {
    /// Parses `source` and renders it with every value an email may give,
    /// strictly (a misspelt value is an error, not an empty string); text
    /// and HTML must show the link or the code, a subject must be one line.
    fn check(&self, lang: &str, part: EmailPart, source: &str) -> Result<(), String> {
        let mut env = self.env.clone();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let template = env.template_from_named_str(override_name(part), source).map_err(|e| e.to_string())?;
        let link = format!("https://id.example.com/ui/login/user/init?userID=1&code={SAMPLE_CODE}&orgID=2");
        let values = Values {
            name: "Jane Doe",
            link: &link,
            code: SAMPLE_CODE,
            expires: "2030-01-01 12:00 UTC",
            application: "",
            reminder: false,
        };
        let mut ctx = context_of(values, None);
        for (key, sample) in [
            ("org", "Acme"),
            ("logo_url", "https://id.example.com/ui/login/user/init/brand/2/logo?v=0"),
            ("primary", "#1d4ed8"),
            ("background", "#ffffff"),
            ("text_color", "#1f2328"),
            ("on_primary", "#ffffff"),
        ] {
            ctx.insert(key, Value::from(sample));
        }
        let out = template.render(&ctx).map_err(|e| e.to_string())?;
        match part {
            EmailPart::Subject => one_line(&out).map(drop),
            EmailPart::Text | EmailPart::Html if !out.contains(SAMPLE_CODE) => {
                Err(format!("the {lang} email must show the link ({{{{ link }}}}) or the code ({{{{ code }}}})"))
            }
            EmailPart::Text | EmailPart::Html => Ok(()),
        }
    }
}

/// How the greeting names the recipient.
pub fn display_name(message: &InitMessage) -> &str {
    if message.display_name.is_empty() { &message.login_name } else { &message.display_name }
}

/// The code's expiry as the emails write it.
pub fn expiry_text(message: &InitMessage) -> String {
    message
        .expires_at
        .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            name: "Jane <Doe>",
            link: "https://x/init?a=1&b=2",
            code: "ABC123",
            expires: "2026-01-04 12:00 UTC",
            application: "",
            reminder: false,
        }
    }

    #[test]
    fn a_reminder_says_it_is_one_in_subject_and_text() {
        let t = Templates::builtin();
        let reminder = Values { reminder: true, ..values() };
        let en = t.render("en", reminder).unwrap();
        assert_eq!(en.subject, "Reminder: Initialize User");
        assert!(
            en.text.contains(
                "A reminder: your invitation is still waiting for you, and it expires on 2026-01-04 12:00 UTC."
            ),
            "{}",
            en.text
        );
        assert!(en.html.contains("<strong>A reminder:</strong>"), "{}", en.html);
        assert!(en.text.contains("ABC123"));
        let de = t.render("de", reminder).unwrap();
        assert!(de.text.contains("Eine Erinnerung: Ihre Einladung wartet noch auf Sie"), "{}", de.text);
        assert!(de.html.contains("<strong>Eine Erinnerung:</strong>"), "{}", de.html);
        let plain = t.render("en", values()).unwrap();
        assert!(!plain.text.contains("reminder") && plain.subject == SUBJECT, "{}", plain.text);
        // An organization's subject gets the prefix, unless it speaks of reminders itself.
        let mut brand = brand(&[EmailPart::Subject]);
        let subject = t.render_branded("en", reminder, Some(&brand)).unwrap().subject;
        assert_eq!(subject, "Reminder: Welcome to Acme Corporation");
        let own = "{% if reminder %}Still waiting: {% endif %}Welcome to {{ org }}";
        let mut branding = (*brand.branding).clone();
        branding.overrides.get_mut("en").unwrap().email.insert(EmailPart::Subject, own.to_owned());
        brand.branding = std::sync::Arc::new(branding);
        assert_eq!(
            t.render_branded("en", reminder, Some(&brand)).unwrap().subject,
            "Still waiting: Welcome to Acme Corporation"
        );
        assert_eq!(t.render_branded("en", values(), Some(&brand)).unwrap().subject, "Welcome to Acme Corporation");
        assert!(t.check("en", EmailPart::Subject, own).is_ok(), "the value is known to the check");
    }

    #[test]
    fn an_application_is_named_when_given() {
        let t = Templates::builtin();
        let named = Values { application: "Shop & Co", ..values() };
        let en = t.render("en", named).unwrap();
        assert!(en.text.contains("This user was created for you to use Shop & Co."), "{}", en.text);
        assert!(en.html.contains("to use Shop &amp; Co."), "{}", en.html);
        let de = t.render("de", named).unwrap();
        assert!(de.text.contains("Für Sie wurde ein Benutzer für Shop & Co angelegt."), "{}", de.text);
        let plain = t.render("en", values()).unwrap();
        assert!(plain.text.contains("This user was created for you. Use"), "{}", plain.text);
    }

    /// Without branding the emails are byte for byte what they were before
    /// branding existed (`UPDATE=1` rewrites the expected files).
    #[test]
    fn unbranded_emails_keep_their_bytes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/unbranded");
        for lang in LANGUAGES {
            let r = Templates::builtin().render(lang, values()).unwrap();
            for (kind, got) in [("txt", &r.text), ("html", &r.html)] {
                let path = dir.join(format!("init.{lang}.{kind}"));
                if std::env::var_os("UPDATE").is_some() {
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(&path, got).unwrap();
                }
                assert_eq!(got, &std::fs::read_to_string(&path).unwrap(), "{}", path.display());
            }
            assert_eq!(r.subject, SUBJECT);
        }
    }

    #[test]
    fn english_is_the_default_and_html_values_are_escaped() {
        let r = Templates::builtin().render("en", values()).unwrap();
        assert_eq!(r.subject, "Initialize User");
        assert!(r.text.contains("Hello Jane <Doe>,"));
        assert!(r.text.contains("https://x/init?a=1&b=2"));
        assert!(r.text.contains("Your initialization code: ABC123"));
        assert!(r.html.contains("Hello Jane &lt;Doe&gt;,"));
        assert!(
            r.html.contains("href=\"https:&#x2f;&#x2f;x&#x2f;init?a=1&amp;b=2\"") || r.html.contains("a=1&amp;b=2")
        );
        assert!(r.html.contains(">Finish initialization</a>"));
    }

    #[test]
    fn languages_are_chosen_by_primary_subtag() {
        let de = Language::parse("de-CH").unwrap();
        let fr = Language::parse("fr").unwrap();
        assert_eq!(Templates::language_for(Some(&de)), "de");
        assert_eq!(Templates::language_for(Some(&fr)), "en");
        assert_eq!(Templates::language_for(None), "en");
        let r = Templates::builtin().render("de", values()).unwrap();
        assert!(r.text.contains("Initialisierung abschliessen"));
    }

    #[test]
    fn german_addresses_the_reader_formally_throughout() {
        let r = Templates::builtin().render("de", values()).unwrap();
        for part in [&r.text, &r.html] {
            let words: Vec<String> =
                part.split(|c: char| !c.is_alphabetic()).map(str::to_lowercase).filter(|w| !w.is_empty()).collect();
            for informal in ["du", "dich", "dir", "dein", "deine", "deinen", "schliesse", "wähle"] {
                assert!(!words.iter().any(|w| w == informal), "{informal:?} in {part}");
            }
            assert!(part.contains("Sie") && part.contains("Ihr"), "{part}");
        }
    }

    #[test]
    fn files_override_the_built_in_templates_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("init.en.txt"), "Welcome {{ name }}: {{ link }}\n").unwrap();
        let t = Templates::with_overrides(dir.path()).unwrap();
        let r = t.render("en", values()).unwrap();
        assert_eq!(r.text, "Welcome Jane <Doe>: https://x/init?a=1&b=2\n");
        assert!(r.html.contains("Finish initialization"), "the other parts stay built in");
        std::fs::write(dir.path().join("init.de.html"), "{% if %}").unwrap();
        let err = Templates::with_overrides(dir.path()).unwrap_err();
        assert!(err.contains("init.de.html"), "{err}");
    }

    /// The sample branding (every field, overrides in English) with `keep`
    /// of its English email overrides.
    pub(crate) fn brand(keep: &[EmailPart]) -> MessageBrand {
        let mut branding = onboard_domain::testkit::full_branding();
        if let Some(en) = branding.overrides.get_mut("en") {
            en.email.retain(|part, _| keep.contains(part));
        }
        MessageBrand {
            branding: std::sync::Arc::new(branding),
            logo_url: Some("https://id.example.com/ui/login/user/init/brand/2/logo?v=abc".into()),
        }
    }

    #[test]
    fn the_built_in_email_wears_the_organizations_name_logo_and_colours() {
        let b = brand(&[]);
        let r = Templates::builtin().render_branded("en", values(), Some(&b)).unwrap();
        assert_eq!(r.subject, SUBJECT);
        assert!(r.html.contains("color:#1f2328;background:#fffbfe\">"), "{}", r.html);
        assert!(
            r.html.contains("<img src=\"https:&#x2f;&#x2f;id.example.com&#x2f;ui&#x2f;login&#x2f;user&#x2f;init&#x2f;brand&#x2f;2&#x2f;logo?v=abc\" alt=\"Acme Corporation\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("background:#b3261e;color:#ffffff;"), "{}", r.html);
        assert!(r.html.contains("Hello Jane &lt;Doe&gt;,"));
        assert!(r.text.ends_with("ignore this email.\n\n-- \nAcme Corporation\n"), "{}", r.text);
        // Without a logo the name heads the email.
        let no_logo = MessageBrand { logo_url: None, ..b };
        let r = Templates::builtin().render_branded("de", values(), Some(&no_logo)).unwrap();
        assert!(r.html.contains("<p><strong>Acme Corporation</strong></p>\n<p>Guten Tag"), "{}", r.html);
        assert!(!r.html.contains("<img"));
    }

    #[test]
    fn the_organizations_own_templates_take_the_place_of_the_built_in_ones() {
        let b = brand(&EmailPart::ALL);
        let r = Templates::builtin().render_branded("en", values(), Some(&b)).unwrap();
        assert_eq!(r.subject, "Welcome to Acme Corporation");
        assert_eq!(r.text, "Hi Jane <Doe>: https://x/init?a=1&b=2\n");
        assert!(r.html.starts_with("<p>Hi Jane &lt;Doe&gt;: <a href=\"https:&#x2f;&#x2f;x"), "{}", r.html);
        // Only the parts it has: here the subject, the rest built in.
        let b = brand(&[EmailPart::Subject]);
        let r = Templates::builtin().render_branded("en", values(), Some(&b)).unwrap();
        assert_eq!(r.subject, "Welcome to Acme Corporation");
        assert!(r.text.contains("Finish initialization:"));
        // German has none: built in, in the organization's look.
        let r = Templates::builtin().render_branded("de", values(), Some(&b)).unwrap();
        assert_eq!(r.subject, SUBJECT);
        assert!(r.text.starts_with("Guten Tag"));
    }

    #[test]
    fn the_organizations_default_language_serves_users_without_one() {
        let message = |language: Option<&str>| InitMessage {
            notification_id: onboard_domain::NotificationId::parse("n-1").unwrap(),
            user_id: onboard_domain::UserId::parse("1").unwrap(),
            org_id: onboard_domain::OrgId::parse("2").unwrap(),
            recipient: onboard_domain::EmailAddress::parse("jane@example.com").unwrap(),
            display_name: "Jane".into(),
            login_name: "jane".into(),
            code: onboard_domain::PlainCode::from_stored("ABC123".into()),
            link: "https://id.example.com/ui/login/user/init?userID=1".into(),
            expires_at: time::macros::datetime!(2026-01-04 12:00 UTC),
            language: language.map(|l| Language::parse(l).unwrap()),
            brand: Some(brand(&[])),
            application_name: None,
            reminder: false,
        };
        assert_eq!(language_of(&message(None)), "de", "the organization's default");
        assert_eq!(language_of(&message(Some("fr"))), "de");
        assert_eq!(language_of(&message(Some("en-US"))), "en", "the user's own first");
        assert_eq!(language_of(&InitMessage { brand: None, ..message(None) }), "en");
    }

    #[test]
    fn templates_are_checked_before_they_are_stored() {
        let t = Templates::builtin();
        assert_eq!(t.check("en", EmailPart::Html, "<p>{{ org }}: <a href=\"{{ link }}\">go</a></p>"), Ok(()));
        assert_eq!(t.check("de", EmailPart::Text, "Code: {{ code }}{% if logo_url %}{% endif %}"), Ok(()));
        assert_eq!(t.check("en", EmailPart::Subject, "Welcome to {{ org }}"), Ok(()));
        let err = t.check("en", EmailPart::Html, "<p>{% if %}</p>").unwrap_err();
        assert!(err.contains("syntax error"), "{err}");
        let err = t.check("en", EmailPart::Text, "Hi {{ nmae }} {{ link }}").unwrap_err();
        assert!(err.contains("undefined"), "a misspelt value: {err}");
        let err = t.check("en", EmailPart::Text, "{{ link | nosuchfilter }}").unwrap_err();
        assert!(err.contains("filter"), "{err}");
        let err = t.check("en", EmailPart::Html, "<p>Welcome</p>").unwrap_err();
        assert!(err.contains("must show the link"), "{err}");
        assert!(t.check("en", EmailPart::Subject, "a{{ '\\n' }}b").is_err(), "a subject is one line");
        assert!(t.check("en", EmailPart::Subject, "{{ name ~ '' }}{% for x in 1 %}{% endfor %}").is_err());
    }
}
