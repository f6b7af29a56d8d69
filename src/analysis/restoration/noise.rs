//! The noise floor: level and colour of the quietest passage.
//!
//! The track is cut into 1 s windows every 0.5 s. The quietest window
//! (lowest RMS of both channels) inside the programme is the floor: a
//! window counts only when some window at or before it and some at or
//! after it carry sound (a sample above -60 dBFS), which leaves out the
//! head and the tail, and only when it holds no digital silence (10 ms or
//! more of exact zeros on both channels). Its colour is the slope, in dB
//! per octave, of a line fitted to its power density in octave bands from
//! 125 Hz (0 for white noise, -3 for pink), from an FFT of the window
//! made only when a window becomes the quietest so far. With it, the
//! passage's spectral flatness within octave bands (250 Hz-8 kHz: the
//! geometric over the arithmetic mean of each band's bins, averaged in
//! dB): about -1.2 dB for noise of any colour (left and right powers summed), far lower for music, so a
//! check can tell hiss from a quiet passage of music. The loudest
//! window is kept too, so that a check can tell a floor from a loud track
//! that never gets quiet. Memory is fixed at `new`.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::{Detector, NoiseFloor, Restoration};
use crate::analysis::db;
use crate::audio::Block;

/// Sound: a sample above -60 dBFS.
const SOUND: f64 = 1e-3;

#[derive(Clone, Copy)]
struct Floor {
    start: u64,
    energy: f64,
    slope: f64,
    flatness: f64,
}

/// One half window's sums.
#[derive(Clone, Copy, Default)]
struct Half {
    energy: f64,
    peak: f64,
    silence: bool,
}

/// The noise-floor detector.
pub struct NoiseDetector {
    rate: f64,
    /// Frames per half window, and in the current half.
    half: usize,
    into: usize,
    halves: u64,
    prev: Half,
    cur: Half,
    zero_run: usize,
    min_zero_run: usize,
    /// The last window, both channels, as rings.
    ring: [Vec<f64>; 2],
    pos: usize,
    fft: Arc<dyn Fft<f64>>,
    buf: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    window: Vec<f64>,
    power: Vec<f64>,
    seen_sound: bool,
    confirmed: Option<Floor>,
    pending: Option<Floor>,
    loudest: f64,
}

impl NoiseDetector {
    /// A detector at `rate`.
    pub fn new(rate: u32) -> NoiseDetector {
        let half = (rate as usize / 2).max(16);
        let n = 2 * half;
        let fft = FftPlanner::new().plan_fft_forward(n);
        NoiseDetector {
            rate: f64::from(rate),
            half,
            into: 0,
            halves: 0,
            prev: Half::default(),
            cur: Half::default(),
            zero_run: 0,
            min_zero_run: (rate as usize / 100).max(1),
            ring: [vec![0.0; n], vec![0.0; n]],
            pos: 0,
            buf: vec![Complex::default(); n],
            scratch: vec![Complex::default(); fft.get_inplace_scratch_len()],
            fft,
            window: (0..n)
                .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
                .collect(),
            power: vec![0.0; n / 2 + 1],
            seen_sound: false,
            confirmed: None,
            pending: None,
            loudest: 0.0,
        }
    }

    /// The slope of the window now in the rings, dB per octave, and its
    /// flatness, dB.
    fn colour(&mut self) -> (f64, f64) {
        let n = self.ring[0].len();
        self.power.iter_mut().for_each(|p| *p = 0.0);
        for ch in 0..2 {
            for i in 0..n {
                let x = self.ring[ch][(self.pos + i) % n];
                self.buf[i] = Complex::new(x * self.window[i], 0.0);
            }
            self.fft
                .process_with_scratch(&mut self.buf, &mut self.scratch);
            for (p, c) in self.power.iter_mut().zip(&self.buf) {
                *p += c.norm_sqr();
            }
        }
        let per_hz = n as f64 / self.rate;
        // Octave bands 125 Hz up, each wholly under 0.45 of the rate.
        let (mut sx, mut sy, mut sxx, mut sxy, mut k) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut flat, mut flat_bands) = (0.0, 0.0);
        let mut centre = 125.0;
        while centre * std::f64::consts::SQRT_2 <= 0.45 * self.rate {
            let lo = (centre / std::f64::consts::SQRT_2 * per_hz).round() as usize;
            let hi = (centre * std::f64::consts::SQRT_2 * per_hz).round() as usize;
            let band = &self.power[lo..hi.min(self.power.len())];
            let density = band.iter().sum::<f64>() / band.len().max(1) as f64;
            if density > 0.0 && (250.0..=8000.0).contains(&centre) {
                // Geometric over arithmetic mean of the band's bins (a
                // zero bin counts as 1e-30 of the mean).
                let log_mean = band
                    .iter()
                    .map(|p| (p / density).max(1e-30).ln())
                    .sum::<f64>()
                    / band.len() as f64;
                flat += 10.0 * log_mean / std::f64::consts::LN_10;
                flat_bands += 1.0;
            }
            if density > 0.0 {
                let x = (centre / 1000.0f64).log2();
                let y = 10.0 * density.log10();
                sx += x;
                sy += y;
                sxx += x * x;
                sxy += x * y;
                k += 1.0;
            }
            centre *= 2.0;
        }
        let d = k * sxx - sx * sx;
        let slope = if k < 2.0 || d <= 0.0 {
            0.0
        } else {
            (k * sxy - sx * sy) / d
        };
        let flatness = if flat_bands > 0.0 {
            flat / flat_bands
        } else {
            f64::NEG_INFINITY
        };
        (slope, flatness)
    }

    /// Offers the window now in the rings to `slot` (`true`: confirmed).
    fn offer(&mut self, confirmed: bool, start: u64, energy: f64) {
        let slot = if confirmed {
            self.confirmed
        } else {
            self.pending
        };
        if slot.is_none_or(|f| energy < f.energy) {
            let (slope, flatness) = self.colour();
            let f = Some(Floor {
                start,
                energy,
                slope,
                flatness,
            });
            if confirmed {
                self.confirmed = f;
            } else {
                self.pending = f;
            }
        }
    }

    fn end_half(&mut self) {
        self.halves += 1;
        let (prev, cur) = (self.prev, self.cur);
        self.prev = cur;
        self.cur = Half::default();
        if self.halves < 2 {
            return;
        }
        let start = (self.halves - 2) * self.half as u64;
        let energy = (prev.energy + cur.energy) / (4 * self.half) as f64;
        let sound = prev.peak.max(cur.peak) > SOUND;
        let usable = !(prev.silence || cur.silence);
        self.loudest = self.loudest.max(energy);
        if sound {
            if let Some(p) = self.pending.take() {
                if self.confirmed.is_none_or(|c| p.energy < c.energy) {
                    self.confirmed = Some(p);
                }
            }
            self.seen_sound = true;
            if usable {
                self.offer(true, start, energy);
            }
        } else if self.seen_sound && usable {
            self.offer(false, start, energy);
        }
    }
}

impl Detector for NoiseDetector {
    fn add(&mut self, block: &Block) {
        let len = block.left.len().min(block.right.len());
        let n = self.ring[0].len();
        for (&l, &r) in block.left[..len].iter().zip(&block.right[..len]) {
            self.ring[0][self.pos] = l;
            self.ring[1][self.pos] = r;
            self.pos = (self.pos + 1) % n;
            let h = &mut self.cur;
            h.energy += l * l + r * r;
            h.peak = h.peak.max(l.abs()).max(r.abs());
            if l == 0.0 && r == 0.0 {
                self.zero_run += 1;
                if self.zero_run >= self.min_zero_run {
                    h.silence = true;
                }
            } else {
                self.zero_run = 0;
            }
            self.into += 1;
            if self.into == self.half {
                self.into = 0;
                self.end_half();
            }
        }
    }

    fn finish(self: Box<Self>, out: &mut Restoration) {
        let rate = self.rate;
        out.noise = self.confirmed.and_then(|f| {
            Some(NoiseFloor {
                time_s: f.start as f64 / rate,
                length_s: 2.0 * self.half as f64 / rate,
                level_dbfs: db(f.energy.sqrt())?,
                slope_db_per_octave: f.slope,
                flatness_db: f.flatness.max(-100.0),
                programme_dbfs: db(self.loudest.sqrt())?,
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 52) as f64 - 1.0) * 3f64.sqrt()
            })
            .collect()
    }

    #[test]
    fn the_quiet_passage_between_loud_ones_is_the_floor() {
        let rate = 48_000usize;
        let mut l = noise(rate * 12, 1);
        let mut r = noise(rate * 12, 2);
        for (i, (a, b)) in l.iter_mut().zip(&mut r).enumerate() {
            // Loud (-10 dBFS) but 4..7 s at -50 dBFS, 2 s of silence at
            // the head and the tail.
            let g = match i / rate {
                0 | 1 | 10 | 11 => 0.0,
                4..=6 => 10f64.powf(-2.5),
                _ => 10f64.powf(-0.5),
            };
            *a *= g;
            *b *= g;
        }
        let mut d = Box::new(NoiseDetector::new(rate as u32));
        for (a, b) in l.chunks(1000).zip(r.chunks(1000)) {
            d.add(&Block {
                left: a.to_vec(),
                right: b.to_vec(),
            });
        }
        let mut out = Restoration::default();
        d.finish(&mut out);
        let f = out.noise.unwrap();
        assert!((f.level_dbfs + 50.0).abs() < 0.5, "{f:?}");
        assert!(f.time_s >= 4.0 && f.time_s <= 6.0, "{f:?}");
        assert!(f.slope_db_per_octave.abs() < 0.5, "{f:?}");
        assert!(f.flatness_db > -2.0 && f.flatness_db < -0.5, "{f:?}");
        assert!((f.programme_dbfs + 10.0).abs() < 0.5, "{f:?}");
    }
}
