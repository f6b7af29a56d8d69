//! The long-term 1/3-octave spectrum of a programme: 31 bands, 20 Hz to
//! 20 kHz (IEC 61260 base-10 centres 1000·10^(k/10)), for the report's
//! spectral balance plot and the spectral-outlier check.
//!
//! Frames of 2^n samples (about 3 Hz a bin: 16384 at 44.1 and 48 kHz),
//! Hann-windowed, every other one (a long-term mean over minutes needs no
//! more, and it halves the cost; a 4-minute track still gives 350
//! frames), go through one complex FFT that carries the left channel as
//! the real and the right as the imaginary part; |X_L|² + |X_R|² =
//! (|Z_k|² + |Z_{N-k}|²)/2 gives both channels' power from that one
//! transform. Each bin's power goes to the bands its width overlaps, in
//! proportion, so that even the 20 Hz band (4.6 Hz wide) reads a smooth
//! spectrum right. The bands' powers are summed over the frames; a band's
//! level is the mean square, per channel, of the programme's content in
//! that band (a full-scale sine on both channels reads -3.01 dB in its
//! band). A programme shorter than a frame (0.34 s at 48 kHz) has none.
//!
//! The transform is in f32 (twice as fast as f64; its rounding lies some
//! 140 dB under the signal, far below anything the report shows). Memory
//! is fixed at [`SpectrumMeter::new`] (three frames of complex samples,
//! about 0.4 MB at 48 kHz); nothing is allocated per block. It adds 4 to
//! 8% to the meter's time (examples/spectrum_bench.rs: 5-8% on real
//! music, where the meter skips most true-peak work, 4% on noise).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Bands of the spectrum.
pub const BANDS: usize = 31;

/// The bands' nominal centres (IEC 61260), Hz, for labels.
pub const BAND_CENTRES_HZ: [f64; BANDS] = [
    20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0,
    500.0, 630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0,
    8000.0, 10000.0, 12500.0, 16000.0, 20000.0,
];

/// The lowest a band's balance goes, dB under the programme's mean band
/// level: an empty band (above a low-pass, above Nyquist) reads this
/// rather than minus infinity.
pub const BALANCE_FLOOR_DB: f64 = -60.0;

/// Exact centre of band `i` (0 = 20 Hz), Hz.
pub fn band_centre(i: usize) -> f64 {
    1000.0 * 10f64.powf((i as f64 - 17.0) / 10.0)
}

/// Lower and upper edge of band `i`, Hz.
pub fn band_edges(i: usize) -> (f64, f64) {
    let c = band_centre(i);
    let k = 10f64.powf(0.05);
    (c / k, c * k)
}

/// A programme's 1/3-octave levels.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Mean square per channel in each band, dB re full scale; `None`
    /// for a band without any energy (silence, or above Nyquist).
    pub bands_db: [Option<f64>; BANDS],
}

impl Spectrum {
    /// The spectral balance: each band's level minus the mean of all
    /// bands' power (in dB), so that programmes of any loudness compare;
    /// bands go no lower than [`BALANCE_FLOOR_DB`]. `None` for silence.
    pub fn balance(&self) -> Option<[f64; BANDS]> {
        let powers: Vec<f64> = self
            .bands_db
            .iter()
            .map(|b| b.map_or(0.0, |db| 10f64.powf(db / 10.0)))
            .collect();
        let mean = powers.iter().sum::<f64>() / BANDS as f64;
        if mean <= 0.0 || !mean.is_finite() {
            return None;
        }
        let mut out = [BALANCE_FLOOR_DB; BANDS];
        for (o, p) in out.iter_mut().zip(&powers) {
            if *p > 0.0 {
                *o = (10.0 * (p / mean).log10()).max(BALANCE_FLOOR_DB);
            }
        }
        Some(out)
    }
}

/// An album's mean spectral balance and how far each programme is from
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumBalance {
    /// Mean over the programmes' balances, dB, band by band.
    pub mean: [f64; BANDS],
    /// For each programme given (`None` where it had no balance): its
    /// balance minus the mean, band by band, and the RMS of that over the
    /// bands, dB.
    pub deviations: Vec<Option<([f64; BANDS], f64)>>,
}

/// The mean of the given balances ([`Spectrum::balance`]) and each one's
/// deviation from it; `None` when none is given.
pub fn album_balance(balances: &[Option<[f64; BANDS]>]) -> Option<AlbumBalance> {
    let n = balances.iter().flatten().count();
    if n == 0 {
        return None;
    }
    let mut mean = [0.0; BANDS];
    for b in balances.iter().flatten() {
        for (m, x) in mean.iter_mut().zip(b) {
            *m += x / n as f64;
        }
    }
    let deviations = balances
        .iter()
        .map(|b| {
            b.map(|b| {
                let mut d = [0.0; BANDS];
                for ((d, x), m) in d.iter_mut().zip(&b).zip(&mean) {
                    *d = x - m;
                }
                let rms = (d.iter().map(|x| x * x).sum::<f64>() / BANDS as f64).sqrt();
                (d, rms)
            })
        })
        .collect();
    Some(AlbumBalance { mean, deviations })
}

/// The frame layout both spectrum meters (this one and
/// [`super::ltas::LtasMeter`]) use: about 3 Hz a bin (2^8..2^17 samples),
/// a Hann window and its power, and for each band (edges in Hz) the bins
/// it takes with the share of each (bin k covers [(k - 1/2)·df, (k +
/// 1/2)·df)).
pub(super) struct Frames {
    pub size: usize,
    pub fft: Arc<dyn Fft<f32>>,
    pub scratch: Vec<Complex<f32>>,
    pub window: Vec<f32>,
    pub window_power: f64,
    pub bins: Vec<Vec<(usize, f64)>>,
}

pub(super) fn frames(rate: f64, edges: &[(f64, f64)]) -> Frames {
    let size = ((rate / 3.0).ceil() as usize)
        .next_power_of_two()
        .clamp(256, 1 << 17);
    let fft = FftPlanner::new().plan_fft_forward(size);
    let scratch = vec![Complex::default(); fft.get_inplace_scratch_len()];
    let window: Vec<f32> = (0..size)
        .map(|n| (0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / size as f64).cos()) as f32)
        .collect();
    let window_power: f64 = window.iter().map(|&w| f64::from(w) * f64::from(w)).sum();
    let df = rate / size as f64;
    let bins = edges
        .iter()
        .map(|&(lo, hi)| {
            let hi = hi.min(rate / 2.0);
            let first = ((lo / df - 0.5).floor().max(1.0)) as usize;
            let last = ((hi / df + 0.5).ceil() as usize).min(size / 2);
            (first..=last)
                .filter_map(|k| {
                    let (a, z) = ((k as f64 - 0.5) * df, (k as f64 + 0.5) * df);
                    let share = (z.min(hi) - a.max(lo)) / df;
                    (share > 0.0).then_some((k, share.min(1.0)))
                })
                .collect()
        })
        .collect();
    Frames {
        size,
        fft,
        scratch,
        window,
        window_power,
        bins,
    }
}

/// Streams stereo samples into the 1/3-octave spectrum.
pub struct SpectrumMeter {
    fft: Arc<dyn Fft<f32>>,
    /// The frame being filled (left + i·right), and the FFT's buffers.
    input: Vec<Complex<f32>>,
    work: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    window: Vec<f32>,
    /// Samples in `input`; a frame is transformed when it is full.
    fill: usize,
    /// Samples still to pass over before the next frame starts.
    skip: usize,
    /// For each band, the bins it takes and the share of each.
    bins: Vec<Vec<(usize, f64)>>,
    /// Summed power per band, and frames transformed.
    power: [f64; BANDS],
    frames: u64,
    /// Scale from Σ|Z|² to mean square per channel.
    scale: f64,
}

impl std::fmt::Debug for SpectrumMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpectrumMeter")
            .field("size", &self.input.len())
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl SpectrumMeter {
    /// A meter for `sample_rate` (any rate the loudness meter takes).
    pub fn new(sample_rate: u32) -> SpectrumMeter {
        let rate = f64::from(sample_rate.max(1));
        let edges: Vec<(f64, f64)> = (0..BANDS).map(band_edges).collect();
        let Frames {
            size,
            fft,
            scratch,
            window,
            window_power,
            bins,
        } = frames(rate, &edges);
        SpectrumMeter {
            fft,
            input: vec![Complex::default(); size],
            work: vec![Complex::default(); size],
            scratch,
            window,
            fill: 0,
            skip: 0,
            bins,
            power: [0.0; BANDS],
            frames: 0,
            // Parseval: Σ_k |X_k|² = N Σ_n |x_n w_n|²; one side counts
            // twice; the pair formula halves |Z|²; two channels averaged.
            scale: 2.0 / (size as f64 * window_power) / 2.0 / 2.0,
        }
    }

    /// Adds a block of stereo samples.
    pub fn add(&mut self, l: &[f64], r: &[f64]) {
        let size = self.input.len();
        let mut pos = 0;
        let n = l.len().min(r.len());
        while pos < n {
            if self.skip > 0 {
                let pass = self.skip.min(n - pos);
                self.skip -= pass;
                pos += pass;
                continue;
            }
            let take = (size - self.fill).min(n - pos);
            for (z, (&a, &b)) in self.input[self.fill..self.fill + take]
                .iter_mut()
                .zip(l[pos..pos + take].iter().zip(&r[pos..pos + take]))
            {
                *z = Complex::new(a as f32, b as f32);
            }
            self.fill += take;
            pos += take;
            if self.fill == size {
                self.transform();
                self.fill = 0;
                self.skip = size;
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
        for (p, bins) in self.power.iter_mut().zip(&self.bins) {
            let mut sum = 0.0;
            for &(k, share) in bins {
                let z = self.work[k];
                let m = self.work[size - k];
                sum += share * f64::from(z.norm_sqr() + m.norm_sqr());
            }
            *p += sum;
        }
        self.frames += 1;
    }

    /// The spectrum of what was added so far (whole frames only).
    pub fn spectrum(&self) -> Spectrum {
        let mut bands_db = [None; BANDS];
        if self.frames > 0 {
            for (b, p) in bands_db.iter_mut().zip(&self.power) {
                let ms = p * self.scale / self.frames as f64;
                let db = 10.0 * ms.log10();
                *b = db.is_finite().then_some(db);
            }
        }
        Spectrum { bands_db }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_iec_centres() {
        for (i, nominal) in BAND_CENTRES_HZ.iter().enumerate() {
            let c = band_centre(i);
            assert!((c / nominal - 1.0).abs() < 0.03, "{i}: {c} vs {nominal}");
        }
        // Neighbouring bands touch.
        assert!((band_edges(3).1 - band_edges(4).0).abs() < 1e-9);
    }

    #[test]
    fn full_scale_sine_reads_minus_3_in_its_band() {
        for rate in [44_100, 48_000, 96_000] {
            let mut m = SpectrumMeter::new(rate);
            let f = 1000.0;
            let x: Vec<f64> = (0..rate as usize * 2)
                .map(|n| (std::f64::consts::TAU * f * n as f64 / f64::from(rate)).sin())
                .collect();
            m.add(&x, &x);
            let s = m.spectrum();
            let band = s.bands_db[17].unwrap();
            assert!((band + 3.01).abs() < 0.05, "{rate}: {band}");
            // The window's leakage stays far below in the next bands.
            assert!(s.bands_db[15].unwrap() < band - 60.0);
        }
    }

    #[test]
    fn right_channel_alone_counts_half() {
        let rate = 48_000;
        let mut m = SpectrumMeter::new(rate);
        let x: Vec<f64> = (0..96_000)
            .map(|n| (std::f64::consts::TAU * 100.0 * n as f64 / 48_000.0).sin())
            .collect();
        let z = vec![0.0; x.len()];
        m.add(&z, &x);
        let band = m.spectrum().bands_db[7].unwrap();
        assert!((band + 6.02).abs() < 0.05, "{band}");
    }
}
