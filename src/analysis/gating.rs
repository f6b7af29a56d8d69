//! Gated loudness from block energies, in bounded memory and exact to
//! within 0.01 LU of the gate:
//! - integrated loudness, BS.1770-4: 400 ms blocks every 100 ms, absolute
//!   gate -70 LUFS, relative gate 10 LU below the mean of what passed;
//! - loudness range, EBU Tech 3342 (2016 edition): 3 s blocks every
//!   100 ms (the 2016 edition asks for at least 10 Hz), absolute gate -70
//!   LUFS, relative gate 20 LU below the mean, then the 95th minus the
//!   10th percentile (nearest rank, as libebur128).
//!
//! Why not ebur128's own gating: in histogram mode it replaces each
//! block's energy by its 0.1 LU bin's (a 1 kHz sine at -23 dBFS reads
//! -22.95 LUFS), and its loudness range takes a 3 s block once a second,
//! the 2011 rule, which differs from ffmpeg by up to 1.2 LU on real music.
//! Here each 0.01 LU bin (-70 to +20 LUFS) keeps the count and the exact
//! energy sum of its blocks, so the means are exact and only a block
//! within 0.01 LU of a gate can fall on the wrong side. Histograms add up,
//! which gates an album as one programme.

/// Lowest loudness kept (the absolute gate), LUFS.
const FLOOR: f64 = -70.0;
/// Bin width, LU.
const STEP: f64 = 0.01;
/// Bins: -70 to +20 LUFS. Louder blocks (beyond what stereo audio within
/// ±1.0 can reach) go into the top bin, with their exact energy.
const BINS: usize = 9000;

/// Block energies of a programme above the absolute gate, as a histogram.
#[derive(Clone)]
pub struct GateHistogram {
    counts: Box<[u32]>,
    energies: Box<[f64]>,
    energy_sum: f64,
    count: u64,
}

impl std::fmt::Debug for GateHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateHistogram")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Default for GateHistogram {
    fn default() -> Self {
        GateHistogram {
            counts: vec![0; BINS].into_boxed_slice(),
            energies: vec![0.0; BINS].into_boxed_slice(),
            energy_sum: 0.0,
            count: 0,
        }
    }
}

impl GateHistogram {
    /// Adds one block given as its (channel-weighted) mean-square energy.
    pub fn add(&mut self, energy: f64) {
        let loudness = energy_to_loudness(energy);
        // The absolute gate.
        if loudness.is_nan() || loudness <= FLOOR {
            return;
        }
        let bin = (((loudness - FLOOR) / STEP) as usize).min(BINS - 1);
        self.counts[bin] += 1;
        self.energies[bin] += energy;
        self.energy_sum += energy;
        self.count += 1;
    }

    /// Adds another programme's blocks to these.
    pub fn merge(&mut self, other: &GateHistogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        for (a, b) in self.energies.iter_mut().zip(other.energies.iter()) {
            *a += b;
        }
        self.energy_sum += other.energy_sum;
        self.count += other.count;
    }

    /// First bin above the relative gate `below` LU under the mean of the
    /// blocks that passed the absolute gate; `None` without any block. A
    /// bin straddling the gate is taken when its blocks' mean passes.
    fn relative_start(&self, below: f64) -> Option<usize> {
        if self.count == 0 {
            return None;
        }
        let gate = energy_to_loudness(self.energy_sum / self.count as f64) - below;
        let gate_energy = loudness_to_energy(gate);
        (0..BINS).find(|&i| {
            let c = self.counts[i];
            c > 0 && self.energies[i] / f64::from(c) > gate_energy
        })
    }

    /// Gated integrated loudness, LUFS; `None` without any block above
    /// the absolute gate.
    pub fn integrated(&self) -> Option<f64> {
        let start = self.relative_start(10.0)?;
        let n: u64 = self.counts[start..].iter().map(|&c| u64::from(c)).sum();
        let e: f64 = self.energies[start..].iter().sum();
        (n > 0).then(|| energy_to_loudness(e / n as f64))
    }

    /// Loudness range, LU; `None` without any block above the absolute
    /// gate.
    pub fn range(&self) -> Option<f64> {
        let start = self.relative_start(20.0)?;
        let n: u64 = self.counts[start..].iter().map(|&c| u64::from(c)).sum();
        if n == 0 {
            return None;
        }
        let rank = |p: f64| ((n - 1) as f64 * p + 0.5) as u64;
        let value_at = |k: u64| {
            let mut seen = 0u64;
            for i in start..BINS {
                let c = u64::from(self.counts[i]);
                seen += c;
                if seen > k {
                    // The bin's mean loudness: exact when its blocks agree.
                    return energy_to_loudness(self.energies[i] / c as f64);
                }
            }
            f64::NAN
        };
        Some(value_at(rank(0.95)) - value_at(rank(0.10)))
    }
}

/// BS.1770: L = -0.691 + 10 log10(energy); minus infinity for 0.
pub fn energy_to_loudness(e: f64) -> f64 {
    if e > 0.0 {
        -0.691 + 10.0 * e.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// The inverse of [`energy_to_loudness`]; 0 for minus infinity.
pub fn loudness_to_energy(l: f64) -> f64 {
    if l.is_finite() {
        10f64.powf((l + 0.691) / 10.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_levels() {
        let mut h = GateHistogram::default();
        for _ in 0..100 {
            h.add(loudness_to_energy(-20.0));
            h.add(loudness_to_energy(-30.0));
        }
        // Below the absolute gate: ignored.
        h.add(loudness_to_energy(-80.0));
        h.add(0.0);
        assert!((h.range().unwrap() - 10.0).abs() < 1e-9);
        // The mean energy reads -22.6 LUFS, the gate -32.6: both count.
        let mean =
            energy_to_loudness((loudness_to_energy(-20.0) + loudness_to_energy(-30.0)) / 2.0);
        assert!((h.integrated().unwrap() - mean).abs() < 1e-9);
    }

    #[test]
    fn relative_gate_drops_quiet_blocks_exactly() {
        let mut h = GateHistogram::default();
        for _ in 0..10 {
            h.add(loudness_to_energy(-23.0));
        }
        for _ in 0..10 {
            h.add(loudness_to_energy(-45.0));
        }
        assert!((h.integrated().unwrap() + 23.0).abs() < 1e-9);
        assert_eq!(GateHistogram::default().integrated(), None);
    }

    #[test]
    fn merge_equals_one_programme() {
        let (mut a, mut b, mut ab) = (
            GateHistogram::default(),
            GateHistogram::default(),
            GateHistogram::default(),
        );
        for i in 0..50 {
            let x = loudness_to_energy(-40.0 + f64::from(i) * 0.3);
            let y = loudness_to_energy(-25.0 + f64::from(i) * 0.1);
            a.add(x);
            b.add(y);
            ab.add(x);
            ab.add(y);
        }
        let mut m = a.clone();
        m.merge(&b);
        assert_eq!(m.range(), ab.range());
        assert!((m.integrated().unwrap() - ab.integrated().unwrap()).abs() < 1e-12);
        assert_eq!(GateHistogram::default().range(), None);
    }

    #[test]
    fn round_trip() {
        let e = 0.0123;
        assert!((loudness_to_energy(energy_to_loudness(e)) - e).abs() < 1e-15);
        assert_eq!(loudness_to_energy(f64::NEG_INFINITY), 0.0);
    }
}
