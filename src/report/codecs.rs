//! The codec preview in the report: the `track.codec_overs` check,
//! report.html's table (a row per track and codec) and its plot (each
//! codec's decoded true peak per track against full scale and the
//! master's own). The figures are report.json's `tracks[].codecs[]`
//! ([`crate::preview::CodecFigures`]).

use std::fmt::Write as _;

use super::checks::{Check, CheckSeverity, TrackFigures};
use super::model::Report;
use super::svg::{
    columns, empty, esc, hline, label, n, nice_step, open, track_labels, unit, y_grid, Scale,
    BOTTOM, LEFT, TOP,
};
use crate::manifest::model::ReportThresholds;
use crate::preview::CodecFigures;

/// "Ogg Vorbis 320 kbps, 44.1 kHz".
pub fn describe(c: &CodecFigures) -> String {
    format!(
        "{} {} kbps, {} kHz",
        c.codec.label(),
        c.bitrate_kbps,
        f64::from(c.sample_rate) / 1000.0
    )
}

/// `track.codec_overs`: a track whose decoded stream of a codec clips more
/// than `max_codec_overs` times (on-sample and inter-sample together); one
/// check per track and codec, naming the stores and how much less level
/// would clear it. `codecs[k]` belongs to `tracks[k]`.
pub fn checks(
    t: &ReportThresholds,
    tracks: &[TrackFigures<'_>],
    codecs: &[Vec<CodecFigures>],
) -> Vec<Check> {
    let mut out = Vec::new();
    for (f, list) in tracks.iter().zip(codecs) {
        for c in list.iter().filter(|c| c.available) {
            let overs = c.overs();
            if overs <= t.max_codec_overs {
                continue;
            }
            let peak = c.true_peak_dbtp.unwrap_or(0.0);
            out.push(Check {
                id: "track.codec_overs",
                severity: CheckSeverity::Warning,
                track: Some(f.number),
                message: format!(
                    "track {} (\"{}\") clips {overs} times after {} ({}): {} on-sample, {} inter-sample, decoded true peak {:+.2} dBTP (limit {} clipped samples); about {:.1} dB less level would clear it",
                    f.number,
                    f.title,
                    describe(c),
                    c.stores.join(", "),
                    c.clipped_on_sample.unwrap_or(0),
                    c.clipped_inter_sample.unwrap_or(0),
                    peak,
                    t.max_codec_overs,
                    (peak.max(0.0) + 0.05).max(0.1),
                ),
            });
        }
    }
    out
}

fn f(x: Option<f64>, d: usize) -> String {
    x.map_or_else(
        || "\u{2013}".to_owned(),
        |v| {
            let s = format!("{v:.d$}");
            let s = if s
                .trim_start_matches('-')
                .chars()
                .all(|c| c == '0' || c == '.')
            {
                s.trim_start_matches('-').to_owned()
            } else {
                s
            };
            s.replace('-', "\u{2212}")
        },
    )
}

/// report.html's table: one row per track and codec: number, title,
/// codec, stores, decoded true peak, on-sample and inter-sample clips,
/// decoded loudness, its change, the artefact level under the music, and
/// whether the row is over the limit ("over") or not available ("na").
pub fn table(r: &Report) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for t in &r.tracks {
        for c in &t.codecs {
            let state = if !c.available {
                "na"
            } else if c.overs() > r.thresholds.max_codec_overs {
                "over"
            } else {
                ""
            };
            let count = |x: Option<u64>| x.map_or_else(|| "\u{2013}".to_owned(), |v| v.to_string());
            let mut row = vec![
                t.number.to_string(),
                t.title.clone(),
                describe(c),
                c.stores.join(", "),
            ];
            if c.available {
                row.extend([
                    f(c.true_peak_dbtp, 2),
                    count(c.clipped_on_sample),
                    count(c.clipped_inter_sample),
                    f(c.integrated_lufs, 1),
                    f(c.loudness_change_lu, 2),
                    f(c.artefact_lu, 1),
                ]);
            } else {
                row.push(c.note.clone().unwrap_or_else(|| "not available".into()));
            }
            row.push(state.to_owned());
            rows.push(row);
        }
    }
    rows
}

/// The plot: per track, a bar per available codec (its decoded true peak,
/// red outline when it clips past the limit) and a tick at the master's
/// true peak, against 0 dBTP. Empty when no track has codec figures.
pub fn plot(r: &Report) -> String {
    let mut names: Vec<String> = Vec::new();
    for c in r
        .tracks
        .iter()
        .flat_map(|t| &t.codecs)
        .filter(|c| c.available)
    {
        let d = describe(c);
        if !names.contains(&d) {
            names.push(d);
        }
    }
    if names.is_empty() {
        return String::new();
    }
    let h = 280.0;
    let mut out = String::new();
    open(
        &mut out,
        "plot-codecs",
        h,
        "Codec preview: each store codec's decoded true peak per track (bars) and the master's (tick), against full scale",
    );
    let values: Vec<f64> = r
        .tracks
        .iter()
        .flat_map(|t| {
            t.codecs
                .iter()
                .map(|c| c.true_peak_dbtp)
                .chain([t.master.true_peak_dbtp])
        })
        .flatten()
        .collect();
    if values.is_empty() {
        empty(&mut out, h, "no decoded stream has a peak");
        out.push_str("</svg>");
        return out;
    }
    let mn = values.iter().copied().fold(-3.0, f64::min);
    let mx = values.iter().copied().fold(0.0, f64::max);
    let lo = super::svg::floor_to(mn - 0.5, 1.0).max(-60.0);
    let hi = super::svg::ceil_to(mx + 0.5, 0.5);
    let y = Scale::new(lo, hi, h - BOTTOM, TOP + 14.0);
    y_grid(
        &mut out,
        &y,
        nice_step(hi - lo, 8.0, &[0.5, 1.0, 2.0, 3.0, 6.0, 12.0]),
        "",
    );
    // The legend, above the plot.
    let mut x = LEFT;
    for (k, name) in names.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect class="p{}" x="{}" y="{}" width="10" height="10"/><text class="legend" x="{}" y="{}">{}</text>"#,
            k % 6,
            n(x),
            n(TOP - 12.0),
            n(x + 14.0),
            n(TOP - 3.0),
            esc(name)
        );
        x += 24.0 + 6.5 * name.chars().count() as f64;
    }
    let (w, cx) = columns(r.tracks.len());
    let group = (w * 0.8).min(28.0 * names.len() as f64);
    let bw = group / names.len() as f64;
    let base = y.at(lo);
    for (i, t) in r.tracks.iter().enumerate() {
        let x0 = cx(i) - group / 2.0;
        for c in t.codecs.iter().filter(|c| c.available) {
            let (Some(k), Some(p)) = (
                names.iter().position(|d| *d == describe(c)),
                c.true_peak_dbtp,
            ) else {
                continue;
            };
            let top = y.at(p);
            let over = c.overs() > r.thresholds.max_codec_overs;
            let _ = write!(
                out,
                r#"<rect class="mark p{}{}" data-track="{}" x="{}" y="{}" width="{}" height="{}"><title>track {}, {}: {} dBTP, {} clipped</title></rect>"#,
                k % 6,
                if over { " codec-over" } else { "" },
                t.number,
                n(x0 + k as f64 * bw + bw * 0.1),
                n(top),
                n(bw * 0.8),
                n((base - top).max(0.0)),
                t.number,
                esc(&describe(c)),
                label(p),
                c.overs()
            );
        }
        if let Some(p) = t.master.true_peak_dbtp {
            let _ = write!(
                out,
                r#"<line class="mark sample" x1="{}" y1="{p}" x2="{}" y2="{p}"><title>track {} master: {} dBTP</title></line>"#,
                n(x0 - 3.0),
                n(x0 + group + 3.0),
                t.number,
                label(p),
                p = n(y.at(p)),
            );
        }
    }
    hline(&mut out, &y, 0.0, "target", "full scale 0 dBTP");
    unit(&mut out, h, "dBTP · track");
    track_labels(&mut out, r, h);
    out.push_str("</svg>");
    out
}
