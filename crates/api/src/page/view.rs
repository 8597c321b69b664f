//! The page's HTML: the form and one page per outcome. Every value from a
//! request or the store is escaped; there is no script, and the only
//! stylesheet comes from [`super::STYLE_PATH`].

use onboard_domain::branding::PageText;
use onboard_domain::{Branding, OrgId, PasswordPolicy, PolicyViolation};

use super::i18n::{Lang, Texts};

/// The organization a page is dressed for: its logo, its colours (a
/// stylesheet of its own, from our origin) and its words.
#[derive(Debug, Clone, Copy)]
pub struct PageBrand<'a> {
    pub branding: &'a Branding,
    pub org: &'a OrgId,
}

/// The organization's wording of `key` in `lang`, else `default`.
fn said<'a>(brand: Option<&PageBrand<'a>>, lang: Lang, key: PageText, default: &'a str) -> &'a str {
    brand.and_then(|b| b.branding.page_text(lang.tag(), key)).unwrap_or(default)
}

fn esc(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// What frames every page: its language and the organization it is for.
#[derive(Debug, Clone)]
pub struct Frame {
    pub lang: Lang,
    pub organization_name: Option<String>,
}

/// What the form says about the last submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    WrongCode(u32),
    CodeRequired,
    Mismatch,
    PasswordRequired,
    Policy(PolicyViolation),
    FormExpired,
    TryAgain,
    Unavailable,
}

/// The field a notice is about; `None` for the form as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Code,
    Password,
    Confirm,
}

impl Notice {
    fn field(&self) -> Option<Field> {
        match self {
            Self::WrongCode(_) | Self::CodeRequired => Some(Field::Code),
            Self::PasswordRequired | Self::Policy(_) => Some(Field::Password),
            Self::Mismatch => Some(Field::Confirm),
            Self::FormExpired | Self::TryAgain | Self::Unavailable => None,
        }
    }

    fn text(&self, t: &Texts) -> String {
        match self {
            Self::WrongCode(n) => t.wrong_code(*n),
            Self::CodeRequired => t.code_required.into(),
            Self::Mismatch => t.mismatch.into(),
            Self::PasswordRequired => t.password_required.into(),
            Self::Policy(v) => t.violation(v),
            Self::FormExpired => t.form_expired.into(),
            Self::TryAgain => t.try_again.into(),
            Self::Unavailable => t.unavailable.into(),
        }
    }
}

/// The form for a user whose code may be tried.
#[derive(Debug)]
pub struct FormView<'a> {
    pub user_id: &'a str,
    pub org_id: &'a str,
    pub login_name: &'a str,
    pub has_password: bool,
    /// Prefilled into the code field (the code is secret: this struct is
    /// only ever rendered, never logged).
    pub code: &'a str,
    pub token: &'a str,
    pub notice: Option<&'a Notice>,
    pub policy: &'a PasswordPolicy,
}

/// The pages that end the visit, each with its own message and next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    InvalidLink,
    Expired,
    TooManyAttempts,
    /// The last allowed attempt was wrong.
    LastAttemptFailed,
    NoCode,
    AlreadyInitialized {
        done_href: String,
    },
    Unavailable,
    Done {
        login_name: String,
        /// The organization's completion URL: a button to it, and the page
        /// goes there by itself after [`RETURN_AFTER_SECONDS`].
        return_to: Option<String>,
    },
    /// The code is an earlier one; the newer email went out at `newer_sent_at`.
    Superseded {
        newer_sent_at: time::OffsetDateTime,
    },
    /// A new link was asked for: the same answer whether or not one was sent.
    RenewalRequested,
}

/// "Send me a new link": the form an outcome page carries when the code
/// at hand cannot work any more.
#[derive(Debug)]
pub struct RenewForm<'a> {
    pub user_id: &'a str,
    pub org_id: &'a str,
    pub token: &'a str,
    /// The earlier code the browser holds (it proves the earlier email);
    /// empty for expired and locked codes, which need no proof.
    pub code: &'a str,
}

fn renew_form(t: &Texts, r: &RenewForm<'_>) -> String {
    let code = if r.code.is_empty() {
        String::new()
    } else {
        format!("<input type=\"hidden\" name=\"code\" value=\"{}\">", esc(r.code))
    };
    format!(
        "<form method=\"post\" action=\"{action}\" class=\"renew\">\
         <input type=\"hidden\" name=\"userID\" value=\"{user_id}\">\
         <input type=\"hidden\" name=\"orgID\" value=\"{org_id}\">\
         <input type=\"hidden\" name=\"formToken\" value=\"{token}\">{code}\
         <p class=\"hint\">{hint}</p><button type=\"submit\">{button}</button></form>",
        action = super::RENEW_PATH,
        user_id = esc(r.user_id),
        org_id = esc(r.org_id),
        token = esc(r.token),
        hint = esc(t.renew_hint),
        button = esc(t.renew_button),
    )
}

/// How long the done page waits before it returns to the application.
pub const RETURN_AFTER_SECONDS: u32 = 5;

fn layout(frame: &Frame, brand: Option<&PageBrand<'_>>, title: &str, content: &str) -> String {
    layout_with_head(frame, brand, title, content, "")
}

/// [`layout`] with `head` (already HTML) at the end of the head.
fn layout_with_head(frame: &Frame, brand: Option<&PageBrand<'_>>, title: &str, content: &str, head: &str) -> String {
    let brand_style = brand
        .and_then(|b| b.branding.style_path(b.org))
        .map(|href| format!("<link rel=\"stylesheet\" href=\"{}\">", esc(&href)))
        .unwrap_or_default();
    let logo = brand
        .and_then(|b| b.branding.logo_path(b.org))
        .map(|src| {
            let alt = frame.organization_name.as_deref().unwrap_or_default();
            format!("<img class=\"logo\" src=\"{}\" alt=\"{}\" height=\"48\">", esc(&src), esc(alt))
        })
        .unwrap_or_default();
    let (org_line, full_title) = match &frame.organization_name {
        Some(org) => (format!("<p class=\"org\">{}</p>", esc(org)), format!("{title} – {org}")),
        None => (String::new(), title.to_owned()),
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{full_title}</title>\
         <link rel=\"stylesheet\" href=\"{style}?v={version}\">{brand_style}{head}</head>\
         <body><main class=\"card\">{logo}{org_line}<h1>{title}</h1>{content}</main></body></html>\n",
        lang = frame.lang.tag(),
        full_title = esc(&full_title),
        style = super::STYLE_PATH,
        version = env!("CARGO_PKG_VERSION"),
        title = esc(title),
    )
}

/// The attributes that tie an input to its hint and error, and focus it
/// when it is the one to fix.
fn field_attrs(field: Field, hint: Option<&str>, error: Option<Field>, focus: Field) -> String {
    let id = field.id();
    let mut described: Vec<String> = hint.map(str::to_owned).into_iter().collect();
    let mut attrs = String::new();
    if error == Some(field) {
        described.push(format!("{id}-error"));
        attrs.push_str(" aria-invalid=\"true\"");
    }
    if !described.is_empty() {
        attrs.push_str(&format!(" aria-describedby=\"{}\"", described.join(" ")));
    }
    if focus == field {
        attrs.push_str(" autofocus");
    }
    attrs
}

impl Field {
    fn id(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Password => "password",
            Self::Confirm => "passwordConfirm",
        }
    }
}

fn field_error(field: Field, notice: Option<&Notice>, t: &Texts) -> String {
    match notice {
        Some(n) if n.field() == Some(field) => {
            format!("<p class=\"field-error\" id=\"{}-error\" role=\"alert\">{}</p>", field.id(), esc(&n.text(t)))
        }
        _ => String::new(),
    }
}

#[cfg(test)]
pub fn form(frame: &Frame, v: &FormView<'_>) -> String {
    form_branded(frame, None, v)
}

/// The form, in the organization's branding when given.
pub fn form_branded(frame: &Frame, brand: Option<&PageBrand<'_>>, v: &FormView<'_>) -> String {
    let t = frame.lang.texts();
    let lang = frame.lang;
    let error_field = v.notice.and_then(Notice::field);
    let focus = error_field.unwrap_or(if v.code.is_empty() { Field::Code } else { Field::Password });
    let form_error = match v.notice {
        Some(n) if n.field().is_none() => {
            format!("<div class=\"alert\" role=\"alert\" id=\"form-error\"><p>{}</p></div>", esc(&n.text(t)))
        }
        _ => String::new(),
    };
    let mut rules = vec![t.rule_min_length(v.policy.min_length)];
    for (required, rule) in [
        (v.policy.require_upper, t.rule_upper),
        (v.policy.require_lower, t.rule_lower),
        (v.policy.require_digit, t.rule_digit),
        (v.policy.require_symbol, t.rule_symbol),
    ] {
        if required {
            rules.push(rule.to_owned());
        }
    }
    let rules: String = rules.iter().map(|r| format!("<li>{}</li>", esc(r))).collect();
    let (intro, password_label, required) = if v.has_password {
        (said(brand, lang, PageText::IntroHasPassword, t.intro_has_password), t.password_label_optional, "")
    } else {
        (said(brand, lang, PageText::IntroNewPassword, t.intro_new_password), t.password_label, " required")
    };
    let content = format!(
        "<p class=\"lead\">{hello} <strong>{login}</strong>. {intro}</p>{form_error}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"userID\" value=\"{user_id}\">\
         <input type=\"hidden\" name=\"orgID\" value=\"{org_id}\">\
         <input type=\"hidden\" name=\"formToken\" value=\"{token}\">\
         <div class=\"field\"><label for=\"code\">{code_label}</label>\
         <p class=\"hint\" id=\"code-hint\">{code_hint}</p>{code_error}\
         <input id=\"code\" name=\"code\" value=\"{code}\" autocomplete=\"one-time-code\" autocapitalize=\"characters\" \
         spellcheck=\"false\" required{code_attrs}></div>\
         <div class=\"field\"><label for=\"password\">{password_label}</label>\
         <div class=\"hint\" id=\"password-rules\"><p>{rules_intro}</p><ul>{rules}</ul></div>{password_error}\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\"{required}{password_attrs}></div>\
         <div class=\"field\"><label for=\"passwordConfirm\">{confirm_label}</label>{confirm_error}\
         <input id=\"passwordConfirm\" name=\"passwordConfirm\" type=\"password\" autocomplete=\"new-password\"{required}{confirm_attrs}></div>\
         <button type=\"submit\">{submit}</button></form>\
         <p class=\"help\">{help}</p>",
        hello = esc(t.hello),
        login = esc(v.login_name),
        intro = esc(intro),
        action = super::PATH,
        user_id = esc(v.user_id),
        org_id = esc(v.org_id),
        token = esc(v.token),
        code_label = esc(t.code_label),
        code_hint = esc(t.code_hint),
        code_error = field_error(Field::Code, v.notice, t),
        code = esc(v.code),
        code_attrs = field_attrs(Field::Code, Some("code-hint"), error_field, focus),
        password_label = esc(password_label),
        rules_intro = esc(t.rules_intro),
        password_error = field_error(Field::Password, v.notice, t),
        password_attrs = field_attrs(Field::Password, Some("password-rules"), error_field, focus),
        confirm_label = esc(t.confirm_label),
        confirm_error = field_error(Field::Confirm, v.notice, t),
        confirm_attrs = field_attrs(Field::Confirm, None, error_field, focus),
        submit = esc(t.submit),
        help = esc(said(brand, lang, PageText::Help, t.help)),
    );
    layout(frame, brand, said(brand, lang, PageText::SetupTitle, t.setup_title), &content)
}

#[cfg(test)]
pub fn outcome(frame: &Frame, outcome: &Outcome) -> String {
    outcome_branded(frame, None, outcome)
}

/// The page of `outcome`, in the organization's branding when given.
pub fn outcome_branded(frame: &Frame, brand: Option<&PageBrand<'_>>, outcome: &Outcome) -> String {
    outcome_renewable(frame, brand, outcome, None)
}

/// [`outcome_branded`], with "Send me a new link" below a problem when `renew` is given.
pub fn outcome_renewable(
    frame: &Frame,
    brand: Option<&PageBrand<'_>>,
    outcome: &Outcome,
    renew: Option<&RenewForm<'_>>,
) -> String {
    let t = frame.lang.texts();
    let lang = frame.lang;
    let renew = renew.map(|r| renew_form(t, r)).unwrap_or_default();
    let problem = |title: &str, text: &str| {
        layout(frame, brand, title, &format!("<div class=\"alert\" role=\"alert\"><p>{}</p></div>{renew}", esc(text)))
    };
    match outcome {
        Outcome::Superseded { newer_sent_at } => problem(t.superseded_title, &t.superseded(*newer_sent_at)),
        Outcome::RenewalRequested => layout(
            frame,
            brand,
            t.renewal_title,
            &format!("<p class=\"success\" role=\"status\">{}</p>", esc(t.renewal_text)),
        ),
        Outcome::InvalidLink => problem(t.invalid_title, t.invalid_text),
        Outcome::Expired => problem(t.expired_title, t.expired_text),
        Outcome::TooManyAttempts => problem(t.too_many_title, t.too_many_text),
        Outcome::LastAttemptFailed => problem(t.too_many_title, t.last_attempt_failed_text),
        Outcome::NoCode => problem(t.no_code_title, t.no_code_text),
        Outcome::Unavailable => problem(t.unavailable_title, t.unavailable),
        Outcome::AlreadyInitialized { done_href } => layout(
            frame,
            brand,
            t.already_title,
            &format!(
                "<p class=\"lead\">{}</p><p><a class=\"button\" href=\"{}\">{}</a></p>",
                esc(t.already_text),
                esc(done_href),
                esc(t.continue_link)
            ),
        ),
        Outcome::Done { login_name, return_to } => {
            // The CSP allows no script: the page returns by a meta refresh.
            let (head, next) = match return_to {
                Some(url) => (
                    format!("<meta http-equiv=\"refresh\" content=\"{RETURN_AFTER_SECONDS};url={}\">", esc(url)),
                    format!(
                        "<p><a class=\"button\" id=\"return\" href=\"{}\">{}</a></p><p class=\"hint\">{}</p>",
                        esc(url),
                        esc(t.return_button),
                        esc(t.return_soon)
                    ),
                ),
                None => (String::new(), format!("<p>{}</p>", esc(said(brand, lang, PageText::DoneNext, t.done_next)))),
            };
            layout_with_head(
                frame,
                brand,
                said(brand, lang, PageText::DoneTitle, t.done_title),
                &format!(
                    "<p class=\"success\" role=\"status\"><strong>{}</strong><br>{}</p>{next}",
                    esc(login_name),
                    esc(said(brand, lang, PageText::DoneText, t.done_text)),
                ),
                &head,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(lang: Lang) -> Frame {
        Frame { lang, organization_name: Some("Acme & Co".into()) }
    }

    fn strict() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 8,
            require_upper: true,
            require_lower: true,
            require_digit: true,
            require_symbol: true,
        }
    }

    fn view<'a>(notice: Option<&'a Notice>, policy: &'a PasswordPolicy) -> FormView<'a> {
        FormView {
            user_id: "200",
            org_id: "100",
            login_name: "jane",
            has_password: false,
            code: "ABC123",
            token: "tok",
            notice,
            policy,
        }
    }

    #[test]
    fn the_form_explains_the_policy_before_the_user_types() {
        let policy = strict();
        let html = form(&frame(Lang::En), &view(None, &policy));
        let rules = html.find("id=\"password-rules\"").unwrap();
        assert!(rules < html.find("id=\"password\"").unwrap());
        for rule in ["at least 8 characters", "an upper-case letter", "a lower-case letter", "a digit", "a symbol"] {
            assert!(html[rules..].contains(rule), "{rule}: {html}");
        }
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("<p class=\"org\">Acme &amp; Co</p>"));
        assert!(html.contains("value=\"ABC123\""));
        assert!(html.contains("name=\"formToken\" value=\"tok\""));
        // The code is there, so the password field takes the focus.
        assert!(html.contains("aria-describedby=\"password-rules\" autofocus"), "{html}");
        assert!(!html.contains("<script") && !html.contains("style="), "no inline script or style");
    }

    #[test]
    fn a_field_error_is_tied_to_its_field_and_focused() {
        let policy = PasswordPolicy::default();
        let notice = Notice::Policy(PolicyViolation::NoDigit);
        let html = form(&frame(Lang::En), &view(Some(&notice), &policy));
        assert!(html.contains(
            "<p class=\"field-error\" id=\"password-error\" role=\"alert\">The password must contain a digit.</p>"
        ));
        assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"password-rules password-error\" autofocus"));
        let notice = Notice::WrongCode(3);
        let html = form(&frame(Lang::De), &view(Some(&notice), &policy));
        assert!(html.contains("id=\"code-error\" role=\"alert\">Der Code ist falsch. Noch 3 Versuche.</p>"));
        assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"code-hint code-error\" autofocus"));
        let notice = Notice::Mismatch;
        let html = form(&frame(Lang::En), &view(Some(&notice), &policy));
        assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"passwordConfirm-error\" autofocus"));
        let notice = Notice::FormExpired;
        let html = form(&frame(Lang::En), &view(Some(&notice), &policy));
        assert!(html.contains("<div class=\"alert\" role=\"alert\" id=\"form-error\"><p>This form has expired."));
        assert!(!html.contains("aria-invalid"));
    }

    #[test]
    fn a_user_with_a_password_may_leave_it_empty() {
        let policy = PasswordPolicy::default();
        let html = form(&frame(Lang::En), &FormView { has_password: true, ..view(None, &policy) });
        assert!(html.contains("New password (optional)"));
        assert!(!html.contains("type=\"password\" autocomplete=\"new-password\" required"));
    }

    #[test]
    fn values_are_escaped() {
        let policy = PasswordPolicy::default();
        let html = form(
            &Frame { lang: Lang::En, organization_name: Some("<b>".into()) },
            &FormView { login_name: "<script>x</script>", code: "\">", user_id: "1\"", ..view(None, &policy) },
        );
        assert!(!html.contains("<script>") && !html.contains("<b>"));
        assert!(
            html.contains("&lt;script&gt;")
                && html.contains("value=\"&quot;&gt;\"")
                && html.contains("value=\"1&quot;\"")
        );
    }

    #[test]
    fn a_branded_page_shows_the_organizations_logo_colours_and_words() {
        let policy = PasswordPolicy::default();
        let branding = onboard_domain::testkit::full_branding();
        let org = OrgId::parse("100").unwrap();
        let brand = PageBrand { branding: &branding, org: &org };
        let frame = Frame { lang: Lang::En, organization_name: Some("Acme Corporation".into()) };
        let html = form_branded(&frame, Some(&brand), &view(None, &policy));
        let logo = format!(
            "<img class=\"logo\" src=\"/ui/login/user/init/brand/100/logo?v={}\" alt=\"Acme Corporation\" height=\"48\">",
            branding.logo.as_ref().unwrap().version()
        );
        assert!(html.contains(&format!("<main class=\"card\">{logo}<p class=\"org\">Acme Corporation</p>")), "{html}");
        assert!(html.contains(
            "<link rel=\"stylesheet\" href=\"/ui/login/user/init/brand/100/style.css?v=b3261efffbfe\"></head>"
        ));
        assert!(html.contains("<h1>Acme's setupTitle.</h1>") && html.contains("Acme's help."), "{html}");
        assert!(!html.contains("<script") && !html.contains("style="), "still no inline script or style");
        let done = outcome_branded(&frame, Some(&brand), &Outcome::Done { login_name: "jane".into(), return_to: None });
        assert!(done.contains("Acme's doneTitle.") && done.contains("Acme's doneText.") && done.contains(&logo));
        // German has only its title: the rest stays built in.
        let de = Frame { lang: Lang::De, ..frame.clone() };
        let html = form_branded(&de, Some(&brand), &view(None, &policy));
        assert!(html.contains("<h1>Willkommen bei Acme</h1>") && html.contains("Probleme mit dem Code?"), "{html}");
        // Without branding: nothing of it.
        let plain = form(&frame, &view(None, &policy));
        let head = format!("?v={}\"></head><body><main class=\"card\"><p class=\"org\">", env!("CARGO_PKG_VERSION"));
        assert!(plain.contains(&head) && !plain.contains("brand/") && !plain.contains("<img"), "{plain}");
    }

    #[test]
    fn every_outcome_has_its_own_words_in_both_languages() {
        let outcomes = [
            Outcome::InvalidLink,
            Outcome::Expired,
            Outcome::TooManyAttempts,
            Outcome::LastAttemptFailed,
            Outcome::NoCode,
            Outcome::AlreadyInitialized { done_href: "/done?a=1&b=2".into() },
            Outcome::Unavailable,
            Outcome::Done { login_name: "jane".into(), return_to: None },
            Outcome::Done { login_name: "jane".into(), return_to: Some("https://app.example/home?a=1&b=2".into()) },
            Outcome::Superseded { newer_sent_at: time::macros::datetime!(2026-03-05 13:07 UTC) },
            Outcome::RenewalRequested,
        ];
        for lang in [Lang::En, Lang::De] {
            let pages: Vec<String> = outcomes.iter().map(|o| outcome(&frame(lang), o)).collect();
            for (i, page) in pages.iter().enumerate() {
                assert!(pages.iter().enumerate().all(|(j, other)| i == j || other != page));
                assert!(page.contains(&format!("<html lang=\"{}\">", lang.tag())));
            }
        }
        let already = outcome(&frame(Lang::En), &outcomes[5]);
        assert!(already.contains("href=\"/done?a=1&amp;b=2\""), "{already}");
        let expired = outcome(&frame(Lang::De), &Outcome::Expired);
        assert!(expired.contains("Bitten Sie Ihre Administration um eine neue E-Mail."));
    }

    #[test]
    fn a_done_page_with_a_completion_url_links_and_refreshes_to_it_and_only_to_it() {
        let url = "https://app.example/home?a=1&b=2";
        let page = outcome(&frame(Lang::En), &Outcome::Done { login_name: "jane".into(), return_to: Some(url.into()) });
        assert!(
            page.contains("<meta http-equiv=\"refresh\" content=\"5;url=https://app.example/home?a=1&amp;b=2\">"),
            "{page}"
        );
        assert!(page.contains("href=\"https://app.example/home?a=1&amp;b=2\">Back to the application</a>"), "{page}");
        assert!(!page.contains("You can close this page."));
        let plain = outcome(&frame(Lang::De), &Outcome::Done { login_name: "jane".into(), return_to: None });
        assert!(!plain.contains("http-equiv") && plain.contains("Sie können diese Seite schließen."));
        let de = outcome(&frame(Lang::De), &Outcome::Done { login_name: "jane".into(), return_to: Some(url.into()) });
        assert!(de.contains(">Zurück zur Anwendung</a>"), "{de}");
    }

    #[test]
    fn a_renewable_problem_carries_the_renewal_form_with_its_token() {
        let renew = RenewForm { user_id: "200", org_id: "100", token: "t<1>", code: "OLD123" };
        let superseded = Outcome::Superseded { newer_sent_at: time::macros::datetime!(2026-03-05 13:07 UTC) };
        let page = outcome_renewable(&frame(Lang::En), None, &superseded, Some(&renew));
        assert!(page.contains("A newer email was sent to you on 5 March 2026 at 13:07 UTC"), "{page}");
        assert!(page.contains(&format!("action=\"{}\"", super::super::RENEW_PATH)));
        assert!(page.contains("name=\"formToken\" value=\"t&lt;1&gt;\""));
        assert!(page.contains("name=\"code\" value=\"OLD123\"") && page.contains(">Send me a new link</button>"));
        let expired = RenewForm { code: "", ..renew };
        let page = outcome_renewable(&frame(Lang::De), None, &Outcome::Expired, Some(&expired));
        assert!(page.contains(">Senden Sie mir einen neuen Link</button>") && !page.contains("name=\"code\""));
        assert!(!outcome(&frame(Lang::En), &Outcome::Expired).contains("<form"), "no form unless offered");
    }
}
