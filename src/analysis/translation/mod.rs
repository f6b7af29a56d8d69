//! Playback translation: how a programme survives a mono fold-down, a
//! phone's speaker, a club's subwoofers and a device's limiter, measured
//! in the meter's one pass ([`super::Meter::with_translation`]).
//!
//! - **Mono fold-down.** The BS.1770 gated integrated loudness of
//!   (L+R)/2 played on both channels (ebur128's dual-mono channel, so a
//!   mono-compatible programme loses 0 LU, two unrelated channels 3 LU)
//!   against the stereo loudness: `mono_loss_lu`. And the correlation of
//!   left and right in four bands, split by 4th-order Linkwitz-Riley
//!   filters (two cascaded Butterworth biquads) at 120 Hz, 1 kHz and
//!   8 kHz: under 120 Hz, 120 Hz-1 kHz, 1-8 kHz, above 8 kHz. Each is
//!   Σ(LR)/√(ΣL²ΣR²) over the whole programme, so louder passages weigh
//!   more (energy-weighted); a band holding less than
//!   [`MIN_BAND_SHARE`] of the programme's energy has none (`None`).
//! - **Phone speaker.** The programme through a small-speaker model,
//!   then the same gated loudness: a 4th-order high-pass at
//!   [`PHONE_HP_HZ`] (two cascaded RBJ-cookbook high-pass biquads of
//!   Q 0.7071, as ffmpeg's `highpass=f=400:poles=2` twice) and a gentle
//!   2nd-order low-pass at [`PHONE_LP_HZ`] (RBJ, Q 0.7071; -3 dB there,
//!   -1.5 dB at 10 kHz), on both channels. `phone_loss_lu` is the
//!   full-range loudness minus that; in an album, each track's loss minus
//!   the album's median loss (bass-heavy masters lose more).
//! - **Low end for clubs.** Under [`LOW_END_HZ`] (4th-order
//!   Linkwitz-Riley low-pass): the share of the programme's energy there
//!   (unweighted, both channels, %), the correlation there (its
//!   mono-ness), and its sample peak (at 60 Hz a sample peak is the true
//!   peak to 0.01 dB) minus the integrated loudness, dB.
//! - **PSR**, the peak-to-short-term-loudness ratio a device limiter sees:
//!   every 100 ms, the true peak of the last 3 s (a 48-tap Hann-windowed
//!   sinc at 4x like ebur128's, computed here per 100 ms; at 88.2 to
//!   176.4 kHz a 24-tap one at 2x; from 192 kHz the samples) minus the
//!   short-term loudness of the same 3 s. The minimum and the median are over the
//!   windows no quieter than 20 LU under the integrated loudness (kept in
//!   a histogram of 1 LU by 0.1 dB, so to within 0.5 LU of that gate and
//!   0.05 dB of the median; the minimum is exact).
//!
//! Memory is fixed when the meter is made (about 0.5 MB: three gating
//! histograms and the PSR histogram); nothing is allocated per block.

mod meter;

pub use meter::TranslationMeter;

/// A band holding less than this share of the programme's energy
/// (-40 dB) has no correlation to judge.
pub const MIN_BAND_SHARE: f64 = 1e-4;
/// The four bands' edges, Hz.
pub const BAND_EDGES_HZ: [f64; 3] = [120.0, 1_000.0, 8_000.0];
/// The phone model's high-pass, Hz (4th order).
pub const PHONE_HP_HZ: f64 = 400.0;
/// The phone model's top roll-off, Hz (2nd order).
pub const PHONE_LP_HZ: f64 = 12_000.0;
/// The club low end's top, Hz.
pub const LOW_END_HZ: f64 = 60.0;
/// PSR windows count from this far under the integrated loudness, LU.
pub const PSR_GATE_LU: f64 = 20.0;

/// The translation figures of one programme.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Translation {
    /// Stereo loudness minus the (dual-)mono fold-down's, LU; a fold-down
    /// that cancels to nothing reads the stereo loudness minus the -70
    /// LUFS gate. `None` for silence.
    pub mono_loss_lu: Option<f64>,
    /// L/R correlation under 120 Hz, 120 Hz-1 kHz, 1-8 kHz, above 8 kHz.
    pub band_correlation: [Option<f64>; 4],
    /// Each band's share of the energy, %.
    pub band_share_pct: [f64; 4],
    /// Full-range loudness minus the phone model's, LU.
    pub phone_loss_lu: Option<f64>,
    /// Energy under 60 Hz, % of all.
    pub low_end_share_pct: f64,
    /// L/R correlation under 60 Hz (`None`: under [`MIN_BAND_SHARE`]).
    pub low_end_correlation: Option<f64>,
    /// Peak of the band under 60 Hz minus the integrated loudness, dB.
    pub low_end_peak_to_loudness_db: Option<f64>,
    /// Least and median PSR over the gated 3 s windows, dB.
    pub psr_min_db: Option<f64>,
    pub psr_median_db: Option<f64>,
}

/// The median of the given figures (`None` where none is given).
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}

/// Each programme's phone loss minus the median of all the given
/// programmes' losses, in order (`None` where a programme has none).
pub fn phone_vs_album(losses: &[Option<f64>]) -> Vec<Option<f64>> {
    let med = median(losses.iter().flatten().copied());
    losses.iter().map(|l| Some(l.as_ref()? - med?)).collect()
}

/// Biquad coefficients (normalised, a0 = 1), RBJ cookbook.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coeffs {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
}

impl Coeffs {
    /// RBJ low-pass (`high == false`) or high-pass at `f` Hz, quality `q`.
    pub(crate) fn pass(rate: u32, f: f64, q: f64, high: bool) -> Coeffs {
        let w = 2.0 * std::f64::consts::PI * f.min(0.49 * f64::from(rate)) / f64::from(rate);
        let (s, c) = w.sin_cos();
        let alpha = s / (2.0 * q);
        let a0 = 1.0 + alpha;
        let (b0, b1) = if high {
            ((1.0 + c) / 2.0, -(1.0 + c))
        } else {
            ((1.0 - c) / 2.0, 1.0 - c)
        };
        Coeffs {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b0 / a0,
            a1: -2.0 * c / a0,
            a2: (1.0 - alpha) / a0,
        }
    }
}

/// One biquad on two channels (transposed direct form II).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Biquad {
    k: Coeffs,
    /// The two states, each as [left, right], so that [`Biquad::tick2`]
    /// runs both channels in one vector lane pair.
    z1: [f64; 2],
    z2: [f64; 2],
}

impl Biquad {
    pub(crate) fn new(k: Coeffs) -> Biquad {
        Biquad {
            k,
            z1: [0.0; 2],
            z2: [0.0; 2],
        }
    }

    /// One sample of channel `ch`.
    #[cfg(test)]
    pub(crate) fn tick(&mut self, ch: usize, x: f64) -> f64 {
        let k = &self.k;
        let y = k.b0 * x + self.z1[ch];
        self.z1[ch] = k.b1 * x - k.a1 * y + self.z2[ch];
        self.z2[ch] = k.b2 * x - k.a2 * y;
        y
    }

    /// One sample of both channels: the same arithmetic as
    /// [`Biquad::tick`] per channel (so the same values to the bit),
    /// written so the compiler can do the two at once.
    #[inline(always)]
    pub(crate) fn tick2(&mut self, x: [f64; 2]) -> [f64; 2] {
        let k = &self.k;
        let mut y = [0.0; 2];
        for c in 0..2 {
            y[c] = k.b0 * x[c] + self.z1[c];
            self.z1[c] = k.b1 * x[c] - k.a1 * y[c] + self.z2[c];
            self.z2[c] = k.b2 * x[c] - k.a2 * y[c];
        }
        y
    }
}

/// A 4th-order Linkwitz-Riley low- or high-pass: two Butterworth
/// biquads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lr4([Biquad; 2]);

impl Lr4 {
    pub(crate) fn new(rate: u32, f: f64, high: bool) -> Lr4 {
        let b = Biquad::new(Coeffs::pass(rate, f, std::f64::consts::FRAC_1_SQRT_2, high));
        Lr4([b, b])
    }

    #[cfg(test)]
    pub(crate) fn tick(&mut self, ch: usize, x: f64) -> f64 {
        let y = self.0[0].tick(ch, x);
        self.0[1].tick(ch, y)
    }

    #[inline(always)]
    pub(crate) fn tick2(&mut self, x: [f64; 2]) -> [f64; 2] {
        let y = self.0[0].tick2(x);
        self.0[1].tick2(y)
    }
}

/// Σ(LR)/√(ΣL²ΣR²), or `None` for a band without energy.
pub(crate) fn correlation(ll: f64, rr: f64, lr: f64) -> Option<f64> {
    (ll > 0.0 && rr > 0.0).then(|| (lr / (ll * rr).sqrt()).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain(rate: u32, f: f64, mut filt: impl FnMut(f64) -> f64) -> f64 {
        let n = rate as usize * 2;
        let mut e_in = 0.0;
        let mut e_out = 0.0;
        for i in 0..n {
            let x = (2.0 * std::f64::consts::PI * f * i as f64 / f64::from(rate)).sin();
            let y = filt(x);
            if i > n / 2 {
                e_in += x * x;
                e_out += y * y;
            }
        }
        10.0 * (e_out / e_in).log10()
    }

    #[test]
    fn linkwitz_riley_is_minus_six_at_the_crossover() {
        let mut lp = Lr4::new(48_000, 1_000.0, false);
        let mut hp = Lr4::new(48_000, 1_000.0, true);
        assert!((gain(48_000, 1_000.0, |x| lp.tick(0, x)) + 6.02).abs() < 0.05);
        assert!((gain(48_000, 1_000.0, |x| hp.tick(1, x)) + 6.02).abs() < 0.05);
        let mut lp = Lr4::new(48_000, 1_000.0, false);
        assert!(gain(48_000, 100.0, |x| lp.tick(0, x)).abs() < 0.01);
    }

    #[test]
    fn phone_vs_album_takes_the_median() {
        let v = phone_vs_album(&[Some(8.0), Some(9.0), None, Some(14.0)]);
        assert_eq!(v, vec![Some(-1.0), Some(0.0), None, Some(5.0)]);
        assert_eq!(median([1.0, 3.0]), Some(2.0));
    }

    /// The translation fed apart from the meter (as a master's replay
    /// does, on its own thread) gives the figures of the one fed by it.
    #[test]
    fn fed_apart_gives_the_same_figures() {
        use crate::analysis::Meter;
        use crate::audio::Block;
        let rate = 44_100;
        let mut coupled = Meter::new(rate).unwrap().with_translation();
        let mut meter = Meter::new(rate).unwrap().keeping_short_terms();
        let mut apart = meter.detached_translation().unwrap();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        // 7.3 s in uneven blocks: a bass line, a tone and noise, louder
        // in the middle.
        let mut t = 0usize;
        for len in (0..80).map(|k| 1000 + 997 * (k % 7)) {
            let mut b = Block::with_capacity(len);
            for _ in 0..len {
                let x = t as f64 / f64::from(rate);
                let env = 0.2 + 0.6 * (x / 7.3 * std::f64::consts::PI).sin();
                let bass = (2.0 * std::f64::consts::PI * 55.0 * x).sin();
                let tone = (2.0 * std::f64::consts::PI * 1234.0 * x).sin();
                let n = noise();
                b.left.push(env * (0.5 * bass + 0.2 * tone + 0.1 * n));
                b.right
                    .push(env * (-0.4 * bass + 0.2 * tone + 0.1 * noise()));
                t += 1;
            }
            coupled.add(&b);
            meter.add(&b);
            apart.feed(&b.left, &b.right);
        }
        let want = coupled.finish().0.translation.unwrap();
        let short_terms = meter.take_short_terms();
        let integrated = meter.finish().0.integrated_lufs;
        assert!(!short_terms.is_empty());
        assert_eq!(apart.figures_with(integrated, &short_terms), want);
        assert!(want.psr_median_db.is_some());
    }
}
