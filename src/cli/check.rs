//! `glassmaster check` and `glassmaster analyze`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::json;

use super::{jobs, progress, Context, Outcome};
use crate::analysis::{
    analyze_files_with_extras, AlbumFigures, BatchAnalysis, Extras, FileAnalysis,
};
use crate::manifest::diagnostic::{safe, safe_line};
use crate::manifest::{self, Diagnostic, Loaded};
use crate::report::checks::{self, Check, Stage, TrackFigures};

/// Prints a manifest's diagnostics to stderr, each with its line and caret.
pub fn print_diagnostics(loaded: &Loaded) {
    for d in &loaded.diagnostics {
        eprint!("{}", d.render(loaded.source.as_deref()));
    }
}

/// Loads a manifest with the audio stage's probe.
pub fn load(path: &Path) -> Loaded {
    manifest::load(path, &crate::audio::probe)
}

/// Decodes and measures `paths` in parallel with a progress bar, with the
/// `extras` (restoration detectors, playback translation) in the same pass.
fn measure(ctx: &Context, paths: &[PathBuf], jobs: usize, extras: Extras) -> BatchAnalysis {
    let total: u64 = paths
        .iter()
        .filter_map(|p| crate::audio::probe(p).ok()?.frames)
        .sum();
    let bar = progress::bar(ctx, total.max(1), "measuring");
    let batch = analyze_files_with_extras(paths, jobs, extras, |done| bar.set_position(done));
    bar.finish_and_clear();
    batch
}

pub fn run(
    ctx: &Context,
    path: &Path,
    strict: bool,
    json: bool,
    jobs_arg: Option<usize>,
    preview: bool,
) -> Result<Outcome> {
    let loaded = load(path);
    let mut failed =
        loaded.has_errors() || (strict && loaded.diagnostics.iter().any(|d| !d.is_error()));
    let mut tracks_json = Vec::new();
    let mut checks: Vec<Check> = Vec::new();
    let mut audio_errors = Vec::new();
    if let (Some(m), false) = (&loaded.manifest, loaded.has_errors()) {
        let paths: Vec<PathBuf> = m.tracks.iter().map(|t| t.path.clone()).collect();
        let extras = Extras {
            min_dropout_ms: m.report.restoration.then_some(m.report.min_dropout_ms),
            translation: m.report.translation,
        };
        let jobs_n = jobs(ctx, jobs_arg, Some(paths.len()));
        // The codec preview runs on its own pool beside the measuring pass.
        let preview_plan = if preview && m.report.codec_preview {
            crate::preview::plan(
                &m.streaming,
                !m.report.codec_preview_passages,
                &m.report.codec_preview_codecs,
            )
        } else {
            Vec::new()
        };
        if !json {
            for n in crate::preview::notes(&preview_plan) {
                eprintln!("note: {}", safe(&n));
            }
        }
        let (batch, (codecs, preview_errors)) = std::thread::scope(|s| {
            let p = s.spawn(|| super::check_preview::run(m, &preview_plan, jobs_n));
            let batch = measure(ctx, &paths, jobs_n, extras);
            let p = p.join().unwrap_or_else(|_| {
                (
                    vec![Vec::new(); m.tracks.len()],
                    vec!["codec preview: a worker thread failed".to_owned()],
                )
            });
            (batch, p)
        });
        for e in preview_errors {
            audio_errors.push(Diagnostic::error(path, None, e));
        }
        let mut figures = Vec::new();
        let translation = crate::report::translation::album(
            &batch
                .files
                .iter()
                .map(|r| {
                    r.as_ref()
                        .ok()
                        .and_then(|a| a.measurement.translation.as_ref())
                })
                .collect::<Vec<_>>(),
        );
        let mut with_codecs: Vec<Vec<crate::preview::CodecFigures>> = Vec::new();
        for (((t, r), tr), c) in m
            .tracks
            .iter()
            .zip(&batch.files)
            .zip(&translation)
            .zip(&codecs)
        {
            match r {
                Ok(a) => {
                    let mut v = serde_json::to_value(a)?;
                    v["path"] = json!(t.file.display().to_string());
                    let obj = v.as_object_mut().expect("a file analysis is an object");
                    obj.insert("number".into(), json!(t.number));
                    obj.insert("title".into(), json!(t.title));
                    if let Some(tr) = tr {
                        obj.insert("translation".into(), serde_json::to_value(tr)?);
                    }
                    if !c.is_empty() {
                        obj.insert("codecs".into(), serde_json::to_value(c)?);
                    }
                    tracks_json.push(v);
                    with_codecs.push(c.clone());
                    figures.push(TrackFigures {
                        number: t.number,
                        title: &t.title,
                        m: &a.measurement,
                    });
                }
                Err(e) => audio_errors.push(Diagnostic::error(path, None, e.to_string())),
            }
        }
        checks = checks::run(
            &m.report,
            m.mastering.loudness_mode,
            Stage::Sources,
            &figures,
        );
        checks.extend(crate::report::codecs::checks(
            &m.report,
            &figures,
            &with_codecs,
        ));
        let measured: Vec<_> = batch
            .files
            .iter()
            .map(|r| r.as_ref().ok().map(|a| &a.measurement))
            .collect();
        checks.extend(checks::store_lint(m, &measured, &mut Default::default()));
        let plan = super::check_match::plan(m, jobs(ctx, jobs_arg, Some(paths.len())));
        let plan = match plan {
            Ok(p) => p,
            Err(e) => {
                audio_errors.push(Diagnostic::error(path, None, e.to_string()));
                Vec::new()
            }
        };
        for (v, r) in tracks_json.iter_mut().zip(&plan) {
            if let Some(r) = r {
                v["match"] = serde_json::to_value(r)?;
            }
        }
        if strict {
            checks::strict(&mut checks);
        }
        let any_error = checks
            .iter()
            .any(|c| c.severity == checks::CheckSeverity::Error);
        failed |= !audio_errors.is_empty() || any_error || (strict && !checks.is_empty());
        if !json {
            print_diagnostics(&loaded);
            for d in &audio_errors {
                eprint!("{}", d.render(None));
            }
            print_track_table(
                batch.files.iter().filter_map(|r| r.as_ref().ok()),
                batch.album.as_ref(),
            );
            for (t, r) in m.tracks.iter().zip(&batch.files) {
                if let Some(found) = r
                    .as_ref()
                    .ok()
                    .and_then(|a| a.measurement.restoration.as_ref())
                {
                    super::restoration::print(t.number, &t.title, found);
                }
            }
            print_translation_table(
                batch
                    .files
                    .iter()
                    .zip(&translation)
                    .filter_map(|(r, t)| Some((r.as_ref().ok()?, t.as_ref()?))),
            );
            super::check_preview::print(m, &codecs);
            print_checks(&checks);
            super::check_match::print(m, &plan);
        }
    } else if !json {
        print_diagnostics(&loaded);
    }
    if json {
        let diags: Vec<_> = loaded
            .diagnostics
            .iter()
            .chain(&audio_errors)
            .map(Diagnostic::to_json)
            .collect();
        let doc = json!({
            "ok": !failed,
            "diagnostics": diags,
            "tracks": tracks_json,
            "checks": checks,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !ctx.quiet && !failed {
        eprintln!("{}: ok", safe_line(&path.display().to_string()));
    }
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

fn print_checks(checks: &[Check]) {
    for c in checks {
        let sev = match c.severity {
            checks::CheckSeverity::Warning => "warning",
            checks::CheckSeverity::Error => "error",
        };
        eprintln!("{sev}: [{}] {}", c.id, safe(&c.message));
    }
}

pub fn analyze(
    ctx: &Context,
    files: &[PathBuf],
    json: bool,
    jobs_arg: Option<usize>,
) -> Result<Outcome> {
    let batch = measure(
        ctx,
        files,
        jobs(ctx, jobs_arg, Some(files.len())),
        Extras::default(),
    );
    let mut failed = false;
    for r in &batch.files {
        if let Err(e) = r {
            eprintln!("error: {}", safe(&e.to_string()));
            failed = true;
        }
    }
    let ok: Vec<&FileAnalysis> = batch.files.iter().filter_map(|r| r.as_ref().ok()).collect();
    if json {
        let doc = json!({ "files": ok, "album": batch.album });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_track_table(ok.iter().copied(), batch.album.as_ref());
    }
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-inf".to_owned(), |x| format!("{x:.1}"))
}

/// The playback translation figures of the sources, one line a file;
/// nothing when none was measured (`report: translation: false`).
fn print_translation_table<'a>(
    rows: impl Iterator<
        Item = (
            &'a FileAnalysis,
            &'a crate::report::translation::TranslationReport,
        ),
    >,
) {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return;
    }
    let f = |x: Option<f64>, d: usize| x.map_or_else(|| "-".to_owned(), |v| format!("{v:.d$}"));
    println!(
        "\nplayback translation\n{:<32} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "file", "mono", "c<120", "c<1k", "c<8k", "c>8k", "phone", "vs alb", "<60 %", "c<60", "sub-L", "PSRmin", "PSRmed"
    );
    for (a, t) in rows {
        let name = a.path.file_name().map_or_else(
            || a.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let name = safe_line(&name).into_owned();
        let name: String = if name.chars().count() > 32 {
            name.chars().take(31).chain(['…']).collect()
        } else {
            name
        };
        let c = &t.mono.correlation;
        println!(
            "{:<32} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
            name,
            f(t.mono.loss_lu, 1),
            f(c.low, 2),
            f(c.low_mid, 2),
            f(c.high_mid, 2),
            f(c.high, 2),
            f(t.phone.loss_lu, 1),
            f(t.phone.vs_album_lu, 1),
            f(Some(t.low_end.share_pct), 1),
            f(t.low_end.correlation, 2),
            f(t.low_end.peak_to_loudness_db, 1),
            f(t.psr.min_db, 1),
            f(t.psr.median_db, 1),
        );
    }
}

/// One line per file and one for the album, on stdout.
fn print_track_table<'a>(
    files: impl Iterator<Item = &'a FileAnalysis>,
    album: Option<&AlbumFigures>,
) {
    println!(
        "{:<32} {:>14} {:>7} {:>7} {:>5} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5} {:>5}",
        "file",
        "format",
        "length",
        "LUFS",
        "LRA",
        "dBTP",
        "dBFS",
        "ST max",
        "M max",
        "DC",
        "corr",
        "head",
        "tail",
        "clips"
    );
    for f in files {
        let m = &f.measurement;
        let name = f.path.file_name().map_or_else(
            || f.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let name = safe_line(&name).into_owned();
        let name: String = if name.chars().count() > 32 {
            name.chars().take(31).chain(['…']).collect()
        } else {
            name
        };
        let format = format!(
            "{}k/{}/{}",
            m.sample_rate as f64 / 1000.0,
            m.bit_depth
                .map_or_else(|| "lossy".to_owned(), |b| b.to_string()),
            if m.channels == 1 { "mono" } else { "st" }
        );
        let dc = m
            .dc_offset_dbfs
            .iter()
            .flatten()
            .fold(f64::NEG_INFINITY, |a, b| a.max(*b));
        let secs = m.duration_s;
        println!(
            "{:<32} {:>14} {:>7} {:>7} {:>5} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5.2} {:>5.1} {:>5.1} {:>5}",
            name,
            format,
            format!("{}:{:04.1}", (secs / 60.0) as u64, secs % 60.0),
            fmt_opt(m.integrated_lufs),
            fmt_opt(m.loudness_range_lu),
            fmt_opt(m.true_peak_dbtp),
            fmt_opt(m.sample_peak_dbfs),
            fmt_opt(m.short_term_max_lufs),
            fmt_opt(m.momentary_max_lufs),
            if dc.is_finite() { format!("{dc:.0}") } else { "-inf".into() },
            m.correlation,
            m.head_silence_s,
            m.tail_silence_s,
            m.clipped_samples
        );
    }
    if let Some(a) = album {
        println!(
            "album: {} LUFS integrated, {} LU range, {} dBTP, spread {} LU",
            fmt_opt(a.integrated_lufs),
            fmt_opt(a.loudness_range_lu),
            fmt_opt(a.true_peak_dbtp),
            fmt_opt(a.loudness_spread_lu)
        );
    }
}
