//! The vinyl checks: what a cutting head and a playback stylus find hard,
//! measured on each track's vinyl premaster as it is rendered.
//!
//! - Low end out of phase: below 150 Hz (a 4th-order low-pass, two
//!   cascaded Butterworth sections), the correlation of left and right
//!   under 0. Out-of-phase bass is vertical groove motion: the cutting
//!   head lifts out of the lacquer or cuts through it, and the stylus
//!   skips.
//! - Low-end width: below 150 Hz, the side (L-R) energy against the mid
//!   (L+R) energy; above [`MAX_LOW_SIDE_DB`] the bass is wide enough that
//!   the cutting engineer will fold it to mono (an elliptical EQ).
//! - Strong highs: above 8 kHz (a 4th-order high-pass), the loudest
//!   50 ms RMS; over [`MAX_HF_DBFS`] sibilance and cymbals ask for more
//!   velocity than the cutter and the stylus can follow.
//! - Inner groove: the same figure on the last track of a side, held to
//!   the stricter [`MAX_INNER_HF_DBFS`]: near the label the groove passes
//!   the stylus about 2.5 times slower than at the rim, and the highs
//!   distort first.
//!
//! RMS levels are 10·log10 of the mean square of both channels (a
//! full-scale sine is -3 dBFS). DSP state and scratch blocks are made in
//! [`VinylMeter::new`]; nothing is allocated per block.

use crate::audio::{Block, BLOCK_FRAMES};
use crate::dsp::{DspError, Eq, EqBand, EqKind};
use crate::report::checks::{Check, CheckSeverity};

/// The low band's top.
pub const LOW_HZ: f64 = 150.0;
/// The high band's bottom.
pub const HIGH_HZ: f64 = 8_000.0;
/// The window of the high band's RMS.
pub const HF_WINDOW_S: f64 = 0.05;
/// Low-band side-to-mid energy above which the low end is called wide.
pub const MAX_LOW_SIDE_DB: f64 = -10.0;
/// The loudest 50 ms of the band above 8 kHz, any track.
pub const MAX_HF_DBFS: f64 = -20.0;
/// The same on the last track of a side.
pub const MAX_INNER_HF_DBFS: f64 = -26.0;
/// Below this low-band RMS there is no low end to judge.
const MIN_LOW_DBFS: f64 = -60.0;

/// What the vinyl checks measured on one track.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct VinylFigures {
    /// Correlation of left and right below 150 Hz (`None`: no low end).
    pub low_correlation: Option<f64>,
    /// Side against mid energy below 150 Hz, dB (`None`: no low end).
    pub low_side_db: Option<f64>,
    /// The loudest 50 ms RMS above 8 kHz, dBFS (`None`: silence).
    pub hf_peak_dbfs: Option<f64>,
}

/// Accumulates [`VinylFigures`] over a track's blocks.
pub struct VinylMeter {
    low: Eq,
    high: Eq,
    low_block: Block,
    high_block: Block,
    ll: f64,
    rr: f64,
    lr: f64,
    frames: u64,
    window: u64,
    win_sum: f64,
    win_n: u64,
    hf_max: f64,
}

fn band(kind: EqKind, freq_hz: f64) -> EqBand {
    EqBand {
        kind,
        freq_hz,
        gain_db: 0.0,
        q: None,
    }
}

impl VinylMeter {
    pub fn new(sample_rate: u32) -> Result<VinylMeter, DspError> {
        let lp = band(EqKind::Lowpass, LOW_HZ);
        let hp = band(EqKind::Highpass, HIGH_HZ);
        Ok(VinylMeter {
            low: Eq::new(sample_rate, &[lp, lp])?,
            high: Eq::new(sample_rate, &[hp, hp])?,
            low_block: Block::with_capacity(BLOCK_FRAMES),
            high_block: Block::with_capacity(BLOCK_FRAMES),
            ll: 0.0,
            rr: 0.0,
            lr: 0.0,
            frames: 0,
            window: ((HF_WINDOW_S * f64::from(sample_rate)).round() as u64).max(1),
            win_sum: 0.0,
            win_n: 0,
            hf_max: 0.0,
        })
    }

    /// Adds a block of the premaster.
    pub fn add(&mut self, block: &Block) {
        for (dst, src) in [(&mut self.low_block, block), (&mut self.high_block, block)] {
            dst.clear();
            dst.left.extend_from_slice(&src.left);
            dst.right.extend_from_slice(&src.right);
        }
        self.low.process(&mut self.low_block);
        self.high.process(&mut self.high_block);
        let (mut ll, mut rr, mut lr) = (0.0, 0.0, 0.0);
        for (l, r) in self.low_block.left.iter().zip(&self.low_block.right) {
            ll += l * l;
            rr += r * r;
            lr += l * r;
        }
        self.ll += ll;
        self.rr += rr;
        self.lr += lr;
        self.frames += block.len() as u64;
        for (l, r) in self.high_block.left.iter().zip(&self.high_block.right) {
            self.win_sum += 0.5 * (l * l + r * r);
            self.win_n += 1;
            if self.win_n == self.window {
                self.hf_max = self.hf_max.max(self.win_sum / self.window as f64);
                self.win_sum = 0.0;
                self.win_n = 0;
            }
        }
    }

    /// The figures of everything added.
    pub fn finish(&self) -> VinylFigures {
        let mut hf_max = self.hf_max;
        if self.win_n > 0 {
            hf_max = hf_max.max(self.win_sum / self.win_n as f64);
        }
        let n = self.frames.max(1) as f64;
        let low_ms = 0.5 * (self.ll + self.rr) / n;
        let has_low = low_ms > 0.0 && 10.0 * low_ms.log10() > MIN_LOW_DBFS;
        // Mid and side energies: (L±R)/2 squared, summed.
        let mid = 0.25 * (self.ll + self.rr + 2.0 * self.lr);
        let side = 0.25 * (self.ll + self.rr - 2.0 * self.lr);
        VinylFigures {
            low_correlation: has_low.then(|| self.lr / (self.ll * self.rr).sqrt().max(1e-300)),
            low_side_db: has_low.then(|| 10.0 * (side.max(1e-300) / mid.max(1e-300)).log10()),
            hf_peak_dbfs: (hf_max > 0.0).then(|| 10.0 * hf_max.log10()),
        }
    }
}

/// One track as the checks name it.
pub struct CheckedTrack<'a> {
    pub number: u32,
    pub title: &'a str,
    pub side: &'a str,
    /// The last track of its side.
    pub last_on_side: bool,
    pub figures: VinylFigures,
}

/// The failed vinyl checks, in track order (warnings: the cutting
/// engineer decides).
pub fn vinyl_checks(tracks: &[CheckedTrack<'_>]) -> Vec<Check> {
    let mut out = Vec::new();
    for t in tracks {
        let name = format!("track {} (\"{}\"), side {}", t.number, t.title, t.side);
        let mut warn = |id: &'static str, message: String| {
            out.push(Check {
                id,
                severity: CheckSeverity::Warning,
                track: Some(t.number),
                message,
            })
        };
        let f = &t.figures;
        if let Some(c) = f.low_correlation.filter(|c| *c < 0.0) {
            warn(
                "vinyl.low_end_phase",
                format!(
                    "{name}: the low end below {LOW_HZ:.0} Hz is out of phase (correlation {c:.2}): the cutting head would cut it as vertical groove motion; make the bass mono or check the polarity"
                ),
            );
        }
        if let Some(w) = f.low_side_db.filter(|w| *w > MAX_LOW_SIDE_DB) {
            warn(
                "vinyl.low_end_width",
                format!(
                    "{name}: the low end below {LOW_HZ:.0} Hz is wide (side {w:.1} dB against mid, over {MAX_LOW_SIDE_DB:.0} dB): expect the cutting engineer to fold it to mono"
                ),
            );
        }
        if let Some(h) = f.hf_peak_dbfs {
            if h > MAX_HF_DBFS {
                warn(
                    "vinyl.sibilance",
                    format!(
                        "{name}: strong highs above {:.0} kHz ({h:.1} dBFS RMS over 50 ms, over {MAX_HF_DBFS:.0} dBFS): sibilance and cymbals this hot distort on vinyl; de-ess or lower them",
                        HIGH_HZ / 1000.0
                    ),
                );
            }
            if t.last_on_side && h > MAX_INNER_HF_DBFS {
                warn(
                    "vinyl.inner_groove",
                    format!(
                        "{name}: the last track of the side has highs above {:.0} kHz at {h:.1} dBFS RMS over 50 ms (over {MAX_INNER_HF_DBFS:.0} dBFS for the inner groove): expect inner-groove distortion; move a quieter track to the end of the side",
                        HIGH_HZ / 1000.0
                    ),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(rate: u32, secs: f64, f: impl Fn(f64) -> (f64, f64)) -> VinylFigures {
        let mut m = VinylMeter::new(rate).unwrap();
        let n = (secs * f64::from(rate)) as usize;
        let mut b = Block::with_capacity(BLOCK_FRAMES);
        for start in (0..n).step_by(BLOCK_FRAMES) {
            b.clear();
            for i in start..(start + BLOCK_FRAMES).min(n) {
                let (l, r) = f(i as f64 / f64::from(rate));
                b.left.push(l);
                b.right.push(r);
            }
            m.add(&b);
        }
        m.finish()
    }

    #[test]
    fn inverted_bass_is_out_of_phase_and_mono_bass_is_not() {
        let tau = std::f64::consts::TAU;
        let bad = measure(48_000, 2.0, |t| {
            let b = 0.5 * (tau * 60.0 * t).sin();
            let hi = 0.1 * (tau * 1000.0 * t).sin();
            (b + hi, -b + hi)
        });
        assert!(bad.low_correlation.unwrap() < -0.9, "{bad:?}");
        assert!(bad.low_side_db.unwrap() > 20.0, "{bad:?}");
        let good = measure(44_100, 2.0, |t| {
            let b = 0.5 * (tau * 60.0 * t).sin();
            (b, b)
        });
        assert!(good.low_correlation.unwrap() > 0.99, "{good:?}");
        assert!(good.low_side_db.unwrap() < -60.0, "{good:?}");
        // A 60 Hz tone has nothing above 8 kHz.
        assert!(good.hf_peak_dbfs.is_none_or(|h| h < -80.0), "{good:?}");
    }

    #[test]
    fn a_loud_high_tone_is_flagged_and_more_so_at_the_inner_groove() {
        let tau = std::f64::consts::TAU;
        // 12 kHz at 0.2 peak: -17 dBFS RMS.
        let f = measure(48_000, 1.0, |t| {
            let s = 0.2 * (tau * 12_000.0 * t).sin();
            (s, s)
        });
        let h = f.hf_peak_dbfs.unwrap();
        // -16.99 dBFS less two bilinear Butterworth sections at 12 kHz:
        // the warped ratio tan(pi 8/48) / tan(pi 12/48) to the 4th power.
        let pi = std::f64::consts::PI;
        let ratio = (pi * 8.0 / 48.0).tan() / (pi * 12.0 / 48.0).tan();
        let want = 10.0 * 0.02f64.log10() - 2.0 * 10.0 * (1.0 + ratio.powi(4)).log10();
        assert!((h - want).abs() < 0.05, "{h} against {want}");
        let checks = vinyl_checks(&[CheckedTrack {
            number: 3,
            title: "T",
            side: "B",
            last_on_side: true,
            figures: f,
        }]);
        let ids: Vec<_> = checks.iter().map(|c| c.id).collect();
        assert_eq!(ids, ["vinyl.sibilance", "vinyl.inner_groove"]);
    }
}
