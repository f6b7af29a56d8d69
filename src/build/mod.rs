//! `build`: everything a manifest asks for, written as one transaction.
//!
//! The stages run in the pipeline's order: the sources are probed (by
//! manifest validation), measured after their chains and mastered to the
//! loudness target ([`crate::master`]); each render feeds the outputs'
//! sinks at once (the 24-bit master, the CD path); then the CD is laid out
//! and written, and report.json lists what was made with its checksums.
//! Everything goes into a staging folder that replaces the output folder
//! only when all of it succeeded.

pub mod output;
pub mod sinks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::analysis::Measurement;
use crate::dsp::DitherKind;
use crate::manifest::model::{Dither, Manifest};
use crate::master::{self, MasterError, Sink, TrackPlan};
use crate::report::checks::{self, Check, Stage, TrackFigures};
use output::{md5_file, safe_file_name, Staging};
use sinks::{CdSink, CdSlot, MasterWav};

/// Why a build failed. The output folder is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}: the output folder exists; pass --force to replace it")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Master(#[from] MasterError),
    #[error("{0}")]
    Invalid(String),
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
}

impl Parts {
    pub const ALL: Parts = Parts {
        masters: true,
        cd: true,
        streaming: true,
        report: true,
    };
}

pub struct BuildOptions {
    pub out_dir: PathBuf,
    pub parts: Parts,
    pub jobs: usize,
    pub force: bool,
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
}

/// Runs the build.
pub fn build(
    manifest: &Manifest,
    opts: &BuildOptions,
    progress: &dyn BuildProgress,
) -> Result<BuildSummary, BuildError> {
    let staging = Staging::new(&opts.out_dir, opts.force)?;
    let root = staging.dir().to_owned();
    let want_cd = opts.parts.cd && manifest.cd.is_some();
    if opts.parts.masters {
        mkdir(&root.join("masters"))?;
    }
    let work = root.join(".work");
    mkdir(&work)?;

    let plans: Vec<TrackPlan> = manifest
        .tracks
        .iter()
        .map(|t| TrackPlan::new(t, &manifest.mastering))
        .collect::<Result<_, _>>()?;
    let master_names: Vec<String> = manifest
        .tracks
        .iter()
        .map(|t| format!("masters/{:02} {}.wav", t.number, safe_file_name(&t.title)))
        .collect();
    let cd_slots: Vec<CdSlot> = plans.iter().map(|_| Arc::new(Mutex::new(None))).collect();
    let cd_dither = manifest.cd.as_ref().map_or(DitherKind::Tpdf, |c| match c.dither {
        Dither::Tpdf => DitherKind::Tpdf,
        Dither::Shaped => DitherKind::Shaped,
        Dither::None => DitherKind::None,
    });

    let make_sinks = |plan: &TrackPlan| -> Result<Vec<Box<dyn Sink>>, MasterError> {
        let i = (plan.number - 1) as usize;
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if opts.parts.masters {
            sinks.push(Box::new(MasterWav::create(
                &root.join(&master_names[i]),
                plan.number,
                plan.info.sample_rate,
            )?));
        }
        if want_cd {
            sinks.push(Box::new(CdSink::create(
                &work.join(format!("cd-{:02}.pcm", plan.number)),
                plan.number,
                plan.info.sample_rate,
                plan.limiter,
                cd_dither,
                cd_slots[i].clone(),
            )?));
        }
        Ok(sinks)
    };
    let total: u64 = plans
        .iter()
        .map(|p| p.info.frames.unwrap_or(0))
        .sum();
    progress.stage("mastering", total * 2);
    let advance = |n: u64| progress.advance(n);
    let result = master::master_album(&plans, &manifest.mastering, opts.jobs, &make_sinks, &advance)?;

    let mut outputs: Vec<(String, String)> = Vec::new();
    if opts.parts.masters {
        for name in &master_names {
            outputs.push((name.clone(), md5_file(&root.join(name))?));
        }
    }
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
    let checks = checks::run(
        &manifest.report,
        manifest.mastering.loudness_mode,
        Stage::Masters,
        &figures,
    );
    std::fs::remove_dir_all(&work).map_err(|e| BuildError::io(&work, e))?;

    outputs.sort();
    let report = report_json(manifest, &result, &checks, &outputs);
    let text = serde_json::to_string_pretty(&report).map_err(|e| BuildError::Invalid(e.to_string()))? + "\n";
    std::fs::write(root.join("report.json"), text).map_err(|e| BuildError::io(&root, e))?;
    staging.commit()?;
    Ok(BuildSummary {
        out_dir: opts.out_dir.clone(),
        outputs,
        warnings: result.warnings.clone(),
        checks,
        passes: result.passes,
        album_lufs: result.album.integrated_lufs,
        album_true_peak: result.album.true_peak_dbtp,
    })
}

fn mkdir(p: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(p).map_err(|e| BuildError::io(p, e))
}

fn r2(x: Option<f64>) -> serde_json::Value {
    x.filter(|v| v.is_finite())
        .map_or(serde_json::Value::Null, |v| json!((v * 100.0).round() / 100.0))
}

fn source_json(t: &crate::manifest::model::Track, m: &Measurement) -> serde_json::Value {
    json!({
        "path": t.file.display().to_string().replace('\\', "/"),
        "sample_rate": t.info.as_ref().map(|i| i.sample_rate),
        "bit_depth": t.info.as_ref().and_then(|i| i.bit_depth),
        "channels": t.info.as_ref().map(|i| i.channels),
        "duration_s": r2(t.info.as_ref().and_then(|i| Some(i.frames? as f64 / f64::from(i.sample_rate)))),
        "integrated_lufs": r2(m.integrated_lufs),
        "true_peak_dbtp": r2(m.true_peak_dbtp),
        "sample_peak_dbfs": r2(m.sample_peak_dbfs),
        "loudness_range_lu": r2(m.loudness_range_lu),
    })
}

/// report.json as cli.md specifies it (interim writer until the report
/// model lands).
fn report_json(
    manifest: &Manifest,
    result: &master::AlbumResult,
    checks: &[Check],
    outputs: &[(String, String)],
) -> serde_json::Value {
    let tracks: Vec<serde_json::Value> = manifest
        .tracks
        .iter()
        .zip(&result.tracks)
        .map(|(t, r)| {
            let m = &r.master;
            json!({
                "number": t.number,
                "title": t.title,
                "artist": t.artist,
                "isrc": t.isrc.as_ref().map(|i| i.as_str().to_owned()),
                "source": source_json(t, &r.pre),
                "master": {
                    "gain_db": r2(Some(r.gain_db)),
                    "integrated_lufs": r2(m.integrated_lufs),
                    "true_peak_dbtp": r2(m.true_peak_dbtp),
                    "sample_peak_dbfs": r2(m.sample_peak_dbfs),
                    "loudness_range_lu": r2(m.loudness_range_lu),
                    "short_term_max_lufs": r2(m.short_term_max_lufs),
                    "plr_db": r2(m.true_peak_dbtp.zip(m.integrated_lufs).map(|(p, l)| p - l)),
                    "duration_s": r2(Some(m.duration_s)),
                },
            })
        })
        .collect();
    let duration: f64 = result.tracks.iter().map(|t| t.master.duration_s).sum();
    json!({
        "glassmaster_version": env!("CARGO_PKG_VERSION"),
        "manifest": manifest.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "release": {
            "title": manifest.release.title,
            "artist": manifest.release.artist,
            "upc": manifest.release.upc.as_ref().map(|u| u.ean13().to_owned()),
        },
        "album": {
            "target_lufs": manifest.mastering.target_lufs,
            "loudness_mode": manifest.mastering.loudness_mode.as_str(),
            "integrated_lufs": r2(result.album.integrated_lufs),
            "true_peak_dbtp": r2(result.album.true_peak_dbtp),
            "loudness_range_lu": r2(result.album.loudness_range_lu),
            "loudness_spread_lu": r2(result.album.loudness_spread_lu),
            "duration_s": r2(Some(duration)),
        },
        "tracks": tracks,
        "checks": checks,
        "outputs": outputs.iter().map(|(p, m)| json!({"path": p, "md5": m})).collect::<Vec<_>>(),
    })
}
