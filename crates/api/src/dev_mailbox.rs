//! The development mailbox: the `.eml` files the embedded mailer writes,
//! listed newest first at `/_dev/mail` and each shown as its recipient would
//! see it (the HTML part in a sandboxed frame, the text part with its links
//! clickable). Served only when emails go to files, which is the embedded
//! default: it shows codes to whoever can reach it.

use std::path::{Path, PathBuf};

use mail_parser::MessageParser;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Path as UrlPath};
use poem::{EndpointExt, IntoResponse, Response, Route, get, handler};

/// Where the mailbox is served.
pub const PATH: &str = "/_dev/mail";

/// The list and message pages: our markup only, framed HTML parts from here.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";
/// An email's own HTML: its inline styles and images, no scripts, links may
/// leave the frame only when clicked.
const EMAIL_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: 'self'; base-uri 'none'; form-action 'none'; sandbox allow-popups allow-top-navigation-by-user-activation";

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:62rem;padding:0 1rem;color:#1d2330}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #dde1e8}\
tr:hover td{background:#f4f6fa}a{color:#1f5fbf}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}\
dt{color:#5a6270}iframe{width:100%;height:32rem;border:1px solid #dde1e8;border-radius:6px}\
pre{white-space:pre-wrap;background:#f4f6fa;padding:1rem;border-radius:6px}.empty{color:#5a6270}";

#[derive(Clone)]
struct MailDir(PathBuf);

/// The mailbox's routes over the folder `dir` of `.eml` files.
pub fn routes(dir: PathBuf) -> impl poem::Endpoint {
    Route::new().at("/", get(list)).at("/:file", get(message)).at("/:file/html", get(html_part)).data(MailDir(dir))
}

fn escape(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    );
    let mut resp = html.with_content_type("text/html; charset=utf-8").into_response();
    resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A file name the mailer wrote: `<stamp>-<notification>.eml`, nothing
/// that could reach outside the folder.
fn valid_name(name: &str) -> bool {
    name.ends_with(".eml")
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The folder's emails, newest first (names start with the time of writing).
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| valid_name(n))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    names
}

fn read(dir: &Path, name: &str) -> Option<Vec<u8>> {
    valid_name(name).then(|| std::fs::read(dir.join(name)).ok()).flatten()
}

fn first_address(addresses: Option<&mail_parser::Address<'_>>) -> String {
    addresses
        .and_then(|a| a.first())
        .map(|a| match (a.name(), a.address()) {
            (Some(n), Some(addr)) => format!("{n} <{addr}>"),
            (None, Some(addr)) => addr.to_owned(),
            (name, None) => name.unwrap_or_default().to_owned(),
        })
        .unwrap_or_default()
}

#[handler]
fn list(Data(dir): Data<&MailDir>) -> Response {
    let names = files(&dir.0);
    let mut rows = String::new();
    for name in &names {
        let Some(raw) = read(&dir.0, name) else { continue };
        let Some(email) = MessageParser::default().parse(&raw) else { continue };
        let date = email.date().map(|d| d.to_rfc3339()).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td><a href=\"{PATH}/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            attr(name),
            escape(&first_address(email.to())),
            escape(email.subject().unwrap_or("(no subject)")),
            escape(&date),
        ));
    }
    let body = if rows.is_empty() {
        format!(
            "<h1>Mailbox</h1><p class=\"empty\">No emails yet. They are written to {}.</p>",
            escape(&dir.0.display().to_string())
        )
    } else {
        format!(
            "<h1>Mailbox</h1><p>{} emails, newest first.</p><table><thead><tr><th>To</th><th>Subject</th><th>Sent</th></tr></thead><tbody>{rows}</tbody></table>",
            names.len()
        )
    };
    page("Mailbox", &body)
}

/// `text` escaped, its http(s) links made clickable.
fn linkified(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            if word.starts_with("https://") || word.starts_with("http://") {
                out.push_str(&format!("<a href=\"{}\" target=\"_top\">{}</a>", attr(word.trim_end()), escape(word)));
            } else {
                out.push_str(&escape(word));
            }
        }
    }
    out
}

#[handler]
fn message(Data(dir): Data<&MailDir>, UrlPath(name): UrlPath<String>) -> Response {
    let not_found = || page("Not found", "<h1>No such email</h1>").with_status(StatusCode::NOT_FOUND).into_response();
    let Some(raw) = read(&dir.0, &name) else { return not_found() };
    let Some(email) = MessageParser::default().parse(&raw) else { return not_found() };
    let subject = email.subject().unwrap_or("(no subject)");
    let mut meta = String::new();
    for (label, value) in [
        ("From", first_address(email.from())),
        ("To", first_address(email.to())),
        ("Subject", subject.to_owned()),
        ("Date", email.date().map(|d| d.to_rfc3339()).unwrap_or_default()),
        ("Message-ID", email.message_id().unwrap_or_default().to_owned()),
    ] {
        meta.push_str(&format!("<dt>{label}</dt><dd>{}</dd>", escape(&value)));
    }
    let html = email.body_html(0).map(|_| {
        format!(
            "<h2>As HTML</h2><iframe title=\"the email\" sandbox=\"allow-popups allow-top-navigation-by-user-activation\" src=\"{PATH}/{}/html\"></iframe>",
            attr(&name)
        )
    });
    let text = email.body_text(0).map(|t| format!("<h2>As text</h2><pre>{}</pre>", linkified(&t)));
    let body = format!(
        "<p><a href=\"{PATH}/\">← Mailbox</a></p><h1>{}</h1><dl>{meta}</dl>{}{}",
        escape(subject),
        html.unwrap_or_default(),
        text.unwrap_or_default()
    );
    page(subject, &body)
}

#[handler]
fn html_part(Data(dir): Data<&MailDir>, UrlPath(name): UrlPath<String>) -> Response {
    let html = read(&dir.0, &name)
        .and_then(|raw| MessageParser::default().parse(&raw).and_then(|e| e.body_html(0).map(|h| h.into_owned())));
    let Some(html) = html else { return StatusCode::NOT_FOUND.into_response() };
    // Links open in the whole window, as in a mail program: the pages they
    // lead to (the init page) refuse to be framed.
    let html = match html.find("<head>") {
        Some(at) => format!("{}<base target=\"_top\">{}", &html[..at + 6], &html[at + 6..]),
        None => format!("<base target=\"_top\">{html}"),
    };
    let mut resp = html.with_content_type("text/html; charset=utf-8").into_response();
    resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(EMAIL_CSP));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The mailbox beside `app`: its routes under [`PATH`], everything else to `app`.
pub fn with_mailbox<E: poem::Endpoint + 'static>(dir: PathBuf, app: E) -> impl poem::Endpoint<Output = Response> {
    Route::new().nest(PATH, routes(dir)).nest("/", app.map_to_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_the_mailer_writes_are_read() {
        assert!(valid_name("1733040000000000000-386.eml"));
        for bad in ["../secret.eml", "a/b.eml", ".hidden.eml", "x.txt", "%2e%2e.eml"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn text_links_are_clickable_and_everything_else_escaped() {
        let out = linkified("Open https://id.example.com/x?a=1&b=<2> now\n<b>");
        assert!(out.contains("<a href=\"https://id.example.com/x?a=1&amp;b=&lt;2&gt;\""), "{out}");
        assert!(out.ends_with("\n&lt;b&gt;"), "{out}");
    }
}
