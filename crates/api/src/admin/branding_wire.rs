//! The JSON shapes of an organization's branding.

use std::collections::BTreeMap;

use onboard_domain::branding::TemplatesDraft;
use onboard_domain::branding::{EmailPart, LANGUAGES};
use onboard_domain::{Branding, BrandingDraft, OrgId};
use poem_openapi::Object;

use crate::scalars::Timestamp;

/// Everything of an organization's branding but its logo (uploaded on its
/// own). What is left out goes back to onboard's default.
#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "adminSetBrandingRequest", rename_all = "camelCase")]
pub struct SetBrandingRequest {
    /// Shown instead of the organization's name; 1 to 200 printable characters.
    pub display_name: Option<String>,
    /// Buttons and links, `#rrggbb`; with `backgroundColor`, whose contrast
    /// with it must be at least 4.5:1 (WCAG AA).
    pub primary_color: Option<String>,
    /// The page's and the email's background, `#rrggbb`.
    pub background_color: Option<String>,
    /// The From name of the organization's emails.
    pub sender_name: Option<String>,
    /// The From address of the organization's emails (the mail provider must
    /// accept it as a sender).
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    /// For users without a preferred language onboard speaks: en or de.
    pub default_language: Option<String>,
    /// The organization's own words, per language.
    pub templates: Option<Vec<TemplatesView>>,
}

/// One language's own words. Email parts are minijinja templates that see
/// `name`, `link`, `code`, `expires`, and `org`, `logo_url`, `primary`,
/// `background`, `text_color`, `on_primary` as the branding sets them; they
/// are checked when sent (they must parse, render, and show the link or the
/// code). Absent parts stay built in.
#[derive(Debug, Clone, Object, Default)]
#[oai(rename = "adminBrandingTemplates", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct TemplatesView {
    /// en or de.
    pub language: String,
    /// The subject: one line.
    pub subject: Option<String>,
    /// The text part.
    pub text: Option<String>,
    /// The HTML part; values are HTML-escaped.
    pub html: Option<String>,
    /// Page texts by name: setupTitle, introNewPassword, introHasPassword,
    /// help, doneTitle, doneText, doneNext (plain text, one line each).
    pub page: Option<BTreeMap<String, String>>,
}

/// The logo as served.
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminBrandingLogo", rename_all = "camelCase")]
pub struct LogoView {
    /// image/png, image/jpeg or image/svg+xml, as recognised by its bytes.
    pub content_type: String,
    pub bytes: u64,
    /// Where onboard serves it (on this origin), versioned by its bytes.
    pub path: String,
}

/// An organization's branding; nothing but `orgId` when it has none.
#[derive(Debug, Clone, Object)]
#[oai(rename = "adminBranding", rename_all = "camelCase", skip_serializing_if_is_none)]
pub struct BrandingView {
    pub org_id: String,
    pub display_name: Option<String>,
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    pub default_language: Option<String>,
    pub logo: Option<LogoView>,
    pub templates: Option<Vec<TemplatesView>>,
    pub change_date: Option<Timestamp>,
}

impl From<SetBrandingRequest> for BrandingDraft {
    fn from(r: SetBrandingRequest) -> Self {
        BrandingDraft {
            display_name: r.display_name,
            primary_color: r.primary_color,
            background_color: r.background_color,
            sender_name: r.sender_name,
            sender_address: r.sender_address,
            reply_to: r.reply_to,
            default_language: r.default_language,
            templates: r
                .templates
                .unwrap_or_default()
                .into_iter()
                .map(|t| TemplatesDraft {
                    language: t.language,
                    subject: t.subject,
                    text: t.text,
                    html: t.html,
                    page: t.page.unwrap_or_default().into_iter().collect(),
                })
                .collect(),
        }
    }
}

impl BrandingView {
    /// The JSON the API answers with, for other front ends (the command line).
    pub fn to_value(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(self).unwrap_or_default()
    }

    pub fn none(org: &OrgId) -> Self {
        Self {
            org_id: org.to_string(),
            display_name: None,
            primary_color: None,
            background_color: None,
            sender_name: None,
            sender_address: None,
            reply_to: None,
            default_language: None,
            logo: None,
            templates: None,
            change_date: None,
        }
    }

    pub fn of(org: &OrgId, b: Option<&Branding>) -> Self {
        let Some(b) = b else { return Self::none(org) };
        let templates: Vec<TemplatesView> = LANGUAGES
            .iter()
            .filter_map(|lang| {
                let o = b.overrides.get(*lang)?;
                let part = |p: EmailPart| o.email.get(&p).cloned();
                Some(TemplatesView {
                    language: (*lang).to_owned(),
                    subject: part(EmailPart::Subject),
                    text: part(EmailPart::Text),
                    html: part(EmailPart::Html),
                    page: (!o.page.is_empty())
                        .then(|| o.page.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect()),
                })
            })
            .collect();
        Self {
            org_id: org.to_string(),
            display_name: b.display_name.clone(),
            primary_color: b.palette.map(|p| p.primary().hex()),
            background_color: b.palette.map(|p| p.background().hex()),
            sender_name: b.sender_name.clone(),
            sender_address: b.sender_address.as_ref().map(|a| a.as_str().to_owned()),
            reply_to: b.reply_to.as_ref().map(|a| a.as_str().to_owned()),
            default_language: b.default_language.clone(),
            logo: b.logo.as_ref().map(|l| LogoView {
                content_type: l.kind().content_type().to_owned(),
                bytes: l.bytes().len() as u64,
                path: b.logo_path(org).unwrap_or_default(),
            }),
            templates: (!templates.is_empty()).then_some(templates),
            change_date: Some(Timestamp(b.updated_at)),
        }
    }
}
