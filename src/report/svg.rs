//! The report's plots as inline SVG, drawn here from a [`Report`]:
//! paths, polylines, rects, lines and text, nothing else. Colours and line styles
//! come from classes that report.html's stylesheet defines.
//!
//! Every plot is `<svg class="plot" id="plot-…">` with a `viewBox` (it
//! scales to the page) and a `<title>`; every element drawn from the data
//! has the class `mark`, so a test can tell a drawn plot from an empty
//! one. Coordinates are written with one decimal, so the same report
//! gives the same bytes. The timeline draws the series as they are (one
//! point a second at most), about 40 KB for an hour.

use std::fmt::Write;

use super::model::{Playback, Report};
use crate::analysis::{album_balance, BANDS};

pub(super) const WIDTH: f64 = 960.0;
pub(super) const LEFT: f64 = 56.0;
pub(super) const RIGHT: f64 = 16.0;
pub(super) const TOP: f64 = 22.0;
pub(super) const BOTTOM: f64 = 34.0;

/// One decimal, no "-0.0".
pub(super) fn n(x: f64) -> String {
    format!("{:.1}", super::model::round1(x))
}

/// A figure for a label: one decimal with a real minus sign.
pub(super) fn label(x: f64) -> String {
    n(x).replace('-', "\u{2212}")
}

/// XML text.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A linear map from values to pixels.
#[derive(Clone, Copy)]
pub(super) struct Scale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    a: f64,
    b: f64,
}

impl Scale {
    pub(super) fn new(lo: f64, hi: f64, a: f64, b: f64) -> Scale {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Scale { lo, hi, a, b }
    }
    pub(super) fn at(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)
    }
}

pub(super) fn floor_to(x: f64, step: f64) -> f64 {
    (x / step).floor() * step
}

pub(super) fn ceil_to(x: f64, step: f64) -> f64 {
    (x / step).ceil() * step
}

/// Opens a plot.
pub(super) fn open(out: &mut String, id: &str, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="plot" id="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{t}</title>"#,
        w = n(WIDTH),
        h = n(height),
        t = esc(title)
    );
}

/// Horizontal grid lines with labels every `step` on `y`.
pub(super) fn y_grid(out: &mut String, y: &Scale, step: f64, unit: &str) {
    let mut v = ceil_to(y.lo, step);
    while v <= y.hi + 1e-9 {
        let py = y.at(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{}" y1="{p}" x2="{}" y2="{p}"/><text class="axis" x="{}" y="{}" text-anchor="end">{}{}</text>"#,
            n(LEFT),
            n(WIDTH - RIGHT),
            n(LEFT - 6.0),
            n(py + 4.0),
            label(v),
            unit,
            p = n(py),
        );
        v += step;
    }
}

/// A grid step that gives at most about `max` lines over `span`.
pub(super) fn nice_step(span: f64, max: f64, steps: &[f64]) -> f64 {
    steps
        .iter()
        .copied()
        .find(|s| span / s <= max)
        .unwrap_or(*steps.last().unwrap_or(&1.0))
}

pub(super) fn empty(out: &mut String, height: f64, what: &str) {
    let _ = write!(
        out,
        r#"<text class="empty" x="{}" y="{}" text-anchor="middle">{}</text>"#,
        n(WIDTH / 2.0),
        n(height / 2.0),
        esc(what)
    );
}

/// (a) Short-term loudness over the album, track after track, with the
/// track boundaries, each track's integrated loudness and the target.
pub fn timeline(r: &Report) -> String {
    let h = 300.0;
    let mut out = String::new();
    open(
        &mut out,
        "plot-timeline",
        h,
        "Short-term loudness (3 s) over the album, with track boundaries and the target",
    );
    let total: f64 = r.tracks.iter().map(|t| t.master.duration_s.max(0.0)).sum();
    let points: Vec<f64> = r
        .tracks
        .iter()
        .flat_map(|t| t.master.short_term.lufs.iter().flatten().copied())
        .collect();
    if total <= 0.0 || points.is_empty() {
        empty(&mut out, h, "no short-term loudness was measured");
        out.push_str("</svg>");
        return out;
    }
    let target = r.album.target_lufs;
    let max = points.iter().copied().fold(target, f64::max);
    let mut sorted = points.clone();
    sorted.sort_by(f64::total_cmp);
    let p5 = sorted[sorted.len() / 20];
    let lo = floor_to(p5.min(target - 12.0) - 2.0, 5.0).max(-70.0);
    let hi = ceil_to(max + 2.0, 5.0);
    let y = Scale::new(lo, hi, h - BOTTOM, TOP);
    let x = Scale::new(0.0, total, LEFT, WIDTH - RIGHT);
    y_grid(
        &mut out,
        &y,
        nice_step(hi - lo, 8.0, &[5.0, 10.0, 20.0]),
        "",
    );
    // Minutes along the bottom.
    let step = 60.0 * nice_step(total / 60.0, 12.0, &[1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0]);
    let mut t = 0.0;
    while t <= total + 1e-9 {
        let _ = write!(
            out,
            r#"<text class="axis" x="{}" y="{}" text-anchor="middle">{}:00</text>"#,
            n(x.at(t)),
            n(h - BOTTOM + 16.0),
            (t / 60.0).round()
        );
        t += step;
    }
    unit(&mut out, h, "LUFS · min");
    let mut start = 0.0;
    for (i, tr) in r.tracks.iter().enumerate() {
        let d = tr.master.duration_s.max(0.0);
        let (x0, x1) = (x.at(start), x.at(start + d));
        if i > 0 {
            let _ = write!(
                out,
                r#"<line class="boundary" x1="{p}" y1="{}" x2="{p}" y2="{}"/>"#,
                n(TOP),
                n(h - BOTTOM),
                p = n(x0)
            );
        }
        if x1 - x0 >= 14.0 {
            let _ = write!(
                out,
                r#"<text class="tracknum" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                n((x0 + x1) / 2.0),
                n(TOP - 6.0),
                tr.number
            );
        }
        // One path a track, broken where the series has no value
        // (digital silence).
        let s = &tr.master.short_term;
        if s.lufs.iter().any(Option::is_some) {
            let _ = write!(
                out,
                r#"<path class="mark series" data-track="{}" d=""#,
                tr.number
            );
            let mut pen_down = false;
            for (k, v) in s.lufs.iter().enumerate() {
                let Some(v) = v else {
                    pen_down = false;
                    continue;
                };
                let tt = ((k + 1) as f64 * s.step_s).min(d);
                let _ = write!(
                    out,
                    "{}{},{}",
                    if pen_down { " " } else { "M" },
                    n(x.at(start + tt)),
                    n(y.at(*v))
                );
                pen_down = true;
            }
            out.push_str(r#""/>"#);
        }
        if let Some(l) = tr.master.integrated_lufs {
            let _ = write!(
                out,
                r#"<line class="mark integrated" x1="{}" y1="{p}" x2="{}" y2="{p}"/>"#,
                n(x0),
                n(x1),
                p = n(y.at(l))
            );
        }
        if let Some(found) = &tr.restoration {
            event_marks(&mut out, found, tr.number, start, d, &x, h);
        }
        start += d;
    }
    let ty = y.at(target);
    let _ = write!(
        out,
        r#"<line class="target" x1="{}" y1="{p}" x2="{}" y2="{p}"/><text class="target-label" x="{}" y="{}" text-anchor="end">target {} LUFS</text>"#,
        n(LEFT),
        n(WIDTH - RIGHT),
        n(WIDTH - RIGHT - 4.0),
        n(ty - 4.0),
        label(target),
        p = n(ty)
    );
    out.push_str("</svg>");
    out
}

/// Marks drawn per track and kind of event at most (the rest are in
/// report.json).
pub const MAX_MARKS: usize = 200;

/// A tick at the foot of the timeline for each restoration event of a
/// track (clicks, clipped runs, dropouts, the noise floor's passage), its
/// kind and time (mm:ss.mmm into the track) in a `<title>`.
fn event_marks(
    out: &mut String,
    found: &crate::analysis::restoration::Restoration,
    number: u32,
    start: f64,
    d: f64,
    x: &Scale,
    h: f64,
) {
    use crate::report::checks::clock;
    let mut mark = |kind: &str, what: &str, t: f64| {
        let p = n(x.at(start + t.clamp(0.0, d)));
        let _ = write!(
            out,
            r#"<line class="event {kind}" data-track="{number}" data-time="{t:.4}" x1="{p}" y1="{}" x2="{p}" y2="{}"><title>{} at {} (track {number})</title></line>"#,
            n(h - BOTTOM - 12.0),
            n(h - BOTTOM),
            esc(what),
            clock(t)
        );
    };
    for c in found.clicks.iter().take(MAX_MARKS) {
        mark("click", "click", c.time_s);
    }
    for c in found.clipped_runs.iter().take(MAX_MARKS) {
        mark("clipping", "clipped run", c.time_s);
    }
    for e in found.dropouts.iter().take(MAX_MARKS) {
        mark("dropout", "dropout", e.time_s);
    }
}

/// Column centres and width for `count` tracks across the plot.
pub(super) fn columns(count: usize) -> (f64, impl Fn(usize) -> f64) {
    let w = (WIDTH - LEFT - RIGHT) / count.max(1) as f64;
    (w, move |i: usize| LEFT + w * (i as f64 + 0.5))
}

/// Track numbers under the columns.
pub(super) fn track_labels(out: &mut String, r: &Report, h: f64) {
    let (_, cx) = columns(r.tracks.len());
    for (i, t) in r.tracks.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(cx(i)),
            n(h - BOTTOM + 16.0),
            t.number
        );
    }
}

/// (b) Each master's integrated loudness (bar) and its source's (dot),
/// with the target, the album's loudness and the band the tracks span.
pub fn loudness(r: &Report) -> String {
    let h = 280.0;
    let mut out = String::new();
    open(
        &mut out,
        "plot-loudness",
        h,
        "Integrated loudness per track: masters (bars), sources (dots), the spread band and the target",
    );
    let masters: Vec<f64> = r
        .tracks
        .iter()
        .filter_map(|t| t.master.integrated_lufs)
        .collect();
    if masters.is_empty() {
        empty(&mut out, h, "no track has an integrated loudness");
        out.push_str("</svg>");
        return out;
    }
    let target = r.album.target_lufs;
    let all = r
        .tracks
        .iter()
        .flat_map(|t| [t.master.integrated_lufs, t.source.integrated_lufs])
        .flatten()
        .chain([target]);
    let (mn, mx) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let lo = floor_to(mn - 4.0, 5.0).max(-70.0);
    let hi = ceil_to(mx + 2.0, 5.0);
    let y = Scale::new(lo, hi, h - BOTTOM, TOP);
    y_grid(&mut out, &y, nice_step(hi - lo, 8.0, &[2.0, 5.0, 10.0]), "");
    let (lo_m, hi_m) = masters
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let limit = r.thresholds.max_loudness_spread_lu;
    let over = hi_m - lo_m > limit;
    let _ = write!(
        out,
        r#"<rect class="mark band{}" x="{}" y="{}" width="{}" height="{}"/><text class="band-label" x="{}" y="{}">spread {} LU (limit {} LU)</text>"#,
        if over { " over" } else { "" },
        n(LEFT),
        n(y.at(hi_m)),
        n(WIDTH - LEFT - RIGHT),
        n((y.at(lo_m) - y.at(hi_m)).max(1.0)),
        n(LEFT + 6.0),
        n(TOP - 6.0),
        label(hi_m - lo_m),
        label(limit)
    );
    let (w, cx) = columns(r.tracks.len());
    let bw = (w * 0.6).min(48.0);
    for (i, t) in r.tracks.iter().enumerate() {
        if let Some(l) = t.master.integrated_lufs {
            let top = y.at(l);
            let _ = write!(
                out,
                r#"<rect class="mark bar" data-track="{}" x="{}" y="{}" width="{}" height="{}"><title>track {}: {} LUFS</title></rect>"#,
                t.number,
                n(cx(i) - bw / 2.0),
                n(top),
                n(bw),
                n((h - BOTTOM - top).max(0.0)),
                t.number,
                label(l)
            );
        }
        if let Some(l) = t.source.integrated_lufs {
            let _ = write!(
                out,
                r#"<circle class="mark source" cx="{}" cy="{}" r="4"><title>track {} source: {} LUFS</title></circle>"#,
                n(cx(i)),
                n(y.at(l)),
                t.number,
                label(l)
            );
        }
    }
    hline(
        &mut out,
        &y,
        target,
        "target",
        &format!("target {} LUFS", label(target)),
    );
    if let Some(a) = r.album.integrated_lufs {
        let _ = write!(
            out,
            r#"<line class="album" x1="{}" y1="{p}" x2="{}" y2="{p}"/>"#,
            n(LEFT),
            n(WIDTH - RIGHT),
            p = n(y.at(a))
        );
    }
    unit(&mut out, h, "LUFS · track");
    track_labels(&mut out, r, h);
    out.push_str("</svg>");
    out
}

/// The unit, bottom right.
pub(super) fn unit(out: &mut String, h: f64, text: &str) {
    let _ = write!(
        out,
        r#"<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>"#,
        n(WIDTH - RIGHT),
        n(h - 4.0),
        esc(text)
    );
}

/// A labelled horizontal line across the plot.
pub(super) fn hline(out: &mut String, y: &Scale, v: f64, class: &str, text: &str) {
    let py = y.at(v);
    let _ = write!(
        out,
        r#"<line class="{class}" x1="{}" y1="{p}" x2="{}" y2="{p}"/><text class="{class}-label" x="{}" y="{}" text-anchor="end">{}</text>"#,
        n(LEFT),
        n(WIDTH - RIGHT),
        n(WIDTH - RIGHT - 4.0),
        n(py - 4.0),
        esc(text),
        p = n(py)
    );
}

/// (c) Each master's true peak (bar; red over the limit), its sample
/// peak (tick) and its source's true peak (dot), against the ceiling.
pub fn true_peak(r: &Report) -> String {
    let h = 260.0;
    let mut out = String::new();
    open(
        &mut out,
        "plot-true-peak",
        h,
        "True peak per track: masters (bars), sample peaks (ticks), sources (dots), against the ceiling",
    );
    let ceiling = r.album.true_peak_ceiling_dbtp;
    let limit = r.thresholds.max_true_peak_dbtp;
    let values: Vec<f64> = r
        .tracks
        .iter()
        .flat_map(|t| {
            [
                t.master.true_peak_dbtp,
                t.master.sample_peak_dbfs,
                t.source.true_peak_dbtp,
            ]
        })
        .flatten()
        .collect();
    if r.tracks.iter().all(|t| t.master.true_peak_dbtp.is_none()) {
        empty(&mut out, h, "no track has a true peak");
        out.push_str("</svg>");
        return out;
    }
    let mn = values.iter().copied().fold(ceiling.min(limit), f64::min);
    let mx = values.iter().copied().fold(0.0, f64::max);
    let lo = floor_to(mn - 2.0, 3.0).max(-60.0);
    let hi = ceil_to(mx + 0.5, 1.0);
    let y = Scale::new(lo, hi, h - BOTTOM, TOP);
    y_grid(
        &mut out,
        &y,
        nice_step(hi - lo, 8.0, &[1.0, 2.0, 3.0, 6.0, 12.0]),
        "",
    );
    let (w, cx) = columns(r.tracks.len());
    let bw = (w * 0.6).min(48.0);
    for (i, t) in r.tracks.iter().enumerate() {
        if let Some(p) = t.master.true_peak_dbtp {
            let top = y.at(p);
            let _ = write!(
                out,
                r#"<rect class="mark bar{}" data-track="{}" x="{}" y="{}" width="{}" height="{}"><title>track {}: {} dBTP</title></rect>"#,
                if p > limit { " over" } else { "" },
                t.number,
                n(cx(i) - bw / 2.0),
                n(top),
                n(bw),
                n((h - BOTTOM - top).max(0.0)),
                t.number,
                label(p)
            );
        }
        if let Some(p) = t.master.sample_peak_dbfs {
            let py = y.at(p);
            let _ = write!(
                out,
                r#"<line class="mark sample" x1="{}" y1="{p}" x2="{}" y2="{p}"/>"#,
                n(cx(i) - bw / 2.0 - 4.0),
                n(cx(i) + bw / 2.0 + 4.0),
                p = n(py)
            );
        }
        if let Some(p) = t.source.true_peak_dbtp {
            let _ = write!(
                out,
                r#"<circle class="mark source" cx="{}" cy="{}" r="4"><title>track {} source: {} dBTP</title></circle>"#,
                n(cx(i)),
                n(y.at(p)),
                t.number,
                label(p)
            );
        }
    }
    hline(
        &mut out,
        &y,
        ceiling,
        "target",
        &format!("ceiling {} dBTP", label(ceiling)),
    );
    if (limit - ceiling).abs() > 0.005 {
        hline(
            &mut out,
            &y,
            limit,
            "limit",
            &format!("check limit {} dBTP", label(limit)),
        );
    }
    unit(&mut out, h, "dBTP · track");
    track_labels(&mut out, r, h);
    out.push_str("</svg>");
    out
}

/// Each track's spectral balance and its deviation from the album's
/// mean: (mean, per track (deviation by band, RMS)).
type Balances = Option<([f64; BANDS], Vec<Option<([f64; BANDS], f64)>>)>;

fn balances(r: &Report) -> Balances {
    let b: Vec<_> = r
        .tracks
        .iter()
        .map(|t| t.master.spectral_balance())
        .collect();
    let a = album_balance(&b)?;
    Some((a.mean, a.deviations))
}

/// The RMS deviation of each track's balance from the album's mean, for
/// the tables (`None` without a spectrum).
pub fn spectral_deviations(r: &Report) -> Vec<Option<f64>> {
    match balances(r) {
        Some((_, d)) => d.iter().map(|d| d.map(|d| d.1)).collect(),
        None => vec![None; r.tracks.len()],
    }
}

/// (d) The album's mean 1/3-octave balance, then each track's deviation
/// from it, one small panel each (red beyond the check's limit).
pub fn spectrum(r: &Report) -> String {
    const COLS: usize = 4;
    const PW: f64 = WIDTH / COLS as f64;
    const PH: f64 = 132.0;
    let panels = r.tracks.len() + 1;
    let rows = panels.div_ceil(COLS);
    let h = rows as f64 * PH + 8.0;
    let mut out = String::new();
    open(
        &mut out,
        "plot-spectrum",
        h,
        "Spectral balance (1/3 octave, 20 Hz to 20 kHz): the album's mean, then each track against it",
    );
    let Some((mean, devs)) = balances(r) else {
        empty(&mut out, h, "no spectrum was measured");
        out.push_str("</svg>");
        return out;
    };
    let limit = r.thresholds.max_spectral_deviation_db;
    let panel = |out: &mut String,
                 k: usize,
                 title: &str,
                 class: &str,
                 vals: &[f64],
                 range: (f64, f64),
                 zero: bool| {
        let (px, py) = ((k % COLS) as f64 * PW, (k / COLS) as f64 * PH);
        let (l, rr, t, b) = (px + 34.0, px + PW - 8.0, py + 22.0, py + PH - 22.0);
        let x = Scale::new(0.0, (BANDS - 1) as f64, l, rr);
        let y = Scale::new(range.0, range.1, b, t);
        let _ = write!(
            out,
            r#"<g class="panel"><rect class="frame" x="{}" y="{}" width="{}" height="{}"/><text class="panel-title" x="{}" y="{}">{}</text>"#,
            n(l),
            n(t),
            n(rr - l),
            n(b - t),
            n(l),
            n(t - 6.0),
            esc(title)
        );
        for v in [range.0, (range.0 + range.1) / 2.0, range.1] {
            let _ = write!(
                out,
                r#"<text class="axis small" x="{}" y="{}" text-anchor="end">{}</text>"#,
                n(l - 3.0),
                n(y.at(v) + 3.0),
                label(v).trim_end_matches(".0")
            );
        }
        if zero {
            let _ = write!(
                out,
                r#"<line class="album" x1="{}" y1="{p}" x2="{}" y2="{p}"/>"#,
                n(l),
                n(rr),
                p = n(y.at(0.0))
            );
        }
        for (i, hz) in [(0usize, "20"), (10, "200"), (20, "2k"), (30, "20k")] {
            let _ = write!(
                out,
                r#"<text class="axis small" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                n(x.at(i as f64)),
                n(b + 12.0),
                hz
            );
        }
        let _ = write!(out, r#"<polyline class="mark {class}" points=""#);
        for (i, v) in vals.iter().enumerate() {
            let _ = write!(
                out,
                "{}{},{}",
                if i == 0 { "" } else { " " },
                n(x.at(i as f64)),
                n(y.at(*v))
            );
        }
        out.push_str(r#""/></g>"#);
    };
    let lo = floor_to(mean.iter().copied().fold(0.0, f64::min), 10.0).max(-60.0);
    let hi = ceil_to(mean.iter().copied().fold(0.0, f64::max), 10.0).max(10.0);
    panel(
        &mut out,
        0,
        "album mean, dB",
        "spectrum",
        &mean,
        (lo, hi),
        false,
    );
    let range = (limit * 2.5).clamp(6.0, 30.0);
    for (k, (t, d)) in r.tracks.iter().zip(&devs).enumerate() {
        match d {
            Some((bands, rms)) => {
                let title = format!(
                    "{}. {} · {} dB",
                    t.number,
                    truncate(&t.title, 22),
                    label(*rms)
                );
                let class = if *rms > limit {
                    "deviation over"
                } else {
                    "deviation"
                };
                panel(&mut out, k + 1, &title, class, bands, (-range, range), true);
            }
            None => {
                let (px, py) = (((k + 1) % COLS) as f64 * PW, ((k + 1) / COLS) as f64 * PH);
                let _ = write!(
                    out,
                    r#"<text class="empty" x="{}" y="{}">{}. no spectrum</text>"#,
                    n(px + 34.0),
                    n(py + PH / 2.0),
                    t.number
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The stores' gains for each track in one playback view: `(profiles,
/// gains[profile][track])`; a row without a track applies to every track.
pub fn normalisation_table(r: &Report, view: Playback) -> (Vec<String>, Vec<Vec<Option<f64>>>) {
    let of_view = || r.normalisation.iter().filter(|x| x.playback == view);
    let mut profiles: Vec<String> = Vec::new();
    for row in of_view() {
        if !profiles.contains(&row.profile) {
            profiles.push(row.profile.clone());
        }
    }
    let gains = profiles
        .iter()
        .map(|p| {
            r.tracks
                .iter()
                .map(|t| {
                    let rows = || of_view().filter(|x| &x.profile == p);
                    rows()
                        .find(|x| x.track == Some(t.number))
                        .or_else(|| rows().find(|x| x.track.is_none()))
                        .map(|x| x.gain_db)
                })
                .collect()
        })
        .collect();
    (profiles, gains)
}

/// (e) The gain each store's loudness normalisation applies to each
/// track on playback: one bar per store in each track's column.
pub fn normalisation(r: &Report) -> String {
    let h = 260.0;
    let mut out = String::new();
    open(
        &mut out,
        "plot-normalisation",
        h,
        "Gain each store's loudness normalisation applies to each track",
    );
    let (profiles, gains) = normalisation_table(r, Playback::Album);
    let (_, playlist) = normalisation_table(r, Playback::Playlist);
    let all: Vec<f64> = gains
        .iter()
        .chain(&playlist)
        .flatten()
        .flatten()
        .copied()
        .collect();
    if all.is_empty() {
        empty(
            &mut out,
            h,
            "no streaming profile: no normalisation to show",
        );
        out.push_str("</svg>");
        return out;
    }
    let m = all.iter().fold(1.0f64, |a, g| a.max(g.abs()));
    let m = ceil_to(m + 0.5, 2.0);
    let y = Scale::new(-m, m, h - BOTTOM, TOP + 12.0);
    y_grid(
        &mut out,
        &y,
        nice_step(2.0 * m, 8.0, &[1.0, 2.0, 3.0, 6.0, 12.0]),
        "",
    );
    let _ = write!(
        out,
        r#"<line class="zero" x1="{}" y1="{p}" x2="{}" y2="{p}"/>"#,
        n(LEFT),
        n(WIDTH - RIGHT),
        p = n(y.at(0.0))
    );
    let (w, cx) = columns(r.tracks.len());
    let group = w * 0.8;
    let bw = group / profiles.len().max(1) as f64;
    for (p, row) in gains.iter().enumerate() {
        for (i, g) in row.iter().enumerate() {
            let Some(g) = g else { continue };
            let (a, b) = (y.at(g.max(0.0)), y.at(g.min(0.0)));
            let _ = write!(
                out,
                r#"<rect class="mark bar p{}" x="{}" y="{}" width="{}" height="{}"><title>{} · track {}: {} dB</title></rect>"#,
                p % 6,
                n(cx(i) - group / 2.0 + bw * p as f64),
                n(a),
                n((bw - 1.0).max(1.0)),
                n((b - a).max(1.0)),
                esc(&profiles[p]),
                r.tracks[i].number,
                label(*g)
            );
            // The same store's playlist gain: a dot on the bar's centre.
            if let Some(q) = playlist.get(p).and_then(|row| row[i]) {
                let _ = write!(
                    out,
                    r#"<circle class="mark playlist" cx="{}" cy="{}" r="3"><title>{} · track {} in a playlist: {} dB</title></circle>"#,
                    n(cx(i) - group / 2.0 + bw * (p as f64 + 0.5)),
                    n(y.at(q)),
                    esc(&profiles[p]),
                    r.tracks[i].number,
                    label(q)
                );
            }
        }
    }
    // Legend along the top.
    let mut lx = LEFT;
    for (p, name) in profiles.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect class="bar p{}" x="{}" y="{}" width="10" height="10"/><text class="legend" x="{}" y="{}">{}</text>"#,
            p % 6,
            n(lx),
            n(TOP - 12.0),
            n(lx + 14.0),
            n(TOP - 3.0),
            esc(name)
        );
        lx += 24.0 + 7.0 * name.chars().count() as f64;
    }
    unit(
        &mut out,
        h,
        "dB on playback · bars: album played in order · dots: track in a playlist · track",
    );
    track_labels(&mut out, r, h);
    out.push_str("</svg>");
    out
}
