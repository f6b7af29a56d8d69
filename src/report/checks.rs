//! The album consistency checks, with the thresholds of the manifest's
//! `report:` section: loudness spread, true-peak overs, PLR outliers, DC
//! offset, phase/mono compatibility, head and tail silence, clipping, a
//! mix of sample rates or bit depths, and spectral outliers (a track whose
//! 1/3-octave balance is far from the album's mean); with the restoration
//! detectors' findings, `track.clicks`, `track.hum`, `track.noise`,
//! `track.dropouts`, `track.polarity`, and clipped plateaus at any level
//! in `track.clipping`; with the playback translation figures, the
//! `track.mono_*`, `track.phone_loss`, `track.low_end_*` and `track.psr`
//! checks (see [`super::translation`]).
//!
//! A failed check is a warning in `build` and `check`, and an error with
//! `check --strict`. The same rules run on sources (`check`) and on masters
//! (`build`); on sources the rules that the build itself takes care of
//! (true-peak overs, which the final limiter removes; the loudness spread
//! in `track` mode, which matching removes) are left out.

use serde::{Deserialize, Serialize};

use crate::analysis::Measurement;
use crate::manifest::model::{LoudnessMode, ReportThresholds};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckSeverity {
    Warning,
    Error,
}

/// One failed check, as report.json lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// `album.loudness_spread`, `track.true_peak`, ...
    pub id: &'static str,
    pub severity: CheckSeverity,
    /// The track's number, `null` for album checks.
    pub track: Option<u32>,
    pub message: String,
}

/// What is being checked: the sources before mastering, or the masters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Sources,
    Masters,
}

/// One track's figures for the checks.
pub struct TrackFigures<'a> {
    pub number: u32,
    pub title: &'a str,
    pub m: &'a Measurement,
}

/// Runs every rule; returns the failed checks, album checks first.
pub fn run(
    t: &ReportThresholds,
    mode: LoudnessMode,
    stage: Stage,
    tracks: &[TrackFigures<'_>],
) -> Vec<Check> {
    let mut out = Vec::new();
    let warn = |id, track: Option<u32>, message: String| Check {
        id,
        severity: CheckSeverity::Warning,
        track,
        message,
    };
    let name = |f: &TrackFigures<'_>| format!("track {} (\"{}\")", f.number, f.title);

    // Album: loudness spread.
    let loud: Vec<(f64, &TrackFigures<'_>)> = tracks
        .iter()
        .filter_map(|f| f.m.integrated_lufs.map(|l| (l, f)))
        .collect();
    let spread_matters = !(stage == Stage::Sources && mode == LoudnessMode::Track);
    if spread_matters && loud.len() > 1 {
        let (lo, lo_f) = loud
            .iter()
            .fold(loud[0], |a, b| if b.0 < a.0 { *b } else { a });
        let (hi, hi_f) = loud
            .iter()
            .fold(loud[0], |a, b| if b.0 > a.0 { *b } else { a });
        if hi - lo > t.max_loudness_spread_lu {
            out.push(warn(
                "album.loudness_spread",
                None,
                format!(
                    "the tracks span {:.1} LU, from {:.1} LUFS ({}) to {:.1} LUFS ({}); the limit is {:.1} LU",
                    hi - lo,
                    lo,
                    name(lo_f),
                    hi,
                    name(hi_f),
                    t.max_loudness_spread_lu
                ),
            ));
        }
    }
    // Album: a mix of sample rates or bit depths among the sources.
    if stage == Stage::Sources && tracks.len() > 1 {
        let mut formats: Vec<(u32, Option<u16>)> = tracks
            .iter()
            .map(|f| (f.m.sample_rate, f.m.bit_depth))
            .collect();
        formats.sort();
        formats.dedup();
        if formats.len() > 1 {
            let list: Vec<String> = formats
                .iter()
                .map(|(r, b)| match b {
                    Some(b) => format!("{} kHz/{b}-bit", *r as f64 / 1000.0),
                    None => format!("{} kHz/lossy", *r as f64 / 1000.0),
                })
                .collect();
            out.push(warn(
                "album.format_mix",
                None,
                format!(
                    "the sources mix formats ({}); every output is resampled and dithered to its own format",
                    list.join(", ")
                ),
            ));
        }
    }
    // PLR outliers against the album's median.
    let plrs: Vec<(f64, &TrackFigures<'_>)> = tracks
        .iter()
        .filter_map(|f| Some((f.m.true_peak_dbtp? - f.m.integrated_lufs?, f)))
        .collect();
    let median = {
        let mut v: Vec<f64> = plrs.iter().map(|p| p.0).collect();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => None,
            n if n % 2 == 1 => Some(v[n / 2]),
            n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
        }
    };

    for f in tracks {
        let m = f.m;
        if stage == Stage::Masters {
            // Judged by the stricter of the BS.1770 meter and the ideal
            // reconstruction (when the master was metered with it).
            if let Some(tp) = m.ceiling_peak_db().filter(|tp| *tp > t.max_true_peak_dbtp) {
                let by = match m.reconstructed_peak_dbfs {
                    Some(r) if r > m.true_peak_dbtp.unwrap_or(f64::NEG_INFINITY) => format!(
                        " by an ideal reconstruction ({} dBTP by the BS.1770 meter)",
                        m.true_peak_dbtp
                            .map_or_else(|| "no".to_owned(), |v| format!("{v:.2}"))
                    ),
                    _ => String::new(),
                };
                out.push(warn(
                    "track.true_peak",
                    Some(f.number),
                    format!(
                        "{} peaks at {tp:.2} dBTP{by}, over the {:.1} dBTP limit",
                        name(f),
                        t.max_true_peak_dbtp
                    ),
                ));
            }
        }
        if let (Some(med), Some(tp), Some(l)) = (median, m.true_peak_dbtp, m.integrated_lufs) {
            let plr = tp - l;
            if tracks.len() > 2 && (plr - med).abs() > t.max_plr_deviation_db {
                out.push(warn(
                    "track.plr",
                    Some(f.number),
                    format!(
                        "{} has a PLR of {plr:.1} dB, {:.1} dB from the album's median {med:.1} dB (limit {:.1} dB): it is {} than the rest",
                        name(f),
                        (plr - med).abs(),
                        t.max_plr_deviation_db,
                        if plr < med { "far more compressed" } else { "far more dynamic" }
                    ),
                ));
            }
        }
        let dc = m
            .dc_offset_dbfs
            .iter()
            .flatten()
            .fold(f64::NEG_INFINITY, |a, b| a.max(*b));
        if dc > t.max_dc_offset_dbfs {
            out.push(warn(
                "track.dc_offset",
                Some(f.number),
                format!(
                    "{} has a DC offset of {dc:.1} dBFS, over the {:.0} dBFS limit (a highpass removes it)",
                    name(f),
                    t.max_dc_offset_dbfs
                ),
            ));
        }
        if m.channels == 2 && m.correlation < t.min_correlation {
            out.push(warn(
                "track.correlation",
                Some(f.number),
                format!(
                    "{} has a stereo correlation of {:.2}, below {:.2}: it will lose level or cancel in mono",
                    name(f),
                    m.correlation,
                    t.min_correlation
                ),
            ));
        }
        if m.head_silence_s > t.max_head_silence_s {
            out.push(warn(
                "track.head_silence",
                Some(f.number),
                format!(
                    "{} starts with {:.1} s of silence (limit {:.1} s)",
                    name(f),
                    m.head_silence_s,
                    t.max_head_silence_s
                ),
            ));
        }
        if m.tail_silence_s > t.max_tail_silence_s {
            out.push(warn(
                "track.tail_silence",
                Some(f.number),
                format!(
                    "{} ends with {:.1} s of silence (limit {:.1} s)",
                    name(f),
                    m.tail_silence_s,
                    t.max_tail_silence_s
                ),
            ));
        }
        let runs = m
            .restoration
            .as_ref()
            .map_or(&[][..], |r| &r.clipped_runs[..]);
        let many_runs = runs.len() as u64 > t.max_clipped_runs;
        if m.clipped_samples > t.max_clipped_samples || many_runs {
            let mut message = format!(
                "{} has {} clipped samples (runs of 3 or more at full scale; limit {})",
                name(f),
                m.clipped_samples,
                t.max_clipped_samples
            );
            if many_runs {
                let worst = runs.iter().map(|r| r.cut_db).fold(0.0, f64::max);
                message.push_str(&format!(
                    " and {} clipped runs at its {:.1} dBFS peak plateau (limit {}), first at {}, up to about {worst:.1} dB cut",
                    runs.len(),
                    runs[0].level_dbfs,
                    t.max_clipped_runs,
                    clock(runs[0].time_s)
                ));
            }
            out.push(warn("track.clipping", Some(f.number), message));
        }
        if let Some(r) = &m.restoration {
            out.extend(restoration_checks(t, f.number, &name(f), r));
        }
    }
    out.extend(spectral_outliers(t, tracks));
    out.extend(super::translation::checks(t, tracks));
    out
}

/// A quiet passage is a noise floor only this far under the loudest
/// second of the track, dB: a loud track that never gets quiet has no
/// floor to judge.
pub const QUIET_PASSAGE_DB: f64 = 20.0;
/// ... and only when it sounds like noise: spectral flatness (within
/// octave bands) at least this, dB (noise reads about -1.2, quiet music
/// far lower).
pub const NOISE_FLATNESS_DB: f64 = -4.5;

/// `track.clicks`, `track.hum`, `track.noise`, `track.dropouts` and
/// `track.polarity` (clipped runs join `track.clipping`).
fn restoration_checks(
    t: &ReportThresholds,
    number: u32,
    name: &str,
    r: &crate::analysis::restoration::Restoration,
) -> Vec<Check> {
    let mut out = Vec::new();
    let mut warn = |id, message: String| {
        out.push(Check {
            id,
            severity: CheckSeverity::Warning,
            track: Some(number),
            message,
        })
    };
    if r.clicks.len() as u64 > t.max_clicks {
        warn(
            "track.clicks",
            format!(
                "{name} has {} clicks (limit {}), first at {}",
                r.clicks.len(),
                t.max_clicks,
                clock(r.clicks[0].time_s)
            ),
        );
    }
    if let Some(h) = &r.hum {
        let top = h
            .lines
            .iter()
            .map(|l| l.above_db)
            .fold(f64::NEG_INFINITY, f64::max);
        if top > t.max_hum_db {
            let lines: Vec<String> = h.lines.iter().map(|l| format!("{:.0} Hz", l.hz)).collect();
            warn(
                "track.hum",
                format!(
                    "{name} has {:.0} Hz hum ({}), up to {top:.1} dB above the spectrum around it (limit {:.1} dB)",
                    h.fundamental_hz,
                    lines.join(", "),
                    t.max_hum_db
                ),
            );
        }
    }
    if let Some(n) = &r.noise {
        if n.level_dbfs > t.max_noise_floor_dbfs
            && n.programme_dbfs - n.level_dbfs >= QUIET_PASSAGE_DB
            && n.flatness_db >= NOISE_FLATNESS_DB
        {
            warn(
                "track.noise",
                format!(
                    "{name} has a noise floor of {:.1} dBFS ({:+.1} dB/octave) in its quietest passage at {}, over the {:.0} dBFS limit",
                    n.level_dbfs,
                    n.slope_db_per_octave,
                    clock(n.time_s),
                    t.max_noise_floor_dbfs
                ),
            );
        }
    }
    if r.dropouts.len() as u64 > t.max_dropouts {
        warn(
            "track.dropouts",
            format!(
                "{name} has {} dropouts of {:.0} ms or more (limit {}), first at {}",
                r.dropouts.len(),
                t.min_dropout_ms,
                t.max_dropouts,
                clock(r.dropouts[0].time_s)
            ),
        );
    }
    if let Some(p) = r.polarity.as_ref().filter(|p| p.inverted) {
        warn(
            "track.polarity",
            format!(
                "{name} looks to have one channel inverted: the low band (20-150 Hz) correlates at {:.2}, broadband {:.2}",
                p.low_band_correlation, p.correlation
            ),
        );
    }
    out
}

/// Seconds as mm:ss.mmm (a time a user can seek to).
pub fn clock(t: f64) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!("{:02}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

/// Tracks whose 1/3-octave balance is further than
/// `max_spectral_deviation_db` (RMS over the 31 bands), or in any one band
/// further than twice that, from the other tracks' balance (leave-one-out:
/// band by band the median of the others, so that the outlier does not
/// pull its own target, nor one outlier the others'; of three tracks the
/// median of all three, the middle one), each balance
/// normalised to its own level (see
/// [`crate::analysis::Spectrum::balance`]). Needs three tracks with a
/// spectrum: with two, each is as far from the other as the other.
pub fn spectral_outliers(t: &ReportThresholds, tracks: &[TrackFigures<'_>]) -> Vec<Check> {
    use crate::analysis::{BANDS, BAND_CENTRES_HZ};
    let balances: Vec<_> = tracks
        .iter()
        .map(|f| f.m.spectrum.as_ref().and_then(|s| s.balance()))
        .collect();
    if balances.iter().flatten().count() < 3 {
        return Vec::new();
    }
    let with_spectrum = balances.iter().flatten().count();
    let deviations = balances.iter().enumerate().map(|(i, b)| {
        let b = b.as_ref()?;
        let mut d = [0.0; BANDS];
        for (k, d) in d.iter_mut().enumerate() {
            // Of three tracks the others' median is the mean of two, which
            // the outlier drags as far as itself: there the median of all
            // three (the middle one) stands for the album.
            let loo = with_spectrum > 3;
            let mut others: Vec<f64> = balances
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i || !loo)
                .filter_map(|(_, o)| o.as_ref().map(|o| o[k]))
                .collect();
            others.sort_by(f64::total_cmp);
            let n = others.len();
            let median = if n % 2 == 1 {
                others[n / 2]
            } else {
                0.5 * (others[n / 2 - 1] + others[n / 2])
            };
            *d = b[k] - median;
        }
        let rms = (d.iter().map(|x| x * x).sum::<f64>() / BANDS as f64).sqrt();
        Some((d, rms))
    });
    let mut out = Vec::new();
    for (f, d) in tracks.iter().zip(deviations) {
        let Some((bands, rms)) = d else { continue };
        let most = bands.iter().fold(0.0f64, |a, d| a.max(d.abs()));
        if rms <= t.max_spectral_deviation_db && most <= 2.0 * t.max_spectral_deviation_db {
            continue;
        }
        // Where it differs most, to say what is wrong.
        let (i, worst) = bands.iter().enumerate().fold((0, 0.0f64), |a, (i, d)| {
            if d.abs() > a.1.abs() {
                (i, *d)
            } else {
                a
            }
        });
        let hz = BAND_CENTRES_HZ[i];
        let band = if hz >= 1000.0 {
            format!("{} kHz", hz / 1000.0)
        } else {
            format!("{hz} Hz")
        };
        out.push(Check {
            id: "track.spectral_balance",
            severity: CheckSeverity::Warning,
            track: Some(f.number),
            message: format!(
                "track {} (\"{}\") is {rms:.1} dB (RMS over 1/3-octave bands) from the other tracks' balance (limit {:.1} dB, twice that in one band); most at {band}, {worst:+.1} dB ({})",
                f.number,
                f.title,
                t.max_spectral_deviation_db,
                if worst < 0.0 { "less there than the rest" } else { "more there than the rest" }
            ),
        });
    }
    out
}

/// The checks as errors (`check --strict`).
pub fn strict(checks: &mut [Check]) {
    for c in checks {
        c.severity = CheckSeverity::Error;
    }
}

/// The store lint of `deliver::lint` as checks (`store.<rule>`), for a
/// manifest with streaming bundles: titles, codes, edge silence (from the
/// figures given, indexed like the manifest's tracks) and each bundle's
/// artwork rules (covers already made are reused from `covers`). A
/// finding the profile makes an error stays an error.
pub fn store_lint(
    manifest: &crate::manifest::Manifest,
    figures: &[Option<&Measurement>],
    covers: &mut crate::deliver::artwork::Covers,
) -> Vec<Check> {
    use crate::deliver::lint::{lint, EdgeSilence, LintRule};
    use crate::deliver::{artwork, profile::Severity as PSeverity, resolve_spec};
    if manifest.streaming.is_empty() {
        return Vec::new();
    }
    let silence: Vec<Option<EdgeSilence>> = figures
        .iter()
        .map(|m| {
            m.map(|m| EdgeSilence {
                head_s: m.head_silence_s,
                tail_s: m.tail_silence_s,
            })
        })
        .collect();
    let mut art = Vec::new();
    for spec in &manifest.streaming {
        if let Ok(b) = resolve_spec(spec) {
            let out = crate::timings::time("checks: artwork rules", None, || {
                artwork::process_with(manifest.release.artwork.as_deref(), &b.artwork, covers)
            });
            art.extend(out.findings.into_iter().map(|f| (b.name.clone(), f)));
        }
    }
    lint(&manifest.release, &manifest.tracks, &silence, &art)
        .into_iter()
        .map(|f| Check {
            id: match f.rule {
                LintRule::FeaturedInTitle => "store.featured_in_title",
                LintRule::AllCapsTitle => "store.all_caps_title",
                LintRule::LowercaseTitle => "store.lowercase_title",
                LintRule::RedundantVersion => "store.redundant_version",
                LintRule::GenericTitle => "store.generic_title",
                LintRule::SingleTitleMismatch => "store.single_title_mismatch",
                LintRule::MissingIsrc => "store.missing_isrc",
                LintRule::MissingUpc => "store.missing_upc",
                LintRule::HeadSilence => "store.head_silence",
                LintRule::TailSilence => "store.tail_silence",
                LintRule::Artwork => "store.artwork",
            },
            severity: if f.severity == PSeverity::Error {
                CheckSeverity::Error
            } else {
                CheckSeverity::Warning
            },
            track: f.track,
            message: f.message,
        })
        .collect()
}
