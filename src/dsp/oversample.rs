//! Inter-sample peak detection by band-limited oversampling: the
//! limiter's detector, and the kernel of the reconstruction peak meter
//! and clip counter ([`super::reconstructed`]).
//!
//! Two polyphase FIR kernels compute, for every interval between two input
//! samples, only the points between the samples (the samples themselves
//! are read as they are):
//! - the **meter kernel**, that of the project's BS.1770 meter (the
//!   `ebur128` crate and libebur128, Annex 2): a Hann-windowed sinc of 48
//!   taps at 4x (12 per phase; at 96 kHz and above the meter's 2x kernel,
//!   24 per phase), evaluated at 1/4, 1/2 and 3/4. The limiter reads it so
//!   that the dBTP figure the report prints holds the ceiling too; it reads
//!   up to 0.11 dB high near 16 kHz and far low above 18 kHz;
//! - the **reconstruction kernel**, which stands for an ideal DAC: 8x
//!   (7 points per interval), a Kaiser-windowed sinc (β = 7) of 128 taps
//!   per phase, each phase within 0.04 % (0.004 dB) of the exact
//!   fractional delay in magnitude and phase up to 0.48 fs (21.2 kHz at
//!   44.1 kHz, 23 kHz at 48 kHz), 1 % at 0.485 fs. (64 taps, half the cost,
//!   are as exact only to 0.47 fs, and white noise high-passed at 12 kHz at
//!   44.1 kHz then came out 0.36 dB over the ceiling by the tests' ideal
//!   reconstruction.) Between the 8x points the peak is found by a
//!   parabola through the largest point and its two neighbours, which
//!   leaves a pure tone's peak under-read by at most 0.004 dB at any
//!   frequency up to Nyquist (the 8x points alone: up to 0.15 dB).
//!
//! So the reconstruction reads within 0.01 dB of the continuous waveform
//! for everything up to 0.48 fs; only energy in the top 2 % of the band
//! (above 21.2 kHz at 44.1 kHz) is read low.
//!
//! Detection runs in f32 over stretches of [`STRETCH`] intervals, taps
//! outermost so the inner loop runs across frames and vectorises (an AVX2
//! build of the same code is picked at run time; the results are
//! bit-identical). The reconstruction's phases are computed folded: phase
//! `1 - f` is phase `f` reversed, so the 7 phases share 64 sums and
//! differences of mirrored samples and need 7 products per tap pair, a
//! quarter of the products of the phases one by one (a 136 s track:
//! limiter 1.68 -> 0.52 s, meter 1.58 -> 0.41 s of CPU). Interval `j` of a stretch reads `x[j..j + HIST]`, its
//! left sample being `x[j + DELAY - 1]`.

use std::f64::consts::PI;

/// Half-length of the reconstruction kernel: it reads 2 × 64 samples per
/// point.
pub(crate) const DELAY: usize = 64;
/// Samples each interval's points are computed from.
pub(crate) const HIST: usize = 2 * DELAY;
/// Intervals per stretch.
pub(crate) const STRETCH: usize = 64;
/// Oversampling of the reconstruction kernel.
const FACTOR: usize = 8;
/// Kaiser window β of the reconstruction kernel.
const BETA: f64 = 7.0;

/// Meter kernel: value at distance `u` (in samples) from the point.
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

/// One phase's taps (tap `k` multiplies the sample `k - DELAY + 1` frames
/// from the interval's left sample) with the span of nonzero taps.
pub(crate) type Phase = ([f32; HIST], usize, usize);

fn phase(frac: f64, kernel: impl Fn(f64) -> f64) -> (Phase, f64) {
    let mut taps = [0.0f32; HIST];
    let (mut lo, mut hi) = (HIST, 0);
    let mut norm = 0.0;
    for (k, t) in taps.iter_mut().enumerate() {
        let v = kernel(k as f64 - (DELAY as f64 - 1.0) - frac);
        *t = v as f32;
        norm += v.abs();
        if v != 0.0 {
            lo = lo.min(k);
            hi = hi.max(k + 1);
        }
    }
    ((taps, lo, hi), norm)
}

/// The polyphase kernels, built once per sample rate.
#[derive(Debug, Clone)]
pub(crate) struct Detector {
    /// The meter kernel's phases (empty in a reconstruction-only meter).
    pub(crate) meter: Vec<Phase>,
    /// The reconstruction kernel's 7 phases, in order (computed through
    /// `fold`; read as they are by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) recon: Vec<Phase>,
    /// The same phases folded by their symmetry (see [`recon_points`]):
    /// for tap `k < DELAY`, the even and odd parts of the pairs 1/8 + 7/8,
    /// 2/8 + 6/8, 3/8 + 5/8, then the 1/2 phase.
    fold: Vec<[f32; 7]>,
    /// The CPU runs AVX2 (x86_64 only).
    pub(crate) avx2: bool,
    /// Largest L1 norm of any phase, with a margin for the parabola (which
    /// adds at most 1/8 of the local variation): bounds
    /// |detected peak| / max|x| over an interval's window.
    pub(crate) l1: f64,
}

impl Detector {
    /// Both kernels at `sample_rate` (the limiter's detector), or only the
    /// reconstruction kernel (`with_meter` false).
    pub(crate) fn new(sample_rate: f64, with_meter: bool) -> Self {
        let meter_half = if sample_rate < 96_000.0 { 6.0 } else { 12.0 };
        let mut l1: f64 = 1.0;
        let mut meter = Vec::new();
        if with_meter {
            for p in 1..4 {
                let (ph, norm) = phase(p as f64 / 4.0, |u| meter_kernel(u, meter_half));
                l1 = l1.max(norm);
                meter.push(ph);
            }
        }
        let mut recon = Vec::new();
        for p in 1..FACTOR {
            let (ph, norm) = phase(p as f64 / FACTOR as f64, |u| {
                kaiser_kernel(u, DELAY as f64, BETA)
            });
            l1 = l1.max(norm * 1.25);
            recon.push(ph);
        }
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        let fold = fold(&recon);
        Detector {
            meter,
            recon,
            fold,
            avx2,
            l1: l1 * 1.001,
        }
    }

    /// Interval peaks of `out.len()` (at most [`STRETCH`]) consecutive
    /// intervals of one channel: `out[j] = max(out[j], peak of interval j)`,
    /// where `x[j..j + HIST]` is interval j's window. `last` carries the
    /// reconstruction's 7/8 point of the interval before the stretch (0
    /// at the start) and receives that of the stretch's last interval.
    pub(crate) fn stretch_peaks(&self, x: &[f32], out: &mut [f32], last: &mut f32) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2.
            unsafe { stretch_peaks_avx2(self, x, out, last) };
            return;
        }
        stretch_peaks_body(self, x, out, last);
    }
}

/// The reconstruction phases folded: phase `1 - f` is phase `f` reversed
/// (`recon[6 - p].0[k] == recon[p].0[HIST - 1 - k]`, exactly, since the
/// kernel is even), and the 1/2 phase is its own mirror.
fn fold(recon: &[Phase]) -> Vec<[f32; 7]> {
    (0..DELAY)
        .map(|k| {
            let mut c = [0.0f32; 7];
            for p in 0..3 {
                let (a, b) = (recon[p].0[k] as f64, recon[p].0[HIST - 1 - k] as f64);
                c[2 * p] = ((a + b) / 2.0) as f32;
                c[2 * p + 1] = ((a - b) / 2.0) as f32;
            }
            c[6] = recon[3].0[k];
            c
        })
        .collect()
}

/// Frames per group of [`recon_points`] (one AVX2 register of f32).
const LANES: usize = 8;

/// The reconstruction's 7 points of `n` intervals, `ys[p][j]` the point at
/// `(p + 1) / 8` of interval `j`, from the folded phases: with
/// `s_k = x[j + k] + x[j + HIST - 1 - k]` and `d_k` their difference
/// (`k < DELAY`), phase `p` is `Σ e_k s_k + o_k d_k` and its mirror
/// `Σ e_k s_k - o_k d_k`: 64 sums and differences shared by all phases and
/// 7 products per tap pair, a quarter of the 7 × 128 products of the
/// phases one by one. Groups of [`LANES`] frames keep the 7 sums in
/// registers.
// Indexing by lane keeps the 7 accumulators' loops the same shape, which
// is what vectorises them.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn recon_points(fold: &[[f32; 7]], x: &[f32], n: usize, ys: &mut [[f32; STRETCH]; FACTOR - 1]) {
    let mut j0 = 0;
    while j0 < n {
        let m = LANES.min(n - j0);
        let mut pad = [0.0f32; LANES + HIST];
        let w: &[f32] = if x.len() >= j0 + LANES + HIST - 1 {
            &x[j0..j0 + LANES + HIST - 1]
        } else {
            let have = (x.len() - j0).min(LANES + HIST - 1);
            pad[..have].copy_from_slice(&x[j0..j0 + have]);
            &pad[..LANES + HIST - 1]
        };
        let mut acc = [[0.0f32; LANES]; 7];
        for (k, c) in fold.iter().enumerate() {
            let lo = &w[k..k + LANES];
            let hi = &w[HIST - 1 - k..HIST - 1 - k + LANES];
            for l in 0..LANES {
                let (s, d) = (lo[l] + hi[l], lo[l] - hi[l]);
                acc[0][l] += c[0] * s;
                acc[1][l] += c[1] * d;
                acc[2][l] += c[2] * s;
                acc[3][l] += c[3] * d;
                acc[4][l] += c[4] * s;
                acc[5][l] += c[5] * d;
                acc[6][l] += c[6] * s;
            }
        }
        for l in 0..m {
            let j = j0 + l;
            for p in 0..3 {
                let (e, o) = (acc[2 * p][l], acc[2 * p + 1][l]);
                ys[p][j] = e + o;
                ys[FACTOR - 2 - p][j] = e - o;
            }
            ys[3][j] = acc[6][l];
        }
        j0 += LANES;
    }
}

/// One phase over `n` intervals: `y[j] = Σ_k taps[k] x[j + k]`.
#[inline(always)]
fn fir(ph: &Phase, x: &[f32], y: &mut [f32]) {
    let (taps, lo, hi) = ph;
    let n = y.len();
    y.fill(0.0);
    for k in *lo..*hi {
        let h = taps[k];
        for (acc, v) in y.iter_mut().zip(&x[k..k + n]) {
            *acc += h * v;
        }
    }
}

/// The detector: the meter's points by their largest magnitude, the
/// reconstruction's by a parabola through the largest of the points from
/// -1/8 to 7/8 of the interval and its neighbours (the vertex is at least
/// the largest point and exceeds it by at most 1/8 of the neighbours'
/// differences from it).
#[inline(always)]
fn stretch_peaks_body(d: &Detector, x: &[f32], out: &mut [f32], last: &mut f32) {
    let n = out.len();
    assert!(n <= STRETCH && x.len() + 1 >= n + HIST);
    let mut y = [0.0f32; STRETCH];
    for ph in &d.meter {
        fir(ph, x, &mut y[..n]);
        for (o, v) in out.iter_mut().zip(&y[..n]) {
            *o = o.max(v.abs());
        }
    }
    let mut ys = [[0.0f32; STRETCH]; FACTOR - 1];
    recon_points(&d.fold, x, n, &mut ys);
    let mut prev = *last;
    for (j, o) in out.iter_mut().enumerate() {
        // Points at -1/8, 0 (the left sample), 1/8 .. 7/8, 1 (the right
        // sample) of the interval.
        let mut v = [0.0f32; FACTOR + 2];
        v[0] = prev;
        v[1] = x[j + DELAY - 1];
        for (d, y) in v[2..=FACTOR].iter_mut().zip(&ys) {
            *d = y[j];
        }
        v[FACTOR + 1] = x[j + DELAY];
        let mut i = 1;
        for (k, p) in v.iter().enumerate().take(FACTOR + 1).skip(2) {
            if p.abs() > v[i].abs() {
                i = k;
            }
        }
        let s = if v[i] < 0.0 { -1.0 } else { 1.0 };
        let (a, b, c) = (s * v[i - 1], s * v[i], s * v[i + 1]);
        // Only at a local maximum (the neighbours outside the interval may
        // be larger: then the peak is theirs to refine).
        let curv = a - 2.0 * b + c;
        let p = if a <= b && c <= b && curv < 0.0 {
            b - (a - c) * (a - c) / (8.0 * curv)
        } else {
            b
        };
        *o = o.max(p);
        prev = v[FACTOR];
    }
    *last = prev;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn stretch_peaks_avx2(d: &Detector, x: &[f32], out: &mut [f32], last: &mut f32) {
    stretch_peaks_body(d, x, out, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |H(f) - e^{j2πf·frac}| of one phase against the exact fractional
    /// delay.
    fn error(taps: &[f32], frac: f64, f: f64) -> f64 {
        let w = 2.0 * PI * f;
        let (mut re, mut im) = (0.0, 0.0);
        for (k, &t) in taps.iter().enumerate() {
            let u = k as f64 - (DELAY as f64 - 1.0) - frac;
            re += t as f64 * (w * u).cos();
            im += t as f64 * (w * u).sin();
        }
        ((re - 1.0).powi(2) + im * im).sqrt()
    }

    #[test]
    fn reconstruction_kernel_is_exact_to_048_fs() {
        let d = Detector::new(48_000.0, true);
        for (p, (taps, _, _)) in d.recon.iter().enumerate() {
            let frac = (p + 1) as f64 / FACTOR as f64;
            for i in 0..=480 {
                let f = i as f64 / 1000.0;
                assert!(error(taps, frac, f) < 5e-4, "phase {p} at {f} fs");
            }
        }
        for (taps, _, _) in d.meter.iter().chain(&d.recon) {
            let dc: f32 = taps.iter().sum();
            assert!((dc - 1.0).abs() < 2e-3, "dc gain {dc}");
        }
        assert!(d.l1 > 3.0 && d.l1 < 5.0, "l1 {}", d.l1);
    }

    #[test]
    fn simd_build_matches_baseline_bit_for_bit() {
        let mut d = Detector::new(48_000.0, true);
        let mut rng = crate::dsp::dither::Rng::new(3);
        let x: Vec<f32> = (0..STRETCH + HIST)
            .map(|_| rng.uniform() as f32 * 2.0)
            .collect();
        let (mut a, mut b) = ([0.0f32; STRETCH], [0.0f32; STRETCH]);
        let (mut la, mut lb) = (0.3, 0.3);
        d.stretch_peaks(&x, &mut a, &mut la);
        d.avx2 = false;
        d.stretch_peaks(&x, &mut b, &mut lb);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        assert!(a.iter().all(|v| *v > 0.0));
    }

    /// The folded phases give the points of the phases one by one (to f32
    /// rounding), at every offset of a stretch and for short stretches.
    #[test]
    fn folded_phases_match_the_direct_fir() {
        let d = Detector::new(44_100.0, false);
        let mut rng = crate::dsp::dither::Rng::new(11);
        let x: Vec<f32> = (0..STRETCH + HIST)
            .map(|_| rng.uniform() as f32 * 2.0)
            .collect();
        for n in [STRETCH, 37, 8, 1] {
            let mut ys = [[0.0f32; STRETCH]; FACTOR - 1];
            recon_points(&d.fold, &x[..n + HIST - 1], n, &mut ys);
            for (p, ph) in d.recon.iter().enumerate() {
                let mut y = [0.0f32; STRETCH];
                fir(ph, &x, &mut y[..n]);
                for j in 0..n {
                    assert!(
                        (ys[p][j] - y[j]).abs() < 2e-5,
                        "n {n} phase {p} interval {j}"
                    );
                }
            }
        }
    }
}
