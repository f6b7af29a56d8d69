//! The `cd:` section (pause, formats, CD-Text, dither, flags) and the Red
//! Book limits on the tracks' lengths.

use super::fields::{choice_value, settings};
use super::{Cx, MAX_DISC_FRAMES, MIN_TRACK_FRAMES, WARN_DISC_FRAMES};
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Pos, Value};
use crate::manifest::time::CD_FRAMES_PER_SECOND;

pub(super) const CD_KEYS: &[&str] = &[
    "gap_s",
    "formats",
    "cd_text",
    "dither",
    "pre_emphasis",
    "copy_permitted",
];

pub(super) fn cd_section(cx: &mut Cx, node: &Node) -> Option<CdOptions> {
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
    })
}

/// Red Book limits, on the track lengths the sources give.
pub(super) fn red_book(
    cx: &mut Cx,
    tracks: &[Track],
    nodes: &[&Node],
    cd: &CdOptions,
    tracks_pos: Pos,
) {
    let mut total_frames: u64 = 0;
    let mut known = true;
    for (i, (t, node)) in tracks.iter().zip(nodes).enumerate() {
        let pregap_s = if t.segue && i > 0 {
            0.0
        } else {
            t.pregap_s.unwrap_or(cd.gap_s)
        };
        if i == 0 {
            if t.segue {
                cx.error(
                    node.pos,
                    "track 1 cannot be a segue: nothing comes before it",
                );
            }
            if pregap_s < 2.0 - 1e-9 {
                cx.error(
                    node.pos,
                    format!(
                        "track 1 has a pause of {pregap_s} s before it; a CD needs at least 2 s (150 frames) there"
                    ),
                );
            }
        }
        total_frames += (pregap_s * CD_FRAMES_PER_SECOND).round() as u64;
        match t.duration_s() {
            Some(len) => {
                let frames = (len * CD_FRAMES_PER_SECOND).round() as u64;
                if frames < MIN_TRACK_FRAMES {
                    cx.error(
                        node.pos,
                        format!(
                            "track {} (\"{}\") is {len:.2} s long; a CD track must be at least 4 s",
                            t.number, t.title
                        ),
                    );
                }
                total_frames += frames;
            }
            None => known = false,
        }
    }
    if !known {
        return;
    }
    let msf = crate::manifest::time::frames_to_msf(total_frames);
    if total_frames > MAX_DISC_FRAMES {
        cx.error(
            tracks_pos,
            format!("the disc runs {msf} (mm:ss:ff); a CD holds at most 79:57:74"),
        );
    } else if total_frames > WARN_DISC_FRAMES {
        cx.warn(
            tracks_pos,
            format!("the disc runs {msf} (mm:ss:ff), past 74:00: some plants and players refuse discs this long"),
        );
    }
}
