//! The initialization email's content. Built-in templates in English and
//! German (minijinja; HTML parts auto-escape their values), chosen by the
//! user's preferred language, each overridable by a file in a folder given
//! in the configuration.

mod compose;

use std::path::Path;

use minijinja::{AutoEscape, Environment, context};
use onboard_domain::Language;
use onboard_domain::ports::InitMessage;

pub use compose::{Composer, NOTIFICATION_HEADER};

/// ZITADEL's subject, kept so filters on it keep working.
pub const SUBJECT: &str = "Initialize User";

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
                templates.render(lang, Values { name: "n", link: "l", code: "c", expires: "e", application })?;
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
        let ctx = context! {
            name => v.name, link => v.link, code => v.code, expires => v.expires, application => v.application
        };
        let part = |kind: &str| {
            let name = format!("init.{lang}.{kind}");
            self.env.get_template(&name).and_then(|t| t.render(&ctx)).map_err(|e| format!("template {name}: {e}"))
        };
        Ok(Rendered { subject: SUBJECT.to_owned(), text: part("txt")?, html: part("html")? })
    }

    /// `message` rendered in its recipient's language.
    pub fn render_message(&self, message: &InitMessage) -> Result<Rendered, String> {
        let expires = expiry_text(message);
        self.render(
            Self::language_for(message.language.as_ref()),
            Values {
                name: display_name(message),
                link: &message.link,
                code: message.code.expose(),
                expires: &expires,
                application: message.application_name.as_deref().unwrap_or_default(),
            },
        )
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
        }
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
}
