//! `mastering.match` and a track's own `match` (settings that override the
//! album's, or `off`): what the spectrum is matched to, the strength and
//! bound of the correction, the bands, the width option and the range.
//! Reference files are resolved against the manifest's folder and probed
//! here, so that a missing file, one shorter than [`MIN_REFERENCE_S`] or
//! one that cannot be read is reported at its line before any audio is
//! processed.

use std::path::{Path, PathBuf};

use super::fields::{fields, Fields};
use super::tracks::probe_message;
use super::{Cx, Probe};
use crate::manifest::diagnostic::num;
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Value};

pub(super) const MATCH_KEYS: &[&str] = &[
    "to",
    "reference",
    "strength",
    "max_db",
    "resolution",
    "width",
    "low_hz",
    "high_hz",
];

/// A reference shorter than this gives no stable long-term spectrum.
pub const MIN_REFERENCE_S: f64 = 10.0;

/// `mastering.match`.
pub(super) fn album_match(
    cx: &mut Cx,
    node: &Node,
    base_dir: &Path,
    probe: Probe<'_>,
) -> Option<Match> {
    settings(
        cx,
        node,
        "mastering.match",
        &Match::default(),
        base_dir,
        probe,
    )
}

/// A track's `match`: `off`, or settings over the album's (or the
/// defaults when the album has none).
pub(super) fn track_match(
    cx: &mut Cx,
    node: &Node,
    number: u32,
    album: Option<&Match>,
    base_dir: &Path,
    probe: Probe<'_>,
) -> Option<TrackMatch> {
    match &node.value {
        Value::Bool(false) => return Some(TrackMatch::Off),
        Value::Str(s) if s == "off" => return Some(TrackMatch::Off),
        Value::Map(_) => {}
        other => {
            cx.error(
                node.pos,
                format!(
                    "`tracks[{number}].match` must be `off` or a mapping of match settings ({}), found {}",
                    MATCH_KEYS.join(", "),
                    other.kind()
                ),
            );
            return None;
        }
    }
    let base = album.cloned().unwrap_or_default();
    let name = format!("tracks[{number}].match");
    settings(cx, node, &name, &base, base_dir, probe).map(TrackMatch::Own)
}

fn settings(
    cx: &mut Cx,
    node: &Node,
    name: &str,
    base: &Match,
    base_dir: &Path,
    probe: Probe<'_>,
) -> Option<Match> {
    let f = fields(cx, node, name, MATCH_KEYS)?;
    let mut m = base.clone();
    if let Some(to) = f.choice(
        cx,
        "to",
        &[("album", MatchTo::Album), ("reference", MatchTo::Reference)],
    ) {
        m.to = to;
    }
    if let Some(r) = f.node("reference") {
        let (written, resolved) = references(cx, &f, r, base_dir, probe);
        m.reference_files = written;
        m.references = resolved;
    }
    m.strength = f.number(cx, "strength", "", 0.0, 1.0).unwrap_or(m.strength);
    m.max_db = f.number(cx, "max_db", " dB", 0.0, 12.0).unwrap_or(m.max_db);
    if let Some(r) = f.choice(
        cx,
        "resolution",
        &[
            ("third_octave", MatchResolution::ThirdOctave),
            ("erb", MatchResolution::Erb),
        ],
    ) {
        m.resolution = r;
    }
    m.width = f.boolean(cx, "width").unwrap_or(m.width);
    m.low_hz = f
        .number(cx, "low_hz", " Hz", 20.0, 20_000.0)
        .unwrap_or(m.low_hz);
    m.high_hz = f
        .number(cx, "high_hz", " Hz", 20.0, 20_000.0)
        .unwrap_or(m.high_hz);
    if m.high_hz <= m.low_hz {
        cx.error(
            f.key_pos(if f.node("high_hz").is_some() {
                "high_hz"
            } else {
                "low_hz"
            }),
            format!(
                "`{name}` corrects from `low_hz` {} Hz to `high_hz` {} Hz: `high_hz` must be above `low_hz`",
                num(m.low_hz),
                num(m.high_hz)
            ),
        );
    }
    match m.to {
        MatchTo::Reference if m.references.is_empty() && f.node("reference").is_none() => {
            cx.error(
                f.key_pos("to"),
                format!("`{name}` matches `to: reference` but names no `reference` files"),
            );
        }
        MatchTo::Album if f.node("reference").is_some() => cx.warn(
            f.key_pos("reference"),
            format!("`{name}` matches `to: album`: its `reference` files are not used"),
        ),
        _ => {}
    }
    Some(m)
}

/// The reference list: each file exists, is readable and long enough.
fn references(
    cx: &mut Cx,
    f: &Fields<'_>,
    node: &Node,
    base_dir: &Path,
    probe: Probe<'_>,
) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Str(_) => vec![node],
        other => {
            cx.error(
                node.pos,
                format!(
                    "`{}.reference` must be a list of audio files, found {}",
                    f.name,
                    other.kind()
                ),
            );
            return (Vec::new(), Vec::new());
        }
    };
    if items.is_empty() {
        cx.error(
            node.pos,
            format!(
                "`{}.reference` is empty: name at least one audio file",
                f.name
            ),
        );
    }
    let (mut written, mut resolved) = (Vec::new(), Vec::new());
    for item in items {
        let Value::Str(s) = &item.value else {
            cx.error(
                item.pos,
                format!(
                    "each `reference` is the path of an audio file, found {}",
                    item.value.kind()
                ),
            );
            continue;
        };
        let file = PathBuf::from(s);
        let path = base_dir.join(&file);
        if !path.exists() {
            cx.error(
                item.pos,
                format!("reference {}: no such file", file.display()),
            );
            continue;
        }
        match probe(&path) {
            Err(e) => cx.error(item.pos, format!("reference {}", probe_message(&file, &e))),
            Ok(info) => {
                if let Some(frames) = info.frames {
                    let secs = frames as f64 / f64::from(info.sample_rate.max(1));
                    if secs < MIN_REFERENCE_S {
                        cx.error(
                            item.pos,
                            format!(
                                "reference {} is {secs:.1} s long; matching needs at least {} s of it for a stable long-term spectrum",
                                file.display(),
                                num(MIN_REFERENCE_S)
                            ),
                        );
                        continue;
                    }
                }
                written.push(file);
                resolved.push(path);
            }
        }
    }
    (written, resolved)
}

/// `to: album` needs other tracks to match to.
pub(super) fn album_needs_tracks(cx: &mut Cx, node: &Node, m: &Match, tracks: usize) {
    if m.to == MatchTo::Album && m.strength > 0.0 && tracks < 2 {
        cx.error(
            node.pos,
            format!(
                "`match` is `to: album`, but the album has {tracks} track: the target is the other tracks' spectrum; use `to: reference` with a reference file"
            ),
        );
    }
}
