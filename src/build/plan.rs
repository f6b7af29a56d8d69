//! `build --dry-run`: what a build would do, writing nothing. The output
//! folder is checked by the output rule as `build` checks it (a refused
//! folder is refused here too), the tracks are decoded, measured and
//! mastered exactly as `build` masters them (the same matching, its
//! renders included) into no sink, and the disc is laid out from the
//! masters' lengths at 44.1 kHz as `build` lays it out. The plan lists
//! the files and folders a build writes, each track's matching gain and
//! the disc, track by track in frames.

use std::path::PathBuf;

use serde::Serialize;

use super::{inputs, master_names, output, streaming, BuildError, BuildOptions, BuildProgress};
use crate::disc::layout::{DiscLayout, TrackCdReport};
use crate::manifest::model::Manifest;
use crate::master::{self, MasterError, Sink, TrackPlan};

/// What `build` would do with the same manifest and options.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub out_dir: PathBuf,
    /// Files the build writes, relative to the output folder; a folder
    /// whose files the writers name as they go ends in `/`.
    pub files: Vec<String>,
    pub tracks: Vec<PlannedTrack>,
    pub album: PlannedAlbum,
    pub cd: Option<PlannedDisc>,
    /// What the build would warn about (matching that cannot reach its
    /// target, artwork findings).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PlannedTrack {
    pub number: u32,
    pub title: String,
    /// The loudness gain matching applies (report.json's `master.gain_db`).
    pub gain_db: f64,
    pub wanted_lufs: Option<f64>,
    pub integrated_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub renders: usize,
}

#[derive(Debug, Serialize)]
pub struct PlannedAlbum {
    pub integrated_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub passes: usize,
}

#[derive(Debug, Serialize)]
pub struct PlannedDisc {
    /// The lead-out frame (75 frames a second).
    pub total_frames: u32,
    pub mcn: Option<String>,
    /// report.json's `tracks[].cd` layout fields, per track.
    pub tracks: Vec<TrackCdReport>,
}

/// Plans the build of `manifest` with `opts`, writing nothing.
pub fn dry_run(
    manifest: &Manifest,
    opts: &BuildOptions,
    progress: &dyn BuildProgress,
) -> Result<Plan, BuildError> {
    output::check(&opts.out_dir, &inputs(manifest), opts.force)?;
    let parts = opts.parts;
    let want_cd = parts.cd && manifest.cd.is_some();
    let mut warnings = Vec::new();
    let mut files: Vec<String> = Vec::new();
    if parts.streaming && !manifest.streaming.is_empty() {
        let (bundles, w) = streaming::plan(manifest, &mut Default::default())?;
        warnings.extend(w);
        for b in &bundles {
            files.push(format!("{}/", b.dir));
            files.extend(b.files.iter().map(|f| format!("{}/{f}", b.dir)));
        }
    }
    if parts.masters {
        files.extend(master_names(manifest));
    }
    if let Some(cd) = manifest.cd.as_ref().filter(|_| want_cd) {
        use crate::manifest::model::CdFormat;
        files.push("cd/album.wav".into());
        if cd.formats.contains(&CdFormat::Cue) {
            files.push("cd/album.cue".into());
        }
        if cd.formats.contains(&CdFormat::Toc) {
            files.push("cd/album.toc".into());
        }
        files.extend(["cd/pq-sheet.txt".into(), "cd/pq-sheet.html".into()]);
        if cd.formats.contains(&CdFormat::Ddp) {
            files.push("cd/ddp/".into());
        }
    }
    files.extend(["report.json".into(), "report.html".into()]);
    files.sort();

    let plans: Vec<TrackPlan> = manifest
        .tracks
        .iter()
        .map(|t| TrackPlan::new(t, &manifest.mastering))
        .collect::<Result<_, _>>()?;
    let no_sinks = |_: &TrackPlan| -> Result<Vec<Box<dyn Sink>>, MasterError> { Ok(Vec::new()) };
    let total: u64 = plans.iter().map(|p| p.info.frames.unwrap_or(0)).sum();
    progress.stage("measure and master (dry run)", total * 2);
    let advance = |n: u64| progress.advance(n);
    let result = master::master_album(&plans, &manifest.mastering, opts.jobs, &no_sinks, &advance)?;
    warnings.extend(result.warnings.iter().cloned());
    let cd = if want_cd {
        let samples: Vec<u64> = result
            .tracks
            .iter()
            .zip(&plans)
            .map(|(r, p)| crate::dsp::resample::resampled_len(r.frames, p.info.sample_rate, 44_100))
            .collect();
        let layout = DiscLayout::from_manifest(manifest, &samples)?;
        warnings.extend(layout.warnings.iter().map(|w| format!("the CD: {w}")));
        Some(PlannedDisc {
            total_frames: layout.total_frames,
            mcn: layout.mcn.clone(),
            tracks: layout.tracks.iter().map(|t| t.report()).collect(),
        })
    } else {
        None
    };
    Ok(Plan {
        out_dir: opts.out_dir.clone(),
        files,
        tracks: manifest
            .tracks
            .iter()
            .zip(&result.tracks)
            .map(|(t, r)| PlannedTrack {
                number: t.number,
                title: t.title.clone(),
                gain_db: r.gain_db,
                wanted_lufs: r.wanted_lufs,
                integrated_lufs: r.master.integrated_lufs,
                true_peak_dbtp: r.master.true_peak_dbtp,
                renders: r.renders,
            })
            .collect(),
        album: PlannedAlbum {
            integrated_lufs: result.album.integrated_lufs,
            true_peak_dbtp: result.album.true_peak_dbtp,
            passes: result.passes,
        },
        cd,
        warnings,
    })
}
