//! report.html's tonal-matching plot: for each track with `match`, its
//! spectrum before (grey) and after (black) against the target (red,
//! dashed), each band's level relative to the programme's loudness, on a
//! logarithmic frequency axis; the distances before and after in the
//! panel's title. Empty when no track was matched.

use std::fmt::Write;

use super::matching::MatchReport;
use super::model::Report;
use super::svg::esc;

const WIDTH: f64 = 960.0;
const COLS: usize = 3;
const PH: f64 = 170.0;

fn poly(out: &mut String, class: &str, pts: &[(f64, f64)]) {
    if pts.len() < 2 {
        return;
    }
    let p: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = write!(
        out,
        r#"<polyline class="{class}" points="{}"/>"#,
        p.join(" ")
    );
}

fn panel(out: &mut String, k: usize, number: u32, title: &str, m: &MatchReport) {
    let pw = WIDTH / COLS as f64;
    let (px, py) = ((k % COLS) as f64 * pw, (k / COLS) as f64 * PH);
    let (l, r, t, b) = (px + 36.0, px + pw - 8.0, py + 24.0, py + PH - 22.0);
    let vals = m
        .bands
        .iter()
        .flat_map(|b| [b.before_db, b.target_db, b.after_db])
        .flatten()
        .filter(|v| *v > -60.0);
    let (lo, hi) = vals.fold((f64::MAX, f64::MIN), |(a, z), v| (a.min(v), z.max(v)));
    if lo > hi {
        return;
    }
    let (lo, hi) = ((lo / 10.0).floor() * 10.0, (hi / 10.0).ceil() * 10.0);
    let hi = if hi > lo { hi } else { lo + 10.0 };
    let x = |hz: f64| l + (hz / 20.0).log10() / 3.0 * (r - l);
    let y = |db: f64| b - (db.clamp(lo, hi) - lo) / (hi - lo) * (b - t);
    let d = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
    let _ = write!(
        out,
        r#"<text class="axis" x="{:.1}" y="{:.1}">{number}. {} — {} → {} dB</text>"#,
        l,
        py + 14.0,
        esc(title),
        d(m.distance_before_db),
        d(m.distance_after_db)
    );
    let mut v = lo;
    while v <= hi + 1e-9 {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{l:.1}" y1="{p:.1}" x2="{r:.1}" y2="{p:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            l - 4.0,
            y(v) + 4.0,
            format!("{v:.0}").replace('-', "\u{2212}"),
            p = y(v)
        );
        v += 10.0;
    }
    for (hz, text) in [(100.0, "100"), (1000.0, "1k"), (10_000.0, "10k")] {
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{text}</text>"#,
            x(hz),
            b + 14.0
        );
    }
    let line = |f: &dyn Fn(&super::matching::MatchBand) -> Option<f64>| -> Vec<(f64, f64)> {
        m.bands
            .iter()
            .filter_map(|bd| Some((x(bd.hz), y(f(bd)?))))
            .collect()
    };
    poly(out, "match-target", &line(&|b| b.target_db));
    poly(out, "match-before", &line(&|b| b.before_db));
    poly(out, "match-after", &line(&|b| b.after_db));
}

/// The plot, or an empty string when no track was matched.
pub fn matching(r: &Report) -> String {
    let matched: Vec<_> = r
        .tracks
        .iter()
        .filter_map(|t| t.tonal_match.as_ref().map(|m| (t, m)))
        .collect();
    if matched.is_empty() {
        return String::new();
    }
    let h = matched.len().div_ceil(COLS) as f64 * PH + 8.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="plot" id="plot-match" viewBox="0 0 {WIDTH} {h}" width="{WIDTH}" height="{h}" role="img" aria-labelledby="plot-match-title"><title id="plot-match-title">Tonal matching: each matched track's spectrum before and after, against its target</title>"#
    );
    for (k, (t, m)) in matched.iter().enumerate() {
        panel(&mut out, k, t.number, &t.title, m);
    }
    out.push_str("</svg>");
    out
}
