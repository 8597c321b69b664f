//! The page an init email links to: shows a form (never consuming the code)
//! and, on POST, proves the code and sets the password.

use onboard_domain::usecases::{UserService, VerifyError, VerifyInitCode};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Html, Query};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;

pub const PATH: &str = "/ui/login/user/init";

/// The link's query, exactly as the email writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InitQuery {
    #[serde(rename = "userID")]
    user_id: String,
    loginname: String,
    code: String,
    #[serde(rename = "orgID")]
    org_id: String,
    passwordset: String,
}

/// What the form posts: the link's values, the code as typed, the password twice.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct InitForm {
    #[serde(flatten)]
    link: InitQuery,
    password: String,
    #[serde(rename = "passwordConfirm")]
    password_confirm: String,
}

impl std::fmt::Debug for InitForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Code and passwords are secrets.
        f.debug_struct("InitForm")
            .field("user_id", &self.link.user_id)
            .field("org_id", &self.link.org_id)
            .finish_non_exhaustive()
    }
}

fn esc(s: &str) -> String {
    html_escape::encode_safe(s).into_owned()
}

/// Headers that keep the code out of caches, referrers and frames.
fn page(status: StatusCode, body: String) -> Response {
    let mut resp = Html(body).into_response();
    resp.set_status(status);
    let h = resp.headers_mut();
    let set = |h: &mut poem::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, poem::http::HeaderValue::from_static(v));
    };
    set(h, "cache-control", "no-store");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(
        h,
        header::CONTENT_SECURITY_POLICY.as_str(),
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    resp
}

fn layout(title: &str, content: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1b1f;margin:0}}\
         main{{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:10px;box-shadow:0 1px 4px #0002}}\
         label{{display:block;margin-top:1rem;font-weight:600}}\
         input{{width:100%;box-sizing:border-box;padding:.6rem;margin-top:.3rem;font-size:1rem;border:1px solid #767676;border-radius:6px}}\
         button{{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem;background:#2d5bd7;color:#fff;border:0;border-radius:6px}}\
         .error{{color:#a4000f;background:#fde8ea;padding:.7rem;border-radius:6px}}\
         .hint{{color:#454550;font-size:.9rem}}</style></head>\
         <body><main><h1>{title}</h1>{content}</main></body></html>",
        title = esc(title),
    )
}

struct FormView<'a> {
    user_id: &'a str,
    org_id: &'a str,
    loginname: &'a str,
    passwordset: &'a str,
    code: &'a str,
    error: Option<String>,
    min_length: usize,
}

fn render_form(v: FormView<'_>) -> String {
    let error = v
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\" id=\"form-error\">{}</p>", esc(&e)))
        .unwrap_or_default();
    let described = if error.is_empty() { "" } else { " aria-describedby=\"form-error\"" };
    let password_set = v.passwordset == "true";
    let required = if password_set { "" } else { " required" };
    let optional = if password_set { " (optional: you already have one)" } else { "" };
    let content = format!(
        "<p>Hello <strong>{login}</strong>, enter the code from your email and choose a password.</p>{error}\
         <form method=\"post\" action=\"{PATH}\">\
         <input type=\"hidden\" name=\"userID\" value=\"{user_id}\">\
         <input type=\"hidden\" name=\"orgID\" value=\"{org_id}\">\
         <input type=\"hidden\" name=\"loginname\" value=\"{login}\">\
         <input type=\"hidden\" name=\"passwordset\" value=\"{passwordset}\">\
         <label for=\"code\">Code</label>\
         <input id=\"code\" name=\"code\" value=\"{code}\" autocomplete=\"one-time-code\" required{described}>\
         <label for=\"password\">New password{optional}</label>\
         <p class=\"hint\" id=\"password-hint\">At least {min} characters.</p>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" aria-describedby=\"password-hint\"{required}>\
         <label for=\"passwordConfirm\">Confirm password</label>\
         <input id=\"passwordConfirm\" name=\"passwordConfirm\" type=\"password\" autocomplete=\"new-password\"{required}>\
         <button type=\"submit\">Finish initialization</button></form>",
        login = esc(v.loginname),
        user_id = esc(v.user_id),
        org_id = esc(v.org_id),
        passwordset = esc(v.passwordset),
        code = esc(v.code),
        min = v.min_length,
    );
    layout("Finish initialization", &content)
}

/// Shows the form. Reads nothing and changes nothing: mail scanners that
/// follow the link do no harm.
#[handler]
pub fn show(Query(q): Query<InitQuery>, Data(users): Data<&UserService>) -> Response {
    if q.user_id.is_empty() {
        return invalid_link();
    }
    page(
        StatusCode::OK,
        render_form(FormView {
            user_id: &q.user_id,
            org_id: &q.org_id,
            loginname: &q.loginname,
            passwordset: &q.passwordset,
            code: &q.code,
            error: None,
            min_length: users.password_policy().min_length,
        }),
    )
}

fn invalid_link() -> Response {
    // The same answer for an unknown user and a broken link: no hint whether a user exists.
    page(
        StatusCode::BAD_REQUEST,
        layout(
            "Link not valid",
            "<p class=\"error\" role=\"alert\">This initialization link is not valid. Ask your administrator for a new email.</p>",
        ),
    )
}

fn done(title: &str, text: &str) -> Response {
    page(StatusCode::OK, layout(title, &format!("<p>{}</p>", esc(text))))
}

/// Proves the code and sets the password.
#[handler]
pub async fn submit(Form(form): Form<InitForm>, Data(users): Data<&UserService>) -> Response {
    let f = &form.link;
    let retry = |status: StatusCode, error: String, keep_code: bool| {
        page(
            status,
            render_form(FormView {
                user_id: &f.user_id,
                org_id: &f.org_id,
                loginname: &f.loginname,
                passwordset: &f.passwordset,
                code: if keep_code { &f.code } else { "" },
                error: Some(error),
                min_length: users.password_policy().min_length,
            }),
        )
    };
    if form.password != form.password_confirm {
        return retry(StatusCode::BAD_REQUEST, "The passwords do not match.".into(), true);
    }
    let input = VerifyInitCode {
        user_id: f.user_id.clone(),
        org_id: f.org_id.clone(),
        code: f.code.clone(),
        password: form.password.clone(),
    };
    match users.verify_init_code(input).await {
        Ok(_) => done(
            "Initialization done",
            &format!("Your account {} is ready. You can now sign in with your new password.", f.loginname),
        ),
        Err(VerifyError::WrongCode { attempts_left: 0 }) => retry(
            StatusCode::BAD_REQUEST,
            "The code is wrong, and no attempts are left. Ask your administrator for a new email.".into(),
            false,
        ),
        Err(VerifyError::WrongCode { attempts_left }) => {
            retry(StatusCode::BAD_REQUEST, format!("The code is wrong. {attempts_left} attempts left."), false)
        }
        Err(VerifyError::Expired) => retry(
            StatusCode::BAD_REQUEST,
            "The code has expired. Ask your administrator for a new email.".into(),
            false,
        ),
        Err(VerifyError::TooManyAttempts) => retry(
            StatusCode::BAD_REQUEST,
            "Too many wrong attempts: this code no longer works. Ask your administrator for a new email.".into(),
            false,
        ),
        Err(VerifyError::NoCode) => retry(
            StatusCode::BAD_REQUEST,
            "There is no pending code for this account. Ask your administrator for a new email.".into(),
            false,
        ),
        Err(VerifyError::PasswordRequired) => retry(StatusCode::BAD_REQUEST, "Choose a password.".into(), true),
        Err(VerifyError::PasswordPolicy(v)) => {
            let mut text = v.to_string();
            text[..1].make_ascii_uppercase();
            retry(StatusCode::BAD_REQUEST, format!("{text}."), true)
        }
        Err(VerifyError::AlreadyInitialized) => {
            done("Already initialized", "This account is already initialized. You can sign in.")
        }
        Err(VerifyError::MalformedLink | VerifyError::NotFound) => invalid_link(),
        Err(VerifyError::Contention) => retry(StatusCode::CONFLICT, "Please try again.".into(), true),
        Err(VerifyError::Unavailable(reason)) => {
            tracing::warn!(%reason, "init page: store unavailable");
            retry(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable. Please try again.".into(),
                true,
            )
        }
    }
}
