//! Colours as `#rrggbb` and the WCAG 2 contrast between two of them.

use std::fmt;

/// The contrast WCAG AA asks of normal text against its background.
pub const MIN_CONTRAST: f64 = 4.5;

/// A colour given as `#rrggbb` (either case; kept in lower case).
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Color([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a colour written #rrggbb, such as #1d4ed8")]
pub struct ColorError;

impl Color {
    pub const WHITE: Self = Self([0xff, 0xff, 0xff]);
    /// The page's own text colour: the dark one of a pair on light backgrounds.
    pub const INK: Self = Self([0x1f, 0x23, 0x28]);

    pub fn parse(raw: &str) -> Result<Self, ColorError> {
        let hex = raw.trim().strip_prefix('#').ok_or(ColorError)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ColorError);
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| ColorError);
        Ok(Self([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// `#rrggbb`, lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }

    /// WCAG 2's relative luminance, 0 (black) to 1 (white).
    pub fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.0[0]) + 0.7152 * channel(self.0[1]) + 0.0722 * channel(self.0[2])
    }

    /// WCAG 2's contrast ratio of two colours, 1 to 21, either order.
    pub fn contrast(self, other: Self) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// White or the page's ink, whichever reads better on `self`.
    pub fn readable_text(self) -> Self {
        if Self::WHITE.contrast(self) >= Self::INK.contrast(self) { Self::WHITE } else { Self::INK }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Color({})", self.hex())
    }
}

/// A primary colour (buttons, links) and the background it is shown on,
/// whose contrast meets WCAG AA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Palette {
    primary: Color,
    background: Color,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the contrast of primary colour {primary} on background colour {background} is {ratio:.2}:1; WCAG AA needs at least 4.5:1"
)]
pub struct LowContrast {
    pub primary: Color,
    pub background: Color,
    pub ratio: f64,
}

impl Palette {
    pub fn new(primary: Color, background: Color) -> Result<Self, LowContrast> {
        let ratio = primary.contrast(background);
        // Rounded down to the reported precision, so 4.499 is never shown as an accepted "4.50".
        if ratio < MIN_CONTRAST {
            return Err(LowContrast { primary, background, ratio: (ratio * 100.0).floor() / 100.0 });
        }
        Ok(Self { primary, background })
    }

    pub fn primary(&self) -> Color {
        self.primary
    }

    pub fn background(&self) -> Color {
        self.background
    }

    /// Text on the background.
    pub fn text(&self) -> Color {
        self.background.readable_text()
    }

    /// Text on a primary-coloured button.
    pub fn on_primary(&self) -> Color {
        self.primary.readable_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(raw: &str) -> Color {
        Color::parse(raw).unwrap()
    }

    #[test]
    fn colours_are_hash_and_six_hex_digits() {
        assert_eq!(c("#1D4ED8").hex(), "#1d4ed8");
        assert_eq!(c(" #000000 ").hex(), "#000000");
        for bad in ["1d4ed8", "#1d4ed", "#1d4ed8f", "#gggggg", "", "#", "red", "#fff", "#+1+2+3"] {
            assert_eq!(Color::parse(bad), Err(ColorError), "{bad:?}");
        }
    }

    #[test]
    fn contrast_is_wcags() {
        assert!((c("#000000").contrast(c("#ffffff")) - 21.0).abs() < 1e-9);
        assert!((c("#ffffff").contrast(c("#ffffff")) - 1.0).abs() < 1e-9);
        // WebAIM's checker: #777777 on white is 4.48:1, #767676 on white 4.54:1.
        assert!((c("#777777").contrast(Color::WHITE) - 4.48).abs() < 0.01);
        assert!((c("#767676").contrast(Color::WHITE) - 4.54).abs() < 0.01);
        assert_eq!(c("#1d4ed8").contrast(Color::WHITE), Color::WHITE.contrast(c("#1d4ed8")));
    }

    #[test]
    fn a_pair_below_aa_is_refused_naming_its_ratio() {
        assert!(Palette::new(c("#767676"), Color::WHITE).is_ok());
        let err = Palette::new(c("#777777"), Color::WHITE).unwrap_err();
        assert_eq!(err.ratio, 4.47);
        assert_eq!(
            err.to_string(),
            "the contrast of primary colour #777777 on background colour #ffffff is 4.47:1; WCAG AA needs at least 4.5:1"
        );
        assert!(Palette::new(c("#ffff00"), c("#ffffff")).is_err());
    }

    #[test]
    fn text_colours_read_on_what_they_sit_on() {
        let dark = Palette::new(c("#ffd60a"), c("#101820")).unwrap();
        assert_eq!(dark.text(), Color::WHITE);
        assert_eq!(dark.on_primary(), Color::INK);
        let light = Palette::new(c("#1d4ed8"), c("#f3f4f6")).unwrap();
        assert_eq!(light.text(), Color::INK);
        assert_eq!(light.on_primary(), Color::WHITE);
        assert!(light.text().contrast(light.background()) >= MIN_CONTRAST);
    }
}
