//! The embedded mailer: each message becomes an RFC 5322 `.eml` file (text
//! and HTML parts) in a folder, for people to open and tests to read.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use async_trait::async_trait;
use onboard_domain::ports::{InitMessage, MailError, Mailer};
use onboard_mail::{Composer, Templates};

#[derive(Debug, Clone)]
pub struct EmlMailer {
    inner: Arc<Shared>,
}

/// What the blocking writer task needs; shared with it.
#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    composer: Composer,
}

impl EmlMailer {
    /// Writes into `dir`, which is created when missing.
    pub fn new(dir: impl Into<PathBuf>, from_name: &str, from_address: &str, templates: Arc<Templates>) -> Self {
        let inner = Shared { dir: dir.into(), composer: Composer::new(from_name, from_address, templates) };
        Self { inner: Arc::new(inner) }
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}

/// One rendered email, ready to be written.
struct Prepared {
    message_id: String,
    recipient: String,
    name: String,
    eml: Vec<u8>,
}

impl Shared {
    fn prepare(&self, message: &InitMessage) -> Result<Prepared, MailError> {
        let message_id = self.composer.message_id();
        let eml =
            self.composer.compose(message, &message_id).map_err(|e| MailError::Permanent(format!("render: {e}")))?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let name = format!("{stamp}-{}.eml", message.notification_id);
        Ok(Prepared { message_id, recipient: message.recipient.to_string(), name, eml })
    }

    /// Renders and writes a batch in one blocking task: rendering is the
    /// CPU-heavy part of an email, and done on an async worker it would hold
    /// up the requests queued there for the whole batch; one hop to the
    /// blocking pool per batch, not three per email.
    async fn send_all(self: Arc<Self>, messages: Vec<InitMessage>) -> Vec<Result<String, MailError>> {
        let count = messages.len();
        let written = tokio::task::spawn_blocking(move || {
            let dir = &self.dir;
            let io = |e: std::io::Error| MailError::Transient(format!("{}: {e}", dir.display()));
            if let Err(e) = std::fs::create_dir_all(dir) {
                return messages.iter().map(|_| Err(io(e.kind().into()))).collect();
            }
            messages
                .iter()
                .map(|m| {
                    let f = self.prepare(m)?;
                    // Written under a temporary name and renamed, so a reader never sees half a file.
                    let tmp = dir.join(format!(".{}.tmp", f.name));
                    std::fs::write(&tmp, &f.eml).map_err(io)?;
                    std::fs::rename(&tmp, dir.join(&f.name)).map_err(io)?;
                    tracing::debug!(recipient = %f.recipient, message_id = %f.message_id, file = %f.name, "init email written");
                    Ok(f.message_id)
                })
                .collect::<Vec<_>>()
        })
        .await;
        written.unwrap_or_else(|e| (0..count).map(|_| Err(MailError::Transient(format!("writer task: {e}")))).collect())
    }
}

#[async_trait]
impl Mailer for EmlMailer {
    #[tracing::instrument(skip_all, fields(notification = %message.notification_id))]
    async fn send_init(&self, message: &InitMessage) -> Result<String, MailError> {
        self.send_batch(std::slice::from_ref(message))
            .await
            .pop()
            .unwrap_or_else(|| Err(MailError::Transient("no result".into())))
    }

    #[tracing::instrument(skip_all, fields(emails = messages.len()))]
    async fn send_batch(&self, messages: &[InitMessage]) -> Vec<Result<String, MailError>> {
        self.inner.clone().send_all(messages.to_vec()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onboard_domain::{EmailAddress, Language, NotificationId, OrgId, PlainCode, UserId};
    use onboard_mail::SUBJECT;

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
            brand: None,
            application_name: None,
        reminder: false,
        }
    }

    #[tokio::test]
    async fn writes_a_parseable_message_with_both_parts() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = EmlMailer::new(dir.path().join("mail"), "onboard", "noreply@onboard.example", Default::default());
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
        assert!(html.contains("ABC123"));
        assert!(html.contains("Jane &lt;Doe&gt;"));
    }

    #[tokio::test]
    async fn german_users_get_german_text() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = EmlMailer::new(dir.path(), "onboard", "noreply@onboard.example", Default::default());
        mailer.send_init(&message(Some("de-CH"))).await.unwrap();
        let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        let raw = std::fs::read(file).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert!(parsed.body_text(0).unwrap().contains("Initialisierung abschliessen"));
        assert_eq!(parsed.subject(), Some(SUBJECT));
    }

    #[tokio::test]
    async fn a_batch_writes_one_file_per_email() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = EmlMailer::new(dir.path(), "onboard", "noreply@onboard.example", Default::default());
        let messages: Vec<_> = (0..3)
            .map(|i| InitMessage {
                notification_id: NotificationId::parse(&format!("n-{i}")).unwrap(),
                ..message(None)
            })
            .collect();
        let results = mailer.send_batch(&messages).await;
        let ids: std::collections::HashSet<_> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_a_transient_failure() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let mailer = EmlMailer::new(blocker.join("mail"), "onboard", "noreply@onboard.example", Default::default());
        assert!(matches!(mailer.send_init(&message(None)).await, Err(MailError::Transient(_))));
    }
}
