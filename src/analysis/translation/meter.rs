//! The streaming translation meter: fed by [`crate::analysis::Meter`]
//! the same chunks (never longer than its 100 ms hop) and told where each
//! hop ends, so that its 400 ms blocks and 3 s windows are the meter's.
//! Filters, ebur128 instances, histograms and scratch buffers are made in
//! [`TranslationMeter::new`]; nothing is allocated per block.

use ebur128::{Channel, EbuR128, Mode};

use super::{correlation, Biquad, Coeffs, Lr4, Translation};
use super::{BAND_EDGES_HZ, LOW_END_HZ, MIN_BAND_SHARE, PHONE_HP_HZ, PHONE_LP_HZ, PSR_GATE_LU};
use crate::analysis::gating::{energy_to_loudness, loudness_to_energy, GateHistogram};
use crate::analysis::AnalysisError;

/// Hops in a 400 ms block and a 3 s window.
const BLOCK_HOPS: usize = 4;
const WINDOW_HOPS: usize = 30;
/// Taps per phase of the 4x interpolator (48 in all, as ebur128's).
const TAPS: usize = 12;
/// PSR histogram: loudness rows of 1 LU from -70 LUFS, PSR columns of
/// 0.1 dB from -10 dB.
const PSR_ROWS: usize = 80;
const PSR_COLS: usize = 500;
const PSR_FLOOR_LUFS: f64 = -70.0;
const PSR_LOW_DB: f64 = -10.0;
const PSR_STEP_DB: f64 = 0.1;
/// Frames the true peak checks against its bound at a time.
const SEGMENT: usize = 32;

/// See the module doc of [`super`].
pub struct TranslationMeter {
    mono: EbuR128,
    phone: EbuR128,
    mono_hist: GateHistogram,
    phone_hist: GateHistogram,
    mono_ring: [f64; BLOCK_HOPS],
    phone_ring: [f64; BLOCK_HOPS],
    hops: u64,
    /// Scratch: the fold-down and the phone model's output of a chunk.
    mono_buf: Vec<f64>,
    phone_buf: [Vec<f64>; 2],
    /// Band splits: low-pass at 120 Hz; 120 Hz to 1 kHz; 1 to 8 kHz;
    /// high-pass at 8 kHz.
    low: Lr4,
    low_mid: [Lr4; 2],
    high_mid: [Lr4; 2],
    high: Lr4,
    sub: Lr4,
    phone_filt: [Biquad; 3],
    /// Σ LL, RR, LR per band (4), the band under 60 Hz, and all.
    sums: [[f64; 3]; 6],
    sub_peak: f64,
    /// The 4x interpolator's phases 1 to 3 (phase 0 is the sample),
    /// coefficients reversed; the last TAPS - 1 frames before the chunk.
    interp: [[f64; TAPS]; 3],
    /// The largest Σ|tap| of the phases (with a margin for rounding).
    interp_gain: f64,
    history: [Vec<f64>; 2],
    hop_peak: f64,
    peak_ring: [f64; WINDOW_HOPS],
    psr: Vec<u32>,
    psr_row_min: [f64; PSR_ROWS],
    /// Fed on its own ([`TranslationMeter::feed`]): the hop length, the
    /// frames into the current hop, and each whole window's peak (from
    /// the 30th hop on), for [`TranslationMeter::figures_with`].
    hop: usize,
    into_hop: usize,
    window_peaks: Vec<f64>,
}

impl std::fmt::Debug for TranslationMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranslationMeter")
            .field("hops", &self.hops)
            .finish_non_exhaustive()
    }
}

impl TranslationMeter {
    /// A meter for stereo chunks of at most `hop` frames at `rate`.
    pub fn new(rate: u32, hop: usize) -> Result<TranslationMeter, AnalysisError> {
        let make = |channels| {
            EbuR128::new(channels, rate, Mode::M).map_err(|e| AnalysisError::SampleRate {
                rate,
                reason: e.to_string(),
            })
        };
        let mut mono = make(1)?;
        let _ = mono.set_channel(0, Channel::DualMono);
        let phone = make(2)?;
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let hp = Biquad::new(Coeffs::pass(rate, PHONE_HP_HZ, q, true));
        let lp = Biquad::new(Coeffs::pass(rate, PHONE_LP_HZ, q, false));
        let [f1, f2, f3] = BAND_EDGES_HZ;
        Ok(TranslationMeter {
            mono,
            phone,
            mono_hist: GateHistogram::default(),
            phone_hist: GateHistogram::default(),
            mono_ring: [0.0; BLOCK_HOPS],
            phone_ring: [0.0; BLOCK_HOPS],
            hops: 0,
            mono_buf: vec![0.0; hop],
            phone_buf: [vec![0.0; hop], vec![0.0; hop]],
            low: Lr4::new(rate, f1, false),
            low_mid: [Lr4::new(rate, f1, true), Lr4::new(rate, f2, false)],
            high_mid: [Lr4::new(rate, f2, true), Lr4::new(rate, f3, false)],
            high: Lr4::new(rate, f3, true),
            sub: Lr4::new(rate, LOW_END_HZ, false),
            phone_filt: [hp, hp, lp],
            sums: [[0.0; 3]; 6],
            sub_peak: 0.0,
            interp: interpolator(rate),
            interp_gain: interpolator(rate)
                .iter()
                .map(|c| c.iter().map(|t| t.abs()).sum::<f64>())
                .fold(1.0, f64::max)
                * (1.0 + 1e-9),
            history: [vec![0.0; hop + TAPS], vec![0.0; hop + TAPS]],
            hop_peak: 0.0,
            peak_ring: [0.0; WINDOW_HOPS],
            psr: vec![0; PSR_ROWS * PSR_COLS],
            psr_row_min: [f64::INFINITY; PSR_ROWS],
            hop,
            into_hop: 0,
            window_peaks: Vec::new(),
        })
    }

    /// Meters a chunk of at most `hop` frames that does not cross a hop
    /// boundary.
    pub fn add(&mut self, l: &[f64], r: &[f64]) {
        let n = l.len().min(r.len()).min(self.mono_buf.len());
        let (l, r) = (&l[..n], &r[..n]);
        let mut acc = [[0.0f64; 3]; 6];
        let mut sub_peak = self.sub_peak;
        let [pl, pr] = &mut self.phone_buf;
        for (i, (&a, &b)) in l.iter().zip(r).enumerate() {
            self.mono_buf[i] = 0.5 * (a + b);
            let x = [a, b];
            let lm = self.low_mid[0].tick2(x);
            let hm = self.high_mid[0].tick2(x);
            let bands = [
                self.low.tick2(x),
                self.low_mid[1].tick2(lm),
                self.high_mid[1].tick2(hm),
                self.high.tick2(x),
                self.sub.tick2(x),
                x,
            ];
            let p = self.phone_filt[0].tick2(x);
            let p = self.phone_filt[1].tick2(p);
            let phone = self.phone_filt[2].tick2(p);
            pl[i] = phone[0];
            pr[i] = phone[1];
            for (a, [u, v]) in acc.iter_mut().zip(bands) {
                a[0] += u * u;
                a[1] += v * v;
                a[2] += u * v;
            }
            sub_peak = sub_peak.max(bands[4][0].abs()).max(bands[4][1].abs());
        }
        self.sub_peak = sub_peak;
        for (s, a) in self.sums.iter_mut().zip(acc) {
            for k in 0..3 {
                s[k] += a[k];
            }
        }
        let _ = self.mono.add_frames_planar_f64(&[&self.mono_buf[..n]]);
        let _ = self.phone.add_frames_planar_f64(&[&pl[..n], &pr[..n]]);
        self.true_peak(l, r);
    }

    /// The chunk's 4x true peak into the hop's. No interpolated value
    /// exceeds the interpolator's gain (the largest sum of a phase's tap
    /// magnitudes) times the largest input in its reach, so a run of
    /// [`SEGMENT`] frames whose reach lies that far under the hop's peak
    /// so far (its samples first) is left out: the result is the same.
    fn true_peak(&mut self, l: &[f64], r: &[f64]) {
        let n = l.len();
        let abs_max = |x: &[f64]| x.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let mut peak = self.hop_peak.max(abs_max(l)).max(abs_max(r));
        for (h, x) in self.history.iter_mut().zip([l, r]) {
            // h: the TAPS - 1 frames before, then the chunk.
            h[TAPS - 1..TAPS - 1 + n].copy_from_slice(x);
            for start in (0..n).step_by(SEGMENT) {
                let end = (start + SEGMENT).min(n);
                // Frames start..end read h[start..end + TAPS - 1].
                if self.interp_gain * abs_max(&h[start..end + TAPS - 1]) <= peak {
                    continue;
                }
                for i in start..end {
                    let w = &h[i..i + TAPS];
                    for c in &self.interp {
                        let mut s = [0.0f64; 4];
                        for k in 0..TAPS / 4 {
                            for j in 0..4 {
                                s[j] += c[4 * k + j] * w[4 * k + j];
                            }
                        }
                        peak = peak.max(((s[0] + s[1]) + (s[2] + s[3])).abs());
                    }
                }
            }
            h.copy_within(n..n + TAPS - 1, 0);
        }
        self.hop_peak = peak;
    }

    /// At the end of each 100 ms hop, with the stereo short-term (3 s)
    /// energy the meter has just computed.
    pub fn end_hop(&mut self, short_term_energy: f64) {
        if let Some(tp) = self.end_hop_levels() {
            self.add_psr(short_term_energy, tp);
        }
    }

    /// Meters `l` and `r` on their own, not fed by a [`crate::analysis::Meter`]:
    /// split at the same 100 ms hops, each whole window's peak kept
    /// (8 bytes a hop) for [`TranslationMeter::figures_with`], which
    /// takes the meter's short-term energies. So the translation can be
    /// metered on a thread of its own, with the same figures.
    pub fn feed(&mut self, l: &[f64], r: &[f64]) {
        let n = l.len().min(r.len());
        let mut pos = 0;
        while pos < n {
            let take = (self.hop - self.into_hop).min(n - pos);
            self.add(&l[pos..pos + take], &r[pos..pos + take]);
            pos += take;
            self.into_hop += take;
            if self.into_hop == self.hop {
                self.into_hop = 0;
                if let Some(tp) = self.end_hop_levels() {
                    self.window_peaks.push(tp);
                }
            }
        }
    }

    /// The figures of a meter fed by [`TranslationMeter::feed`], with the
    /// stereo short-term energy of each whole window
    /// ([`crate::analysis::Meter::keeping_short_terms`]).
    pub fn figures_with(
        mut self,
        integrated_lufs: Option<f64>,
        short_terms: &[f64],
    ) -> Translation {
        let peaks = std::mem::take(&mut self.window_peaks);
        for (&st, &tp) in short_terms.iter().zip(&peaks) {
            self.add_psr(st, tp);
        }
        self.figures(integrated_lufs)
    }

    /// The hop's mono and phone energies and peak; from the 30th hop on,
    /// the peak of the last 3 s.
    fn end_hop_levels(&mut self) -> Option<f64> {
        let i = (self.hops % BLOCK_HOPS as u64) as usize;
        self.mono_ring[i] = hop_energy(&self.mono);
        self.phone_ring[i] = hop_energy(&self.phone);
        self.peak_ring[(self.hops % WINDOW_HOPS as u64) as usize] = self.hop_peak;
        self.hop_peak = 0.0;
        self.hops += 1;
        if self.hops >= BLOCK_HOPS as u64 {
            let mean = |r: &[f64; BLOCK_HOPS]| r.iter().sum::<f64>() / BLOCK_HOPS as f64;
            self.mono_hist.add(mean(&self.mono_ring));
            self.phone_hist.add(mean(&self.phone_ring));
        }
        (self.hops >= WINDOW_HOPS as u64)
            .then(|| self.peak_ring.iter().fold(0.0f64, |a, b| a.max(*b)))
    }

    /// One whole window's PSR into the histogram.
    fn add_psr(&mut self, short_term_energy: f64, tp: f64) {
        let st = energy_to_loudness(short_term_energy);
        if st > PSR_FLOOR_LUFS && tp > 0.0 {
            let psr = 20.0 * tp.log10() - st;
            let row = ((st - PSR_FLOOR_LUFS) as usize).min(PSR_ROWS - 1);
            let col = ((psr - PSR_LOW_DB) / PSR_STEP_DB).clamp(0.0, (PSR_COLS - 1) as f64);
            self.psr[row * PSR_COLS + col as usize] += 1;
            self.psr_row_min[row] = self.psr_row_min[row].min(psr);
        }
    }

    /// The figures so far, against the stereo integrated loudness.
    pub fn figures(&self, integrated_lufs: Option<f64>) -> Translation {
        let [low, low_mid, high_mid, high, sub, all] = self.sums;
        let total = all[0] + all[1];
        let share = |s: &[f64; 3]| {
            if total > 0.0 {
                (s[0] + s[1]) / total
            } else {
                0.0
            }
        };
        let corr = |s: &[f64; 3]| {
            (share(s) >= MIN_BAND_SHARE)
                .then(|| correlation(s[0], s[1], s[2]))
                .flatten()
        };
        let bands = [low, low_mid, high_mid, high];
        let loss = |h: &GateHistogram| {
            integrated_lufs.map(|i| i - h.integrated().unwrap_or(PSR_FLOOR_LUFS))
        };
        let (psr_min_db, psr_median_db) = self.psr(integrated_lufs);
        Translation {
            mono_loss_lu: loss(&self.mono_hist),
            band_correlation: bands.map(|b| corr(&b)),
            band_share_pct: bands.map(|b| 100.0 * share(&b)),
            phone_loss_lu: loss(&self.phone_hist),
            low_end_share_pct: 100.0 * share(&sub),
            low_end_correlation: corr(&sub),
            low_end_peak_to_loudness_db: integrated_lufs
                .filter(|_| self.sub_peak > 0.0)
                .map(|i| 20.0 * self.sub_peak.log10() - i),
            psr_min_db,
            psr_median_db,
        }
    }

    /// Least and median PSR over the windows within [`PSR_GATE_LU`] of
    /// the integrated loudness.
    fn psr(&self, integrated_lufs: Option<f64>) -> (Option<f64>, Option<f64>) {
        let Some(i) = integrated_lufs else {
            return (None, None);
        };
        // Rows whose centre is at or above the gate.
        let gate = i - PSR_GATE_LU;
        let first = ((gate - PSR_FLOOR_LUFS - 0.5).ceil().max(0.0) as usize).min(PSR_ROWS);
        let min = self.psr_row_min[first..]
            .iter()
            .fold(f64::INFINITY, |a, b| a.min(*b));
        let mut cols = [0u64; PSR_COLS];
        for row in first..PSR_ROWS {
            for (c, n) in cols
                .iter_mut()
                .zip(&self.psr[row * PSR_COLS..(row + 1) * PSR_COLS])
            {
                *c += u64::from(*n);
            }
        }
        let n: u64 = cols.iter().sum();
        if n == 0 {
            return (None, None);
        }
        // The median: the mean of the middle ranks' bin centres.
        let at = |k: u64| {
            let mut seen = 0;
            for (j, c) in cols.iter().enumerate() {
                seen += c;
                if seen > k {
                    return PSR_LOW_DB + (j as f64 + 0.5) * PSR_STEP_DB;
                }
            }
            f64::NAN
        };
        let median = 0.5 * (at((n - 1) / 2) + at(n / 2));
        (Some(min), Some(median.max(min)))
    }
}

/// The energy of the last 100 ms of an ebur128 instance.
fn hop_energy(e: &EbuR128) -> f64 {
    loudness_to_energy(e.loudness_window(100).unwrap_or(f64::NEG_INFINITY))
}

/// ebur128's 48-tap Hann-windowed sinc at 4x (2x from 96 kHz, none from
/// 192 kHz: the phases then are the samples), phases 1 to 3, each
/// reversed so that tap k multiplies the k-th of the last TAPS frames.
fn interpolator(rate: u32) -> [[f64; TAPS]; 3] {
    let factor: usize = if rate < 96_000 {
        4
    } else if rate < 192_000 {
        2
    } else {
        1
    };
    let taps = TAPS * factor;
    let coeff = |j: usize| {
        let w = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * j as f64 / taps as f64).cos());
        let m = j as f64 - taps as f64 / 2.0;
        if m.abs() > 1e-6 {
            let x = m * std::f64::consts::PI / factor as f64;
            w * x.sin() / x
        } else {
            w
        }
    };
    let mut out = [[0.0; TAPS]; 3];
    for (p, phase) in out.iter_mut().enumerate().take(factor - 1) {
        for (t, c) in phase.iter_mut().enumerate() {
            // Output phase p + 1 at the newest frame: sum over t of
            // coeff(t * factor + p + 1) x[n - t].
            *c = coeff(t * factor + p + 1);
        }
        phase.reverse();
    }
    out
}
