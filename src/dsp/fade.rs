//! Fades in and out, applied in place as a track streams through, plus the
//! trim helper that turns seconds into a frame range.
//!
//! The fade-in starts at the track's first frame, the fade-out ends on its
//! last, so the stage needs the track's total length in frames. With the
//! fade position `x` going from 0 (silent) to 1 (full level), the curves are:
//! - `linear`: gain = x;
//! - `log`: dB-linear over 60 dB: the level in dB rises on a straight line
//!   from -60 dB to 0 dB, shifted so that x = 0 is true silence:
//!   gain = (10^(3(x-1)) - 10^-3) / (1 - 10^-3). It sounds even to the ear
//!   and is the "exponential" fade of most editors;
//! - `s-curve`: raised cosine, gain = (1 - cos(pi x)) / 2.
//!
//! The first frame of a fade-in and the last frame of a fade-out are
//! exactly 0. When the two fades overlap (a short track), both apply.

use std::ops::Range;

use super::{check_param, check_rate, DspError};
use crate::audio::Block;

/// Shape of a fade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FadeCurve {
    #[default]
    Linear,
    Log,
    SCurve,
}

impl FadeCurve {
    /// Gain at fade position `x` (0 = silent, 1 = full level).
    #[inline]
    pub fn gain(self, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        match self {
            FadeCurve::Linear => x,
            FadeCurve::Log => {
                const FLOOR: f64 = 1e-3; // -60 dB
                if x == 0.0 {
                    0.0
                } else {
                    (((3.0 * (x - 1.0)).exp10_compat() - FLOOR) / (1.0 - FLOOR)).max(0.0)
                }
            }
            FadeCurve::SCurve => 0.5 - 0.5 * (std::f64::consts::PI * x).cos(),
        }
    }
}

/// `10^x` without relying on an unstable `exp10`.
trait Exp10 {
    fn exp10_compat(self) -> f64;
}
impl Exp10 for f64 {
    #[inline]
    fn exp10_compat(self) -> f64 {
        (self * std::f64::consts::LN_10).exp()
    }
}

/// Fade lengths in seconds (0 = no fade) and the curve for both.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FadeParams {
    pub in_s: f64,
    pub out_s: f64,
    pub curve: FadeCurve,
}

/// Fade stage: counts frames as blocks pass and scales those inside a fade.
#[derive(Debug, Clone)]
pub struct Fade {
    curve: FadeCurve,
    in_frames: u64,
    out_frames: u64,
    total_frames: u64,
    /// Track position of the next frame; negative while a delay upstream
    /// (see [`Fade::delay_by`]) is still filling.
    pos: i64,
}

impl Fade {
    /// A fade for a track of `total_frames` frames at `sample_rate`. Fades
    /// longer than the track are shortened to the track.
    pub fn new(sample_rate: u32, params: FadeParams, total_frames: u64) -> Result<Self, DspError> {
        let rate = check_rate(sample_rate)?;
        let in_s = check_param("fade in_s", params.in_s, 0.0, 3600.0, "0 to 3600 s")?;
        let out_s = check_param("fade out_s", params.out_s, 0.0, 3600.0, "0 to 3600 s")?;
        let frames = |s: f64| ((s * rate).round() as u64).min(total_frames);
        Ok(Fade {
            curve: params.curve,
            in_frames: frames(in_s),
            out_frames: frames(out_s),
            total_frames,
            pos: 0,
        })
    }

    /// Declares that the blocks reaching this stage lag the track by
    /// `frames` (a limiter upstream in a [`Chain`](super::Chain)): the first
    /// `frames` frames seen are not part of the track and are silenced.
    pub fn delay_by(&mut self, frames: usize) {
        self.pos = -(frames as i64);
    }

    /// Fade-in and fade-out lengths in frames.
    pub fn lengths(&self) -> (u64, u64) {
        (self.in_frames, self.out_frames)
    }

    /// Gain for the frame at `pos` (0-based from the track start).
    #[inline]
    pub fn gain_at(&self, pos: u64) -> f64 {
        let mut g = 1.0;
        if pos < self.in_frames {
            g *= self.curve.gain(pos as f64 / self.in_frames as f64);
        }
        let out_start = self.total_frames - self.out_frames;
        if self.out_frames > 0 && pos >= out_start {
            let left = self.total_frames.saturating_sub(pos + 1);
            g *= self.curve.gain(left as f64 / self.out_frames as f64);
        }
        g
    }

    /// Applies the fades to the next block of the track, in place.
    pub fn process(&mut self, block: &mut Block) {
        let n = block.len() as i64;
        let start = self.pos;
        self.pos += n;
        let out_start = (self.total_frames - self.out_frames) as i64;
        // Fast path: the block lies wholly between the fades.
        if start >= self.in_frames as i64 && start + n <= out_start {
            return;
        }
        for (i, (l, r)) in block
            .left
            .iter_mut()
            .zip(block.right.iter_mut())
            .enumerate()
        {
            let p = start + i as i64;
            let g = if p < 0 { 0.0 } else { self.gain_at(p as u64) };
            *l *= g;
            *r *= g;
        }
    }
}

/// Frame range kept by a trim: `start_s` seconds cut from the head, the
/// track ends at `end_s` (a time in the source) when given. Times round to
/// the nearest frame.
pub fn trim_range(
    sample_rate: u32,
    total_frames: u64,
    start_s: Option<f64>,
    end_s: Option<f64>,
) -> Result<Range<u64>, DspError> {
    let rate = check_rate(sample_rate)?;
    let len_s = total_frames as f64 / rate;
    let start = check_param(
        "trim start",
        start_s.unwrap_or(0.0),
        0.0,
        len_s,
        "0 to the source's length",
    )?;
    let end = check_param(
        "trim end",
        end_s.unwrap_or(len_s),
        start,
        len_s,
        "after the trim start and within the source's length",
    )?;
    let a = ((start * rate).round() as u64).min(total_frames);
    let b = ((end * rate).round() as u64).min(total_frames);
    Ok(a..b.max(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_run_from_silence_to_unity() {
        for c in [FadeCurve::Linear, FadeCurve::Log, FadeCurve::SCurve] {
            assert_eq!(c.gain(0.0), 0.0);
            assert!((c.gain(1.0) - 1.0).abs() < 1e-12);
            let mut last = 0.0;
            for i in 1..=100 {
                let g = c.gain(i as f64 / 100.0);
                assert!(g >= last, "{c:?} is not monotonic");
                last = g;
            }
        }
        // dB-linear: half-way is -30 dB less the small floor shift (-30.28).
        let g = FadeCurve::Log.gain(0.5);
        assert!((g - (10f64.powf(-1.5) - 1e-3) / (1.0 - 1e-3)).abs() < 1e-12);
        assert!((20.0 * g.log10() + 30.28).abs() < 0.01);
        assert!((FadeCurve::SCurve.gain(0.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn fades_land_on_the_right_frames_across_blocks() {
        let total = 1000u64;
        let p = FadeParams {
            in_s: 0.01,
            out_s: 0.02,
            curve: FadeCurve::Linear,
        };
        let mut f = Fade::new(10_000, p, total).unwrap();
        assert_eq!(f.lengths(), (100, 200));
        let mut out = Vec::new();
        for _ in 0..10 {
            let mut b = Block {
                left: vec![1.0; 100],
                right: vec![1.0; 100],
            };
            f.process(&mut b);
            out.extend_from_slice(&b.left);
        }
        assert_eq!(out[0], 0.0);
        assert!((out[50] - 0.5).abs() < 1e-12);
        assert_eq!(out[100], 1.0);
        assert_eq!(out[799], 1.0);
        assert!((out[800] - 199.0 / 200.0).abs() < 1e-12);
        assert_eq!(out[999], 0.0);
    }

    #[test]
    fn trim_rounds_to_frames() {
        assert_eq!(
            trim_range(48_000, 480_000, Some(0.12), None).unwrap(),
            5760..480_000
        );
        assert_eq!(
            trim_range(48_000, 480_000, None, Some(5.0)).unwrap(),
            0..240_000
        );
        assert!(trim_range(48_000, 480_000, Some(11.0), None).is_err());
        assert!(trim_range(48_000, 480_000, Some(2.0), Some(1.0)).is_err());
    }
}
