//! `glassmaster verify DIR [--manifest FILE] [--json]`: re-reads a build
//! folder and checks every output against report.json and the manifest
//! ([`crate::verify`]). Prints each problem as `FILE: FIELD: message`;
//! exit 1 when there is one.

use std::path::Path;

use anyhow::Result;
use serde_json::json;

use super::{Context, Outcome};

pub fn run(
    ctx: &Context,
    dir: &Path,
    manifest: Option<&Path>,
    json: bool,
    jobs: Option<usize>,
) -> Result<Outcome> {
    if !ctx.quiet && !json {
        eprintln!("verifying {}", dir.display());
    }
    let bar = super::progress::bar(ctx, 1, "verify");
    let tell = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let v = crate::verify::verify_with(dir, manifest, super::jobs(ctx, jobs, None), &tell);
    bar.finish_and_clear();
    let v = v?;
    if json {
        let doc = json!({
            "ok": v.ok(),
            "dir": dir.display().to_string(),
            "manifest": v.manifest.as_ref().map(|p| p.display().to_string()),
            "files_checked": v.files_checked,
            "audio_checked": v.audio_checked,
            "problems": v.problems,
            "notes": v.notes,
            "warnings": v.warnings,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for p in &v.problems {
            println!("error: {p}");
        }
        for w in &v.warnings {
            println!("warning: {w}");
        }
        for n in &v.notes {
            println!("note: {n}");
        }
        let what = format!(
            "{} outputs checked, {} audio files measured again{}",
            v.files_checked,
            v.audio_checked,
            v.manifest
                .as_ref()
                .map_or_else(String::new, |m| format!(", against {}", m.display()))
        );
        if v.ok() {
            println!("verify: {} is as report.json says ({what})", dir.display());
        } else {
            println!(
                "verify: {} problem{} in {} ({what})",
                v.problems.len(),
                if v.problems.len() == 1 { "" } else { "s" },
                dir.display()
            );
        }
    }
    Ok(if v.ok() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}
