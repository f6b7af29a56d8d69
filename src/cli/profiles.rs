//! `glassmaster profiles [NAME] [--json]`: lists the built-in streaming
//! profiles, or shows one in full (format, rate, depth, naming, tags,
//! artwork rule, the store's loudness normalisation and notes).

use anyhow::Result;

use super::Outcome;
use crate::deliver::profile::{RateRule, Severity, SourceRate};
use crate::deliver::Profile;

/// Runs the command: the list without a name, one profile with it.
pub fn run(name: Option<&str>, json: bool) -> Result<Outcome> {
    match name {
        None => {
            let all = Profile::all()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                let w = all.iter().map(|p| p.name.len()).max().unwrap_or(0);
                for p in &all {
                    println!("{:w$}  {}", p.name, p.description);
                }
                println!(
                    "{:w$}  a bundle of your own (needs `name` and `format`)",
                    "custom"
                );
            }
            Ok(Outcome::Success)
        }
        Some(n) => {
            let p = match Profile::builtin(n) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(Outcome::Failed);
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                print!("{}", show(&p));
            }
            Ok(Outcome::Success)
        }
    }
}

fn sev(s: Severity) -> &'static str {
    match s {
        Severity::Ignore => "not checked",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// The human-readable page of one profile.
fn show(p: &Profile) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("{k:<14} {v}\n"));
    line("profile", format!("{} — {}", p.name, p.description));
    line("format", format!("{:?}", p.format).to_lowercase());
    let rates = p
        .allowed_rates
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    line(
        "sample rate",
        match p.sample_rate {
            RateRule::Fixed(r) => format!("{r} Hz"),
            RateRule::Source(SourceRate::Source) => {
                format!("each track at its master's (allowed: {rates} Hz)")
            }
            RateRule::Source(SourceRate::Uniform) => format!(
                "one for the whole bundle, the album's highest master rate (allowed: {rates} Hz)"
            ),
        },
    );
    if let Some(b) = p.bit_depth {
        let q = match p.dither {
            crate::manifest::model::Dither::None => "rounded".to_string(),
            d => format!("{d:?} dither").to_lowercase(),
        };
        line("bit depth", format!("{b} ({q})"));
    }
    if let Some(b) = p.bitrate_kbps {
        line("bit rate", format!("{b} kbps CBR"));
    }
    if let Some(c) = p.true_peak_dbtp {
        line("ceiling", format!("{c:.1} dBTP after decoding"));
    }
    line(
        "naming",
        format!("\"{}\" ({:?} characters)", p.naming, p.charset).to_lowercase(),
    );
    line("tags", format!("{:?}", p.tags).to_lowercase());
    let a = &p.artwork;
    line(
        "artwork",
        format!(
            "{}–{} px{}, square: {}, RGB only: {}, {}",
            a.min_px,
            a.max_px,
            a.resize_px
                .map(|r| format!(" (scaled to {r})"))
                .unwrap_or_default(),
            sev(a.square),
            sev(a.rgb),
            if a.strip_metadata {
                "ICC/EXIF stripped"
            } else {
                "kept as is"
            }
        ),
    );
    line(
        "loudness",
        match &p.loudness {
            None => "not normalised by the store".into(),
            Some(l) => format!(
                "{} LUFS, {} mode, {}",
                l.target_lufs,
                format!("{:?}", l.mode).to_lowercase(),
                if !l.turns_up {
                    "never turns up".to_string()
                } else if let Some(lim) = l.up_limit_dbtp {
                    format!("turns up while the true peak stays under {lim} dBTP")
                } else {
                    "turns up".to_string()
                }
            ),
        },
    );
    for v in &p.preview {
        line(
            "streams",
            format!(
                "{} {} kbps, {} Hz ({}); codec preview; source: {}",
                v.codec.label(),
                v.bitrate_kbps,
                v.sample_rate,
                v.tier,
                v.source
            ),
        );
    }
    line("notes", p.notes.clone());
    s
}
