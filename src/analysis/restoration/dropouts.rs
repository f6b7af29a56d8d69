//! Dropouts: digital silence (exact zeros), or a step down to near silence
//! (under -70 dBFS and more than 40 dB below the level just before and
//! just after it), of at least `min_dropout_ms`, inside the programme.
//!
//! A dropout comes back: a run of quiet samples counts only when sound
//! returns after it (so the tail is not one), and only when the channel was
//! loud just before it (so neither the head silence nor a fade to silence
//! is one). Each channel is followed on its own; a left and a right
//! dropout that overlap are reported once, as `Both`. The level before a
//! run is a 20 ms running mean square; the level after it is the mean
//! square of the 20 ms that follow. Events are kept in a list sized in
//! `new` (at most [`MAX_EVENTS`] per channel).

use super::{Channel, Detector, Dropout, Restoration};
use crate::audio::Block;

/// Events kept per channel; more are counted but not listed.
pub const MAX_EVENTS: usize = 1000;

/// Samples at or under this count as near silence (-70 dBFS).
const NEAR_SILENCE: f64 = 3.162_277_660_168_379_4e-4;
/// A near-silent run must be this far below the level around it (40 dB,
/// as a power ratio).
const STEP_POWER: f64 = 1e4;
/// Digital silence must sit in programme at least this loud (-50 dBFS
/// mean square around it), so a quiet passage of 16-bit noise that
/// happens to hold zeros is not a dropout.
const LOUD_AROUND: f64 = 1e-5;

/// One channel's state.
struct Lane {
    /// Running mean square (20 ms).
    level: f64,
    /// The current quiet run: start frame, length, Σx², all exact zeros.
    run_start: u64,
    run_len: u64,
    run_energy: f64,
    run_zeros: bool,
    /// Level before the current run.
    before: f64,
    /// A run that ended and waits for the level after it.
    pending: Option<Pending>,
    events: Vec<Dropout>,
}

#[derive(Clone, Copy)]
struct Pending {
    start: u64,
    len: u64,
    energy: f64,
    zeros: bool,
    before: f64,
    after_energy: f64,
    after_len: u64,
}

/// The dropout detector.
pub struct Dropouts {
    rate: f64,
    min_len: u64,
    after_len: u64,
    alpha: f64,
    frame: u64,
    lanes: [Lane; 2],
}

impl Dropouts {
    /// A detector for `rate` reporting runs of at least `min_ms`.
    pub fn new(rate: u32, min_ms: f64) -> Dropouts {
        let r = f64::from(rate);
        let lane = || Lane {
            level: 0.0,
            run_start: 0,
            run_len: 0,
            run_energy: 0.0,
            run_zeros: true,
            before: 0.0,
            pending: None,
            events: Vec::with_capacity(MAX_EVENTS),
        };
        Dropouts {
            rate: r,
            min_len: ((min_ms.max(0.0) * r / 1000.0).round() as u64).max(1),
            after_len: (0.02 * r).round().max(1.0) as u64,
            alpha: 1.0 / (0.02 * r).max(1.0),
            frame: 0,
            lanes: [lane(), lane()],
        }
    }

    fn lane(&mut self, ch: usize, x: &[f64]) {
        let (rate, min_len, after_len, alpha) =
            (self.rate, self.min_len, self.after_len, self.alpha);
        let lane = &mut self.lanes[ch];
        for (i, &s) in x.iter().enumerate() {
            let e = s * s;
            if let Some(p) = &mut lane.pending {
                p.after_energy += e;
                p.after_len += 1;
                if p.after_len >= after_len {
                    let p = *p;
                    lane.pending = None;
                    judge(&p, rate, &mut lane.events);
                }
            }
            if s.abs() <= NEAR_SILENCE {
                if lane.run_len == 0 {
                    lane.run_start = self.frame + i as u64;
                    lane.before = lane.level;
                    lane.run_energy = 0.0;
                    lane.run_zeros = true;
                }
                lane.run_len += 1;
                lane.run_energy += e;
                lane.run_zeros &= s == 0.0;
            } else {
                if lane.run_len >= min_len && lane.pending.is_none() {
                    lane.pending = Some(Pending {
                        start: lane.run_start,
                        len: lane.run_len,
                        energy: lane.run_energy,
                        zeros: lane.run_zeros,
                        before: lane.before,
                        after_energy: e,
                        after_len: 1,
                    });
                }
                lane.run_len = 0;
            }
            lane.level += alpha * (e - lane.level);
        }
    }
}

/// Keeps a finished run if it is a dropout.
fn judge(p: &Pending, rate: f64, events: &mut Vec<Dropout>) {
    let after = p.after_energy / p.after_len.max(1) as f64;
    let inside = p.energy / p.len.max(1) as f64;
    let around = p.before.min(after);
    let is = if p.zeros {
        around >= LOUD_AROUND
    } else {
        around >= LOUD_AROUND && around >= STEP_POWER * inside
    };
    if is && events.len() < MAX_EVENTS {
        events.push(Dropout {
            time_s: p.start as f64 / rate,
            channel: Channel::Left,
            length_ms: p.len as f64 * 1000.0 / rate,
            level_dbfs: if p.zeros {
                None
            } else {
                crate::analysis::db(inside.sqrt())
            },
        });
    }
}

impl Detector for Dropouts {
    fn add(&mut self, block: &Block) {
        let n = block.left.len().min(block.right.len());
        self.lane(0, &block.left[..n]);
        self.lane(1, &block.right[..n]);
        self.frame += n as u64;
    }

    fn finish(self: Box<Self>, out: &mut Restoration) {
        // A run still waiting for its 20 ms after is judged on what came;
        // a run still open at the end is the tail, not a dropout.
        let rate = self.rate;
        let [mut l, mut r] = self.lanes;
        for lane in [&mut l, &mut r] {
            if let Some(p) = lane.pending.take() {
                judge(&p, rate, &mut lane.events);
            }
        }
        for e in &mut r.events {
            e.channel = Channel::Right;
        }
        out.dropouts = merge(l.events, r.events);
    }
}

/// Merges the two channels' events in time order; a left and a right
/// event that overlap become one `Both` event spanning both.
fn merge(l: Vec<Dropout>, r: Vec<Dropout>) -> Vec<Dropout> {
    let end = |d: &Dropout| d.time_s + d.length_ms / 1000.0;
    let mut out = Vec::with_capacity(l.len() + r.len());
    let (mut i, mut j) = (0, 0);
    while i < l.len() || j < r.len() {
        match (l.get(i), r.get(j)) {
            (Some(a), Some(b)) if a.time_s < end(b) && b.time_s < end(a) => {
                let start = a.time_s.min(b.time_s);
                let stop = end(a).max(end(b));
                let level_dbfs = match (a.level_dbfs, b.level_dbfs) {
                    (None, None) => None,
                    (x, y) => Some(
                        x.unwrap_or(f64::NEG_INFINITY)
                            .max(y.unwrap_or(f64::NEG_INFINITY)),
                    ),
                };
                out.push(Dropout {
                    time_s: start,
                    channel: Channel::Both,
                    length_ms: (stop - start) * 1000.0,
                    level_dbfs,
                });
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) => {
                if a.time_s <= b.time_s {
                    out.push(a.clone());
                    i += 1;
                } else {
                    out.push(b.clone());
                    j += 1;
                }
            }
            (Some(a), None) => {
                out.push(a.clone());
                i += 1;
            }
            (None, Some(b)) => {
                out.push(b.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(l: &[f64], r: &[f64]) -> Vec<Dropout> {
        let mut d = Box::new(Dropouts::new(48_000, 5.0));
        for (a, b) in l.chunks(1000).zip(r.chunks(1000)) {
            d.add(&Block {
                left: a.to_vec(),
                right: b.to_vec(),
            });
        }
        let mut out = Restoration::default();
        d.finish(&mut out);
        out.dropouts
    }

    fn tone(n: usize) -> Vec<f64> {
        (0..n).map(|i| 0.3 * (i as f64 * 0.05).sin()).collect()
    }

    #[test]
    fn finds_a_stereo_gap_and_a_one_sided_step() {
        let mut l = tone(48_000);
        let mut r = tone(48_000);
        for i in 10_000..10_480 {
            l[i] = 0.0;
            r[i] = 0.0;
        }
        for x in &mut r[30_000..31_000] {
            *x *= 1e-4;
        }
        let d = run(&l, &r);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].channel, Channel::Both);
        assert!((d[0].time_s - 10_000.0 / 48_000.0).abs() < 1e-3);
        assert!((d[0].length_ms - 10.0).abs() < 0.5);
        assert_eq!(d[1].channel, Channel::Right);
        assert!(d[1].level_dbfs.unwrap() < -70.0);
    }

    #[test]
    fn head_tail_fade_and_short_gaps_are_not_dropouts() {
        let mut l = vec![0.0; 4800];
        l.extend(tone(48_000));
        // A fade to silence, then silence to the end.
        let n = l.len();
        for (k, x) in l[n - 20_000..].iter_mut().enumerate() {
            *x *= (1.0 - k as f64 / 10_000.0).max(0.0);
        }
        // A 4 ms gap: under the 5 ms minimum.
        for x in &mut l[20_000..20_192] {
            *x = 0.0;
        }
        let d = run(&l, &l.clone());
        assert!(d.is_empty(), "{d:?}");
    }
}
