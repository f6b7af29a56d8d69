//! `verify`: re-reads a finished build folder and checks every output
//! against the build's own record, report.json, and against the manifest
//! beside the folder when it is there. Nothing is trusted that can be
//! measured again:
//!
//! - [`files`]: every output listed with its MD5 is there and unchanged,
//!   and nothing unlisted sits in the folder;
//! - [`cd`]: `cd/album.wav` is 16-bit 44.1 kHz stereo PCM of the disc's
//!   length; the DDP fileset passes its own checks (CHECKSUM.MD5, sizes,
//!   lead-out), its IMAGE.DAT holds the very bytes of album.wav's data, and
//!   its PQ table and the CUE sheet place every track, index, ISRC and the
//!   MCN where report.json says;
//! - [`audio`]: every master and delivered file is decoded and measured
//!   again: format (codec, rate, bits, plain PCM, MP3 bit rate), loudness
//!   and true peak within [`LOUDNESS_TOLERANCE_LU`] / [`PEAK_TOLERANCE_DB`]
//!   of report.json, tags (title, artist, album, track number, ISRC,
//!   barcode) and the embedded cover against the bundle's `cover.jpg`;
//! - [`against_manifest`]: the release, tracks, codes and bundles in
//!   report.json are still those of the manifest.
//!
//! Each difference is a [`Problem`] naming the file (relative to the
//! build folder) and the field. The stage writes nothing.

mod audio;
mod cd;
mod files;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::manifest::Manifest;
use crate::report::model::Report;

/// Largest difference in integrated loudness accepted, LU.
pub const LOUDNESS_TOLERANCE_LU: f64 = 0.1;
/// Largest difference in true or sample peak accepted, dB.
pub const PEAK_TOLERANCE_DB: f64 = 0.1;
/// report.json rounds to 2 decimals: half of the last place is allowed on
/// top of the tolerances.
const ROUNDING: f64 = 0.005;

/// One difference between the folder and its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Relative to the build folder, `/`-separated (or the manifest's path).
    pub file: String,
    /// What differs: `md5`, `integrated_lufs`, `ISRC tag`, `INDEX 01`, ...
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.message)
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    pub problems: Vec<Problem>,
    /// Outputs whose checksum was compared.
    pub files_checked: usize,
    /// Audio files decoded and measured again.
    pub audio_checked: usize,
    /// The manifest compared with report.json, when one was found.
    pub manifest: Option<PathBuf>,
    /// What could not be checked, and why.
    pub notes: Vec<String>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Why `verify` could not start.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{}: {reason}", path.display())]
    Report { path: PathBuf, reason: String },
}

pub(crate) fn problem(
    file: impl Into<String>,
    field: impl Into<String>,
    message: impl Into<String>,
) -> Problem {
    Problem {
        file: file.into(),
        field: field.into(),
        message: message.into(),
    }
}

/// Reads `DIR/report.json` and checks the folder against it. `manifest`:
/// the manifest to compare with; by default the one report.json names,
/// beside the folder (where `build` puts `build/`). `jobs`: audio files
/// measured at once.
pub fn verify(
    dir: &Path,
    manifest: Option<&Path>,
    jobs: usize,
) -> Result<Verification, VerifyError> {
    let report_path = dir.join("report.json");
    let text = std::fs::read_to_string(&report_path).map_err(|e| VerifyError::Report {
        path: report_path.clone(),
        reason: format!("cannot be read ({e}); is this a build folder?"),
    })?;
    let report = Report::from_json(&text).map_err(|e| VerifyError::Report {
        path: report_path.clone(),
        reason: format!("is not a glassmaster report: {e}"),
    })?;
    let mut v = Verification::default();
    files::check(dir, &report, &mut v);
    cd::check(dir, &report, &mut v);
    audio::check(dir, &report, jobs, &mut v);

    let manifest_path = manifest.map(Path::to_path_buf).or_else(|| {
        let beside = dir.canonicalize().ok()?.parent()?.join(&report.manifest);
        (!report.manifest.is_empty() && beside.is_file()).then_some(beside)
    });
    match manifest_path {
        Some(p) => {
            let loaded = crate::manifest::load(&p, &crate::audio::probe);
            let shown = p.display().to_string();
            match loaded.manifest {
                Some(m) if !loaded.has_errors() => {
                    v.problems.extend(against_manifest(&report, &m, &shown));
                }
                _ => {
                    let first = loaded
                        .diagnostics
                        .iter()
                        .find(|d| d.is_error())
                        .map_or_else(String::new, |d| format!(": {}", d.message));
                    v.problems.push(problem(
                        shown,
                        "manifest",
                        format!("does not validate{first}"),
                    ));
                }
            }
            v.manifest = Some(p);
        }
        None => v.notes.push(format!(
            "the manifest `{}` is not beside the folder: report.json was checked against the files only (give it with --manifest)",
            report.manifest
        )),
    }
    Ok(v)
}

/// What report.json records of the release against what the manifest asks
/// for now: a build that no longer matches its manifest is stale.
pub fn against_manifest(report: &Report, m: &Manifest, shown: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut differ = |field: String, ours: String, theirs: String| {
        if ours != theirs {
            out.push(problem(
                "report.json",
                field,
                format!("is {ours:?}, the manifest {shown} says {theirs:?}"),
            ));
        }
    };
    differ(
        "release.title".into(),
        report.release.title.clone(),
        m.release.title.clone(),
    );
    differ(
        "release.artist".into(),
        report.release.artist.clone(),
        m.release.artist.clone(),
    );
    differ(
        "release.upc".into(),
        report.release.upc.clone().unwrap_or_default(),
        m.release
            .upc
            .as_ref()
            .map(|u| u.ean13().to_owned())
            .unwrap_or_default(),
    );
    differ(
        "tracks".into(),
        report.tracks.len().to_string(),
        m.tracks.len().to_string(),
    );
    for (r, t) in report.tracks.iter().zip(&m.tracks) {
        let n = t.number;
        differ(
            format!("tracks[{n}].title"),
            r.title.clone(),
            t.title.clone(),
        );
        differ(
            format!("tracks[{n}].artist"),
            r.artist.clone(),
            t.artist.clone(),
        );
        differ(
            format!("tracks[{n}].isrc"),
            r.isrc.clone().unwrap_or_default(),
            t.isrc
                .as_ref()
                .map(|i| i.as_str().to_owned())
                .unwrap_or_default(),
        );
    }
    if !report.bundles.is_empty() {
        let ours: Vec<&str> = report.bundles.iter().map(|b| b.name.as_str()).collect();
        let theirs: Vec<&str> = m.streaming.iter().map(|b| b.name.as_str()).collect();
        differ("bundles".into(), ours.join(", "), theirs.join(", "));
    }
    out
}

/// `|measured − recorded|` within `tol` (and the rounding of report.json);
/// `None` on both sides agrees.
pub(crate) fn close(measured: Option<f64>, recorded: Option<f64>, tol: f64) -> bool {
    match (measured, recorded) {
        (Some(a), Some(b)) => (a - b).abs() <= tol + ROUNDING,
        (None, None) => true,
        _ => false,
    }
}

pub(crate) fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "none".into(), |v| format!("{v:.2}"))
}

/// A recorded text for a message: `"X"`, or `none`.
pub(crate) fn quoted(x: Option<&str>) -> String {
    x.map_or_else(|| "none".into(), |v| format!("{v:?}"))
}
