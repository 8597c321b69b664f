//! The page's two cookies: the browser's form key (see [`super::form_token`])
//! and the code carried past the redirect that takes it out of the URL.
//!
//! Both are HttpOnly and short-lived. Over HTTPS (the request's scheme, or
//! `X-Forwarded-Proto: https` from a TLS-terminating proxy) they are
//! `Secure` and `__Host-` prefixed; a `__Host-` cookie needs `Secure`, which
//! browsers refuse on plain HTTP origins, so there they go without.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use poem::Request;
use poem::http::uri::Scheme;

use super::form_token::{FormKey, LIFETIME};

const FORM_KEY: &str = "onboard-init-form";
const CODE: &str = "onboard-init-code";
/// How long the carried code stays in the browser: long enough to read the
/// page, short enough not to linger. Without it the user types the code.
const CODE_MAX_AGE_SECS: i64 = 3600;
/// Longer values are not codes (codes have at most 64 characters).
const MAX_CARRIED_CODE: usize = 64;

/// How cookies are named and flagged for one request.
#[derive(Debug, Clone, Copy)]
pub struct Jar {
    secure: bool,
}

impl Jar {
    pub fn for_request(req: &Request) -> Self {
        let forwarded_https = req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').next().is_some_and(|p| p.trim().eq_ignore_ascii_case("https")));
        Self { secure: *req.scheme() == Scheme::HTTPS || forwarded_https }
    }

    fn name(self, base: &str) -> String {
        if self.secure { format!("__Host-{base}") } else { base.to_owned() }
    }

    /// `__Host-` cookies must have `Path=/`; the others stay on the page's path.
    fn set(self, base: &str, value: &str, same_site: &str, max_age: i64) -> String {
        let path = if self.secure { "/" } else { super::PATH };
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}", self.name(base))
    }

    /// The browser's form key, if it sent a well-formed one.
    pub fn form_key(self, req: &Request) -> Option<FormKey> {
        read(req, &self.name(FORM_KEY)).and_then(FormKey::from_cookie)
    }

    /// Stores the form key. `Strict`: no other site's request carries it.
    pub fn set_form_key(self, key: &FormKey) -> String {
        self.set(FORM_KEY, &key.to_cookie(), "Strict", LIFETIME.whole_seconds())
    }

    /// The code carried for `user_id`, if the browser holds one for that user.
    pub fn carried_code(self, req: &Request, user_id: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD.decode(read(req, &self.name(CODE))?).ok()?;
        let (owner, code) = std::str::from_utf8(&raw).ok()?.split_once('\n')?;
        (owner == user_id).then(|| code.to_owned())
    }

    /// Carries `code` for `user_id` to the page the redirect leads to. `Lax`,
    /// since that redirect follows a click in a mail program (another site);
    /// `None` when the value is no plausible code.
    pub fn carry_code(self, user_id: &str, code: &str) -> Option<String> {
        if code.len() > MAX_CARRIED_CODE || user_id.len() > onboard_domain::ids::MAX_ID_CHARS * 4 {
            return None;
        }
        let value = URL_SAFE_NO_PAD.encode(format!("{user_id}\n{code}"));
        Some(self.set(CODE, &value, "Lax", CODE_MAX_AGE_SECS))
    }

    /// Forgets the carried code: once it is used up or dead it has no business staying.
    pub fn clear_code(self) -> String {
        self.set(CODE, "", "Lax", 0)
    }
}

/// The value of the request's cookie `name`.
fn read<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder();
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.finish()
    }

    #[test]
    fn plain_http_cookies_stay_on_the_page_path() {
        let jar = Jar::for_request(&request(&[]));
        let key = FormKey::generate();
        let set = jar.set_form_key(&key);
        assert_eq!(
            set,
            format!(
                "onboard-init-form={}; Path=/ui/login/user/init; Max-Age=7200; HttpOnly; SameSite=Strict",
                key.to_cookie()
            )
        );
        assert!(
            jar.clear_code()
                .starts_with("onboard-init-code=; Path=/ui/login/user/init; Max-Age=0; HttpOnly; SameSite=Lax")
        );
    }

    #[test]
    fn https_cookies_are_host_prefixed_and_secure() {
        let jar = Jar::for_request(&request(&[("x-forwarded-proto", "https")]));
        let set = jar.carry_code("200", "ABC123").unwrap();
        assert!(set.starts_with("__Host-onboard-init-code="), "{set}");
        assert!(set.ends_with("; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure"), "{set}");
    }

    #[test]
    fn keys_and_codes_are_read_back_for_their_own_user_only() {
        let jar = Jar::for_request(&request(&[]));
        let key = FormKey::generate();
        let code_cookie = jar.carry_code("200", "ABC123").unwrap();
        let code_value = code_cookie.split(';').next().unwrap();
        let cookie = format!("other=1; onboard-init-form={}; {code_value}", key.to_cookie());
        let req = request(&[("cookie", &cookie)]);
        assert_eq!(jar.form_key(&req), Some(key));
        assert_eq!(jar.carried_code(&req, "200").as_deref(), Some("ABC123"));
        assert_eq!(jar.carried_code(&req, "201"), None);
        // Over HTTPS only the prefixed names count: unprefixed ones may be planted.
        let https = Jar::for_request(&request(&[("x-forwarded-proto", "https")]));
        assert_eq!(https.form_key(&req), None);
        assert!(jar.carry_code("200", &"A".repeat(65)).is_none());
    }
}
