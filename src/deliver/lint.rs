//! Store lint: the metadata and audio mistakes that get a release
//! rejected or corrected by a store (REFERENCES.md, "Common store
//! rejections"). Every finding names its track (or the release) and the
//! rule; `check` and `build` print them as warnings, and as errors under
//! `--strict`.

use super::artwork::Finding as ArtworkFinding;
use super::profile::Severity;
use crate::manifest::model::{Release, Track};

/// Which rule a finding broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintRule {
    /// "feat.", "ft." or "featuring" in a title.
    FeaturedInTitle,
    AllCapsTitle,
    LowercaseTitle,
    /// "Original Mix" or "Album Version" in a title or version.
    RedundantVersion,
    /// "Track 1", "Untitled", "Intro 1"-like placeholders.
    GenericTitle,
    /// A one-track release whose track and release titles differ.
    SingleTitleMismatch,
    MissingIsrc,
    MissingUpc,
    /// More than [`MAX_EDGE_SILENCE_S`] of silence at the start.
    HeadSilence,
    /// More than [`MAX_EDGE_SILENCE_S`] of silence at the end.
    TailSilence,
    /// The cover fails a profile's artwork rule.
    Artwork,
}

impl LintRule {
    pub fn as_str(self) -> &'static str {
        match self {
            LintRule::FeaturedInTitle => "featured-in-title",
            LintRule::AllCapsTitle => "all-caps-title",
            LintRule::LowercaseTitle => "lowercase-title",
            LintRule::RedundantVersion => "redundant-version",
            LintRule::GenericTitle => "generic-title",
            LintRule::SingleTitleMismatch => "single-title-mismatch",
            LintRule::MissingIsrc => "missing-isrc",
            LintRule::MissingUpc => "missing-upc",
            LintRule::HeadSilence => "head-silence",
            LintRule::TailSilence => "tail-silence",
            LintRule::Artwork => "artwork",
        }
    }
}

/// Longest silence stores accept at either end of a track, seconds.
pub const MAX_EDGE_SILENCE_S: f64 = 10.0;

/// One lint finding.
#[derive(Debug, Clone, PartialEq)]
pub struct LintFinding {
    pub rule: LintRule,
    /// The track's number, `None` for the release.
    pub track: Option<u32>,
    /// Error-level in any case (an artwork rule the profile makes an
    /// error); everything else is a warning unless `--strict`.
    pub severity: Severity,
    pub message: String,
}

impl std::fmt::Display for LintFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.message, self.rule.as_str())
    }
}

/// Head and tail silence of a track's source or master, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EdgeSilence {
    pub head_s: f64,
    pub tail_s: f64,
}

fn track_label(t: &Track) -> String {
    format!("track {} \"{}\"", t.number, t.title)
}

fn has_featuring(title: &str) -> bool {
    let lower = title.to_lowercase();
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .any(|w| matches!(w, "feat." | "feat" | "ft." | "ft" | "featuring"))
}

fn letters(title: &str) -> impl Iterator<Item = char> + '_ {
    title.chars().filter(|c| c.is_alphabetic())
}

fn is_generic(title: &str) -> bool {
    let t = title.trim().to_lowercase();
    let stem = t.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ' || c == '#' || c == '.');
    matches!(
        stem,
        "track" | "untitled" | "untitled track" | "audio track" | "titel" | "piste" | "song"
    ) || t.is_empty()
}

/// Runs every rule. `silence` is indexed like `tracks` (`None`: not
/// measured); `artwork` holds each bundle's artwork findings with the
/// bundle's name.
pub fn lint(
    release: &Release,
    tracks: &[Track],
    silence: &[Option<EdgeSilence>],
    artwork: &[(String, ArtworkFinding)],
) -> Vec<LintFinding> {
    let mut out = Vec::new();
    let mut warn = |rule, track: Option<u32>, message: String| {
        out.push(LintFinding {
            rule,
            track,
            severity: Severity::Warning,
            message,
        });
    };
    if release.upc.is_none() {
        warn(
            LintRule::MissingUpc,
            None,
            format!(
                "release \"{}\" has no UPC/EAN; stores need one",
                release.title
            ),
        );
    }
    if has_featuring(&release.title) {
        warn(
            LintRule::FeaturedInTitle,
            None,
            format!(
                "release title \"{}\" names a featured artist; credit them in `featuring` instead",
                release.title
            ),
        );
    }
    for (i, t) in tracks.iter().enumerate() {
        let label = track_label(t);
        let n = Some(t.number);
        if has_featuring(&t.title) {
            warn(
                LintRule::FeaturedInTitle,
                n,
                format!("{label}: the title names a featured artist; put them in `featuring`"),
            );
        }
        let has_lower = letters(&t.title).any(char::is_lowercase);
        let has_upper = letters(&t.title).any(char::is_uppercase);
        if letters(&t.title).count() > 1 {
            if has_upper && !has_lower {
                warn(
                    LintRule::AllCapsTitle,
                    n,
                    format!("{label}: the title is in capitals; stores ask for title case"),
                );
            } else if has_lower && !has_upper {
                warn(
                    LintRule::LowercaseTitle,
                    n,
                    format!("{label}: the title is all lowercase; stores ask for title case"),
                );
            }
        }
        for text in [Some(t.title.as_str()), t.version.as_deref()]
            .into_iter()
            .flatten()
        {
            let l = text.to_lowercase();
            for phrase in ["original mix", "album version"] {
                if l.contains(phrase) {
                    warn(
                        LintRule::RedundantVersion,
                        n,
                        format!(
                            "{label}: \"{text}\" says \"{phrase}\"; stores reject it on the standard version"
                        ),
                    );
                }
            }
        }
        if is_generic(&t.title) {
            warn(
                LintRule::GenericTitle,
                n,
                format!("{label}: a placeholder title; give the track its real name"),
            );
        }
        if t.isrc.is_none() {
            warn(
                LintRule::MissingIsrc,
                n,
                format!("{label}: no ISRC; stores need one per track"),
            );
        }
        if let Some(Some(s)) = silence.get(i) {
            if s.head_s > MAX_EDGE_SILENCE_S {
                warn(
                    LintRule::HeadSilence,
                    n,
                    format!(
                        "{label}: {:.1} s of silence at the start (stores take at most {MAX_EDGE_SILENCE_S:.0} s)",
                        s.head_s
                    ),
                );
            }
            if s.tail_s > MAX_EDGE_SILENCE_S {
                warn(
                    LintRule::TailSilence,
                    n,
                    format!(
                        "{label}: {:.1} s of silence at the end (stores take at most {MAX_EDGE_SILENCE_S:.0} s)",
                        s.tail_s
                    ),
                );
            }
        }
    }
    if let [only] = tracks {
        if only.title.trim() != release.title.trim() {
            warn(
                LintRule::SingleTitleMismatch,
                Some(only.number),
                format!(
                    "a single whose track title \"{}\" differs from the release title \"{}\"",
                    only.title, release.title
                ),
            );
        }
    }
    for (bundle, f) in artwork {
        out.push(LintFinding {
            rule: LintRule::Artwork,
            track: None,
            severity: f.severity,
            message: format!("bundle {bundle}: {f}"),
        });
    }
    out
}
