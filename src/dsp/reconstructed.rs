//! The peak of the signal as an ideal DAC reconstructs it, and, when
//! asked, its clip counts as Apple's `afclip` reports them: **on-sample**
//! clips, samples over full scale (|x| > 1.0), and **inter-sample** clips,
//! intervals between two samples at or under full scale where the
//! reconstructed waveform passes it.
//!
//! The waveform between the samples is the reconstruction kernel of
//! [`super::oversample`] (8x, Kaiser-windowed sinc of 128 taps a phase,
//! within 0.004 dB of the exact fractional delay up to 0.48 fs, a parabola
//! between the 8x points): the reading of the report's
//! `reconstructed_peak_dbfs`, the lossy ceiling and the codec preview.
//! Each channel is computed on its own (the clip counts added, as afclip
//! prints them per channel), over stretches of [`STRETCH`] intervals. A
//! channel's stretch whose window holds no sample that could raise the
//! peak so far, nor (counting clips) carry the waveform over full scale,
//! is not computed (its largest |x| times the kernel's L1 norm bounds what
//! the kernel can read there), so on music most of the signal costs only
//! a max, and a stream that stays under full scale pays nothing for its
//! counts. One pass gives the peak and the counts: a count from a second
//! pass would compute the same stretches again.

use super::oversample::{Detector, DELAY, HIST, STRETCH};
use crate::audio::Block;

/// The reconstructed peak (and, [`Self::counting_clips`], the clip
/// counts) streamed over stereo blocks.
#[derive(Debug, Clone)]
pub struct ReconstructedPeak {
    det: Detector,
    /// History + pending samples per channel: `buf[c][..fill]`.
    buf: [Vec<f32>; 2],
    fill: usize,
    last: [f32; 2],
    iv: Vec<f32>,
    max: f64,
    sample_peak: f64,
    count: bool,
    on_sample: u64,
    inter_sample: u64,
}

impl Default for ReconstructedPeak {
    fn default() -> Self {
        Self::new()
    }
}

impl ReconstructedPeak {
    /// A meter with the zeros before the first frame as history. The
    /// kernel is defined relative to the sample rate, so one meter suits
    /// every rate.
    pub fn new() -> Self {
        ReconstructedPeak {
            det: Detector::new(48_000.0, false),
            buf: [vec![0.0; HIST + STRETCH], vec![0.0; HIST + STRETCH]],
            fill: HIST - 1,
            last: [0.0; 2],
            iv: vec![0.0; STRETCH],
            max: 0.0,
            sample_peak: 0.0,
            count: false,
            on_sample: 0,
            inter_sample: 0,
        }
    }

    /// A meter that also counts the clips ([`Self::counts`]).
    pub fn counting_clips() -> Self {
        ReconstructedPeak {
            count: true,
            ..Self::new()
        }
    }

    /// Meters one block.
    pub fn add(&mut self, block: &Block) {
        let n = block.left.len().min(block.right.len());
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
                    self.sample_peak = self.sample_peak.max(s.abs());
                    if self.count && s.abs() > 1.0 {
                        self.on_sample += 1;
                    }
                }
            }
            self.fill += k;
            at += k;
            if self.fill == HIST - 1 + STRETCH {
                self.run(STRETCH);
            }
        }
    }

    /// Computes the `n` intervals whose windows are complete and keeps the
    /// last `HIST - 1` samples as history.
    fn run(&mut self, n: usize) {
        let end = n + HIST - 1;
        let ReconstructedPeak {
            det,
            buf,
            last,
            iv,
            max,
            count,
            inter_sample,
            ..
        } = self;
        for (x, last) in buf.iter().zip(last.iter_mut()) {
            let x = &x[..end];
            let reach = f64::from(x.iter().fold(0.0f32, |m, v| m.max(v.abs()))) * det.l1;
            if reach < *max && !(*count && reach >= 1.0) {
                // The 7/8 point is only read by the parabola of a stretch
                // that is computed; a small stand-in raises its vertex
                // (never lowers it), and the stretch after a skipped one
                // starts quiet: its first interval cannot reach the peak
                // or full scale either.
                *last = 0.0;
                continue;
            }
            let iv = &mut iv[..n];
            iv.fill(0.0);
            det.stretch_peaks(x, iv, last);
            for (j, p) in iv.iter().enumerate() {
                *max = max.max(f64::from(*p));
                // Interval j runs from x[j + DELAY - 1] to x[j + DELAY].
                if *count && *p > 1.0 && x[j + DELAY - 1].abs() <= 1.0 && x[j + DELAY].abs() <= 1.0
                {
                    *inter_sample += 1;
                }
            }
        }
        for b in &mut self.buf {
            b.copy_within(n..end, 0);
        }
        self.fill = HIST - 1;
    }

    /// Starts the peak (and the counts) again from here, keeping the
    /// history: the figures of a stretch of a longer signal. Intervals
    /// still pending (up to `STRETCH + DELAY` frames before this point)
    /// count towards the new figures.
    pub fn restart(&mut self) {
        self.max = 0.0;
        self.sample_peak = 0.0;
        self.on_sample = 0;
        self.inter_sample = 0;
    }

    /// The peak of the intervals computed so far, without the zeros after
    /// the last frame (see [`Self::dbfs`]): the peak up to `STRETCH +
    /// DELAY` frames before the last one fed, for a stretch whose signal
    /// goes on past it.
    pub fn dbfs_so_far(&self) -> Option<f64> {
        let peak = self.max.max(self.sample_peak);
        (peak > 0.0).then(|| super::lin_to_db(peak))
    }

    /// The clip counts `(on-sample, inter-sample)` of the intervals
    /// computed so far (not those of the last `STRETCH + DELAY` frames
    /// fed): for a stretch whose signal goes on. Zeros unless
    /// [`Self::counting_clips`].
    pub fn counts(&self) -> (u64, u64) {
        (self.on_sample, self.inter_sample)
    }

    /// This meter with the zeros after the last frame as future: the
    /// pending samples' intervals, then those reaching into the zeros
    /// after the end (the last sample's interval reads `DELAY` samples
    /// past it).
    fn to_end(&self) -> Self {
        let mut tail = self.clone();
        let pending = tail.fill - (HIST - 1);
        for b in &mut tail.buf {
            b[tail.fill..].fill(0.0);
        }
        tail.fill = HIST - 1 + STRETCH;
        tail.run(STRETCH);
        if pending + DELAY > STRETCH {
            for b in &mut tail.buf {
                b[HIST - 1..].fill(0.0);
            }
            tail.run(STRETCH);
        }
        tail
    }

    /// The peak so far, with the zeros after the last frame as future
    /// (so the tail's inter-sample points count), in dBFS; `None` for
    /// digital silence.
    pub fn dbfs(&self) -> Option<f64> {
        self.to_end().dbfs_so_far()
    }

    /// The clip counts `(on-sample, inter-sample)` with the zeros after the
    /// last frame as future (so the intervals into the end count).
    pub fn counts_to_end(&self) -> (u64, u64) {
        self.to_end().counts()
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;

    /// A sine's peak, from 0.02 fs to 0.48 fs at any phase, reads within
    /// 0.01 dB of its amplitude.
    #[test]
    fn sine_peaks_read_true_up_to_048_fs() {
        for f in [0.02, 0.2, 0.333, 0.4, 0.43, 0.45, 0.46, 0.47, 0.48] {
            for ph in 0..8 {
                let phase = ph as f64 * 0.37;
                // Faded in and out over 300 samples: a sine that starts
                // abruptly overshoots (Gibbs) in any band-limited reading.
                let x: Vec<f64> = (0..2000)
                    .map(|i| {
                        let edge = (i.min(1999 - i) as f64 / 300.0).min(1.0);
                        let fade = 0.5 - 0.5 * (PI * edge).cos();
                        fade * 0.5 * (2.0 * PI * f * i as f64 + phase).sin()
                    })
                    .collect();
                let mut m = ReconstructedPeak::new();
                m.add(&Block {
                    left: x.clone(),
                    right: x,
                });
                let db = m.dbfs().unwrap() - 20.0 * 0.5f64.log10();
                assert!(db.abs() < 0.01, "{f} fs phase {phase}: {db} dB");
            }
        }
    }

    #[test]
    fn skipping_does_not_change_the_reading() {
        let mut rng = crate::dsp::dither::Rng::new(9);
        let x: Vec<f64> = (0..20_000)
            .map(|i| {
                let loud = if (i / 3000) % 2 == 0 { 0.05 } else { 0.7 };
                loud * rng.uniform()
            })
            .collect();
        let b = Block {
            left: x.clone(),
            right: x.iter().map(|v| -v).collect(),
        };
        let mut m = ReconstructedPeak::new();
        for c in (0..b.len()).step_by(997) {
            let e = (c + 997).min(b.len());
            m.add(&Block {
                left: b.left[c..e].to_vec(),
                right: b.right[c..e].to_vec(),
            });
        }
        let mut plain = ReconstructedPeak::new();
        plain.det.l1 = f64::INFINITY;
        plain.add(&b);
        assert_eq!(m.dbfs(), plain.dbfs());
    }

    fn counts(left: Vec<f64>) -> (u64, u64) {
        let mut c = ReconstructedPeak::counting_clips();
        let right = vec![0.0; left.len()];
        for (l, r) in left.chunks(1000).zip(right.chunks(1000)) {
            c.add(&Block {
                left: l.to_vec(),
                right: r.to_vec(),
            });
        }
        c.counts_to_end()
    }

    #[test]
    fn a_sine_sampled_off_its_crest_clips_between_the_samples() {
        // fs/4 at phase pi/4: every sample at 1.2 sin(pi/4 + k pi/2),
        // |x| = 0.85, while the waveform peaks at 1.2 between them.
        let a = 1.2;
        let x: Vec<f64> = (0..4800)
            .map(|k| a * (PI / 4.0 + k as f64 * PI / 2.0).sin())
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

    /// Counting beside the peak skips only stretches that can neither
    /// raise the peak nor clip: the same peak and counts as a meter that
    /// computes every stretch, and the same peak as one that does not
    /// count; every stretch clipped or not, loud passages over full scale
    /// between quiet ones.
    #[test]
    fn counts_and_peak_match_a_meter_that_skips_nothing() {
        let mut rng = crate::dsp::dither::Rng::new(5);
        let x: Vec<f64> = (0..30_000)
            .map(|i| {
                let loud = [0.02, 0.6, 1.15, 0.3][(i / 2500) % 4];
                loud * (0.07 * i as f64).sin() + 0.2 * loud * rng.uniform()
            })
            .collect();
        let b = Block {
            left: x.clone(),
            right: x.iter().map(|v| -0.9 * v).collect(),
        };
        let mut full = ReconstructedPeak::counting_clips();
        full.det.l1 = f64::INFINITY;
        full.add(&b);
        let (mut m, mut peak_only) = (
            ReconstructedPeak::counting_clips(),
            ReconstructedPeak::new(),
        );
        for c in (0..b.len()).step_by(1013) {
            let e = (c + 1013).min(b.len());
            let part = Block {
                left: b.left[c..e].to_vec(),
                right: b.right[c..e].to_vec(),
            };
            m.add(&part);
            peak_only.add(&part);
        }
        let (on, inter) = full.counts_to_end();
        assert!(on > 100 && inter > 10, "{on} {inter}");
        assert_eq!(m.counts_to_end(), (on, inter));
        assert_eq!(m.counts(), full.counts());
        assert_eq!(m.dbfs(), full.dbfs());
        assert_eq!(peak_only.dbfs(), full.dbfs());
        assert_eq!(peak_only.counts_to_end(), (0, 0));
    }
}
