//! Streaming deliverables: each bundle of the manifest's `streaming:` list
//! becomes a folder of audio files a store accepts on the first upload,
//! tagged, with its cover and its metadata sheets.
//!
//! - [`profile`]: the built-in store profiles (data files in
//!   `templates/profiles/`) and [`profile::Profile::resolve`], which lays a
//!   manifest bundle's overrides over its profile;
//! - [`naming`]: file names from the naming template, made safe;
//! - [`encode`]: the per-track encoder (resample, dither or round, then
//!   WAV, FLAC or MP3; lossy files decoded again and kept under the
//!   true-peak ceiling);
//! - [`tags`]: Vorbis comments, ID3v2.4 and RIFF INFO from a [`tags::TrackTags`];
//!   [`mp4tags`]: the iTunes `ilst` of the AAC files;
//! - [`artwork`]: checks the cover against a profile and writes `cover.jpg`;
//! - [`sheet`]: `metadata.csv` and `metadata.json`;
//! - [`lint`]: the store lint rules;
//! - [`ddex`]: the DDEX ERN 4.3 NewReleaseMessage of a bundle (`ddex: true`);
//! - [`normalise`]: how much each store will turn each track and album up
//!   or down.
//!
//! Per bundle the caller (the `build` command) does:
//! `resolve_spec` → `artwork::process` (once per profile rule) → per track
//! `naming::file_name`, `TrackEncoder::create` / `write_block` / `finish`,
//! `tags::write_tags` → `sheet::write_sheets`. Nothing here prints, reads
//! the clock or depends on the order threads finish in.

pub mod artwork;
pub mod ddex;
pub mod encode;
pub mod lint;
pub mod mp4tags;
pub mod naming;
pub mod normalise;
pub mod profile;
pub mod sheet;
pub mod tags;

use std::path::PathBuf;

pub use encode::{Encoded, TrackEncoder};

/// A delivered file decoded and its levels measured (loudness, true and
/// sample peak, duration: [`crate::analysis::analyze_file_levels`]); an
/// Ogg Opus file (symphonia has no Opus decoder) through libopus and
/// [`encode::decode_opus`], pre-skip and end trimmed; an AAC `.m4a`
/// through [`encode::decode_aac`] (rusty_aac, trimmed by the edit list,
/// which symphonia ignores).
pub fn analyze_delivered(
    path: &std::path::Path,
    format: crate::manifest::model::AudioFormat,
) -> Result<crate::analysis::FileAnalysis, crate::audio::AudioError> {
    use crate::manifest::model::AudioFormat;
    let corrupt = |reason: String| crate::audio::AudioError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let (rate, codec) = match format {
        AudioFormat::Opus => (encode::OPUS_RATE, "opus"),
        AudioFormat::Aac => (
            encode::mp4_sample_rate(path).map_err(|e| corrupt(e.clone()))?,
            "aac",
        ),
        _ => return crate::analysis::analyze_file_levels(path),
    };
    let info = crate::audio::AudioInfo {
        sample_rate: rate,
        channels: 2,
        bit_depth: None,
        float: false,
        frames: None,
        codec: codec.into(),
    };
    let mut meter = crate::analysis::Meter::for_source(&info)
        .map_err(|e| corrupt(e.to_string()))?
        .levels_only();
    if format == AudioFormat::Opus {
        encode::decode_opus(path, |b| meter.add(b)).map_err(corrupt)?;
    } else {
        encode::decode_aac(path, |b| meter.add(b)).map_err(corrupt)?;
    }
    let (measurement, state) = meter.finish();
    Ok(crate::analysis::FileAnalysis {
        path: path.to_path_buf(),
        info,
        measurement,
        state,
    })
}
pub use profile::{resolve_spec, Profile, ResolvedBundle};
pub use tags::TrackTags;

/// Why a deliverable could not be made. Every variant names the file,
/// profile or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("unknown streaming profile `{name}`; the built-in profiles are {known}")]
    UnknownProfile { name: String, known: String },
    #[error("built-in profile `{name}` is broken: {reason}")]
    BadProfile { name: String, reason: String },
    #[error("bundle `{name}`: {reason}")]
    BadBundle { name: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Audio {
        source: Box<crate::audio::AudioError>,
    },
    #[error("{path}: {source}")]
    Dsp {
        path: PathBuf,
        source: crate::dsp::DspError,
    },
    #[error("{path}: FLAC encoder: {reason}")]
    Flac { path: PathBuf, reason: String },
    #[error("{path}: MP3 encoder: {reason}")]
    Mp3 { path: PathBuf, reason: String },
    /// The Vorbis or Opus encoder (`codec` names it) refused or failed.
    #[error("{path}: {codec}: {reason}")]
    Codec {
        path: PathBuf,
        codec: &'static str,
        reason: String,
    },
    #[error(
        "{path}: decoded true peak {peak_dbtp:.2} dBTP is still over the {ceiling_dbtp:.1} dBTP ceiling after {tries} re-encodes"
    )]
    PeakOverCeiling {
        path: PathBuf,
        peak_dbtp: f64,
        ceiling_dbtp: f64,
        tries: u32,
    },
    #[error("{path}: cannot write tags: {reason}")]
    Tags { path: PathBuf, reason: String },
    #[error("{path}: artwork: {reason}")]
    Artwork { path: PathBuf, reason: String },
}
