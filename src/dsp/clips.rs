//! Clip counts of a decoded stream, as Apple's `afclip` reports them:
//! **on-sample** clips, samples over full scale (|x| > 1.0), and
//! **inter-sample** clips, intervals between two samples at or under full
//! scale where the waveform an ideal DAC reconstructs passes it.
//!
//! The waveform between the samples is the reconstruction kernel of
//! [`super::oversample`] (8x, Kaiser-windowed sinc of 128 taps a phase,
//! within 0.004 dB of the exact fractional delay up to 0.48 fs, a parabola
//! between the 8x points): the same reading the report's
//! `reconstructed_peak_dbfs` and the lossy ceiling use. Each channel is
//! counted on its own and the counts added, as afclip prints them per
//! channel. A stretch of intervals whose window holds no sample that could
//! carry the waveform over full scale (its largest |x| times the kernel's
//! L1 norm under 1.0) is not computed: the count cannot change there.

use super::oversample::{Detector, DELAY, HIST, STRETCH};
use crate::audio::Block;

/// Counts on-sample and inter-sample clips over stereo blocks.
#[derive(Debug, Clone)]
pub struct ClipCounter {
    det: Detector,
    /// History + pending samples per channel: `buf[c][..fill]`.
    buf: [Vec<f32>; 2],
    fill: usize,
    last: [f32; 2],
    iv: Vec<f32>,
    on_sample: u64,
    inter_sample: u64,
}

impl Default for ClipCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl ClipCounter {
    /// A counter with zeros before the first frame.
    pub fn new() -> Self {
        ClipCounter {
            det: Detector::new(48_000.0, false),
            buf: [vec![0.0; HIST + STRETCH], vec![0.0; HIST + STRETCH]],
            fill: HIST - 1,
            last: [0.0; 2],
            iv: vec![0.0; STRETCH],
            on_sample: 0,
            inter_sample: 0,
        }
    }

    /// Counts one block.
    pub fn add(&mut self, block: &Block) {
        let n = block.left.len().min(block.right.len());
        for s in block.left[..n].iter().chain(&block.right[..n]) {
            if s.abs() > 1.0 {
                self.on_sample += 1;
            }
        }
        let mut at = 0;
        while at < n {
            let room = HIST - 1 + STRETCH - self.fill;
            let k = room.min(n - at);
            for (c, src) in [&block.left, &block.right].into_iter().enumerate() {
                for (d, s) in self.buf[c][self.fill..self.fill + k]
                    .iter_mut()
                    .zip(&src[at..at + k])
                {
                    *d = *s as f32;
                }
            }
            self.fill += k;
            at += k;
            if self.fill == HIST - 1 + STRETCH {
                self.run(STRETCH);
            }
        }
    }

    /// Counts the `n` intervals whose windows are complete and keeps the
    /// last `HIST - 1` samples as history.
    fn run(&mut self, n: usize) {
        let end = n + HIST - 1;
        for c in 0..2 {
            let x = &self.buf[c][..end];
            let reach = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if f64::from(reach) * self.det.l1 < 1.0 {
                self.last[c] = 0.0;
                continue;
            }
            let iv = &mut self.iv[..n];
            iv.fill(0.0);
            let mut last = self.last[c];
            self.det.stretch_peaks(x, iv, &mut last);
            self.last[c] = last;
            for (j, p) in iv.iter().enumerate() {
                // Interval j runs from x[j + DELAY - 1] to x[j + DELAY].
                let (a, b) = (x[j + DELAY - 1].abs(), x[j + DELAY].abs());
                if *p > 1.0 && a <= 1.0 && b <= 1.0 {
                    self.inter_sample += 1;
                }
            }
        }
        for b in &mut self.buf {
            b.copy_within(n..end, 0);
        }
        self.fill = HIST - 1;
    }

    /// Starts the counts again from here, keeping the history (intervals
    /// still pending, up to `STRETCH + DELAY` frames back, count anew).
    pub fn restart(&mut self) {
        self.on_sample = 0;
        self.inter_sample = 0;
    }

    /// The counts so far, of the intervals computed (not those of the last
    /// `STRETCH + DELAY` frames fed): for a stretch whose signal goes on.
    pub fn counts(&self) -> (u64, u64) {
        (self.on_sample, self.inter_sample)
    }

    /// The counts `(on-sample, inter-sample)`, with the zeros after the
    /// last frame as future (so the intervals into the end count).
    pub fn finish(mut self) -> (u64, u64) {
        // The last sample's interval reads DELAY samples past it.
        self.add(&Block {
            left: vec![0.0; DELAY],
            right: vec![0.0; DELAY],
        });
        let pending = self.fill - (HIST - 1);
        if pending > 0 {
            self.run(pending);
        }
        (self.on_sample, self.inter_sample)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(left: Vec<f64>) -> (u64, u64) {
        let mut c = ClipCounter::new();
        let right = vec![0.0; left.len()];
        for (l, r) in left.chunks(1000).zip(right.chunks(1000)) {
            c.add(&Block {
                left: l.to_vec(),
                right: r.to_vec(),
            });
        }
        c.finish()
    }

    #[test]
    fn a_sine_sampled_off_its_crest_clips_between_the_samples() {
        // fs/4 at phase pi/4: every sample at 1.2 sin(pi/4 + k pi/2),
        // |x| = 0.85, while the waveform peaks at 1.2 between them.
        let a = 1.2;
        let x: Vec<f64> = (0..4800)
            .map(|k| {
                a * (std::f64::consts::FRAC_PI_4 + k as f64 * std::f64::consts::FRAC_PI_2).sin()
            })
            .collect();
        let (on, inter) = counts(x);
        assert_eq!(on, 0);
        // A crest (90 or 270 degrees) in every other interval.
        assert!((2350..=2450).contains(&inter), "{inter}");
    }

    #[test]
    fn samples_over_full_scale_are_on_sample_clips_only() {
        let mut x = vec![0.0; 4000];
        x[2000] = 1.2;
        x[3000] = -1.05;
        let (on, inter) = counts(x);
        assert_eq!(on, 2);
        assert_eq!(inter, 0);
    }

    #[test]
    fn a_quiet_signal_costs_nothing_and_counts_nothing() {
        let x: Vec<f64> = (0..10_000).map(|k| 0.3 * (k as f64 * 0.1).sin()).collect();
        assert_eq!(counts(x), (0, 0));
    }
}
