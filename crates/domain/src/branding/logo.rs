//! An organization's logo: PNG, JPEG or SVG, at most [`MAX_LOGO_BYTES`],
//! recognised by its bytes (never by what the uploader says it is).

use std::fmt;

/// The largest logo accepted: 100 KiB.
pub const MAX_LOGO_BYTES: usize = 100 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LogoKind {
    Png,
    Jpeg,
    Svg,
}

impl LogoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Svg => "image/svg+xml",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("the logo is empty")]
    Empty,
    #[error("the logo has {0} bytes; at most 102400 (100 KiB) are accepted")]
    TooLarge(usize),
    #[error("the logo is neither a PNG, a JPEG nor an SVG image")]
    UnknownKind,
    #[error("the SVG logo {0}")]
    UnsafeSvg(&'static str),
}

/// A logo whose bytes were checked: a PNG or JPEG by its signature, an SVG
/// by its shape (an `<svg>` root, and nothing that could run or load).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Logo {
    kind: LogoKind,
    bytes: Vec<u8>,
}

impl fmt::Debug for Logo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Logo({:?}, {} bytes, {})", self.kind, self.bytes.len(), self.version())
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_SIGNATURE: &[u8] = b"\xff\xd8\xff";

impl Logo {
    pub fn parse(bytes: Vec<u8>) -> Result<Self, LogoError> {
        if bytes.is_empty() {
            return Err(LogoError::Empty);
        }
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(LogoError::TooLarge(bytes.len()));
        }
        let kind = if bytes.starts_with(PNG_SIGNATURE) {
            LogoKind::Png
        } else if bytes.starts_with(JPEG_SIGNATURE) {
            LogoKind::Jpeg
        } else {
            check_svg(&bytes)?;
            LogoKind::Svg
        };
        Ok(Self { kind, bytes })
    }

    pub fn kind(&self) -> LogoKind {
        self.kind
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Names these bytes: 16 hex digits of their SHA-256. Links to the logo
    /// carry it, so the logo may be cached for long and a new one is fetched at once.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        crate::token::hex(&Sha256::digest(&self.bytes)[..8])
    }
}

/// Things an SVG must not hold: script, event handlers, links to
/// elsewhere, embedded documents. The logo is served with a CSP that
/// forbids script and loads anyway; refusing them here keeps stored logos
/// harmless wherever they are shown.
const SVG_FORBIDDEN: [(&str, &str); 15] = [
    ("<script", "holds a <script> element"),
    ("<foreignobject", "holds a <foreignObject> element"),
    ("<iframe", "holds an <iframe> element"),
    ("<embed", "holds an <embed> element"),
    ("<object", "holds an <object> element"),
    ("javascript:", "holds a javascript: URL"),
    ("<!entity", "declares entities"),
    ("href=\"http", "links to another origin"),
    ("href='http", "links to another origin"),
    ("href=\"//", "links to another origin"),
    ("href='//", "links to another origin"),
    ("url(http", "loads from another origin"),
    ("url('http", "loads from another origin"),
    ("url(\"http", "loads from another origin"),
    ("@import", "imports a stylesheet"),
];

fn check_svg(bytes: &[u8]) -> Result<(), LogoError> {
    let text = std::str::from_utf8(bytes).map_err(|_| LogoError::UnknownKind)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lower = text.to_ascii_lowercase();
    let root = first_element(&lower).ok_or(LogoError::UnknownKind)?;
    if root != "svg" {
        return Err(LogoError::UnknownKind);
    }
    if !lower.trim_end().ends_with("</svg>") && !lower.trim_end().ends_with("/>") {
        return Err(LogoError::UnknownKind);
    }
    for (needle, why) in SVG_FORBIDDEN {
        if lower.contains(needle) {
            return Err(LogoError::UnsafeSvg(why));
        }
    }
    if has_event_handler(&lower) {
        return Err(LogoError::UnsafeSvg("has an event handler attribute (on…=)"));
    }
    Ok(())
}

/// The name of the first element, after an XML declaration, comments and a doctype.
fn first_element(text: &str) -> Option<&str> {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>")?.1.trim_start();
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->")?.1.trim_start();
        } else if let Some(after) = rest.strip_prefix("<!doctype") {
            rest = after.split_once('>')?.1.trim_start();
        } else {
            let after = rest.strip_prefix('<')?;
            let end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            return Some(&after[..end]);
        }
    }
}

/// An attribute `on…=` anywhere: `onload=`, `onclick =`, and so on.
fn has_event_handler(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    lower.match_indices("on").any(|(i, _)| {
        let before_ok = i > 0 && (bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'/');
        let name_end = lower[i + 2..].find(|c: char| !c.is_ascii_alphabetic()).map(|n| i + 2 + n);
        before_ok && name_end.is_some_and(|end| end > i + 2 && lower[end..].trim_start().starts_with('='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SVG: &str = "<?xml version=\"1.0\"?>\n<!-- a logo -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
                           viewBox=\"0 0 10 10\"><circle cx=\"5\" cy=\"5\" r=\"4\" fill=\"#1d4ed8\"/></svg>\n";

    #[test]
    fn png_jpeg_and_svg_are_recognised_by_their_bytes() {
        let png = [PNG_SIGNATURE, b"\0\0\0\rIHDR"].concat();
        assert_eq!(Logo::parse(png).unwrap().kind(), LogoKind::Png);
        assert_eq!(Logo::parse(b"\xff\xd8\xff\xe0\0\x10JFIF".to_vec()).unwrap().kind(), LogoKind::Jpeg);
        let svg = Logo::parse(SVG.as_bytes().to_vec()).unwrap();
        assert_eq!((svg.kind(), svg.kind().content_type()), (LogoKind::Svg, "image/svg+xml"));
        assert_eq!(svg.version().len(), 16);
        for other in [&b"GIF89a..."[..], b"<html><body>x</body></html>", b"\x89PNX", b"%PDF-1.7", b"\xff\xfe<\0s\0"] {
            assert_eq!(Logo::parse(other.to_vec()), Err(LogoError::UnknownKind), "{other:?}");
        }
    }

    #[test]
    fn empty_and_oversized_logos_are_refused() {
        assert_eq!(Logo::parse(vec![]), Err(LogoError::Empty));
        let mut big = PNG_SIGNATURE.to_vec();
        big.resize(MAX_LOGO_BYTES, 0);
        assert!(Logo::parse(big.clone()).is_ok(), "exactly 100 KiB is accepted");
        big.push(0);
        assert_eq!(Logo::parse(big), Err(LogoError::TooLarge(MAX_LOGO_BYTES + 1)));
    }

    #[test]
    fn svgs_that_could_run_or_load_are_refused() {
        let wrap = |inner: &str| format!("<svg xmlns=\"http://www.w3.org/2000/svg\">{inner}</svg>").into_bytes();
        for inner in [
            "<script>alert(1)</script>",
            "<SCRIPT href=\"x.js\"/>",
            "<foreignObject><div/></foreignObject>",
            "<a href=\"javascript:alert(1)\"><rect/></a>",
            "<rect onload=\"alert(1)\"/>",
            "<rect ONCLICK = 'x'/>",
            "<image href=\"https://tracker.example/p.gif\"/>",
            "<iframe/>",
            "<rect style=\"fill:url(https://tracker.example/p.svg#x)\"/>",
            "<style>@import 'https://x.example/a.css';</style>",
            "<use href=\"//x.example/s.svg#a\"/>",
        ] {
            assert!(matches!(Logo::parse(wrap(inner)), Err(LogoError::UnsafeSvg(_))), "{inner}");
        }
        let entity = "<!DOCTYPE svg [<!ENTITY x \"y\">]><svg></svg>";
        assert!(Logo::parse(entity.as_bytes().to_vec()).is_err());
        // Words that merely contain "on" are fine.
        assert!(Logo::parse(wrap("<polygon points=\"0,0 1,1\" font=\"x\"/><text>onboard</text>")).is_ok());
        assert_eq!(Logo::parse(b"<svg>".to_vec()), Err(LogoError::UnknownKind), "unclosed");
    }
}
