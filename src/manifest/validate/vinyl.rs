//! The `vinyl:` and `cassette:` sections: the record's size and speed or
//! the tape's length (each from the analogue data table), the tracks on
//! each side (every track on exactly one side, each side's tracks at one
//! sample rate), the gap, the vinyl's own chain and ceiling; then each
//! side's length from the probed sources after their trims, laid out as
//! the build will ([`crate::analog::lay_out`]): past the medium's maximum
//! an error, past the recommended length a warning, each at the side's
//! line. Every mistake is reported at once.

use super::fields::{fields, shown};
use super::mastering::chain;
use super::Cx;
use crate::analog::sheet::{clock, minutes};
use crate::analog::sides::{gap_frames, Limits, Verdict, MAX_SIDES};
use crate::analog::table::rpm_name;
use crate::analog::{balanced_split, lay_out, side_name, table};
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Pos, Value};

pub(super) const VINYL_KEYS: &[&str] =
    &["size", "rpm", "sides", "gap_s", "chain", "true_peak_dbtp"];
pub(super) const CASSETTE_KEYS: &[&str] = &["length", "sides", "gap_s"];

/// The longest gap between two tracks on a side.
const MAX_GAP_S: f64 = 30.0;

/// The `vinyl:` section, checked against the album's `tracks`.
/// `count` is the number of tracks listed; `tracks` those that could be
/// read (side lengths are judged only when all could).
pub(super) fn vinyl_section(
    cx: &mut Cx,
    node: &Node,
    tracks: &[Track],
    count: usize,
) -> Option<VinylOptions> {
    let f = fields(cx, node, "vinyl", VINYL_KEYS)?;
    let sizes = table::vinyl_sizes();
    let size = match f.node("size") {
        None => {
            f.missing(cx, "size");
            None
        }
        Some(n) => match n.value {
            Value::Int(i) if sizes.iter().any(|s| i64::from(*s) == i) => Some(i as u32),
            ref other => {
                cx.error(
                    n.pos,
                    format!(
                        "`size` is {}; a record is {} inches",
                        shown(other),
                        list(&sizes)
                    ),
                );
                None
            }
        },
    };
    let rpm = match f.node("rpm") {
        None => {
            f.missing(cx, "rpm");
            None
        }
        Some(n) => rpm_value(cx, n),
    };
    let gap_s = gap(cx, &f, DEFAULT_VINYL_GAP_S);
    let own_chain = f.node("chain").map(|n| chain(cx, n));
    let true_peak_dbtp = f.number(cx, "true_peak_dbtp", " dBTP", -20.0, 0.0);
    let sides = match f.node("sides") {
        None => {
            f.missing(cx, "sides");
            None
        }
        Some(n) => side_lists(cx, n, count, None),
    };
    let (size, rpm, sides) = (size?, rpm?, sides?);
    let limits = table::vinyl_limits(size, rpm).map(|l| Limits {
        recommended: Some(l.recommended),
        maximum: l.maximum,
    });
    let Some(limits) = limits else {
        cx.error(
            f.key_pos("rpm"),
            format!("a {size}\" record is not cut at {rpm} rpm"),
        );
        return None;
    };
    let what = format!("a {size}\" record at {}", rpm_name(rpm));
    let sides_pos = f.key_pos("sides");
    side_lengths(
        cx,
        f.node("sides"),
        sides_pos,
        tracks,
        &sides,
        gap_s,
        limits,
        &what,
    );
    Some(VinylOptions {
        size,
        rpm,
        sides,
        gap_s,
        chain: own_chain,
        true_peak_dbtp,
    })
}

fn rpm_value(cx: &mut Cx, n: &Node) -> Option<u32> {
    let speeds = table::vinyl_speeds();
    let v = match &n.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) => Some(*x),
        Value::Str(s) if s.trim() == "33 1/3" => Some(33.0),
        _ => None,
    };
    match v {
        // 33, 33.3 and 33.33 all mean 33 1/3.
        Some(x) if (33.0..=33.34).contains(&x) && speeds.contains(&33) => Some(33),
        Some(x) if x.fract() == 0.0 && speeds.iter().any(|s| f64::from(*s) == x) => Some(x as u32),
        Some(78.0) => {
            cx.error(
                n.pos,
                "`rpm` is 78: glassmaster makes premasters for vinyl pressing, which plants cut at 33 1/3 or 45 rpm (78s are shellac-era discs with another stylus and equalisation)",
            );
            None
        }
        _ => {
            cx.error(
                n.pos,
                format!(
                    "`rpm` is {}; a record turns at {} rpm",
                    shown(&n.value),
                    list(&speeds)
                ),
            );
            None
        }
    }
}

/// `7, 10 or 12`.
fn list(v: &[u32]) -> String {
    let words: Vec<String> = v.iter().map(u32::to_string).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

fn gap(cx: &mut Cx, f: &super::fields::Fields<'_>, default: f64) -> f64 {
    match f.time(cx, "gap_s") {
        Some(g) if g > MAX_GAP_S => {
            cx.error(
                f.node("gap_s").map_or(f.pos, |n| n.pos),
                format!("`gap_s` is {g} s; the gap between two tracks on a side is at most {MAX_GAP_S} s"),
            );
            default
        }
        Some(g) => g,
        None => default,
    }
}

/// `sides: [[1, 2], [3]]` as 0-based track indices: each a track number
/// of the release, each track on exactly one side, no side empty; with
/// `count`, exactly that many sides.
fn side_lists(
    cx: &mut Cx,
    node: &Node,
    tracks: usize,
    count: Option<usize>,
) -> Option<Vec<Vec<usize>>> {
    let Value::Seq(items) = &node.value else {
        cx.error(
            node.pos,
            format!(
                "`sides` must be a list of sides, each a list of track numbers such as [[1, 2], [3, 4]], found {}",
                node.value.kind()
            ),
        );
        return None;
    };
    let mut ok = true;
    if items.is_empty()
        || items.len() > count.unwrap_or(MAX_SIDES)
        || count.is_some_and(|c| c != items.len())
    {
        let want = match count {
            Some(c) => format!("a cassette has {c} sides"),
            None => format!("a release has 1 to {MAX_SIDES} sides (A to Z)"),
        };
        cx.error(
            node.pos,
            format!("`sides` lists {} sides; {want}", items.len()),
        );
        ok = false;
    }
    let mut seen: Vec<Option<String>> = vec![None; tracks];
    let mut sides = Vec::new();
    for (i, side) in items.iter().enumerate().take(MAX_SIDES) {
        let name = side_name(i);
        let Value::Seq(nums) = &side.value else {
            cx.error(
                side.pos,
                format!(
                    "side {name} must be a list of track numbers, found {}",
                    shown(&side.value)
                ),
            );
            ok = false;
            continue;
        };
        if nums.is_empty() {
            cx.error(side.pos, format!("side {name} has no tracks"));
            ok = false;
        }
        let mut list = Vec::new();
        for n in nums {
            match n.value {
                Value::Int(t) if t >= 1 && (t as usize) <= tracks => {
                    let k = t as usize - 1;
                    if let Some(other) = &seen[k] {
                        let also = if *other == name {
                            "again".to_owned()
                        } else {
                            format!("as well as on side {other}")
                        };
                        cx.error(
                            n.pos,
                            format!("track {t} is on side {name} {also}; a track goes on one side"),
                        );
                        ok = false;
                    } else {
                        seen[k] = Some(name.clone());
                        list.push(k);
                    }
                }
                Value::Int(t) => {
                    cx.error(
                        n.pos,
                        format!(
                            "side {name} lists track {t}; the release's tracks are 1 to {tracks}"
                        ),
                    );
                    ok = false;
                }
                ref other => {
                    cx.error(
                        n.pos,
                        format!(
                            "side {name} must list track numbers, found {}",
                            shown(other)
                        ),
                    );
                    ok = false;
                }
            }
        }
        sides.push(list);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(k, _)| (k + 1).to_string())
        .collect();
    if !missing.is_empty() && !items.is_empty() {
        let (word, verb) = if missing.len() == 1 {
            ("track", "is")
        } else {
            ("tracks", "are")
        };
        cx.error(
            node.pos,
            format!(
                "{word} {} {verb} on no side; every track goes on one side",
                missing.join(", ")
            ),
        );
        ok = false;
    }
    ok.then_some(sides)
}

/// Each side's length from the probed tracks, against `limits`; and each
/// side's tracks at one rate. Silent when a length is not known yet (the
/// build checks it again once the tracks are rendered).
#[allow(clippy::too_many_arguments)] // one call per medium, each argument named there
fn side_lengths(
    cx: &mut Cx,
    sides_node: Option<&Node>,
    fallback: Pos,
    tracks: &[Track],
    sides: &[Vec<usize>],
    gap_s: f64,
    limits: Limits,
    what: &str,
) {
    let side_pos = |i: usize| -> Pos {
        match sides_node.map(|n| &n.value) {
            Some(Value::Seq(items)) => items.get(i).map_or(fallback, |s| s.pos),
            _ => fallback,
        }
    };
    if sides.iter().flatten().any(|&k| k >= tracks.len()) {
        return;
    }
    let frames: Option<Vec<u64>> = tracks.iter().map(Track::kept_frames).collect();
    let rates: Vec<Option<u32>> = tracks
        .iter()
        .map(|t| t.info.as_ref().map(|i| i.sample_rate))
        .collect();
    for (i, side) in sides.iter().enumerate() {
        let mut side_rates: Vec<u32> = side.iter().filter_map(|&k| rates[k]).collect();
        side_rates.sort_unstable();
        side_rates.dedup();
        if side_rates.len() > 1 {
            let list: Vec<String> = side_rates.iter().map(|r| format!("{r} Hz")).collect();
            cx.error(
                side_pos(i),
                format!(
                    "side {} has tracks at {}; a side file has one sample rate: resample the mixes to one rate",
                    side_name(i),
                    list.join(" and ")
                ),
            );
            continue;
        }
        let (Some(frames), Some(&rate)) = (&frames, side_rates.first()) else {
            continue;
        };
        let laid = &lay_out(
            std::slice::from_ref(side),
            frames,
            rate,
            gap_frames(gap_s, rate),
        )[0];
        let m = laid.minutes();
        let name = side_name(i);
        let long = clock(laid.frames, rate);
        match limits.judge(m) {
            Verdict::Fits => {}
            Verdict::OverRecommended => cx.warn(
                side_pos(i),
                format!(
                    "side {name} is {long} long, over the {} recommended for {what}: it will be cut at a reduced level",
                    minutes(limits.recommended.unwrap_or_default())
                ),
            ),
            Verdict::OverMaximum => cx.error(
                side_pos(i),
                format!(
                    "side {name} is {long} long; {what} holds at most {} per side: move a track to another side",
                    minutes(limits.maximum)
                ),
            ),
        }
    }
}

/// The `cassette:` section, checked against the album's `tracks`.
pub(super) fn cassette_section(
    cx: &mut Cx,
    node: &Node,
    tracks: &[Track],
    count: usize,
) -> Option<CassetteOptions> {
    let f = fields(cx, node, "cassette", CASSETTE_KEYS)?;
    let lengths = table::cassette_lengths();
    let length = match f.node("length") {
        None => {
            f.missing(cx, "length");
            None
        }
        Some(n) => {
            let word = match &n.value {
                Value::Str(s) => Some(s.trim().to_ascii_uppercase()),
                _ => None,
            };
            match word.and_then(|w| table::cassette_side_minutes(&w).map(|m| (w, m))) {
                Some(found) => Some(found),
                None => {
                    cx.error(
                        n.pos,
                        format!(
                            "`length` is {}; a cassette is {}",
                            shown(&n.value),
                            lengths.join(", ")
                        ),
                    );
                    None
                }
            }
        }
    };
    let gap_s = gap(cx, &f, DEFAULT_CASSETTE_GAP_S);
    let sides = f.node("sides").map(|n| side_lists(cx, n, count, Some(2)));
    let ((length, side_minutes), sides) = (length?, sides.unwrap_or(Some(Vec::new()))?);
    let limits = Limits {
        recommended: None,
        maximum: side_minutes,
    };
    let what = format!("a {length} cassette");
    let given = !sides.is_empty();
    let laid = if given {
        sides.clone()
    } else if tracks.len() != count || tracks.is_empty() {
        Vec::new()
    } else {
        // The split the build will make, from the probed lengths.
        match tracks
            .iter()
            .map(Track::kept_frames)
            .collect::<Option<Vec<u64>>>()
        {
            Some(frames) => {
                let rate = tracks
                    .first()
                    .and_then(|t| t.info.as_ref())
                    .map_or(44_100, |i| i.sample_rate);
                let k = balanced_split(&frames, gap_frames(gap_s, rate));
                vec![(0..k).collect(), (k..tracks.len()).collect()]
            }
            None => Vec::new(),
        }
    };
    // The automatic split's sides are reported at `length`.
    let length_pos = f.node("length").map_or(f.pos, |n| n.pos);
    let sides_node = f.node("sides").filter(|_| given);
    side_lengths(
        cx, sides_node, length_pos, tracks, &laid, gap_s, limits, &what,
    );
    Some(CassetteOptions {
        length,
        side_minutes,
        sides: given.then_some(sides),
        gap_s,
    })
}
