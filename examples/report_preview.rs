//! Previews report.html on real audio before `build` writes one: measures
//! the files given (in parallel, as `analyze` does), treats each as both
//! source and master (gain 0), lays them out on a CD with 2 s gaps, runs
//! the consistency checks on them and writes report.json and report.html.
//! The normalisation rows are illustrative (-14 LUFS down only, -14 LUFS
//! both ways, -16 LUFS for the album as a whole), not any store's rules.
//!
//! Usage: report_preview OUT_DIR FILE...

use std::path::PathBuf;
use std::process::ExitCode;

use glassmaster::analysis::{album_loudness, analyze_files};
use glassmaster::manifest::model::{LoudnessMode, ReportThresholds};
use glassmaster::report::checks::{self, Stage, TrackFigures};
use glassmaster::report::model::{
    AlbumReport, CdReport, MasterFigures, NormalisationRow, Playback, ReleaseInfo, Report,
    SourceFigures, TrackCd, TrackReport,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: report_preview OUT_DIR FILE...");
        return ExitCode::from(2);
    }
    let out = PathBuf::from(&args[0]);
    let paths: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let batch = analyze_files(&paths, jobs, |_| {});
    let files: Vec<_> = batch.files.iter().filter_map(|f| f.as_ref().ok()).collect();
    if files.len() != paths.len() {
        eprintln!("error: some files could not be read");
        return ExitCode::from(1);
    }
    let thresholds = ReportThresholds::default();
    let titles: Vec<String> = files
        .iter()
        .map(|f| {
            f.path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
        })
        .collect();
    let figures: Vec<TrackFigures<'_>> = files
        .iter()
        .zip(&titles)
        .enumerate()
        .map(|(i, (f, t))| TrackFigures {
            number: i as u32 + 1,
            title: t,
            m: &f.measurement,
        })
        .collect();
    let found = checks::run(&thresholds, LoudnessMode::Album, Stage::Masters, &figures);
    let album = album_loudness(files.iter().map(|f| &f.state));
    let mut frame = 0u64;
    let mut tracks = Vec::new();
    let mut normalisation = Vec::new();
    for (i, (f, title)) in files.iter().zip(&titles).enumerate() {
        let number = i as u32 + 1;
        let m = &f.measurement;
        frame += 150;
        let length = (m.duration_s * 75.0).ceil() as u64;
        tracks.push(TrackReport {
            number,
            title: title.clone(),
            artist: "Preview".into(),
            isrc: None,
            source: SourceFigures::from_measurement(f.path.display().to_string(), m),
            master: MasterFigures::from_measurement(0.0, m),
            tonal_match: None,
            restoration: None,
            translation: None,
            codecs: Vec::new(),
            cd: Some(TrackCd {
                start_frame: frame,
                pregap_frames: 150,
                length_frames: length,
                indexes: vec![frame],
                true_peak_dbtp: None,
                reconstructed_peak_dbfs: None,
            }),
            disc: 1,
        });
        frame += length;
        if let Some(l) = m.integrated_lufs {
            normalisation.push(NormalisationRow {
                profile: "down-only -14".into(),
                track: Some(number),
                gain_db: (-14.0 - l).min(0.0),
                playback: Playback::Album,
            });
            normalisation.push(NormalisationRow {
                profile: "both ways -14".into(),
                track: Some(number),
                gain_db: -14.0 - l,
                playback: Playback::Album,
            });
        }
    }
    if let Some(l) = album.integrated_lufs {
        normalisation.push(NormalisationRow {
            profile: "album -16".into(),
            track: None,
            gain_db: -16.0 - l,
            playback: Playback::Album,
        });
    }
    let report = Report {
        glassmaster_version: env!("CARGO_PKG_VERSION").into(),
        manifest: "(preview)".into(),
        release: ReleaseInfo {
            title: "Report preview".into(),
            artist: "Preview".into(),
            upc: None,
        },
        album: AlbumReport {
            target_lufs: -14.0,
            loudness_mode: LoudnessMode::Off,
            integrated_lufs: album.integrated_lufs,
            true_peak_dbtp: album.true_peak_dbtp,
            loudness_range_lu: album.loudness_range_lu,
            loudness_spread_lu: album.loudness_spread_lu,
            duration_s: files.iter().map(|f| f.measurement.duration_s).sum(),
            true_peak_ceiling_dbtp: -1.0,
        },
        tracks,
        cd: Some(CdReport {
            total_frames: frame,
            mcn: None,
        }),
        checks: found.into_iter().map(Into::into).collect(),
        outputs: Vec::new(),
        thresholds,
        normalisation,
        bundles: Vec::new(),
        vinyl: None,
        cassette: None,
        discs: Vec::new(),
        timings: None,
    };
    let write = || -> Result<(), String> {
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let json = report.to_json().map_err(|e| e.to_string())?;
        std::fs::write(out.join("report.json"), json).map_err(|e| e.to_string())?;
        let html = glassmaster::report::render_html(&report).map_err(|e| e.to_string())?;
        std::fs::write(out.join("report.html"), &html).map_err(|e| e.to_string())?;
        eprintln!("wrote {}/report.html ({} bytes)", out.display(), html.len());
        Ok(())
    };
    match write() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
