//! `build`: everything a manifest asks for, written as one transaction.
//!
//! The stages run in the pipeline's order: the sources are probed (by
//! manifest validation), measured after their chains and mastered to the
//! loudness target ([`crate::master`]); each render feeds the outputs'
//! sinks at once (the 24-bit master, the CD path; a track of a segued run
//! is spooled instead and its CD audio rendered from the spools with its
//! neighbours' after mastering, see [`segue`]); then the CD is laid out
//! and written, and report.json lists what was made with its checksums.
//! Everything goes into a staging folder that replaces the output folder
//! only when all of it succeeded; where the output may go, and what
//! `--force` may replace, is [`output`]'s rule, checked before any work.

pub mod analog;
pub mod cd;
pub mod output;
pub mod partial;
pub mod plan;
mod report_json;
pub mod segue;
pub mod sinks;
pub mod streaming;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::dsp::DitherKind;
use crate::manifest::model::{Dither, Manifest};
use crate::master::{self, MasterError, Sink, TrackPlan};
use crate::preview::{sink::PreviewSlot, CodecFigures};
use crate::report::checks::{self, Check, Stage, TrackFigures};
use crate::timings;
use output::{md5_file, Output};
use report_json::{make_report, normalisation_rows};
use segue::{SpoolSink, SpoolSlot};
use sinks::{CdSink, CdSlot, CdWindow, MasterWav};

/// Why a build failed. The output folder is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Master(#[from] MasterError),
    #[error("{0}")]
    Invalid(String),
    #[error("the CD: {0}")]
    Layout(#[from] crate::disc::layout::LayoutError),
    #[error("the CD: {0}")]
    Author(#[from] crate::disc::author::AuthorError),
}

impl BuildError {
    pub fn io(path: &Path, source: std::io::Error) -> BuildError {
        BuildError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Which parts of the outputs to write (`--only`); all by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub masters: bool,
    pub cd: bool,
    pub streaming: bool,
    pub report: bool,
    pub vinyl: bool,
    pub cassette: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        masters: true,
        cd: true,
        streaming: true,
        report: true,
        vinyl: true,
        cassette: true,
    };
}

pub struct BuildOptions {
    pub out_dir: PathBuf,
    pub parts: Parts,
    pub jobs: usize,
    pub force: bool,
    /// Put the stage timings into report.json (`build --timings`; the
    /// caller enables [`timings`]).
    pub timings: bool,
    /// Run the codec preview ([`crate::preview`]) when the manifest's
    /// `report.codec_preview` allows it (`build --no-preview`: false).
    pub preview: bool,
}

/// What a build made, for the command line to summarise.
pub struct BuildSummary {
    pub out_dir: PathBuf,
    pub outputs: Vec<(String, String)>,
    pub warnings: Vec<String>,
    pub checks: Vec<Check>,
    pub passes: usize,
    pub album_lufs: Option<f64>,
    pub album_true_peak: Option<f64>,
}

/// Progress callbacks: the total work in source frames per pass is
/// announced with `start`, then `advance` comes from worker threads.
pub trait BuildProgress: Sync {
    fn stage(&self, label: &str, total_frames: u64);
    fn advance(&self, frames: u64);
    /// What the stage is at now: the track and its step ("track 2
    /// \"Night Drive\": render 1"), said as each track starts one.
    fn step(&self, _what: &str) {}
    /// Something done that was not asked for (a stale staging folder of an
    /// interrupted build removed), to be said at once.
    fn note(&self, _message: &str) {}
}

/// Runs the build, on `opts.jobs` threads: the tracks, and the hashing
/// and bundle work that runs over files in parallel.
pub fn build(
    manifest: &Manifest,
    opts: &BuildOptions,
    progress: &dyn BuildProgress,
) -> Result<BuildSummary, BuildError> {
    let jobs = opts.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| BuildError::Invalid(format!("cannot start {jobs} worker threads: {e}")))?;
    pool.install(|| build_on(manifest, opts, progress))
}

fn build_on(
    manifest: &Manifest,
    opts: &BuildOptions,
    progress: &dyn BuildProgress,
) -> Result<BuildSummary, BuildError> {
    let say = |n: &str| progress.note(n);
    let mut phase = timings::phase("prepare: staging, plan, artwork");
    let staging = Output::begin(&opts.out_dir, &inputs(manifest), opts.force, "build", &say)?;
    // `--only` on an existing build keeps its other parts (partial.rs).
    let previous = partial::previous(&opts.out_dir, opts.parts)?;
    let root = staging.dir().to_owned();
    let want_cd = opts.parts.cd && manifest.cd.is_some();
    let mut early_warnings = Vec::new();
    let mut covers = crate::deliver::artwork::Covers::default();
    let bundles = if opts.parts.streaming && !manifest.streaming.is_empty() {
        let (bundles, w) = streaming::plan(manifest, &mut covers)?;
        early_warnings.extend(w);
        for b in &bundles {
            mkdir(&root.join(&b.dir))?;
        }
        bundles
    } else {
        Vec::new()
    };
    if opts.parts.masters {
        mkdir(&root.join("masters"))?;
    }
    let work = root.join(".work");
    mkdir(&work)?;

    // The hidden track (HTOA) is mastered with the album, after the
    // tracks: its loudness counts for the album; it goes to the CD only.
    let hidden = manifest.hidden_as_track().filter(|_| want_cd);
    let plans: Vec<TrackPlan> = manifest
        .tracks
        .iter()
        .chain(hidden.as_ref())
        .map(|t| {
            let mut p = TrackPlan::new(t, &manifest.mastering)?;
            p.restoration = manifest
                .report
                .restoration
                .then_some(manifest.report.min_dropout_ms);
            // Loudness probes keep the master here; the sinks get the
            // render that lands, once (master/spool.rs).
            p.spool = Some(work.join(format!("render-{:02}.f64", p.number)));
            p.translation = manifest.report.translation;
            Ok(p)
        })
        .collect::<Result<_, MasterError>>()?;
    let master_names = master_names(manifest);
    let analog = analog::Analog::new(manifest, opts.parts.vinyl, opts.parts.cassette, &work);
    let cd_slots: Vec<CdSlot> = plans.iter().map(|_| Arc::new(Mutex::new(None))).collect();
    // Segued runs go to the CD as one stream, after mastering (segue.rs).
    let runs = if want_cd {
        let tracks: Vec<(bool, u32)> = manifest
            .tracks
            .iter()
            .zip(&plans)
            .map(|(t, p)| (t.segue, p.info.sample_rate))
            .collect();
        segue::runs(&tracks)
    } else {
        Vec::new()
    };
    let in_run: Vec<bool> = (0..plans.len())
        .map(|i| runs.iter().any(|r| r.contains(&i)))
        .collect();
    let spools: Vec<SpoolSlot> = plans.iter().map(|_| Arc::new(Mutex::new(None))).collect();
    let cd_dither = manifest
        .cd
        .as_ref()
        .map_or(DitherKind::Tpdf, |c| match c.dither {
            Dither::Tpdf => DitherKind::Tpdf,
            Dither::Shaped => DitherKind::Shaped,
            Dither::None => DitherKind::None,
        });

    // The codec preview: one more sink per track and store rate, beside
    // the others (preview/sink.rs).
    let preview_plan = if opts.preview && manifest.report.codec_preview {
        crate::preview::plan(
            &manifest.streaming,
            !manifest.report.codec_preview_passages,
            &manifest.report.codec_preview_codecs,
        )
    } else {
        Vec::new()
    };
    for n in crate::preview::notes(&preview_plan) {
        progress.note(&n);
    }
    let preview_slots: Vec<PreviewSlot> = plans.iter().map(|_| PreviewSlot::default()).collect();

    let make_sinks = |plan: &TrackPlan| -> Result<Vec<Box<dyn Sink>>, MasterError> {
        let i = (plan.number - 1) as usize;
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        let listed = i < manifest.tracks.len();
        if opts.parts.masters && listed {
            sinks.push(Box::new(MasterWav::create(
                &root.join(&master_names[i]),
                plan.number,
                plan.info.sample_rate,
            )?));
        }
        if want_cd && in_run[i] {
            sinks.push(Box::new(SpoolSink::create(
                &work.join(format!("master-{:02}.f32", plan.number)),
                plan.number,
                spools[i].clone(),
            )?));
        } else if want_cd {
            sinks.push(Box::new(CdSink::create(
                &work.join(format!("cd-{:02}.pcm", plan.number)),
                plan.number,
                plan.info.sample_rate,
                plan.limiter,
                cd_dither,
                CdWindow::ALL,
                cd_slots[i].clone(),
            )?));
        }
        if listed {
            sinks.extend(analog.master_sinks(plan)?);
        }
        for b in bundles.iter().filter(|_| listed) {
            sinks.push(Box::new(streaming::BundleSink::create(
                &root,
                b,
                i,
                plan.number,
                plan.info.sample_rate,
            )?));
        }
        if listed && !preview_plan.is_empty() {
            sinks.extend(crate::preview::sink::sinks(
                &preview_plan,
                plan.info.sample_rate,
                plan.number,
                &work,
                &preview_slots[i],
            )?);
        }
        Ok(sinks)
    };
    next(&mut phase, "hash sources");
    // For report.json, so that `verify` can tell a mix changed since.
    let source_md5s: Vec<String> = manifest
        .tracks
        .par_iter()
        .map(|t| md5_file(&t.path))
        .collect::<Result<_, _>>()?;
    if let Some(p) = &previous {
        p.same_sources(&source_md5s)?;
    }
    next(&mut phase, "tracks: decode, measure, render");
    let total: u64 = plans.iter().map(|p| p.info.frames.unwrap_or(0)).sum();
    progress.stage("decode, measure, render", total * 2);
    let advance = |n: u64| progress.advance(n);
    let steps = |plan: &master::TrackPlan, step: master::Step| {
        let what = match step {
            master::Step::Learn => "learn (denoise profile, hum, clip levels)".to_owned(),
            master::Step::Measure => "decode, measure".to_owned(),
            master::Step::Render(n) => format!("render {n}"),
        };
        progress.step(&format!("track {} \"{}\": {what}", plan.number, plan.title));
    };
    let result = master::master_album_steps(
        &plans,
        &manifest.mastering,
        opts.jobs,
        &make_sinks,
        &advance,
        &steps,
    )?;
    if !runs.is_empty() {
        next(&mut phase, "CD: segued runs");
        let total = runs
            .iter()
            .flat_map(|r| r.clone())
            .map(|i| plans[i].info.frames.unwrap_or(0))
            .sum();
        progress.stage("segues for the CD", total);
        segue::render_runs(
            &segue::RunJob {
                plans: &plans,
                runs: &runs,
                spools: &spools,
                cd_slots: &cd_slots,
                work: &work,
                dither: cd_dither,
                jobs: opts.jobs,
            },
            &advance,
        )?;
    }

    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut warnings = early_warnings;
    warnings.extend(result.warnings.iter().cloned());
    let mut normalisation = Vec::new();
    let mut bundle_reports = Vec::new();
    if !bundles.is_empty() {
        next(&mut phase, "bundles: tags, re-measure, sheets");
        let levels = streaming::Levels {
            tracks: result.tracks[..manifest.tracks.len()]
                .iter()
                .map(|t| (t.master.integrated_lufs, t.master.true_peak_dbtp))
                .collect(),
            album: (result.album.integrated_lufs, result.album.true_peak_dbtp),
        };
        let names: Vec<&str> = bundles.iter().map(|b| b.dir.as_str()).collect();
        progress.stage(&format!("bundles {}", names.join(", ")), 1);
        let (files, reports) = streaming::finish(&root, manifest, &bundles, &levels)?;
        outputs.extend(hash_outputs(&root, files)?);
        bundle_reports = reports;
        normalisation = normalisation_rows(&bundles, &result, manifest.tracks.len());
    }
    if opts.parts.masters {
        next(&mut phase, "hash masters");
        let masters = master_names.iter().map(|n| (root.join(n), None)).collect();
        outputs.extend(hash_outputs(&root, masters)?);
    }
    let mut cd_report = None;
    if want_cd {
        let segments: Vec<sinks::CdSegment> = cd_slots
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).take())
            .collect::<Option<_>>()
            .ok_or_else(|| BuildError::Invalid("a track's CD audio was not made".into()))?;
        next(&mut phase, "CD: image, CUE, TOC, PQ, DDP");
        progress.stage("CD image, CUE, TOC, PQ, DDP", 1);
        let (discs, cd_warnings) = cd::write_discs(manifest, &root, &segments)?;
        warnings.extend(cd_warnings);
        let cd_files = walk(&root.join("cd"))?
            .into_iter()
            .map(|f| (f, None))
            .collect();
        outputs.extend(hash_outputs(&root, cd_files)?);
        cd_report = Some((discs, segments));
    }
    next(&mut phase, "checks");
    let figures: Vec<TrackFigures<'_>> = manifest
        .tracks
        .iter()
        .zip(&result.tracks)
        .map(|(t, r)| TrackFigures {
            number: t.number,
            title: &t.title,
            m: &r.master,
        })
        .collect();
    let mut checks = checks::run(
        &manifest.report,
        manifest.mastering.loudness_mode,
        Stage::Masters,
        &figures,
    );
    let codecs: Vec<Vec<CodecFigures>> = preview_slots[..manifest.tracks.len()]
        .iter()
        .map(|s| crate::preview::sink::take(s, &preview_plan))
        .collect();
    checks.extend(crate::report::codecs::checks(
        &manifest.report,
        &figures,
        &codecs,
    ));
    if opts.parts.streaming {
        let measured: Vec<_> = result.tracks[..manifest.tracks.len()]
            .iter()
            .map(|t| Some(&t.master))
            .collect();
        checks.extend(checks::store_lint(manifest, &measured, &mut covers));
    }
    // Vinyl and cassette premasters (their own render, sides, sheets).
    next(&mut phase, "vinyl and cassette premasters");
    let analog_out = analog.finish(manifest, &root, opts.jobs, progress)?;
    for f in &analog_out.files {
        outputs.push((relative(&root, f), md5_file(f)?));
    }
    warnings.extend(analog_out.warnings);
    checks.extend(analog_out.checks);
    std::fs::remove_dir_all(&work).map_err(|e| BuildError::io(&work, e))?;

    outputs.sort();
    next(&mut phase, "report: model");
    progress.stage("report", 1);
    let mut report = make_report(
        manifest,
        &result,
        &checks,
        &outputs,
        cd_report.as_ref(),
        normalisation,
    );
    report.bundles = bundle_reports;
    for (t, c) in report.tracks.iter_mut().zip(codecs) {
        t.codecs = c;
    }
    report.vinyl = analog_out.vinyl;
    report.cassette = analog_out.cassette;
    for (t, md5) in report.tracks.iter_mut().zip(source_md5s) {
        t.source.md5 = Some(md5);
    }
    if opts.parts.masters {
        for (t, name) in report.tracks.iter_mut().zip(&master_names) {
            t.master.file = Some(name.clone());
        }
    }
    if let Some(p) = &previous {
        p.same_masters(&report)?;
        p.carry(&root)?;
        report = p.merge(report)?;
        outputs = report
            .outputs
            .iter()
            .map(|o| (o.path.clone(), o.md5.clone()))
            .collect();
    }
    if opts.timings {
        // Up to here: the report's own writing is after this reading.
        drop(phase.take());
        report.timings = timings::report();
        phase = timings::phase("report: json, html, commit");
    }
    let text = report
        .to_json()
        .map_err(|e| BuildError::Invalid(format!("report.json: {e}")))?;
    std::fs::write(root.join("report.json"), text).map_err(|e| BuildError::io(&root, e))?;
    let html = crate::report::render_html(&report)
        .map_err(|e| BuildError::Invalid(format!("report.html: {e}")))?;
    std::fs::write(root.join("report.html"), html).map_err(|e| BuildError::io(&root, e))?;
    warnings.extend(staging.commit()?);
    drop(phase);
    Ok(BuildSummary {
        out_dir: opts.out_dir.clone(),
        outputs,
        warnings,
        checks,
        passes: result.passes,
        album_lufs: result.album.integrated_lufs,
        album_true_peak: result.album.true_peak_dbtp,
    })
}

/// Ends the build's current timing phase and starts `name`.
fn next(phase: &mut Option<timings::Phase>, name: &'static str) {
    drop(phase.take());
    *phase = timings::phase(name);
}

/// The 24-bit masters' paths in the build folder, in track order.
fn master_names(manifest: &Manifest) -> Vec<String> {
    manifest
        .tracks
        .iter()
        .map(|t| {
            let fields = crate::deliver::naming::NameFields {
                track: t.number,
                title: t.title.clone(),
                ..Default::default()
            };
            let name = crate::deliver::naming::file_name(
                "{track:02} {title}",
                &fields,
                crate::deliver::profile::Charset::Any,
                "wav",
            );
            format!("masters/{name}")
        })
        .collect()
}

/// Every file a build reads: the manifest, the sources, the artwork.
fn inputs(manifest: &Manifest) -> Vec<PathBuf> {
    let mut v = vec![manifest.path.clone()];
    v.extend(manifest.tracks.iter().map(|t| t.path.clone()));
    v.extend(manifest.release.artwork.clone());
    v.extend(
        manifest
            .cd
            .as_ref()
            .and_then(|c| c.hidden_track.as_ref())
            .map(|h| h.path.clone()),
    );
    v
}

/// report.json's output entries of `files` (path relative to `root`,
/// MD5), hashed in parallel; a file given with its MD5 is not read again.
fn hash_outputs(
    root: &Path,
    files: streaming::Written,
) -> Result<Vec<(String, String)>, BuildError> {
    files
        .into_par_iter()
        .map(|(f, md5)| Ok((relative(root, &f), md5.map_or_else(|| md5_file(&f), Ok)?)))
        .collect()
}

/// `path` relative to `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file below `dir`, sorted.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| BuildError::io(&d, e))? {
            let p = e.map_err(|e| BuildError::io(&d, e))?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn mkdir(p: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(p).map_err(|e| BuildError::io(p, e))
}
