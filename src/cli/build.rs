//! `glassmaster build`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::ProgressBar;
use serde_json::json;

use super::check::{load, print_diagnostics};
use super::{jobs, progress, Context, Outcome};
use crate::build::{self, BuildOptions, BuildProgress, Parts};
use crate::manifest::diagnostic::safe;
use crate::timings;

/// The parts `--only` takes.
pub fn parse_only(list: &str) -> Result<Parts, String> {
    let mut p = Parts {
        masters: false,
        cd: false,
        streaming: false,
        report: true,
        vinyl: false,
        cassette: false,
    };
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word {
            "masters" => p.masters = true,
            "cd" => p.cd = true,
            "streaming" => p.streaming = true,
            "vinyl" => p.vinyl = true,
            "cassette" => p.cassette = true,
            "report" => {}
            other => {
                return Err(format!(
                "`{other}` is not a part of the build; --only takes cd, streaming, masters, vinyl, cassette, report"
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
    /// The step names its stage itself ("track 2 \"Night Drive\": render
    /// 1"), short enough for an 80-column terminal.
    fn step(&self, what: &str) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.set_message(what.to_owned());
        }
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

/// `build`'s command-line flags.
pub struct Flags {
    pub out: Option<PathBuf>,
    pub only: Option<Parts>,
    pub jobs: Option<usize>,
    pub force: bool,
    pub dry_run: bool,
    pub json: bool,
    pub timings: bool,
    /// Run the codec preview (unless the manifest turns it off).
    pub preview: bool,
}

pub fn run(ctx: &Context, manifest_path: &Path, flags: Flags) -> Result<Outcome> {
    if flags.timings && !flags.dry_run {
        timings::enable();
    }
    let phase = timings::phase("manifest: load, validate, probe");
    let loaded = load(manifest_path);
    drop(phase);
    print_diagnostics(&loaded);
    let Some(manifest) = loaded.manifest.as_ref().filter(|_| !loaded.has_errors()) else {
        if flags.json {
            let diags: Vec<_> = loaded.diagnostics.iter().map(|d| d.to_json()).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"ok": false, "diagnostics": diags}))?
            );
        }
        return Ok(Outcome::Failed);
    };
    let out_dir = flags.out.unwrap_or_else(|| manifest.base_dir.join("build"));
    let opts = BuildOptions {
        out_dir,
        parts: flags.only.unwrap_or(Parts::ALL),
        // Not capped by the tracks: a track's meters and encoders run as
        // tasks of the pool (master::render::replay).
        jobs: jobs(ctx, flags.jobs, None),
        force: flags.force,
        timings: flags.timings,
        preview: flags.preview,
    };
    let bar = Bar {
        ctx,
        bar: std::sync::Mutex::new(None),
    };
    let clear = || {
        if let Some(b) = bar.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    };
    let failed = |e: &dyn std::fmt::Display| -> Result<Outcome> {
        clear();
        eprintln!("error: {}", safe(&e.to_string()));
        if flags.json {
            let doc = json!({"ok": false, "error": e.to_string()});
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Ok(Outcome::Failed)
    };
    if flags.dry_run {
        let plan = match build::plan::dry_run(manifest, &opts, &bar) {
            Ok(p) => p,
            Err(e) => return failed(&e),
        };
        clear();
        print_plan(&plan, flags.json)?;
        return Ok(Outcome::Success);
    }
    let summary = match build::build(manifest, &opts, &bar) {
        Ok(s) => s,
        Err(e) => return failed(&e),
    };
    clear();
    if let Some(t) = timings::report() {
        eprint!("{}", t.table());
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
    if flags.json {
        let doc = json!({
            "ok": true,
            "out_dir": summary.out_dir.display().to_string(),
            "outputs": summary.outputs.iter()
                .map(|(path, md5)| json!({"path": path, "md5": md5}))
                .collect::<Vec<_>>(),
            "warnings": summary.warnings,
            "checks": summary.checks,
            "passes": summary.passes,
            "album": {
                "integrated_lufs": summary.album_lufs,
                "true_peak_dbtp": summary.album_true_peak,
            },
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
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

/// The plan on stdout: JSON, or the files, the gains and the disc as text.
fn print_plan(plan: &build::plan::Plan, as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(plan)?);
        return Ok(());
    }
    let f = |v: Option<f64>| v.map_or_else(|| "-inf".to_owned(), |x| format!("{x:.2}"));
    println!("would write {}:", safe(&plan.out_dir.display().to_string()));
    for file in &plan.files {
        println!("  {}", safe(file));
    }
    println!("matching gains:");
    for t in &plan.tracks {
        println!(
            "  track {:>2} {:+7.2} dB -> {} LUFS, {} dBTP ({} render{})  {}",
            t.number,
            t.gain_db,
            f(t.integrated_lufs),
            f(t.true_peak_dbtp),
            t.renders,
            if t.renders == 1 { "" } else { "s" },
            safe(&t.title)
        );
    }
    println!(
        "album: {} LUFS, {} dBTP in {} passes",
        f(plan.album.integrated_lufs),
        f(plan.album.true_peak_dbtp),
        plan.album.passes
    );
    if let Some(cd) = &plan.cd {
        println!(
            "CD: {} frames ({}), MCN {}",
            cd.total_frames,
            crate::disc::text::msf(cd.total_frames),
            cd.mcn.as_deref().unwrap_or("none")
        );
        println!("  track  pregap  start     length  (frames, 75 a second)");
        for (i, t) in cd.tracks.iter().enumerate() {
            println!(
                "  {:>5}  {:>6}  {:>8}  {:>8}",
                i + 1,
                t.pregap_frames,
                t.start_frame,
                t.length_frames
            );
        }
    }
    for w in &plan.warnings {
        eprintln!("warning: {}", safe(w));
    }
    Ok(())
}
