//! `check`'s codec preview: every source encoded as each store of the
//! manifest streams it, decoded and measured ([`crate::preview`]), the
//! tracks in parallel on their own pool beside the measuring pass, the
//! work files in a temporary folder removed afterwards (`check` writes
//! nothing that stays). Printed as a table after the track table; in
//! `check --json` as `tracks[].codecs`.

use rayon::prelude::*;

use crate::manifest::diagnostic::safe_line;
use crate::manifest::model::Manifest;
use crate::preview::{CodecFigures, PlannedCodec};

/// The preview of every source: per track its `codecs[]` (empty when it
/// failed: the error is in the second list).
pub fn run(
    m: &Manifest,
    plan: &[PlannedCodec],
    jobs: usize,
) -> (Vec<Vec<CodecFigures>>, Vec<String>) {
    if plan.is_empty() {
        return (vec![Vec::new(); m.tracks.len()], Vec::new());
    }
    let work = std::env::temp_dir().join(format!("glassmaster-preview-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir(&work) {
        let why = format!("codec preview: {}: {e}", work.display());
        return (vec![Vec::new(); m.tracks.len()], vec![why]);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build();
    let results: Vec<Result<Vec<CodecFigures>, String>> = match pool {
        Ok(pool) => pool.install(|| {
            m.tracks
                .par_iter()
                .map(|t| {
                    crate::preview::run_source(&t.path, plan, t.number, &work)
                        .map_err(|e| format!("{}: {e}", t.path.display()))
                })
                .collect()
        }),
        Err(e) => vec![Err(format!("codec preview: {e}")); m.tracks.len()],
    };
    let _ = std::fs::remove_dir_all(&work);
    let mut errors = Vec::new();
    let codecs = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|e| {
                errors.push(e);
                Vec::new()
            })
        })
        .collect();
    (codecs, errors)
}

/// The table on stdout: a line per track and codec.
pub fn print(m: &Manifest, codecs: &[Vec<CodecFigures>]) {
    if codecs.iter().all(Vec::is_empty) {
        return;
    }
    let f = |x: Option<f64>, d: usize| x.map_or_else(|| "-".to_owned(), |v| format!("{v:.d$}"));
    let c = |x: Option<u64>| x.map_or_else(|| "-".to_owned(), |v| v.to_string());
    println!(
        "\ncodec preview\n{:<4} {:<28} {:<28} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "#", "title", "codec", "TP", "on", "inter", "LUFS", "change", "artef."
    );
    for (t, list) in m.tracks.iter().zip(codecs) {
        let title = safe_line(&t.title).into_owned();
        let title: String = if title.chars().count() > 28 {
            title.chars().take(27).chain(['…']).collect()
        } else {
            title
        };
        for x in list {
            let name = crate::report::codecs::describe(x);
            if !x.available {
                println!("{:<4} {title:<28} {name:<28} not available", t.number);
                continue;
            }
            println!(
                "{:<4} {title:<28} {name:<28} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
                t.number,
                f(x.true_peak_dbtp, 2),
                c(x.clipped_on_sample),
                c(x.clipped_inter_sample),
                f(x.integrated_lufs, 1),
                f(x.loudness_change_lu, 2),
                f(x.artefact_lu, 1),
            );
        }
    }
}
