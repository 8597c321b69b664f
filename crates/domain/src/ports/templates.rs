//! What checks an organization's email templates before they are stored.

use crate::branding::EmailPart;

/// The email's template engine, asked whether a template an administrator
/// sends would work: it must parse and render with every value an email
/// gives it. Implemented by the mail adapter, whose engine renders them.
pub trait TemplateCheck: Send + Sync {
    /// `Ok` when `source` works as `part` of the email in `lang`; else why
    /// not, as the engine says it.
    fn check(&self, lang: &str, part: EmailPart, source: &str) -> Result<(), String>;
}
