//! The repair stages of a chain, `dehum`, `denoise` and `declip`, with their
//! settings range-checked where they are written, and the rule that they
//! come before the tonal-matching EQ's `- match:` (their learning pass
//! runs without that EQ, so a stage after it would learn from audio it
//! never sees).

use super::fields::{settings, shown};
use super::Cx;
use crate::dsp::declip::DEFAULT_MAX_RUN_MS;
use crate::dsp::dehum::{DEFAULT_HARMONICS, DEFAULT_Q};
use crate::dsp::denoise::{DEFAULT_REDUCTION_DB, DEFAULT_SMOOTHING};
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Value};

pub(super) const DEHUM_KEYS: &[&str] = &["freq_hz", "harmonics", "q"];
pub(super) const DENOISE_KEYS: &[&str] = &["reduction_db", "smoothing", "profile"];
pub(super) const DECLIP_KEYS: &[&str] = &["threshold", "max_run_ms"];
pub(super) const RANGE_KEYS: &[&str] = &["start_s", "end_s"];
/// The shortest profile range, seconds: a few of the denoiser's frames.
pub const MIN_RANGE_S: f64 = 0.25;

/// `- dehum: { freq_hz: 50 | 60 | auto, harmonics: N, q: Q }`.
pub(super) fn dehum(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let f = settings(cx, node, "dehum", DEHUM_KEYS)?;
    let freq = match f.node("freq_hz") {
        None => Some(HumFreq::Auto),
        Some(n) => match &n.value {
            Value::Str(s) if s == "auto" => Some(HumFreq::Auto),
            Value::Int(_) | Value::Float(_) => f
                .number(cx, "freq_hz", " Hz", 20.0, 1000.0)
                .map(HumFreq::Hz),
            other => {
                cx.error(
                    n.pos,
                    format!(
                        "`freq_hz` must be a frequency in Hz (50, 60, 20 to 1000) or `auto`, found {}",
                        shown(other)
                    ),
                );
                None
            }
        },
    };
    let harmonics = f.integer(cx, "harmonics", 0, 40);
    let q = f.number(cx, "q", "", 5.0, 500.0);
    if (harmonics.is_none() && f.node("harmonics").is_some())
        || (q.is_none() && f.node("q").is_some())
    {
        return None;
    }
    Some(Stage::Dehum(Dehum {
        freq: freq?,
        harmonics: harmonics.map_or(DEFAULT_HARMONICS, |h| h as usize),
        q: q.unwrap_or(DEFAULT_Q),
    }))
}

/// `- denoise: { reduction_db: 18, smoothing: 0.98, profile: quietest |
/// { start_s, end_s } }`.
pub(super) fn denoise(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let f = settings(cx, node, "denoise", DENOISE_KEYS)?;
    let reduction = f.number(cx, "reduction_db", " dB", 1.0, 40.0);
    let smoothing = f.number(cx, "smoothing", "", 0.0, 0.999);
    let profile = match f.node("profile") {
        None => Some(NoiseFrom::Quietest),
        Some(n) => profile(cx, n),
    };
    if (reduction.is_none() && f.node("reduction_db").is_some())
        || (smoothing.is_none() && f.node("smoothing").is_some())
    {
        return None;
    }
    Some(Stage::Denoise(Denoise {
        reduction_db: reduction.unwrap_or(DEFAULT_REDUCTION_DB),
        smoothing: smoothing.unwrap_or(DEFAULT_SMOOTHING),
        profile: profile?,
    }))
}

/// `- declip: { threshold: auto | <dBFS>, max_run_ms: 10 }`.
pub(super) fn declip(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let f = settings(cx, node, "declip", DECLIP_KEYS)?;
    let threshold = match f.node("threshold") {
        None => Some(ClipThreshold::Auto),
        Some(n) => match &n.value {
            Value::Str(s) if s == "auto" => Some(ClipThreshold::Auto),
            Value::Int(_) | Value::Float(_) => f
                .number(cx, "threshold", " dBFS", -40.0, 0.0)
                .map(ClipThreshold::Dbfs),
            other => {
                cx.error(
                    n.pos,
                    format!(
                        "`threshold` must be `auto` (the plateau at each channel's peak) or a clip level in dBFS from -40 to 0, found {}",
                        shown(other)
                    ),
                );
                None
            }
        },
    };
    let max_run = f.number(cx, "max_run_ms", " ms", 0.1, 20.0);
    if max_run.is_none() && f.node("max_run_ms").is_some() {
        return None;
    }
    Some(Stage::Declip(Declip {
        threshold: threshold?,
        max_run_ms: max_run.unwrap_or(DEFAULT_MAX_RUN_MS),
    }))
}

fn profile(cx: &mut Cx, n: &Node) -> Option<NoiseFrom> {
    match &n.value {
        Value::Str(s) if s == "quietest" => return Some(NoiseFrom::Quietest),
        Value::Map(_) => {}
        other => {
            cx.error(
                n.pos,
                format!(
                    "`profile` must be `quietest` or a range like `{{ start_s: 0, end_s: 2.5 }}` that holds only noise, found {}",
                    shown(other)
                ),
            );
            return None;
        }
    }
    let f = settings(cx, n, "denoise profile", RANGE_KEYS)?;
    for k in RANGE_KEYS {
        if f.node(k).is_none() {
            f.missing(cx, k);
        }
    }
    let (start_s, end_s) = (f.time(cx, "start_s")?, f.time(cx, "end_s")?);
    if end_s - start_s < MIN_RANGE_S {
        cx.error(
            f.key_pos("end_s"),
            format!(
                "the noise profile's range {start_s} s to {end_s} s is {:.3} s long; it must be at least {MIN_RANGE_S} s",
                end_s - start_s
            ),
        );
        return None;
    }
    Some(NoiseFrom::Range { start_s, end_s })
}

/// A repair stage after `- match:` is an error at its place.
pub(super) fn before_match(cx: &mut Cx, items: &[Node], stages: &[(usize, Stage)]) {
    let Some(at) = stages.iter().position(|(_, s)| *s == Stage::Match) else {
        return;
    };
    for (i, s) in &stages[at + 1..] {
        if s.is_repair() {
            cx.error(
                items[*i].pos,
                "repair stages (dehum, denoise, declip) go before `- match:`: they learn from the track before the tonal-matching EQ exists, so after it they would learn from other audio than they clean",
            );
        }
    }
}
