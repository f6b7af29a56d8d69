//! True-peak lookahead limiter.
//!
//! **Detection.** Peaks are found by polyphase FIR interpolation: for every
//! interval between two input samples only the points between the samples
//! are computed (the samples themselves are read as they are). Two kernels
//! run side by side and the largest reading wins:
//! - the kernel of the project's meter (the `ebur128` crate and libebur128,
//!   after BS.1770 Annex 2): a Hann-windowed sinc of 48 taps at 4x (12 per
//!   phase; at 96 kHz and above the meter's 2x kernel, 24 per phase),
//!   evaluated at 1/4, 1/2 and 3/4, so the limiter sees every point the
//!   meter will measure;
//! - a precise kernel at 8x (7 points per interval), a Kaiser-windowed sinc
//!   (β = 9, 32 taps per phase) flat within 0.01 dB up to 0.417 fs (20 kHz
//!   at 48 kHz). It catches the peaks the short meter kernel under-reads
//!   near the top of the band (its mid phase reads 1.8 dB low at 20 kHz and
//!   0.1 dB high at 16 kHz) and those that fall between 4x points (up to
//!   0.3 dB at 16 kHz), so the output also holds the ceiling by a far
//!   finer reference, for material without strong energy above 0.42 fs.
//!
//! Detection runs in f32, as the meter does, one short FIR per phase over
//! stretches of 64 frames (an AVX2 build of the same code is picked at run
//! time; the results are bit-identical). A stretch whose samples are so
//! low that no interpolated point could reach the threshold (bounded by
//! the kernels' L1 norm) skips the FIR, and when the gain also rests at 1
//! the stretch is only delayed.
//!
//! **Gain.** Each frame gets the gain `T / peak` it needs (1 when the peak
//! is under the threshold `T`), where the peak is the larger of the sample
//! itself and the interpolated points on either side of it. `T` is the
//! ceiling less [`MARGIN_DB`], which covers the meter's f32 arithmetic and
//! the small effect of the gain moving within the meter's kernel span (at
//! the shortest lookahead, 0.1 ms, the output reads 0.04 dB above `T`; at
//! 1 ms and more, under 0.001 dB).
//! The gain path is a sliding-window minimum over the lookahead window of
//! `L` frames, an exponential release towards 1 (`release_ms`), then two
//! cascaded moving averages whose lengths add up to `L + 1`. The smoothed
//! gain at any frame is an average of values each at most the gain needed
//! by that frame, so the gain has reached its target when the peak arrives;
//! the attack is a smooth S-shaped ramp of `L` frames and never overshoots.
//!
//! **Latency.** The output is the input delayed by [`Limiter::latency_frames`]
//! (`L - 1` plus the detector's half-length of 16 frames), processed in
//! place. [`Chain`](super::Chain) hides this delay; used alone, feed
//! `latency_frames()` frames of silence at the end and drop as many from
//! the head of the output.

use std::f64::consts::PI;

use super::{check_param, check_rate, db_to_lin, DspError};
use crate::audio::Block;

/// How far under the ceiling the limiter aims, in dB.
pub const MARGIN_DB: f64 = 0.1;

/// Half-length of the precise kernel: it reads 2 × 16 samples per point.
const PRECISE_HALF: usize = 16;
/// Oversampling of the precise kernel.
const PRECISE_FACTOR: usize = 8;
/// Detector delay in frames (the longest kernel's half-length).
const DET_DELAY: usize = PRECISE_HALF;
/// Samples kept between chunks for the FIR history.
const HIST: usize = 2 * DET_DELAY;
/// Frames processed per internal chunk.
const CHUNK: usize = 512;
/// Frames per stretch for the skip test.
const SKIP_STRETCH: usize = 64;

/// Limiter settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterParams {
    /// True-peak ceiling in dBTP (the manifest's `true_peak_dbtp`).
    pub ceiling_dbtp: f64,
    pub release_ms: f64,
    pub lookahead_ms: f64,
}

impl Default for LimiterParams {
    fn default() -> Self {
        LimiterParams {
            ceiling_dbtp: -1.0,
            release_ms: 50.0,
            lookahead_ms: 5.0,
        }
    }
}

/// Interpolation kernel: value at distance `u` (in samples) from the point.
fn meter_kernel(u: f64, half: f64) -> f64 {
    if u.abs() >= half {
        return 0.0;
    }
    let w = 0.5 * (1.0 + (PI * u / half).cos());
    w * sinc(u)
}

fn sinc(u: f64) -> f64 {
    if u.abs() < 1e-12 {
        1.0
    } else {
        (PI * u).sin() / (PI * u)
    }
}

/// Modified Bessel function of the first kind, order 0 (series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..64 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

fn kaiser_kernel(u: f64, half: f64, beta: f64) -> f64 {
    if u.abs() >= half {
        return 0.0;
    }
    let r = u / half;
    sinc(u) * bessel_i0(beta * (1.0 - r * r).sqrt()) / bessel_i0(beta)
}

/// Polyphase coefficients: for each point between two samples (3 of the
/// meter kernel at 4x, 7 of the precise kernel at 8x), 2·DET_DELAY taps
/// aligned so that tap `k` multiplies the sample `k - DET_DELAY + 1`
/// frames from the interval's left sample. Detection runs in f32, as the
/// meter does: its rounding (about 1e-6 dB) is far inside the margin, and
/// it doubles the SIMD width.
#[derive(Debug, Clone)]
struct Polyphase {
    /// (taps, first tap used, last tap used + 1) per kernel and phase.
    phases: Vec<Phase>,
    /// The CPU runs AVX2 (x86_64 only).
    avx2: bool,
    /// Largest L1 norm of any phase: bounds |interpolated| / max|x|.
    l1: f64,
}

impl Polyphase {
    fn new(sample_rate: f64) -> Self {
        let meter_half = if sample_rate < 96_000.0 { 6.0 } else { 12.0 };
        let mut phases = Vec::new();
        let mut l1: f64 = 0.0;
        for (kernel, factor) in [(0, 4), (1, PRECISE_FACTOR)] {
            for p in 1..factor {
                let frac = p as f64 / factor as f64;
                let mut taps = [0.0f32; HIST];
                let (mut lo, mut hi) = (HIST, 0);
                let mut norm = 0.0;
                for (k, t) in taps.iter_mut().enumerate() {
                    let u = k as f64 - (DET_DELAY as f64 - 1.0) - frac;
                    let v = if kernel == 0 {
                        meter_kernel(u, meter_half)
                    } else {
                        kaiser_kernel(u, PRECISE_HALF as f64, 9.0)
                    };
                    *t = v as f32;
                    norm += v.abs();
                    if v != 0.0 {
                        lo = lo.min(k);
                        hi = hi.max(k + 1);
                    }
                }
                l1 = l1.max(norm * 1.001);
                phases.push((taps, lo, hi));
            }
        }
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        Polyphase { phases, l1, avx2 }
    }

    /// Interval peaks of `out.len()` consecutive intervals of one channel:
    /// `out[j] = max(out[j], max over phases |Σ_k taps[k] x[j + k]|)`, where
    /// `x[j..j + HIST]` is interval j's window. Runs the AVX2 build of the
    /// same code where the CPU has it: no FMA contraction, the same
    /// operations in the same order per lane, so the results are
    /// bit-identical to the baseline build (a unit test checks).
    fn stretch_peaks(&self, x: &[f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2.
            unsafe { stretch_peaks_avx2(&self.phases, x, out) };
            return;
        }
        stretch_peaks_body(&self.phases, x, out);
    }
}

/// Phase taps with the span of nonzero taps.
type Phase = ([f32; HIST], usize, usize);

/// The detector FIR: one short FIR per phase, taps outermost, so the inner
/// loop runs across frames and vectorises without horizontal sums.
#[inline(always)]
fn stretch_peaks_body(phases: &[Phase], x: &[f32], out: &mut [f32]) {
    let n = out.len();
    assert!(n <= SKIP_STRETCH && x.len() + 1 >= n + HIST);
    for (taps, lo, hi) in phases {
        let mut y = [0.0f32; SKIP_STRETCH];
        for k in *lo..*hi {
            let h = taps[k];
            for (acc, v) in y[..n].iter_mut().zip(&x[k..k + n]) {
                *acc += h * v;
            }
        }
        for (o, v) in out.iter_mut().zip(&y[..n]) {
            *o = o.max(v.abs());
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn stretch_peaks_avx2(phases: &[Phase], x: &[f32], out: &mut [f32]) {
    stretch_peaks_body(phases, x, out)
}

/// Sliding-window minimum over the last `len` values of gains (<= 1), by
/// van Herk / Gil-Werman: the stream is cut into blocks of `len`; the
/// window's minimum is the running minimum of the current block's head
/// and the suffix minimum of the previous block's tail, computed once per
/// block. Constant work per value and no data-dependent branches.
#[derive(Debug, Clone)]
struct MinWindow {
    /// Values of the current block so far.
    cur: Vec<f64>,
    /// suffix[i] = min of the previous block from position i on.
    suffix: Vec<f64>,
    /// Values in the current block.
    k: usize,
    /// Minimum of the current block so far.
    prefix: f64,
    /// Every value in the window is 1 and `cur`/`suffix` hold only ones.
    clean: bool,
}

impl MinWindow {
    fn new(len: usize) -> Self {
        MinWindow {
            cur: vec![1.0; len],
            suffix: vec![1.0; len + 1],
            k: 0,
            prefix: 1.0,
            clean: true,
        }
    }

    /// Pushes `v` and returns the minimum of the last `len` values
    /// (values before the first push count as 1).
    #[inline]
    fn push(&mut self, v: f64) -> f64 {
        let len = self.cur.len();
        self.cur[self.k] = v;
        self.prefix = self.prefix.min(v);
        self.clean &= v == 1.0;
        // suffix[len] is a constant 1: the whole previous block has left.
        let out = self.prefix.min(self.suffix[self.k + 1]);
        self.k += 1;
        if self.k == len {
            let mut m = 1.0f64;
            for i in (0..len).rev() {
                m = m.min(self.cur[i]);
                self.suffix[i] = m;
            }
            self.k = 0;
            self.prefix = 1.0;
        }
        out
    }

    /// The minimum of the window as it stands.
    fn min(&self) -> f64 {
        self.prefix.min(self.suffix[self.k])
    }

    /// Same outputs from here on as pushing `n` ones, when the window holds
    /// only ones (`min() == 1`).
    fn skip_ones(&mut self, n: usize) {
        if !self.clean {
            self.cur.fill(1.0);
            self.suffix.fill(1.0);
            self.clean = true;
        }
        self.k = (self.k + n) % self.cur.len();
        self.prefix = 1.0;
    }
}

/// Moving average over a fixed ring; the sum is recomputed each lap so
/// rounding cannot drift.
#[derive(Debug, Clone)]
struct MovingAverage {
    ring: Vec<f64>,
    pos: usize,
    sum: f64,
    len: f64,
    inv: f64,
}

impl MovingAverage {
    fn new(len: usize) -> Self {
        MovingAverage {
            ring: vec![1.0; len],
            pos: 0,
            sum: len as f64,
            len: len as f64,
            inv: 1.0 / len as f64,
        }
    }

    /// Replaces each value of `v` by the average of the window after
    /// pushing it.
    fn run(&mut self, v: &mut [f64]) {
        let (mut sum, mut pos) = (self.sum, self.pos);
        let len = self.ring.len();
        for x in v.iter_mut() {
            sum += *x - self.ring[pos];
            self.ring[pos] = *x;
            pos += 1;
            if pos == len {
                pos = 0;
                sum = self.ring.iter().sum();
            }
            *x = if sum == self.len { 1.0 } else { sum * self.inv };
        }
        (self.sum, self.pos) = (sum, pos);
    }

    /// True when the window holds only ones.
    fn idle(&self) -> bool {
        self.sum == self.len
    }

    /// Same state as pushing `k` ones into an idle window.
    fn skip_ones(&mut self, k: usize) {
        self.pos = (self.pos + k) % self.ring.len();
    }
}

/// True-peak lookahead limiter, stereo linked.
#[derive(Debug, Clone)]
pub struct Limiter {
    params: LimiterParams,
    threshold: f64,
    release: f64,
    poly: Polyphase,
    lookahead: usize,
    /// FIR history + chunk, per channel.
    buf: [Vec<f32>; 2],
    /// Interval peaks of the current stretch.
    iv: Vec<f32>,
    prev_iv: f32,
    hold: MinWindow,
    avg1: MovingAverage,
    avg2: MovingAverage,
    rel_state: f64,
    delay: [Vec<f64>; 2],
    delay_pos: usize,
    min_gain: f64,
}

impl Limiter {
    /// Builds the limiter for `sample_rate`. Ceiling -20..=0 dBTP, release
    /// 1..=2000 ms, lookahead 0.1..=50 ms.
    pub fn new(sample_rate: u32, params: LimiterParams) -> Result<Self, DspError> {
        let fs = check_rate(sample_rate)?;
        check_param("ceiling", params.ceiling_dbtp, -20.0, 0.0, "-20 to 0 dBTP")?;
        check_param("release_ms", params.release_ms, 1.0, 2000.0, "1 to 2000 ms")?;
        check_param(
            "lookahead_ms",
            params.lookahead_ms,
            0.1,
            50.0,
            "0.1 to 50 ms",
        )?;
        let lookahead = ((params.lookahead_ms * 1e-3 * fs).round() as usize).max(1);
        let l1 = lookahead.div_ceil(2).max(1);
        let l2 = lookahead + 1 - l1;
        let latency = lookahead - 1 + DET_DELAY;
        Ok(Limiter {
            params,
            threshold: db_to_lin(params.ceiling_dbtp - MARGIN_DB),
            release: super::one_pole_coef(params.release_ms, fs),
            poly: Polyphase::new(fs),
            lookahead,
            buf: [vec![0.0; HIST + CHUNK], vec![0.0; HIST + CHUNK]],
            iv: vec![0.0; SKIP_STRETCH],
            prev_iv: 0.0,
            hold: MinWindow::new(lookahead),
            avg1: MovingAverage::new(l1),
            avg2: MovingAverage::new(l2),
            rel_state: 1.0,
            delay: [vec![0.0; latency.max(1)], vec![0.0; latency.max(1)]],
            delay_pos: 0,
            min_gain: 1.0,
        })
    }

    /// The settings this limiter runs with.
    pub fn params(&self) -> &LimiterParams {
        &self.params
    }

    /// Frames by which the output lags the input.
    pub fn latency_frames(&self) -> usize {
        self.lookahead - 1 + DET_DELAY
    }

    /// Deepest gain reduction so far, in dB (0 or negative).
    pub fn max_reduction_db(&self) -> f64 {
        20.0 * self.min_gain.log10()
    }

    /// Limits the block in place; the output lags by `latency_frames()`.
    pub fn process(&mut self, block: &mut Block) {
        let n = block.len();
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            self.process_chunk(block, start, len);
            start += len;
        }
    }

    fn process_chunk(&mut self, block: &mut Block, start: usize, len: usize) {
        // Moved out for the chunk (no allocation) so the helpers can borrow
        // `self`.
        let mut buf = std::mem::take(&mut self.buf);
        let [bl, br] = &mut buf;
        for (d, s) in bl[HIST..HIST + len]
            .iter_mut()
            .zip(&block.left[start..start + len])
        {
            *d = *s as f32;
        }
        for (d, s) in br[HIST..HIST + len]
            .iter_mut()
            .zip(&block.right[start..start + len])
        {
            *d = *s as f32;
        }
        // Stretch by stretch: interval peaks where the samples could reach
        // the threshold, then the gain path.
        let bound = (self.threshold / self.poly.l1) as f32;
        let mut s = 0;
        while s < len {
            let e = (s + SKIP_STRETCH).min(len);
            let n = e - s;
            let loud = |b: &[f32]| b[s + 1..HIST + e].iter().any(|v| v.abs() > bound);
            let quiet = !(loud(bl) || loud(br));
            if quiet && self.idle() {
                // Nothing to limit and no gain to recover: delay only.
                self.prev_iv = 0.0;
                self.hold.skip_ones(n);
                self.avg1.skip_ones(n);
                self.avg2.skip_ones(n);
                self.delay_only(block, start + s, n);
                s = e;
                continue;
            }
            let iv = &mut self.iv[..n];
            iv.fill(0.0);
            if !quiet {
                self.poly.stretch_peaks(&bl[s + 1..HIST + e], iv);
                self.poly.stretch_peaks(&br[s + 1..HIST + e], iv);
            }
            // Gain for each frame of the stretch (serial: hold, release,
            // smoothing), then the delayed samples times the gain.
            let mut gains = [0.0f64; SKIP_STRETCH];
            let (thr, rc) = (self.threshold, self.release);
            let (mut prev, mut rel) = (self.prev_iv, self.rel_state);
            for (j, g) in gains[..n].iter_mut().enumerate() {
                let c = HIST + s + j - DET_DELAY;
                let x = bl[c].abs().max(br[c].abs());
                let ivj = self.iv[j];
                let peak = x.max(prev).max(ivj) as f64;
                prev = ivj;
                let need = if peak > thr { thr / peak } else { 1.0 };
                let held = self.hold.push(need);
                rel = held.min(1.0 - (1.0 - rel) * rc);
                *g = rel;
            }
            (self.prev_iv, self.rel_state) = (prev, rel);
            self.avg1.run(&mut gains[..n]);
            self.avg2.run(&mut gains[..n]);
            for g in &gains[..n] {
                self.min_gain = self.min_gain.min(*g);
            }
            self.delay_apply(block, start + s, &gains[..n]);
            s = e;
        }
        bl.copy_within(len..len + HIST, 0);
        br.copy_within(len..len + HIST, 0);
        self.buf = buf;
    }

    /// True when the gain path rests at exactly 1 and holds nothing lower.
    fn idle(&self) -> bool {
        self.rel_state == 1.0 && self.hold.min() == 1.0 && self.avg1.idle() && self.avg2.idle()
    }

    /// Passes `n` frames from `at` through the delay line with gain 1.
    fn delay_only(&mut self, block: &mut Block, at: usize, n: usize) {
        self.delay_apply(block, at, &[1.0; SKIP_STRETCH][..n]);
    }

    /// Swaps `gains.len()` frames from `at` with the delay line (the
    /// block receives the delayed frames, the line the new ones) and
    /// multiplies the delayed frames by `gains`.
    fn delay_apply(&mut self, block: &mut Block, at: usize, gains: &[f64]) {
        let cap = self.delay[0].len();
        let mut done = 0;
        while done < gains.len() {
            let p = self.delay_pos;
            let seg = (gains.len() - done).min(cap - p);
            let r = at + done..at + done + seg;
            self.delay[0][p..p + seg].swap_with_slice(&mut block.left[r.clone()]);
            self.delay[1][p..p + seg].swap_with_slice(&mut block.right[r.clone()]);
            let g = &gains[done..done + seg];
            for (v, g) in block.left[r.clone()].iter_mut().zip(g) {
                *v *= g;
            }
            for (v, g) in block.right[r].iter_mut().zip(g) {
                *v *= g;
            }
            self.delay_pos = if p + seg == cap { 0 } else { p + seg };
            done += seg;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_gains_are_unity_at_dc() {
        let p = Polyphase::new(48_000.0);
        for (taps, _, _) in &p.phases {
            let dc: f32 = taps.iter().sum();
            assert!((dc - 1.0).abs() < 2e-3, "dc gain {dc}");
        }
        assert!(p.l1 > 1.0 && p.l1 < 3.0, "l1 {}", p.l1);
    }

    #[test]
    fn simd_build_matches_baseline_bit_for_bit() {
        let mut p = Polyphase::new(48_000.0);
        let mut rng = crate::dsp::dither::Rng::new(3);
        let x: Vec<f32> = (0..SKIP_STRETCH + HIST)
            .map(|_| rng.uniform() as f32 * 2.0)
            .collect();
        let mut a = [0.0f32; SKIP_STRETCH];
        let mut b = [0.0f32; SKIP_STRETCH];
        p.stretch_peaks(&x, &mut a);
        p.avx2 = false;
        p.stretch_peaks(&x, &mut b);
        assert_eq!(a, b);
        assert!(a.iter().all(|v| *v > 0.0));
    }

    /// |H(f)| in dB of one phase's taps.
    fn response_db(taps: &[f32], f: f64) -> f64 {
        let w = 2.0 * PI * f;
        let (re, im) = taps
            .iter()
            .enumerate()
            .fold((0.0, 0.0), |(re, im), (k, &t)| {
                let t = t as f64;
                (re + t * (w * k as f64).cos(), im + t * (w * k as f64).sin())
            });
        10.0 * (re * re + im * im).log10()
    }

    #[test]
    fn kernels_have_the_documented_responses() {
        let p = Polyphase::new(48_000.0);
        // Precise kernel (phases 3..6): flat within 0.01 dB to 20 kHz.
        for (taps, _, _) in &p.phases[3..] {
            for i in 0..=200 {
                let f = 20_000.0 / 48_000.0 * i as f64 / 200.0;
                assert!(response_db(taps, f).abs() < 0.01, "precise at {f}");
            }
        }
        // Meter kernel, mid phase: +0.11 dB at 16 kHz, -1.78 dB at 20 kHz,
        // as computed from libebur128's filter.
        let mid = &p.phases[1].0;
        assert!((response_db(mid, 16.0 / 48.0) - 0.110).abs() < 0.005);
        assert!((response_db(mid, 20.0 / 48.0) + 1.775).abs() < 0.005);
    }

    #[test]
    fn min_window_and_average() {
        let mut w = MinWindow::new(3);
        let got: Vec<f64> = [0.5, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0]
            .iter()
            .map(|&v| w.push(v))
            .collect();
        assert_eq!(got, [0.5, 0.3, 0.3, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]);
        // Against brute force on random runs, with runs of ones skipped.
        let mut rng = crate::dsp::dither::Rng::new(5);
        for len in [1, 2, 7, 240] {
            let mut w = MinWindow::new(len);
            let mut hist: Vec<f64> = Vec::new();
            for step in 0..5000 {
                if step % 500 == 499 && w.min() == 1.0 {
                    let n = 1 + (rng.next_u64() % 700) as usize;
                    w.skip_ones(n);
                    hist.extend(std::iter::repeat_n(1.0, n));
                    continue;
                }
                let v = if rng.uniform() < 0.0 {
                    1.0
                } else {
                    rng.uniform() + 0.5
                };
                hist.push(v);
                let from = hist.len().saturating_sub(len);
                let want = hist[from..].iter().fold(1.0f64, |m, &x| m.min(x));
                assert_eq!(w.push(v), want, "len {len} step {step}");
                assert_eq!(w.min(), want);
            }
        }
        let mut a = MovingAverage::new(2);
        let mut v = [0.0, 0.0, 1.0, 0.5];
        a.run(&mut v);
        assert_eq!(v, [0.5, 0.0, 0.5, 0.75]);
        assert!(!a.idle());
        let mut ones = [1.0; 3];
        a.run(&mut ones);
        assert_eq!(ones, [0.75, 1.0, 1.0]);
        assert!(a.idle());
    }

    #[test]
    fn latency_is_exact() {
        let mut lim = Limiter::new(48_000, LimiterParams::default()).unwrap();
        let d = lim.latency_frames();
        let mut b = Block {
            left: vec![0.0; 1000],
            right: vec![0.0; 1000],
        };
        b.left[10] = 0.1;
        lim.process(&mut b);
        assert_eq!(b.left[10 + d], 0.1);
        assert_eq!(b.left.iter().filter(|v| **v != 0.0).count(), 1);
    }
}
