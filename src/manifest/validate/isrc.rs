//! The `isrc:` generator and the ISRCs of the tracks: written codes must
//! be unique, missing ones are generated from the registrant, year and
//! first designation, skipping codes already used.

use std::collections::HashMap;

use super::fields::{child, fields};
use super::Cx;
use crate::manifest::codes::{parse_registrant, Isrc};
use crate::manifest::model::Track;
use crate::manifest::raw::{Node, Pos};

pub(super) const ISRC_KEYS: &[&str] = &["registrant", "year", "first"];

/// The `isrc:` generator: registrant prefix, year, first designation.
pub(super) struct IsrcGen {
    registrant: String,
    year: u32,
    first: u32,
}

pub(super) fn isrc_section(cx: &mut Cx, node: &Node) -> Option<IsrcGen> {
    let f = fields(cx, node, "isrc", ISRC_KEYS)?;
    let registrant = match f.required_text(cx, "registrant") {
        Some(r) => match parse_registrant(&r) {
            Ok(r) => Some(r),
            Err(e) => {
                cx.error(f.node("registrant").map_or(f.pos, |n| n.pos), e);
                None
            }
        },
        None => None,
    };
    if f.node("year").is_none() {
        f.missing(cx, "year");
    }
    let year = f.integer(cx, "year", 0, 99);
    let first = f.integer(cx, "first", 0, 99_999).unwrap_or(1);
    Some(IsrcGen {
        registrant: registrant?,
        year: year? as u32,
        first: first as u32,
    })
}

pub(super) fn assign_isrcs(
    cx: &mut Cx,
    tracks: &mut [Track],
    nodes: &[&Node],
    gen: Option<&IsrcGen>,
    isrc_written: bool,
    needs_isrc: bool,
    isrc_pos: Pos,
) {
    let mut seen: HashMap<Isrc, (u32, String)> = HashMap::new();
    for (t, node) in tracks.iter().zip(nodes) {
        let Some(code) = &t.isrc else { continue };
        if let Some((n, title)) = seen.get(code) {
            let pos = isrc_node_pos(node);
            cx.error(
                pos,
                format!("ISRC {code} is already used by track {n} (\"{title}\")"),
            );
        } else {
            seen.insert(code.clone(), (t.number, t.title.clone()));
        }
    }
    let mut next = gen.map(|g| g.first);
    for (t, node) in tracks.iter_mut().zip(nodes) {
        if t.isrc.is_some() {
            continue;
        }
        let (Some(g), Some(n)) = (gen, next.as_mut()) else {
            if isrc_written || !needs_isrc {
                // The `isrc:` section has its own error already, or
                // nothing made from this manifest carries ISRCs.
                continue;
            }
            cx.warn(
                node.pos,
                format!(
                    "track {} (\"{}\") has no ISRC, and there is no `isrc:` section to generate one",
                    t.number, t.title
                ),
            );
            continue;
        };
        loop {
            match Isrc::generate(&g.registrant, g.year, *n) {
                Ok(code) if seen.contains_key(&code) => *n += 1,
                Ok(code) => {
                    seen.insert(code.clone(), (t.number, t.title.clone()));
                    t.isrc = Some(code);
                    t.isrc_generated = true;
                    *n += 1;
                    break;
                }
                Err(e) => {
                    cx.error(isrc_pos, e);
                    next = None;
                    break;
                }
            }
        }
        if next.is_none() {
            break;
        }
    }
}

pub(super) fn isrc_node_pos(track: &Node) -> Pos {
    child(track, "isrc").map_or(track.pos, |v| v.pos)
}
