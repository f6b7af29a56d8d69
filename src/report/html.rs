//! report.html: the album consistency report as one self-contained page,
//! rendered with minijinja from `templates/report.html` (embedded in the
//! binary). Inline CSS and inline SVG ([`super::svg`]); no script, font,
//! image or anything else fetched. The page is built from the [`Report`]
//! alone, so the same report.json gives the same bytes.
//!
//! Everything is formatted here (fixed decimals, a real minus sign, "–"
//! for what was not measured); the template only lays it out.

use serde::Serialize;

use super::checks::CheckSeverity;
use super::model::{Playback, Report, TrackReport};
use super::svg;

/// Why report.html could not be rendered (a template fault: a bug).
#[derive(Debug, thiserror::Error)]
#[error("report.html: {0}")]
pub struct HtmlError(#[from] minijinja::Error);

const TEMPLATE: &str = include_str!("../../templates/report.html");

/// Renders report.html.
pub fn render_html(report: &Report) -> Result<String, HtmlError> {
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)?;
    let view = view(report);
    let ctx = minijinja::Value::from(minijinja::value::Serde(&view));
    Ok(env.get_template("report.html")?.render(ctx)?)
}

#[derive(Serialize)]
struct View {
    title: String,
    artist: String,
    upc: String,
    version: String,
    manifest: String,
    glance: Vec<Card>,
    checks: Vec<CheckView>,
    errors: usize,
    warnings: usize,
    thresholds: Vec<[String; 2]>,
    tracks: Vec<TrackView>,
    has_cd: bool,
    plots: Plots,
    profiles: Vec<String>,
    normalisation: Vec<NormRow>,
    outputs: Vec<[String; 2]>,
    /// Playback translation, one row per track that has it.
    translation: Vec<Vec<String>>,
    /// The codec preview, one row per track and codec; the last cell is
    /// the row's state ("over", "na" or "").
    codecs: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct Card {
    label: &'static str,
    value: String,
    unit: &'static str,
    note: String,
    /// "ok", "bad" or "".
    state: &'static str,
}

#[derive(Serialize)]
struct CheckView {
    severity: &'static str,
    id: String,
    track: String,
    message: String,
}

#[derive(Serialize)]
struct TrackView {
    number: u32,
    title: String,
    artist: String,
    isrc: String,
    format: String,
    source_lufs: String,
    master_lufs: String,
    gain: String,
    true_peak: String,
    tp_over: bool,
    plr: String,
    lra: String,
    spectral: String,
    spectral_over: bool,
    cd_start: String,
    cd_length: String,
    flagged: bool,
    rows: Vec<[String; 3]>,
}

#[derive(Serialize)]
struct Plots {
    timeline: String,
    loudness: String,
    true_peak: String,
    spectrum: String,
    normalisation: String,
    /// Empty without tonal matching.
    matching: String,
    /// Empty without translation figures.
    translation: String,
    /// Empty without codec preview figures.
    codecs: String,
}

#[derive(Serialize)]
struct NormRow {
    number: u32,
    title: String,
    /// Album playback, per profile.
    gains: Vec<String>,
    /// Playlist playback, per profile (empty from a report without it).
    playlist: Vec<String>,
}

/// `x` with `d` decimals and a real minus sign; "–" for `None`.
fn f(x: Option<f64>, d: usize) -> String {
    match x {
        Some(v) if v.is_finite() => {
            let s = format!("{:.*}", d, v);
            // No "-0.0".
            let s = if s
                .trim_start_matches('-')
                .chars()
                .all(|c| c == '0' || c == '.')
            {
                s.trim_start_matches('-').to_string()
            } else {
                s
            };
            s.replace('-', "\u{2212}")
        }
        _ => "\u{2013}".to_string(),
    }
}

/// A signed gain: "+3.6", "−1.2".
fn signed(x: Option<f64>) -> String {
    match x {
        Some(v) if f(Some(v), 1) != "0.0" && v > 0.0 => format!("+{}", f(Some(v), 1)),
        other => f(other, 1),
    }
}

/// CD frames as MM:SS:FF.
fn msf(frames: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        frames / (75 * 60),
        frames / 75 % 60,
        frames % 75
    )
}

/// Seconds as M:SS.
fn mmss(s: f64) -> String {
    let t = s.max(0.0).round() as u64;
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

fn dc(x: [Option<f64>; 2]) -> String {
    format!("{} / {}", f(x[0], 1), f(x[1], 1))
}

fn view(r: &Report) -> View {
    let a = &r.album;
    let t = &r.thresholds;
    let mut glance = vec![
        Card {
            label: "Loudness",
            value: f(a.integrated_lufs, 1),
            unit: "LUFS",
            note: format!(
                "target {} LUFS, {} mode",
                f(Some(a.target_lufs), 1),
                a.loudness_mode.as_str()
            ),
            state: match a.integrated_lufs {
                Some(l)
                    if a.loudness_mode.as_str() == "album" && (l - a.target_lufs).abs() > 1.0 =>
                {
                    "bad"
                }
                Some(_) => "ok",
                None => "",
            },
        },
        Card {
            label: "True peak",
            value: f(a.true_peak_dbtp, 1),
            unit: "dBTP",
            note: format!("ceiling {} dBTP", f(Some(a.true_peak_ceiling_dbtp), 1)),
            state: match a.true_peak_dbtp {
                Some(p) if p > t.max_true_peak_dbtp => "bad",
                Some(_) => "ok",
                None => "",
            },
        },
        Card {
            label: "Loudness range",
            value: f(a.loudness_range_lu, 1),
            unit: "LU",
            note: "the album as one programme".to_string(),
            state: "",
        },
        Card {
            label: "Spread",
            value: f(a.loudness_spread_lu, 1),
            unit: "LU",
            note: format!(
                "loudest − quietest track; limit {} LU",
                f(Some(t.max_loudness_spread_lu), 1)
            ),
            state: match a.loudness_spread_lu {
                Some(s) if s > t.max_loudness_spread_lu => "bad",
                Some(_) => "ok",
                None => "",
            },
        },
        Card {
            label: "Running time",
            value: mmss(a.duration_s),
            unit: if a.duration_s.round() >= 3600.0 {
                "h:mm:ss"
            } else {
                "m:ss"
            },
            note: format!("{} tracks", r.tracks.len()),
            state: "",
        },
    ];
    if let Some(cd) = &r.cd {
        glance.push(Card {
            label: "CD",
            value: msf(cd.total_frames),
            unit: "mm:ss:ff",
            note: {
                // The disc's time as the running time reads it, pauses
                // included, so the two cards are not read as one clock.
                let clock = mmss(cd.total_frames as f64 / 75.0);
                let frames = format!(
                    "{clock} with pauses · {} frames (75 a second)",
                    cd.total_frames
                );
                match &cd.mcn {
                    Some(m) => format!("{frames} · MCN {m}"),
                    None => frames,
                }
            },
            state: if cd.total_frames > 79 * 60 * 75 + 57 * 75 + 74 {
                "bad"
            } else {
                "ok"
            },
        });
    }
    // A set of several discs: one card per disc (a single disc's is `cd`'s).
    if r.cd.is_none() {
        for d in &r.discs {
            glance.push(Card {
                label: "CD disc",
                value: msf(d.total_frames),
                unit: "",
                note: format!(
                    "disc {} of {}: {} tracks, {} frames{}",
                    d.disc,
                    r.discs.len(),
                    d.tracks,
                    d.total_frames,
                    d.mcn
                        .as_ref()
                        .map_or_else(String::new, |m| format!(", MCN {m}"))
                ),
                state: if d.total_frames > 79 * 60 * 75 + 57 * 75 + 74 {
                    "bad"
                } else {
                    "ok"
                },
            });
        }
    }
    let mut checks: Vec<CheckView> = r
        .checks
        .iter()
        .map(|c| CheckView {
            severity: match c.severity {
                CheckSeverity::Error => "error",
                CheckSeverity::Warning => "warning",
            },
            id: c.id.clone(),
            track: c
                .track
                .map_or_else(|| "album".to_string(), |n| format!("track {n}")),
            message: c.message.clone(),
        })
        .collect();
    // Errors first, otherwise as the checks ran.
    checks.sort_by_key(|c| c.severity != "error");
    let errors = checks.iter().filter(|c| c.severity == "error").count();
    let thresholds = vec![
        [
            "loudness spread".into(),
            format!("≤ {} LU", f(Some(t.max_loudness_spread_lu), 1)),
        ],
        [
            "true peak".into(),
            format!("≤ {} dBTP", f(Some(t.max_true_peak_dbtp), 1)),
        ],
        [
            "PLR from the album's median".into(),
            format!("≤ {} dB", f(Some(t.max_plr_deviation_db), 1)),
        ],
        [
            "DC offset".into(),
            format!("≤ {} dBFS", f(Some(t.max_dc_offset_dbfs), 0)),
        ],
        [
            "stereo correlation".into(),
            format!("≥ {}", f(Some(t.min_correlation), 2)),
        ],
        [
            "head silence".into(),
            format!("≤ {} s", f(Some(t.max_head_silence_s), 1)),
        ],
        [
            "tail silence".into(),
            format!("≤ {} s", f(Some(t.max_tail_silence_s), 1)),
        ],
        [
            "clipped samples".into(),
            format!("≤ {}", t.max_clipped_samples),
        ],
        [
            "spectral balance from the album's mean".into(),
            format!("≤ {} dB RMS", f(Some(t.max_spectral_deviation_db), 1)),
        ],
        [
            "mono fold-down loss".into(),
            format!("≤ {} LU", f(Some(t.max_mono_loss_lu), 1)),
        ],
        [
            "correlation in each mono band".into(),
            format!("≥ {}", f(Some(t.min_band_correlation), 2)),
        ],
        [
            "phone-speaker loss beyond the album's median".into(),
            format!("≤ {} LU", f(Some(t.max_phone_loss_vs_album_lu), 1)),
        ],
        [
            "energy under 60 Hz".into(),
            format!("≤ {} %", f(Some(t.max_low_end_share_pct), 0)),
        ],
        [
            "correlation under 60 Hz".into(),
            format!("≥ {}", f(Some(t.min_low_end_correlation), 2)),
        ],
        [
            "median PSR".into(),
            format!("≥ {} dB", f(Some(t.min_psr_db), 1)),
        ],
    ];
    let deviations = svg::spectral_deviations(r);
    let tracks = r
        .tracks
        .iter()
        .zip(&deviations)
        .map(|(tr, dev)| track_view(r, tr, *dev))
        .collect();
    let (profiles, gains) = svg::normalisation_table(r, Playback::Album);
    let (_, playlist) = svg::normalisation_table(r, Playback::Playlist);
    let normalisation = r
        .tracks
        .iter()
        .enumerate()
        .map(|(i, tr)| NormRow {
            number: tr.number,
            title: tr.title.clone(),
            gains: gains.iter().map(|row| signed(row[i])).collect(),
            playlist: playlist.iter().map(|row| signed(row[i])).collect(),
        })
        .collect();
    View {
        title: r.release.title.clone(),
        artist: r.release.artist.clone(),
        upc: r.release.upc.clone().unwrap_or_default(),
        version: r.glassmaster_version.clone(),
        manifest: r.manifest.clone(),
        glance,
        warnings: checks.len() - errors,
        errors,
        checks,
        thresholds,
        tracks,
        has_cd: r.cd.is_some() || r.tracks.iter().any(|t| t.cd.is_some()),
        plots: Plots {
            timeline: svg::timeline(r),
            loudness: svg::loudness(r),
            true_peak: svg::true_peak(r),
            spectrum: svg::spectrum(r),
            normalisation: svg::normalisation(r),
            matching: super::svg_match::matching(r),
            translation: super::translation::plot(r),
            codecs: super::codecs::plot(r),
        },
        translation: super::translation::table(r),
        codecs: super::codecs::table(r),
        profiles,
        normalisation: if gains.is_empty() {
            Vec::new()
        } else {
            normalisation
        },
        outputs: r
            .outputs
            .iter()
            .map(|o| [o.path.clone(), o.md5.clone()])
            .collect(),
    }
}

fn track_view(r: &Report, tr: &TrackReport, spectral: Option<f64>) -> TrackView {
    let (s, m) = (&tr.source, &tr.master);
    let th = &r.thresholds;
    let splr = s.true_peak_dbtp.zip(s.integrated_lufs).map(|(p, l)| p - l);
    let row = |name: &str, a: String, b: String| [name.to_string(), a, b];
    let (cd_start, cd_length) = match &tr.cd {
        Some(cd) => (msf(cd.start_frame), msf(cd.length_frames)),
        None => ("\u{2013}".into(), "\u{2013}".into()),
    };
    let mut rows = vec![
        row(
            "Integrated loudness, LUFS",
            f(s.integrated_lufs, 1),
            f(m.integrated_lufs, 1),
        ),
        row("Gain applied, dB", String::new(), signed(Some(m.gain_db))),
        row(
            "True peak, dBTP",
            f(s.true_peak_dbtp, 2),
            f(m.true_peak_dbtp, 2),
        ),
        row(
            "Sample peak, dBFS",
            f(s.sample_peak_dbfs, 2),
            f(m.sample_peak_dbfs, 2),
        ),
        row("PLR, dB", f(splr, 1), f(m.plr_db, 1)),
        row(
            "Loudness range, LU",
            f(s.loudness_range_lu, 1),
            f(m.loudness_range_lu, 1),
        ),
        row(
            "Short-term max, LUFS",
            f(s.short_term_max_lufs, 1),
            f(m.short_term_max_lufs, 1),
        ),
        row(
            "Momentary max, LUFS",
            f(s.more.momentary_max_lufs, 1),
            f(m.more.momentary_max_lufs, 1),
        ),
        row(
            "DC offset L / R, dBFS",
            dc(s.more.dc_offset_dbfs),
            dc(m.more.dc_offset_dbfs),
        ),
        row(
            "Correlation",
            f(Some(s.more.correlation), 2),
            f(Some(m.more.correlation), 2),
        ),
        row(
            "Head silence, s",
            f(Some(s.more.head_silence_s), 2),
            f(Some(m.more.head_silence_s), 2),
        ),
        row(
            "Tail silence, s",
            f(Some(s.more.tail_silence_s), 2),
            f(Some(m.more.tail_silence_s), 2),
        ),
        row(
            "Clipped samples",
            s.more.clipped_samples.to_string(),
            m.more.clipped_samples.to_string(),
        ),
        row("Duration, m:ss", mmss(s.duration_s), mmss(m.duration_s)),
        row("Spectral deviation, dB RMS", String::new(), f(spectral, 1)),
    ];
    if let Some(cd) = &tr.cd {
        let both = |x: u64| format!("{} ({x})", msf(x));
        rows.push(row(
            "CD start (INDEX 01), mm:ss:ff (frames)",
            String::new(),
            both(cd.start_frame),
        ));
        rows.push(row(
            "CD pregap, mm:ss:ff (frames)",
            String::new(),
            both(cd.pregap_frames),
        ));
        rows.push(row(
            "CD length, mm:ss:ff (frames)",
            String::new(),
            both(cd.length_frames),
        ));
    }
    TrackView {
        number: tr.number,
        title: tr.title.clone(),
        artist: tr.artist.clone(),
        isrc: tr.isrc.clone().unwrap_or_else(|| "\u{2013}".into()),
        format: format!(
            "{} kHz / {} / {}",
            f(Some(f64::from(s.sample_rate) / 1000.0), 1),
            s.bit_depth
                .map_or_else(|| "lossy".to_string(), |b| format!("{b}-bit")),
            if s.channels == 1 { "mono" } else { "stereo" }
        ),
        source_lufs: f(s.integrated_lufs, 1),
        master_lufs: f(m.integrated_lufs, 1),
        gain: signed(Some(m.gain_db)),
        true_peak: f(m.true_peak_dbtp, 2),
        tp_over: m.true_peak_dbtp.is_some_and(|p| p > th.max_true_peak_dbtp),
        plr: f(m.plr_db, 1),
        lra: f(m.loudness_range_lu, 1),
        spectral: f(spectral, 1),
        spectral_over: spectral.is_some_and(|d| d > th.max_spectral_deviation_db),
        cd_start,
        cd_length,
        flagged: r.checks.iter().any(|c| c.track == Some(tr.number)),
        rows,
    }
}
