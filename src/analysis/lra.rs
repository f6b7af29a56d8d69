//! Loudness range, EBU Tech 3342 (2016 edition): short-term (3 s)
//! loudness taken every 100 ms (the 2016 edition asks for at least 10 Hz;
//! the `ebur128` crate takes one a second, the 2011 rule, which differs
//! from ffmpeg by up to about 1 LU on real music), absolute gate -70 LUFS,
//! relative gate 20 LU below the mean of what passed, then the 95th minus
//! the 10th percentile.
//!
//! Bounded memory: the values go into a histogram of 0.01 LU bins from -70
//! to +20 LUFS (36 KB), with the exact energy sum for the relative gate.
//! Histograms of several tracks add up, which gates an album as one
//! programme.

/// Lowest loudness kept (the absolute gate), LUFS.
const FLOOR: f64 = -70.0;
/// Bin width, LU.
const STEP: f64 = 0.01;
/// Bins: -70 to +20 LUFS. Louder values (not reachable by stereo audio
/// within ±1.0) go into the top bin.
const BINS: usize = 9000;

/// Short-term loudness values of a programme, as a histogram.
#[derive(Clone)]
pub struct LraHistogram {
    bins: Box<[u32]>,
    energy_sum: f64,
    count: u64,
}

impl std::fmt::Debug for LraHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LraHistogram")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Default for LraHistogram {
    fn default() -> Self {
        LraHistogram {
            bins: vec![0; BINS].into_boxed_slice(),
            energy_sum: 0.0,
            count: 0,
        }
    }
}

impl LraHistogram {
    /// Adds one short-term value given as its mean-square energy.
    pub fn add(&mut self, energy: f64) {
        let loudness = super::meter::energy_to_loudness(energy);
        // The absolute gate: only values at or above -70 LUFS count.
        if loudness.is_nan() || loudness < FLOOR {
            return;
        }
        self.energy_sum += energy;
        self.count += 1;
        self.bins[bin_of(loudness)] += 1;
    }

    /// Adds another programme's values to these.
    pub fn merge(&mut self, other: &LraHistogram) {
        for (a, b) in self.bins.iter_mut().zip(other.bins.iter()) {
            *a += b;
        }
        self.energy_sum += other.energy_sum;
        self.count += other.count;
    }

    /// The loudness range in LU; `None` when no short-term value passes
    /// the gates (silence, or less than 3 s of audio).
    pub fn range(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let mean = super::meter::energy_to_loudness(self.energy_sum / self.count as f64);
        let gate = mean - 20.0;
        // Values in the bin holding the gate are taken when the bin's
        // centre passes it: the gate is placed within half a bin (0.005 LU).
        let start = (0..BINS).find(|&i| centre(i) >= gate).unwrap_or(BINS);
        let n: u64 = self.bins[start..].iter().map(|&c| u64::from(c)).sum();
        if n == 0 {
            return None;
        }
        // Nearest rank, as libebur128: index round((n - 1) p).
        let rank = |p: f64| ((n - 1) as f64 * p + 0.5) as u64;
        let (lo, hi) = (rank(0.10), rank(0.95));
        let value_at = |k: u64| {
            let mut seen = 0u64;
            for (i, &c) in self.bins.iter().enumerate().skip(start) {
                seen += u64::from(c);
                if seen > k {
                    return centre(i);
                }
            }
            centre(BINS - 1)
        };
        Some(value_at(hi) - value_at(lo))
    }
}

fn bin_of(loudness: f64) -> usize {
    (((loudness - FLOOR) / STEP) as usize).min(BINS - 1)
}

fn centre(bin: usize) -> f64 {
    FLOOR + (bin as f64 + 0.5) * STEP
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy(lufs: f64) -> f64 {
        10f64.powf((lufs + 0.691) / 10.0)
    }

    #[test]
    fn two_levels_give_their_difference() {
        let mut h = LraHistogram::default();
        for _ in 0..100 {
            h.add(energy(-20.0));
            h.add(energy(-30.0));
        }
        // Below the absolute gate: ignored.
        h.add(energy(-80.0));
        h.add(0.0);
        assert!((h.range().unwrap() - 10.0).abs() < 0.011);
    }

    #[test]
    fn merge_equals_one_programme() {
        let (mut a, mut b, mut ab) = Default::default();
        for i in 0..50 {
            let x = energy(-40.0 + f64::from(i) * 0.3);
            let y = energy(-25.0 + f64::from(i) * 0.1);
            LraHistogram::add(&mut a, x);
            LraHistogram::add(&mut b, y);
            LraHistogram::add(&mut ab, x);
            LraHistogram::add(&mut ab, y);
        }
        let mut m: LraHistogram = a.clone();
        m.merge(&b);
        assert_eq!(m.range(), ab.range());
        assert_eq!(LraHistogram::default().range(), None);
    }
}
