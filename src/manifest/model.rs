//! The checked release model. Nothing after [`super::validate`] sees the
//! raw YAML: every value here has been typed, range-checked and resolved
//! (paths against the manifest's folder, ISRCs generated, defaults filled).

use std::path::PathBuf;

use super::codes::{Isrc, Upc};
use crate::audio::AudioInfo;

/// A validated release manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file as given on the command line.
    pub path: PathBuf,
    /// The folder every relative path in the manifest is resolved against.
    pub base_dir: PathBuf,
    pub release: Release,
    pub mastering: Mastering,
    pub tracks: Vec<Track>,
    pub cd: Option<CdOptions>,
    pub streaming: Vec<BundleSpec>,
    pub report: ReportThresholds,
    /// The `ddex:` section: who sends the DDEX ERN message, to whom, on
    /// what deals, and which bundles it is written for.
    pub ddex: Option<Ddex>,
    pub vinyl: Option<VinylOptions>,
    pub cassette: Option<CassetteOptions>,
}

#[derive(Debug, Clone, Default)]
pub struct Release {
    pub title: String,
    pub artist: String,
    pub upc: Option<Upc>,
    pub label: Option<String>,
    pub catalog_number: Option<String>,
    /// ISO 8601 date, `YYYY-MM-DD`.
    pub release_date: Option<String>,
    pub genre: Option<String>,
    /// ISO 639-1 code.
    pub language: Option<String>,
    pub copyright: Option<String>,
    pub phonographic_copyright: Option<String>,
    pub artwork: Option<PathBuf>,
    pub explicit: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoudnessMode {
    Album,
    Track,
    Off,
}

impl LoudnessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LoudnessMode::Album => "album",
            LoudnessMode::Track => "track",
            LoudnessMode::Off => "off",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Mastering {
    pub loudness_mode: LoudnessMode,
    pub target_lufs: f64,
    pub true_peak_dbtp: f64,
    /// The default chain; a track's own `chain` replaces it.
    pub chain: Vec<Stage>,
    /// `mastering.match`: tonal matching of every track (a track may
    /// override it or turn it off).
    pub tonal_match: Option<Match>,
}

impl Default for Mastering {
    fn default() -> Self {
        Mastering {
            loudness_mode: LoudnessMode::Off,
            target_lufs: DEFAULT_TARGET_LUFS,
            true_peak_dbtp: DEFAULT_TRUE_PEAK_DBTP,
            chain: Vec::new(),
            tonal_match: None,
        }
    }
}

pub const DEFAULT_TARGET_LUFS: f64 = -14.0;
pub const DEFAULT_TRUE_PEAK_DBTP: f64 = -1.0;

/// One stage of a mastering chain, as the manifest describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Eq(Vec<EqBand>),
    Compressor(Compressor),
    Limiter(Limiter),
    Gain {
        gain_db: f64,
    },
    Stereo {
        width: f64,
    },
    /// Where the tonal-matching EQ goes (`- match:`); without one it goes
    /// at the head of the chain, or after the last repair stage.
    Match,
    /// Notches at a mains fundamental and its harmonics.
    Dehum(Dehum),
    /// STFT Wiener noise reduction against a learned noise profile.
    Denoise(Denoise),
    /// Clipped samples rebuilt at or beyond the clip level.
    Declip(Declip),
}

impl Stage {
    /// True for the repair stages (dehum, denoise, declip), which go
    /// before the tonal-matching EQ.
    pub fn is_repair(&self) -> bool {
        matches!(self, Stage::Dehum(_) | Stage::Denoise(_) | Stage::Declip(_))
    }

    /// True for a stage that learns from the track before the render:
    /// a denoise (its noise profile), a dehum with `freq_hz: auto` or a
    /// declip with `threshold: auto` (its clip levels).
    pub fn learns(&self) -> bool {
        matches!(
            self,
            Stage::Denoise(_)
                | Stage::Dehum(Dehum {
                    freq: HumFreq::Auto,
                    ..
                })
                | Stage::Declip(Declip {
                    threshold: ClipThreshold::Auto,
                    ..
                })
        )
    }
}

/// A dehum's fundamental.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HumFreq {
    Hz(f64),
    /// Found by the hum detector (50 or 60 Hz) in a pass before the render.
    Auto,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dehum {
    pub freq: HumFreq,
    /// Harmonics notched above the fundamental.
    pub harmonics: usize,
    pub q: f64,
}

/// A declip's clip level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClipThreshold {
    /// Each channel's and sign's plateau at its peak, found in a pass
    /// before the render.
    Auto,
    /// This level, dBFS, for both signs of both channels.
    Dbfs(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Declip {
    pub threshold: ClipThreshold,
    /// Runs longer than this are left as they are.
    pub max_run_ms: f64,
}

/// Where a denoise learns its noise profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoiseFrom {
    /// Per frequency, the quietest passage of the track.
    Quietest,
    /// A stretch of the track (seconds from its start, after trimming)
    /// that holds only noise.
    Range { start_s: f64, end_s: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Denoise {
    pub reduction_db: f64,
    pub smoothing: f64,
    pub profile: NoiseFrom,
}

/// What a track's spectrum is matched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchTo {
    /// The other tracks of the album (leave-one-out).
    Album,
    /// The `reference` files, averaged.
    Reference,
}

/// The bands the spectra are compared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchResolution {
    ThirdOctave,
    Erb,
}

impl MatchResolution {
    /// The name the manifest and report.json use.
    pub fn name(self) -> &'static str {
        match self {
            MatchResolution::ThirdOctave => "third_octave",
            MatchResolution::Erb => "erb",
        }
    }
}

/// `mastering.match` (or a track's `match`).
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub to: MatchTo,
    /// Reference files as written, and resolved against the manifest.
    pub reference_files: Vec<PathBuf>,
    pub references: Vec<PathBuf>,
    /// 0..1: the share of the difference that is corrected.
    pub strength: f64,
    /// No band is corrected by more than this, dB.
    pub max_db: f64,
    pub resolution: MatchResolution,
    /// Also match the side/mid balance per band.
    pub width: bool,
    /// No correction outside these, Hz.
    pub low_hz: f64,
    pub high_hz: f64,
}

impl Default for Match {
    fn default() -> Self {
        Match {
            to: MatchTo::Album,
            reference_files: Vec::new(),
            references: Vec::new(),
            strength: 0.5,
            max_db: 6.0,
            resolution: MatchResolution::ThirdOctave,
            width: false,
            low_hz: 30.0,
            high_hz: 16_000.0,
        }
    }
}

/// A track's `match`: its own settings, or `off`.
#[derive(Debug, Clone, PartialEq)]
pub enum TrackMatch {
    Off,
    Own(Match),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EqKind {
    Highpass,
    Lowpass,
    Lowshelf,
    Highshelf,
    Bell,
    Notch,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EqBand {
    pub kind: EqKind,
    pub freq_hz: f64,
    pub gain_db: f64,
    /// `None`: the stage's default (0.707 for filters and shelves, 1.0 for
    /// bells and notches).
    pub q: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compressor {
    pub threshold_db: f64,
    pub ratio: f64,
    pub attack_ms: f64,
    pub release_ms: f64,
    pub knee_db: f64,
    pub makeup_db: f64,
    /// 0 = channels independent, 1 = fully linked.
    pub stereo_link: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limiter {
    pub release_ms: f64,
    pub lookahead_ms: f64,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            release_ms: 50.0,
            lookahead_ms: 5.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FadeCurve {
    Linear,
    Log,
    SCurve,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fade {
    pub in_s: f64,
    pub out_s: f64,
    pub curve: FadeCurve,
}

#[derive(Debug, Clone)]
pub struct Track {
    /// 1-based position in the manifest.
    pub number: u32,
    /// The source as written in the manifest (relative to it).
    pub file: PathBuf,
    /// The source resolved against the manifest's folder.
    pub path: PathBuf,
    /// The source's header, read during validation.
    pub info: Option<AudioInfo>,
    pub title: String,
    pub artist: String,
    pub featuring: Vec<String>,
    pub composer: Option<String>,
    pub lyricist: Option<String>,
    pub arranger: Option<String>,
    pub producer: Option<String>,
    pub version: Option<String>,
    pub isrc: Option<Isrc>,
    /// True when the ISRC came from the `isrc:` generator.
    pub isrc_generated: bool,
    pub explicit: bool,
    pub gain_db: f64,
    /// Seconds cut from the start of the source.
    pub trim_start_s: f64,
    /// Where the source ends, in seconds of the source; `None` = its end.
    pub trim_end_s: Option<f64>,
    pub fade: Option<Fade>,
    /// Pause before this track in seconds (`None`: `cd.gap_s`).
    pub pregap_s: Option<f64>,
    pub segue: bool,
    /// Extra index points (INDEX 02, 03, ...) in seconds from the track start.
    pub indexes: Vec<f64>,
    /// The track's own chain; `None` uses the default chain.
    pub chain: Option<Vec<Stage>>,
    pub lyrics: Option<String>,
    pub disc: u32,
    /// The track's `match` (`None`: `mastering.match`).
    pub tonal_match: Option<TrackMatch>,
}

impl Track {
    /// The stages this track is mastered with.
    pub fn chain<'a>(&'a self, mastering: &'a Mastering) -> &'a [Stage] {
        self.chain.as_deref().unwrap_or(&mastering.chain)
    }

    /// Source frames the trim keeps (each end rounded to the nearest frame,
    /// as `master::TrackPlan` does), when the source's length is known
    /// before decoding.
    pub fn kept_frames(&self) -> Option<u64> {
        let info = self.info.as_ref()?;
        let frames = info.frames?;
        let rate = f64::from(info.sample_rate);
        let end = self
            .trim_end_s
            .map_or(frames, |e| ((e * rate).round() as u64).min(frames));
        let start = ((self.trim_start_s * rate).round() as u64).min(end);
        Some(end - start)
    }

    /// The tonal matching this track gets, if any.
    pub fn tonal_match<'a>(&'a self, mastering: &'a Mastering) -> Option<&'a Match> {
        match &self.tonal_match {
            Some(TrackMatch::Off) => None,
            Some(TrackMatch::Own(m)) => Some(m),
            None => mastering.tonal_match.as_ref(),
        }
    }

    /// Seconds of audio this track has after trimming, when the source's
    /// length is known.
    pub fn duration_s(&self) -> Option<f64> {
        let info = self.info.as_ref()?;
        let total = info.frames? as f64 / f64::from(info.sample_rate);
        let end = self.trim_end_s.unwrap_or(total).min(total);
        Some((end - self.trim_start_s).max(0.0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dither {
    Tpdf,
    Shaped,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdFormat {
    Ddp,
    Cue,
    Toc,
}

#[derive(Debug, Clone)]
pub struct CdOptions {
    pub gap_s: f64,
    pub formats: Vec<CdFormat>,
    pub cd_text: bool,
    pub dither: Dither,
    pub pre_emphasis: bool,
    pub copy_permitted: bool,
    /// Hidden track one audio (`hidden_track:`): played in track 1's
    /// pregap of disc 1, before its INDEX 01.
    pub hidden_track: Option<HiddenTrack>,
}

/// Audio in the pregap of disc 1's first track (HTOA), mastered with the
/// album like any track.
#[derive(Debug, Clone)]
pub struct HiddenTrack {
    /// The source as written in the manifest (relative to it).
    pub file: PathBuf,
    /// The source resolved against the manifest's folder.
    pub path: PathBuf,
    /// The source's header, read during validation.
    pub info: Option<AudioInfo>,
    pub title: String,
}

impl Manifest {
    /// The disc numbers the tracks use, rising (`[1]` for a one-disc
    /// release; validation makes them 1..N without holes).
    pub fn discs(&self) -> Vec<u32> {
        let mut d: Vec<u32> = self.tracks.iter().map(|t| t.disc).collect();
        d.sort_unstable();
        d.dedup();
        d
    }

    /// The hidden track as a track to master: track 1's artist and the
    /// album's chain, no trim, fade, ISRC or index, numbered after the
    /// last track (its place among the plans, not on the disc).
    pub fn hidden_as_track(&self) -> Option<Track> {
        let h = self.cd.as_ref()?.hidden_track.as_ref()?;
        let first = self.tracks.first()?;
        Some(Track {
            number: self.tracks.len() as u32 + 1,
            file: h.file.clone(),
            path: h.path.clone(),
            info: h.info.clone(),
            title: h.title.clone(),
            featuring: Vec::new(),
            composer: None,
            lyricist: None,
            arranger: None,
            producer: None,
            version: None,
            isrc: None,
            isrc_generated: false,
            explicit: false,
            gain_db: 0.0,
            trim_start_s: 0.0,
            trim_end_s: None,
            fade: None,
            pregap_s: None,
            segue: false,
            indexes: Vec::new(),
            chain: None,
            lyrics: None,
            disc: 1,
            // Anything else (the artist) as track 1 has it.
            ..first.clone()
        })
    }
}

pub const DEFAULT_GAP_S: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    Wav,
    Flac,
    Mp3,
    /// Ogg Vorbis (.ogg).
    Ogg,
    /// Ogg Opus (.opus), always 48 kHz.
    Opus,
    /// AAC-LC in an MP4 (.m4a).
    Aac,
}

impl AudioFormat {
    /// MP3, Ogg Vorbis, Opus and AAC: encoded at a bit rate, with the
    /// codec-aware ceiling; no bit depth.
    pub fn is_lossy(self) -> bool {
        matches!(
            self,
            AudioFormat::Mp3 | AudioFormat::Ogg | AudioFormat::Opus | AudioFormat::Aac
        )
    }
}

/// One streaming bundle as the manifest asks for it: a profile name and
/// the keys that override the profile.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    pub profile: String,
    /// Folder under streaming/ (the profile's name unless `name` is given).
    pub name: String,
    pub format: Option<AudioFormat>,
    pub sample_rate: Option<u32>,
    pub bit_depth: Option<u16>,
    pub naming: Option<String>,
    pub bitrate_kbps: Option<u32>,
    pub dither: Option<Dither>,
    pub true_peak_dbtp: Option<f64>,
}

/// Thresholds of the consistency checks (`report:`). Deserialize: read
/// back from report.json (a key it lacks takes the default).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReportThresholds {
    pub max_loudness_spread_lu: f64,
    pub max_true_peak_dbtp: f64,
    pub max_head_silence_s: f64,
    pub max_tail_silence_s: f64,
    /// A track whose PLR is further than this from the album's median.
    pub max_plr_deviation_db: f64,
    pub max_dc_offset_dbfs: f64,
    /// Below this stereo correlation a track is flagged for mono playback.
    pub min_correlation: f64,
    pub max_clipped_samples: u64,
    /// A track whose 1/3-octave balance is further than this (RMS over
    /// bands) from the album's mean.
    pub max_spectral_deviation_db: f64,
    /// Run the restoration detectors (`analysis::restoration`) on the
    /// sources (`check`) and the masters (`build`).
    pub restoration: bool,
    /// `track.clicks`: clicks allowed per track.
    pub max_clicks: u64,
    /// `track.clipping`: clipped runs (plateaus at the track's peak, at
    /// any level) allowed per track.
    pub max_clipped_runs: u64,
    /// `track.hum`: the strongest hum line's level above its neighbours.
    pub max_hum_db: f64,
    /// `track.noise`: the quietest passage's level (when it is a quiet
    /// passage: see [`crate::report::checks`]).
    pub max_noise_floor_dbfs: f64,
    /// `track.dropouts`: dropouts allowed per track.
    pub max_dropouts: u64,
    /// Shortest dropout the detector reports, ms.
    pub min_dropout_ms: f64,
    /// Measure playback translation (`analysis::translation`) on the
    /// sources (`check`) and the masters (`build`).
    pub translation: bool,
    /// `track.mono_loss`: most loudness a mono fold-down may lose, LU.
    pub max_mono_loss_lu: f64,
    /// Least L/R correlation in any of the four mono bands.
    pub min_band_correlation: f64,
    /// Most a track may lose through the phone model beyond the album's
    /// median loss, LU.
    pub max_phone_loss_vs_album_lu: f64,
    /// Most of the energy that may lie under 60 Hz, %.
    pub max_low_end_share_pct: f64,
    /// Least L/R correlation under 60 Hz.
    pub min_low_end_correlation: f64,
    /// Least median peak-to-short-term loudness ratio, dB.
    pub min_psr_db: f64,
    /// Run the codec preview ([`crate::preview`]) in `build` and `check`.
    pub codec_preview: bool,
    /// Encode passages of each track in the codec preview, not the whole
    /// track ([`crate::preview::passages`]).
    pub codec_preview_passages: bool,
    /// The codecs the preview encodes (all four by default): the stores'
    /// streams of any other codec are left out of it.
    pub codec_preview_codecs: Vec<crate::preview::PreviewCodec>,
    /// `track.codec_overs`: clipped samples (on-sample and inter-sample)
    /// allowed per track and codec after a store's encode and decode.
    pub max_codec_overs: u64,
}

impl Default for ReportThresholds {
    fn default() -> Self {
        ReportThresholds {
            max_loudness_spread_lu: 3.0,
            max_true_peak_dbtp: -1.0,
            max_head_silence_s: 2.0,
            max_tail_silence_s: 10.0,
            max_plr_deviation_db: 4.0,
            max_dc_offset_dbfs: -40.0,
            min_correlation: 0.0,
            max_clipped_samples: 0,
            max_spectral_deviation_db: 6.0,
            restoration: true,
            max_clicks: 0,
            max_clipped_runs: 0,
            max_hum_db: 10.0,
            max_noise_floor_dbfs: -50.0,
            max_dropouts: 0,
            min_dropout_ms: 5.0,
            translation: true,
            // Why each is what it is: README, "Playback translation".
            max_mono_loss_lu: 3.0,
            min_band_correlation: -0.5,
            max_phone_loss_vs_album_lu: 6.0,
            max_low_end_share_pct: 50.0,
            min_low_end_correlation: 0.0,
            min_psr_db: 7.0,
            codec_preview: true,
            codec_preview_passages: false,
            codec_preview_codecs: crate::preview::PreviewCodec::ALL.to_vec(),
            max_codec_overs: 0,
        }
    }
}

/// The `ddex:` section, checked: a NewReleaseMessage is written into each
/// bundle named in `bundles` (those with `ddex: true`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ddex {
    pub sender: DdexParty,
    pub recipients: Vec<DdexParty>,
    /// `None`: derived from the UPC and a hash of the message's content.
    pub message_id: Option<String>,
    /// At least one; the default is worldwide streaming and download from
    /// the release date.
    pub deals: Vec<DdexDeal>,
    /// The folder names (under streaming/) of the bundles that opted in.
    pub bundles: Vec<String>,
}

/// A party of the message header: a DDEX Party ID (DPID) and a name.
#[derive(Debug, Clone, PartialEq)]
pub struct DdexParty {
    pub party_id: String,
    pub name: String,
}

/// One deal of the DealList, in DDEX's own words (allowed-value sets).
#[derive(Debug, Clone, PartialEq)]
pub struct DdexDeal {
    /// `SubscriptionModel`, `AdvertisementSupportedModel`, `PayAsYouGoModel`, ...
    pub commercial_models: Vec<String>,
    /// `OnDemandStream`, `NonInteractiveStream`, `PermanentDownload`, ...
    pub use_types: Vec<String>,
    /// `Worldwide` or ISO 3166-1 alpha-2 codes.
    pub territories: Vec<String>,
    /// ISO 8601 date the deal starts.
    pub start_date: String,
}
/// The `vinyl:` section: a record's format, the tracks on each side and
/// the spacing; its own chain and ceiling when the premaster is not the
/// masters.
#[derive(Debug, Clone)]
pub struct VinylOptions {
    /// Inches: 7, 10 or 12.
    pub size: u32,
    /// 33 (for 33 1/3) or 45.
    pub rpm: u32,
    /// Per side, the album's track indices (0-based), in order.
    pub sides: Vec<Vec<usize>>,
    pub gap_s: f64,
    /// Replaces every track's chain for the vinyl render.
    pub chain: Option<Vec<Stage>>,
    pub true_peak_dbtp: Option<f64>,
}

impl VinylOptions {
    /// True when the vinyl premaster is a render of its own rather than
    /// the masters.
    pub fn own_render(&self) -> bool {
        self.chain.is_some() || self.true_peak_dbtp.is_some()
    }
}

pub const DEFAULT_VINYL_GAP_S: f64 = 2.5;

/// The `cassette:` section: the tape length and the sides (`None`: split
/// the album in the order of its tracks where the sides balance).
#[derive(Debug, Clone)]
pub struct CassetteOptions {
    /// `C46`, `C60`, `C90`.
    pub length: String,
    /// Minutes per side of that length.
    pub side_minutes: f64,
    pub sides: Option<Vec<Vec<usize>>>,
    pub gap_s: f64,
}

pub const DEFAULT_CASSETTE_GAP_S: f64 = 2.5;
