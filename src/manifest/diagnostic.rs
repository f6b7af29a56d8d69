//! Problems found in a manifest, each with its place: the text the command
//! line shows (`FILE:LINE:COL: error: message`, the line, a caret) and the
//! JSON form of `check --json`.

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
        let mut out = match self.pos {
            Some(p) => format!(
                "{}:{}:{}: {}: {}\n",
                self.file.display(),
                p.line,
                p.column,
                self.severity.as_str(),
                self.message
            ),
            None => format!(
                "{}: {}: {}\n",
                self.file.display(),
                self.severity.as_str(),
                self.message
            ),
        };
        if let (Some(p), Some(src)) = (self.pos, source) {
            if let Some(line) = src.lines().nth(p.line.saturating_sub(1) as usize) {
                let (shown, caret_at) = window(line, p.column.saturating_sub(1) as usize);
                let gutter = p.line.to_string();
                let pad = " ".repeat(gutter.len());
                // Tabs are kept under tabs so that the caret lines up.
                let lead: String = shown
                    .chars()
                    .take(caret_at)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                out.push_str(&format!("{pad} |\n{gutter} | {shown}\n{pad} | {lead}^\n"));
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
