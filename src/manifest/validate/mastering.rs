//! The `mastering:` section and the mastering chains (the default one and
//! each track's own): loudness mode and target, the true-peak ceiling, and
//! the EQ, compressor, limiter, gain and stereo stages with their settings
//! (the repair stages, dehum, denoise and declip, are read in
//! `repair.rs`).

use super::fields::{fields, settings, suggest};
use super::Cx;
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Value};

pub(super) const MASTERING_KEYS: &[&str] = &[
    "loudness_mode",
    "target_lufs",
    "true_peak_dbtp",
    "chain",
    "match",
];
pub(super) const STAGE_KEYS: &[&str] = &[
    "eq",
    "compressor",
    "limiter",
    "gain",
    "stereo",
    "match",
    "dehum",
    "denoise",
    "declip",
];
pub(super) const BAND_KEYS: &[&str] = &["type", "freq_hz", "gain_db", "q"];
pub(super) const COMPRESSOR_KEYS: &[&str] = &[
    "threshold_db",
    "ratio",
    "attack_ms",
    "release_ms",
    "knee_db",
    "makeup_db",
    "stereo_link",
];
pub(super) const LIMITER_KEYS: &[&str] = &["release_ms", "lookahead_ms"];
pub(super) const GAIN_KEYS: &[&str] = &["gain_db"];
pub(super) const STEREO_KEYS: &[&str] = &["width"];

pub(super) fn mastering(cx: &mut Cx, node: &Node) -> Mastering {
    let Some(f) = fields(cx, node, "mastering", MASTERING_KEYS) else {
        return Mastering::default();
    };
    let loudness_mode = f
        .choice(
            cx,
            "loudness_mode",
            &[
                ("album", LoudnessMode::Album),
                ("track", LoudnessMode::Track),
                ("off", LoudnessMode::Off),
            ],
        )
        .unwrap_or(LoudnessMode::Album);
    Mastering {
        loudness_mode,
        target_lufs: f
            .number(cx, "target_lufs", " LUFS", -40.0, -5.0)
            .unwrap_or(DEFAULT_TARGET_LUFS),
        true_peak_dbtp: f
            .number(cx, "true_peak_dbtp", " dBTP", -20.0, 0.0)
            .unwrap_or(DEFAULT_TRUE_PEAK_DBTP),
        chain: f.node("chain").map(|n| chain(cx, n)).unwrap_or_default(),
        // Read in `top`, which resolves and probes the reference files.
        tonal_match: None,
    }
}

pub(super) fn chain(cx: &mut Cx, node: &Node) -> Vec<Stage> {
    let Value::Seq(items) = &node.value else {
        cx.error(
            node.pos,
            format!(
                "`chain` must be a list of stages, found {}",
                node.value.kind()
            ),
        );
        return Vec::new();
    };
    let mut stages = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entries = match item.as_map() {
            Some(e) if e.len() == 1 => e,
            _ => {
                cx.error(
                    item.pos,
                    format!(
                        "each chain stage is one of {} with its settings, like `- limiter: {{ release_ms: 50 }}`",
                        STAGE_KEYS.join(", ")
                    ),
                );
                continue;
            }
        };
        let (key, value) = &entries[0];
        let stage = match key.name.as_str() {
            "eq" => eq_stage(cx, value),
            "compressor" => compressor(cx, value),
            "limiter" => limiter(cx, value),
            "gain" => {
                let f = settings(cx, value, "gain", GAIN_KEYS);
                f.and_then(|f| {
                    let g = f.number(cx, "gain_db", " dB", -48.0, 48.0);
                    if g.is_none() && f.node("gain_db").is_none() {
                        f.missing(cx, "gain_db");
                    }
                    g.map(|gain_db| Stage::Gain { gain_db })
                })
            }
            "stereo" => {
                let f = settings(cx, value, "stereo", STEREO_KEYS);
                f.and_then(|f| {
                    let w = f.number(cx, "width", "", 0.0, 2.0);
                    if w.is_none() && f.node("width").is_none() {
                        f.missing(cx, "width");
                    }
                    w.map(|width| Stage::Stereo { width })
                })
            }
            // The place of the tonal-matching EQ; its settings are
            // `mastering.match` (or the track's `match`).
            "match" => {
                if value.value != Value::Null {
                    cx.error(
                        value.pos,
                        "`- match:` only marks where the tonal-matching EQ goes; its settings are under `mastering.match` or the track's `match`",
                    );
                }
                Some(Stage::Match)
            }
            "dehum" => super::repair::dehum(cx, value),
            "denoise" => super::repair::denoise(cx, value),
            "declip" => super::repair::declip(cx, value),
            other => {
                let hint = suggest(other, STAGE_KEYS)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; known stages: {}", STAGE_KEYS.join(", ")));
                cx.error(key.pos, format!("unknown chain stage `{other}`{hint}"));
                None
            }
        };
        stages.extend(stage.map(|s| (i, s)));
    }
    super::repair::before_match(cx, items, &stages);
    stages.into_iter().map(|(_, s)| s).collect()
}

pub(super) fn eq_stage(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let Value::Seq(items) = &node.value else {
        cx.error(
            node.pos,
            format!("`eq` must be a list of bands, found {}", node.value.kind()),
        );
        return None;
    };
    let mut bands = Vec::new();
    for item in items {
        let Some(f) = fields(cx, item, "eq band", BAND_KEYS) else {
            continue;
        };
        let kind = match f.node("type") {
            None => {
                f.missing(cx, "type");
                None
            }
            Some(_) => f.choice(
                cx,
                "type",
                &[
                    ("highpass", EqKind::Highpass),
                    ("lowpass", EqKind::Lowpass),
                    ("lowshelf", EqKind::Lowshelf),
                    ("highshelf", EqKind::Highshelf),
                    ("bell", EqKind::Bell),
                    ("notch", EqKind::Notch),
                ],
            ),
        };
        if f.node("freq_hz").is_none() {
            f.missing(cx, "freq_hz");
        }
        let freq = f.number(cx, "freq_hz", " Hz", 10.0, 30_000.0);
        let gain = f.number(cx, "gain_db", " dB", -24.0, 24.0);
        let q = f.number(cx, "q", "", 0.1, 30.0);
        if let Some(k) = kind {
            let needs_gain = matches!(k, EqKind::Lowshelf | EqKind::Highshelf | EqKind::Bell);
            if needs_gain && f.node("gain_db").is_none() {
                f.missing(cx, "gain_db");
            }
            if !needs_gain && f.node("gain_db").is_some() {
                cx.warn(
                    f.key_pos("gain_db"),
                    "`gain_db` has no effect on a highpass, lowpass or notch band",
                );
            }
            if let Some(freq_hz) = freq {
                bands.push(EqBand {
                    kind: k,
                    freq_hz,
                    gain_db: gain.unwrap_or(0.0),
                    q,
                });
            }
        }
    }
    Some(Stage::Eq(bands))
}

pub(super) fn compressor(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let f = settings(cx, node, "compressor", COMPRESSOR_KEYS)?;
    Some(Stage::Compressor(Compressor {
        threshold_db: f
            .number(cx, "threshold_db", " dB", -80.0, 0.0)
            .unwrap_or(-18.0),
        ratio: f.number(cx, "ratio", ":1", 1.0, 100.0).unwrap_or(2.0),
        attack_ms: f
            .number(cx, "attack_ms", " ms", 0.01, 1000.0)
            .unwrap_or(10.0),
        release_ms: f
            .number(cx, "release_ms", " ms", 1.0, 5000.0)
            .unwrap_or(150.0),
        knee_db: f.number(cx, "knee_db", " dB", 0.0, 24.0).unwrap_or(6.0),
        makeup_db: f.number(cx, "makeup_db", " dB", -24.0, 24.0).unwrap_or(0.0),
        stereo_link: f.number(cx, "stereo_link", "", 0.0, 1.0).unwrap_or(1.0),
    }))
}

pub(super) fn limiter(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let f = settings(cx, node, "limiter", LIMITER_KEYS)?;
    let d = Limiter::default();
    Some(Stage::Limiter(Limiter {
        release_ms: f
            .number(cx, "release_ms", " ms", 1.0, 2000.0)
            .unwrap_or(d.release_ms),
        lookahead_ms: f
            .number(cx, "lookahead_ms", " ms", 0.5, 50.0)
            .unwrap_or(d.lookahead_ms),
    }))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::audio::AudioInfo;
    use crate::manifest::raw::parse;

    /// Every range the manifest accepts for a stage is one the DSP stage
    /// accepts too: a manifest with every setting at its lowest (then its
    /// highest) allowed value validates, and validation builds each
    /// track's stages as `build` does (a limiter inside the chain and the
    /// final one), so a value that passes `check` cannot fail `build`.
    #[test]
    fn the_manifest_ranges_are_inside_the_dsp_ranges() {
        let probe = |_: &Path| {
            Ok(AudioInfo {
                sample_rate: 44_100,
                channels: 2,
                bit_depth: Some(16),
                float: false,
                frames: Some(441_000),
                codec: "pcm".into(),
            })
        };
        for lo in [true, false] {
            let pick = |a: f64, b: f64| if lo { a } else { b };
            let comp = format!(
                "{{ threshold_db: {}, ratio: {}, attack_ms: {}, release_ms: {}, knee_db: {}, makeup_db: {}, stereo_link: {} }}",
                pick(-80.0, 0.0), pick(1.0, 100.0), pick(0.01, 1000.0), pick(1.0, 5000.0),
                pick(0.0, 24.0), pick(-24.0, 24.0), pick(0.0, 1.0)
            );
            let lim = format!(
                "{{ release_ms: {}, lookahead_ms: {} }}",
                pick(1.0, 2000.0),
                pick(0.5, 50.0)
            );
            let dehum = format!(
                "{{ freq_hz: {}, harmonics: {}, q: {} }}",
                pick(20.0, 1000.0),
                pick(0.0, 40.0),
                pick(5.0, 500.0)
            );
            let denoise = format!(
                "{{ reduction_db: {}, smoothing: {}, profile: {{ start_s: 0, end_s: {} }} }}",
                pick(1.0, 40.0),
                pick(0.0, 0.999),
                pick(0.25, 10.0)
            );
            let text = format!(
                "glassmaster: 1\nrelease: {{ title: T, artist: A }}\nmastering:\n  true_peak_dbtp: {}\n  chain:\n    - dehum: {dehum}\n    - denoise: {denoise}\n    - compressor: {comp}\n    - limiter: {lim}\n    - gain: {{ gain_db: {} }}\n    - stereo: {{ width: {} }}\n    - limiter: {lim}\ntracks:\n  - {{ file: Cargo.toml, title: One }}\n",
                pick(-20.0, 0.0),
                pick(-48.0, 48.0),
                pick(0.0, 2.0)
            );
            let root = parse(&text).unwrap();
            let here = Path::new(env!("CARGO_MANIFEST_DIR"));
            let (m, diags) =
                super::super::validate(&root, &here.join("a.yaml"), here, &|p| probe(p));
            let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
            assert!(errors.is_empty() && m.is_some(), "{lo}: {errors:#?}");
        }
    }
}
