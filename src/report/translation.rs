//! report.json's `tracks[].translation` (an addition) and report.html's
//! playback translation table and plot: what a track's master loses in
//! mono, through a phone's speaker, on a club system's subwoofers and
//! under a device's limiter (see [`crate::analysis::translation`]).
//!
//! [`checks`] are the translation checks (`track.mono_loss`,
//! `track.mono_correlation`, `track.phone_loss`, `track.low_end_share`,
//! `track.low_end_mono`, `track.psr`), warnings (errors with `check
//! --strict`) against their `report:` thresholds; tracks without
//! translation figures (`report: translation: false`) are left out, and
//! the mono checks leave mono sources out.
//!
//! The plot has one small panel per track: its L/R correlation in the
//! four mono bands and under 60 Hz as bars from -1 to +1 (red under the
//! manifest's limits), the figures of the table in its title.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::checks::{Check, CheckSeverity, TrackFigures};
use super::model::Report;
use super::svg::esc;
use crate::analysis::translation::Translation;
use crate::analysis::{round2, round2_opt};
use crate::manifest::model::ReportThresholds;

/// One track's translation figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslationReport {
    pub mono: MonoReport,
    pub phone: PhoneReport,
    pub low_end: LowEndReport,
    pub psr: PsrReport,
}

/// Mono fold-down: the loudness lost summing (L+R)/2 (played on both
/// channels), LU, and the L/R correlation per band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonoReport {
    #[serde(serialize_with = "round2_opt")]
    pub loss_lu: Option<f64>,
    pub correlation: BandCorrelation,
}

/// L/R correlation under 120 Hz, 120 Hz-1 kHz, 1-8 kHz and above 8 kHz
/// (`null`: the band holds under 0.01 % of the energy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandCorrelation {
    #[serde(serialize_with = "round2_opt")]
    pub low: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub low_mid: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub high_mid: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub high: Option<f64>,
}

/// The phone-speaker model: loudness lost through it, LU, and that minus
/// the album's median loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneReport {
    #[serde(serialize_with = "round2_opt")]
    pub loss_lu: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub vs_album_lu: Option<f64>,
}

/// Under 60 Hz: share of the energy (%), L/R correlation, and the band's
/// peak minus the integrated loudness (dB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowEndReport {
    #[serde(serialize_with = "round2")]
    pub share_pct: f64,
    #[serde(serialize_with = "round2_opt")]
    pub correlation: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub peak_to_loudness_db: Option<f64>,
}

/// Peak to short-term loudness, 3 s windows: least and median, dB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PsrReport {
    #[serde(serialize_with = "round2_opt")]
    pub min_db: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub median_db: Option<f64>,
}

impl TranslationReport {
    /// From a track's figures and its phone loss against the album's.
    pub fn new(t: &Translation, vs_album_lu: Option<f64>) -> TranslationReport {
        let [low, low_mid, high_mid, high] = t.band_correlation;
        TranslationReport {
            mono: MonoReport {
                loss_lu: t.mono_loss_lu,
                correlation: BandCorrelation {
                    low,
                    low_mid,
                    high_mid,
                    high,
                },
            },
            phone: PhoneReport {
                loss_lu: t.phone_loss_lu,
                vs_album_lu,
            },
            low_end: LowEndReport {
                share_pct: t.low_end_share_pct,
                correlation: t.low_end_correlation,
                peak_to_loudness_db: t.low_end_peak_to_loudness_db,
            },
            psr: PsrReport {
                min_db: t.psr_min_db,
                median_db: t.psr_median_db,
            },
        }
    }

    /// The five correlations of the plot: the four bands, then under
    /// 60 Hz.
    fn correlations(&self) -> [Option<f64>; 5] {
        let c = &self.mono.correlation;
        [
            c.low,
            c.low_mid,
            c.high_mid,
            c.high,
            self.low_end.correlation,
        ]
    }
}

/// Each track's report from the album's measurements, in order.
pub fn album(figures: &[Option<&Translation>]) -> Vec<Option<TranslationReport>> {
    let losses: Vec<Option<f64>> = figures
        .iter()
        .map(|t| t.and_then(|t| t.phone_loss_lu))
        .collect();
    let vs = crate::analysis::translation::phone_vs_album(&losses);
    figures
        .iter()
        .zip(vs)
        .map(|(t, v)| t.map(|t| TranslationReport::new(t, v)))
        .collect()
}

/// report.html's table: one row per track with translation figures.
pub fn table(r: &Report) -> Vec<Vec<String>> {
    let f = |x: Option<f64>, d: usize| {
        x.map_or_else(
            || "\u{2013}".to_owned(),
            |v| format!("{v:.d$}").replace('-', "\u{2212}"),
        )
    };
    r.tracks
        .iter()
        .filter_map(|tr| {
            let t = tr.translation.as_ref()?;
            let c = &t.mono.correlation;
            Some(vec![
                tr.number.to_string(),
                tr.title.clone(),
                f(t.mono.loss_lu, 1),
                f(c.low, 2),
                f(c.low_mid, 2),
                f(c.high_mid, 2),
                f(c.high, 2),
                f(t.phone.loss_lu, 1),
                f(t.phone.vs_album_lu, 1),
                f(Some(t.low_end.share_pct), 1),
                f(t.low_end.correlation, 2),
                f(t.low_end.peak_to_loudness_db, 1),
                f(t.psr.min_db, 1),
                f(t.psr.median_db, 1),
            ])
        })
        .collect()
}

const WIDTH: f64 = 960.0;
const COLS: usize = 4;
const PH: f64 = 150.0;
const BARS: [&str; 5] = ["<120", "120-1k", "1k-8k", ">8k", "<60"];

fn panel(
    out: &mut String,
    k: usize,
    number: u32,
    title: &str,
    t: &TranslationReport,
    th: &ReportThresholds,
) {
    let pw = WIDTH / COLS as f64;
    let (px, py) = ((k % COLS) as f64 * pw, (k / COLS) as f64 * PH);
    let (l, r, top, b) = (px + 34.0, px + pw - 8.0, py + 34.0, py + PH - 22.0);
    let y = |v: f64| top + (1.0 - v.clamp(-1.0, 1.0)) / 2.0 * (b - top);
    let d = |v: Option<f64>| v.map_or_else(|| "\u{2013}".to_owned(), |v| format!("{v:.1}"));
    let _ = write!(
        out,
        r#"<text class="axis" x="{l:.1}" y="{:.1}">{number}. {}</text><text class="axis" x="{l:.1}" y="{:.1}">mono {} · phone {} LU · PSR {} dB</text>"#,
        py + 12.0,
        esc(&truncate(title, 28)),
        py + 25.0,
        d(t.mono.loss_lu),
        d(t.phone.loss_lu),
        d(t.psr.median_db),
    );
    for v in [-1.0, 0.0, 1.0] {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{l:.1}" y1="{p:.1}" x2="{r:.1}" y2="{p:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            l - 4.0,
            y(v) + 4.0,
            format!("{v:+.0}")
                .replace('-', "\u{2212}")
                .replace("+0", "0"),
            p = y(v)
        );
    }
    let w = (r - l) / BARS.len() as f64;
    for (i, (c, name)) in t.correlations().iter().zip(BARS).enumerate() {
        let x = l + i as f64 * w;
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{name}</text>"#,
            x + w / 2.0,
            b + 14.0
        );
        let Some(c) = c else { continue };
        let limit = if i == 4 {
            th.min_low_end_correlation
        } else {
            th.min_band_correlation
        };
        let (y0, y1) = (y(0.0).min(y(*c)), y(0.0).max(y(*c)));
        let _ = write!(
            out,
            r#"<rect class="mark {}" x="{:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}"/>"#,
            if *c < limit { "bar over" } else { "bar" },
            x + w * 0.2,
            w * 0.6,
            (y1 - y0).max(0.5)
        );
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('\u{2026}');
        t
    }
}

/// The plot, or an empty string when no track has translation figures.
pub fn plot(r: &Report) -> String {
    let tracks: Vec<_> = r
        .tracks
        .iter()
        .filter_map(|t| t.translation.as_ref().map(|x| (t, x)))
        .collect();
    if tracks.is_empty() {
        return String::new();
    }
    let h = tracks.len().div_ceil(COLS) as f64 * PH + 8.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="plot" id="plot-translation" viewBox="0 0 {WIDTH} {h}" width="{WIDTH}" height="{h}" role="img" aria-labelledby="plot-translation-title"><title id="plot-translation-title">Playback translation: each track's L/R correlation per band and under 60 Hz</title>"#
    );
    for (k, (t, x)) in tracks.iter().enumerate() {
        panel(&mut out, k, t.number, &t.title, x, &r.thresholds);
    }
    out.push_str("</svg>");
    out
}

/// The playback translation checks, on the tracks measured with
/// translation figures: `track.mono_loss`, `track.mono_correlation` (any
/// of the four bands holding energy), `track.phone_loss` (against the
/// album's median loss, with three tracks or more), `track.low_end_share`,
/// `track.low_end_mono` (when the low end holds at least 1 % of the
/// energy) and `track.psr` (the median PSR).
pub fn checks(t: &ReportThresholds, tracks: &[TrackFigures<'_>]) -> Vec<Check> {
    use crate::analysis::translation::phone_vs_album;
    let mut out = Vec::new();
    let losses: Vec<Option<f64>> = tracks
        .iter()
        .map(|f| f.m.translation.as_ref().and_then(|x| x.phone_loss_lu))
        .collect();
    let with_phone = losses.iter().flatten().count();
    let vs = phone_vs_album(&losses);
    const BANDS: [&str; 4] = ["under 120 Hz", "120 Hz-1 kHz", "1-8 kHz", "above 8 kHz"];
    for (f, vs) in tracks.iter().zip(vs) {
        let Some(x) = f.m.translation.as_ref() else {
            continue;
        };
        let name = format!("track {} (\"{}\")", f.number, f.title);
        let mut warn = |id, message: String| {
            out.push(Check {
                id,
                severity: CheckSeverity::Warning,
                track: Some(f.number),
                message,
            })
        };
        if f.m.channels == 2 {
            if let Some(l) = x.mono_loss_lu.filter(|l| *l > t.max_mono_loss_lu) {
                warn(
                    "track.mono_loss",
                    format!(
                        "{name} loses {l:.1} LU summed to mono (limit {:.1} LU): parts of it cancel on a mono speaker",
                        t.max_mono_loss_lu
                    ),
                );
            }
            let bad: Vec<String> = x
                .band_correlation
                .iter()
                .zip(BANDS)
                .filter_map(|(c, b)| {
                    c.filter(|c| *c < t.min_band_correlation)
                        .map(|c| format!("{c:.2} {b}"))
                })
                .collect();
            if !bad.is_empty() {
                warn(
                    "track.mono_correlation",
                    format!(
                        "{name} has a left/right correlation of {} (limit {:.2}): that band cancels in mono",
                        bad.join(", "),
                        t.min_band_correlation
                    ),
                );
            }
            if let Some(c) = x
                .low_end_correlation
                .filter(|c| x.low_end_share_pct >= 1.0 && *c < t.min_low_end_correlation)
            {
                warn(
                    "track.low_end_mono",
                    format!(
                        "{name} has a left/right correlation of {c:.2} under 60 Hz (limit {:.2}): a club's mono subwoofers lose that bass",
                        t.min_low_end_correlation
                    ),
                );
            }
        }
        if let (Some(v), Some(l)) = (vs, x.phone_loss_lu) {
            if with_phone > 2 && v > t.max_phone_loss_vs_album_lu {
                warn(
                    "track.phone_loss",
                    format!(
                        "{name} loses {l:.1} LU through a phone speaker, {v:.1} LU more than the album's median (limit {:.1} LU): it is far more bass-heavy than the rest",
                        t.max_phone_loss_vs_album_lu
                    ),
                );
            }
        }
        if x.low_end_share_pct > t.max_low_end_share_pct {
            warn(
                "track.low_end_share",
                format!(
                    "{name} has {:.0} % of its energy under 60 Hz (limit {:.0} %)",
                    x.low_end_share_pct, t.max_low_end_share_pct
                ),
            );
        }
        if let Some(p) = x.psr_median_db.filter(|p| *p < t.min_psr_db) {
            warn(
                "track.psr",
                format!(
                    "{name} has a median peak-to-short-term loudness ratio of {p:.1} dB (least {} dB; limit {:.1} dB): a device's limiter has little headroom left to work with",
                    x.psr_min_db.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}")),
                    t.min_psr_db
                ),
            );
        }
    }
    out
}
