//! The mastering DSP stages. Each stage allocates in `new()` and processes
//! caller-owned planar stereo blocks ([`Block`](crate::audio::Block), f64,
//! full scale 1.0) in place; nothing is allocated, formatted or locked per
//! sample. No stage reads the manifest: each takes a plain parameter struct
//! defined here, and the caller maps the manifest onto them.
//!
//! Stages: [`eq`] (RBJ biquads), [`compressor`] (feed-forward, soft knee),
//! [`limiter`] (true-peak lookahead limiter, fixed latency) with its
//! detector [`oversample`] (also the kernel of [`reconstructed`], the
//! reconstruction peak meter and clip counter), [`gain`],
//! [`stereo`] (M/S width), [`fade`] (fade in/out, trim helper),
//! [`resample`] (rubato FFT resampler, delay compensated), [`dither`]
//! (TPDF / noise-shaped quantisation to 16 or 24 bits) and [`chain`], which
//! strings the block stages together and hides the limiter's latency;
//! [`match_eq`] is the linear-phase FIR of tonal matching. The repair
//! stages: [`dehum`] (notches at a mains fundamental and its harmonics),
//! [`denoise`] (an STFT Wiener filter against a [`noise_profile`]
//! learned before the render) and [`declip`] (clipped samples rebuilt
//! under an [`ar`] model, at or beyond the clip level).

pub mod ar;
pub mod chain;
pub mod compressor;
pub mod declip;
pub mod dehum;
pub mod denoise;
pub mod dither;
pub mod eq;
pub mod fade;
pub mod gain;
pub mod limiter;
pub mod match_eq;
pub mod noise_profile;
pub mod oversample;
pub mod reconstructed;
pub mod resample;
pub mod stereo;

pub use chain::{Chain, Stage};
pub use compressor::{Compressor, CompressorParams};
pub use declip::{ClipLearner, ClipLevels, Declip, DeclipParams};
pub use dehum::{Dehum, DehumParams};
pub use denoise::{Denoise, DenoiseParams, NoiseLearner, NoiseProfile, ProfileSource};
pub use dither::{Dither, DitherKind};
pub use eq::{Eq, EqBand, EqKind};
pub use fade::{trim_range, Fade, FadeCurve, FadeParams};
pub use gain::Gain;
pub use limiter::{Limiter, LimiterParams};
pub use match_eq::{MatchCurve, MatchEq};
pub use reconstructed::ReconstructedPeak;
pub use resample::Resampler;
pub use stereo::StereoWidth;

/// Why a DSP stage could not be built. Every variant names the bad value
/// and what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DspError {
    #[error("sample rate {0} Hz is not usable: it must be between 8000 and 768000 Hz")]
    SampleRate(u32),
    #[error("{what} = {value} is out of range: {allowed}")]
    Param {
        what: &'static str,
        value: f64,
        allowed: &'static str,
    },
    #[error("the resampler could not be built for {from_hz} Hz -> {to_hz} Hz: {reason}")]
    Resampler {
        from_hz: u32,
        to_hz: u32,
        reason: String,
    },
}

/// Checks a sample rate for the stages that need one.
pub(crate) fn check_rate(sample_rate: u32) -> Result<f64, DspError> {
    if (8000..=768_000).contains(&sample_rate) {
        Ok(sample_rate as f64)
    } else {
        Err(DspError::SampleRate(sample_rate))
    }
}

/// Checks that `value` is finite and within `lo..=hi`.
pub(crate) fn check_param(
    what: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    allowed: &'static str,
) -> Result<f64, DspError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(DspError::Param {
            what,
            value,
            allowed,
        })
    }
}

/// Decibels to a linear amplitude factor.
#[inline]
pub fn db_to_lin(db: f64) -> f64 {
    (db * (std::f64::consts::LN_10 / 20.0)).exp()
}

/// A linear amplitude to decibels (-inf for 0).
#[inline]
pub fn lin_to_db(lin: f64) -> f64 {
    lin.ln() * (20.0 / std::f64::consts::LN_10)
}

/// One-pole smoothing coefficient for a time constant in ms: the state moves
/// 1 - 1/e of the way to a step in `ms` milliseconds. 0 ms gives 0 (no
/// smoothing).
pub(crate) fn one_pole_coef(ms: f64, sample_rate: f64) -> f64 {
    if ms <= 0.0 {
        0.0
    } else {
        (-1.0 / (ms * 1e-3 * sample_rate)).exp()
    }
}
