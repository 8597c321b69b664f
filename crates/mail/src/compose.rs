//! The whole email (RFC 5322, a text and an HTML part) as every mailer that
//! sends bytes hands it on: the `.eml` files and SMTP send the same message.

use std::sync::Arc;

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use onboard_domain::ports::InitMessage;

use crate::{Templates, display_name};

/// The From of `message`: its organization's sender where branding sets
/// it, else the configured one.
pub fn sender<'a>(message: &'a InitMessage, name: &'a str, address: &'a str) -> (&'a str, &'a str) {
    let branding = message.brand.as_ref().map(|b| &*b.branding);
    (
        branding.and_then(|b| b.sender_name.as_deref()).unwrap_or(name),
        branding.and_then(|b| b.sender_address.as_ref()).map_or(address, |a| a.as_str()),
    )
}

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
    /// `message_id` (without angle brackets). A branded message goes out
    /// from its organization's sender (name, address, each where set) with
    /// its reply-to.
    pub fn compose(&self, message: &InitMessage, message_id: &str) -> Result<Vec<u8>, String> {
        let rendered = self.templates.render_message(message)?;
        let (from_name, from_address) = sender(message, &self.from_name, &self.from_address);
        let mut builder = MessageBuilder::new()
            .from((from_name, from_address))
            .to((display_name(message), message.recipient.as_str()));
        if let Some(reply_to) = message.brand.as_ref().and_then(|b| b.branding.reply_to.as_ref()) {
            builder = builder.reply_to(reply_to.as_str());
        }
        builder
            .subject(rendered.subject)
            .message_id(message_id)
            .header(NOTIFICATION_HEADER, Raw::new(message.notification_id.as_str()))
            .text_body(rendered.text)
            .html_body(rendered.html)
            .write_to_vec()
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use onboard_domain::{EmailAddress, NotificationId, OrgId, PlainCode, UserId};

    use super::*;

    fn message(brand: Option<onboard_domain::MessageBrand>) -> InitMessage {
        InitMessage {
            notification_id: NotificationId::parse("n-1").unwrap(),
            user_id: UserId::parse("1").unwrap(),
            org_id: OrgId::parse("2").unwrap(),
            recipient: EmailAddress::parse("jane@example.com").unwrap(),
            display_name: "Jane".into(),
            login_name: "jane".into(),
            code: PlainCode::from_stored("ABC123".into()),
            link: "https://id.example.com/ui/login/user/init?userID=1".into(),
            expires_at: time::macros::datetime!(2026-01-04 12:00 UTC),
            language: None,
            brand,
            application_name: None,
            reminder: false,
        }
    }

    #[test]
    fn a_branded_email_comes_from_the_organizations_sender_with_its_reply_to() {
        let composer = Composer::new("onboard", "noreply@onboard.example", Arc::new(Templates::builtin()));
        let eml =
            String::from_utf8(composer.compose(&message(Some(crate::tests::brand(&[]))), "id@x").unwrap()).unwrap();
        assert!(eml.contains("From: \"Acme IT\" <it@acme.example>\r\n"), "{eml}");
        assert!(eml.contains("Reply-To: <help@acme.example>\r\n"), "{eml}");
        let plain = String::from_utf8(composer.compose(&message(None), "id@x").unwrap()).unwrap();
        assert!(plain.contains("From: \"onboard\" <noreply@onboard.example>\r\n"), "{plain}");
        assert!(!plain.contains("Reply-To"));
    }
}
