//! One entry of `tracks:`: the source (probed at its `file:` line), the
//! text fields, ISRC, gain, trim, fades, pause, segue, index points and
//! the track's own chain; then the trim, fades and indexes against the
//! source's length.

use std::path::{Path, PathBuf};

use super::fields::{fields, time_value, Fields};
use super::mastering::chain;
use super::{Cx, Probe};
use crate::audio::AudioError;
use crate::manifest::codes::Isrc;
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Value};

pub(super) const TRACK_KEYS: &[&str] = &[
    "file",
    "title",
    "artist",
    "featuring",
    "composer",
    "lyricist",
    "arranger",
    "producer",
    "version",
    "isrc",
    "explicit",
    "gain_db",
    "trim",
    "fade",
    "pregap",
    "segue",
    "indexes",
    "chain",
    "lyrics",
    "disc",
];
pub(super) const TRIM_KEYS: &[&str] = &["start", "end"];
pub(super) const FADE_KEYS: &[&str] = &["in_s", "out_s", "curve"];

pub(super) fn track(
    cx: &mut Cx,
    node: &Node,
    number: u32,
    release_artist: &str,
    base_dir: &Path,
    probe: Probe<'_>,
) -> Option<Track> {
    let name = format!("tracks[{number}]");
    let f = fields(cx, node, &name, TRACK_KEYS)?;
    let file = f.required_text(cx, "file").map(PathBuf::from);
    let title = f.required_text(cx, "title");
    let mut info = None;
    if let (Some(file), Some(n)) = (&file, f.node("file")) {
        let path = base_dir.join(file);
        if !path.exists() {
            cx.error(n.pos, format!("{}: no such file", file.display()));
        } else {
            match probe(&path) {
                Ok(i) => info = Some(i),
                Err(e) => cx.error(n.pos, probe_message(file, &e)),
            }
        }
    }
    let isrc = f.text(cx, "isrc").and_then(|t| match Isrc::parse(&t) {
        Ok(i) => Some(i),
        Err(e) => {
            cx.error(f.node("isrc").map_or(f.pos, |n| n.pos), e);
            None
        }
    });
    let (trim_start_s, trim_end_s) = match f.node("trim") {
        Some(n) => match fields(cx, n, "trim", TRIM_KEYS) {
            Some(t) => {
                let start = t.time(cx, "start").unwrap_or(0.0);
                let end = t.time(cx, "end");
                if let Some(e) = end {
                    if e <= start {
                        cx.error(
                            t.node("end").map_or(t.pos, |n| n.pos),
                            format!("`trim` ends at {e} s, not after its start at {start} s"),
                        );
                    }
                }
                (start, end)
            }
            None => (0.0, None),
        },
        None => (0.0, None),
    };
    let fade = f.node("fade").and_then(|n| {
        let t = fields(cx, n, "fade", FADE_KEYS)?;
        Some(Fade {
            in_s: t.number(cx, "in_s", " s", 0.0, 600.0).unwrap_or(0.0),
            out_s: t.number(cx, "out_s", " s", 0.0, 600.0).unwrap_or(0.0),
            curve: t
                .choice(
                    cx,
                    "curve",
                    &[
                        ("linear", FadeCurve::Linear),
                        ("log", FadeCurve::Log),
                        ("s-curve", FadeCurve::SCurve),
                    ],
                )
                .unwrap_or(FadeCurve::SCurve),
        })
    });
    let indexes = match f.node("indexes") {
        None => Vec::new(),
        Some(n) => match &n.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| time_value(cx, i, "indexes"))
                .collect(),
            other => {
                cx.error(
                    n.pos,
                    format!("`indexes` must be a list of times, found {}", other.kind()),
                );
                Vec::new()
            }
        },
    };
    let track = Track {
        number,
        path: file.as_ref().map(|p| base_dir.join(p)).unwrap_or_default(),
        file: file.unwrap_or_default(),
        info,
        title: title.unwrap_or_default(),
        artist: f
            .text(cx, "artist")
            .unwrap_or_else(|| release_artist.to_owned()),
        featuring: f.text_list(cx, "featuring"),
        composer: f.text(cx, "composer"),
        lyricist: f.text(cx, "lyricist"),
        arranger: f.text(cx, "arranger"),
        producer: f.text(cx, "producer"),
        version: f.text(cx, "version"),
        isrc,
        isrc_generated: false,
        explicit: f.boolean(cx, "explicit").unwrap_or(false),
        gain_db: f.number(cx, "gain_db", " dB", -48.0, 48.0).unwrap_or(0.0),
        trim_start_s,
        trim_end_s,
        fade,
        pregap_s: f.time(cx, "pregap"),
        segue: f.boolean(cx, "segue").unwrap_or(false),
        indexes,
        chain: f.node("chain").map(|n| chain(cx, n)),
        lyrics: f.text(cx, "lyrics"),
        disc: f.integer(cx, "disc", 1, 99).unwrap_or(1) as u32,
    };
    track_timing(cx, &f, &track);
    Some(track)
}

/// Trim, fades and index points must fall inside the track.
pub(super) fn track_timing(cx: &mut Cx, f: &Fields<'_>, t: &Track) {
    let source_s = t
        .info
        .as_ref()
        .and_then(|i| Some(i.frames? as f64 / f64::from(i.sample_rate)));
    if let (Some(total), Some(end)) = (source_s, t.trim_end_s) {
        if end > total + 1e-9 {
            cx.error(
                f.key_pos("trim"),
                format!(
                    "`trim` ends at {end} s, past the end of {} ({total:.3} s)",
                    t.file.display()
                ),
            );
        }
    }
    let Some(len) = t.duration_s() else { return };
    if let Some(fade) = &t.fade {
        if fade.in_s + fade.out_s > len + 1e-9 {
            cx.error(
                f.key_pos("fade"),
                format!(
                    "the fades ({} s in, {} s out) are longer than the track ({len:.3} s)",
                    fade.in_s, fade.out_s
                ),
            );
        }
    }
    let mut prev = 0.0;
    for (i, &at) in t.indexes.iter().enumerate() {
        let pos = match f.node("indexes").map(|n| &n.value) {
            Some(Value::Seq(items)) => items.get(i).map_or(f.pos, |n| n.pos),
            _ => f.pos,
        };
        if at <= prev {
            cx.error(
                pos,
                format!(
                    "INDEX {:02} at {at} s must come after {} at {prev} s",
                    i + 2,
                    if i == 0 {
                        "the track start".to_owned()
                    } else {
                        format!("INDEX {:02}", i + 1)
                    }
                ),
            );
        } else if at >= len {
            cx.error(
                pos,
                format!(
                    "INDEX {:02} at {at} s is past the end of the track ({len:.3} s)",
                    i + 2
                ),
            );
        }
        prev = at;
    }
}

pub(super) fn probe_message(file: &Path, e: &AudioError) -> String {
    let text = e.to_string();
    // The audio errors begin with the resolved path; show the manifest's.
    match text.split_once(": ") {
        Some((_, rest)) => format!("{}: {rest}", file.display()),
        None => format!("{}: {text}", file.display()),
    }
}
