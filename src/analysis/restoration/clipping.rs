//! Clipping: runs of [`MIN_RUN`] or more consecutive samples held at one
//! level (within 1 LSB of the source's bit depth; exactly, for float) at
//! the channel's peak, at whatever level that peak is: a mix clipped and
//! then turned down plateaus under 0 dBFS.
//!
//! A run counts when its level is at the channel's largest |x| of that
//! sign over the track (within 2 LSB; 1e-9 relative for float), so the
//! held values of quiet passages (16-bit music holds a code for a few
//! samples at low levels) and held digital silence never count. While the
//! track streams, runs at the running maximum are kept as candidates
//! (the maximum only grows, so a run under it can never qualify later) and
//! the survivors are those at the final maximum.
//!
//! How much was cut: the slopes of the two samples either side of the run
//! are extended into it; where the two lines meet is the peak the clip
//! removed, and `cut_db` is its level over the plateau's (0 when the
//! slopes do not rise into the run, at most 30 dB). Straight lines
//! overshoot a rounded peak: a sine clipped by 6 dB reads 9 dB.

use super::{Channel, ClippedRun, Detector, Restoration};
use crate::audio::Block;

/// Samples held at a plateau that make a clipped run.
pub const MIN_RUN: u32 = 3;
/// Candidate runs kept per channel while streaming; runs past it are
/// counted in the figures but not listed.
pub const MAX_EVENTS: usize = 4096;

#[derive(Clone, Copy)]
struct Run {
    start: u64,
    len: u32,
    value: f64,
    before: [f64; 2],
}

#[derive(Clone, Copy)]
struct Pending {
    run: Run,
    after: [f64; 2],
    got: u8,
}

struct Lane {
    /// Last two samples (x[i-1], x[i-2]).
    hist: [f64; 2],
    run: Run,
    pending: Option<Pending>,
    /// Largest positive and largest negative magnitude so far.
    max: [f64; 2],
    /// With each, its plateau (signed).
    candidates: Vec<(f64, ClippedRun)>,
}

/// The clipped-run detector.
pub struct Clipping {
    rate: f64,
    /// Equal within this (1 LSB, or 0 for float).
    equal: f64,
    /// At the maximum within this.
    at_max: f64,
    relative: f64,
    frame: u64,
    lanes: [Lane; 2],
}

impl Clipping {
    /// A detector at `rate` for a source of `bit_depth` bits (`None`, or
    /// `float`: exact equality).
    pub fn new(rate: u32, bit_depth: Option<u16>, float: bool) -> Clipping {
        let lsb = match (bit_depth, float) {
            (Some(b), false) if (2..=32).contains(&b) => 2f64.powi(1 - i32::from(b)),
            _ => 0.0,
        };
        let lane = || Lane {
            hist: [0.0; 2],
            run: Run {
                start: 0,
                len: 0,
                value: 0.0,
                before: [0.0; 2],
            },
            pending: None,
            max: [0.0; 2],
            candidates: Vec::with_capacity(MAX_EVENTS),
        };
        Clipping {
            rate: f64::from(rate),
            equal: lsb * 1.000_001,
            at_max: 2.0 * lsb * 1.000_001,
            relative: 1e-9,
            frame: 0,
            lanes: [lane(), lane()],
        }
    }

    fn lane(&mut self, ch: usize, x: &[f64]) {
        let (equal, at_max, relative, rate) = (self.equal, self.at_max, self.relative, self.rate);
        let lane = &mut self.lanes[ch];
        for (i, &s) in x.iter().enumerate() {
            let side = usize::from(s < 0.0);
            if s.abs() > lane.max[side] {
                lane.max[side] = s.abs();
            }
            if let Some(p) = &mut lane.pending {
                p.after[p.got as usize] = s;
                p.got += 1;
                if p.got == 2 {
                    let p = *p;
                    lane.pending = None;
                    keep(lane, &p, rate, at_max, relative);
                }
            }
            let r = &mut lane.run;
            if r.len > 0 && (s - r.value).abs() <= equal && s != 0.0 && (s < 0.0) == (r.value < 0.0)
            {
                r.len += 1;
            } else {
                if r.len >= MIN_RUN && lane.pending.is_none() {
                    lane.pending = Some(Pending {
                        run: *r,
                        after: [s, 0.0],
                        got: 1,
                    });
                }
                *r = Run {
                    start: self.frame + i as u64,
                    len: 1,
                    value: s,
                    before: lane.hist,
                };
            }
            lane.hist = [s, lane.hist[0]];
        }
    }
}

/// Whether `v` sits at the maximum of its sign.
fn at_peak(v: f64, max: &[f64; 2], at_max: f64, relative: f64) -> bool {
    let m = max[usize::from(v < 0.0)];
    v != 0.0 && v.abs() >= m - at_max.max(relative * m)
}

/// Keeps a finished run as a candidate if it sits at the running maximum.
fn keep(lane: &mut Lane, p: &Pending, rate: f64, at_max: f64, relative: f64) {
    let v = p.run.value;
    if !at_peak(v, &lane.max, at_max, relative) {
        return;
    }
    if lane.candidates.len() == MAX_EVENTS {
        let max = lane.max;
        lane.candidates
            .retain(|c| at_peak(c.0, &max, at_max, relative));
        if lane.candidates.len() == MAX_EVENTS {
            return;
        }
    }
    let sign = v.signum();
    let level = v.abs();
    let (b1, b2) = (sign * p.run.before[0], sign * p.run.before[1]);
    let (a1, a2) = (sign * p.after[0], sign * p.after[1]);
    let (dl, dr) = (b1 - b2, a1 - a2);
    // Lines from either side: the left one at s-1, the right one at e+1,
    // with t counted from s-1 and the run spanning 1..=len.
    let span = f64::from(p.run.len) + 1.0;
    let peak = if dl + dr > 0.0 {
        let t = ((a1 - b1 + dr * span) / (dl + dr)).clamp(0.0, span);
        b1 + dl * t
    } else {
        level
    };
    let cut_db = (20.0 * (peak / level).log10()).clamp(0.0, 30.0);
    lane.candidates.push((
        v,
        ClippedRun {
            time_s: p.run.start as f64 / rate,
            channel: Channel::Left,
            samples: p.run.len,
            level_dbfs: 20.0 * level.log10(),
            cut_db,
        },
    ));
}

impl Detector for Clipping {
    fn add(&mut self, block: &Block) {
        let n = block.left.len().min(block.right.len());
        self.lane(0, &block.left[..n]);
        self.lane(1, &block.right[..n]);
        self.frame += n as u64;
    }

    fn finish(self: Box<Self>, out: &mut Restoration) {
        let (rate, at_max, relative) = (self.rate, self.at_max, self.relative);
        let mut runs = Vec::new();
        for (ch, mut lane) in self.lanes.into_iter().enumerate() {
            // A run at the very end has no slope after it: the last
            // sample stands for both.
            let r = lane.run;
            if r.len >= MIN_RUN {
                let p = Pending {
                    run: r,
                    after: [r.value * 0.0, 0.0],
                    got: 2,
                };
                keep(&mut lane, &p, rate, at_max, relative);
            }
            if let Some(mut p) = lane.pending.take() {
                p.after[1] = p.after[0];
                keep(&mut lane, &p, rate, at_max, relative);
            }
            let max = lane.max;
            let channel = if ch == 0 {
                Channel::Left
            } else {
                Channel::Right
            };
            runs.extend(
                lane.candidates
                    .into_iter()
                    .filter(|c| at_peak(c.0, &max, at_max, relative))
                    .map(|(_, c)| ClippedRun { channel, ..c }),
            );
        }
        runs.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        out.clipped_runs = runs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x: &[f64], bits: Option<u16>) -> Vec<ClippedRun> {
        let mut d = Box::new(Clipping::new(48_000, bits, bits.is_none()));
        for c in x.chunks(777) {
            d.add(&Block {
                left: c.to_vec(),
                right: vec![0.0; c.len()],
            });
        }
        let mut out = Restoration::default();
        d.finish(&mut out);
        out.clipped_runs
    }

    #[test]
    fn a_clipped_and_turned_down_sine_is_found_with_its_cut() {
        // A 200 Hz sine at 1.0 clipped at 0.5 (6 dB), then turned down 6 dB.
        let x: Vec<f64> = (0..48_000)
            .map(|i| {
                0.5 * (2.0 * std::f64::consts::PI * 200.0 * i as f64 / 48_000.0)
                    .sin()
                    .clamp(-0.5, 0.5)
            })
            .collect();
        let runs = run(&x, None);
        assert_eq!(runs.len(), 400, "{}", runs.len());
        for r in &runs {
            assert!((r.level_dbfs + 12.04).abs() < 0.01, "{r:?}");
            // Straight lines overshoot a sine's curve: 9 dB for this 6.
            assert!(r.cut_db > 4.0 && r.cut_db < 10.0, "{r:?}");
        }
    }

    #[test]
    fn held_silence_and_quiet_plateaus_are_not_clipping() {
        // 16-bit steps held for 4 samples at low level, silence, and a
        // loud unclipped sine.
        let q = 1.0 / 32768.0;
        let mut x: Vec<f64> = (0..4800).map(|i| q * ((i / 4) % 5) as f64).collect();
        x.extend(std::iter::repeat_n(0.0, 4800));
        x.extend((0..48_000).map(|i| {
            let v = 0.9 * (2.0 * std::f64::consts::PI * 997.0 * i as f64 / 48_000.0).sin();
            (v / q).round() * q
        }));
        assert!(run(&x, Some(16)).is_empty());
    }
}
