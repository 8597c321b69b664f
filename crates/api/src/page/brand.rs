//! What the branded init page loads from our own origin: the
//! organization's logo and a stylesheet of its colours. Both are public
//! (the page and the email show them to anyone with a link) and say
//! nothing but what the organization chose to show.

use onboard_domain::OrgId;
use onboard_domain::branding::{LogoKind, Palette};
use onboard_domain::usecases::UserService;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

/// The logo's own CSP: nothing loads and nothing runs, not even when the
/// logo (an SVG) is opened by itself; inline style only, which SVGs use.
pub const LOGO_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// A stylesheet's CSP: it loads nothing.
const STYLE_CSP: &str = "default-src 'none'; sandbox";

/// Long-lived only when the link names what is served now; a link to an
/// earlier version gets the current one, to be asked for again.
fn cache_for(req: &Request, version: &str) -> &'static str {
    let asked = req
        .uri()
        .query()
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "v").map(|(_, v)| v.into_owned()));
    if asked.as_deref() == Some(version) { "public, max-age=86400, immutable" } else { "no-cache" }
}

fn not_found() -> Response {
    let mut resp = Response::builder().status(StatusCode::NOT_FOUND).content_type("text/plain").body("Not Found");
    resp.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

fn unavailable() -> Response {
    Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).header(header::RETRY_AFTER, "5").finish()
}

fn safe_headers(h: &mut HeaderMap, csp: &'static str, cache: &'static str) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// The organization's logo, as uploaded, with its recognised type.
#[handler]
pub async fn logo(req: &Request, Path(org): Path<String>, Data(users): Data<&UserService>) -> Response {
    let Ok(org) = OrgId::parse(&org) else { return not_found() };
    let branding = match users.branding_of(&org).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(reason = %e.0, "logo: branding unavailable");
            return unavailable();
        }
    };
    let Some(logo) = branding.as_ref().and_then(|b| b.logo.as_ref()) else { return not_found() };
    let file = match logo.kind() {
        LogoKind::Png => "inline; filename=\"logo.png\"",
        LogoKind::Jpeg => "inline; filename=\"logo.jpg\"",
        LogoKind::Svg => "inline; filename=\"logo.svg\"",
    };
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .content_type(logo.kind().content_type())
        .header(header::CONTENT_DISPOSITION, file)
        .body(logo.bytes().to_vec());
    safe_headers(resp.headers_mut(), LOGO_CSP, cache_for(req, &logo.version()));
    resp
}

/// The page's colours in the organization's palette: the stylesheet the
/// branded page links after its own.
pub fn stylesheet(p: &Palette) -> String {
    format!(
        "/* The organization's colours (primary on background: at least 4.5:1). */\n\
         :root {{ --bg: {bg}; --accent: {primary}; --accent-dark: {primary}; }}\n\
         button, .button {{ color: {on_primary}; }}\n\
         .logo {{ display: block; max-width: 100%; height: 48px; margin: 0 0 1rem; }}\n",
        bg = p.background().hex(),
        primary = p.primary().hex(),
        on_primary = p.on_primary().hex(),
    )
}

/// The stylesheet of the organization's colours.
#[handler]
pub async fn style(req: &Request, Path(org): Path<String>, Data(users): Data<&UserService>) -> Response {
    let Ok(org) = OrgId::parse(&org) else { return not_found() };
    let branding = match users.branding_of(&org).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(reason = %e.0, "brand stylesheet: branding unavailable");
            return unavailable();
        }
    };
    let Some(palette) = branding.as_ref().and_then(|b| b.palette) else { return not_found() };
    let version = format!("{}{}", &palette.primary().hex()[1..], &palette.background().hex()[1..]);
    let mut resp =
        Response::builder().status(StatusCode::OK).content_type("text/css; charset=utf-8").body(stylesheet(&palette));
    safe_headers(resp.headers_mut(), STYLE_CSP, cache_for(req, &version));
    resp
}
