//! Parametric EQ: a cascade of biquads designed after Robert
//! Bristow-Johnson's "Cookbook formulae for audio EQ biquad filter
//! coefficients", run in transposed direct form II in f64.
//!
//! Band types: highpass, lowpass, low shelf, high shelf, bell (peaking) and
//! notch. `q` is the cookbook Q for every type. When `q` is absent it is
//! 1/sqrt(2) (0.7071): a Butterworth response for highpass and lowpass, and
//! for the shelves exactly the cookbook's shelf slope S = 1 (the steepest
//! slope without overshoot), since S = 1 gives Q = 1/sqrt(2) at any gain.
//! `gain_db` matters for bell and shelves only.
//!
//! [`band_magnitude_db`] evaluates |H(e^jw)| of one band from its
//! coefficients, the analytic response the tests compare the running filter
//! against. The filter state is flushed to zero at the end of each block
//! once it falls below 1e-30, so silence never decays into denormals.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use super::{check_param, check_rate, DspError};
use crate::audio::Block;

/// The shape of one EQ band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EqKind {
    Highpass,
    Lowpass,
    LowShelf,
    HighShelf,
    Bell,
    Notch,
}

/// One EQ band. `q: None` means 1/sqrt(2) (shelves: slope S = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EqBand {
    pub kind: EqKind,
    pub freq_hz: f64,
    pub gain_db: f64,
    pub q: Option<f64>,
}

/// Normalised biquad coefficients (a0 = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefs {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl Coefs {
    /// The cookbook design of `band` at `sample_rate` Hz (no range checks).
    pub fn design(band: &EqBand, sample_rate: f64) -> Coefs {
        let q = band.q.unwrap_or(FRAC_1_SQRT_2);
        let a = 10f64.powf(band.gain_db / 40.0);
        let w0 = 2.0 * PI * band.freq_hz / sample_rate;
        let (sn, cs) = w0.sin_cos();
        let alpha = sn / (2.0 * q);
        let (b0, b1, b2, a0, a1, a2) = match band.kind {
            EqKind::Lowpass => (
                (1.0 - cs) / 2.0,
                1.0 - cs,
                (1.0 - cs) / 2.0,
                1.0 + alpha,
                -2.0 * cs,
                1.0 - alpha,
            ),
            EqKind::Highpass => (
                (1.0 + cs) / 2.0,
                -(1.0 + cs),
                (1.0 + cs) / 2.0,
                1.0 + alpha,
                -2.0 * cs,
                1.0 - alpha,
            ),
            EqKind::Notch => (1.0, -2.0 * cs, 1.0, 1.0 + alpha, -2.0 * cs, 1.0 - alpha),
            EqKind::Bell => (
                1.0 + alpha * a,
                -2.0 * cs,
                1.0 - alpha * a,
                1.0 + alpha / a,
                -2.0 * cs,
                1.0 - alpha / a,
            ),
            EqKind::LowShelf => {
                let k = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) - (a - 1.0) * cs + k),
                    2.0 * a * ((a - 1.0) - (a + 1.0) * cs),
                    a * ((a + 1.0) - (a - 1.0) * cs - k),
                    (a + 1.0) + (a - 1.0) * cs + k,
                    -2.0 * ((a - 1.0) + (a + 1.0) * cs),
                    (a + 1.0) + (a - 1.0) * cs - k,
                )
            }
            EqKind::HighShelf => {
                let k = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) + (a - 1.0) * cs + k),
                    -2.0 * a * ((a - 1.0) + (a + 1.0) * cs),
                    a * ((a + 1.0) + (a - 1.0) * cs - k),
                    (a + 1.0) - (a - 1.0) * cs + k,
                    2.0 * ((a - 1.0) - (a + 1.0) * cs),
                    (a + 1.0) - (a - 1.0) * cs - k,
                )
            }
        };
        Coefs {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b2 / a0,
            a1: a1 / a0,
            a2: a2 / a0,
        }
    }

    /// |H(e^jw)| at `freq_hz`, evaluated from the coefficients.
    pub fn magnitude(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        let w = 2.0 * PI * freq_hz / sample_rate;
        let (s1, c1) = w.sin_cos();
        let (s2, c2) = (2.0 * w).sin_cos();
        // H = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2), z = e^jw
        let nr = self.b0 + self.b1 * c1 + self.b2 * c2;
        let ni = -(self.b1 * s1 + self.b2 * s2);
        let dr = 1.0 + self.a1 * c1 + self.a2 * c2;
        let di = -(self.a1 * s1 + self.a2 * s2);
        ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
    }
}

/// Analytic magnitude in dB of one band (cookbook design) at `freq_hz`.
pub fn band_magnitude_db(band: &EqBand, sample_rate: f64, freq_hz: f64) -> f64 {
    20.0 * Coefs::design(band, sample_rate)
        .magnitude(freq_hz, sample_rate)
        .log10()
}

/// One biquad with a TDF-II state per channel.
#[derive(Debug, Clone)]
pub(crate) struct Biquad {
    c: Coefs,
    z: [[f64; 2]; 2],
}

impl Biquad {
    /// A biquad of coefficients `c`, at rest.
    pub(crate) fn new(c: Coefs) -> Biquad {
        Biquad {
            c,
            z: [[0.0; 2]; 2],
        }
    }

    /// Its coefficients.
    pub(crate) fn coefs(&self) -> &Coefs {
        &self.c
    }

    /// Runs both channels in one loop: two independent recursions side by
    /// side hide each other's latency.
    pub(crate) fn run(&mut self, left: &mut [f64], right: &mut [f64]) {
        let Coefs { b0, b1, b2, a1, a2 } = self.c;
        let [[mut l1, mut l2], [mut r1, mut r2]] = self.z;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let (xl, xr) = (*l, *r);
            let yl = b0 * xl + l1;
            let yr = b0 * xr + r1;
            l1 = b1 * xl - a1 * yl + l2;
            r1 = b1 * xr - a1 * yr + r2;
            l2 = b2 * xl - a2 * yl;
            r2 = b2 * xr - a2 * yr;
            *l = yl;
            *r = yr;
        }
        const TINY: f64 = 1e-30;
        let flush = |z: f64| if z.abs() < TINY { 0.0 } else { z };
        self.z = [[flush(l1), flush(l2)], [flush(r1), flush(r2)]];
    }
}

/// A cascade of EQ bands, applied in the order given.
#[derive(Debug, Clone)]
pub struct Eq {
    bands: Vec<EqBand>,
    filters: Vec<Biquad>,
    sample_rate: f64,
}

impl Eq {
    /// Designs every band for `sample_rate`. Frequencies must lie in
    /// 10 Hz .. 0.49 fs, Q in 0.05..=50, gains in -36..=+36 dB.
    pub fn new(sample_rate: u32, bands: &[EqBand]) -> Result<Self, DspError> {
        let rate = check_rate(sample_rate)?;
        let mut filters = Vec::with_capacity(bands.len());
        for band in bands {
            check_param(
                "eq freq_hz",
                band.freq_hz,
                10.0,
                0.49 * rate,
                "10 Hz to just under half the sample rate",
            )?;
            check_param("eq gain_db", band.gain_db, -36.0, 36.0, "-36 to +36 dB")?;
            if let Some(q) = band.q {
                check_param("eq q", q, 0.05, 50.0, "0.05 to 50")?;
            }
            filters.push(Biquad {
                c: Coefs::design(band, rate),
                z: [[0.0; 2]; 2],
            });
        }
        Ok(Eq {
            bands: bands.to_vec(),
            filters,
            sample_rate: rate,
        })
    }

    /// The bands this EQ was built from.
    pub fn bands(&self) -> &[EqBand] {
        &self.bands
    }

    /// Magnitude in dB of the whole cascade at `freq_hz`.
    pub fn magnitude_db(&self, freq_hz: f64) -> f64 {
        self.filters
            .iter()
            .map(|f| 20.0 * f.c.magnitude(freq_hz, self.sample_rate).log10())
            .sum()
    }

    /// Clears the filter state.
    pub fn reset(&mut self) {
        for f in &mut self.filters {
            f.z = [[0.0; 2]; 2];
        }
    }

    /// Filters the block in place, band after band.
    pub fn process(&mut self, block: &mut Block) {
        for f in &mut self.filters {
            f.run(&mut block.left, &mut block.right);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(kind: EqKind, freq_hz: f64, gain_db: f64, q: Option<f64>) -> EqBand {
        EqBand {
            kind,
            freq_hz,
            gain_db,
            q,
        }
    }

    #[test]
    fn cookbook_landmarks() {
        let fs = 48_000.0;
        let hp = band(EqKind::Highpass, 1000.0, 0.0, None);
        assert!((band_magnitude_db(&hp, fs, 1000.0) + 3.0103).abs() < 1e-3);
        let bell = band(EqKind::Bell, 3000.0, -4.5, Some(1.2));
        assert!((band_magnitude_db(&bell, fs, 3000.0) + 4.5).abs() < 1e-9);
        let hs = band(EqKind::HighShelf, 2000.0, 6.0, None);
        assert!((band_magnitude_db(&hs, fs, 23_900.0) - 6.0).abs() < 0.05);
        assert!((band_magnitude_db(&hs, fs, 2000.0) - 3.0).abs() < 1e-9);
        let ls = band(EqKind::LowShelf, 200.0, -6.0, None);
        assert!((band_magnitude_db(&ls, fs, 10.0) + 6.0).abs() < 0.05);
        let notch = band(EqKind::Notch, 1000.0, 0.0, Some(2.0));
        assert!(band_magnitude_db(&notch, fs, 1000.0) < -200.0);
    }

    #[test]
    fn rejects_bad_bands() {
        let b = band(EqKind::Bell, 30_000.0, 0.0, None);
        assert!(Eq::new(48_000, &[b]).is_err());
        let b = band(EqKind::Bell, 1000.0, 0.0, Some(0.0));
        assert!(Eq::new(48_000, &[b]).is_err());
    }
}
