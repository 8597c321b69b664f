//! The whole email (RFC 5322, a text and an HTML part) as every mailer that
//! sends bytes hands it on: the `.eml` files and SMTP send the same message.

use std::sync::Arc;

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use onboard_domain::ports::InitMessage;

use crate::{Templates, display_name};

/// The header that names the notification a message carries, for support
/// and for tests that match an email to its record.
pub const NOTIFICATION_HEADER: &str = "X-Onboard-Notification-Id";

/// Sender and templates; composes one message at a time.
#[derive(Debug, Clone)]
pub struct Composer {
    from_name: String,
    from_address: String,
    templates: Arc<Templates>,
}

impl Composer {
    pub fn new(from_name: &str, from_address: &str, templates: Arc<Templates>) -> Self {
        Self { from_name: from_name.to_owned(), from_address: from_address.to_owned(), templates }
    }

    pub fn from_address(&self) -> &str {
        &self.from_address
    }

    /// A fresh `Message-ID` for a message sent from here.
    pub fn message_id(&self) -> String {
        let domain = self.from_address.rsplit_once('@').map_or("onboard", |(_, d)| d);
        format!("{}@{domain}", uuid::Uuid::new_v4())
    }

    /// `message` in its recipient's language, as the bytes of an email with
    /// `message_id` (without angle brackets).
    pub fn compose(&self, message: &InitMessage, message_id: &str) -> Result<Vec<u8>, String> {
        let rendered = self.templates.render_message(message)?;
        MessageBuilder::new()
            .from((self.from_name.as_str(), self.from_address.as_str()))
            .to((display_name(message), message.recipient.as_str()))
            .subject(rendered.subject)
            .message_id(message_id)
            .header(NOTIFICATION_HEADER, Raw::new(message.notification_id.as_str()))
            .text_body(rendered.text)
            .html_body(rendered.html)
            .write_to_vec()
            .map_err(|e| e.to_string())
    }
}
