//! True-peak lookahead limiter.
//!
//! **Detection.** Peaks are found by [`super::oversample`]: for every
//! interval between two input samples, the points of the project's BS.1770
//! meter (4x, its 48-tap Hann-windowed sinc) and the peak of an 8x
//! reconstruction that stands for an ideal DAC (a Kaiser-windowed sinc of
//! 128 taps per phase, exact within 0.004 dB to 0.48 fs, with a parabola
//! between its points); the largest reading wins. So the output holds the
//! ceiling by the meter that prints dBTP and by an ideal reconstruction
//! of everything up to 0.48 fs (21.2 kHz at 44.1 kHz). A stretch of 64
//! frames whose samples are so low that no detected point could reach the
//! threshold (bounded by the kernels' L1 norm) skips the FIR, and when the
//! gain also rests at 1 the stretch is only delayed.
//!
//! **Gain.** Each frame gets the gain `T / peak` it needs (1 when the peak
//! is under the threshold `T`), where the peak is the larger of the sample
//! itself and the detected points on either side of it. `T` is the
//! ceiling less [`MARGIN_DB`], which covers the detector's own error (0.01
//! dB), its f32 arithmetic, the gain moving within the kernels' span, and
//! what the CD path's resampling and 16-bit dither add to the peak.
//! The gain path is a sliding-window minimum over a **hold window** of `W`
//! frames, `W` the larger of the lookahead `L` and [`HOLD_MS`]; then a
//! release that moves the gain towards that held minimum by a one-pole of
//! `release_ms` (never above it); then two cascaded moving averages whose
//! lengths add up to `L + 1`. The smoothed gain at any frame is an average
//! of values each at most the gain needed by that frame, so the gain has
//! reached its target when the peak arrives; the attack is a smooth
//! S-shaped ramp of `L` frames and never overshoots.
//!
//! The hold is what keeps low tones clean: any window of 20 ms holds a
//! crest of every tone from 25 Hz up, so on a steady tone the held gain,
//! and the gain, are constant (a 30 Hz sine 6 dB over the ceiling comes
//! out with THD+N under -100 dB instead of the waveform-following ripple
//! of a release that starts between crests), and on a decaying kick the
//! held gain steps once per half cycle and the release smooths the steps
//! (measured in tests/dsp). Outside low tones it lengthens the hold after
//! a transient from `L` to 20 ms before the release starts.
//!
//! **Latency.** The output is the input delayed by [`Limiter::latency_frames`]
//! (`L - 1` plus the detector's half-length of 64 frames), processed in
//! place. [`Chain`](super::Chain) hides this delay; used alone, feed
//! `latency_frames()` frames of silence at the end and drop as many from
//! the head of the output.

use super::oversample::{Detector, DELAY as DET_DELAY, HIST, STRETCH as SKIP_STRETCH};
use super::{check_param, check_rate, db_to_lin, DspError};
use crate::audio::Block;

/// How far under the ceiling the limiter aims, in dB: 0.1 dB for the
/// detector's arithmetic and the gain moving within its span, 0.1 dB more
/// for what lies above 0.48 fs (white noise or an aliased square wave up
/// to Nyquist at 44.1 kHz reads up to 0.15 dB higher by a longer
/// reconstruction than by the detector).
pub const MARGIN_DB: f64 = 0.2;

/// Shortest hold window, ms: every window this long holds a crest of
/// any tone from 25 Hz up.
pub const HOLD_MS: f64 = 20.0;

/// Frames processed per internal chunk.
const CHUNK: usize = 512;

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
    poly: Detector,
    lookahead: usize,
    /// FIR history + chunk, per channel.
    buf: [Vec<f32>; 2],
    /// Interval peaks of the current stretch.
    iv: Vec<f32>,
    prev_iv: f32,
    /// Each channel's reconstruction point 1/8 before the next interval.
    last: [f32; 2],
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
        let window = lookahead.max((HOLD_MS * 1e-3 * fs).round() as usize);
        Ok(Limiter {
            params,
            threshold: db_to_lin(params.ceiling_dbtp - MARGIN_DB),
            release: super::one_pole_coef(params.release_ms, fs),
            poly: Detector::new(fs, true),
            lookahead,
            buf: [vec![0.0; HIST + CHUNK], vec![0.0; HIST + CHUNK]],
            iv: vec![0.0; SKIP_STRETCH],
            prev_iv: 0.0,
            last: [0.0; 2],
            hold: MinWindow::new(window),
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
                // Read only next to loud samples, where the stand-in can
                // only raise the parabola's vertex (see oversample).
                self.last = [0.0; 2];
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
                let [ll, lr] = &mut self.last;
                self.poly.stretch_peaks(&bl[s + 1..HIST + e], iv, ll);
                self.poly.stretch_peaks(&br[s + 1..HIST + e], iv, lr);
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
                // Down at once (the averages make the attack smooth), up
                // towards the held gain by the release.
                rel = if held <= rel {
                    held
                } else {
                    held - (held - rel) * rc
                };
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
