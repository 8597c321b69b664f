//! The page's words in English and German, and which of the two a visitor gets.

use onboard_domain::{Language, PolicyViolation};

/// A language the page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// From a primary subtag (`de` of `de-CH`); `None` for languages the page lacks.
    pub fn from_primary(primary: &str) -> Option<Self> {
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "de" => Some(Self::De),
            _ => None,
        }
    }

    /// The user's preferred language when the page speaks it, else the
    /// browser's first acceptable choice, else English.
    pub fn negotiate(preferred: Option<&Language>, accept_language: Option<&str>) -> Self {
        Self::negotiate_with_default(preferred, None, accept_language)
    }

    /// As [`Lang::negotiate`], with the organization's default language
    /// (its branding's) between the user's and the browser's: the page
    /// then speaks as the email did.
    pub fn negotiate_with_default(
        preferred: Option<&Language>,
        default: Option<&str>,
        accept_language: Option<&str>,
    ) -> Self {
        preferred
            .and_then(|l| Self::from_primary(&l.primary()))
            .or_else(|| default.and_then(Self::from_primary))
            .or_else(|| accept_language.and_then(Self::from_accept_language))
            .unwrap_or(Self::En)
    }

    /// The best of an `Accept-Language` header's languages the page speaks:
    /// highest weight first, the header's order among equals, `q=0` never.
    fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranked: Vec<(u16, Self)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let weight = parts.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), |q| {
                    q.trim().parse::<f32>().ok().map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                })?;
                let lang = Self::from_primary(tag.split('-').next().unwrap_or_default())?;
                (weight > 0).then_some((weight, lang))
            })
            .collect();
        ranked.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
        ranked.first().map(|(_, lang)| *lang)
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::De => &DE,
        }
    }
}

/// Every fixed sentence of the page; sentences with numbers are methods.
#[derive(Debug)]
pub struct Texts {
    lang: Lang,
    pub setup_title: &'static str,
    pub intro_new_password: &'static str,
    pub intro_has_password: &'static str,
    pub hello: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub password_label: &'static str,
    pub password_label_optional: &'static str,
    pub rules_intro: &'static str,
    pub rule_upper: &'static str,
    pub rule_lower: &'static str,
    pub rule_digit: &'static str,
    pub rule_symbol: &'static str,
    pub confirm_label: &'static str,
    pub submit: &'static str,
    pub help: &'static str,
    pub code_required: &'static str,
    pub mismatch: &'static str,
    pub password_required: &'static str,
    pub too_long: &'static str,
    pub no_upper: &'static str,
    pub no_lower: &'static str,
    pub no_digit: &'static str,
    pub no_symbol: &'static str,
    pub form_expired: &'static str,
    pub try_again: &'static str,
    pub unavailable: &'static str,
    pub unavailable_title: &'static str,
    pub invalid_title: &'static str,
    pub invalid_text: &'static str,
    pub expired_title: &'static str,
    pub expired_text: &'static str,
    pub too_many_title: &'static str,
    pub too_many_text: &'static str,
    pub last_attempt_failed_text: &'static str,
    pub no_code_title: &'static str,
    pub no_code_text: &'static str,
    pub already_title: &'static str,
    pub already_text: &'static str,
    pub continue_link: &'static str,
    pub done_title: &'static str,
    pub done_text: &'static str,
    pub done_next: &'static str,
    pub superseded_title: &'static str,
    pub renew_button: &'static str,
    pub renew_hint: &'static str,
    pub renewal_title: &'static str,
    pub renewal_text: &'static str,
    pub return_button: &'static str,
    pub return_soon: &'static str,
}

impl Texts {
    pub fn wrong_code(&self, attempts_left: u32) -> String {
        match (self.lang, attempts_left) {
            (Lang::En, 1) => "The code is wrong. 1 attempt left.".into(),
            (Lang::En, n) => format!("The code is wrong. {n} attempts left."),
            (Lang::De, 1) => "Der Code ist falsch. Noch 1 Versuch.".into(),
            (Lang::De, n) => format!("Der Code ist falsch. Noch {n} Versuche."),
        }
    }

    /// An earlier code's answer: when the newer email went out, in UTC.
    pub fn superseded(&self, newer_sent_at: time::OffsetDateTime) -> String {
        let at = newer_sent_at.to_offset(time::UtcOffset::UTC);
        let (day, year, clock) = (at.day(), at.year(), format!("{:02}:{:02} UTC", at.hour(), at.minute()));
        match self.lang {
            Lang::En => format!(
                "A newer email was sent to you on {day} {} {year} at {clock}; use the link in that one.",
                EN_MONTHS[usize::from(u8::from(at.month())) - 1]
            ),
            Lang::De => format!(
                "Ihnen wurde am {day}. {} {year} um {clock} eine neuere E-Mail gesendet; verwenden Sie bitte den \
                 Link in dieser E-Mail.",
                DE_MONTHS[usize::from(u8::from(at.month())) - 1]
            ),
        }
    }

    pub fn rule_min_length(&self, n: usize) -> String {
        match self.lang {
            Lang::En => format!("at least {n} characters"),
            Lang::De => format!("mindestens {n} Zeichen"),
        }
    }

    pub fn too_short(&self, n: usize) -> String {
        match self.lang {
            Lang::En => format!("The password must have at least {n} characters."),
            Lang::De => format!("Das Passwort muss mindestens {n} Zeichen haben."),
        }
    }

    /// Why the password was refused, as a sentence.
    pub fn violation(&self, v: &PolicyViolation) -> String {
        match v {
            PolicyViolation::TooShort(n) => self.too_short(*n),
            PolicyViolation::TooLong => self.too_long.into(),
            PolicyViolation::NoUpper => self.no_upper.into(),
            PolicyViolation::NoLower => self.no_lower.into(),
            PolicyViolation::NoDigit => self.no_digit.into(),
            PolicyViolation::NoSymbol => self.no_symbol.into(),
        }
    }
}

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const DE_MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

static EN: Texts = Texts {
    lang: Lang::En,
    setup_title: "Set up your account",
    intro_new_password: "Enter the code from your email and choose a password.",
    intro_has_password: "Enter the code from your email to confirm your account. You already have a password: \
                         fill in a new one only if you want to change it.",
    hello: "Hello",
    code_label: "Code from your email",
    code_hint: "Letters and digits, as written in the email.",
    password_label: "New password",
    password_label_optional: "New password (optional)",
    rules_intro: "Your password needs:",
    rule_upper: "an upper-case letter",
    rule_lower: "a lower-case letter",
    rule_digit: "a digit",
    rule_symbol: "a symbol, such as ! or #",
    confirm_label: "Repeat the password",
    submit: "Finish set-up",
    help: "Trouble with the code? Ask your administrator for a new email.",
    code_required: "Enter the code from your email.",
    mismatch: "The passwords do not match.",
    password_required: "Choose a password.",
    too_long: "The password is too long.",
    no_upper: "The password must contain an upper-case letter.",
    no_lower: "The password must contain a lower-case letter.",
    no_digit: "The password must contain a digit.",
    no_symbol: "The password must contain a symbol.",
    form_expired: "This form has expired. Enter the code and your password again, then submit. \
                   If this keeps happening, allow cookies for this site.",
    try_again: "Please try again.",
    unavailable: "The service is temporarily unavailable. Please try again in a moment.",
    unavailable_title: "Temporarily unavailable",
    invalid_title: "Link not valid",
    invalid_text: "This initialization link is not valid. Check that you opened the complete link from your \
                   email, or ask your administrator for a new email.",
    expired_title: "Code expired",
    expired_text: "The code has expired. Ask your administrator for a new email.",
    too_many_title: "Too many attempts",
    too_many_text: "Too many wrong attempts: this code no longer works. Ask your administrator for a new email.",
    last_attempt_failed_text: "The code is wrong, and no attempts are left: this code no longer works. \
                               Ask your administrator for a new email.",
    no_code_title: "No code pending",
    no_code_text: "There is no pending code for this account. Ask your administrator for a new email.",
    already_title: "Account already set up",
    already_text: "This account is already initialized. You can sign in with your password.",
    continue_link: "Continue",
    done_title: "Account ready",
    done_text: "Your account is ready. You can now sign in.",
    done_next: "You can close this page.",
    superseded_title: "A newer email was sent",
    renew_button: "Send me a new link",
    renew_hint: "Can't find that email? We can send a new link to the email address on file.",
    return_button: "Back to the application",
    return_soon: "You will be taken there in a few seconds.",
    renewal_title: "Check your email",
    renewal_text: "If a new link can be sent for this account, it is on its way to the email address on file. \
                   It may take a few minutes. Use only the link in the newest email.",
};

static DE: Texts = Texts {
    lang: Lang::De,
    setup_title: "Konto einrichten",
    intro_new_password: "Geben Sie den Code aus Ihrer E-Mail ein und wählen Sie ein Passwort.",
    intro_has_password: "Geben Sie den Code aus Ihrer E-Mail ein, um Ihr Konto zu bestätigen. Sie haben bereits \
                         ein Passwort: Geben Sie nur dann ein neues ein, wenn Sie es ändern möchten.",
    hello: "Guten Tag",
    code_label: "Code aus Ihrer E-Mail",
    code_hint: "Buchstaben und Ziffern, wie in der E-Mail angegeben.",
    password_label: "Neues Passwort",
    password_label_optional: "Neues Passwort (optional)",
    rules_intro: "Ihr Passwort braucht:",
    rule_upper: "einen Großbuchstaben",
    rule_lower: "einen Kleinbuchstaben",
    rule_digit: "eine Ziffer",
    rule_symbol: "ein Sonderzeichen, etwa ! oder #",
    confirm_label: "Passwort wiederholen",
    submit: "Einrichtung abschließen",
    help: "Probleme mit dem Code? Bitten Sie Ihre Administration um eine neue E-Mail.",
    code_required: "Geben Sie den Code aus Ihrer E-Mail ein.",
    mismatch: "Die Passwörter stimmen nicht überein.",
    password_required: "Wählen Sie ein Passwort.",
    too_long: "Das Passwort ist zu lang.",
    no_upper: "Das Passwort muss einen Großbuchstaben enthalten.",
    no_lower: "Das Passwort muss einen Kleinbuchstaben enthalten.",
    no_digit: "Das Passwort muss eine Ziffer enthalten.",
    no_symbol: "Das Passwort muss ein Sonderzeichen enthalten.",
    form_expired: "Dieses Formular ist abgelaufen. Geben Sie den Code und Ihr Passwort noch einmal ein und senden \
                   Sie es ab. Falls das wiederholt passiert, erlauben Sie Cookies für diese Seite.",
    try_again: "Bitte versuchen Sie es noch einmal.",
    unavailable: "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
    unavailable_title: "Vorübergehend nicht erreichbar",
    invalid_title: "Link ungültig",
    invalid_text: "Dieser Link zur Einrichtung ist ungültig. Prüfen Sie, ob Sie den vollständigen Link aus Ihrer \
                   E-Mail geöffnet haben, oder bitten Sie Ihre Administration um eine neue E-Mail.",
    expired_title: "Code abgelaufen",
    expired_text: "Der Code ist abgelaufen. Bitten Sie Ihre Administration um eine neue E-Mail.",
    too_many_title: "Zu viele Versuche",
    too_many_text: "Zu viele falsche Versuche: Dieser Code funktioniert nicht mehr. Bitten Sie Ihre \
                    Administration um eine neue E-Mail.",
    last_attempt_failed_text: "Der Code ist falsch, und es sind keine Versuche mehr übrig: Dieser Code \
                               funktioniert nicht mehr. Bitten Sie Ihre Administration um eine neue E-Mail.",
    no_code_title: "Kein Code offen",
    no_code_text: "Für dieses Konto ist kein Code offen. Bitten Sie Ihre Administration um eine neue E-Mail.",
    already_title: "Konto bereits eingerichtet",
    already_text: "Dieses Konto ist bereits eingerichtet. Sie können sich mit Ihrem Passwort anmelden.",
    continue_link: "Weiter",
    done_title: "Konto bereit",
    done_text: "Ihr Konto ist eingerichtet. Sie können sich jetzt anmelden.",
    done_next: "Sie können diese Seite schließen.",
    superseded_title: "Eine neuere E-Mail wurde gesendet",
    renew_button: "Senden Sie mir einen neuen Link",
    renew_hint: "Sie finden diese E-Mail nicht? Wir können einen neuen Link an die hinterlegte E-Mail-Adresse senden.",
    return_button: "Zurück zur Anwendung",
    return_soon: "Sie werden in wenigen Sekunden dorthin weitergeleitet.",
    renewal_title: "Prüfen Sie Ihr E-Mail-Postfach",
    renewal_text: "Falls für dieses Konto ein neuer Link gesendet werden kann, ist er an die hinterlegte \
                   E-Mail-Adresse unterwegs. Das kann einige Minuten dauern. Verwenden Sie nur den Link aus der \
                   neuesten E-Mail.",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Language {
        Language::parse(tag).unwrap()
    }

    #[test]
    fn the_users_preferred_language_wins_over_the_browser() {
        assert_eq!(Lang::negotiate(Some(&lang("de-CH")), Some("en-US,en;q=0.9")), Lang::De);
        assert_eq!(Lang::negotiate(Some(&lang("en")), Some("de")), Lang::En);
    }

    #[test]
    fn accept_language_is_the_fallback_by_weight_then_order() {
        assert_eq!(Lang::negotiate(None, Some("de-DE,de;q=0.9,en;q=0.8")), Lang::De);
        assert_eq!(Lang::negotiate(Some(&lang("fr")), Some("fr-FR, de;q=0.5, en;q=0.7")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("en;q=0.2, DE;q=0.9")), Lang::De);
        assert_eq!(Lang::negotiate(None, Some("de;q=0, en;q=0.1")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("de;q=0")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("fr, it")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("de;q=abc, en;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(None, None), Lang::En);
    }

    #[test]
    fn the_organizations_default_comes_after_the_user_and_before_the_browser() {
        assert_eq!(Lang::negotiate_with_default(None, Some("de"), Some("en")), Lang::De);
        assert_eq!(Lang::negotiate_with_default(Some(&lang("en")), Some("de"), Some("de")), Lang::En);
        assert_eq!(Lang::negotiate_with_default(Some(&lang("fr")), Some("de"), Some("en")), Lang::De);
        assert_eq!(Lang::negotiate_with_default(None, None, Some("de")), Lang::De);
    }

    #[test]
    fn numbers_are_worded_per_language() {
        assert_eq!(EN.wrong_code(4), "The code is wrong. 4 attempts left.");
        assert_eq!(EN.wrong_code(1), "The code is wrong. 1 attempt left.");
        assert_eq!(DE.wrong_code(1), "Der Code ist falsch. Noch 1 Versuch.");
        assert_eq!(DE.wrong_code(3), "Der Code ist falsch. Noch 3 Versuche.");
        assert_eq!(DE.violation(&PolicyViolation::TooShort(8)), "Das Passwort muss mindestens 8 Zeichen haben.");
        assert_eq!(EN.violation(&PolicyViolation::NoSymbol), "The password must contain a symbol.");
        assert_eq!(DE.rule_min_length(12), "mindestens 12 Zeichen");
    }

    #[test]
    fn the_newer_emails_date_is_worded_per_language_in_utc() {
        let at = time::macros::datetime!(2026-03-05 14:07 +01:00);
        assert_eq!(
            EN.superseded(at),
            "A newer email was sent to you on 5 March 2026 at 13:07 UTC; use the link in that one."
        );
        assert_eq!(
            DE.superseded(at),
            "Ihnen wurde am 5. März 2026 um 13:07 UTC eine neuere E-Mail gesendet; verwenden Sie bitte den Link in \
             dieser E-Mail."
        );
    }
}
