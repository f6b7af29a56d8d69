//! report.json: what a build made and measured, as `../shared/spec/cli.md`
//! fixes it, plus the figures report.html draws. `build` fills a
//! [`Report`]; `verify` reads it back.
//!
//! Field order is the order of the structs; every float is rounded to 2
//! decimals on the way out ([`crate::analysis::round2`]), the short-term
//! series to 1; there is no clock. Fields marked "addition" are not in
//! cli.md (which allows more fields): a reader of cli.md's fields alone is
//! not affected, and they default when missing on the way in.

use serde::{Deserialize, Serialize};

use super::checks::{Check, CheckSeverity};
use crate::analysis::{round2, round2_opt, round2_pair, Measurement, BANDS};
use crate::deliver::profile::TagSet;
use crate::manifest::model::{AudioFormat, LoudnessMode, ReportThresholds};

/// The whole of report.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub glassmaster_version: String,
    /// The manifest as given on the command line.
    pub manifest: String,
    pub release: ReleaseInfo,
    pub album: AlbumReport,
    pub tracks: Vec<TrackReport>,
    /// Only with a `cd:` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cd: Option<CdReport>,
    pub checks: Vec<CheckEntry>,
    pub outputs: Vec<OutputEntry>,
    /// Addition: the manifest's `report:` thresholds the checks used.
    #[serde(default)]
    pub thresholds: ReportThresholds,
    /// Addition: how each streaming profile's normalisation moves each
    /// track (the deliver stage's figures), in profile then track order.
    #[serde(default)]
    pub normalisation: Vec<NormalisationRow>,
    /// Addition: each streaming bundle as delivered, for `verify`.
    #[serde(default)]
    pub bundles: Vec<BundleReport>,
    /// Addition: the vinyl premaster, with a `vinyl:` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vinyl: Option<AnalogReport>,
    /// Addition: the cassette premaster, with a `cassette:` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cassette: Option<AnalogReport>,
    /// Addition: every disc of the CD (one entry for a single disc, whose
    /// figures `cd` also holds), with its folder and files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discs: Vec<DiscReport>,
    /// Addition: with `build --timings` only (wall-clock readings, which
    /// would make two builds differ): where the build's time went, up to
    /// the writing of report.json.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<crate::timings::Timings>,
}

/// One disc of the CD: `cd/` for a single disc, `cd/disc-N/` in a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscReport {
    pub disc: u32,
    /// Its folder, relative to the build folder.
    pub dir: String,
    pub total_frames: u64,
    pub mcn: Option<String>,
    /// Tracks on it (numbered 1.. on the disc).
    pub tracks: u32,
    pub image: String,
    pub cue: Option<String>,
    pub toc: Option<String>,
    /// The DDP fileset's folder.
    pub ddp: Option<String>,
    pub pq_sheet: Vec<String>,
    /// Hidden track one audio, in track 1's pregap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<HiddenReport>,
}

/// The hidden track in track 1's pregap, in frames from 00:00:00.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenReport {
    pub title: String,
    pub start_frame: u64,
    /// Frames from its start to track 1's INDEX 01 (its audio, padded).
    pub length_frames: u64,
    /// Its samples at 44.1 kHz.
    pub samples: u64,
    #[serde(default, serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseInfo {
    pub title: String,
    pub artist: String,
    pub upc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbumReport {
    #[serde(serialize_with = "round2")]
    pub target_lufs: f64,
    pub loudness_mode: LoudnessMode,
    /// The masters gated together as one programme.
    #[serde(serialize_with = "round2_opt")]
    pub integrated_lufs: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub loudness_range_lu: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub loudness_spread_lu: Option<f64>,
    /// The masters' durations summed (no CD gaps).
    #[serde(serialize_with = "round2")]
    pub duration_s: f64,
    /// Addition: the mastering chain's true-peak ceiling (`mastering:
    /// true_peak_dbtp`), drawn in the true-peak plot.
    #[serde(default = "default_ceiling", serialize_with = "round2")]
    pub true_peak_ceiling_dbtp: f64,
}

fn default_ceiling() -> f64 {
    crate::manifest::model::DEFAULT_TRUE_PEAK_DBTP
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackReport {
    pub number: u32,
    pub title: String,
    pub artist: String,
    pub isrc: Option<String>,
    pub source: SourceFigures,
    pub master: MasterFigures,
    /// Only with a `cd:` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cd: Option<TrackCd>,
    /// Only for a track with tonal matching (`mastering.match`).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub tonal_match: Option<super::matching::MatchReport>,
    /// Addition: the master's playback translation figures (mono, phone,
    /// low end, PSR; see [`super::translation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation: Option<super::translation::TranslationReport>,
    /// Addition: the disc the track is on (`tracks[].disc`, 1 by default);
    /// `cd` is its place on that disc.
    #[serde(default = "first_disc")]
    pub disc: u32,
    /// Addition (issue 15): what the restoration detectors found in the
    /// master (`report.restoration`; absent when off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restoration: Option<crate::analysis::restoration::Restoration>,
    /// Addition (issue 14): the codec preview, the master as each store of
    /// the manifest streams it, decoded and measured (absent when off or
    /// when no store of the manifest streams a lossy codec).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<crate::preview::CodecFigures>,
}

fn first_disc() -> u32 {
    1
}

/// The source as decoded and measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFigures {
    /// As written in the manifest.
    pub path: String,
    pub sample_rate: u32,
    pub bit_depth: Option<u16>,
    pub channels: u16,
    #[serde(serialize_with = "round2")]
    pub duration_s: f64,
    #[serde(serialize_with = "round2_opt")]
    pub integrated_lufs: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub sample_peak_dbfs: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub loudness_range_lu: Option<f64>,
    /// Addition (the master has it in cli.md).
    #[serde(default, serialize_with = "round2_opt")]
    pub short_term_max_lufs: Option<f64>,
    /// Additions, for the source-vs-master table.
    #[serde(flatten)]
    pub more: MoreFigures,
    /// Addition: the source file's MD5 when it was built, for `verify` to
    /// tell a mix changed since (`None` from reports that predate it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
}

/// The master (after the chain, before any CD or store conversion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterFigures {
    /// Gain the loudness stage applied, dB.
    #[serde(serialize_with = "round2")]
    pub gain_db: f64,
    #[serde(serialize_with = "round2_opt")]
    pub integrated_lufs: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub sample_peak_dbfs: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub loudness_range_lu: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub short_term_max_lufs: Option<f64>,
    /// Peak to loudness ratio: true peak minus integrated loudness.
    #[serde(serialize_with = "round2_opt")]
    pub plr_db: Option<f64>,
    #[serde(serialize_with = "round2")]
    pub duration_s: f64,
    /// Additions, for the table and the checks.
    #[serde(flatten)]
    pub more: MoreFigures,
    /// Addition: short-term loudness over the master, for the timeline.
    #[serde(default)]
    pub short_term: Series,
    /// Addition: the master's 1/3-octave levels ([`crate::analysis::BAND_CENTRES_HZ`]),
    /// dB re full scale (mean square per channel); empty when not measured.
    #[serde(default, serialize_with = "round2_vec")]
    pub spectrum_db: Vec<Option<f64>>,
    /// Addition: the loudness the chain (and `gain_db`) left, before the
    /// loudness gain: what album matching keeps the distances of.
    #[serde(default, serialize_with = "round2_opt")]
    pub chain_lufs: Option<f64>,
    /// Addition: where loudness matching wanted the track (`null` with
    /// `loudness_mode: off`).
    #[serde(default, serialize_with = "round2_opt")]
    pub wanted_lufs: Option<f64>,
    /// Addition: how many times the track was rendered to land there.
    #[serde(default)]
    pub renders: u32,
    /// Addition: the master's file, relative to the build folder (`None`
    /// when the build made no masters, `--only cd` for example).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Addition: the peak of the master as an ideal DAC reconstructs it
    /// (see [`Measurement::reconstructed_peak_dbfs`]), dBFS. The BS.1770
    /// meter's `true_peak_dbtp` reads it low above about 17 kHz; whether
    /// the ceiling held is judged by the larger of the two
    /// ([`MasterFigures::peak_db`]).
    #[serde(default, serialize_with = "round2_opt")]
    pub reconstructed_peak_dbfs: Option<f64>,
}

/// Additions to cli.md's source and master figures: those of `analyze
/// --json` that cli.md's report leaves out (short-term max aside, which
/// the master has in cli.md and the source as its own addition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoreFigures {
    #[serde(default, serialize_with = "round2_opt")]
    pub momentary_max_lufs: Option<f64>,
    /// [left, right].
    #[serde(default, serialize_with = "round2_pair")]
    pub dc_offset_dbfs: [Option<f64>; 2],
    #[serde(default = "one", serialize_with = "round2")]
    pub correlation: f64,
    #[serde(default, serialize_with = "round2")]
    pub head_silence_s: f64,
    #[serde(default, serialize_with = "round2")]
    pub tail_silence_s: f64,
    #[serde(default)]
    pub clipped_samples: u64,
}

fn one() -> f64 {
    1.0
}

/// Nothing measured: no DC, correlation 1 (as the meter reads silence).
impl Default for MoreFigures {
    fn default() -> Self {
        MoreFigures {
            momentary_max_lufs: None,
            dc_offset_dbfs: [None, None],
            correlation: 1.0,
            head_silence_s: 0.0,
            tail_silence_s: 0.0,
            clipped_samples: 0,
        }
    }
}

/// Short-term (3 s) loudness every `step_s` seconds: point `i` ends at
/// `(i + 1) · step_s` into the track; `null` without a value (digital
/// silence, and the first 2 s, before a whole 3 s window).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    #[serde(serialize_with = "round2")]
    pub step_s: f64,
    #[serde(serialize_with = "round1_vec")]
    pub lufs: Vec<Option<f64>>,
}

/// A track's place on the CD, in frames from 00:00:00.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackCd {
    /// INDEX 01.
    pub start_frame: u64,
    /// INDEX 00's length before INDEX 01.
    pub pregap_frames: u64,
    pub length_frames: u64,
    /// Every index from 01 on.
    pub indexes: Vec<u64>,
    /// Addition: the track's true peak on the CD (44.1 kHz, before dither).
    #[serde(default, serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
    /// Addition: the same by an ideal reconstruction, dBFS.
    #[serde(default, serialize_with = "round2_opt")]
    pub reconstructed_peak_dbfs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdReport {
    pub total_frames: u64,
    pub mcn: Option<String>,
}

/// A failed check as report.json lists it (a [`Check`] that can be read
/// back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckEntry {
    pub id: String,
    pub severity: CheckSeverity,
    pub track: Option<u32>,
    pub message: String,
}

impl From<Check> for CheckEntry {
    fn from(c: Check) -> Self {
        CheckEntry {
            id: c.id.to_string(),
            severity: c.severity,
            track: c.track,
            message: c.message,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEntry {
    /// Relative to the build folder, `/`-separated.
    pub path: String,
    pub md5: String,
}

/// Addition: one streaming bundle as written: its format, the cover and
/// every file with the figures measured on it after encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleReport {
    /// Folder under `streaming/`.
    pub name: String,
    pub profile: String,
    pub format: AudioFormat,
    /// PCM formats' bits per sample; `None` for MP3.
    pub bit_depth: Option<u16>,
    /// MP3's constant bit rate; `None` for PCM formats.
    pub bitrate_kbps: Option<u32>,
    pub tags: TagSet,
    /// The bundle's ceiling for the delivered (decoded) files.
    #[serde(serialize_with = "round2")]
    pub true_peak_ceiling_dbtp: f64,
    /// `cover.jpg` in the bundle folder (embedded in every file whose tag
    /// set carries pictures).
    pub cover: Option<CoverReport>,
    pub files: Vec<BundleFile>,
    /// The bundle's DDEX ERN 4.3 NewReleaseMessage, relative to the bundle
    /// folder (`ddex/NewReleaseMessage.xml`), when it asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ddex: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverReport {
    pub file: String,
    pub width: u32,
    pub height: u32,
}

/// One delivered audio file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleFile {
    pub track: u32,
    /// Name inside the bundle folder.
    pub file: String,
    pub sample_rate: u32,
    #[serde(serialize_with = "round2")]
    pub duration_s: f64,
    #[serde(serialize_with = "round2_opt")]
    pub integrated_lufs: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
    /// Addition: an AAC file's average bit rate as written, kbps (what
    /// `verify` holds it to); absent for other formats.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "round2_opt"
    )]
    pub bitrate_kbps: Option<f64>,
}

/// Addition: what one store's loudness normalisation does to a track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalisationRow {
    /// The streaming profile (or bundle) name.
    pub profile: String,
    /// `None`: the store normalises the album as a whole, and the gain
    /// applies to every track.
    pub track: Option<u32>,
    /// Gain the store applies on playback, dB (negative turns it down).
    #[serde(serialize_with = "round2")]
    pub gain_db: f64,
    /// Addition: which playback this gain is for (a report without it
    /// holds album playback only).
    #[serde(default)]
    pub playback: Playback,
}

/// Addition: the two ways a store plays a track.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Playback {
    /// The album played in order: a store in album mode applies the
    /// album's one gain to every track.
    #[default]
    Album,
    /// A track on its own (playlist, shuffle, radio): every store that
    /// normalises applies the track's own gain.
    Playlist,
}

impl SourceFigures {
    /// A source's figures from its measurement; `path` as in the manifest.
    pub fn from_measurement(path: impl Into<String>, m: &Measurement) -> SourceFigures {
        SourceFigures {
            path: path.into(),
            sample_rate: m.sample_rate,
            bit_depth: m.bit_depth,
            channels: m.channels,
            duration_s: m.duration_s,
            integrated_lufs: m.integrated_lufs,
            true_peak_dbtp: m.true_peak_dbtp,
            sample_peak_dbfs: m.sample_peak_dbfs,
            loudness_range_lu: m.loudness_range_lu,
            short_term_max_lufs: m.short_term_max_lufs,
            more: MoreFigures::from_measurement(m),
            md5: None,
        }
    }
}

impl MasterFigures {
    /// A master's figures from its measurement and the gain applied; PLR
    /// is computed, the series and spectrum are taken from `m`.
    pub fn from_measurement(gain_db: f64, m: &Measurement) -> MasterFigures {
        MasterFigures {
            gain_db,
            integrated_lufs: m.integrated_lufs,
            true_peak_dbtp: m.true_peak_dbtp,
            sample_peak_dbfs: m.sample_peak_dbfs,
            loudness_range_lu: m.loudness_range_lu,
            short_term_max_lufs: m.short_term_max_lufs,
            plr_db: m.true_peak_dbtp.zip(m.integrated_lufs).map(|(p, l)| p - l),
            duration_s: m.duration_s,
            more: MoreFigures::from_measurement(m),
            short_term: Series {
                step_s: m.short_term_series.step_s(),
                lufs: m.short_term_series.lufs().collect(),
            },
            reconstructed_peak_dbfs: m.reconstructed_peak_dbfs,
            spectrum_db: m
                .spectrum
                .as_ref()
                .map_or_else(Vec::new, |s| s.bands_db.to_vec()),
            chain_lufs: None,
            wanted_lufs: None,
            renders: 0,
            file: None,
        }
    }

    /// The peak the ceiling is judged by: the larger of the BS.1770 true
    /// peak and the ideal reconstruction's peak.
    pub fn peak_db(&self) -> Option<f64> {
        crate::analysis::stricter_peak(self.true_peak_dbtp, self.reconstructed_peak_dbfs)
    }

    /// The spectral balance ([`crate::analysis::Spectrum::balance`]) of
    /// the master, when its spectrum was measured.
    pub fn spectral_balance(&self) -> Option<[f64; BANDS]> {
        if self.spectrum_db.len() != BANDS {
            return None;
        }
        let mut bands_db = [None; BANDS];
        bands_db.copy_from_slice(&self.spectrum_db);
        crate::analysis::Spectrum { bands_db }.balance()
    }
}

impl MoreFigures {
    pub fn from_measurement(m: &Measurement) -> MoreFigures {
        MoreFigures {
            momentary_max_lufs: m.momentary_max_lufs,
            dc_offset_dbfs: m.dc_offset_dbfs,
            correlation: m.correlation,
            head_silence_s: m.head_silence_s,
            tail_silence_s: m.tail_silence_s,
            clipped_samples: m.clipped_samples,
        }
    }
}

impl Report {
    /// report.json's text: pretty-printed, with a final newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }

    /// Reads report.json's text.
    pub fn from_json(text: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(text)
    }
}

fn round2_vec<S: serde::Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.map(crate::analysis::round)))
}

fn round1_vec<S: serde::Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.map(round1)))
}

/// One decimal, without "-0.0".
pub(crate) fn round1(x: f64) -> f64 {
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Addition: a vinyl or cassette premaster as built (issue 12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalogReport {
    /// `12" 33 1/3 rpm`, `C60`.
    pub format: String,
    /// True when the vinyl premaster had its own chain or ceiling.
    #[serde(default)]
    pub own_render: bool,
    pub gap_s: f64,
    pub sides: Vec<AnalogSide>,
    /// Vinyl only: what the vinyl checks measured, per track.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<VinylTrackFigures>,
}

/// One side: its file, rate, length and tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalogSide {
    pub name: String,
    pub file: String,
    pub sample_rate: u32,
    pub frames: u64,
    #[serde(serialize_with = "round2")]
    pub duration_s: f64,
    pub tracks: Vec<AnalogPlaced>,
}

/// A track's place on its side, in frames of the side file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalogPlaced {
    pub track: u32,
    /// `A1`, `A2`, ...
    pub position: String,
    pub start_frame: u64,
    pub frames: u64,
    /// The per-track premaster, when delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The vinyl checks' figures of one track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VinylTrackFigures {
    pub track: u32,
    #[serde(serialize_with = "round2_opt")]
    pub low_correlation: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub low_side_db: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub hf_peak_dbfs: Option<f64>,
}
