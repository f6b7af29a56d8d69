//! Problems found in a manifest, each with its place: the text the command
//! line shows (`FILE:LINE:COL: error: message`, the line, a caret) and the
//! JSON form of `check --json`. Also what every message goes through
//! before it reaches a terminal: numbers rounded ([`num`]) and control
//! characters escaped ([`safe`]).

use std::path::{Path, PathBuf};

use super::raw::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem, at a place in the manifest when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub pos: Option<Pos>,
    pub message: String,
}

/// The JSON shape of a diagnostic (cli.md): line and column 1-based, null
/// where the problem has no place.
#[derive(serde::Serialize)]
pub struct DiagnosticJson<'a> {
    pub severity: Severity,
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: &'a str,
}

impl Diagnostic {
    pub fn error(file: &Path, pos: Option<Pos>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_owned(),
            pos,
            message: message.into(),
        }
    }

    pub fn warning(file: &Path, pos: Option<Pos>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, pos, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn to_json(&self) -> DiagnosticJson<'_> {
        DiagnosticJson {
            severity: self.severity,
            file: self.file.display().to_string(),
            line: self.pos.map(|p| p.line),
            column: self.pos.map(|p| p.column),
            message: &self.message,
        }
    }

    /// `FILE:LINE:COL: error: message`, then the manifest line and a caret
    /// under the column when `source` (the manifest's text) is given.
    pub fn render(&self, source: Option<&str>) -> String {
        let file = self.file.display().to_string();
        let (file, message) = (safe_line(&file), safe(&self.message));
        let mut out = match self.pos {
            Some(p) => format!(
                "{file}:{}:{}: {}: {message}\n",
                p.line,
                p.column,
                self.severity.as_str(),
            ),
            None => format!("{file}: {}: {message}\n", self.severity.as_str()),
        };
        if let (Some(p), Some(src)) = (self.pos, source) {
            if let Some(line) = src.lines().nth(p.line.saturating_sub(1) as usize) {
                let (shown, caret_at) = window(line, p.column.saturating_sub(1) as usize);
                let split = shown
                    .char_indices()
                    .nth(caret_at)
                    .map_or(shown.len(), |(i, _)| i);
                // Escapes before the caret widen the line: the caret
                // moves with them.
                let before = safe_line(&shown[..split]);
                let after = safe_line(&shown[split..]);
                let gutter = p.line.to_string();
                let pad = " ".repeat(gutter.len());
                // Tabs are kept under tabs so that the caret lines up.
                let lead: String = before
                    .chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                out.push_str(&format!(
                    "{pad} |\n{gutter} | {before}{after}\n{pad} | {lead}^\n"
                ));
            }
        }
        out
    }
}

/// At most this many characters of a manifest line are shown.
const SHOWN_CHARS: usize = 100;

/// The part of `line` to show around character `col` (0-based) and where
/// the caret goes in it: long lines are cut to a window marked with `…`.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SHOWN_CHARS {
        return (line.to_owned(), col.min(chars.len()));
    }
    let start = col
        .saturating_sub(SHOWN_CHARS / 2)
        .min(chars.len() - SHOWN_CHARS);
    let end = start + SHOWN_CHARS;
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, col - start + usize::from(start > 0))
}

/// Sorts diagnostics by place (those without one last), errors before
/// warnings at the same place.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| (d.pos.is_none(), d.pos.unwrap_or_default(), d.severity));
}

/// A number for a message: as Rust writes it when that is short (`2.5`,
/// `-14`, `0.001`), else rounded in scientific notation (`1.0e308`), so
/// that no message prints the 309 digits of a huge value.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "infinity" } else { "-infinity" }.to_owned();
    }
    let a = v.abs();
    if a == 0.0 || (1e-6..1e9).contains(&a) {
        let s = v.to_string();
        if s.len() <= 24 {
            return s;
        }
    }
    format!("{v:.1e}")
}

/// `text` made safe to print on a terminal: control characters (C0 but
/// newline and tab, DEL, C1) and the bidirectional overrides are written as
/// `\u{..}` escapes, so that a file name, a tag or a manifest value cannot
/// move the cursor, recolour the terminal or reorder what is shown.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// [`safe`] for one line: a newline is escaped too (a tab is kept).
pub fn safe_line(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, |c| c == '\t')
}

/// Whether `c` is shown as an escape by [`safe`].
pub fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c) && !keep(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(-14.0), "-14");
        assert_eq!(num(0.001), "0.001");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1e308), "1.0e308");
        assert_eq!(num(-f64::MAX), "-1.8e308");
        assert_eq!(num(1e-308), "1.0e-308");
        assert_eq!(num(123_456_789.0), "123456789");
        assert_eq!(num(f64::INFINITY), "infinity");
        for v in [1e20, 1e100, 1e-7, 1.0 / 3.0, 99_999_999_999.5] {
            assert!(num(v).len() <= 24, "{v}: {}", num(v));
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(safe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(
            safe("\0\u{7f}\u{85}\u{9b}\u{202e}"),
            "\\u{0}\\u{7f}\\u{85}\\u{9b}\\u{202e}"
        );
        assert_eq!(safe_line("a\nb\rc"), "a\\u{a}b\\u{d}c");
    }

    #[test]
    fn the_caret_follows_escapes() {
        let d = Diagnostic::error(
            Path::new("a\u{1b}.yaml"),
            Some(Pos { line: 1, column: 4 }),
            "bad \u{7}value",
        );
        let text = d.render(Some("k:\u{1}\u{2}x\n"));
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a\\u{1b}.yaml:1:4: error: bad \\u{7}value");
        assert_eq!(lines[2], "1 | k:\\u{1}\\u{2}x");
        // "k:" and the escaped U+0001 before the caret: 7 columns.
        assert_eq!(lines[3], format!("  | {}^", " ".repeat(7)));
    }
}
