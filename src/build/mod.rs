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
    let cd_dither = manifest
        .cd
        .as_ref()
        .map_or(DitherKind::Tpdf, |c| match c.dither {
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
    let total: u64 = plans.iter().map(|p| p.info.frames.unwrap_or(0)).sum();
    progress.stage("mastering", total * 2);
    let advance = |n: u64| progress.advance(n);
    let result = master::master_album(
        &plans,
        &manifest.mastering,
        opts.jobs,
        &make_sinks,
        &advance,
    )?;

    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut warnings = result.warnings.clone();
    if opts.parts.masters {
        for name in &master_names {
            outputs.push((name.clone(), md5_file(&root.join(name))?));
        }
    }
    let mut cd_report = None;
    if want_cd {
        let segments: Vec<sinks::CdSegment> = cd_slots
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).take())
            .collect::<Option<_>>()
            .ok_or_else(|| BuildError::Invalid("a track's CD audio was not made".into()))?;
        let (layout, cd_warnings) = write_cd(manifest, &root, &segments)?;
        warnings.extend(cd_warnings);
        for f in walk(&root.join("cd"))? {
            let rel = f
                .strip_prefix(&root)
                .unwrap_or(&f)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            outputs.push((rel, md5_file(&f)?));
        }
        cd_report = Some((layout, segments));
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
    let report = report_json(manifest, &result, &checks, &outputs, cd_report.as_ref());
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| BuildError::Invalid(e.to_string()))?
        + "\n";
    std::fs::write(root.join("report.json"), text).map_err(|e| BuildError::io(&root, e))?;
    staging.commit()?;
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

/// Lays out the disc from the tracks' CD audio and writes cd/: the image,
/// then the CUE, TOC, PQ sheets and DDP fileset the manifest asks for.
fn write_cd(
    manifest: &Manifest,
    root: &Path,
    segments: &[sinks::CdSegment],
) -> Result<(crate::disc::layout::DiscLayout, Vec<String>), BuildError> {
    use std::io::{Read, Write};
    let samples: Vec<u64> = segments.iter().map(|s| s.samples).collect();
    let layout = crate::disc::layout::DiscLayout::from_manifest(manifest, &samples)?;
    let cd_dir = root.join("cd");
    mkdir(&cd_dir)?;
    let wav = cd_dir.join("album.wav");
    let data_bytes = layout.image_samples() * 4;
    let header_len = u32::try_from(data_bytes)
        .map_err(|_| BuildError::Invalid("the CD image is over 4 GiB".into()))?;
    let file = std::fs::File::create(&wav).map_err(|e| BuildError::io(&wav, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let io = |e| BuildError::io(&wav, e);
    out.write_all(&crate::disc::ddp::wav_header(header_len))
        .map_err(io)?;
    let zeros = vec![0u8; 1 << 16];
    let write_zeros =
        |out: &mut std::io::BufWriter<std::fs::File>, samples: u64| -> Result<(), BuildError> {
            let mut left = samples * 4;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                out.write_all(&zeros[..n])
                    .map_err(|e| BuildError::io(&wav, e))?;
                left -= n as u64;
            }
            Ok(())
        };
    let mut buf = vec![0u8; 1 << 20];
    for (t, seg) in layout.tracks.iter().zip(segments) {
        write_zeros(&mut out, t.image.silence_before)?;
        let mut f = std::fs::File::open(&seg.path).map_err(|e| BuildError::io(&seg.path, e))?;
        loop {
            let n = f.read(&mut buf).map_err(|e| BuildError::io(&seg.path, e))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(io)?;
        }
    }
    write_zeros(&mut out, layout.tail_silence)?;
    out.flush().map_err(io)?;
    drop(out);
    let cd = manifest
        .cd
        .as_ref()
        .expect("a CD is only written with a cd section");
    let authored = crate::disc::author::author(
        &cd_dir,
        &layout,
        &crate::disc::author::AuthorOptions {
            formats: cd.formats.clone(),
            title: manifest.release.title.clone(),
            artist: manifest.release.artist.clone(),
            ..Default::default()
        },
    )?;
    let warnings = authored
        .warnings
        .iter()
        .map(|w| format!("the CD: {w}"))
        .collect();
    Ok((layout, warnings))
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

fn r2(x: Option<f64>) -> serde_json::Value {
    x.filter(|v| v.is_finite())
        .map_or(serde_json::Value::Null, |v| {
            json!((v * 100.0).round() / 100.0)
        })
}

fn source_json(t: &crate::manifest::model::Track, m: &Measurement) -> serde_json::Value {
    json!({
        "path": t.file.display().to_string().replace('\\', "/"),
        "sample_rate": m.sample_rate,
        "bit_depth": m.bit_depth,
        "channels": m.channels,
        "duration_s": r2(Some(m.duration_s)),
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
    cd: Option<&(crate::disc::layout::DiscLayout, Vec<sinks::CdSegment>)>,
) -> serde_json::Value {
    let tracks: Vec<serde_json::Value> = manifest
        .tracks
        .iter()
        .zip(&result.tracks)
        .enumerate()
        .map(|(i, (t, r))| {
            let m = &r.master;
            let mut v = json!({
                "number": t.number,
                "title": t.title,
                "artist": t.artist,
                "isrc": t.isrc.as_ref().map(|i| i.as_str().to_owned()),
                "source": source_json(t, &r.source),
                "master": {
                    "gain_db": r2(Some(r.gain_db)),
                    "integrated_lufs": r2(m.integrated_lufs),
                    "true_peak_dbtp": r2(m.true_peak_dbtp),
                    "sample_peak_dbfs": r2(m.sample_peak_dbfs),
                    "loudness_range_lu": r2(m.loudness_range_lu),
                    "short_term_max_lufs": r2(m.short_term_max_lufs),
                    "plr_db": r2(m.true_peak_dbtp.zip(m.integrated_lufs).map(|(p, l)| p - l)),
                    "duration_s": r2(Some(m.duration_s)),
                    "chain_lufs": r2(r.pre.integrated_lufs),
                    "wanted_lufs": r2(r.wanted_lufs),
                    "renders": r.renders,
                },
            });
            if let Some((layout, segs)) = cd {
                let mut c = serde_json::to_value(layout.tracks[i].report()).unwrap_or_default();
                c["true_peak_dbtp"] = r2(segs[i].measurement.true_peak_dbtp);
                v["cd"] = c;
            }
            v
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
        "cd": cd.map(|(layout, _)| serde_json::to_value(layout.report()).unwrap_or_default()),
        "checks": checks,
        "outputs": outputs.iter().map(|(p, m)| json!({"path": p, "md5": m})).collect::<Vec<_>>(),
    })
}
