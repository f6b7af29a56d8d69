//! The short-term loudness of a programme over time, for the report's
//! album timeline: the 3 s loudness once a second, in bounded memory.
//!
//! The meter hands over the 3 s block energy at every whole second (the
//! window ending there), and 0, no value, at 1 and 2 s, before a whole
//! window is in. Up to [`MAX_POINTS`] points are kept; when they fill up,
//! neighbours are merged (the mean energy of those with a value) and the
//! step doubles, so a programme of any length keeps at most that many
//! points (16 KB) and one of up to 68 minutes keeps one a second.

use super::gating::energy_to_loudness;

/// Most points a series keeps.
pub const MAX_POINTS: usize = 4096;

/// Short-term loudness every [`LoudnessSeries::step_s`] seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LoudnessSeries {
    /// Seconds of the first step (1 s, the meter's 10 hops of 100 ms).
    base_s: f64,
    /// Base steps per point (a power of two).
    per_point: u32,
    /// Mean energy of each whole point.
    energies: Vec<f64>,
    /// The point being filled: energy sum, base steps in it, and those
    /// of them with a value.
    acc: f64,
    acc_n: u32,
    acc_valued: u32,
}

impl LoudnessSeries {
    /// An empty series whose points come every `base_s` seconds.
    pub fn new(base_s: f64) -> LoudnessSeries {
        LoudnessSeries {
            base_s,
            per_point: 1,
            energies: Vec::new(),
            acc: 0.0,
            acc_n: 0,
            acc_valued: 0,
        }
    }

    /// Adds the short-term block energy at the end of the next base step
    /// (0: no value there).
    pub fn push(&mut self, energy: f64) {
        self.acc += energy;
        self.acc_n += 1;
        if energy > 0.0 {
            self.acc_valued += 1;
        }
        if self.acc_n == self.per_point {
            self.energies
                .push(self.acc / f64::from(self.acc_valued.max(1)));
            self.acc = 0.0;
            self.acc_n = 0;
            self.acc_valued = 0;
            if self.energies.len() == MAX_POINTS {
                for i in 0..MAX_POINTS / 2 {
                    let (a, b) = (self.energies[2 * i], self.energies[2 * i + 1]);
                    let valued = f64::from(u8::from(a > 0.0) + u8::from(b > 0.0));
                    self.energies[i] = (a + b) / valued.max(1.0);
                }
                self.energies.truncate(MAX_POINTS / 2);
                self.per_point *= 2;
            }
        }
    }

    /// Seconds between points.
    pub fn step_s(&self) -> f64 {
        self.base_s * f64::from(self.per_point)
    }

    /// Whole points so far.
    pub fn len(&self) -> usize {
        self.energies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.energies.is_empty()
    }

    /// The loudness of each point, LUFS (`None` without a value: digital
    /// silence, or the first two seconds);
    /// point `i` is the mean of the short-term energies in the step that
    /// ends at `(i + 1) · step_s()` seconds.
    pub fn lufs(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.energies.iter().map(|&e| {
            let l = energy_to_loudness(e);
            l.is_finite().then_some(l)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::gating::loudness_to_energy;

    #[test]
    fn decimates_past_the_limit() {
        let mut s = LoudnessSeries::new(1.0);
        for i in 0..MAX_POINTS {
            s.push(loudness_to_energy(if i % 2 == 0 { -20.0 } else { -30.0 }));
        }
        // Full: merged into half as many points two seconds apart.
        assert_eq!(s.len(), MAX_POINTS / 2);
        assert_eq!(s.step_s(), 2.0);
        let want =
            energy_to_loudness((loudness_to_energy(-20.0) + loudness_to_energy(-30.0)) / 2.0);
        assert!(s.lufs().all(|l| (l.unwrap() - want).abs() < 1e-9));
        // An hour and a half keeps at most MAX_POINTS.
        for _ in 0..5400 {
            s.push(0.0);
        }
        assert!(s.len() <= MAX_POINTS);
        assert_eq!(s.lufs().last(), Some(None));
        // A point without a value does not pull its neighbour down.
        let mut s = LoudnessSeries::new(1.0);
        s.push(0.0);
        for _ in 1..MAX_POINTS {
            s.push(loudness_to_energy(-20.0));
        }
        assert!((s.lufs().next().unwrap().unwrap() + 20.0).abs() < 1e-9);
    }
}
