//! Polarity: whether one channel is inverted against the other.
//!
//! Real mixes are near mono in the low band (kick, bass: 20-150 Hz), so the
//! correlation of left and right there, Σ(LR)/√(ΣL²ΣR²) over the track
//! (each moment weighted by its level, as the sums weight it), is clearly
//! positive; an inverted channel turns it clearly negative
//! (below [`INVERTED_BELOW`], or below [`INVERTED_BOTH_BELOW`] with the
//! broadband correlation negative too), whatever the stereo width higher up. The
//! broadband correlation is reported beside it. The band is two
//! 4th-order Butterworth filters (high-pass 20 Hz, low-pass 150 Hz). A
//! mono source is never inverted.

use super::{Detector, Polarity, Restoration};
use crate::audio::Block;

/// Low-band correlation under which a channel counts as inverted.
pub const INVERTED_BELOW: f64 = -0.3;
/// ... or under which it does when the broadband correlation is under
/// [`BROAD_BELOW`] too (a mix with a wide bass: hr3-crossroads inverted
/// reads -0.16 low, -0.41 broadband).
pub const INVERTED_BOTH_BELOW: f64 = -0.1;
pub const BROAD_BELOW: f64 = -0.1;

/// A direct-form-I biquad (RBJ cookbook), enough for a band limit.
#[derive(Clone, Copy)]
pub(super) struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    /// A Butterworth-Q (0.707) low-pass (`high == false`) or high-pass.
    pub(super) fn new(rate: f64, hz: f64, high: bool) -> Biquad {
        let w = 2.0 * std::f64::consts::PI * hz / rate;
        let (s, c) = w.sin_cos();
        let alpha = s / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let a0 = 1.0 + alpha;
        let (b0, b1) = if high {
            ((1.0 + c) / 2.0, -(1.0 + c))
        } else {
            ((1.0 - c) / 2.0, 1.0 - c)
        };
        Biquad {
            b: [b0 / a0, b1 / a0, b0 / a0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    #[inline]
    pub(super) fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// The polarity detector.
pub struct PolarityDetector {
    mono: bool,
    /// High-pass 20 Hz twice, low-pass 150 Hz twice, per channel.
    filters: [[Biquad; 4]; 2],
    /// Low band: ΣLL, ΣRR, ΣLR; broadband the same.
    low: [f64; 3],
    broad: [f64; 3],
}

impl PolarityDetector {
    /// A detector at `rate`; `mono` for a one-channel source.
    pub fn new(rate: u32, mono: bool) -> PolarityDetector {
        let r = f64::from(rate);
        let hp = Biquad::new(r, 20.0, true);
        let lp = Biquad::new(r, 150.0_f64.min(0.4 * r), false);
        PolarityDetector {
            mono,
            filters: [[hp, hp, lp, lp]; 2],
            low: [0.0; 3],
            broad: [0.0; 3],
        }
    }
}

impl Detector for PolarityDetector {
    fn add(&mut self, block: &Block) {
        let n = block.left.len().min(block.right.len());
        let (mut low, mut broad) = ([0.0; 3], [0.0; 3]);
        let [fl, fr] = &mut self.filters;
        for (&l, &r) in block.left[..n].iter().zip(&block.right[..n]) {
            broad[0] += l * l;
            broad[1] += r * r;
            broad[2] += l * r;
            let a = fl.iter_mut().fold(l, |x, f| f.run(x));
            let b = fr.iter_mut().fold(r, |x, f| f.run(x));
            low[0] += a * a;
            low[1] += b * b;
            low[2] += a * b;
        }
        for k in 0..3 {
            self.low[k] += low[k];
            self.broad[k] += broad[k];
        }
    }

    fn finish(self: Box<Self>, out: &mut Restoration) {
        let corr = |s: [f64; 3]| {
            if s[0] <= 0.0 || s[1] <= 0.0 {
                None
            } else {
                Some((s[2] / (s[0] * s[1]).sqrt()).clamp(-1.0, 1.0))
            }
        };
        let low = corr(self.low);
        let broad = corr(self.broad);
        if broad.is_none() && low.is_none() {
            return; // silence, or one channel silent: nothing to say
        }
        out.polarity = Some(Polarity {
            correlation: broad.unwrap_or(0.0),
            low_band_correlation: low.unwrap_or(0.0),
            inverted: !self.mono
                && low.is_some_and(|c| {
                    c < INVERTED_BELOW
                        || (c < INVERTED_BOTH_BELOW && broad.is_some_and(|b| b < BROAD_BELOW))
                }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(l: &[f64], r: &[f64], mono: bool) -> Polarity {
        let mut d = Box::new(PolarityDetector::new(48_000, mono));
        d.add(&Block {
            left: l.to_vec(),
            right: r.to_vec(),
        });
        let mut out = Restoration::default();
        d.finish(&mut out);
        out.polarity.unwrap()
    }

    #[test]
    fn an_inverted_bass_is_found_whatever_the_top() {
        let mut s = 7u64;
        let mut noise = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        };
        let n = 96_000;
        let bass: Vec<f64> = (0..n)
            .map(|i| 0.3 * (i as f64 * 2.0 * std::f64::consts::PI * 60.0 / 48_000.0).sin())
            .collect();
        let l: Vec<f64> = bass.iter().map(|b| b + 0.2 * noise()).collect();
        let r: Vec<f64> = bass.iter().map(|b| b + 0.2 * noise()).collect();
        let p = run(&l, &r, false);
        assert!(!p.inverted && p.low_band_correlation > 0.9, "{p:?}");
        let inv: Vec<f64> = r.iter().map(|x| -x).collect();
        let p = run(&l, &inv, false);
        assert!(p.inverted && p.low_band_correlation < -0.9, "{p:?}");
        assert!(!run(&l, &inv, true).inverted);
    }
}
