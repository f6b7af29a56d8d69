//! `verify`: re-reads a finished build folder and checks every output
//! against the build's own record, report.json, and against the manifest
//! beside the folder when it is there. Nothing is trusted that can be
//! measured again:
//!
//! - [`files`]: every output listed with its MD5 is there and unchanged,
//!   nothing unlisted sits in the folder, and each source still has the
//!   MD5 the build recorded (a mix changed since is named; sources that
//!   cannot be reached are a warning);
//! - [`cd`]: `cd/album.wav` is 16-bit 44.1 kHz stereo PCM of the disc's
//!   length; the DDP fileset passes its own checks (CHECKSUM.MD5, sizes,
//!   lead-out), its IMAGE.DAT holds the very bytes of album.wav's data, and
//!   its PQ table, the CUE sheet and the TOC ([`toc`]) place every track,
//!   index, ISRC and the MCN where report.json says;
//! - [`audio`]: every master and delivered file is decoded and measured
//!   again: format (codec, rate, bits, plain PCM, MP3 bit rate), loudness
//!   and true peak within [`LOUDNESS_TOLERANCE_LU`] / [`PEAK_TOLERANCE_DB`]
//!   of report.json, every delivered file's decoded length against its
//!   master's (within one sample at the delivered rate), tags (title,
//!   artist, album, track number, ISRC, barcode) and the embedded cover
//!   against the bundle's `cover.jpg`;
//! - [`ddex`]: each bundle's DDEX message names the bundle's files with
//!   their MD5s, and the ISRCs, titles, durations and UPC of report.json;
//! - [`against_manifest`]: the release, tracks, codes and bundles in
//!   report.json are still those of the manifest.
//!
//! Each difference is a [`Problem`] naming the file (relative to the
//! build folder) and the field. The stage writes nothing, and reads only
//! inside the build folder and the manifest's folder ([`scope`]): a name
//! in report.json that leads elsewhere is a problem naming its field, and
//! is not opened. No message quotes a file that could not be parsed
//! beyond the word at fault.

mod audio;
mod cd;
mod ddex;
mod files;
mod length;
mod scope;
mod toc;

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
/// The largest report.json read; an hour-long album's is under 2 MB.
const MAX_REPORT_BYTES: u64 = 64 << 20;

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
    /// What could not be checked and should have been: sources out of
    /// reach. Not a failure.
    pub warnings: Vec<String>,
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
/// beside the folder (where `build` puts `build/`). The manifest's folder
/// (that one's, or the one beside the build folder) is where the sources
/// are looked for. `jobs`: audio files measured at once.
pub fn verify(
    dir: &Path,
    manifest: Option<&Path>,
    jobs: usize,
) -> Result<Verification, VerifyError> {
    verify_with(dir, manifest, jobs, &|_, _| {})
}

/// [`verify`], telling `progress(done, total)` as each audio file of the
/// build has been measured again (from worker threads).
pub fn verify_with(
    dir: &Path,
    manifest: Option<&Path>,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Verification, VerifyError> {
    let report_path = dir.join("report.json");
    let fail = |reason: String| VerifyError::Report {
        path: report_path.clone(),
        reason,
    };
    let beside = dir
        .canonicalize()
        .map_err(|e| fail(format!("cannot be read ({e}); is this a build folder?")))?
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let manifest_dir = manifest
        .and_then(|m| m.parent())
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .and_then(|p| p.canonicalize().ok())
        .unwrap_or(beside);
    let scope = scope::Scope::new(dir, &manifest_dir)
        .map_err(|e| fail(format!("cannot be read ({e}); is this a build folder?")))?;
    let report = read_report(&scope).map_err(fail)?;
    let mut v = Verification::default();
    files::check(&scope, &report, &mut v);
    files::sources(&scope, &report, &mut v);
    cd::check(&scope, &report, &mut v);
    audio::check(&scope, &report, jobs, progress, &mut v);
    ddex::check(&scope, &report, &mut v);

    let manifest_path = match manifest {
        Some(m) => Some(m.to_path_buf()),
        None if report.manifest.is_empty() => None,
        None => match scope.manifest_file(&report.manifest, "manifest") {
            Ok(p) if p.is_file() => Some(p),
            Ok(_) => None,
            Err(p) => {
                v.problems.push(p);
                return Ok(v);
            }
        },
    };
    match manifest_path {
        Some(p) => {
            let loaded = crate::manifest::load(&p, &crate::audio::probe);
            let shown = p.display().to_string();
            match loaded.manifest {
                Some(m) if !loaded.has_errors() => {
                    v.problems.extend(against_manifest(&report, &m, &shown));
                }
                _ => {
                    // Where, not what: the file may not be a manifest at
                    // all, and its text is not ours to print.
                    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
                    let at = errors
                        .first()
                        .and_then(|d| d.pos)
                        .map_or_else(String::new, |p| format!(", the first at line {}:{}", p.line, p.column));
                    v.problems.push(problem(
                        shown.clone(),
                        "manifest",
                        format!(
                            "does not validate ({} error{}{at}): `glassmaster check {shown}` shows them",
                            errors.len(),
                            if errors.len() == 1 { "" } else { "s" }
                        ),
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

/// report.json, read only when it is a file of the build folder; the
/// error says what is wrong and where, never what the file holds.
fn read_report(scope: &scope::Scope) -> Result<Report, String> {
    use std::io::Read;
    let path = scope
        .build_file("report.json", "report.json")
        .map_err(|p| p.message)?;
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot be read ({e}); is this a build folder?"))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(format!(
            "is over {} MiB: not a glassmaster report",
            MAX_REPORT_BYTES >> 20
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| "is not a glassmaster report: not UTF-8 text".to_owned())?;
    Report::from_json(&text).map_err(|e| {
        use serde_json::error::Category;
        let at = format!("line {}, column {}", e.line(), e.column());
        let what = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => format!("not JSON (at {at})"),
            // serde's own words quote the value found: only the schema's
            // (a missing field's name) are repeated.
            Category::Data if e.to_string().starts_with("missing field `") => e.to_string(),
            Category::Data => format!("the value at {at} is not what report.json holds there"),
        };
        format!("is not a glassmaster report: {what}")
    })
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
            format!("tracks[{n}].source.path"),
            r.source.path.clone(),
            t.file.display().to_string().replace('\\', "/"),
        );
        differ(
            format!("tracks[{n}].disc"),
            r.disc.to_string(),
            t.disc.to_string(),
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
