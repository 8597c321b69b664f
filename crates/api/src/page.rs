//! The page an init email links to: the user proves the code and sets a
//! password.
//!
//! - Looking never counts: GET (and HEAD, and any prefetch or mail scanner)
//!   only reads. Only a POST whose anti-CSRF token verifies
//!   ([`form_token`]) may check the code.
//! - The code leaves the URL at once: a GET whose query holds a code answers
//!   303 to the same link without it, carrying the code in a short-lived
//!   HttpOnly cookie ([`cookies`]) that prefills the form. The code so stays
//!   out of history, bookmarks, referrers and the logs of proxies that see
//!   later requests; without cookies the user types it from the email.
//! - Every answer is `no-store`, `no-referrer`, unframeable, and under a CSP
//!   that allows our stylesheet and nothing else (no script at all).

pub mod brand;
mod cookies;
mod form_token;
mod i18n;
mod view;

use onboard_domain::InitLink;
use onboard_domain::usecases::{
    InitPageContext, InitPageError, InitPageState, InitPageView, RenewalRequest, UserService, VerifyError,
    VerifyInitCode,
};
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::web::{Data, Form, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use time::OffsetDateTime;

use cookies::Jar;
use form_token::FormKey;
use i18n::Lang;
use view::{FormView, Frame, Notice, Outcome, PageBrand, RenewForm};

pub const PATH: &str = onboard_domain::init_link::INIT_PATH;
/// Where a finished initialization lands, and where "already initialized" links to.
pub const DONE_PATH: &str = "/ui/login/user/init/done";
pub const STYLE_PATH: &str = "/ui/login/user/init/style.css";
/// "Send me a new link" posts here (self-service renewal).
pub const RENEW_PATH: &str = "/ui/login/user/init/renew";
/// The organization's logo and stylesheet (`brand`).
pub const LOGO_PATH: &str = "/ui/login/user/init/brand/:org/logo";
pub const BRAND_STYLE_PATH: &str = "/ui/login/user/init/brand/:org/style.css";

const STYLESHEET: &str = include_str!("../assets/init.css");

/// Our stylesheet and nothing else: no script, no inline style, no frames,
/// forms only to ourselves.
const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// [`CSP`] and images from ourselves: a branded page's logo.
const CSP_WITH_LOGO: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the form posts (the ids under the link's keys, `init_link::keys`).
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct InitForm {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "orgID")]
    org_id: String,
    #[serde(rename = "formToken")]
    form_token: String,
    code: String,
    password: String,
    #[serde(rename = "passwordConfirm")]
    password_confirm: String,
}

impl std::fmt::Debug for InitForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Code, passwords and token are secrets.
        f.debug_struct("InitForm").field("user_id", &self.user_id).field("org_id", &self.org_id).finish_non_exhaustive()
    }
}

/// The headers every answer of the page carries.
fn harden(headers: &mut HeaderMap) {
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

fn respond(status: StatusCode, html: String, set_cookies: &[String]) -> Response {
    let mut resp = Response::builder().status(status).content_type("text/html; charset=utf-8").body(html);
    with_cookies(&mut resp, set_cookies);
    harden(resp.headers_mut());
    resp
}

/// [`respond`], allowing the logo of `brand` when it has one.
fn respond_branded(
    status: StatusCode,
    html: String,
    set_cookies: &[String],
    brand: Option<&PageBrand<'_>>,
) -> Response {
    let mut resp = respond(status, html, set_cookies);
    if brand.is_some_and(|b| b.branding.logo.is_some()) {
        resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP_WITH_LOGO));
    }
    resp
}

fn page_brand(view: &InitPageView) -> Option<PageBrand<'_>> {
    view.branding.as_deref().map(|branding| PageBrand { branding, org: &view.org })
}

fn see_other(location: &str, set_cookies: &[String]) -> Response {
    let mut resp = Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, location).finish();
    with_cookies(&mut resp, set_cookies);
    harden(resp.headers_mut());
    resp
}

fn with_cookies(resp: &mut Response, set_cookies: &[String]) {
    for cookie in set_cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            resp.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

/// `path?userID=..&orgID=..`, in the link's keys.
fn link(path: &str, user_id: &str, org_id: &str) -> String {
    use onboard_domain::init_link::keys;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair(keys::USER_ID, user_id);
    if !org_id.is_empty() {
        query.append_pair(keys::ORG_ID, org_id);
    }
    format!("{path}?{}", query.finish())
}

fn accept_language(req: &Request) -> Option<&str> {
    req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

/// A frame that tells nothing about the user: for answers given before (or
/// instead of) knowing whether the user exists.
fn anonymous_frame(req: &Request) -> Frame {
    Frame { lang: Lang::negotiate(None, accept_language(req)), organization_name: None }
}

/// The frame of a user's page: the organization's display name and
/// default language when it is branded.
fn frame_of(req: &Request, view: &InitPageView) -> Frame {
    let ctx = &view.context;
    let branding = view.branding.as_deref();
    Frame {
        lang: Lang::negotiate_with_default(
            ctx.preferred_language.as_ref(),
            branding.and_then(|b| b.default_language.as_deref()),
            accept_language(req),
        ),
        organization_name: branding.and_then(|b| b.display_name.clone()).or_else(|| ctx.organization_name.clone()),
    }
}

fn outcome_page(frame: &Frame, outcome: &Outcome, jar: Jar) -> Response {
    outcome_page_branded(frame, None, outcome, jar)
}

fn outcome_page_branded(frame: &Frame, brand: Option<&PageBrand<'_>>, outcome: &Outcome, jar: Jar) -> Response {
    let status = match outcome {
        Outcome::AlreadyInitialized { .. } | Outcome::Done { .. } | Outcome::RenewalRequested => StatusCode::OK,
        Outcome::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    // Every outcome page ends the code's use: the browser may forget it.
    respond_branded(status, view::outcome_branded(frame, brand, outcome), &[jar.clear_code()], brand)
}

/// What the page shows now for the link's user: the form (with `notice`
/// about the last submission and `code` prefilled) or the page of the
/// state that keeps the code from being tried. `shown_by_get`: the link
/// was opened (a GET, not a HEAD nor a submission), which is recorded once
/// per live code.
async fn current_page(
    req: &Request,
    users: &UserService,
    user_id: &str,
    org_id: &str,
    code: &str,
    notice: Option<Notice>,
) -> Response {
    page_for(req, users, user_id, org_id, code, notice, false).await
}

async fn page_for(
    req: &Request,
    users: &UserService,
    user_id: &str,
    org_id: &str,
    code: &str,
    notice: Option<Notice>,
    shown_by_get: bool,
) -> Response {
    let jar = Jar::for_request(req);
    let page = match users.init_page_view_with_code(user_id, org_id, code).await {
        Ok(page) => page,
        // One answer for an unknown user and a broken link: no hint whether a user exists.
        Err(InitPageError::MalformedLink | InitPageError::NotFound) => {
            return outcome_page(&anonymous_frame(req), &Outcome::InvalidLink, jar);
        }
        Err(InitPageError::Unavailable(reason)) => {
            tracing::warn!(reason = %reason.0, "init page: store unavailable");
            return outcome_page(&anonymous_frame(req), &Outcome::Unavailable, jar);
        }
    };
    let frame = frame_of(req, &page);
    let brand = page_brand(&page);
    let ctx = &page.context;
    let outcome = match ctx.state {
        InitPageState::Ready => {
            if shown_by_get {
                // Bookkeeping: a store that cannot record it must not keep the user out.
                if let Err(e) = users.record_link_opened(user_id, org_id).await {
                    tracing::warn!(reason = %e, "init page: opening not recorded");
                }
            }
            return form_page(req, users, &frame, brand.as_ref(), ctx, user_id, org_id, code, notice);
        }
        InitPageState::AlreadyInitialized => {
            Outcome::AlreadyInitialized { done_href: link(DONE_PATH, user_id, org_id) }
        }
        InitPageState::NoCode => Outcome::NoCode,
        InitPageState::Expired => Outcome::Expired,
        InitPageState::TooManyAttempts if notice == Some(Notice::WrongCode(0)) => Outcome::LastAttemptFailed,
        InitPageState::TooManyAttempts => Outcome::TooManyAttempts,
        InitPageState::Superseded { newer_sent_at } => Outcome::Superseded { newer_sent_at },
    };
    if ctx.state.renewable() && users.self_service_renewal() {
        // Only a superseded code needs to go along: it is what allows replacing a live code.
        let held = if matches!(ctx.state, InitPageState::Superseded { .. }) { code } else { "" };
        return renewable_page(req, &frame, brand.as_ref(), &outcome, user_id, org_id, held);
    }
    outcome_page_branded(&frame, brand.as_ref(), &outcome, jar)
}

/// A problem page with "Send me a new link", its token under the browser's key.
fn renewable_page(
    req: &Request,
    frame: &Frame,
    brand: Option<&PageBrand<'_>>,
    outcome: &Outcome,
    user_id: &str,
    org_id: &str,
    code: &str,
) -> Response {
    let jar = Jar::for_request(req);
    let key = jar.form_key(req).unwrap_or_else(FormKey::generate);
    let token = key.issue(user_id, OffsetDateTime::now_utc());
    let form = RenewForm { user_id, org_id, token: &token, code };
    let html = view::outcome_renewable(frame, brand, outcome, Some(&form));
    respond_branded(StatusCode::BAD_REQUEST, html, &[jar.clear_code(), jar.set_form_key(&key)], brand)
}

/// The form, with a fresh token under the browser's key (a new key if it
/// has none), so several tabs of one browser all stay valid.
#[allow(clippy::too_many_arguments)]
fn form_page(
    req: &Request,
    users: &UserService,
    frame: &Frame,
    brand: Option<&PageBrand<'_>>,
    ctx: &InitPageContext,
    user_id: &str,
    org_id: &str,
    code: &str,
    notice: Option<Notice>,
) -> Response {
    let jar = Jar::for_request(req);
    let key = jar.form_key(req).unwrap_or_else(FormKey::generate);
    let token = key.issue(user_id, OffsetDateTime::now_utc());
    let status = match &notice {
        None => StatusCode::OK,
        Some(Notice::FormExpired) => StatusCode::FORBIDDEN,
        Some(Notice::TryAgain) => StatusCode::CONFLICT,
        Some(Notice::Unavailable) => StatusCode::SERVICE_UNAVAILABLE,
        Some(_) => StatusCode::BAD_REQUEST,
    };
    let html = view::form_branded(
        frame,
        brand,
        &FormView {
            user_id,
            org_id,
            login_name: &ctx.login_name,
            has_password: ctx.has_password,
            code,
            token: &token,
            notice: notice.as_ref(),
            policy: users.password_policy(),
        },
    );
    respond_branded(status, html, &[jar.set_form_key(&key)], brand)
}

/// Shows the page. Consumes nothing: mail scanners, prefetches and HEAD
/// requests that follow the link do no harm. A GET that shows the form of
/// a live code records that the link was opened (once per code); HEADs and
/// prefetches do not.
#[handler]
pub async fn show(req: &Request, Data(users): Data<&UserService>) -> Response {
    let prefetch = ["sec-purpose", "purpose", "x-moz", "x-purpose"].iter().any(|name| {
        req.headers()
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("prefetch"))
    });
    show_page(req, users, !prefetch).await
}

/// HEAD of the page: the headers a GET would answer with, and nothing recorded.
#[handler]
pub async fn look(req: &Request, Data(users): Data<&UserService>) -> Response {
    let mut resp = show_page(req, users, false).await;
    resp.set_body(());
    resp
}

async fn show_page(req: &Request, users: &UserService, record_opening: bool) -> Response {
    let jar = Jar::for_request(req);
    let q = InitLink::from_query(req.uri().query().unwrap_or_default());
    if !q.code.is_empty() {
        // POST/redirect/GET's cousin: the same link without the code.
        let location = q.path_without_code();
        let carried: Vec<String> = jar.carry_code(&q.user_id, &q.code).into_iter().collect();
        return see_other(&location, &carried);
    }
    let code = jar.carried_code(req, &q.user_id).unwrap_or_default();
    page_for(req, users, &q.user_id, &q.org_id, &code, None, record_opening).await
}

/// Proves the code and sets the password. Without a valid token nothing is
/// checked: the page is shown again, asking to submit once more.
#[handler]
pub async fn submit(req: &Request, Form(form): Form<InitForm>, Data(users): Data<&UserService>) -> Response {
    let jar = Jar::for_request(req);
    let (user_id, org_id) = (form.user_id.as_str(), form.org_id.as_str());
    let token_ok =
        jar.form_key(req).is_some_and(|key| key.verify(user_id, &form.form_token, OffsetDateTime::now_utc()));
    if !token_ok {
        let code = jar.carried_code(req, user_id).unwrap_or_default();
        return current_page(req, users, user_id, org_id, &code, Some(Notice::FormExpired)).await;
    }
    let again = |code: &str, notice: Notice| {
        let code = code.to_owned();
        async move { current_page(req, users, user_id, org_id, &code, Some(notice)).await }
    };
    if form.code.trim().is_empty() {
        return again("", Notice::CodeRequired).await;
    }
    if form.password != form.password_confirm {
        return again(&form.code, Notice::Mismatch).await;
    }
    let input = VerifyInitCode {
        user_id: form.user_id.clone(),
        org_id: form.org_id.clone(),
        code: form.code.clone(),
        password: form.password.clone(),
    };
    match users.verify_init_code(input).await {
        Ok(_) => see_other(&link(DONE_PATH, user_id, org_id), &[jar.clear_code()]),
        // A wrong code is not shown again: the user types it afresh.
        Err(VerifyError::WrongCode { attempts_left }) => again("", Notice::WrongCode(attempts_left)).await,
        Err(VerifyError::PasswordRequired) => again(&form.code, Notice::PasswordRequired).await,
        Err(VerifyError::PasswordPolicy(v)) => again(&form.code, Notice::Policy(v)).await,
        Err(VerifyError::Contention) => again(&form.code, Notice::TryAgain).await,
        // An earlier code: the page of that state says which email to use, and offers a new link.
        Err(VerifyError::Superseded { .. }) => current_page(req, users, user_id, org_id, &form.code, None).await,
        Err(VerifyError::Unavailable(reason)) => {
            tracing::warn!(reason = %reason.0, "init page: store unavailable");
            again(&form.code, Notice::Unavailable).await
        }
        // The code cannot be tried (any more): the page of the user's state says why.
        Err(
            VerifyError::Expired
            | VerifyError::TooManyAttempts
            | VerifyError::NoCode
            | VerifyError::AlreadyInitialized
            | VerifyError::NotFound
            | VerifyError::MalformedLink,
        ) => current_page(req, users, user_id, org_id, "", None).await,
    }
}

/// What "Send me a new link" posts.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct RenewalForm {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "orgID")]
    org_id: String,
    #[serde(rename = "formToken")]
    form_token: String,
    code: String,
}

impl std::fmt::Debug for RenewalForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenewalForm")
            .field("user_id", &self.user_id)
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

/// Self-service renewal. The answer is the same whether or not a link was
/// sent (throttled, nothing to renew, no such user): it tells nobody more
/// than the link's page did. Without a valid token nothing is done and the
/// page is shown again.
#[handler]
pub async fn renew(req: &Request, Form(form): Form<RenewalForm>, Data(users): Data<&UserService>) -> Response {
    let jar = Jar::for_request(req);
    let (user_id, org_id) = (form.user_id.as_str(), form.org_id.as_str());
    let token_ok =
        jar.form_key(req).is_some_and(|key| key.verify(user_id, &form.form_token, OffsetDateTime::now_utc()));
    if !token_ok {
        return current_page(req, users, user_id, org_id, &form.code, Some(Notice::FormExpired)).await;
    }
    let request =
        RenewalRequest { user_id: form.user_id.clone(), org_id: form.org_id.clone(), code: form.code.clone() };
    match users.request_renewal(request).await {
        Ok(_) => {
            let page = users.init_page_view(user_id, org_id).await.ok();
            let frame = page.as_ref().map_or_else(|| anonymous_frame(req), |p| frame_of(req, p));
            let brand = page.as_ref().and_then(page_brand);
            outcome_page_branded(&frame, brand.as_ref(), &Outcome::RenewalRequested, jar)
        }
        Err(e) => {
            tracing::warn!(reason = %e, "init page: renewal failed");
            outcome_page(&anonymous_frame(req), &Outcome::Unavailable, jar)
        }
    }
}

/// The link of a user whose initialization is done.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "orgID")]
    org_id: String,
}

impl std::fmt::Debug for DoneQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoneQuery").field("user_id", &self.user_id).field("org_id", &self.org_id).finish()
    }
}

/// Says the account is ready, for users who are done; others are sent to
/// the init page, which tells them where they stand.
#[handler]
pub async fn done(req: &Request, Query(q): Query<DoneQuery>, Data(users): Data<&UserService>) -> Response {
    let jar = Jar::for_request(req);
    match users.init_page_view(&q.user_id, &q.org_id).await {
        Ok(page) if page.context.state == InitPageState::AlreadyInitialized => {
            // Only what the organization or the code's issuer configured: nothing from the request decides where the page goes.
            let target = match onboard_domain::UserId::parse(&q.user_id) {
                Ok(id) => users.return_target(&id, &page.org).await,
                Err(_) => Ok(None),
            };
            let return_to = match target {
                Ok(url) => url,
                Err(unavailable) => {
                    tracing::warn!(reason = %unavailable.0, "done page: completion URL unavailable");
                    None
                }
            };
            let outcome = Outcome::Done { login_name: page.context.login_name.clone(), return_to };
            outcome_page_branded(&frame_of(req, &page), page_brand(&page).as_ref(), &outcome, jar)
        }
        Ok(_) => see_other(&link(PATH, &q.user_id, &q.org_id), &[]),
        Err(InitPageError::MalformedLink | InitPageError::NotFound) => {
            outcome_page(&anonymous_frame(req), &Outcome::InvalidLink, jar)
        }
        Err(InitPageError::Unavailable(reason)) => {
            tracing::warn!(reason = %reason.0, "init page: store unavailable");
            outcome_page(&anonymous_frame(req), &Outcome::Unavailable, jar)
        }
    }
}

/// The page's stylesheet. Its link names the version, so it may be cached.
#[handler]
pub fn style() -> Response {
    let mut resp = STYLESHEET.with_content_type("text/css; charset=utf-8").into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}
