//! What the restoration detectors found, printed per track by `check` (and
//! `build`): each kind of event with its time (mm:ss.mmm) so a user can go
//! and listen, the first [`SHOWN`] of each kind and a count of the rest.

use crate::analysis::restoration::{Channel, Restoration};
use crate::manifest::diagnostic::safe_line;
use crate::report::checks::clock;

/// Events listed per kind and track.
pub const SHOWN: usize = 10;

fn side(c: Channel) -> &'static str {
    match c {
        Channel::Left => "L",
        Channel::Right => "R",
        Channel::Both => "LR",
    }
}

/// The lines for one track (none when nothing was found).
pub fn lines(number: u32, title: &str, r: &Restoration) -> Vec<String> {
    let mut out = Vec::new();
    let mut list = |what: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        let mut line = format!("  {what} ({}):", items.len());
        for i in items.iter().take(SHOWN) {
            line.push(' ');
            line.push_str(i);
        }
        if items.len() > SHOWN {
            line.push_str(&format!(" and {} more", items.len() - SHOWN));
        }
        out.push(line);
    };
    list(
        "clicks",
        r.clicks
            .iter()
            .map(|c| format!("{} {}", clock(c.time_s), side(c.channel)))
            .collect(),
    );
    list(
        "clipped runs",
        r.clipped_runs
            .iter()
            .map(|c| {
                format!(
                    "{} {} ({} at {:.1} dBFS)",
                    clock(c.time_s),
                    side(c.channel),
                    c.samples,
                    c.level_dbfs
                )
            })
            .collect(),
    );
    list(
        "dropouts",
        r.dropouts
            .iter()
            .map(|d| {
                format!(
                    "{} {} ({:.1} ms)",
                    clock(d.time_s),
                    side(d.channel),
                    d.length_ms
                )
            })
            .collect(),
    );
    if let Some(h) = &r.hum {
        let lines: Vec<String> = h
            .lines
            .iter()
            .map(|l| format!("{:.0} Hz +{:.1} dB", l.hz, l.above_db))
            .collect();
        out.push(format!("  hum: {}", lines.join(", ")));
    }
    if let Some(p) = r.polarity.as_ref().filter(|p| p.inverted) {
        out.push(format!(
            "  polarity: one channel inverted (low band {:.2}, broadband {:.2})",
            p.low_band_correlation, p.correlation
        ));
    }
    if !out.is_empty() {
        out.insert(0, format!("track {number} \"{}\":", safe_line(title)));
    }
    out
}

/// Prints [`lines`] on stdout.
pub fn print(number: u32, title: &str, r: &Restoration) {
    for l in lines(number, title, r) {
        println!("{l}");
    }
}
