//! The gated long-term average spectrum (LTAS) that tonal matching works
//! from: the power of a programme's mid and side signals in bands (1/3
//! octave or 1 ERB wide), averaged over the frames that pass a BS.1770
//! style gate, so that silence, intros and fade-outs do not pull the
//! average down.
//!
//! Frames of 2^n samples (about 3 Hz a bin: 16384 at 44.1 and 48 kHz),
//! Hann-windowed, overlapping by half, go through one complex FFT that
//! carries mid = (L+R)/2 as the real and side = (L−R)/2 as the imaginary
//! part; the two spectra are separated by conjugate symmetry. Each bin's
//! power goes to the bands its width overlaps, in proportion. Each frame's
//! loudness is its K-weighted power (the BS.1770 weighting evaluated at
//! each band's centre), and the frame's band powers are added to a
//! histogram bin of 0.5 LU by that loudness. At the end the gate of
//! BS.1770 is applied to the histogram: -70 LUFS absolute, then 10 LU
//! under the mean of what passed. Memory is fixed at [`LtasMeter::new`]:
//! the FFT's buffers and 150 histogram bins of sub-band powers (about 450 KB),
//! whatever the programme's length.
//!
//! Each band is also kept as [`FINE`] sub-bands (equal parts of the band
//! on a log-frequency scale), so that tonal matching can predict what an
//! EQ curve that varies inside a band does to the band's power (the
//! curve is interpolated between band centres; a band whose power sits
//! at one edge gets more of its neighbour's gain than its own).
//!
//! The result, [`Ltas`], gives each band's level relative to the
//! programme's gated K-weighted power ([`Ltas::tonal_db`]: programmes of
//! any loudness compare) and its side-to-mid ratio ([`Ltas::width_db`]).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::Fft;

use super::spectrum;

/// Histogram bins: 0.5 LU each from -70 LUFS up.
const GATE_BINS: usize = 150;
const GATE_STEP_LU: f64 = 0.5;
const ABSOLUTE_GATE_LUFS: f64 = -70.0;
const RELATIVE_GATE_LU: f64 = -10.0;
/// Sub-bands kept per band.
pub const FINE: usize = 6;

/// The bands a spectrum is gathered in.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    /// Centre of each band, Hz (geometric for 1/3 octave, on the ERB
    /// scale for ERB bands).
    pub centres_hz: Vec<f64>,
    /// Lower and upper edge of each band, Hz; neighbouring bands touch.
    pub edges_hz: Vec<(f64, f64)>,
}

impl Bands {
    /// The 31 IEC 61260 1/3-octave bands, 20 Hz to 20 kHz (those of the
    /// report's spectrum).
    pub fn third_octave() -> Bands {
        let n = spectrum::BANDS;
        Bands {
            centres_hz: (0..n).map(spectrum::band_centre).collect(),
            edges_hz: (0..n).map(spectrum::band_edges).collect(),
        }
    }

    /// Bands 1 ERB wide (Glasberg & Moore: ERB-number = 21.4·log10(1 +
    /// 0.00437 f)) from 20 Hz to 20 kHz: 40 bands, wider than 1/3 octave
    /// under 500 Hz and narrower above, as the ear resolves.
    pub fn erb() -> Bands {
        let e = |f: f64| 21.4 * (1.0 + 0.00437 * f).log10();
        let f = |e: f64| (10f64.powf(e / 21.4) - 1.0) / 0.00437;
        let (lo, hi) = (e(20.0), e(20_000.0));
        let n = (hi - lo).round() as usize;
        let step = (hi - lo) / n as f64;
        let edges_hz: Vec<(f64, f64)> = (0..n)
            .map(|i| (f(lo + i as f64 * step), f(lo + (i + 1) as f64 * step)))
            .collect();
        Bands {
            centres_hz: (0..n).map(|i| f(lo + (i as f64 + 0.5) * step)).collect(),
            edges_hz,
        }
    }

    pub fn len(&self) -> usize {
        self.centres_hz.len()
    }

    pub fn is_empty(&self) -> bool {
        self.centres_hz.is_empty()
    }
}

/// |H(f)|² of the BS.1770 K-weighting (its 48 kHz filters), at `f` Hz.
pub fn k_weight(f: f64) -> f64 {
    let w = std::f64::consts::TAU * f.min(23_999.0) / 48_000.0;
    let z1 = Complex::from_polar(1.0, -w);
    let z2 = z1 * z1;
    let biquad = |b: [f64; 3], a: [f64; 3]| {
        let num = b[0] + z1 * b[1] + z2 * b[2];
        let den = a[0] + z1 * a[1] + z2 * a[2];
        (num / den).norm_sqr()
    };
    biquad(
        [
            1.535_124_859_586_97,
            -2.691_696_189_406_38,
            1.198_392_810_852_85,
        ],
        [1.0, -1.690_659_293_182_41, 0.732_480_774_215_85],
    ) * biquad(
        [1.0, -2.0, 1.0],
        [1.0, -1.990_047_454_833_98, 0.990_072_250_366_21],
    )
}

/// A programme's gated long-term spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct Ltas {
    pub bands: Bands,
    /// Mean square of mid and of side in each band over the gated frames
    /// (same scale for both); zero where a band is empty or above Nyquist.
    pub mid: Vec<f64>,
    pub side: Vec<f64>,
    /// Gated loudness of the frames, LUFS (`None`: nothing passed).
    pub loudness_lufs: Option<f64>,
    /// Frames transformed, and frames that passed the gate.
    pub frames: u64,
    pub gated_frames: u64,
    /// K-weighted power of the gated frames, on the bands' scale.
    k_power: f64,
    /// The sub-bands: band `b` is `b * FINE .. (b + 1) * FINE`; centre
    /// (geometric, Hz) and mean square of mid and side of each, on the
    /// bands' scale (a band's power is the sum of its sub-bands').
    pub fine_hz: Vec<f64>,
    pub fine_mid: Vec<f64>,
    pub fine_side: Vec<f64>,
}

impl Ltas {
    /// Each band's level relative to the programme's K-weighted power,
    /// dB; `None` for an empty band (or all, for silence).
    pub fn tonal_db(&self) -> Vec<Option<f64>> {
        self.mid
            .iter()
            .zip(&self.side)
            .map(|(m, s)| {
                let db = 10.0 * ((m + s) / self.k_power).log10();
                (self.k_power > 0.0 && db.is_finite()).then_some(db)
            })
            .collect()
    }

    /// Side over mid in each band, dB; `None` where either is empty.
    pub fn width_db(&self) -> Vec<Option<f64>> {
        self.mid
            .iter()
            .zip(&self.side)
            .map(|(m, s)| {
                let db = 10.0 * (s / m).log10();
                db.is_finite().then_some(db)
            })
            .collect()
    }
}

/// Splits each band's bins into [`FINE`] sub-bands by the bin's
/// frequency (`df` Hz a bin), equal parts of the band on a log scale;
/// returns the sub-bands' bins and centres.
fn split(
    bins: &[Vec<(usize, f64)>],
    edges: &[(f64, f64)],
    df: f64,
) -> (Vec<Vec<(usize, f64)>>, Vec<f64>) {
    let mut out = vec![Vec::new(); bins.len() * FINE];
    let mut hz = Vec::with_capacity(bins.len() * FINE);
    for (b, (band, &(lo, hi))) in bins.iter().zip(edges).enumerate() {
        let ratio = (hi / lo).ln();
        for s in 0..FINE {
            hz.push(lo * (ratio * (s as f64 + 0.5) / FINE as f64).exp());
        }
        for &(k, share) in band {
            let f = (k as f64 * df).clamp(lo, hi);
            let s = ((f / lo).ln() / ratio * FINE as f64) as usize;
            out[b * FINE + s.min(FINE - 1)].push((k, share));
        }
    }
    (out, hz)
}

/// Streams stereo samples into an [`Ltas`].
pub struct LtasMeter {
    bands: Bands,
    fft: Arc<dyn Fft<f32>>,
    input: Vec<Complex<f32>>,
    work: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    window: Vec<f32>,
    fill: usize,
    /// For each sub-band (band `b` is `b * FINE..(b + 1) * FINE`), the
    /// bins it takes and the share of each.
    bins: Vec<Vec<(usize, f64)>>,
    fine_hz: Vec<f64>,
    /// K-weighting of each band.
    k: Vec<f64>,
    /// This frame's sub-band powers.
    frame_mid: Vec<f64>,
    frame_side: Vec<f64>,
    /// Per gate bin: frames, K-power, and sub-band powers (mid then side).
    counts: Vec<u64>,
    k_sums: Vec<f64>,
    sums: Vec<f64>,
    frames: u64,
    /// Band power sums → mean square of the signal.
    scale: f64,
}

impl std::fmt::Debug for LtasMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LtasMeter")
            .field("size", &self.input.len())
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl LtasMeter {
    pub fn new(sample_rate: u32, bands: &Bands) -> LtasMeter {
        let rate = f64::from(sample_rate.max(1));
        let spectrum::Frames {
            size,
            fft,
            scratch,
            window,
            window_power,
            bins,
        } = spectrum::frames(rate, &bands.edges_hz);
        let n = bands.len();
        let (bins, fine_hz) = split(&bins, &bands.edges_hz, rate / size as f64);
        let nf = n * FINE;
        LtasMeter {
            k: bands.centres_hz.iter().map(|&f| k_weight(f)).collect(),
            bands: bands.clone(),
            fft,
            input: vec![Complex::default(); size],
            work: vec![Complex::default(); size],
            scratch,
            window,
            fill: 0,
            bins,
            fine_hz,
            frame_mid: vec![0.0; nf],
            frame_side: vec![0.0; nf],
            counts: vec![0; GATE_BINS],
            k_sums: vec![0.0; GATE_BINS],
            sums: vec![0.0; GATE_BINS * 2 * nf],
            frames: 0,
            // Parseval: Σ_k |X_k|² = N Σ_n |x_n w_n|²; the positive bins
            // count twice for a real signal; the pair formula gives 4|X|².
            scale: 2.0 / (size as f64 * window_power) / 4.0,
        }
    }

    /// Adds a block of stereo samples.
    pub fn add(&mut self, l: &[f64], r: &[f64]) {
        let size = self.input.len();
        let hop = size / 2;
        let n = l.len().min(r.len());
        let mut pos = 0;
        while pos < n {
            let take = (size - self.fill).min(n - pos);
            for (z, (&a, &b)) in self.input[self.fill..self.fill + take]
                .iter_mut()
                .zip(l[pos..pos + take].iter().zip(&r[pos..pos + take]))
            {
                *z = Complex::new((0.5 * (a + b)) as f32, (0.5 * (a - b)) as f32);
            }
            self.fill += take;
            pos += take;
            if self.fill == size {
                self.transform();
                self.input.copy_within(hop.., 0);
                self.fill = size - hop;
            }
        }
    }

    fn transform(&mut self) {
        for ((w, z), win) in self.work.iter_mut().zip(&self.input).zip(&self.window) {
            *w = z * win;
        }
        self.fft
            .process_with_scratch(&mut self.work, &mut self.scratch);
        let size = self.work.len();
        let mut k_power = 0.0;
        for (f, bins) in self.bins.iter().enumerate() {
            let (mut pm, mut ps) = (0.0, 0.0);
            for &(k, share) in bins {
                let z = self.work[k];
                let c = self.work[size - k].conj();
                // 2·X_mid = z + c, 2i·X_side = z − c.
                pm += share * f64::from((z + c).norm_sqr());
                ps += share * f64::from((z - c).norm_sqr());
            }
            self.frame_mid[f] = pm * self.scale;
            self.frame_side[f] = ps * self.scale;
            k_power += self.k[f / FINE] * (pm + ps) * self.scale;
        }
        self.frames += 1;
        // L² + R² = 2(M² + S²).
        let lufs = -0.691 + 10.0 * (2.0 * k_power).log10();
        if lufs.is_nan() || lufs <= ABSOLUTE_GATE_LUFS {
            return;
        }
        let bin = (((lufs - ABSOLUTE_GATE_LUFS) / GATE_STEP_LU) as usize).min(GATE_BINS - 1);
        let n = self.frame_mid.len();
        self.counts[bin] += 1;
        self.k_sums[bin] += k_power;
        let sums = &mut self.sums[bin * 2 * n..(bin + 1) * 2 * n];
        let (mid, side) = sums.split_at_mut(n);
        for (s, f) in mid.iter_mut().zip(&self.frame_mid) {
            *s += f;
        }
        for (s, f) in side.iter_mut().zip(&self.frame_side) {
            *s += f;
        }
    }

    /// The gated spectrum of what was added (whole frames only).
    pub fn finish(&self) -> Ltas {
        let n = self.frame_mid.len();
        let total: u64 = self.counts.iter().sum();
        let k_all: f64 = self.k_sums.iter().sum();
        let mut out = Ltas {
            bands: self.bands.clone(),
            mid: vec![0.0; self.bands.len()],
            side: vec![0.0; self.bands.len()],
            loudness_lufs: None,
            frames: self.frames,
            gated_frames: 0,
            k_power: 0.0,
            fine_hz: self.fine_hz.clone(),
            fine_mid: vec![0.0; n],
            fine_side: vec![0.0; n],
        };
        if total == 0 {
            return out;
        }
        let relative = -0.691 + 10.0 * (2.0 * k_all / total as f64).log10() + RELATIVE_GATE_LU;
        let first = ((relative - ABSOLUTE_GATE_LUFS) / GATE_STEP_LU).max(0.0) as usize;
        let mut count = 0u64;
        let mut k = 0.0;
        for bin in first.min(GATE_BINS - 1)..GATE_BINS {
            count += self.counts[bin];
            k += self.k_sums[bin];
            let sums = &self.sums[bin * 2 * n..(bin + 1) * 2 * n];
            for (o, s) in out.fine_mid.iter_mut().zip(&sums[..n]) {
                *o += s;
            }
            for (o, s) in out.fine_side.iter_mut().zip(&sums[n..]) {
                *o += s;
            }
        }
        if count == 0 {
            return out;
        }
        let c = count as f64;
        out.fine_mid
            .iter_mut()
            .chain(out.fine_side.iter_mut())
            .for_each(|x| *x /= c);
        for (b, (m, s)) in out.mid.iter_mut().zip(out.side.iter_mut()).enumerate() {
            *m = out.fine_mid[b * FINE..(b + 1) * FINE].iter().sum();
            *s = out.fine_side[b * FINE..(b + 1) * FINE].iter().sum();
        }
        out.k_power = k / c;
        out.gated_frames = count;
        out.loudness_lufs = Some(-0.691 + 10.0 * (2.0 * k / c).log10());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, f: f64, amp: f64, secs: f64) -> Vec<f64> {
        (0..(f64::from(rate) * secs) as usize)
            .map(|n| amp * (std::f64::consts::TAU * f * n as f64 / f64::from(rate)).sin())
            .collect()
    }

    #[test]
    fn k_weighting_is_unity_at_1k_and_plus_4_high() {
        let db = |f: f64| 10.0 * k_weight(f).log10();
        assert!(db(1000.0).abs() < 0.8, "{}", db(1000.0));
        assert!((db(10_000.0) - 4.0).abs() < 0.3, "{}", db(10_000.0));
        assert!(db(20.0) < -10.0);
    }

    #[test]
    fn a_sine_lands_in_its_band_and_its_loudness_is_right() {
        // A 997 Hz sine at -20 dBFS on both channels reads about -20 LUFS
        // (BS.1770's -3.01 dB of a 1 kHz sine per channel, summed).
        let x = sine(48_000, 997.0, 0.1, 5.0);
        let mut m = LtasMeter::new(48_000, &Bands::third_octave());
        m.add(&x, &x);
        let l = m.finish();
        let lufs = l.loudness_lufs.unwrap();
        assert!((lufs + 20.0).abs() < 0.3, "{lufs}");
        let t = l.tonal_db();
        let loudest = (0..t.len())
            .max_by(|&a, &b| t[a].unwrap_or(-999.0).total_cmp(&t[b].unwrap_or(-999.0)))
            .unwrap();
        assert_eq!(loudest, 17);
        // Mono: no side.
        assert!(l.width_db()[17].is_none_or(|w| w < -100.0));
    }

    #[test]
    fn quiet_passages_are_gated_out() {
        // 5 s of a loud 100 Hz sine, then 20 s of a 5 kHz sine 40 dB down:
        // the quiet part is under the relative gate and does not count.
        let mut l = sine(48_000, 100.0, 0.5, 5.0);
        l.extend(sine(48_000, 5000.0, 0.005, 20.0));
        let mut m = LtasMeter::new(48_000, &Bands::erb());
        m.add(&l, &l);
        let s = m.finish();
        let t = s.tonal_db();
        let band_5k = s
            .bands
            .edges_hz
            .iter()
            .position(|&(a, b)| a <= 5000.0 && 5000.0 < b)
            .unwrap();
        assert!(t[band_5k].is_none_or(|d| d < -60.0), "{:?}", t[band_5k]);
        assert!(s.gated_frames < s.frames / 3);
    }

    #[test]
    fn erb_bands_touch_and_span_the_range() {
        let b = Bands::erb();
        assert!((40..=42).contains(&b.len()), "{}", b.len());
        assert!((b.edges_hz[0].0 - 20.0).abs() < 1e-6);
        assert!((b.edges_hz[b.len() - 1].1 - 20_000.0).abs() < 1e-3);
        for w in b.edges_hz.windows(2) {
            assert!((w[0].1 - w[1].0).abs() < 1e-9);
        }
    }
}
