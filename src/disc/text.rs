//! Text rules the disc writers share: Latin-1 only (CD-Text block 0 and
//! CUE sheets are ISO-8859-1), `mm:ss:ff` times, and the warnings a writer
//! hands back when it had to change what the manifest says.
//!
//! Also the one rule every line-based text output shares (CUE, TOC, CSV,
//! PQ sheets, tags): [`one_line`], a control character becomes a space.
//! Each syntax then has its own quoting function: `cue::quote`,
//! `toc::quote`, `deliver::sheet::csv_field`, `deliver::tags::tag_text`.

use std::borrow::Cow;
use std::fmt;

/// Something a disc writer changed or allows but wants said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscWarning {
    /// The programme runs past 74:00, which some players and plants refuse.
    Long { frames: u32 },
    /// Characters outside Latin-1 were transliterated or replaced by '?'.
    NotLatin1 {
        /// `None`: the disc.
        track: Option<u8>,
        field: &'static str,
        from: String,
        to: String,
    },
    /// A CUE sheet value cut to 80 characters.
    Truncated {
        track: Option<u8>,
        field: &'static str,
        from: String,
        to: String,
    },
    /// `"` in a CUE sheet value (CUE has no escape) became `'`.
    Quote {
        track: Option<u8>,
        field: &'static str,
        value: String,
    },
    /// A CUE sheet value ending in `\` got a space after it (libcue and
    /// cuetools read `\"` as a quote inside the string, not its end).
    Backslash {
        track: Option<u8>,
        field: &'static str,
        value: String,
    },
}

fn whose(track: &Option<u8>) -> String {
    match track {
        Some(t) => format!("track {t}"),
        None => "disc".into(),
    }
}

impl fmt::Display for DiscWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscWarning::Long { frames } => write!(
                f,
                "the disc runs {}, past 74:00; some players and plants refuse discs that long",
                msf(*frames)
            ),
            DiscWarning::NotLatin1 {
                track,
                field,
                from,
                to,
            } => write!(
                f,
                "{} CD-Text {field} {from:?} has characters outside Latin-1; written as {to:?}",
                whose(track)
            ),
            DiscWarning::Truncated {
                track,
                field,
                from,
                to,
            } => write!(
                f,
                "{} CUE {field} {from:?} is longer than 80 characters; cut to {to:?}",
                whose(track)
            ),
            DiscWarning::Quote {
                track,
                field,
                value,
            } => write!(
                f,
                "{} CUE {field} {value:?} has '\"', which a CUE sheet cannot hold; written as '",
                whose(track)
            ),
            DiscWarning::Backslash {
                track,
                field,
                value,
            } => write!(
                f,
                "{} CUE {field} {value:?} ends in '\\', which CUE readers take for an escaped quote; written with a space after it",
                whose(track)
            ),
        }
    }
}

/// The text on one line: every control character (C0, DEL, C1: tab and
/// line ends included, NUL above all) becomes a space. No line-based
/// output can hold one, and NUL ends a string in ID3v2, RIFF and C readers.
pub fn one_line(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// A flag as the sheets state it: "yes" or "no" (a blank would read as
/// unknown).
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `mm:ss:ff` of a frame count (minutes past 99 are written in full).
pub fn msf(frames: u32) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        frames / 4500,
        (frames / 75) % 60,
        frames % 75
    )
}

/// The text with every character in Latin-1: common typographic marks and
/// Latin letters with other diacritics transliterated, anything else '?'.
/// The flag says whether anything changed.
pub fn latin1(s: &str) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    for c in s.chars() {
        if u32::from(c) < 0x100 && !c.is_control() {
            out.push(c);
            continue;
        }
        changed = true;
        let t = match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => "'",
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => "\"",
            '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
            '\u{2026}' => "...",
            '\u{2022}' => "\u{B7}",
            '\u{20AC}' => "EUR",
            '\u{2122}' => "TM",
            '\u{0152}' => "OE",
            '\u{0153}' => "oe",
            '\u{0141}' => "L",
            '\u{0142}' => "l",
            '\u{0110}' => "D",
            '\u{0111}' => "d",
            '\u{0131}' => "i",
            '\t' | '\n' | '\r' => " ",
            _ => match fold(c) {
                Some(b) => {
                    out.push(b);
                    continue;
                }
                None => "?",
            },
        };
        out.push_str(t);
    }
    (out, changed)
}

/// The base letter of a Latin Extended-A letter (U+0100..U+017F).
fn fold(c: char) -> Option<char> {
    // NFD base letters of U+0100..U+017F; '?' where there is none.
    const TABLE: &[u8; 128] = b"AaAaAaCcCcCcCcDd??EeEeEeEeEeGgGgGgGgHh??IiIiIiIiI???JjKk?LlLlLl????NnNnNn???OoOoOo??RrRrRrSsSsSsSsTtTt??UuUuUuUuUuUuWwYyYZzZzZz?";
    let i = u32::from(c).checked_sub(0x100)? as usize;
    let b = *TABLE.get(i)?;
    if b == b'?' {
        return None;
    }
    Some(char::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_transliterates() {
        assert_eq!(latin1("Café"), ("Café".into(), false));
        assert_eq!(latin1("“Hi” – it’s…"), ("\"Hi\" - it's...".into(), true));
        assert_eq!(latin1("Dvořák Łódź"), ("Dvorák Lódz".into(), true));
        assert_eq!(latin1("Škoda żółw"), ("Skoda zólw".into(), true));
        assert_eq!(latin1("Œuvre — ﬁn"), ("OEuvre - ?n".into(), true));
        assert_eq!(latin1("東京"), ("??".into(), true));
    }

    #[test]
    fn one_line_turns_controls_into_spaces() {
        assert_eq!(one_line("a\0b\tc\r\nd\u{7f}e\u{85}f"), "a b c  d e f");
        assert!(matches!(one_line("Caf\u{e9} \u{65e5}"), Cow::Borrowed(_)));
    }

    #[test]
    fn msf_of_frames() {
        assert_eq!(msf(0), "00:00:00");
        assert_eq!(msf(359_849), "79:57:74");
    }
}
