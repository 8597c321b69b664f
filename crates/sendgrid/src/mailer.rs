//! One API call per batch of recipients that share a language; the message
//! is built with the `sendgrid` crate's v3 types and posted with our own
//! HTTP client (connect and total timeouts, and access to the answer's
//! headers for `X-Message-Id` and `Retry-After`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use onboard_domain::ports::{InitMessage, MailError, Mailer};
use onboard_mail::{Templates, Values, display_name, expiry_text};
use reqwest::StatusCode;
use sendgrid::v3::{Content, Email, Message, Personalization};

/// The most recipients SendGrid takes in one call.
pub const MAX_BATCH: usize = 1000;
/// A throttled call without a hint waits this long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct SendGridSettings {
    pub api_key: String,
    /// `https://api.sendgrid.com` or a proxy / test server.
    pub base_url: String,
    pub from_email: String,
    pub from_name: String,
    /// A dynamic template (`d-…`): then the code, link, login name and
    /// expiry go in as dynamic template data instead of our templates.
    pub template_id: Option<String>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Recipients per call, 1 to 1,000 (1: no batching).
    pub batch_limit: usize,
}

impl std::fmt::Debug for SendGridSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGridSettings")
            .field("base_url", &self.base_url)
            .field("from_email", &self.from_email)
            .field("template_id", &self.template_id)
            .field("batch_limit", &self.batch_limit)
            .finish_non_exhaustive()
    }
}

impl SendGridSettings {
    pub fn new(api_key: String, from_email: String, from_name: String) -> Self {
        Self {
            api_key,
            base_url: "https://api.sendgrid.com".into(),
            from_email,
            from_name,
            template_id: None,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            batch_limit: MAX_BATCH,
        }
    }
}

#[derive(Clone)]
pub struct SendGridMailer {
    http: reqwest::Client,
    endpoint: String,
    settings: SendGridSettings,
    templates: Arc<Templates>,
}

impl std::fmt::Debug for SendGridMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGridMailer").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

/// Placeholders of the per-recipient values in a batch's shared content;
/// SendGrid replaces them per personalization. Text and HTML get their own,
/// because HTML needs the values escaped.
const TEXT_KEYS: [&str; 5] = ["-onbNameT-", "-onbLinkT-", "-onbCodeT-", "-onbExpiresT-", "-onbAppT-"];
const HTML_KEYS: [&str; 5] = ["-onbNameH-", "-onbLinkH-", "-onbCodeH-", "-onbExpiresH-", "-onbAppH-"];

/// One recipient's values, owned, for the borrowed v3 types to point into.
struct Recipient {
    /// Placeholder → value, for plain content.
    subs: Vec<(String, String)>,
    /// Our ids, echoed back on every webhook event.
    args: Vec<(String, String)>,
    /// The values for a dynamic template.
    data: serde_json::Value,
}

/// The template's values as placeholders; `named` says whether the batch's
/// emails name an application (batches are grouped by it, so the template's
/// condition on it holds for every recipient).
fn placeholders(keys: &[&'static str; 5], named: bool, reminder: bool) -> Values<'static> {
    Values {
        name: keys[0],
        link: keys[1],
        code: keys[2],
        expires: keys[3],
        application: if named { keys[4] } else { "" },
        reminder,
    }
}

fn html_escaped(s: &str) -> String {
    minijinja::HtmlEscape(s).to_string()
}

impl SendGridMailer {
    pub fn new(settings: SendGridSettings, templates: Arc<Templates>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| format!("sendgrid http client: {e}"))?;
        let endpoint = format!("{}/v3/mail/send", settings.base_url.trim_end_matches('/'));
        let settings = SendGridSettings { batch_limit: settings.batch_limit.clamp(1, MAX_BATCH), ..settings };
        Ok(Self { http, endpoint, settings, templates })
    }

    /// The v3 request for `batch` (all one language, all naming an
    /// application or none, and one organization when branded: its sender,
    /// reply-to, look and words).
    fn request_body(&self, lang: &str, batch: &[&InitMessage]) -> Result<String, String> {
        let named = batch.first().is_some_and(|m| m.application_name.is_some());
        // Batches are grouped by it too: reminders say so in subject and text.
        let reminder = batch.first().is_some_and(|m| m.reminder);
        let s = &self.settings;
        let brand = batch.first().and_then(|m| m.brand.as_ref());
        let (from_name, from_email) = match batch.first() {
            Some(m) => onboard_mail::sender(m, &s.from_name, &s.from_email),
            None => (s.from_name.as_str(), s.from_email.as_str()),
        };
        // Rendered once for the batch, with placeholders SendGrid fills per recipient.
        let (text, html) = match &s.template_id {
            Some(_) => (None, None),
            None => (
                Some(self.templates.render_branded(lang, placeholders(&TEXT_KEYS, named, reminder), brand)?),
                Some(self.templates.render_branded(lang, placeholders(&HTML_KEYS, named, reminder), brand)?.html),
            ),
        };
        let subject = text.as_ref().map_or(onboard_mail::SUBJECT, |t| t.subject.as_str());
        let mut message = Message::new(Email::new(from_email).set_name(from_name)).set_subject(subject);
        if let Some(reply_to) = brand.and_then(|b| b.branding.reply_to.as_ref()) {
            message = message.set_reply_to(Email::new(reply_to.as_str()));
        }
        // Owned per-recipient strings the borrowed v3 types point into.
        let per_recipient: Vec<Recipient> = batch
            .iter()
            .map(|m| {
                let expires = expiry_text(m);
                let name = display_name(m);
                let application = m.application_name.as_deref().unwrap_or_default();
                let values = [name, m.link.as_str(), m.code.expose(), expires.as_str(), application];
                let subs: Vec<(String, String)> = TEXT_KEYS
                    .iter()
                    .zip(values)
                    .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                    .chain(HTML_KEYS.iter().zip(values).map(|(k, v)| ((*k).to_owned(), html_escaped(v))))
                    .collect();
                let args = vec![
                    ("onboard_notification_id".to_owned(), m.notification_id.to_string()),
                    ("onboard_user_id".to_owned(), m.user_id.to_string()),
                ];
                let mut data = serde_json::json!({
                    "code": m.code.expose(),
                    "link": m.link,
                    "login_name": m.login_name,
                    "display_name": name,
                    "expires": expires,
                    "application_name": m.application_name,
                    "reminder": m.reminder,
                });
                // A dynamic template can show the organization's look too.
                if let Some(b) = &m.brand {
                    if let Some(org) = &b.branding.display_name {
                        data["org"] = org.as_str().into();
                    }
                    if let Some(url) = &b.logo_url {
                        data["logo_url"] = url.as_str().into();
                    }
                    if let Some(p) = b.branding.palette {
                        data["primary"] = p.primary().hex().into();
                        data["background"] = p.background().hex().into();
                    }
                }
                Recipient { subs, args, data }
            })
            .collect();
        match (&s.template_id, &text, &html) {
            (Some(template), _, _) => message = message.set_template_id(template),
            (None, Some(text), Some(html)) => {
                // SendGrid wants text/plain before text/html.
                message = message
                    .add_content(Content::new().set_content_type("text/plain").set_value(&text.text))
                    .add_content(Content::new().set_content_type("text/html").set_value(html));
            }
            (None, _, _) => return Err("no content rendered".into()),
        }
        for (m, Recipient { subs, args, data }) in batch.iter().zip(&per_recipient) {
            let to = Email::new(m.recipient.as_str()).set_name(display_name(m));
            let args: HashMap<&str, &str> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut p = Personalization::new(to).add_custom_args(&args);
            if s.template_id.is_some() {
                p = p.add_dynamic_template_data_json(data).map_err(|e| e.to_string())?;
            } else {
                let subs: HashMap<&str, &str> = subs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                p = p.add_substitutions(&subs);
            }
            message = message.add_personalization(p);
        }
        serde_json::to_string(&message).map_err(|e| e.to_string())
    }

    /// One call for `batch`; on a whole-batch rejection, one call per message.
    async fn send_chunk(&self, lang: &str, batch: &[&InitMessage]) -> Vec<Result<String, MailError>> {
        let outcome = self.post(lang, batch).await;
        match outcome {
            Err(MailError::Permanent(reason))
                if batch.len() > 1 && !reason.starts_with("401") && !reason.starts_with("403") =>
            {
                tracing::warn!(%reason, recipients = batch.len(), "batch rejected as a whole; sending one by one");
                let mut results = Vec::with_capacity(batch.len());
                for m in batch {
                    results.push(self.post(lang, std::slice::from_ref(m)).await);
                }
                results
            }
            other => batch.iter().map(|_| other.clone()).collect(),
        }
    }

    #[tracing::instrument(skip_all, fields(recipients = batch.len()))]
    async fn post(&self, lang: &str, batch: &[&InitMessage]) -> Result<String, MailError> {
        let body =
            self.request_body(lang, batch).map_err(|e| MailError::Permanent(format!("building the request: {e}")))?;
        let resp = self
            .http
            .post(&self.endpoint)
            .bearer_auth(&self.settings.api_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| MailError::Transient(format!("sendgrid unreachable: {}", without_url(&e))))?;
        let status = resp.status();
        if status.is_success() {
            let id = resp.headers().get("x-message-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            return Ok(id);
        }
        let retry_after = retry_after(resp.headers());
        let detail = error_text(&resp.text().await.unwrap_or_default());
        let reason = format!("{} {detail}", status.as_u16());
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => {
                MailError::Throttled { reason, retry_after: retry_after.unwrap_or(DEFAULT_RETRY_AFTER) }
            }
            s if s.is_server_error() => MailError::Transient(reason),
            StatusCode::REQUEST_TIMEOUT => MailError::Transient(reason),
            _ => MailError::Permanent(reason),
        })
    }
}

/// reqwest's errors name the URL; the base URL is configuration, not secret,
/// but the error is logged per email, so it is kept short.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_owned()
}

/// `Retry-After` in seconds, or `X-RateLimit-Reset` as a Unix time.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(secs) = text("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let reset = text("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now).max(1)))
}

/// The messages of SendGrid's `{"errors": [{"message": …}]}`, or the body.
fn error_text(body: &str) -> String {
    let parsed: Option<Vec<String>> = serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| {
        v["errors"]
            .as_array()
            .map(|errs| errs.iter().filter_map(|e| e["message"].as_str().map(str::to_owned)).collect())
    });
    match parsed {
        Some(messages) if !messages.is_empty() => messages.join("; "),
        _ => body.chars().take(200).collect(),
    }
}

#[async_trait]
impl Mailer for SendGridMailer {
    async fn send_init(&self, message: &InitMessage) -> Result<String, MailError> {
        self.send_batch(std::slice::from_ref(message))
            .await
            .pop()
            .unwrap_or_else(|| Err(MailError::Transient("no result".into())))
    }

    /// Groups by template language and whether an application is named (all
    /// together with a dynamic template) and, for branded emails, by
    /// organization, then sends each group in calls of up to `batch_limit`
    /// recipients.
    async fn send_batch(&self, messages: &[InitMessage]) -> Vec<Result<String, MailError>> {
        // A dynamic template gets the application as data; onboard's own
        // templates are rendered once per batch, so a batch either names one or not.
        type Group<'m> = ((&'static str, bool, bool, Option<&'m onboard_domain::OrgId>), Vec<usize>);
        let mut groups: Vec<Group<'_>> = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let (lang, named, reminder) = match self.settings.template_id {
                Some(_) => ("", false, false),
                None => (onboard_mail::language_of(m), m.application_name.is_some(), m.reminder),
            };
            let key = (lang, named, reminder, m.brand.as_ref().map(|_| &m.org_id));
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, idx)) => idx.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        let mut results: Vec<Option<Result<String, MailError>>> = vec![None; messages.len()];
        for ((lang, _, _, _), indices) in groups {
            for chunk in indices.chunks(self.settings.batch_limit) {
                let batch: Vec<&InitMessage> = chunk.iter().map(|&i| &messages[i]).collect();
                for (&i, r) in chunk.iter().zip(self.send_chunk(lang, &batch).await) {
                    results[i] = Some(r);
                }
            }
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(MailError::Transient("not sent".into())))).collect()
    }
}
