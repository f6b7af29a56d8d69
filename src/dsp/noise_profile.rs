//! The noise profile of [`super::denoise`]: the power per FFT bin and
//! channel of the noise alone, learned from a time range of the track or
//! from its quietest passages, in the same frames as the denoiser's.
//!
//! Frames: [`frame_len`] samples (about 43 ms: 2048 at 44.1/48 kHz, 4096
//! at 88.2/96 kHz), a square-root Hann window, a hop of a quarter frame.
//! The profile of a bin is the mean of |X|² over the frames counted.
//!
//! - A range (`profile: { start_s, end_s }`): every frame wholly inside
//!   the range counts; the user promises the range holds noise only.
//! - The quietest passages (`profile: quietest`, the default): the frames
//!   are summed in segments of about 0.4 s. A segment counts only when it
//!   sounds like noise: its spectral flatness within the octave bands from
//!   250 Hz to 8 kHz (geometric over arithmetic mean of the bins, in dB,
//!   averaged over the bands, both channels' power summed) is at least
//!   [`NOISE_FLATNESS_DB`]: about -0.1 dB for hiss of any colour, -6 to
//!   -23 dB for the quiet passages of music (see the noise detector,
//!   analysis/restoration/noise.rs). Of those, each bin keeps the lowest
//!   segment mean, smoothed over 9 neighbouring bins ("minimum
//!   statistics"), raised by the expected shortfall of a minimum of K
//!   noisy means (about sqrt(2 ln K) standard deviations of a segment
//!   mean). Segments holding digital silence (a frame under -140 dBFS
//!   RMS) are skipped. When no segment sounds like noise (music that is
//!   dense from end to end, or a clean track), the profile is of no noise
//!   and the denoiser changes nothing: a profile taken from music would
//!   take music out (a per-bin minimum over dense real music came out 25
//!   to 40 dB over the true hiss below 3 kHz and cost 22 dB of SNR).
//!
//! Memory is fixed in [`NoiseLearner::new`]; `add` allocates nothing.

use std::f64::consts::PI;
use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::{check_rate, DspError};
use crate::audio::Block;

/// Frame length for a rate: the power of two nearest 43 ms.
pub fn frame_len(sample_rate: u32) -> usize {
    let ideal = f64::from(sample_rate) * 0.0427;
    (1usize << ideal.log2().round() as u32).clamp(256, 16_384)
}

/// The periodic square-root Hann window of `n` points: analysis and
/// synthesis window both, so that their product (a Hann) overlaps by a
/// quarter frame to a constant 2.
pub fn sqrt_hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos()).sqrt())
        .collect()
}

/// Noise power per bin (0 ..= frame/2) and channel, as mean |X|² of the
/// windowed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseProfile {
    pub frame_len: usize,
    pub psd: [Vec<f64>; 2],
}

impl NoiseProfile {
    /// A profile of no noise: the denoiser then changes nothing.
    pub fn silent(frame_len: usize) -> NoiseProfile {
        let bins = frame_len / 2 + 1;
        NoiseProfile {
            frame_len,
            psd: [vec![0.0; bins], vec![0.0; bins]],
        }
    }

    /// The level, dBFS RMS, of white noise with this profile's mean
    /// power over the bins from `lo` to `hi` (fractions of the rate).
    pub fn level_db(&self, ch: usize, lo: f64, hi: f64) -> f64 {
        let n = self.frame_len as f64;
        let (a, b) = (
            (lo * n) as usize,
            ((hi * n) as usize).min(self.psd[ch].len() - 1),
        );
        let mean = self.psd[ch][a..=b].iter().sum::<f64>() / (b - a + 1) as f64;
        // E|X|² of white noise of variance s² is s² Σw² = s² n / 2.
        10.0 * (mean * 2.0 / n).log10()
    }
}

/// Where a profile is learned from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProfileSource {
    /// Per bin, the quietest passage of the track.
    Quietest,
    /// The frames from `start` to `end` (sample frames of the stage's input).
    Range { start: u64, end: u64 },
}

/// Bins either side a segment is smoothed over (quietest).
const SMOOTH_BINS: usize = 4;
/// Segment length, seconds (quietest).
const SEGMENT_S: f64 = 0.4;
/// A frame under this mean square is digital silence (-140 dBFS).
const SILENT: f64 = 1e-14;
/// A segment sounds like noise when its flatness within octave bands is
/// at least this, dB.
pub const NOISE_FLATNESS_DB: f64 = -2.0;

/// Learns a [`NoiseProfile`] from a stream of blocks.
pub struct NoiseLearner {
    n: usize,
    hop: usize,
    window: Vec<f64>,
    fft: Arc<dyn Fft<f64>>,
    buf: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    input: [Vec<f64>; 2],
    fill: usize,
    /// Input frames taken in all.
    taken: u64,
    source: ProfileSource,
    /// Frames a segment has, and the current one's.
    seg_len: usize,
    seg_frames: usize,
    seg_silent: bool,
    seg_sum: [Vec<f64>; 2],
    smooth: Vec<f64>,
    /// Per bin the lowest segment mean, or the range's sum.
    acc: [Vec<f64>; 2],
    segments: u64,
    frames: u64,
    /// Bin ranges of the octave bands 250 Hz .. 8 kHz below 0.45 fs.
    octaves: Vec<(usize, usize)>,
}

impl NoiseLearner {
    /// A learner at `sample_rate` taking its profile from `source`.
    pub fn new(sample_rate: u32, source: ProfileSource) -> Result<NoiseLearner, DspError> {
        let rate = check_rate(sample_rate)?;
        let n = frame_len(sample_rate);
        let hop = n / 4;
        let bins = n / 2 + 1;
        let fft = FftPlanner::new().plan_fft_forward(n);
        let init = match source {
            ProfileSource::Quietest => f64::INFINITY,
            ProfileSource::Range { .. } => 0.0,
        };
        Ok(NoiseLearner {
            n,
            hop,
            window: sqrt_hann(n),
            buf: vec![Complex::default(); n],
            scratch: vec![Complex::default(); fft.get_inplace_scratch_len()],
            fft,
            input: [vec![0.0; n], vec![0.0; n]],
            fill: 0,
            taken: 0,
            source,
            seg_len: ((SEGMENT_S * rate / hop as f64).round() as usize).max(4),
            seg_frames: 0,
            seg_silent: false,
            seg_sum: [vec![0.0; bins], vec![0.0; bins]],
            smooth: vec![0.0; bins],
            acc: [vec![init; bins], vec![init; bins]],
            segments: 0,
            frames: 0,
            octaves: [250.0, 500.0, 1000.0, 2000.0, 4000.0]
                .iter()
                .filter(|&&f| 2.0 * f < 0.45 * rate)
                .map(|&f| {
                    let bin = |hz: f64| (hz * n as f64 / rate).round() as usize;
                    (bin(f), bin(2.0 * f))
                })
                .collect(),
        })
    }

    /// Takes the next frames of the stream.
    pub fn add(&mut self, block: &Block) {
        let (n, hop) = (self.n, self.hop);
        for (&l, &r) in block.left.iter().zip(&block.right) {
            self.input[0][n - hop + self.fill] = l;
            self.input[1][n - hop + self.fill] = r;
            self.fill += 1;
            self.taken += 1;
            if self.fill == hop {
                self.fill = 0;
                self.frame();
                for c in &mut self.input {
                    c.copy_within(hop.., 0);
                }
            }
        }
    }

    /// One frame ends at `taken` (it covers the `n` frames before).
    fn frame(&mut self) {
        let end = self.taken;
        if end < self.n as u64 {
            return; // still holds the zeros before the start
        }
        let start = end - self.n as u64;
        if let ProfileSource::Range { start: a, end: b } = self.source {
            if start < a || end > b {
                return;
            }
        }
        for ch in 0..2 {
            let x = &self.input[ch];
            let ms = x.iter().map(|v| v * v).sum::<f64>() / self.n as f64;
            if ms < SILENT {
                self.seg_silent = true;
            }
            for (b, (v, w)) in self.buf.iter_mut().zip(x.iter().zip(&self.window)) {
                *b = Complex::new(v * w, 0.0);
            }
            self.fft
                .process_with_scratch(&mut self.buf, &mut self.scratch);
            let dst = match self.source {
                ProfileSource::Range { .. } => &mut self.acc[ch],
                ProfileSource::Quietest => &mut self.seg_sum[ch],
            };
            for (d, c) in dst.iter_mut().zip(&self.buf) {
                *d += c.norm_sqr();
            }
        }
        self.frames += 1;
        if self.source == ProfileSource::Quietest {
            self.seg_frames += 1;
            if self.seg_frames == self.seg_len {
                self.end_segment();
            }
        }
    }

    /// The current segment's flatness within octave bands, dB.
    fn flatness_db(&self) -> f64 {
        let [a, b] = &self.seg_sum;
        let mut sum = 0.0;
        for &(lo, hi) in &self.octaves {
            let (mut ln, mut lin) = (0.0, 0.0);
            for k in lo..hi {
                let p = a[k] + b[k];
                if p <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                ln += p.ln();
                lin += p;
            }
            let m = (hi - lo) as f64;
            sum += 10.0 * ((ln / m).exp() / (lin / m)).log10();
        }
        sum / self.octaves.len().max(1) as f64
    }

    /// Folds the current segment into the per-bin minimum.
    fn end_segment(&mut self) {
        let frames = self.seg_frames as f64;
        if !self.seg_silent && self.seg_frames > 0 && self.flatness_db() >= NOISE_FLATNESS_DB {
            self.segments += 1;
            for ch in 0..2 {
                let s = &self.seg_sum[ch];
                let bins = s.len();
                for k in 0..bins {
                    let (a, b) = (
                        k.saturating_sub(SMOOTH_BINS),
                        (k + SMOOTH_BINS).min(bins - 1),
                    );
                    self.smooth[k] = s[a..=b].iter().sum::<f64>() / ((b - a + 1) as f64 * frames);
                }
                for (m, v) in self.acc[ch].iter_mut().zip(&self.smooth) {
                    *m = m.min(*v);
                }
            }
        }
        for s in &mut self.seg_sum {
            s.fill(0.0);
        }
        self.seg_frames = 0;
        self.seg_silent = false;
    }

    /// The profile; an error when a range held no whole frame.
    pub fn finish(mut self) -> Result<NoiseProfile, String> {
        match self.source {
            ProfileSource::Range { start, end } => {
                if self.frames == 0 {
                    return Err(format!(
                        "the noise profile's range (frames {start} to {end}) holds no whole frame \
                         ({} samples) of the track, which has {} frames",
                        self.n, self.taken
                    ));
                }
                let f = self.frames as f64;
                for a in &mut self.acc {
                    for v in a.iter_mut() {
                        *v /= f;
                    }
                }
            }
            ProfileSource::Quietest => {
                // A track shorter than one segment: its frames are it.
                if self.segments == 0 && self.seg_frames > 0 && self.frames < self.seg_len as u64 {
                    self.end_segment();
                }
                if self.segments == 0 {
                    return Ok(NoiseProfile::silent(self.n));
                }
                // The expected shortfall of the minimum of K segment means,
                // each of about seg_len × 9 / 3 independent exponentials.
                let dof = (self.seg_len * (2 * SMOOTH_BINS + 1)) as f64 / 3.0;
                let z = (2.0 * (self.segments.max(2) as f64).ln()).sqrt();
                let raise = 1.0 / (1.0 - z / dof.sqrt()).max(0.5);
                for a in &mut self.acc {
                    for v in a.iter_mut() {
                        *v *= raise;
                    }
                }
            }
        }
        Ok(NoiseProfile {
            frame_len: self.n,
            psd: self.acc,
        })
    }
}
