//! The streaming meter: feed it stereo [`Block`]s, get a [`Measurement`].
//!
//! The `ebur128` crate does the K-weighting and the 4x true peak. Every
//! 100 ms the meter asks it for the energy of the last
//! 100 ms and keeps the last 30 of them, from which it takes, without
//! summing any window again, the 400 ms and 3 s block energies: their
//! maxima, and the histograms that gate integrated loudness and loudness
//! range exactly in bounded memory (see [`super::gating`]).
//!
//! True peak is ebur128's 4x interpolator (half of all the meter's work),
//! run on a second instance that skips the blocks that cannot raise the
//! peak: no interpolated value can exceed the interpolator's gain (the sum
//! of its taps' magnitudes, +5.4 dB at 4x) times the largest input sample
//! in reach, so a block whose samples, and those of the frames before it,
//! lie that far below the peak so far is left out; the interpolator is
//! primed again with the frames before the next block it takes. The
//! result is the plain one, bit for bit (tested); on mastered music about
//! half the blocks are skipped.
//!
//! In the same pass, with no allocation after [`Meter::new`]: sample
//! peak, DC offset, stereo correlation, head and tail silence and
//! clipping; for the report, the short-term loudness once a second (see
//! [`super::series`]) and the 1/3-octave spectrum (see [`super::spectrum`];
//! [`Meter::without_spectrum`] leaves it out); with
//! [`Meter::with_restoration`], the restoration detectors
//! ([`super::restoration`]); with [`Meter::with_translation`], the
//! playback translation figures (see [`super::translation`]).
//!
//! It knows nothing about files: the mastering stage meters processed
//! blocks with the same type.

use ebur128::{EbuR128, Mode};

use super::gating::{energy_to_loudness, loudness_to_energy, GateHistogram};
use super::restoration::{Params, RestorationPass};
use super::series::LoudnessSeries;
use super::spectrum::SpectrumMeter;
use super::translation::TranslationMeter;
use super::{db, AnalysisError, LoudnessState, Measurement};
use crate::audio::{AudioInfo, Block};
use crate::dsp::ReconstructedPeak;

/// Level above which a sample is "sound" for head and tail silence:
/// -60 dBFS.
pub const SILENCE_THRESHOLD_DBFS: f64 = -60.0;

/// Consecutive full-scale samples on one channel that make a clip.
pub const CLIP_RUN: u32 = 3;

/// Frames of history the true-peak interpolator looks at (its 48 taps at
/// any factor cover at most 24 input frames); kept to prime it again.
const TP_HISTORY: usize = 48;

/// 100 ms sub-blocks kept for the short-term window (3 s).
const SHORT_TERM_HOPS: usize = 30;
const MOMENTARY_HOPS: usize = 4;
/// 100 ms hops between the points of the short-term series (1 s).
const SERIES_HOPS: u64 = 10;

/// A streaming loudness and peak meter for stereo blocks at one rate.
pub struct Meter {
    /// K-weighting and the 100 ms energies.
    ebu: EbuR128,
    /// True peak, fed only the blocks that may raise it, and the sample
    /// peak with it.
    tp: TruePeak,
    sample_rate: u32,
    /// Channels and bit depth of the source, reported as is.
    channels: u16,
    bit_depth: Option<u16>,
    /// Frames per 100 ms hop (as ebur128 rounds it).
    hop: usize,
    /// Frames fed since the last hop boundary.
    into_hop: usize,
    /// Hops completed.
    hops: u64,
    /// Mean-square energies of the last 30 hops, a ring.
    hop_energy: [f64; SHORT_TERM_HOPS],
    hop_index: usize,
    momentary_max: f64,
    short_term_max: f64,
    /// 400 ms blocks for integrated loudness, 3 s blocks for the range.
    blocks: GateHistogram,
    short_term: GateHistogram,
    frames: u64,
    sum_l: f64,
    sum_r: f64,
    sum_ll: f64,
    sum_rr: f64,
    sum_lr: f64,
    silence_level: f64,
    first_sound: Option<u64>,
    last_sound: Option<u64>,
    clip_level: f64,
    run_l: u32,
    run_r: u32,
    clipped: u64,
    /// The short-term loudness once a second.
    series: LoudnessSeries,
    /// The 1/3-octave spectrum, unless left out.
    spectrum: Option<SpectrumMeter>,
    /// The peak of an ideal reconstruction, when asked for.
    recon: Option<ReconstructedPeak>,
    /// The restoration detectors, when asked for.
    restoration: Option<RestorationPass>,
    /// The playback translation figures, when asked for.
    translation: Option<Box<TranslationMeter>>,
    /// Each whole window's short-term energy, when asked for
    /// ([`Meter::keeping_short_terms`]).
    short_terms: Option<Vec<f64>>,
    /// What is metered: everything, or the levels or the loudness alone.
    scope: Scope,
}

/// What a [`Meter`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Full,
    /// Loudness and true peak ([`Meter::levels_only`]).
    Levels,
    /// Loudness ([`Meter::loudness_only`]).
    Loudness,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("sample_rate", &self.sample_rate)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl Meter {
    /// A meter for stereo blocks at `sample_rate`. Samples at or beyond
    /// ±(1 - 1e-9) count as full scale for clipping.
    pub fn new(sample_rate: u32) -> Result<Meter, AnalysisError> {
        // M only for the 100 ms energies: ebur128 keeps a 400 ms window
        // of filtered audio and no history; the gating is ours.
        let make = |mode| {
            EbuR128::new(2, sample_rate, mode).map_err(|e| AnalysisError::SampleRate {
                rate: sample_rate,
                reason: e.to_string(),
            })
        };
        let ebu = make(Mode::M)?;
        let tp = TruePeak::new(sample_rate)?;
        // ebur128's own 100 ms, so that hops end on its block boundaries.
        // (ebur128 takes rates from 16 Hz, so a hop is at least 2 frames.)
        let hop = (sample_rate as usize + 5) / 10;
        Ok(Meter {
            ebu,
            tp,
            sample_rate,
            channels: 2,
            bit_depth: None,
            hop,
            into_hop: 0,
            hops: 0,
            hop_energy: [0.0; SHORT_TERM_HOPS],
            hop_index: 0,
            momentary_max: 0.0,
            short_term_max: 0.0,
            blocks: GateHistogram::default(),
            short_term: GateHistogram::default(),
            frames: 0,
            sum_l: 0.0,
            sum_r: 0.0,
            sum_ll: 0.0,
            sum_rr: 0.0,
            sum_lr: 0.0,
            silence_level: 10f64.powf(SILENCE_THRESHOLD_DBFS / 20.0),
            first_sound: None,
            last_sound: None,
            clip_level: 1.0 - 1e-9,
            run_l: 0,
            run_r: 0,
            clipped: 0,
            series: LoudnessSeries::new(SERIES_HOPS as f64 * hop as f64 / f64::from(sample_rate)),
            spectrum: Some(SpectrumMeter::new(sample_rate)),
            recon: None,
            restoration: None,
            translation: None,
            short_terms: None,
            scope: Scope::Full,
        })
    }

    /// A meter of loudness alone: integrated loudness, loudness range and
    /// the momentary and short-term maxima, computed exactly as
    /// [`Meter::new`]'s are (the same K-weighting, hops and gating, so the
    /// same values to the bit), without the true peak, the statistics, the
    /// series, the spectrum or the detectors; every other figure of its
    /// [`Measurement`] is empty. What a loudness-matching probe needs, at
    /// a fraction of the full meter's time.
    pub fn loudness_only(sample_rate: u32) -> Result<Meter, AnalysisError> {
        let mut m = Meter::new(sample_rate)?;
        m.spectrum = None;
        m.scope = Scope::Loudness;
        Ok(m)
    }

    /// The same meter reduced to the levels a delivered file is checked
    /// by: loudness as [`Meter::loudness_only`], and the true and sample
    /// peaks (the same values as the full meter's, to the bit). Duration,
    /// rate, channels and bit depth are kept.
    pub fn levels_only(mut self) -> Meter {
        self.spectrum = None;
        self.recon = None;
        self.restoration = None;
        self.scope = Scope::Levels;
        self
    }

    /// The same meter measuring the peak of an ideal reconstruction too
    /// ([`ReconstructedPeak`]; [`Measurement::reconstructed_peak_dbfs`]),
    /// as the masters and the CD image are metered.
    pub fn with_reconstruction(mut self) -> Meter {
        self.recon = Some(ReconstructedPeak::new());
        self
    }

    /// The same meter running the restoration detectors too, in the same
    /// pass ([`Measurement::restoration`], filled by [`Meter::finish`]).
    pub fn with_restoration(mut self, params: Params) -> Meter {
        self.restoration = Some(RestorationPass::new(self.sample_rate, &params));
        self
    }

    /// The same meter measuring playback translation too
    /// ([`super::translation`]; [`Measurement::translation`]), as the
    /// masters and `check`'s sources are metered.
    pub fn with_translation(mut self) -> Meter {
        // Cannot fail: the rate was taken by `new`.
        self.translation = TranslationMeter::new(self.sample_rate, self.hop)
            .ok()
            .map(Box::new);
        self
    }

    /// The same meter keeping the short-term energy of each whole 3 s
    /// window (8 bytes per 100 ms), for a [`TranslationMeter`] fed on its
    /// own thread ([`Meter::detached_translation`],
    /// [`TranslationMeter::figures_with`]).
    pub fn keeping_short_terms(mut self) -> Meter {
        self.short_terms = Some(Vec::new());
        self
    }

    /// The energies [`Meter::keeping_short_terms`] kept, taken out.
    pub fn take_short_terms(&mut self) -> Vec<f64> {
        self.short_terms
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// A translation meter for this meter's rate and hops, to be fed
    /// apart from it ([`TranslationMeter::feed`]).
    pub fn detached_translation(&self) -> Result<TranslationMeter, AnalysisError> {
        TranslationMeter::new(self.sample_rate, self.hop)
    }

    /// The same meter without the 1/3-octave spectrum (which adds 4 to
    /// 8% to the meter's time): [`Measurement::spectrum`] is `None`.
    pub fn without_spectrum(mut self) -> Meter {
        self.spectrum = None;
        self
    }

    /// A meter for a decoded source: reports its channels and bit depth,
    /// and for integer PCM counts the largest positive code (e.g.
    /// 32767/32768 for 16-bit) as full scale: |x| at or above it clips,
    /// which takes in both extreme codes (and -32767, one code in).
    pub fn for_source(info: &AudioInfo) -> Result<Meter, AnalysisError> {
        let mut m = Meter::new(info.sample_rate)?;
        m.channels = info.channels;
        m.bit_depth = info.bit_depth;
        if let (Some(bits), false) = (info.bit_depth, info.float) {
            if (2..=32).contains(&bits) {
                let full = 2f64.powi(i32::from(bits) - 1);
                m.clip_level = m.clip_level.min((full - 1.0) / full);
            }
        }
        Ok(m)
    }

    /// Sample rate the meter was made for.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Frames metered so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Meters one block.
    pub fn add(&mut self, block: &Block) {
        let n = block.left.len().min(block.right.len());
        if n == 0 {
            return;
        }
        let (l, r) = (&block.left[..n], &block.right[..n]);
        if self.scope == Scope::Levels {
            self.tp.add(block);
        } else if self.scope == Scope::Full {
            let peak = self.add_stats(l, r);
            self.tp.add_planar(l, r, peak);
            if let Some(rp) = &mut self.recon {
                rp.add(block);
            }
            if let Some(s) = &mut self.spectrum {
                s.add(l, r);
            }
            if let Some(p) = &mut self.restoration {
                p.add(block);
            }
        }
        let mut pos = 0;
        while pos < n {
            let take = (self.hop - self.into_hop).min(n - pos);
            // Cannot fail: two planes of equal length for a two-channel meter.
            let _ = self
                .ebu
                .add_frames_planar_f64(&[&l[pos..pos + take], &r[pos..pos + take]]);
            if let Some(t) = &mut self.translation {
                t.add(&l[pos..pos + take], &r[pos..pos + take]);
            }
            pos += take;
            self.into_hop += take;
            if self.into_hop == self.hop {
                self.into_hop = 0;
                self.end_hop();
            }
        }
        self.frames += n as u64;
    }

    /// After each 100 ms: update the maxima and the loudness range.
    fn end_hop(&mut self) {
        // The last 100 ms (rate/10 frames, which is one hop but for rates
        // that are not a multiple of 10 Hz, where it is a frame shorter).
        let e = loudness_to_energy(self.ebu.loudness_window(100).unwrap_or(f64::NEG_INFINITY));
        self.hop_energy[self.hop_index] = e;
        self.hop_index = (self.hop_index + 1) % SHORT_TERM_HOPS;
        self.hops += 1;
        let mut momentary = 0.0;
        for k in 1..=MOMENTARY_HOPS {
            momentary += self.hop_energy[(self.hop_index + SHORT_TERM_HOPS - k) % SHORT_TERM_HOPS];
        }
        let momentary = momentary / MOMENTARY_HOPS as f64;
        let short_term = self.hop_energy.iter().sum::<f64>() / SHORT_TERM_HOPS as f64;
        self.momentary_max = self.momentary_max.max(momentary);
        self.short_term_max = self.short_term_max.max(short_term);
        // Gating takes full windows only: the first 400 ms block ends at
        // 400 ms (as in ebur128), the first 3 s block at 3 s.
        if self.hops >= MOMENTARY_HOPS as u64 {
            self.blocks.add(momentary);
        }
        if self.hops >= SHORT_TERM_HOPS as u64 {
            self.short_term.add(short_term);
            if let Some(v) = &mut self.short_terms {
                v.push(short_term);
            }
        }
        if let Some(t) = &mut self.translation {
            t.end_hop(short_term);
        }
        if self.scope == Scope::Full && self.hops.is_multiple_of(SERIES_HOPS) {
            // No value until a whole 3 s window is in (as for gating).
            let whole = self.hops >= SHORT_TERM_HOPS as u64;
            self.series.push(if whole { short_term } else { 0.0 });
        }
    }

    /// DC, correlation, silence and clipping for one block. Returns the
    /// block's sample peak.
    fn add_stats(&mut self, l: &[f64], r: &[f64]) -> f64 {
        // Sums in four lanes so the compiler can vectorise; per-block
        // partial sums also keep the long totals accurate.
        let mut acc = [[0.0f64; 4]; 5];
        let mut peak = [0.0f64; 4];
        let lc = l.chunks_exact(4);
        let rc = r.chunks_exact(4);
        let (lt, rt) = (lc.remainder(), rc.remainder());
        for (a, b) in lc.zip(rc) {
            for k in 0..4 {
                acc[0][k] += a[k];
                acc[1][k] += b[k];
                acc[2][k] += a[k] * a[k];
                acc[3][k] += b[k] * b[k];
                acc[4][k] += a[k] * b[k];
                peak[k] = peak[k].max(a[k].abs()).max(b[k].abs());
            }
        }
        for (&a, &b) in lt.iter().zip(rt) {
            acc[0][0] += a;
            acc[1][0] += b;
            acc[2][0] += a * a;
            acc[3][0] += b * b;
            acc[4][0] += a * b;
            peak[0] = peak[0].max(a.abs()).max(b.abs());
        }
        let sum = |v: &[f64; 4]| (v[0] + v[1]) + (v[2] + v[3]);
        self.sum_l += sum(&acc[0]);
        self.sum_r += sum(&acc[1]);
        self.sum_ll += sum(&acc[2]);
        self.sum_rr += sum(&acc[3]);
        self.sum_lr += sum(&acc[4]);
        let peak = peak[0].max(peak[1]).max(peak[2]).max(peak[3]);

        // Silence: only blocks with something above the threshold matter.
        if peak > self.silence_level {
            let level = self.silence_level;
            let loud = |i: &usize| l[*i].abs() > level || r[*i].abs() > level;
            if self.first_sound.is_none() {
                if let Some(i) = (0..l.len()).find(loud) {
                    self.first_sound = Some(self.frames + i as u64);
                }
            }
            if let Some(i) = (0..l.len()).rev().find(loud) {
                self.last_sound = Some(self.frames + i as u64);
            }
        }

        // Clipping: runs of CLIP_RUN or more full-scale samples.
        if peak >= self.clip_level {
            self.run_l = count_clips(l, self.clip_level, self.run_l, &mut self.clipped);
            self.run_r = count_clips(r, self.clip_level, self.run_r, &mut self.clipped);
        } else {
            self.run_l = 0;
            self.run_r = 0;
        }
        peak
    }

    /// The figures so far, and the state an album measurement needs.
    pub fn finish(mut self) -> (Measurement, LoudnessState) {
        let mut m = self.measurement();
        m.restoration = self.restoration.take().map(RestorationPass::finish);
        let state = LoudnessState {
            integrated_lufs: m.integrated_lufs,
            true_peak_dbtp: m.true_peak_dbtp,
            frames: self.frames,
            sample_rate: self.sample_rate,
            blocks: self.blocks,
            short_term: self.short_term,
        };
        (m, state)
    }

    /// The figures of everything metered so far (the meter goes on).
    pub fn measurement(&self) -> Measurement {
        let rate = f64::from(self.sample_rate);
        let frames = self.frames;
        let n = frames.max(1) as f64;
        let dc = [db((self.sum_l / n).abs()), db((self.sum_r / n).abs())];
        let correlation = correlation(self.sum_ll, self.sum_rr, self.sum_lr);
        let (head, tail) = match (self.first_sound, self.last_sound) {
            (Some(first), Some(last)) => (first, frames - 1 - last),
            _ => (frames, frames),
        };
        let integrated_lufs = self.blocks.integrated();
        Measurement {
            sample_rate: self.sample_rate,
            bit_depth: self.bit_depth,
            channels: self.channels,
            duration_s: frames as f64 / rate,
            integrated_lufs,
            loudness_range_lu: self.short_term.range(),
            short_term_max_lufs: finite(energy_to_loudness(self.short_term_max)),
            momentary_max_lufs: finite(energy_to_loudness(self.momentary_max)),
            true_peak_dbtp: self.tp.dbtp(),
            sample_peak_dbfs: db(self.tp.sample_peak),
            dc_offset_dbfs: dc,
            correlation,
            head_silence_s: head as f64 / rate,
            tail_silence_s: tail as f64 / rate,
            clipped_samples: self.clipped,
            short_term_series: self.series.clone(),
            spectrum: self.spectrum.as_ref().map(SpectrumMeter::spectrum),
            reconstructed_peak_dbfs: self.recon.as_ref().and_then(ReconstructedPeak::dbfs),
            restoration: None,
            translation: self
                .translation
                .as_ref()
                .map(|t| t.figures(integrated_lufs)),
        }
    }
}

/// The 4x true peak alone (ebur128's interpolator), skipping the blocks
/// that cannot raise it (see the module doc): what [`Meter`] reports as
/// `true_peak_dbtp`, for a fraction of the meter's time. The deliver stage
/// checks decoded MP3s with it.
pub struct TruePeak {
    ebu: EbuR128,
    /// The interpolator's largest gain (with a margin).
    gain: f64,
    /// Largest true peak so far (linear).
    max: f64,
    /// Whether `ebu` saw the previous block (else it must be primed).
    primed: bool,
    /// Frames the interpolator was spared.
    skipped: u64,
    /// The last `TP_HISTORY` frames (zeros before the first), and their
    /// peak.
    tail: [[f64; TP_HISTORY]; 2],
    tail_peak: f64,
    sample_peak: f64,
}

impl std::fmt::Debug for TruePeak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TruePeak")
            .field("max", &self.max)
            .field("sample_peak", &self.sample_peak)
            .finish_non_exhaustive()
    }
}

impl TruePeak {
    /// A true-peak meter for stereo blocks at `sample_rate`.
    pub fn new(sample_rate: u32) -> Result<TruePeak, AnalysisError> {
        let ebu = EbuR128::new(2, sample_rate, Mode::TRUE_PEAK).map_err(|e| {
            AnalysisError::SampleRate {
                rate: sample_rate,
                reason: e.to_string(),
            }
        })?;
        Ok(TruePeak {
            ebu,
            gain: interpolator_gain(sample_rate) * 1.05,
            max: 0.0,
            primed: true,
            skipped: 0,
            tail: [[0.0; TP_HISTORY]; 2],
            tail_peak: 0.0,
            sample_peak: 0.0,
        })
    }

    /// Meters one block.
    pub fn add(&mut self, block: &Block) {
        let n = block.left.len().min(block.right.len());
        if n == 0 {
            return;
        }
        let (l, r) = (&block.left[..n], &block.right[..n]);
        let mut peak = [0.0f64; 4];
        let lc = l.chunks_exact(4);
        let rc = r.chunks_exact(4);
        let (lt, rt) = (lc.remainder(), rc.remainder());
        for (a, b) in lc.zip(rc) {
            for k in 0..4 {
                peak[k] = peak[k].max(a[k].abs()).max(b[k].abs());
            }
        }
        for (&a, &b) in lt.iter().zip(rt) {
            peak[0] = peak[0].max(a.abs()).max(b.abs());
        }
        let peak = peak[0].max(peak[1]).max(peak[2]).max(peak[3]);
        self.add_planar(l, r, peak);
    }

    /// Starts the peak again from here, keeping the interpolator's state
    /// (the frames before still reach the next ones' inter-sample points):
    /// the peak of a stretch of a longer signal.
    pub fn restart(&mut self) {
        self.max = 0.0;
        self.sample_peak = 0.0;
    }

    /// The true peak so far (at least the sample peak), dBTP; `None` for
    /// digital silence.
    pub fn dbtp(&self) -> Option<f64> {
        db(self.max.max(self.sample_peak))
    }

    /// Feeds the interpolator unless the block (of sample peak `peak`)
    /// cannot raise the peak (see the module doc); keeps the last frames to
    /// prime it again.
    fn add_planar(&mut self, l: &[f64], r: &[f64], peak: f64) {
        self.sample_peak = self.sample_peak.max(peak);
        let n = l.len();
        if self.gain * peak.max(self.tail_peak) >= self.max {
            if !self.primed {
                // All of the tail, with the zeros before the first frame
                // that the interpolator started from.
                let _ = self
                    .ebu
                    .seed_frames_planar_f64(&[&self.tail[0][..], &self.tail[1][..]]);
            }
            let _ = self.ebu.add_frames_planar_f64(&[l, r]);
            // This block's peaks (the running maximum is `max`, so that
            // `restart` can start it again).
            let a = self.ebu.prev_true_peak(0).unwrap_or(0.0);
            let b = self.ebu.prev_true_peak(1).unwrap_or(0.0);
            self.max = self.max.max(a).max(b);
            self.primed = true;
        } else {
            self.primed = false;
            self.skipped += n as u64;
        }
        // The tail: the last TP_HISTORY frames, right-aligned.
        for (tail, x) in self.tail.iter_mut().zip([l, r]) {
            if n >= TP_HISTORY {
                tail.copy_from_slice(&x[n - TP_HISTORY..]);
            } else {
                tail.copy_within(n.., 0);
                tail[TP_HISTORY - n..].copy_from_slice(x);
            }
        }
        self.tail_peak = self.tail[0]
            .iter()
            .chain(&self.tail[1])
            .fold(0.0, |m: f64, x| m.max(x.abs()));
    }
}

/// The largest gain of ebur128's true-peak interpolator at `rate`: its
/// 48-tap Hann-windowed sinc, split into 4 phases below 96 kHz, 2 below
/// 192 kHz, none above (the formula of the crate's `interp.rs`). No
/// interpolated value exceeds this times the largest input in reach.
fn interpolator_gain(rate: u32) -> f64 {
    let factor = if rate < 96_000 {
        4
    } else if rate < 192_000 {
        2
    } else {
        return 1.0;
    };
    let taps = 48;
    let coeff = |j: usize| {
        let w = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * j as f64 / taps as f64).cos());
        let m = j as f64 - taps as f64 / 2.0;
        if m.abs() > 1e-6 {
            let x = m * std::f64::consts::PI / f64::from(factor);
            w * x.sin() / x
        } else {
            w
        }
    };
    (0..factor as usize)
        .map(|phase| {
            (0..taps / factor as usize)
                .map(|t| coeff(t * factor as usize + phase).abs())
                .sum::<f64>()
        })
        .fold(1.0, f64::max)
}

/// Counts samples in runs of at least [`CLIP_RUN`] at or beyond `level`;
/// `run` is the run carried over from the previous block. Returns the run
/// at the end of `x`.
fn count_clips(x: &[f64], level: f64, mut run: u32, clipped: &mut u64) -> u32 {
    for &s in x {
        if s.abs() >= level {
            run += 1;
            if run == CLIP_RUN {
                *clipped += u64::from(CLIP_RUN);
            } else if run > CLIP_RUN {
                *clipped += 1;
            }
        } else {
            run = 0;
        }
    }
    run
}

/// Σ(LR)/√(ΣL²ΣR²): 1 for identical channels (mono), -1 for inverted, 0
/// for unrelated. Both channels silent count as identical (1); one silent
/// channel as unrelated (0).
fn correlation(ll: f64, rr: f64, lr: f64) -> f64 {
    if ll == 0.0 && rr == 0.0 {
        1.0
    } else if ll == 0.0 || rr == 0.0 {
        0.0
    } else {
        (lr / (ll * rr).sqrt()).clamp(-1.0, 1.0)
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_runs_count_only_three_or_more() {
        let mut clipped = 0;
        let x = [1.0, 1.0, 0.5, -1.0, -1.0, -1.0, 1.0, 0.0, 1.0, 1.0];
        let run = count_clips(&x, 1.0 - 1e-9, 0, &mut clipped);
        assert_eq!(clipped, 4);
        assert_eq!(run, 2);
        // The run carries into the next block.
        let run = count_clips(&[1.0, 0.0], 1.0 - 1e-9, run, &mut clipped);
        assert_eq!(clipped, 7);
        assert_eq!(run, 0);
    }

    /// Seeded noise whose level jumps around, with loud spikes.
    fn signal(rate: u32, seconds: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let n = (f64::from(rate) * seconds) as usize;
        let mut s = seed;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        };
        let (mut l, mut r) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut level = 0.5;
        for i in 0..n {
            if i % 3000 == 0 {
                level = 10f64.powf(-3.0 * (next() + 1.0)); // 0 to -60 dB
            }
            let spike = if i % 50_021 == 0 { 0.9 } else { 0.0 };
            let t = i as f64 / f64::from(rate);
            let tone = (2.0 * std::f64::consts::PI * 0.23 * f64::from(rate) * t).sin();
            l.push(level * (0.5 * next() + 0.5 * tone) + spike);
            r.push(level * next() - spike);
        }
        (l, r)
    }

    #[test]
    fn skipping_true_peak_equals_plain_metering() {
        for (rate, seed) in [(44_100, 1), (48_000, 2), (96_000, 3), (192_000, 4)] {
            let (l, r) = signal(rate, 6.0, seed);
            let mut plain = EbuR128::new(2, rate, Mode::TRUE_PEAK).unwrap();
            plain.add_frames_planar_f64(&[&l, &r]).unwrap();
            let want = plain.true_peak(0).unwrap().max(plain.true_peak(1).unwrap());
            for block in [1, 7, 100, 4096, 10_000] {
                let mut meter = Meter::new(rate).unwrap();
                for (a, b) in l.chunks(block).zip(r.chunks(block)) {
                    meter.add(&Block {
                        left: a.to_vec(),
                        right: b.to_vec(),
                    });
                }
                let got = meter.tp.max.max(meter.tp.sample_peak);
                assert_eq!(got, want, "rate {rate}, blocks of {block}");
                // The skipping was exercised.
                assert!(
                    meter.tp.skipped > meter.frames / 4,
                    "rate {rate}, blocks of {block}"
                );
                // The true peak alone gives the same.
                let mut alone = TruePeak::new(rate).unwrap();
                for (a, b) in l.chunks(block).zip(r.chunks(block)) {
                    alone.add(&Block {
                        left: a.to_vec(),
                        right: b.to_vec(),
                    });
                }
                assert_eq!(alone.max.max(alone.sample_peak), want);
                assert_eq!(alone.dbtp(), db(want));
            }
        }
    }

    #[test]
    fn loudness_only_gives_the_full_meters_loudness_to_the_bit() {
        for (rate, seed) in [(44_100, 5), (48_000, 6), (96_000, 7)] {
            let (l, r) = signal(rate, 9.0, seed);
            for block in [1000, 4096] {
                let mut full = Meter::new(rate).unwrap().with_reconstruction();
                let mut light = Meter::loudness_only(rate).unwrap();
                let mut levels = Meter::new(rate).unwrap().levels_only();
                for (a, b) in l.chunks(block).zip(r.chunks(block)) {
                    let b = Block {
                        left: a.to_vec(),
                        right: b.to_vec(),
                    };
                    full.add(&b);
                    light.add(&b);
                    levels.add(&b);
                }
                let (v, _) = levels.finish();
                let (f, fs) = full.finish();
                let (g, gs) = light.finish();
                assert!(f.integrated_lufs.is_some());
                assert_eq!(f.integrated_lufs, g.integrated_lufs, "rate {rate}");
                assert_eq!(f.loudness_range_lu, g.loudness_range_lu);
                assert_eq!(f.short_term_max_lufs, g.short_term_max_lufs);
                assert_eq!(fs.frames, gs.frames);
                // What it leaves out, it says nothing of.
                assert_eq!(g.true_peak_dbtp, None);
                assert!(g.spectrum.is_none() && g.reconstructed_peak_dbfs.is_none());
                // Levels: the loudness and both peaks, as the full meter.
                assert_eq!(v.integrated_lufs, f.integrated_lufs);
                assert_eq!(v.true_peak_dbtp, f.true_peak_dbtp);
                assert_eq!(v.sample_peak_dbfs, f.sample_peak_dbfs);
                assert_eq!(v.duration_s, f.duration_s);
                assert!(f.true_peak_dbtp.is_some());
            }
        }
    }

    #[test]
    fn interpolator_gain_matches_ebur128_taps() {
        // +5.4 dB at 4x, +7.3 dB at 2x (the sums of the taps' magnitudes).
        assert!((20.0 * interpolator_gain(48_000).log10() - 5.41).abs() < 0.01);
        assert!((20.0 * interpolator_gain(96_000).log10() - 7.26).abs() < 0.01);
        assert_eq!(interpolator_gain(192_000), 1.0);
    }

    #[test]
    fn correlation_edges() {
        assert_eq!(correlation(0.0, 0.0, 0.0), 1.0);
        assert_eq!(correlation(1.0, 0.0, 0.0), 0.0);
        assert_eq!(correlation(4.0, 4.0, -4.0), -1.0);
    }
}
