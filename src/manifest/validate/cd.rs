//! The `cd:` section (pause, formats, CD-Text, dither, flags, the hidden
//! track), and each disc itself: laid out by the disc stage's own Red Book layout from the
//! probed lengths after the trims, and its CD-Text encoded, so that `check`
//! and the start of `build` find what the CD writers would refuse after
//! all the mastering.

use super::fields::{child, choice_value, settings};
use super::{Cx, MIN_TRACK_FRAMES};
use crate::disc::cdtext::{CdTextError, MAX_TEXT_PACKS};
use crate::disc::from_manifest::disc_input;
use crate::disc::layout::{
    DiscLayout, LayoutError, LayoutInput, MAX_EXTRA_INDEXES, MAX_PAUSE_S, SAMPLES_PER_FRAME,
};
use crate::disc::DiscWarning;
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Pos, Value};

pub(super) const CD_KEYS: &[&str] = &[
    "gap_s",
    "formats",
    "cd_text",
    "dither",
    "pre_emphasis",
    "copy_permitted",
    "hidden_track",
];

pub(super) fn cd_section(
    cx: &mut Cx,
    node: &Node,
    base_dir: &std::path::Path,
    probe: super::Probe<'_>,
) -> Option<CdOptions> {
    let f = settings(cx, node, "cd", CD_KEYS)?;
    let formats = match f.node("formats") {
        None => vec![CdFormat::Ddp, CdFormat::Cue, CdFormat::Toc],
        Some(n) => match &n.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| {
                    choice_value(
                        cx,
                        i,
                        "formats",
                        &[
                            ("ddp", CdFormat::Ddp),
                            ("cue", CdFormat::Cue),
                            ("toc", CdFormat::Toc),
                        ],
                    )
                })
                .collect(),
            other => {
                cx.error(
                    n.pos,
                    format!(
                        "`formats` must be a list such as [ddp, cue, toc], found {}",
                        other.kind()
                    ),
                );
                Vec::new()
            }
        },
    };
    Some(CdOptions {
        gap_s: f.time(cx, "gap_s").unwrap_or(DEFAULT_GAP_S),
        formats,
        cd_text: f.boolean(cx, "cd_text").unwrap_or(true),
        dither: f
            .choice(
                cx,
                "dither",
                &[
                    ("tpdf", Dither::Tpdf),
                    ("shaped", Dither::Shaped),
                    ("none", Dither::None),
                ],
            )
            .unwrap_or(Dither::Tpdf),
        pre_emphasis: f.boolean(cx, "pre_emphasis").unwrap_or(false),
        copy_permitted: f.boolean(cx, "copy_permitted").unwrap_or(false),
        hidden_track: f
            .node("hidden_track")
            .and_then(|n| super::discs::hidden_track(cx, n, base_dir, probe)),
    })
}

/// Where the parts of the disc were written in the manifest, for placing
/// the layout's errors.
pub(super) struct Places<'n> {
    /// The `tracks` key and its list.
    pub tracks_key: Pos,
    pub tracks_list: Pos,
    /// One per track of the model, in order.
    pub tracks: &'n [&'n Node],
    /// The `cd` key and its mapping.
    pub cd_key: Pos,
    pub cd: Option<&'n Node>,
    pub release: Option<&'n Node>,
}

/// Samples per channel at 44.1 kHz that the CD path makes of a track: the
/// source frames the trim keeps (rounded to the nearest frame as
/// `master::TrackPlan` does), resampled as `dsp::Resampler` will. `None` when the source's length is not
/// known before decoding.
pub(super) fn cd_samples(t: &Track) -> Option<u64> {
    let info = t.info.as_ref()?;
    Some(crate::dsp::resample::resampled_len(
        t.kept_frames()?,
        info.sample_rate,
        CD_RATE,
    ))
}

const CD_RATE: u32 = 44_100;

/// Each disc as `build` will lay it out, from the probed lengths after
/// the trims: [`DiscLayout::new`] applies every Red Book rule (none is
/// copied here), to each disc of a set on its own (the hidden track on
/// disc 1). Each problem is reported at the manifest line it comes from
/// and set right in the input, and the layout is tried again, so that
/// every problem is reported at once. Then the CD-Text is encoded, as the
/// DDP writer will, to check that it fits in its packs.
pub(super) fn disc_layout(cx: &mut Cx, m: &Manifest, places: &Places<'_>) {
    if m.cd.is_none() || m.tracks.len() != places.tracks.len() {
        return;
    }
    let discs = m.discs();
    let hidden = m.hidden_as_track();
    for &disc in &discs {
        let on: Vec<usize> = (0..m.tracks.len())
            .filter(|&i| m.tracks[i].disc == disc)
            .collect();
        let nodes: Vec<&Node> = on.iter().map(|&i| places.tracks[i]).collect();
        let p = Places {
            tracks: &nodes,
            ..*places
        };
        let tracks: Vec<&Track> = on.iter().map(|&i| &m.tracks[i]).collect();
        let label = (discs.len() > 1).then_some(disc);
        let hidden = hidden.as_ref().filter(|_| disc == 1);
        one_disc(cx, m, (disc, label), &tracks, hidden, &p);
    }
}

/// The layout of disc `disc`: `tracks` (numbered from 1 on it), the
/// hidden track when it is disc 1's; `label`: the disc's number on a set
/// of several (`None` on a single disc), said in each message.
fn one_disc(
    cx: &mut Cx,
    m: &Manifest,
    (disc, label): (u32, Option<u32>),
    tracks: &[&Track],
    hidden: Option<&Track>,
    places: &Places<'_>,
) {
    let known: Vec<Option<u64>> = tracks.iter().map(|t| cd_samples(t)).collect();
    let hidden_known = hidden.map(cd_samples);
    let all_known = known.iter().all(Option::is_some) && hidden_known.is_none_or(|h| h.is_some());
    // A source whose length only decoding tells: long enough for its
    // indexes and the 4 s, and the disc's length is not judged.
    let samples: Vec<u64> = known
        .iter()
        .zip(tracks)
        .map(|(k, t)| {
            k.unwrap_or_else(|| {
                let last = t.indexes.iter().copied().fold(0.0, f64::max);
                ((last.min(MAX_PAUSE_S) + 5.0) * f64::from(CD_RATE)) as u64
            })
        })
        .collect();
    let hidden_samples = hidden_known.map(|h| h.unwrap_or(u64::from(CD_RATE)));
    let Ok(mut input) = disc_input(m, disc, &samples, hidden_samples) else {
        return;
    };
    // A segue into a disc's first track was reported with the disc
    // numbers (discs.rs); disc 1's is the layout's to report.
    if label.is_some_and(|d| d > 1) {
        input.tracks[0].segue = false;
    }
    let on_disc = |msg: String| match label {
        Some(d) => format!("disc {d}: {msg}"),
        None => msg,
    };
    for _ in 0..input.tracks.len() * 4 + 8 {
        match DiscLayout::new(&input) {
            Ok(layout) => {
                let first = tracks
                    .first()
                    .and_then(|f| m.tracks.iter().position(|t| std::ptr::eq(t, *f)))
                    .unwrap_or(0);
                disc_warnings(cx, m, &layout, places, all_known, first, &on_disc);
                cd_text_budget(cx, &layout, places);
                return;
            }
            Err(e) => {
                if !report_and_mend(cx, &mut input, &e, places, all_known, &on_disc) {
                    return;
                }
            }
        }
    }
}

/// Where the value of `key` in `node` stands, or `or`.
fn place(node: Option<&Node>, key: &str, or: Pos) -> Pos {
    node.and_then(|n| child(n, key)).map_or(or, |v| v.pos)
}

/// Reports one layout error at its place and changes `input` so that the
/// next try gets past it; false when it cannot be got past.
fn report_and_mend(
    cx: &mut Cx,
    input: &mut LayoutInput,
    e: &LayoutError,
    p: &Places<'_>,
    all_known: bool,
    on_disc: &dyn Fn(String) -> String,
) -> bool {
    let track_node = |n: u8| p.tracks.get(usize::from(n).wrapping_sub(1)).copied();
    let track_pos = |n: u8| track_node(n).map_or(p.tracks_list, |t| t.pos);
    let index_pos = |n: u8, k: usize| {
        let list = track_node(n).and_then(|t| child(t, "indexes"));
        match list.map(|l| &l.value) {
            Some(Value::Seq(items)) => items.get(k).map_or(track_pos(n), |i| i.pos),
            _ => track_pos(n),
        }
    };
    let msg = on_disc(e.to_string());
    match e {
        LayoutError::TrackCount { count } => {
            // The release's tracks, as the manifest counts them.
            cx.error(
                p.tracks_list,
                on_disc(format!(
                    "the release has {count} tracks; a CD holds at most 99 (Red Book)"
                )),
            );
            false
        }
        LayoutError::DiscTooLong { .. } => {
            if all_known {
                cx.error(p.tracks_key, msg);
            }
            false
        }
        LayoutError::FirstSegue { .. } => {
            cx.error(place(track_node(1), "segue", track_pos(1)), msg);
            input.tracks[0].segue = false;
            true
        }
        LayoutError::FirstPause { .. } => {
            let at = if input.tracks[0].pregap_s.is_some() {
                place(track_node(1), "pregap", track_pos(1))
            } else {
                place(p.cd, "gap_s", track_pos(1))
            };
            cx.error(at, msg);
            input.tracks[0].pregap_s = Some(DEFAULT_GAP_S);
            true
        }
        LayoutError::BadPause { track, .. } => {
            let i = usize::from(*track) - 1;
            if input.tracks[i].pregap_s.is_some() {
                cx.error(place(track_node(*track), "pregap", track_pos(*track)), msg);
                input.tracks[i].pregap_s = Some(DEFAULT_GAP_S);
            } else {
                cx.error(place(p.cd, "gap_s", p.cd_key), msg);
                input.gap_s = DEFAULT_GAP_S;
            }
            true
        }
        LayoutError::Mcn { .. } => {
            cx.error(place(p.release, "upc", p.tracks_key), msg);
            input.mcn = None;
            true
        }
        LayoutError::Isrc { track, .. } => {
            cx.error(place(track_node(*track), "isrc", track_pos(*track)), msg);
            input.tracks[usize::from(*track) - 1].isrc = None;
            true
        }
        LayoutError::Index { track, index, .. } => {
            let k = usize::from(*index) - 2;
            cx.error(index_pos(*track, k), msg);
            input.tracks[usize::from(*track) - 1].indexes_s.remove(k);
            true
        }
        LayoutError::TooManyIndexes { track, .. } => {
            cx.error(index_pos(*track, MAX_EXTRA_INDEXES), msg);
            input.tracks[usize::from(*track) - 1]
                .indexes_s
                .truncate(MAX_EXTRA_INDEXES);
            true
        }
        LayoutError::TrackTooShort { track, .. } => {
            cx.error(track_pos(*track), msg);
            let t = &mut input.tracks[usize::from(*track) - 1];
            let enough = (MIN_TRACK_FRAMES + 1) * SAMPLES_PER_FRAME;
            if t.samples >= enough {
                return false;
            }
            t.samples = enough;
            true
        }
        _ => {
            cx.error(p.tracks_key, msg);
            false
        }
    }
}

/// Every warning the disc writers will give `build` (the layout's: a
/// disc past 74:00, CD-Text outside Latin-1; the CUE sheet's: a value
/// over 80 characters, a `"`, a trailing `\`), each at the manifest line
/// of the text it is about, so that `check --strict` fails on what the
/// build would say. The CUE sheet is made in memory, as `build` makes it.
/// The layout's and the CUE sheet's warnings for one disc, each at the
/// line of its text: `first` is the album index of the disc's first
/// track (a disc numbers its tracks from 1), `on_disc` names the disc of
/// a set.
fn disc_warnings(
    cx: &mut Cx,
    m: &Manifest,
    layout: &DiscLayout,
    p: &Places<'_>,
    all_known: bool,
    first: usize,
    on_disc: &dyn Fn(String) -> String,
) {
    let mut warnings: Vec<&DiscWarning> = layout.warnings.iter().collect();
    let cue =
        m.cd.as_ref()
            .is_some_and(|c| c.formats.contains(&CdFormat::Cue))
            .then(|| crate::disc::cue::write(layout, "album.wav"));
    warnings.extend(cue.iter().flat_map(|s| &s.warnings));
    for w in warnings {
        let (track, field) = match w {
            DiscWarning::Long { .. } => {
                if all_known {
                    cx.warn(p.tracks_key, on_disc(w.to_string()));
                }
                continue;
            }
            DiscWarning::NotLatin1 { track, field, .. }
            | DiscWarning::Truncated { track, field, .. }
            | DiscWarning::Quote { track, field, .. }
            | DiscWarning::Backslash { track, field, .. } => (*track, *field),
        };
        let key = match field {
            "TITLE" => "title",
            "PERFORMER" => "artist",
            "SONGWRITER" => "lyricist",
            "COMPOSER" => "composer",
            "ARRANGER" => "arranger",
            _ => "genre",
        };
        let at = match track {
            Some(n) => {
                let node = p
                    .tracks
                    .get((first + usize::from(n)).wrapping_sub(1))
                    .copied();
                place(node, key, node.map_or(p.tracks_list, |t| t.pos))
            }
            None => place(p.release, key, p.tracks_key),
        };
        cx.warn(at, on_disc(w.to_string()));
    }
}

/// The CD-Text packs the DDP writer will make: over the budget of one
/// block (253 text packs) is an error at `cd_text` (or `cd`).
fn cd_text_budget(cx: &mut Cx, layout: &DiscLayout, p: &Places<'_>) {
    let Some(text) = layout.cdtext() else { return };
    if let Err(e) = text.encode() {
        let at = place(p.cd, "cd_text", p.cd_key);
        let msg = match e {
            CdTextError::TooManyTextPacks { count, .. } => format!(
                "the CD-Text needs {count} packs; a disc holds at most {MAX_TEXT_PACKS}: shorten \
                 the titles and names, or set `cd_text: false`"
            ),
            other => format!("the CD-Text cannot be written: {other}"),
        };
        cx.error(at, msg);
    }
}
