//! Quantisation of f64 samples (full scale 1.0) to 16- or 24-bit integers.
//!
//! - `none`: round to the nearest step (ties away from zero);
//! - `tpdf`: add triangular noise, the sum of two independent uniform values
//!   of ±0.5 LSB each (±1 LSB peak), then round: the error is independent of
//!   the signal and its power fixed (LSB²/4 in total, a quarter of it the
//!   rounding);
//! - `shaped`: error feedback with SoX's 5-tap "lipshitz" filter for
//!   44.1 kHz: `d = x - Σ c_j e[n-1-j]`, `y = Q(d + tpdf)`, `e = y - d`. The
//!   noise spectrum is `|1 - Σ c_j z^-(j+1)|²` times the TPDF's: pushed out
//!   of 1–5 kHz, where the ear is most sensitive, towards the top of the
//!   band. At other rates the same shape scales with the rate.
//!
//! Digital silence stays digital silence: a channel's block of exact zeros
//! comes out as zeros, no noise added (the "auto-black" of mastering
//! dithers), and the shaped filter's memory is cleared. A silent track is
//! then silent in every output, and its figures stay `null`.
//!
//! Output clips to the integer range; the feedback uses the unclipped error,
//! so a clipped sample cannot make the filter run away. The noise comes from
//! a small in-house PRNG (SplitMix64-seeded xorshift64*), one stream per
//! channel, so the same seed gives the same bytes on every run.

use super::DspError;
use crate::audio::Block;

/// Which quantiser to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DitherKind {
    None,
    Tpdf,
    #[default]
    Shaped,
}

/// SoX's "lipshitz" error-feedback coefficients for 44.1 kHz.
pub const LIPSHITZ_44K: [f64; 5] = [2.033, -2.165, 1.959, -1.590, 0.6149];

/// SplitMix64: turns a seed into well-mixed state words.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64* (Vigna 2016): small, fast, good enough for dither noise.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded through SplitMix64 (a zero seed is fine).
    pub fn new(seed: u64) -> Self {
        let mut s = seed;
        let mut state = splitmix64(&mut s);
        if state == 0 {
            state = 0x2545_F491_4F6C_DD1D;
        }
        Rng(state)
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [-0.5, 0.5), 53 bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) - 0.5
    }
}

#[derive(Debug, Clone)]
struct ChannelState {
    rng: Rng,
    err: [f64; 5],
}

/// A stereo quantiser with its per-channel noise generators and feedback.
#[derive(Debug, Clone)]
pub struct Dither {
    kind: DitherKind,
    scale: f64,
    min: f64,
    max: f64,
    ch: [ChannelState; 2],
}

/// `v.round()` (ties away from zero), the same value for every input,
/// without the libm call that baseline x86-64 (no SSE4.1 `roundsd`) makes
/// of it: a tenth of the 24-bit FLAC bundle's time went there.
#[inline(always)]
fn round(v: f64) -> f64 {
    if v.abs() >= 2_251_799_813_685_248.0 {
        return v.round(); // 2^51 and up (never audio): the library's.
    }
    round_small(v)
}

/// 1.5 × 2^52: adding it rounds any |v| < 2^51 to an integer (to nearest,
/// ties to even), left in the low bits of the sum's mantissa.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// [`round`] for |v| < 2^51 (and NaN), branch-free: ties that went
/// towards zero are moved away.
#[inline(always)]
fn round_small(v: f64) -> f64 {
    let r = (v + MAGIC) - MAGIC;
    let d = v - r; // Exact: -0.5 to 0.5.
    let up = f64::from(u8::from(d == 0.5 && v > 0.0));
    let down = f64::from(u8::from(d == -0.5 && v < 0.0));
    r + up - down
}

/// `v.round().clamp(min, max) as i32` for integer `min` and `max` within
/// ±2^31 (clamping first gives the same), without branches or the
/// saturating conversion, so that the loops vectorise: the integer is
/// read from the low bits of `v + MAGIC`.
#[inline(always)]
fn quantise(v: f64, min: f64, max: f64) -> i32 {
    let c = v.clamp(min, max);
    let t = c + MAGIC;
    let d = c - (t - MAGIC);
    let up = i32::from(d == 0.5 && c > 0.0);
    let down = i32::from(d == -0.5 && c < 0.0);
    let i = (t.to_bits() as u32 as i32) + up - down;
    if c.is_nan() {
        0
    } else {
        i
    }
}

impl Dither {
    /// Quantiser to `bits` (16 or 24). `seed` fixes the noise; channel
    /// streams are derived from it (use e.g. the track number).
    pub fn new(kind: DitherKind, bits: u32, seed: u64) -> Result<Self, DspError> {
        if bits != 16 && bits != 24 {
            return Err(DspError::Param {
                what: "bit depth",
                value: bits as f64,
                allowed: "16 or 24",
            });
        }
        let full = (1u64 << (bits - 1)) as f64;
        let st = |c: u64| ChannelState {
            rng: Rng::new(seed ^ c.wrapping_mul(0xD6E8_FEB8_6659_FD93)),
            err: [0.0; 5],
        };
        Ok(Dither {
            kind,
            scale: full,
            min: -full,
            max: full - 1.0,
            ch: [st(1), st(2)],
        })
    }

    /// Integer value of full scale (32768 for 16 bit).
    pub fn full_scale(&self) -> f64 {
        self.scale
    }

    fn channel(&mut self, c: usize, input: &[f64], out: &mut [i32], stride: usize) {
        let (scale, min, max) = (self.scale, self.min, self.max);
        let st = &mut self.ch[c];
        if input.iter().all(|&x| x == 0.0) {
            for o in out.iter_mut().step_by(stride).take(input.len()) {
                *o = 0;
            }
            st.err = [0.0; 5];
            return;
        }
        let outs = out.iter_mut().step_by(stride);
        match self.kind {
            DitherKind::None if stride == 1 => {
                for (x, o) in input.iter().zip(out.iter_mut()) {
                    *o = quantise(x * scale, min, max);
                }
            }
            DitherKind::None => {
                for (x, o) in input.iter().zip(outs) {
                    *o = quantise(x * scale, min, max);
                }
            }
            DitherKind::Tpdf => {
                for (x, o) in input.iter().zip(outs) {
                    let n = st.rng.uniform() + st.rng.uniform();
                    *o = quantise(x * scale + n, min, max);
                }
            }
            DitherKind::Shaped => {
                let c = LIPSHITZ_44K;
                let mut e = st.err;
                for (x, o) in input.iter().zip(outs) {
                    let fb = c[0] * e[0] + c[1] * e[1] + c[2] * e[2] + c[3] * e[3] + c[4] * e[4];
                    let d = x * scale - fb;
                    let n = st.rng.uniform() + st.rng.uniform();
                    let y = round(d + n);
                    e = [y - d, e[0], e[1], e[2], e[3]];
                    *o = y.clamp(min, max) as i32;
                }
                st.err = e;
            }
        }
    }

    /// Quantises a block into `out` as interleaved L, R integers (the
    /// layout WAV and DDP images use). `out` must hold 2 × frames values.
    pub fn process_interleaved(&mut self, block: &Block, out: &mut [i32]) {
        let n = block.len();
        assert!(
            out.len() >= 2 * n,
            "dither output holds {} < 2 × {n}",
            out.len()
        );
        self.channel(0, &block.left, &mut out[..2 * n], 2);
        self.channel(1, &block.right, &mut out[1..2 * n], 2);
    }

    /// Quantises a block into two planar buffers of at least `frames` each.
    pub fn process_planar(&mut self, block: &Block, left: &mut [i32], right: &mut [i32]) {
        let n = block.len();
        assert!(
            left.len() >= n && right.len() >= n,
            "dither output too short"
        );
        self.channel(0, &block.left, &mut left[..n], 1);
        self.channel(1, &block.right, &mut right[..n], 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_is_f64_round() {
        let mut vals = vec![
            f64::NAN,
            -f64::NAN,
            0.0,
            -0.0,
            0.49999999999999994,
            -0.49999999999999994,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            2_251_799_813_685_247.5,
            4_503_599_627_370_497.0,
        ];
        for i in -2000..2000 {
            let h = f64::from(i) * 0.5;
            vals.extend([h, h + 1e-9, h - 1e-9, f64::from(i) * 0.123_456_7]);
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vals.push(f64::from_bits(x));
        }
        for v in vals {
            let (a, b) = (round(v), v.round());
            assert!(
                a == b || (a.is_nan() && b.is_nan()),
                "{v:e}: {a:e} vs {b:e}"
            );
        }
    }

    #[test]
    fn none_rounds_and_clips() {
        let mut d = Dither::new(DitherKind::None, 16, 0).unwrap();
        let b = Block {
            left: vec![0.0, 1.0, -1.0, 0.5, 1.5 / 32768.0],
            right: vec![2.0, -2.0, 0.25, -0.5, -1.5 / 32768.0],
        };
        let mut out = [0i32; 10];
        d.process_interleaved(&b, &mut out);
        assert_eq!(
            out,
            [0, 32767, 32767, -32768, -32768, 8192, 16384, -16384, 2, -2]
        );
        assert!(Dither::new(DitherKind::Tpdf, 20, 0).is_err());
    }

    #[test]
    fn digital_silence_is_not_dithered() {
        for kind in [DitherKind::Tpdf, DitherKind::Shaped] {
            let mut d = Dither::new(kind, 16, 3).unwrap();
            let loud = Block {
                left: vec![0.3; 64],
                right: vec![-0.3; 64],
            };
            let mut out = vec![0i32; 128];
            d.process_interleaved(&loud, &mut out);
            // Left silent, right not: the left channel is zeros, the right
            // still dithered around its value.
            let b = Block {
                left: vec![0.0; 4096],
                right: vec![1.0 / 32768.0; 4096],
            };
            let mut out = vec![7i32; 8192];
            d.process_interleaved(&b, &mut out);
            assert!(out.iter().step_by(2).all(|&v| v == 0), "{kind:?}");
            assert!(out.iter().skip(1).step_by(2).any(|&v| v != 1), "{kind:?}");
            let (mut l, mut r) = (vec![5i32; 4096], vec![5i32; 4096]);
            d.process_planar(&b, &mut l, &mut r);
            assert!(l.iter().all(|&v| v == 0));
        }
    }

    #[test]
    fn tpdf_noise_is_within_one_lsb_and_unbiased() {
        let mut d = Dither::new(DitherKind::Tpdf, 24, 7).unwrap();
        let x = 1000.25 / 8_388_608.0;
        let b = Block {
            left: vec![x; 20_000],
            right: vec![x; 20_000],
        };
        let mut out = vec![0i32; 40_000];
        d.process_interleaved(&b, &mut out);
        let mean = out.iter().map(|&v| v as f64).sum::<f64>() / 40_000.0;
        assert!(out.iter().all(|&v| (999..=1002).contains(&v)));
        assert!((mean - 1000.25).abs() < 0.02, "mean {mean}");
    }
}
