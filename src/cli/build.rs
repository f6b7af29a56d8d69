//! `glassmaster build`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::ProgressBar;

use super::check::{load, print_diagnostics};
use super::{jobs, progress, Context, Outcome};
use crate::build::{self, BuildOptions, BuildProgress, Parts};
use crate::manifest::diagnostic::safe;

/// The parts `--only` takes.
pub fn parse_only(list: &str) -> Result<Parts, String> {
    let mut p = Parts {
        masters: false,
        cd: false,
        streaming: false,
        report: true,
    };
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word {
            "masters" => p.masters = true,
            "cd" => p.cd = true,
            "streaming" => p.streaming = true,
            "report" => {}
            other => {
                return Err(format!(
                "`{other}` is not a part of the build; --only takes cd, streaming, masters, report"
            ))
            }
        }
    }
    Ok(p)
}

struct Bar<'a> {
    ctx: &'a Context,
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl BuildProgress for Bar<'_> {
    fn stage(&self, label: &str, total: u64) {
        let mut b = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = b.take() {
            old.finish_and_clear();
        }
        *b = Some(progress::bar(self.ctx, total.max(1), label));
    }
    fn advance(&self, frames: u64) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.inc(frames);
        }
    }
    fn note(&self, message: &str) {
        let b = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match b.as_ref() {
            Some(bar) => bar.suspend(|| eprintln!("note: {message}")),
            None => eprintln!("note: {message}"),
        }
    }
}

pub fn run(
    ctx: &Context,
    manifest_path: &Path,
    out: Option<PathBuf>,
    only: Option<Parts>,
    jobs_arg: Option<usize>,
    force: bool,
) -> Result<Outcome> {
    let loaded = load(manifest_path);
    print_diagnostics(&loaded);
    let Some(manifest) = loaded.manifest.as_ref().filter(|_| !loaded.has_errors()) else {
        return Ok(Outcome::Failed);
    };
    let out_dir = out.unwrap_or_else(|| manifest.base_dir.join("build"));
    let opts = BuildOptions {
        out_dir,
        parts: only.unwrap_or(Parts::ALL),
        jobs: jobs(ctx, jobs_arg, Some(manifest.tracks.len())),
        force,
    };
    let bar = Bar {
        ctx,
        bar: std::sync::Mutex::new(None),
    };
    let summary = match build::build(manifest, &opts, &bar) {
        Ok(s) => s,
        Err(e) => {
            if let Some(b) = bar.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
                b.finish_and_clear();
            }
            eprintln!("error: {}", safe(&e.to_string()));
            return Ok(Outcome::Failed);
        }
    };
    if let Some(b) = bar.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
        b.finish_and_clear();
    }
    // The disc's text warnings were said by the manifest check already.
    let said = |w: &str| {
        w.strip_prefix("the CD: ")
            .is_some_and(|w| loaded.diagnostics.iter().any(|d| d.message == w))
    };
    for w in summary.warnings.iter().filter(|w| !said(w)) {
        eprintln!("warning: {}", safe(w));
    }
    for c in &summary.checks {
        eprintln!("warning: [{}] {}", c.id, safe(&c.message));
    }
    if !ctx.quiet {
        let f = |v: Option<f64>| v.map_or_else(|| "-inf".to_owned(), |x| format!("{x:.2}"));
        // The outputs report.json lists, as `verify` counts them.
        eprintln!(
            "built {} ({} outputs, and the report) in {} passes: album {} LUFS, {} dBTP",
            summary.out_dir.display(),
            summary.outputs.len(),
            summary.passes,
            f(summary.album_lufs),
            f(summary.album_true_peak)
        );
    }
    Ok(Outcome::Success)
}
