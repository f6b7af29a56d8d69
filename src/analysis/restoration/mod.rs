//! Restoration detectors: what a mastering engineer listens for and the
//! mix missed (clicks and pops, clipped runs, hum, hiss, dropouts, one
//! channel with inverted polarity), found in one streamed pass and
//! reported as timed events. Detectors never change audio: the repairs are
//! stages in `dsp/` (declick, declip, dehum, denoise).
//!
//! Every detector implements [`Detector`]: made once per track with the
//! track's rate, fed the decoded blocks in order, and finished into its
//! part of the track's [`Restoration`]. Nothing is allocated per block
//! after `new` (buffers are sized there).

use serde::{Deserialize, Serialize};

use crate::analysis::{round2, round2_opt};
use crate::audio::Block;

mod clipping;
mod dropouts;
mod hum;
mod noise;
mod pass;
mod polarity;

pub use clipping::Clipping;
pub use dropouts::Dropouts;
pub use hum::HumDetector;
pub use noise::NoiseDetector;
pub use pass::{detectors, Params, RestorationPass};
pub use polarity::PolarityDetector;

/// Which channel an event is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Left,
    Right,
    /// Both channels at once (a stereo dropout, a hum on both sides).
    Both,
}

/// One streamed detector.
pub trait Detector: Send {
    /// Feeds the next block of the track (planar stereo; a mono source
    /// comes with `right == left`).
    fn add(&mut self, block: &Block);
    /// Ends the track and writes what was found into `out`.
    fn finish(self: Box<Self>, out: &mut Restoration);
}

/// A click or pop: a burst of 1 to ~5 ms that an AR model of the
/// surrounding signal does not predict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Click {
    /// Start of the burst, seconds from the start of the track.
    pub time_s: f64,
    pub channel: Channel,
    /// Length of the burst, samples.
    pub samples: u32,
    /// Peak of the prediction error over the local level, dB.
    pub level_db: f64,
}

/// A run of samples held at a plateau (at 0 dBFS or below it: a mix
/// clipped and then turned down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClippedRun {
    #[serde(serialize_with = "round4")]
    pub time_s: f64,
    pub channel: Channel,
    /// Samples held at the plateau.
    pub samples: u32,
    /// The plateau's level, dBFS.
    #[serde(serialize_with = "round2")]
    pub level_dbfs: f64,
    /// How much the clipped peak was cut, dB (an estimate from the
    /// slopes either side of the run).
    #[serde(serialize_with = "round2")]
    pub cut_db: f64,
}

/// Digital silence, or a step to near silence, inside the programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dropout {
    #[serde(serialize_with = "round4")]
    pub time_s: f64,
    pub channel: Channel,
    /// Length, milliseconds.
    #[serde(serialize_with = "round2")]
    pub length_ms: f64,
    /// Level inside the dropout, dBFS (`None` for digital silence).
    #[serde(serialize_with = "round2_opt")]
    pub level_dbfs: Option<f64>,
}

/// One hum line: the mains fundamental or a harmonic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HumLine {
    pub hz: f64,
    /// Level above the neighbouring spectrum, dB.
    #[serde(serialize_with = "round2")]
    pub above_db: f64,
}

/// Mains hum found in the track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hum {
    /// 50 or 60 (Hz).
    pub fundamental_hz: f64,
    /// The fundamental and each harmonic that stands out, in order.
    pub lines: Vec<HumLine>,
}

/// The noise floor: level and colour of the quietest passages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseFloor {
    /// Where the quietest passage starts, seconds.
    #[serde(serialize_with = "round2")]
    pub time_s: f64,
    /// Its length, seconds.
    #[serde(serialize_with = "round2")]
    pub length_s: f64,
    /// RMS level of the passage, dBFS.
    #[serde(serialize_with = "round2")]
    pub level_dbfs: f64,
    /// Spectral slope of the passage, dB per octave (0 white, -3 pink).
    #[serde(serialize_with = "round2")]
    pub slope_db_per_octave: f64,
    /// Spectral flatness of the passage within octave bands, dB: about
    /// -1.2 for noise of any colour (both channels), far lower for music.
    #[serde(serialize_with = "round2")]
    pub flatness_db: f64,
    /// RMS level of the loudest 1 s window of the track, dBFS: a floor
    /// only a few dB under it is a loud track that never gets quiet, not
    /// a noise floor.
    #[serde(serialize_with = "round2")]
    pub programme_dbfs: f64,
}

/// Polarity of the channels against each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polarity {
    /// Correlation of left and right over the track (-1..1).
    #[serde(serialize_with = "round2")]
    pub correlation: f64,
    /// The same in the low band (20-150 Hz), where mixes are near mono:
    /// what `inverted` is judged by.
    #[serde(serialize_with = "round2")]
    pub low_band_correlation: f64,
    /// True when one channel looks inverted.
    pub inverted: bool,
}

/// What the detectors found in one track: report.json and `check --json`
/// carry it per track as `restoration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Restoration {
    #[serde(default)]
    pub clicks: Vec<Click>,
    #[serde(default)]
    pub clipped_runs: Vec<ClippedRun>,
    #[serde(default)]
    pub dropouts: Vec<Dropout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hum: Option<Hum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseFloor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polarity: Option<Polarity>,
}

/// Times to 0.1 ms in JSON (events are looked for by ear, and tests place
/// them within 2 ms).
pub(crate) fn round4<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    let r = (x * 10_000.0).round() / 10_000.0;
    s.serialize_f64(if r == 0.0 { 0.0 } else { r })
}
