//! Multi-disc sets and the hidden track: the `disc:` numbers of the
//! tracks (1..N without holes, listed disc by disc, no segue into the
//! first track of a disc) and `cd.hidden_track` (its source probed at its
//! `file:` line, a title). Each disc is then laid out on its own by
//! `cd.rs`.

use std::path::{Path, PathBuf};

use super::fields::{child, fields};
use super::tracks::probe_message;
use super::{Cx, Probe};
use crate::manifest::model::{HiddenTrack, Track};
use crate::manifest::raw::Node;

pub(super) const HIDDEN_KEYS: &[&str] = &["file", "title"];

/// `cd.hidden_track: { file, title }`.
pub(super) fn hidden_track(
    cx: &mut Cx,
    node: &Node,
    base_dir: &Path,
    probe: Probe<'_>,
) -> Option<HiddenTrack> {
    let f = fields(cx, node, "hidden_track", HIDDEN_KEYS)?;
    let file = f.required_text(cx, "file").map(PathBuf::from);
    let title = f.required_text(cx, "title");
    let (file, title) = (file?, title?);
    let path = base_dir.join(&file);
    let at = f.node("file").map_or(f.pos, |n| n.pos);
    let mut info = None;
    if !path.exists() {
        cx.error(at, format!("{}: no such file", file.display()));
    } else {
        match probe(&path) {
            Ok(i) if i.frames == Some(0) => cx.error(
                at,
                format!(
                    "{}: the hidden track has no audio (0 samples)",
                    file.display()
                ),
            ),
            Ok(i) => info = Some(i),
            Err(e) => cx.error(at, probe_message(&file, &e)),
        }
    }
    Some(HiddenTrack {
        file,
        path,
        info,
        title,
    })
}

/// The discs of a set: numbered 1..N without holes, the tracks listed
/// disc by disc, and no segue into a disc's first track (nothing plays
/// into it: the disc starts after a pause). Each mistake is reported at
/// the track's `disc` (or `segue`) line. `nodes`: one per track.
pub(super) fn disc_numbers(cx: &mut Cx, tracks: &[Track], nodes: &[&Node]) {
    let at = |i: usize, key: &str| nodes.get(i).map(|n| child(n, key).map_or(n.pos, |v| v.pos));
    let mut discs: Vec<u32> = tracks.iter().map(|t| t.disc).collect();
    discs.sort_unstable();
    discs.dedup();
    let listed = discs
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    for (k, &d) in discs.iter().enumerate() {
        let want = k as u32 + 1;
        if d == want {
            continue;
        }
        let first = tracks.iter().position(|t| t.disc == d).unwrap_or(0);
        if let Some(pos) = at(first, "disc") {
            cx.error(
                pos,
                format!(
                    "track {} ({:?}) is on disc {d}, but there is no disc {want}: discs are \
                     numbered 1 to N without holes (the tracks use discs {listed})",
                    tracks[first].number, tracks[first].title
                ),
            );
        }
        break;
    }
    let mut highest = 0;
    for (i, t) in tracks.iter().enumerate() {
        if t.disc < highest {
            if let Some(pos) = at(i, "disc") {
                cx.error(
                    pos,
                    format!(
                        "track {} ({:?}) is on disc {} but comes after a track of disc {highest}: \
                         list the tracks disc by disc",
                        t.number, t.title, t.disc
                    ),
                );
            }
            continue;
        }
        let opens = t.disc > highest;
        highest = t.disc;
        if opens && t.segue && t.disc > 1 {
            if let Some(pos) = at(i, "segue") {
                cx.error(
                    pos,
                    format!(
                        "track {} ({:?}) is the first track of disc {} and cannot be a segue: \
                         a disc starts after a pause, nothing plays into it",
                        t.number, t.title, t.disc
                    ),
                );
            }
        }
    }
}
