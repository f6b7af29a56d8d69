//! Hum: mains at 50 or 60 Hz and its harmonics 2 to 6, standing above the
//! neighbouring spectrum, steadily across the track.
//!
//! The mid channel is analysed in frames of 2 s (0.5 Hz resolution, Hann
//! window, half overlap). In each frame, each line (the largest bin within
//! ±0.5 Hz of h × 50 or h × 60 Hz) is compared with the median of the
//! bins 5 to 20 Hz either side of it; a line is present in a frame when it
//! stands [`PRESENT_DB`] above. A line is hum only when it is present in
//! at least [`STEADY`] of the frames that carry sound, so a held bass note
//! on 49 or 100 Hz, which comes and goes, is not; its figure is the ratio
//! of its power to its neighbours' summed over the frames. A family is
//! hum only with [`MIN_LINES`] steady lines (one alone is a drone). Memory is fixed
//! at `new` (two frames of samples and the FFT's scratch).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::{Detector, Hum, HumLine, Restoration};
use crate::audio::Block;

/// A line must stand this far above its neighbours in a frame to be
/// present in it, dB.
pub const PRESENT_DB: f64 = 6.0;
/// Share of the frames a line must be present in to be hum.
pub const STEADY: f64 = 0.75;
/// Harmonics looked at: the fundamental and 2..=6.
const HARMONICS: usize = 6;
const FAMILIES: [f64; 2] = [50.0, 60.0];
/// Steady lines a family needs to be hum: one steady line alone is a
/// drone (hr3-mirror holds 300 Hz, 6 × 50 and 5 × 60, for most of a 20 s
/// clip), mains hum has harmonics.
pub const MIN_LINES: usize = 2;

/// The hum detector.
pub struct HumDetector {
    rate: f64,
    n: usize,
    /// The last `n` mid samples, a ring, and where the next goes.
    ring: Vec<f64>,
    pos: usize,
    /// Samples since the last frame, and in all.
    since: usize,
    filled: usize,
    window: Vec<f64>,
    buf: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    fft: Arc<dyn Fft<f64>>,
    power: Vec<f64>,
    neighbours: Vec<f64>,
    frames: u32,
    /// Per family and harmonic: frames present, Σ line power, Σ median.
    present: [[u32; HARMONICS]; 2],
    line: [[f64; HARMONICS]; 2],
    floor: [[f64; HARMONICS]; 2],
}

impl HumDetector {
    /// A detector at `rate`.
    pub fn new(rate: u32) -> HumDetector {
        let n = (2 * rate as usize).max(64);
        let fft = FftPlanner::new().plan_fft_forward(n);
        let window = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
            .collect();
        HumDetector {
            rate: f64::from(rate),
            n,
            ring: vec![0.0; n],
            pos: 0,
            since: 0,
            filled: 0,
            window,
            buf: vec![Complex::default(); n],
            scratch: vec![Complex::default(); fft.get_inplace_scratch_len()],
            fft,
            power: vec![0.0; n / 2 + 1],
            neighbours: Vec::with_capacity(128),
            frames: 0,
            present: [[0; HARMONICS]; 2],
            line: [[0.0; HARMONICS]; 2],
            floor: [[0.0; HARMONICS]; 2],
        }
    }

    fn frame(&mut self) {
        let n = self.n;
        for i in 0..n {
            let x = self.ring[(self.pos + i) % n];
            self.buf[i] = Complex::new(x * self.window[i], 0.0);
        }
        self.fft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        for (p, c) in self.power.iter_mut().zip(&self.buf) {
            *p = c.norm_sqr();
        }
        let hz = n as f64 / self.rate; // bins per Hz
        let bin = |f: f64| (f * hz).round() as usize;
        let total: f64 = self.power[bin(20.0)..bin(400.0).min(self.power.len())]
            .iter()
            .sum();
        if total <= 0.0 {
            return; // silence: the frame says nothing
        }
        let all: f64 = self.power.iter().sum();
        self.frames += 1;
        for (fi, f0) in FAMILIES.iter().enumerate() {
            for h in 0..HARMONICS {
                let f = f0 * (h + 1) as f64;
                let (lo, hi) = (bin(f - 0.5), bin(f + 0.5));
                if bin(f + 20.0) >= self.power.len() {
                    continue;
                }
                let line = self.power[lo..=hi].iter().fold(0.0, |m: f64, &p| m.max(p));
                self.neighbours.clear();
                self.neighbours
                    .extend_from_slice(&self.power[bin(f - 20.0)..=bin(f - 5.0)]);
                self.neighbours
                    .extend_from_slice(&self.power[bin(f + 5.0)..=bin(f + 20.0)]);
                let mid = self.neighbours.len() / 2;
                let (_, median, _) = self.neighbours.select_nth_unstable_by(mid, f64::total_cmp);
                let median = *median;
                self.line[fi][h] += line;
                self.floor[fi][h] += median;
                // Above its neighbours, and audible: a line more than 60 dB
                // under the frame's whole energy is no hum (a 16-bit sine's
                // periodic rounding error leaves a comb of lines 100 dB
                // down, over neighbours of nearly 0).
                if line > median * 10f64.powf(PRESENT_DB / 10.0) && line > all * 1e-6 {
                    self.present[fi][h] += 1;
                }
            }
        }
    }
}

impl Detector for HumDetector {
    fn add(&mut self, block: &Block) {
        let len = block.left.len().min(block.right.len());
        for (&l, &r) in block.left[..len].iter().zip(&block.right[..len]) {
            self.ring[self.pos] = 0.5 * (l + r);
            self.pos = (self.pos + 1) % self.n;
            self.filled += 1;
            self.since += 1;
            if self.filled >= self.n && self.since >= self.n / 2 {
                self.since = 0;
                self.frame();
            }
        }
    }

    fn finish(self: Box<Self>, out: &mut Restoration) {
        if self.frames == 0 {
            return;
        }
        let need = (STEADY * f64::from(self.frames)).ceil() as u32;
        let mut best: Option<(f64, Hum)> = None;
        for (fi, f0) in FAMILIES.iter().enumerate() {
            let mut lines = Vec::new();
            let mut score = 0.0;
            for h in 0..HARMONICS {
                if self.present[fi][h] >= need && self.floor[fi][h] > 0.0 {
                    let above_db = 10.0 * (self.line[fi][h] / self.floor[fi][h]).log10();
                    score += above_db;
                    lines.push(HumLine {
                        hz: f0 * (h + 1) as f64,
                        above_db,
                    });
                }
            }
            if lines.len() >= MIN_LINES && best.as_ref().is_none_or(|(s, _)| score > *s) {
                let hum = Hum {
                    fundamental_hz: *f0,
                    lines,
                };
                best = Some((score, hum));
            }
        }
        out.hum = best.map(|(_, h)| h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x: &[f64]) -> Option<Hum> {
        let mut d = Box::new(HumDetector::new(48_000));
        for c in x.chunks(4096) {
            d.add(&Block {
                left: c.to_vec(),
                right: c.to_vec(),
            });
        }
        let mut out = Restoration::default();
        d.finish(&mut out);
        out.hum
    }

    fn noise(n: usize, level: f64) -> Vec<f64> {
        let mut s = 11u64;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                level * ((s >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
            })
            .collect()
    }

    #[test]
    fn sixty_hz_and_harmonics_in_noise() {
        let mut x = noise(48_000 * 10, 0.1);
        let a = 0.01 * std::f64::consts::SQRT_2;
        for (i, v) in x.iter_mut().enumerate() {
            let t = i as f64 / 48_000.0;
            for h in 1..=3 {
                *v += a * (2.0 * std::f64::consts::PI * 60.0 * h as f64 * t).sin();
            }
        }
        let hum = run(&x).expect("hum");
        assert_eq!(hum.fundamental_hz, 60.0);
        assert_eq!(hum.lines.len(), 3, "{hum:?}");
        assert!(hum.lines.iter().all(|l| l.above_db > 10.0), "{hum:?}");
        assert!(run(&noise(48_000 * 10, 0.1)).is_none());
    }
}
