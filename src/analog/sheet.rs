//! The cutting sheet (vinyl) or duplication sheet (cassette) that goes to
//! the plant with the side files: per side, each track's position (A1,
//! A2, ...), number, title, start within the side (as time and as a
//! sample offset into the side file), duration, file, then the side's
//! total against the medium's limits, and the checks. As plain text and
//! as self-contained printable HTML (minijinja, from
//! `templates/analog-sheet.html`, escaped by its `.html` name). No clock:
//! the same layout gives the same bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use minijinja::Environment;
use serde::Serialize;

use super::sides::{Limits, Side, Verdict};
use super::{AnalogError, Medium};
use crate::disc::text::one_line;

const TEMPLATE: &str = include_str!("../../templates/analog-sheet.html");

/// What the sheet is about, besides the sides.
pub struct SheetInfo<'a> {
    pub medium: Medium,
    pub title: &'a str,
    pub artist: &'a str,
    /// `12" 33 1/3 rpm`, `C60`.
    pub format: String,
    pub limits: Limits,
    /// Per album track: its title.
    pub titles: &'a [String],
    /// Per album track: its premaster's path relative to the sheet, if one
    /// is delivered.
    pub track_files: &'a [Option<String>],
    /// Per side: the side file's name.
    pub side_files: &'a [String],
    /// The failed checks, as sentences.
    pub checks: &'a [String],
}

#[derive(Serialize)]
struct View {
    heading: &'static str,
    title: String,
    artist: String,
    format: String,
    audio: String,
    limits: String,
    sides: Vec<SideView>,
    checks: Vec<String>,
}

#[derive(Serialize)]
struct SideView {
    name: String,
    file: String,
    rows: Vec<RowView>,
    samples: u64,
    total: String,
    verdict: String,
    verdict_class: &'static str,
}

#[derive(Serialize)]
struct RowView {
    position: String,
    number: u32,
    title: String,
    start: String,
    start_sample: u64,
    duration: String,
    file: String,
}

/// `m:ss.mmm` of `frames` at `rate`.
pub fn clock(frames: u64, rate: u32) -> String {
    let ms = (frames as u128 * 1000 + u128::from(rate) / 2) / u128::from(rate);
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

/// `m:ss` of minutes.
pub fn minutes(m: f64) -> String {
    let s = (m * 60.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn view(info: &SheetInfo<'_>, sides: &[Side]) -> View {
    let rate = sides.first().map_or(0, |s| s.rate);
    let gap = sides
        .first()
        .map(|s| clock(s.gap_frames, s.rate))
        .unwrap_or_default();
    let limits = match info.limits.recommended {
        Some(r) => format!(
            "recommended up to {} per side, at most {}",
            minutes(r),
            minutes(info.limits.maximum)
        ),
        None => format!("at most {} per side", minutes(info.limits.maximum)),
    };
    let sides = sides
        .iter()
        .zip(info.side_files)
        .map(|(s, file)| {
            let (verdict, class) = match info.limits.judge(s.minutes()) {
                Verdict::Fits => ("fits".to_owned(), "ok"),
                Verdict::OverRecommended => (
                    format!(
                        "over the recommended {}: cut at a reduced level",
                        minutes(info.limits.recommended.unwrap_or_default())
                    ),
                    "warning",
                ),
                Verdict::OverMaximum => (
                    format!("over the maximum {}", minutes(info.limits.maximum)),
                    "error",
                ),
            };
            SideView {
                name: s.name.clone(),
                file: file.clone(),
                rows: s
                    .tracks
                    .iter()
                    .enumerate()
                    .map(|(k, p)| RowView {
                        position: format!("{}{}", s.name, k + 1),
                        number: p.track as u32 + 1,
                        title: one_line(&info.titles[p.track]).into_owned(),
                        start: clock(p.start, s.rate),
                        start_sample: p.start,
                        duration: clock(p.frames, s.rate),
                        file: info.track_files[p.track].clone().unwrap_or_default(),
                    })
                    .collect(),
                samples: s.frames,
                total: clock(s.frames, s.rate),
                verdict,
                verdict_class: class,
            }
        })
        .collect();
    View {
        heading: match info.medium {
            Medium::Vinyl => "Cutting sheet",
            Medium::Cassette => "Duplication sheet",
        },
        title: one_line(info.title).into_owned(),
        artist: one_line(info.artist).into_owned(),
        format: info.format.clone(),
        audio: format!("24-bit PCM WAV, stereo, {rate} Hz; {gap} of silence between tracks"),
        limits,
        sides,
        checks: info
            .checks
            .iter()
            .map(|c| one_line(c).into_owned())
            .collect(),
    }
}

/// The plain-text sheet.
pub fn render_text(info: &SheetInfo<'_>, sides: &[Side]) -> String {
    let v = view(info, sides);
    let mut t = String::new();
    let _ = writeln!(t, "{}", v.heading.to_uppercase());
    let _ = writeln!(t, "Release:     {}", v.title);
    let _ = writeln!(t, "Artist:      {}", v.artist);
    let _ = writeln!(t, "Format:      {}", v.format);
    let _ = writeln!(t, "Audio:       {}", v.audio);
    let _ = writeln!(t, "Side length: {}", v.limits);
    for s in &v.sides {
        let _ = writeln!(t, "\nSIDE {} ({})", s.name, s.file);
        let _ = writeln!(
            t,
            "{:<5} {:>5}  {:<32} {:>11} {:>12} {:>11}  File",
            "Pos", "Track", "Title", "Start", "Start sample", "Duration"
        );
        for r in &s.rows {
            let _ = writeln!(
                t,
                "{:<5} {:>5}  {:<32} {:>11} {:>12} {:>11}  {}",
                r.position, r.number, r.title, r.start, r.start_sample, r.duration, r.file
            );
        }
        let _ = writeln!(
            t,
            "Side {} total: {} ({} samples): {}",
            s.name, s.total, s.samples, s.verdict
        );
    }
    let _ = writeln!(t, "\nCHECKS");
    if v.checks.is_empty() {
        let _ = writeln!(t, "Every check passed.");
    }
    for c in &v.checks {
        let _ = writeln!(t, "- {c}");
    }
    t
}

/// The HTML sheet.
pub fn render_html(info: &SheetInfo<'_>, sides: &[Side]) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("analog-sheet.html", TEMPLATE)?;
    let v = view(info, sides);
    env.get_template("analog-sheet.html")?
        .render(minijinja::Value::from(minijinja::value::Serde(&v)))
}

/// Writes `STEM.txt` and `STEM.html` into `dir`; returns their paths.
pub fn write_sheets(
    dir: &Path,
    stem: &str,
    info: &SheetInfo<'_>,
    sides: &[Side],
) -> Result<Vec<PathBuf>, AnalogError> {
    let txt = dir.join(format!("{stem}.txt"));
    std::fs::write(&txt, render_text(info, sides)).map_err(|e| AnalogError::io(&txt, e))?;
    let html_path = dir.join(format!("{stem}.html"));
    let html = render_html(info, sides).map_err(|e| AnalogError::Invalid {
        path: html_path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&html_path, html).map_err(|e| AnalogError::io(&html_path, e))?;
    Ok(vec![txt, html_path])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analog::lay_out;

    #[test]
    fn the_sheet_lists_starts_and_totals() {
        let sides = lay_out(
            &[vec![0, 1], vec![2]],
            &[441_000, 44_100, 88_200],
            44_100,
            110_250,
        );
        let titles = vec!["One".to_owned(), "Two <b>".to_owned(), "Three".to_owned()];
        let files = vec![None, None, None];
        let side_files = vec!["side-A.wav".to_owned(), "side-B.wav".to_owned()];
        let info = SheetInfo {
            medium: Medium::Vinyl,
            title: "T",
            artist: "A",
            format: "12\" 33 1/3 rpm".into(),
            limits: Limits {
                recommended: Some(20.0),
                maximum: 25.0,
            },
            titles: &titles,
            track_files: &files,
            side_files: &side_files,
            checks: &[],
        };
        let text = render_text(&info, &sides);
        assert!(text.contains("A2        2  Two <b>"), "{text}");
        assert!(text.contains("0:12.500"), "{text}");
        assert!(
            text.contains("Side A total: 0:13.500 (595350 samples): fits"),
            "{text}"
        );
        let html = render_html(&info, &sides).unwrap();
        assert!(html.contains("Two &lt;b&gt;"), "{html}");
        assert_eq!(clock(44_100 * 61 + 22, 44_100), "1:01.000");
    }
}
