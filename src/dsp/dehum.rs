//! Dehum: a cascade of narrow notches at a mains fundamental (50 or 60 Hz,
//! or any given frequency) and its first N harmonics, both channels.
//!
//! Each notch is the cookbook notch biquad (see [`super::eq`]) with the
//! same Q at every harmonic, so each notch is as wide, relative to its
//! frequency, as the others: mains drift moves harmonic k by k times the
//! fundamental's drift, and the notches keep up. The -3 dB width of a notch
//! is f/Q (at Q 20: 2.5 Hz at 50 Hz, 15 Hz at 300 Hz); a tone exactly on a
//! notch is taken out completely once the notch has settled, which takes
//! about 3.5 Q/(π f) seconds for 30 dB (0.44 s at 50 Hz, Q 20). Outside
//! the notches the response is flat (within 0.01 dB an octave away).
//! Harmonics at or above 0.45 of the sample rate are left out.
//!
//! The filter is an IIR cascade with no latency. Memory is fixed in
//! [`Dehum::new`]; `process` runs each notch over the block in place and
//! allocates nothing. A dehum built with no notches (`auto` that found no
//! hum) passes samples through bit-identical.

use super::eq::{Biquad, Coefs, EqBand, EqKind};
use super::{check_param, check_rate, DspError};
use crate::audio::Block;

/// Dehum settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DehumParams {
    /// The fundamental, Hz (20..=1000).
    pub freq_hz: f64,
    /// Harmonics notched above the fundamental (0..=40): 5 notches
    /// 2 f .. 6 f besides f itself.
    pub harmonics: usize,
    /// The notches' Q (5..=500): -3 dB width = frequency / Q.
    pub q: f64,
}

/// Default Q of the notches.
pub const DEFAULT_Q: f64 = 20.0;
/// Default number of harmonics above the fundamental.
pub const DEFAULT_HARMONICS: usize = 5;

/// The notch cascade.
#[derive(Debug, Clone)]
pub struct Dehum {
    notches: Vec<Biquad>,
    freqs: Vec<f64>,
    rate: f64,
}

impl Dehum {
    /// Notches at `p.freq_hz` × 1 ..= 1 + `p.harmonics` below 0.45 of the
    /// rate.
    pub fn new(sample_rate: u32, p: DehumParams) -> Result<Dehum, DspError> {
        let rate = check_rate(sample_rate)?;
        check_param("dehum freq_hz", p.freq_hz, 20.0, 1000.0, "20 to 1000 Hz")?;
        check_param("dehum harmonics", p.harmonics as f64, 0.0, 40.0, "0 to 40")?;
        check_param("dehum q", p.q, 5.0, 500.0, "5 to 500")?;
        let freqs: Vec<f64> = (1..=p.harmonics + 1)
            .map(|k| p.freq_hz * k as f64)
            .filter(|&f| f < 0.45 * rate)
            .collect();
        let notches = freqs
            .iter()
            .map(|&freq_hz| {
                let band = EqBand {
                    kind: EqKind::Notch,
                    freq_hz,
                    gain_db: 0.0,
                    q: Some(p.q),
                };
                Biquad::new(Coefs::design(&band, rate))
            })
            .collect();
        Ok(Dehum {
            notches,
            freqs,
            rate,
        })
    }

    /// A dehum that changes nothing (no hum was found).
    pub fn bypass() -> Dehum {
        Dehum {
            notches: Vec::new(),
            freqs: Vec::new(),
            rate: 48_000.0,
        }
    }

    /// The notches' frequencies, Hz.
    pub fn freqs(&self) -> &[f64] {
        &self.freqs
    }

    /// Magnitude of the whole cascade at `freq_hz`, dB.
    pub fn magnitude_db(&self, freq_hz: f64) -> f64 {
        self.notches
            .iter()
            .map(|n| 20.0 * n.coefs().magnitude(freq_hz, self.rate).log10())
            .sum()
    }

    /// Filters the block in place, notch after notch.
    pub fn process(&mut self, block: &mut Block) {
        for n in &mut self.notches {
            n.run(&mut block.left, &mut block.right);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn params(freq_hz: f64) -> DehumParams {
        DehumParams {
            freq_hz,
            harmonics: DEFAULT_HARMONICS,
            q: DEFAULT_Q,
        }
    }

    #[test]
    fn notches_the_lines_and_leaves_the_rest() {
        let d = Dehum::new(48_000, params(50.0)).unwrap();
        assert_eq!(d.freqs(), &[50.0, 100.0, 150.0, 200.0, 250.0, 300.0]);
        for f in d.freqs() {
            assert!(d.magnitude_db(*f) < -100.0, "{f}: {}", d.magnitude_db(*f));
        }
        for f in [20.0, 500.0, 1000.0, 5000.0, 15_000.0] {
            assert!(d.magnitude_db(f).abs() < 0.05, "{f}: {}", d.magnitude_db(f));
        }
        // A 44.1 kHz dehum at 1 kHz with 40 harmonics stops under 0.45 fs.
        let d = Dehum::new(
            44_100,
            DehumParams {
                freq_hz: 1000.0,
                harmonics: 40,
                q: 50.0,
            },
        )
        .unwrap();
        assert_eq!(d.freqs().len(), 19);
    }

    #[test]
    fn a_steady_line_goes_and_the_block_size_does_not_matter() {
        let fs = 48_000.0;
        let n = 96_000;
        let x: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                0.01 * (2.0 * PI * 60.0 * t).sin() + 0.3 * (2.0 * PI * 1234.5 * t).sin()
            })
            .collect();
        let mut outs = Vec::new();
        for step in [1usize, 333, 4096] {
            let mut d = Dehum::new(48_000, params(60.0)).unwrap();
            let mut out = Vec::with_capacity(n);
            for c in x.chunks(step) {
                let mut b = Block {
                    left: c.to_vec(),
                    right: c.to_vec(),
                };
                d.process(&mut b);
                out.extend_from_slice(&b.left);
            }
            outs.push(out);
        }
        assert_eq!(outs[0], outs[1]);
        assert_eq!(outs[0], outs[2]);
        // After 1 s, the 60 Hz line is more than 60 dB down and the
        // 1234.5 Hz tone keeps its amplitude (within 0.01 dB).
        let tail = &outs[0][48_000..];
        // A Hann-weighted projection, so the tone does not leak into the
        // reading at 60 Hz.
        let amp = |f: f64| {
            let (mut s, mut c, mut sw) = (0.0, 0.0, 0.0);
            let m = tail.len() as f64;
            for (i, y) in tail.iter().enumerate() {
                let h = 0.5 - 0.5 * (2.0 * PI * i as f64 / m).cos();
                let w = 2.0 * PI * f * (i + 48_000) as f64 / fs;
                s += h * y * w.sin();
                c += h * y * w.cos();
                sw += h;
            }
            2.0 * (s * s + c * c).sqrt() / sw
        };
        let hum_db = 20.0 * (amp(60.0) / 0.01).log10();
        let tone_db = 20.0 * (amp(1234.5) / 0.3).log10();
        assert!(hum_db < -60.0, "{hum_db}");
        assert!(tone_db.abs() < 0.01, "{tone_db}");
        assert!(Dehum::new(48_000, params(10.0)).is_err());
        assert!(Dehum::new(
            48_000,
            DehumParams {
                q: 1.0,
                ..params(50.0)
            }
        )
        .is_err());
        let mut b = Block {
            left: vec![0.5, -0.25],
            right: vec![0.125, 1.0],
        };
        Dehum::bypass().process(&mut b);
        assert_eq!(b.left, vec![0.5, -0.25]);
    }
}
