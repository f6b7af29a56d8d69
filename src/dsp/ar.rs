//! An autoregressive (AR) model of a stretch of audio and the
//! least-squares interpolation of missing samples under it, with lower
//! bounds on their magnitude: the two halves of [`super::declip`].
//!
//! [`ArFit`] fits an AR model of order p by the autocorrelation method: a
//! Hann-windowed stretch, its autocorrelation to lag p by one real FFT
//! pair (zero-padded to twice the length, so the lags do not wrap), and
//! Levinson-Durbin. It keeps the autocorrelation `ra` of the prediction
//! error filter a (ra\[k\] = Σ a\[i\] a\[i+k\]), which is all the
//! interpolation needs: the prediction error energy Σₙ (Σₖ aₖ xₙ₋ₖ)² of a
//! long enough stretch is xᵀ R x with R Toeplitz, R\[i\]\[j\] = ra\[|i−j|\]
//! (zero past lag p).
//!
//! [`BoundedLs`] minimises that energy over the missing samples xₘ with
//! the others held, subject to sᵢ xᵢ ≥ θᵢ (sᵢ the sign of the clipped run,
//! θᵢ the clip level): Q xₘ = −b with Q = R restricted to the missing
//! samples and b = R\[m, known\] x\[known\], solved by an active set
//! (samples that come out inside the clip level are held at it and the
//! rest solved again; a held sample whose gradient says it wants to rise
//! is freed), a few rounds, then clamped, so the result is always
//! consistent with the clipped input. Both allocate only in `new()`.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// The AR fit of one stretch of `len` samples, order `order`.
pub struct ArFit {
    order: usize,
    window: Vec<f64>,
    fwd: Arc<dyn RealToComplex<f64>>,
    inv: Arc<dyn ComplexToReal<f64>>,
    time: Vec<f64>,
    spec: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// Autocorrelation of the stretch, lags 0..=p.
    r: Vec<f64>,
    /// The prediction error filter, a\[0\] = 1.
    a: Vec<f64>,
    tmp: Vec<f64>,
    /// Autocorrelation of `a`, lags 0..=p.
    ra: Vec<f64>,
}

impl Clone for ArFit {
    fn clone(&self) -> Self {
        ArFit::new(self.window.len(), self.order)
    }
}

impl ArFit {
    /// A fitter for stretches of `len` samples, order `order` (< len).
    pub fn new(len: usize, order: usize) -> ArFit {
        let n = 2 * len;
        let mut planner = RealFftPlanner::<f64>::new();
        let fwd = planner.plan_fft_forward(n);
        let inv = planner.plan_fft_inverse(n);
        let scratch = vec![Complex::default(); fwd.get_scratch_len().max(inv.get_scratch_len())];
        let window = (0..len)
            .map(|i| {
                let s = (std::f64::consts::PI * (i as f64 + 0.5) / len as f64).sin();
                s * s
            })
            .collect();
        ArFit {
            order,
            window,
            time: vec![0.0; n],
            spec: vec![Complex::default(); n / 2 + 1],
            scratch,
            fwd,
            inv,
            r: vec![0.0; order + 1],
            a: vec![0.0; order + 1],
            tmp: vec![0.0; order + 1],
            ra: vec![0.0; order + 1],
        }
    }

    pub fn order(&self) -> usize {
        self.order
    }

    /// The autocorrelation of the last fitted model's error filter.
    pub fn ra(&self) -> &[f64] {
        &self.ra
    }

    /// Fits the model to `x` (as long as the fitter's stretch). False
    /// when the stretch is silent or the recursion breaks down.
    pub fn fit(&mut self, x: &[f64]) -> bool {
        let len = self.window.len();
        debug_assert_eq!(x.len(), len);
        for ((t, v), w) in self.time.iter_mut().zip(x).zip(&self.window) {
            *t = v * w;
        }
        self.time[len..].fill(0.0);
        if self
            .fwd
            .process_with_scratch(&mut self.time, &mut self.spec, &mut self.scratch)
            .is_err()
        {
            return false;
        }
        for c in &mut self.spec {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        if self
            .inv
            .process_with_scratch(&mut self.spec, &mut self.time, &mut self.scratch)
            .is_err()
        {
            return false;
        }
        let p = self.order;
        self.r.copy_from_slice(&self.time[..=p]);
        if self.r[0].is_nan() || self.r[0] <= 0.0 {
            return false;
        }
        // A white-noise floor 60 dB down keeps the recursion well
        // conditioned on very narrow spectra.
        self.r[0] *= 1.0 + 1e-6;
        if !levinson(&self.r, &mut self.a, &mut self.tmp) {
            return false;
        }
        for k in 0..=p {
            self.ra[k] = self.a[..=p - k]
                .iter()
                .zip(&self.a[k..])
                .map(|(u, v)| u * v)
                .sum();
        }
        true
    }
}

/// Levinson-Durbin: the prediction error filter `a` (a\[0\] = 1) of the
/// autocorrelation `r`. False when it is not positive definite.
fn levinson(r: &[f64], a: &mut [f64], tmp: &mut [f64]) -> bool {
    let p = r.len() - 1;
    a.fill(0.0);
    a[0] = 1.0;
    let mut err = r[0];
    for i in 1..=p {
        let mut acc = r[i];
        for j in 1..i {
            acc += a[j] * r[i - j];
        }
        let k = -acc / err;
        tmp[..=i].copy_from_slice(&a[..=i]);
        for j in 1..i {
            a[j] = tmp[j] + k * tmp[i - j];
        }
        a[i] = k;
        err *= 1.0 - k * k;
        if err.is_nan() || err <= 0.0 {
            return false;
        }
    }
    true
}

/// Bounded least-squares interpolation of up to `max` missing samples.
#[derive(Clone)]
pub struct BoundedLs {
    max: usize,
    /// Q over all missing samples, row-major `m × m`.
    q: Vec<f64>,
    /// The reduced system's Cholesky factor (free samples only).
    l: Vec<f64>,
    b: Vec<f64>,
    xm: Vec<f64>,
    rhs: Vec<f64>,
    free: Vec<bool>,
    map: Vec<usize>,
}

/// Active-set rounds before the result is clamped.
const ROUNDS: usize = 8;

impl BoundedLs {
    pub fn new(max: usize) -> BoundedLs {
        BoundedLs {
            max,
            q: vec![0.0; max * max],
            l: vec![0.0; max * max],
            b: vec![0.0; max],
            xm: vec![0.0; max],
            rhs: vec![0.0; max],
            free: vec![false; max],
            map: vec![0; max],
        }
    }

    /// The most missing samples one call takes.
    pub fn capacity(&self) -> usize {
        self.max
    }

    /// Rebuilds `x[miss[i]]` (indices ascending, each with at least p
    /// samples of `x` either side) under the model `ra`, each at least
    /// `level` in magnitude with the sign of `sign[i]` (±1). False (and
    /// `x` unchanged) when the system is singular.
    pub fn solve(
        &mut self,
        ra: &[f64],
        x: &mut [f64],
        miss: &[usize],
        sign: &[f64],
        level: [f64; 2],
    ) -> bool {
        let m = miss.len();
        let p = ra.len() - 1;
        debug_assert!(m <= self.max);
        let bound = |s: f64| if s > 0.0 { level[0] } else { level[1] };
        // b: the known samples' pull, with the missing ones at zero.
        for (i, &n) in miss.iter().enumerate() {
            self.xm[i] = x[n];
            x[n] = 0.0;
        }
        for (i, &n) in miss.iter().enumerate() {
            let mut acc = ra[0] * x[n];
            for k in 1..=p {
                acc += ra[k] * (x[n - k] + x[n + k]);
            }
            self.b[i] = acc;
        }
        for (i, &n) in miss.iter().enumerate() {
            x[n] = self.xm[i];
        }
        let ridge = 1e-9 * ra[0];
        for i in 0..m {
            for j in 0..m {
                let d = miss[i].abs_diff(miss[j]);
                self.q[i * m + j] =
                    if d <= p { ra[d] } else { 0.0 } + if i == j { ridge } else { 0.0 };
            }
        }
        self.free[..m].fill(true);
        let mut ok = false;
        for _ in 0..ROUNDS {
            // Held samples sit at their bound; solve for the free ones.
            let mut f = 0;
            for (i, &s) in sign.iter().enumerate() {
                if self.free[i] {
                    self.map[f] = i;
                    f += 1;
                } else {
                    self.xm[i] = s * bound(s);
                }
            }
            for a in 0..f {
                let i = self.map[a];
                let mut acc = -self.b[i];
                for j in 0..m {
                    if !self.free[j] {
                        acc -= self.q[i * m + j] * self.xm[j];
                    }
                }
                self.rhs[a] = acc;
                for c in 0..=a {
                    self.l[a * f + c] = self.q[i * m + self.map[c]];
                }
            }
            if !cholesky_solve(&mut self.l[..f * f], f, &mut self.rhs[..f]) {
                break;
            }
            ok = true;
            for a in 0..f {
                self.xm[self.map[a]] = self.rhs[a];
            }
            let mut changed = false;
            for (i, &s) in sign.iter().enumerate() {
                if self.free[i] {
                    if s * self.xm[i] < bound(s) {
                        self.free[i] = false;
                        changed = true;
                    }
                } else {
                    // The gradient of the energy at a held sample: if
                    // moving it past its bound lowers the energy, free it.
                    let g: f64 =
                        self.b[i] + (0..m).map(|j| self.q[i * m + j] * self.xm[j]).sum::<f64>();
                    if s * g < 0.0 {
                        self.free[i] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if !ok {
            return false;
        }
        for (i, &n) in miss.iter().enumerate() {
            let s = sign[i];
            x[n] = s * (s * self.xm[i]).max(bound(s));
        }
        true
    }
}

/// Solves L Lᵀ y = rhs in place for the lower triangle given in `a`
/// (`n × n`, row-major). False when not positive definite.
fn cholesky_solve(a: &mut [f64], n: usize, rhs: &mut [f64]) -> bool {
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return false;
                }
                a[i * n + i] = s.sqrt();
            } else {
                a[i * n + j] = s / a[j * n + j];
            }
        }
    }
    for i in 0..n {
        let mut s = rhs[i];
        for k in 0..i {
            s -= a[i * n + k] * rhs[k];
        }
        rhs[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = rhs[i];
        for k in i + 1..n {
            s -= a[k * n + i] * rhs[k];
        }
        rhs[i] = s / a[i * n + i];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_a_sine_under_its_bound() {
        // A sine clipped at 0.6: the missing top comes back close to the
        // sine, never under the bound.
        let n = 1024;
        let x: Vec<f64> = (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * 300.0 * i as f64 / 48_000.0).sin())
            .collect();
        let mut fit = ArFit::new(n, 16);
        let mut y: Vec<f64> = x.iter().map(|v| v.clamp(-0.6, 0.6)).collect();
        assert!(fit.fit(&y));
        let miss: Vec<usize> = (200..800).filter(|&i| y[i].abs() >= 0.6).collect();
        let sign: Vec<f64> = miss.iter().map(|&i| y[i].signum()).collect();
        let mut ls = BoundedLs::new(miss.len());
        let before: f64 = miss.iter().map(|&i| (y[i] - x[i]).powi(2)).sum();
        assert!(ls.solve(fit.ra(), &mut y, &miss, &sign, [0.6, 0.6]));
        let after: f64 = miss.iter().map(|&i| (y[i] - x[i]).powi(2)).sum();
        assert!(after < before * 0.1, "{before} -> {after}");
        for (&i, &s) in miss.iter().zip(&sign) {
            assert!(s * y[i] >= 0.6);
        }
    }
}
