//! Which stretches of a track the codec preview encodes.
//!
//! Encoding every master three or four times over for the stores costs
//! more than mastering it (bench/preview.sh). `report: {
//! codec_preview_passages: true }` trades certainty for time: the preview
//! then encodes *passages* of each track, not the whole. A codec's error
//! grows with the level of the music around it and with its high
//! frequencies (what a low-pass takes off and what the quantiser finds
//! hardest), and it turns into an over only where the master's own peaks
//! are near full scale. So while the master streams through the sink,
//! each half second's sample peak, RMS and RMS of the first difference (a
//! high-pass, +6 dB an octave) are kept ([`WindowStats`]); at the end the
//! windows are ranked twice, by `peak + RMS / 2` (dense and loud) and by
//! `peak + difference RMS` (bright and loud), and taken from the two
//! rankings in turn, three seconds around each, until 15 % of the track
//! (at least 12 s) is covered ([`select`]). Each passage is encoded on its
//! own with 0.15 s of the master before and after it (the
//! encoder's start and end are not measured), decoded, and measured over
//! the passage itself. A track too short for the passages to save
//! anything is previewed whole.
//!
//! What this misses: the highest decoded peak of a whole track is not
//! always in the passages (the README, "Codec preview", has the figures
//! of bench/preview.sh and tests/preview/passages.rs); the default
//! previews every track whole.

use serde::{Deserialize, Serialize};

use crate::audio::Block;

/// The length of a statistics window, in seconds.
const WINDOW_S: f64 = 0.5;
/// The windows of a passage around its highest-scoring window: 2 before,
/// the window, 3 after (3 s).
const BEFORE: usize = 2;
const AFTER: usize = 3;
/// The share of the track the passages cover, and the least they cover.
const COVERAGE: f64 = 0.15;
const MIN_COVER_S: f64 = 12.0;
/// The master encoded before and after each passage, in seconds.
const MARGIN_S: f64 = 0.15;

/// A stretch of the track (frames at the stores' rate): `encoded_from ..
/// encoded_to` is encoded, `from .. to` measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub encoded_from: u64,
    pub from: u64,
    pub to: u64,
    pub encoded_to: u64,
}

impl Passage {
    /// The whole track of `frames` frames, as one passage.
    pub fn whole(frames: u64) -> Passage {
        Passage {
            encoded_from: 0,
            from: 0,
            to: frames,
            encoded_to: frames,
        }
    }

    /// Frames encoded before the measured ones.
    pub fn lead(&self) -> u64 {
        self.from - self.encoded_from
    }

    /// Frames measured.
    pub fn frames(&self) -> u64 {
        self.to - self.from
    }

    /// Whether the track ends where the passage does (then the zeros after
    /// its end are the future of its last inter-sample points).
    pub fn ends_track(&self) -> bool {
        self.to == self.encoded_to
    }
}

/// One window's figures (both channels).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    peak: f32,
    rms: f32,
    /// RMS of the first difference.
    bright: f32,
}

/// Each window's sample peak, RMS and first difference's RMS (both
/// channels), gathered block by block.
#[derive(Debug, Clone)]
pub struct WindowStats {
    window: usize,
    fill: usize,
    peak: f64,
    squares: f64,
    diff_squares: f64,
    last: [f64; 2],
    frames: u64,
    windows: Vec<Window>,
}

impl WindowStats {
    pub fn new(rate: u32) -> WindowStats {
        WindowStats {
            window: ((f64::from(rate) * WINDOW_S) as usize).max(1),
            fill: 0,
            peak: 0.0,
            squares: 0.0,
            diff_squares: 0.0,
            last: [0.0; 2],
            frames: 0,
            windows: Vec::new(),
        }
    }

    pub fn add(&mut self, b: &Block) {
        let n = b.len();
        let mut at = 0;
        while at < n {
            let k = (self.window - self.fill).min(n - at);
            for (&l, &r) in b.left[at..at + k].iter().zip(&b.right[at..at + k]) {
                self.peak = self.peak.max(l.abs()).max(r.abs());
                self.squares += l * l + r * r;
                let (dl, dr) = (l - self.last[0], r - self.last[1]);
                self.diff_squares += dl * dl + dr * dr;
                self.last = [l, r];
            }
            self.fill += k;
            at += k;
            if self.fill == self.window {
                self.close();
            }
        }
        self.frames += n as u64;
    }

    fn close(&mut self) {
        if self.fill > 0 {
            let n = (2 * self.fill) as f64;
            self.windows.push(Window {
                peak: self.peak as f32,
                rms: (self.squares / n).sqrt() as f32,
                bright: (self.diff_squares / n).sqrt() as f32,
            });
        }
        self.fill = 0;
        self.peak = 0.0;
        self.squares = 0.0;
        self.diff_squares = 0.0;
    }

    /// The passages to encode (see the module doc); the whole track when
    /// the passages would cover most of it anyway.
    pub fn select(mut self, rate: u32) -> Vec<Passage> {
        self.close();
        if self.frames == 0 {
            return Vec::new();
        }
        select(&self.windows, self.window as u64, self.frames, rate)
    }
}

/// The passages of a track of `frames` frames whose windows of `window`
/// frames have `stats`.
fn select(stats: &[Window], window: u64, frames: u64, rate: u32) -> Vec<Passage> {
    let n = stats.len();
    let want = ((n as f64 * COVERAGE).ceil() as usize).max((MIN_COVER_S / WINDOW_S) as usize);
    // Encoded with margins, the passages would cost about as much as the
    // whole track: encode it whole.
    if want * 3 >= n * 2 {
        return vec![Passage::whole(frames)];
    }
    let ranked = |score: &dyn Fn(&Window) -> f64| {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            score(&stats[b])
                .total_cmp(&score(&stats[a]))
                .then(a.cmp(&b))
        });
        order
    };
    let dense = ranked(&|w| f64::from(w.peak) + 0.5 * f64::from(w.rms));
    let bright = ranked(&|w| f64::from(w.peak) + f64::from(w.bright));
    let mut chosen = vec![false; n];
    let mut count = 0;
    // The two rankings in turn.
    for w in dense.into_iter().zip(bright).flat_map(|(a, b)| [a, b]) {
        if count >= want {
            break;
        }
        if chosen[w] {
            continue;
        }
        for c in &mut chosen[w.saturating_sub(BEFORE)..(w + AFTER + 1).min(n)] {
            if !*c {
                *c = true;
                count += 1;
            }
        }
    }
    // Runs of chosen windows; a gap of one window is closed (its margins
    // would meet).
    for w in 1..n.saturating_sub(1) {
        if !chosen[w] && chosen[w - 1] && chosen[w + 1] {
            chosen[w] = true;
        }
    }
    let margin = (f64::from(rate) * MARGIN_S) as u64;
    let mut out = Vec::new();
    let mut w = 0;
    while w < n {
        if !chosen[w] {
            w += 1;
            continue;
        }
        let start = w;
        while w < n && chosen[w] {
            w += 1;
        }
        let from = start as u64 * window;
        let to = (w as u64 * window).min(frames);
        out.push(Passage {
            encoded_from: from.saturating_sub(margin),
            from,
            to,
            encoded_to: (to + margin).min(frames),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_of(peaks: &[f32]) -> Vec<Window> {
        peaks
            .iter()
            .map(|&p| Window {
                peak: p,
                rms: p / 4.0,
                bright: p / 40.0,
            })
            .collect()
    }

    #[test]
    fn a_short_track_is_previewed_whole() {
        // 16 s: 12 s of passages would be most of it.
        let s = stats_of(&[0.5; 32]);
        assert_eq!(
            select(&s, 22_050, 16 * 44_100, 44_100),
            [Passage::whole(16 * 44_100)]
        );
    }

    #[test]
    fn passages_cover_the_loudest_windows_with_margins() {
        // 10 minutes, quiet, with a loud second at 100 s, another at 400 s,
        // and a bright half second at 500 s.
        let mut peaks = vec![0.1f32; 1200];
        peaks[200] = 0.99;
        peaks[201] = 0.98;
        peaks[800] = 0.97;
        let mut s = stats_of(&peaks);
        s[1000].bright = 0.9;
        let frames = 1200 * 24_000;
        let p = select(&s, 24_000, frames, 48_000);
        let covered: u64 = p.iter().map(Passage::frames).sum();
        // 15 % of 1200 windows, rounded up to whole passages.
        assert!(
            (180 * 24_000..=190 * 24_000).contains(&covered),
            "{covered}"
        );
        for w in [200, 201, 800, 1000] {
            assert!(
                p.iter()
                    .any(|q| q.from <= w * 24_000 && q.to >= (w + 1) * 24_000),
                "{w}"
            );
        }
        for q in &p {
            assert!(q.encoded_from <= q.from && q.to <= q.encoded_to && q.encoded_to <= frames);
            assert!(q.lead() == 7_200 || q.encoded_from == 0);
        }
        for pair in p.windows(2) {
            assert!(pair[0].encoded_to <= pair[1].encoded_from + 24_000);
            assert!(pair[0].to < pair[1].from);
        }
    }

    #[test]
    fn window_stats_are_each_half_second_s_peak_rms_and_brightness() {
        let mut w = WindowStats::new(1000);
        let b = Block {
            left: (0..1250)
                .map(|i| if i == 700 { 0.9 } else { 0.1 })
                .collect(),
            right: vec![-0.1; 1250],
        };
        w.add(&b);
        w.close();
        assert_eq!(w.windows.len(), 3);
        assert!((w.windows[0].peak - 0.1).abs() < 1e-6);
        assert!((w.windows[1].peak - 0.9).abs() < 1e-6);
        assert!((w.windows[2].rms - 0.1).abs() < 1e-6);
        // Constant but for the step in at 0 and the 0.8 spike in and out.
        assert!(w.windows[2].bright < 1e-6);
        let spike = ((0.8f64 * 0.8 * 2.0) / 1000.0).sqrt();
        assert!((f64::from(w.windows[1].bright) - spike).abs() < 1e-6);
        assert_eq!(w.frames, 1250);
    }
}
