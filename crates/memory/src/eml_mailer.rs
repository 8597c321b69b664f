//! The embedded mailer: each message becomes an RFC 5322 `.eml` file (text
//! and HTML parts) in a folder, for people to open and tests to read.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use mail_builder::MessageBuilder;
use onboard_domain::ports::{InitMessage, MailError, Mailer};

/// The subject ZITADEL uses, kept so filters on it keep working.
pub const SUBJECT: &str = "Initialize User";

#[derive(Debug, Clone)]
pub struct EmlMailer {
    dir: PathBuf,
    from_name: String,
    from_address: String,
}

struct Texts {
    greeting: &'static str,
    body: &'static str,
    code: &'static str,
    expires: &'static str,
    button: &'static str,
    ignore: &'static str,
}

const EN: Texts = Texts {
    greeting: "Hello",
    body: "This user was created for you. Use the button below to finish the initialization: verify your email address and choose a password.",
    code: "Your initialization code",
    expires: "The code is valid until",
    button: "Finish initialization",
    ignore: "If you did not ask for this account, you can ignore this email.",
};

const DE: Texts = Texts {
    greeting: "Hallo",
    body: "Dieser Benutzer wurde für dich angelegt. Schliesse die Initialisierung über die Schaltfläche unten ab: bestätige deine E-Mail-Adresse und wähle ein Passwort.",
    code: "Dein Initialisierungscode",
    expires: "Der Code ist gültig bis",
    button: "Initialisierung abschliessen",
    ignore: "Falls du dieses Konto nicht erwartet hast, kannst du diese E-Mail ignorieren.",
};

impl EmlMailer {
    /// Writes into `dir`, which is created when missing.
    pub fn new(dir: impl Into<PathBuf>, from_name: &str, from_address: &str) -> Self {
        Self { dir: dir.into(), from_name: from_name.to_owned(), from_address: from_address.to_owned() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn render(&self, m: &InitMessage, message_id: &str) -> Result<Vec<u8>, std::io::Error> {
        let t = match m.language.as_ref().map(|l| l.primary()) {
            Some(lang) if lang == "de" => &DE,
            _ => &EN,
        };
        let expires = m
            .expires_at
            .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
            .unwrap_or_default();
        let name = if m.display_name.is_empty() { &m.login_name } else { &m.display_name };
        let text = format!(
            "{greeting} {name},\r\n\r\n{body}\r\n\r\n{button}:\r\n{link}\r\n\r\n{code_label}: {code}\r\n{expires_label} {expires}.\r\n\r\n{ignore}\r\n",
            greeting = t.greeting,
            body = t.body,
            button = t.button,
            link = m.link,
            code_label = t.code,
            code = m.code.expose(),
            expires_label = t.expires,
            ignore = t.ignore,
        );
        let esc = |s: &str| html_escape(s);
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif;color:#1b1b1f\">\
             <p>{greeting} {name},</p><p>{body}</p>\
             <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 18px;background:#2d5bd7;color:#fff;border-radius:6px;text-decoration:none\">{button}</a></p>\
             <p>{code_label}: <strong>{code}</strong><br>{expires_label} {expires}.</p>\
             <p style=\"color:#555\">{ignore}</p></body></html>",
            greeting = t.greeting,
            name = esc(name),
            body = t.body,
            link = esc(&m.link),
            button = t.button,
            code_label = t.code,
            code = esc(m.code.expose()),
            expires_label = t.expires,
            ignore = t.ignore,
        );
        MessageBuilder::new()
            .from((self.from_name.as_str(), self.from_address.as_str()))
            .to((name.as_str(), m.recipient.as_str()))
            .subject(SUBJECT)
            .message_id(message_id)
            .header("X-Onboard-Notification-Id", mail_builder::headers::raw::Raw::new(m.notification_id.as_str()))
            .text_body(text)
            .html_body(html)
            .write_to_vec()
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[async_trait]
impl Mailer for EmlMailer {
    #[tracing::instrument(skip_all, fields(notification = %message.notification_id))]
    async fn send_init(&self, message: &InitMessage) -> Result<String, MailError> {
        let message_id = format!("{}@onboard", uuid::Uuid::new_v4());
        let eml = self.render(message, &message_id).map_err(|e| MailError::Permanent(format!("render: {e}")))?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let name = format!("{stamp}-{}.eml", message.notification_id);
        let io = |e: std::io::Error| MailError::Transient(format!("{}: {e}", self.dir.display()));
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        // Written under a temporary name and renamed, so a reader never sees half a file.
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, &eml).await.map_err(io)?;
        tokio::fs::rename(&tmp, self.dir.join(&name)).await.map_err(io)?;
        tracing::info!(recipient = %message.recipient, %message_id, file = %name, "init email written");
        Ok(message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onboard_domain::{EmailAddress, Language, NotificationId, OrgId, PlainCode, UserId};

    fn message(language: Option<&str>) -> InitMessage {
        InitMessage {
            notification_id: NotificationId::parse("n-1").unwrap(),
            user_id: UserId::parse("1").unwrap(),
            org_id: OrgId::parse("2").unwrap(),
            recipient: EmailAddress::parse("jane@example.com").unwrap(),
            display_name: "Jane <Doe>".into(),
            login_name: "jane".into(),
            code: PlainCode::from_stored("ABC123".into()),
            link: "https://id.example.com/ui/login/user/init?userID=1&loginname=jane&code=ABC123&orgID=2&passwordset=false".into(),
            expires_at: time::macros::datetime!(2026-01-04 12:00 UTC),
            language: language.map(|l| Language::parse(l).unwrap()),
        }
    }

    #[tokio::test]
    async fn writes_a_parseable_message_with_both_parts() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = EmlMailer::new(dir.path().join("mail"), "onboard", "noreply@onboard.example");
        let m = message(None);
        let id = mailer.send_init(&m).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("mail")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        assert!(files[0].to_string_lossy().ends_with("-n-1.eml"));
        let raw = std::fs::read(&files[0]).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some(SUBJECT));
        assert_eq!(parsed.message_id(), Some(id.as_str()));
        assert_eq!(parsed.to().unwrap().first().unwrap().address(), Some("jane@example.com"));
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains(&m.link), "{text}");
        assert!(text.contains("Finish initialization"));
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains("Finish initialization</a>"));
        assert!(html.contains("userID=1&amp;loginname=jane&amp;code=ABC123"));
        assert!(html.contains("Jane &lt;Doe&gt;"));
    }

    #[tokio::test]
    async fn german_users_get_german_text() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = EmlMailer::new(dir.path(), "onboard", "noreply@onboard.example");
        mailer.send_init(&message(Some("de-CH"))).await.unwrap();
        let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        let raw = std::fs::read(file).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert!(parsed.body_text(0).unwrap().contains("Initialisierung abschliessen"));
        assert_eq!(parsed.subject(), Some(SUBJECT));
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_a_transient_failure() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let mailer = EmlMailer::new(blocker.join("mail"), "onboard", "noreply@onboard.example");
        assert!(matches!(mailer.send_init(&message(None)).await, Err(MailError::Transient(_))));
    }
}
