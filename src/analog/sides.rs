//! Tracks laid on sides: each side's tracks in order, the first at the
//! side's start, each next one after the gap, all in frames at the side's
//! rate, so that a side's length is exactly its tracks and gaps. For a
//! cassette without `sides`, [`balanced_split`] cuts the album in two
//! where the sides' lengths differ least.

/// A track's place on its side, in frames from the side's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// Index into the album's tracks.
    pub track: usize,
    pub start: u64,
    pub frames: u64,
}

/// One side: its letter, its tracks and its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    pub name: String,
    pub rate: u32,
    pub gap_frames: u64,
    pub tracks: Vec<Placed>,
    pub frames: u64,
}

impl Side {
    /// The side's length in minutes.
    pub fn minutes(&self) -> f64 {
        self.frames as f64 / f64::from(self.rate) / 60.0
    }
}

/// How long a side may be, in minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Past this a warning (vinyl: the cut gets quieter); `None`: none.
    pub recommended: Option<f64>,
    /// Past this an error.
    pub maximum: f64,
}

/// A side's length against its [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fits,
    OverRecommended,
    OverMaximum,
}

impl Limits {
    pub fn judge(&self, minutes: f64) -> Verdict {
        if minutes > self.maximum {
            Verdict::OverMaximum
        } else if self.recommended.is_some_and(|r| minutes > r) {
            Verdict::OverRecommended
        } else {
            Verdict::Fits
        }
    }
}

/// Side letters: A, B, ... Z.
pub const MAX_SIDES: usize = 26;

/// The letter of the side at `index` (0 = A).
pub fn side_name(index: usize) -> String {
    char::from(b'A' + (index % MAX_SIDES) as u8).to_string()
}

/// Frames of a gap of `gap_s` seconds at `rate` (rounded to the nearest).
pub fn gap_frames(gap_s: f64, rate: u32) -> u64 {
    (gap_s * f64::from(rate)).round() as u64
}

/// Lays `sides` (track indices, in order) out from each track's length in
/// frames at `rate`, with `gap_frames` of silence between tracks.
pub fn lay_out(sides: &[Vec<usize>], frames: &[u64], rate: u32, gap_frames: u64) -> Vec<Side> {
    sides
        .iter()
        .enumerate()
        .map(|(i, list)| {
            let mut at = 0;
            let mut tracks = Vec::with_capacity(list.len());
            for (k, &t) in list.iter().enumerate() {
                if k > 0 {
                    at += gap_frames;
                }
                tracks.push(Placed {
                    track: t,
                    start: at,
                    frames: frames[t],
                });
                at += frames[t];
            }
            Side {
                name: side_name(i),
                rate,
                gap_frames,
                tracks,
                frames: at,
            }
        })
        .collect()
}

/// Where to cut the album in two for a cassette: side A takes tracks
/// `..k`, side B `k..`. Of every cut in the album's order the one whose
/// sides (with their gaps) differ least, the earlier on a tie; so the two
/// sides differ by at most one track and a gap.
pub fn balanced_split(frames: &[u64], gap_frames: u64) -> usize {
    let len = |part: &[u64]| -> u64 {
        part.iter().sum::<u64>() + gap_frames * (part.len().saturating_sub(1) as u64)
    };
    (1..frames.len().max(2))
        .min_by_key(|&k| {
            let k = k.min(frames.len());
            len(&frames[..k]).abs_diff(len(&frames[k..]))
        })
        .unwrap_or(1)
        .min(frames.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_tracks_and_gaps_exactly() {
        let frames = [100, 250, 30, 70];
        let sides = lay_out(&[vec![0, 1], vec![2, 3]], &frames, 48_000, 7);
        assert_eq!(sides[0].name, "A");
        assert_eq!(sides[1].name, "B");
        assert_eq!(sides[0].tracks[1].start, 107);
        assert_eq!(sides[0].frames, 357);
        assert_eq!(sides[1].frames, 107);
        assert_eq!(gap_frames(2.5, 44_100), 110_250);
    }

    #[test]
    fn the_split_balances_within_one_track() {
        let frames = [300, 200, 100, 400, 250, 50];
        let k = balanced_split(&frames, 10);
        let a: u64 = frames[..k].iter().sum::<u64>() + 10 * (k as u64 - 1);
        let b: u64 = frames[k..].iter().sum::<u64>() + 10 * (frames.len() - k - 1) as u64;
        assert!(a.abs_diff(b) <= 400 + 10, "{a} {b}");
        // Every other cut is no better.
        for j in 1..frames.len() {
            let a2: u64 = frames[..j].iter().sum::<u64>() + 10 * (j as u64 - 1);
            let b2: u64 = frames[j..].iter().sum::<u64>() + 10 * (frames.len() - j - 1) as u64;
            assert!(a.abs_diff(b) <= a2.abs_diff(b2));
        }
        assert_eq!(balanced_split(&[5], 1), 1);
    }
}
