//! Measurement: BS.1770-4 / EBU R128 loudness (integrated, LRA, momentary
//! and short-term max), 4x true peak, sample peak, DC offset, stereo
//! correlation, head and tail silence and clipping, per file and for an
//! album whose blocks are gated together.
//!
//! [`Meter`] works on blocks and knows nothing of files; [`analyze_file`]
//! and [`analyze_files`] decode and meter in one pass (files in parallel),
//! keeping each file's [`LoudnessState`] so that [`album_loudness`] gates
//! the whole album without a second decode.
//!
//! Integrated loudness and loudness range are gated here, not by
//! ebur128 (which does the K-weighting and the peaks): exact to 0.01 LU in
//! bounded memory, the range from short-term values every 100 ms as EBU
//! Tech 3342 (2016) asks. On real music they agree with ffmpeg's
//! `ebur128` filter to within its printed precision.
//!
//! Figures that are minus infinity (the loudness or peak of digital
//! silence, the DC offset of a signal without any) are `None`, `null` in
//! JSON. JSON rounds every figure to 2 decimals (see [`round2`]); the
//! structs keep full precision.
//!
//! A mono source is metered as it plays and as glassmaster delivers it:
//! on both channels (dual mono), which reads 3.01 LU above a one-channel
//! measurement (ffmpeg's `ebur128=dualmono=true` agrees with us).

mod album;
mod gating;
pub mod ltas;
mod meter;
pub mod restoration;
pub mod series;
pub mod spectrum;
pub mod translation;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::audio::{AudioError, AudioInfo, Block, Decoder, BLOCK_FRAMES};

pub use album::{album_loudness, AlbumFigures};
pub use meter::{Meter, TruePeak, CLIP_RUN, SILENCE_THRESHOLD_DBFS};
pub use series::LoudnessSeries;
pub use spectrum::{album_balance, AlbumBalance, Spectrum, BANDS, BAND_CENTRES_HZ};

/// Why a meter could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(
        "sample rate {rate} Hz cannot be metered ({reason}); the meter takes 16 Hz to 2.8 MHz"
    )]
    SampleRate { rate: u32, reason: String },
}

/// The figures of one programme (a file or a processed track). Field names
/// are those of `analyze --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub sample_rate: u32,
    /// Bits per sample of the source; `None` for lossy codecs and for
    /// processed audio.
    pub bit_depth: Option<u16>,
    /// Channels of the source (1 or 2); mono is metered as dual mono.
    pub channels: u16,
    #[serde(serialize_with = "round2")]
    pub duration_s: f64,
    /// Gated integrated loudness (BS.1770-4), LUFS; `None` when nothing
    /// passes the -70 LUFS gate (silence, or shorter than 400 ms).
    #[serde(serialize_with = "round2_opt")]
    pub integrated_lufs: Option<f64>,
    /// EBU Tech 3342 (2016) loudness range, LU, from short-term values
    /// every 100 ms; `None` without any 3 s window above the gates.
    #[serde(serialize_with = "round2_opt")]
    pub loudness_range_lu: Option<f64>,
    /// Highest 3 s loudness, taken every 100 ms.
    #[serde(serialize_with = "round2_opt")]
    pub short_term_max_lufs: Option<f64>,
    /// Highest 400 ms loudness, taken every 100 ms.
    #[serde(serialize_with = "round2_opt")]
    pub momentary_max_lufs: Option<f64>,
    /// 4x oversampled peak (2x from 96 kHz), dBTP, of both channels.
    #[serde(serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub sample_peak_dbfs: Option<f64>,
    /// The peak of the band-limited reconstruction an ideal DAC makes
    /// (8x, exact to 0.47 fs: [`crate::dsp::oversample`]), dBFS; only
    /// from a meter made [`Meter::with_reconstruction`] (masters and the
    /// CD image), left out of `analyze --json` otherwise.
    #[serde(serialize_with = "round2_opt", skip_serializing_if = "Option::is_none")]
    pub reconstructed_peak_dbfs: Option<f64>,
    /// |mean| of each channel in dBFS, [left, right].
    #[serde(serialize_with = "round2_pair")]
    pub dc_offset_dbfs: [Option<f64>; 2],
    /// Σ(LR)/√(ΣL²ΣR²); 1.0 for mono and for silence.
    #[serde(serialize_with = "round2")]
    pub correlation: f64,
    /// Time before the first sample above -60 dBFS on either channel (all
    /// of it when nothing is).
    #[serde(serialize_with = "round2")]
    pub head_silence_s: f64,
    /// Time after the last sample above -60 dBFS.
    #[serde(serialize_with = "round2")]
    pub tail_silence_s: f64,
    /// Samples (both channels counted) in runs of 3 or more consecutive
    /// full-scale samples on one channel.
    pub clipped_samples: u64,
    /// For the report, not in `analyze --json`: the short-term loudness
    /// once a second (fewer past 68 minutes), bounded.
    #[serde(skip)]
    pub short_term_series: LoudnessSeries,
    /// For the report, not in `analyze --json`: the 1/3-octave spectrum;
    /// `None` from a meter made [`Meter::without_spectrum`].
    #[serde(skip)]
    pub spectrum: Option<Spectrum>,
    /// What the restoration detectors found (clicks, clipped runs,
    /// dropouts, hum, noise floor, polarity); only from a meter made
    /// [`Meter::with_restoration`], and only once it is finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restoration: Option<restoration::Restoration>,
    /// For the report and `check`, not in `analyze --json`: the playback
    /// translation figures; only from a meter made
    /// [`Meter::with_translation`].
    #[serde(skip)]
    pub translation: Option<translation::Translation>,
}

impl Measurement {
    /// The peak the ceiling is judged by: the larger of the BS.1770 true
    /// peak and, where it was measured, the ideal reconstruction's peak.
    pub fn ceiling_peak_db(&self) -> Option<f64> {
        stricter_peak(self.true_peak_dbtp, self.reconstructed_peak_dbfs)
    }
}

/// The larger of a BS.1770 true peak and a reconstruction peak, either
/// of which may be missing.
pub fn stricter_peak(true_peak: Option<f64>, reconstructed: Option<f64>) -> Option<f64> {
    match (true_peak, reconstructed) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// What album gating needs of a metered programme: kept after
/// [`Meter::finish`]: the gating histograms of its 400 ms and 3 s blocks
/// (about 200 KB, whatever the length).
pub struct LoudnessState {
    pub integrated_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub frames: u64,
    pub sample_rate: u32,
    blocks: gating::GateHistogram,
    short_term: gating::GateHistogram,
}

impl std::fmt::Debug for LoudnessState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoudnessState")
            .field("integrated_lufs", &self.integrated_lufs)
            .field("true_peak_dbtp", &self.true_peak_dbtp)
            .field("frames", &self.frames)
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

/// One analysed file. Serialises as `analyze --json` prints a file:
/// `path` then the [`Measurement`] fields.
#[derive(Debug, Serialize)]
pub struct FileAnalysis {
    #[serde(serialize_with = "path_lossy")]
    pub path: PathBuf,
    #[serde(skip)]
    pub info: AudioInfo,
    #[serde(flatten)]
    pub measurement: Measurement,
    #[serde(skip)]
    pub state: LoudnessState,
}

/// Every file's result, in the order given, and the album's figures over
/// the files that could be read (`None` when none could).
#[derive(Debug)]
pub struct BatchAnalysis {
    pub files: Vec<Result<FileAnalysis, AudioError>>,
    pub album: Option<AlbumFigures>,
}

/// Decodes and meters one file in a single pass.
pub fn analyze_file(path: &Path) -> Result<FileAnalysis, AudioError> {
    analyze_file_with(path, &mut |_| {})
}

/// [`analyze_file`], calling `progress(frames)` with the frames decoded
/// since its last call, every few blocks and at the end.
pub fn analyze_file_with(
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<FileAnalysis, AudioError> {
    analyze_file_with_extras(path, Extras::default(), progress)
}

/// What a file's meter measures beyond the figures every meter takes, in
/// the same pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Extras {
    /// Run the restoration detectors, reporting dropouts of this many
    /// milliseconds or more (see [`restoration::Params`]).
    pub min_dropout_ms: Option<f64>,
    /// Measure playback translation ([`Measurement::translation`]).
    pub translation: bool,
}

/// Decodes one file and meters only its loudness, true and sample peak
/// and duration ([`Meter::levels_only`]): the figures a delivered file's
/// sheet and `verify` read, the same values as [`analyze_file`]'s, at a
/// fraction of its time. The other figures are empty.
pub fn analyze_file_levels(path: &Path) -> Result<FileAnalysis, AudioError> {
    analyze_with(
        path,
        |info| Ok(Meter::for_source(info)?.levels_only()),
        &mut |_| {},
    )
}

/// [`analyze_file_with`], with the `extras` in the same pass.
pub fn analyze_file_with_extras(
    path: &Path,
    extras: Extras,
    progress: &mut dyn FnMut(u64),
) -> Result<FileAnalysis, AudioError> {
    let meter = |info: &AudioInfo| {
        let mut m = Meter::for_source(info)?;
        if let Some(ms) = extras.min_dropout_ms {
            m = m.with_restoration(restoration::Params::for_source(info, ms));
        }
        if extras.translation {
            m = m.with_translation();
        }
        Ok(m)
    };
    analyze_with(path, meter, progress)
}

/// Decodes `path` into the meter `meter` makes for it, in one pass.
fn analyze_with(
    path: &Path,
    meter: impl FnOnce(&AudioInfo) -> Result<Meter, AnalysisError>,
    progress: &mut dyn FnMut(u64),
) -> Result<FileAnalysis, AudioError> {
    let mut decoder = Decoder::open(path)?;
    let info = decoder.info().clone();
    let mut meter = meter(&info).map_err(|e| AudioError::Unsupported {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    let mut unreported = 0u64;
    const REPORT_EVERY: u64 = 16 * BLOCK_FRAMES as u64;
    loop {
        let n = decoder.read_block(&mut block)?;
        if n == 0 {
            break;
        }
        meter.add(&block);
        unreported += n as u64;
        if unreported >= REPORT_EVERY {
            progress(unreported);
            unreported = 0;
        }
    }
    if unreported > 0 {
        progress(unreported);
    }
    let (measurement, state) = meter.finish();
    Ok(FileAnalysis {
        path: path.to_path_buf(),
        info,
        measurement,
        state,
    })
}

/// Analyses `paths` on a pool of `jobs` threads (at least 1, at most one per
/// file), one file per
/// thread at a time, and gates the album over the files that could be
/// read. `on_progress` gets the total frames decoded so far, all files
/// together.
pub fn analyze_files(
    paths: &[PathBuf],
    jobs: usize,
    on_progress: impl Fn(u64) + Sync,
) -> BatchAnalysis {
    analyze_files_with_extras(paths, jobs, Extras::default(), on_progress)
}

/// [`analyze_files`], with the `extras` in the same pass (as `check`
/// measures the sources).
pub fn analyze_files_with_extras(
    paths: &[PathBuf],
    jobs: usize,
    extras: Extras,
    on_progress: impl Fn(u64) + Sync,
) -> BatchAnalysis {
    use rayon::prelude::*;
    let done = AtomicU64::new(0);
    let run = |p: &PathBuf| {
        analyze_file_with_extras(p, extras, &mut |n| {
            let total = done.fetch_add(n, Ordering::Relaxed) + n;
            on_progress(total);
        })
    };
    let files: Vec<_> = match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.min(paths.len()).max(1))
        .thread_name(|i| format!("glassmaster-analyze-{i}"))
        .build()
    {
        Ok(pool) => pool.install(|| paths.par_iter().with_max_len(1).map(run).collect()),
        // No threads to be had: do the work here, one file after another.
        Err(_) => paths.iter().map(run).collect(),
    };
    let ok: Vec<&LoudnessState> = files
        .iter()
        .filter_map(|f| f.as_ref().ok().map(|f| &f.state))
        .collect();
    let album = (!ok.is_empty()).then(|| album_loudness(ok));
    BatchAnalysis { files, album }
}

/// Amplitude → dBFS; `None` for 0 (and anything not finite).
pub(crate) fn db(amplitude: f64) -> Option<f64> {
    let v = 20.0 * amplitude.log10();
    v.is_finite().then_some(v)
}

/// Paths as text even when they are not UTF-8 (serde refuses those).
fn path_lossy<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// The one rounding rule of the JSON: 2 decimals.
pub fn round2<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round(*x))
}

pub(crate) fn round(x: f64) -> f64 {
    let r = (x * 100.0).round() / 100.0;
    // No "-0.0" in the output.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

pub(crate) fn round2_opt<S: serde::Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => s.serialize_some(&round(*v)),
        None => s.serialize_none(),
    }
}

pub(crate) fn round2_pair<S: serde::Serializer>(
    x: &[Option<f64>; 2],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeTuple;
    let mut t = s.serialize_tuple(2)?;
    for v in x {
        t.serialize_element(&v.map(round))?;
    }
    t.end()
}
