//! One entry of `tracks:`: the source (probed at its `file:` line), the
//! text fields, ISRC, gain, trim, fades, pause, segue, index points and
//! the track's own chain; then the trim and fades against the source's
//! length (the index points are checked by the disc layout).

use std::path::{Path, PathBuf};

use super::fields::{child, fields, time_value, Fields};
use super::mastering::chain;
use super::{Cx, Probe};
use crate::audio::AudioError;
use crate::manifest::codes::Isrc;
use crate::manifest::diagnostic::num;
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Value};
use crate::master::TrackPlan;

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
    "match",
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
    let name = format!("track {number}");
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
                        cx.lengths_unsure = true;
                        cx.error(
                            t.node("end").map_or(t.pos, |n| n.pos),
                            format!(
                                "`trim` ends at {} s, not after its start at {} s",
                                num(e),
                                num(start)
                            ),
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
        // Read in `top`, over `mastering.match`.
        tonal_match: None,
    };
    track_timing(cx, &f, &track);
    Some(track)
}

/// The trim and the fades must fall inside the source. (The index points
/// are the CD's: the disc layout checks them, in `cd.rs`.) A trim that
/// leaves nothing marks the lengths unsure, so that the layout does not
/// report the same mistake again as a track too short.
pub(super) fn track_timing(cx: &mut Cx, f: &Fields<'_>, t: &Track) {
    let source_s = t
        .info
        .as_ref()
        .and_then(|i| Some(i.frames? as f64 / f64::from(i.sample_rate)));
    let trim = f.node("trim");
    let trim_pos = |key: &str| {
        trim.and_then(|n| child(n, key))
            .map_or(f.key_pos("trim"), |v| v.pos)
    };
    if let Some(total) = source_s {
        if t.trim_start_s > 0.0 && t.trim_start_s >= total {
            cx.lengths_unsure = true;
            cx.error(
                trim_pos("start"),
                format!(
                    "`trim` starts at {} s, at or past the end of {} ({total:.3} s): nothing of it would be left",
                    num(t.trim_start_s),
                    t.file.display()
                ),
            );
        }
        if let Some(end) = t.trim_end_s {
            if end > total + 1e-9 {
                cx.lengths_unsure = true;
                cx.error(
                    trim_pos("end"),
                    format!(
                        "`trim` ends at {} s, past the end of {} ({total:.3} s)",
                        num(end),
                        t.file.display()
                    ),
                );
            }
        }
    }
    let Some(len) = t.duration_s() else { return };
    if let Some(fade) = &t.fade {
        if fade.in_s + fade.out_s > len + 1e-9 {
            cx.error(
                f.key_pos("fade"),
                format!(
                    "the fades ({} s in, {} s out) are longer than the track ({len:.3} s)",
                    num(fade.in_s),
                    num(fade.out_s)
                ),
            );
        }
    }
}

/// The track's processing built as `build` builds it, at the source's
/// sample rate: each DSP stage checks its own settings (an EQ band at or
/// above 0.49 of the rate, say), so that what the DSP would refuse after
/// the first pass is found here, at the track's `file:` line.
pub(super) fn processing_fits(cx: &mut Cx, t: &Track, node: &Node, mastering: &Mastering) {
    let Some(frames) = t.info.as_ref().map(|i| i.frames.unwrap_or(0)) else {
        return;
    };
    let built = TrackPlan::new(t, mastering).and_then(|plan| {
        plan.pre_chain(mastering.true_peak_dbtp)?;
        plan.post_chain(0.0, frames)?;
        Ok(())
    });
    let rate = t.info.as_ref().map_or(0, |i| i.sample_rate);
    if rate > 0 && frames > 0 {
        let end = t
            .trim_end_s
            .unwrap_or(f64::INFINITY)
            .min(frames as f64 / f64::from(rate));
        let kept = end - t.trim_start_s;
        for s in t.chain(mastering) {
            if let Stage::Denoise(Denoise {
                profile: NoiseFrom::Range { start_s, end_s },
                ..
            }) = s
            {
                if *end_s > kept {
                    let pos = child(node, "file").map_or(node.pos, |v| v.pos);
                    cx.error(
                        pos,
                        format!(
                            "{}: the denoise profile's range {} s to {} s ends after the track, which is {} s long (after trimming)",
                            t.file.display(),
                            num(*start_s),
                            num(*end_s),
                            num((kept * 1000.0).round() / 1000.0)
                        ),
                    );
                }
            }
        }
    }
    if let Err(e) = built {
        let pos = child(node, "file").map_or(node.pos, |v| v.pos);
        let rate = t.info.as_ref().map_or(0, |i| i.sample_rate);
        cx.error(
            pos,
            format!(
                "{} ({rate} Hz) cannot be mastered with these settings: {e}",
                t.file.display()
            ),
        );
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
