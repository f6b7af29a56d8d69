//! Feed-forward compressor with a soft knee.
//!
//! Signal path per frame (the "smooth decoupled" peak design of Giannoulis,
//! Massberg & Reiss, "Digital dynamic range compressor design", JAES 2012):
//! 1. level: the sample's magnitude; with stereo link each channel reads
//!    `(1 - link) * |own| + link * max(|left|, |right|)`, so link 1 drives
//!    both channels from the louder one and keeps the image still;
//! 2. gain computer: the static curve [`static_curve_db`], the standard
//!    quadratic soft knee of width `knee_db` centred on `threshold_db`,
//!    giving the wanted gain reduction in dB;
//! 3. smoothing of the reduction in dB, in two one-pole stages: a peak
//!    hold that follows a rise at once and decays with time constant
//!    `release_ms`, then a one-pole with time constant `attack_ms`. The
//!    release acts once, the attack once, and a steady sine settles on the
//!    static curve at its peak level (the hold droops by
//!    1 - exp(-half period / release) between peaks: 0.02 dB at 1 kHz
//!    with 200 ms);
//! 4. `makeup_db` added, the linear gain applied.
//!
//! Level and gain are computed once per frame when the channels are fully
//! linked (one log and one exp), per channel otherwise; below the knee with
//! no reduction pending neither is computed.

use super::{check_param, check_rate, db_to_lin, one_pole_coef, DspError};
use crate::audio::Block;

/// dB per neper: 20 / ln 10.
const DB_PER_NEPER: f64 = 20.0 / std::f64::consts::LN_10;

/// Linear gain for `db` via the f32 exp (relative error about 1e-7).
#[inline]
fn fast_gain(db: f64) -> f64 {
    ((db / DB_PER_NEPER) as f32).exp() as f64
}

/// Compressor settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompressorParams {
    pub threshold_db: f64,
    pub ratio: f64,
    pub attack_ms: f64,
    pub release_ms: f64,
    pub knee_db: f64,
    pub makeup_db: f64,
    /// 0 = channels independent, 1 = the louder channel drives both.
    pub stereo_link: f64,
}

impl Default for CompressorParams {
    fn default() -> Self {
        CompressorParams {
            threshold_db: -18.0,
            ratio: 2.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            knee_db: 6.0,
            makeup_db: 0.0,
            stereo_link: 1.0,
        }
    }
}

/// Output level in dB for an input level `x_db` on the static curve
/// (threshold `t`, ratio `r`, knee width `w`, all in dB; no makeup).
#[inline]
pub fn static_curve_db(x_db: f64, t: f64, r: f64, w: f64) -> f64 {
    let over = x_db - t;
    if 2.0 * over < -w {
        x_db
    } else if 2.0 * over <= w && w > 0.0 {
        let k = over + 0.5 * w;
        x_db + (1.0 / r - 1.0) * k * k / (2.0 * w)
    } else {
        t + over / r
    }
}

/// Feed-forward soft-knee compressor.
#[derive(Debug, Clone)]
pub struct Compressor {
    p: CompressorParams,
    attack: f64,
    release: f64,
    /// Lowest linear level at which the knee starts: below it the computed
    /// gain is 0 dB and the log can be skipped.
    knee_floor: f64,
    makeup: f64,
    /// Peak-hold stage of the gain reduction, dB (<= 0), per channel.
    hold: [f64; 2],
    /// Attack stage: the gain reduction applied, dB (<= 0), per channel.
    gain_db: [f64; 2],
}

impl Compressor {
    /// Builds the compressor for `sample_rate`.
    pub fn new(sample_rate: u32, p: CompressorParams) -> Result<Self, DspError> {
        let fs = check_rate(sample_rate)?;
        check_param("threshold_db", p.threshold_db, -80.0, 0.0, "-80 to 0 dBFS")?;
        check_param("ratio", p.ratio, 1.0, 100.0, "1 to 100")?;
        check_param("attack_ms", p.attack_ms, 0.0, 1000.0, "0 to 1000 ms")?;
        check_param("release_ms", p.release_ms, 1.0, 5000.0, "1 to 5000 ms")?;
        check_param("knee_db", p.knee_db, 0.0, 24.0, "0 to 24 dB")?;
        check_param("makeup_db", p.makeup_db, -24.0, 24.0, "-24 to +24 dB")?;
        check_param("stereo_link", p.stereo_link, 0.0, 1.0, "0 to 1")?;
        Ok(Compressor {
            attack: one_pole_coef(p.attack_ms, fs),
            release: one_pole_coef(p.release_ms, fs),
            knee_floor: db_to_lin(p.threshold_db - 0.5 * p.knee_db),
            makeup: db_to_lin(p.makeup_db),
            hold: [0.0; 2],
            gain_db: [0.0; 2],
            p,
        })
    }

    /// The settings this compressor runs with.
    pub fn params(&self) -> &CompressorParams {
        &self.p
    }

    /// Current smoothed gain reduction in dB per channel (without makeup).
    pub fn gain_reduction_db(&self) -> [f64; 2] {
        self.gain_db
    }

    /// Clears the detector and gain state.
    pub fn reset(&mut self) {
        self.hold = [0.0; 2];
        self.gain_db = [0.0; 2];
    }

    /// Target gain in dB (no makeup) for a linear detector level.
    #[inline]
    fn target_db(&self, level: f64) -> f64 {
        if level <= self.knee_floor {
            return 0.0;
        }
        // f32 log: 1e-6 dB of error is far below anything audible and
        // halves the cost of the per-frame level computation.
        let x_db = (level as f32).ln() as f64 * DB_PER_NEPER;
        static_curve_db(x_db, self.p.threshold_db, self.p.ratio, self.p.knee_db) - x_db
    }

    /// Both smoothing stages for one channel: the reduction `target`
    /// (gain in dB, <= 0) updates the peak hold `hold` and the attack
    /// stage `gain`, which is returned. Both snap to exactly 0 once they
    /// are within 1e-9 dB of it, so a long recovery never reaches
    /// denormals and an idle compressor multiplies by the makeup alone.
    #[inline]
    fn smooth(&self, hold: &mut f64, gain: &mut f64, target: f64) -> f64 {
        // Reductions are negative: the hold follows any deeper target at
        // once and otherwise decays towards it.
        let h = target.min(self.release * *hold + (1.0 - self.release) * target);
        *hold = if h > -1e-9 { 0.0 } else { h };
        let g = self.attack * *gain + (1.0 - self.attack) * *hold;
        *gain = if g > -1e-9 && *hold == 0.0 { 0.0 } else { g };
        *gain
    }

    /// Linear gain for a smoothed reduction.
    #[inline]
    fn linear(&self, gain_db: f64) -> f64 {
        if gain_db == 0.0 {
            self.makeup
        } else {
            fast_gain(gain_db + self.p.makeup_db)
        }
    }

    /// Compresses the block in place.
    pub fn process(&mut self, block: &mut Block) {
        let link = self.p.stereo_link;
        let [mut hl, mut hr] = self.hold;
        let [mut gl, mut gr] = self.gain_db;
        for (l, r) in block.left.iter_mut().zip(block.right.iter_mut()) {
            let (al, ar) = (l.abs(), r.abs());
            let m = al.max(ar);
            if link >= 1.0 {
                let target = self.target_db(m);
                let g = self.linear(self.smooth(&mut hl, &mut gl, target));
                *l *= g;
                *r *= g;
            } else {
                let tl = self.target_db((1.0 - link) * al + link * m);
                let tr = self.target_db((1.0 - link) * ar + link * m);
                *l *= self.linear(self.smooth(&mut hl, &mut gl, tl));
                *r *= self.linear(self.smooth(&mut hr, &mut gr, tr));
            }
        }
        if link >= 1.0 {
            (hr, gr) = (hl, gl);
        }
        self.hold = [hl, hr];
        self.gain_db = [gl, gr];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_curve_shape() {
        let (t, r, w) = (-18.0, 4.0, 6.0);
        assert_eq!(static_curve_db(-30.0, t, r, w), -30.0);
        assert!((static_curve_db(-6.0, t, r, w) - (-18.0 + 12.0 / 4.0)).abs() < 1e-12);
        // At the threshold the knee takes (1/r - 1) * w / 8 off.
        let at_t = static_curve_db(-18.0, t, r, w);
        assert!((at_t - (-18.0 + (0.25 - 1.0) * 6.0 / 8.0)).abs() < 1e-12);
        // Continuous at both knee edges.
        for x in [-21.0, -15.0] {
            let a = static_curve_db(x - 1e-9, t, r, w);
            let b = static_curve_db(x + 1e-9, t, r, w);
            assert!((a - b).abs() < 1e-6);
        }
        // Hard knee.
        assert_eq!(static_curve_db(-10.0, t, r, 0.0), -18.0 + 2.0);
    }

    /// Runs `frames` frames of a constant level (a clean step input) and
    /// returns the applied gain reduction in dB.
    fn hold_level(c: &mut Compressor, level: f64, frames: usize) -> f64 {
        let mut b = Block {
            left: vec![level; frames],
            right: vec![level; frames],
        };
        c.process(&mut b);
        c.gain_reduction_db()[0]
    }

    #[test]
    fn attack_and_release_time_constants() {
        let fs = 48_000;
        let p = CompressorParams {
            threshold_db: -20.0,
            ratio: 4.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            knee_db: 0.0,
            ..Default::default()
        };
        let mut c = Compressor::new(fs, p).unwrap();
        assert_eq!(hold_level(&mut c, 0.01, 4800), 0.0);
        // Step to -6 dBFS: the reduction aims at -(14 - 14/4) = -10.5 dB
        // and reaches 1 - 1/e of it after attack_ms.
        let target = static_curve_db(-6.0206, -20.0, 4.0, 0.0) + 6.0206;
        let after_attack = hold_level(&mut c, 0.5, 480);
        assert!((after_attack / target - (1.0 - (-1.0f64).exp())).abs() < 0.005);
        let settled = hold_level(&mut c, 0.5, 48_000);
        assert!((settled - target).abs() < 1e-6);
        // Back under the knee: the hold decays with release_ms and the
        // attack stage follows it; two one-poles in series give
        // (tR e^(-t/tR) - tA e^(-t/tA)) / (tR - tA) of the step at t.
        let at_release = hold_level(&mut c, 0.01, 7200);
        let want = (150.0 * (-1.0f64).exp() - 10.0 * (-15.0f64).exp()) / 140.0;
        assert!(
            (at_release / target - want).abs() < 0.005,
            "{}",
            at_release / target
        );
        assert!(hold_level(&mut c, 0.01, 5 * 7200).abs() < 0.01 * target.abs());
        // Eventually exactly 0 dB: unity gain (times makeup) again.
        assert_eq!(hold_level(&mut c, 0.01, 48_000 * 10), 0.0);
    }

    #[test]
    fn rejects_bad_settings() {
        let p = CompressorParams {
            ratio: 0.5,
            ..Default::default()
        };
        assert!(Compressor::new(48_000, p).is_err());
    }
}
