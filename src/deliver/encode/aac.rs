//! The AAC-LC codec of [`super::TrackEncoder`] (`format: aac`, `.m4a`):
//! `rusty_aac` (pure Rust, Apache-2.0) at a constant bit rate, in an MP4
//! written by [`super::mp4`]. The spool and the ceiling are
//! [`super::lossy`]'s; the decoded true peak is read back through
//! [`decode_file`] (glassmaster's own MP4 reader and rusty_aac's decoder,
//! trimmed by the edit list), the higher of the BS.1770 meter and the ideal
//! reconstruction, as for Vorbis and Opus.
//!
//! rusty_aac 2.0 encodes only what it has buffered, at `finish`, so a
//! track is encoded in segments of [`SEGMENT`] frames, each one a fresh
//! encoder fed the segment's blocks plus [`CONTEXT`] blocks before (the
//! MDCT's overlap and the transient detector's memory) and [`LOOKAHEAD`]
//! after (the window sequence of a frame looks two frames ahead). Its
//! frames are independent functions of those samples (no bit reservoir),
//! so the frames of consecutive segments can be joined; each segment
//! starts [`OVERLAP`] frames before the previous one ends, and the join is
//! placed inside that overlap where both encodes chose the same windows
//! and the windows on either side fit (a long window never meets a short
//! one: the decoder's overlap-add needs matching halves). Memory is one
//! segment (about 12 s), whatever the track's length.
//!
//! Delay: frame `f` codes blocks `f - 1` and `f`, so the decoder's output
//! runs [`AAC_PRIMING`] (1024) samples late; the encoder ends with one
//! flush frame. The MP4 edit list and `iTunSMPB` carry both, so the file
//! plays exactly the master's length.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusty_aac::{AacEncoder, AacEncoderConfig};

use super::io_err;
use super::lossy::{LossyCodec, LossyPass, PeakMeter};
use super::mp4::{Mp4Writer, TrackInfo};
use crate::deliver::DeliverError;

/// Bit rates (kbps) an AAC bundle may ask for (stereo AAC-LC; the iTunes
/// Store's and Apple Music's files are 256).
pub const AAC_KBPS: std::ops::RangeInclusive<u32> = 64..=320;
/// Sampling rates glassmaster delivers AAC-LC at (AAC-LC's own list stops
/// at 96 kHz; 176.4 and 192 kHz do not exist for it).
pub const AAC_RATES: [u32; 4] = [44_100, 48_000, 88_200, 96_000];
/// Samples of decoder delay (one frame).
pub const AAC_PRIMING: u32 = 1024;
/// Samples per AAC-LC frame.
pub const AAC_FRAME: usize = 1024;
/// Taken off the first encode beyond the input's own excess, dB. rusty_aac
/// at 256 kbps added 0.5 to 1.2 dB to the true peak of real-music clips
/// limited to -1.2 dBTP (its noise sits about 20 dB under the signal in
/// every band; README, "AAC bundles"); 0.6 lets the milder ones through
/// in one encode without leaving the others much quieter than needed.
pub const AAC_PREDICTED_OVERSHOOT_DB: f64 = 0.6;

/// Frames a segment hands out.
pub const SEGMENT: usize = 512;
/// Frames of the previous segment encoded again by the next one.
pub const OVERLAP: usize = 8;
/// Blocks fed before a segment's first frame.
pub const CONTEXT: usize = 8;
/// Blocks fed after a segment's last frame.
pub const LOOKAHEAD: usize = 4;

fn err(path: &Path, e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Codec {
        path: path.to_path_buf(),
        codec: "AAC encoder",
        reason: e.to_string(),
    }
}

pub(super) struct AacCodec {
    rate: u32,
    kbps: u32,
}

impl AacCodec {
    pub(super) fn new(path: &Path, rate: u32, kbps: u32) -> Result<AacCodec, DeliverError> {
        if !AAC_KBPS.contains(&kbps) {
            return Err(err(
                path,
                format!(
                    "{kbps} kbps is not an AAC rate glassmaster encodes ({}-{} kbps)",
                    AAC_KBPS.start(),
                    AAC_KBPS.end()
                ),
            ));
        }
        if !AAC_RATES.contains(&rate) {
            return Err(err(path, format!("AAC-LC is not delivered at {rate} Hz")));
        }
        Ok(AacCodec { rate, kbps })
    }
}

impl LossyCodec for AacCodec {
    fn predicted_overshoot_db(&self) -> f64 {
        AAC_PREDICTED_OVERSHOOT_DB
    }

    fn start(&self, path: &Path, part: &Path) -> Result<Box<dyn LossyPass>, DeliverError> {
        let file = File::create(part).map_err(|e| io_err(path, e))?;
        Ok(Box::new(AacPass {
            path: path.to_path_buf(),
            seg: Segmenter::new(self.rate, self.kbps),
            mux: Mp4Writer::new(file).map_err(|e| io_err(path, e))?,
            frames: 0,
            rate: self.rate,
        }))
    }

    fn decoded_true_peak(&self, path: &Path, part: &Path) -> Result<Option<f64>, DeliverError> {
        let mut meter = PeakMeter::new(path, self.rate, true)?;
        decode_file(part, |b| meter.add(b)).map_err(|e| err(path, format!("decoding: {e}")))?;
        Ok(meter.dbtp())
    }
}

struct AacPass {
    path: PathBuf,
    seg: Segmenter,
    mux: Mp4Writer,
    frames: u64,
    rate: u32,
}

impl LossyPass for AacPass {
    fn encode(&mut self, left: &[f32], right: &[f32]) -> Result<(), DeliverError> {
        self.frames += left.len() as u64;
        let AacPass { path, seg, mux, .. } = self;
        seg.push(left, right, &mut |u| mux.unit(u))
            .map_err(|e| err(path, e))
    }

    fn finish(self: Box<Self>) -> Result<(), DeliverError> {
        let AacPass {
            path,
            mut seg,
            mut mux,
            frames,
            rate,
        } = *self;
        seg.finish(&mut |u| mux.unit(u))
            .map_err(|e| err(&path, e))?;
        let info = TrackInfo {
            sample_rate: rate,
            channels: 2,
            frame_len: AAC_FRAME as u32,
            priming: AAC_PRIMING,
            frames,
            asc: rusty_aac::audio_specific_config_bytes(rate, 2),
            encoder: concat!(
                "glassmaster ",
                env!("CARGO_PKG_VERSION"),
                " (rusty_aac 2.0)"
            )
            .into(),
        };
        let units = mux.units() as u64;
        let want = frames.div_ceil(AAC_FRAME as u64) + 1;
        if frames > 0 && units != want {
            return Err(err(&path, format!("{units} frames coded, {want} expected")));
        }
        mux.finish(&info).map_err(|e| err(&path, e))
    }
}

/// One coded frame and its window sequence.
struct Unit {
    data: Vec<u8>,
    seq: u8,
}

/// The `window_sequence` of a raw data block's first element (0 only
/// long, 1 long start, 2 eight short, 3 long stop).
fn window_sequence(raw: &[u8]) -> u8 {
    let bit = |i: usize| (raw.get(i / 8).copied().unwrap_or(0) >> (7 - i % 8)) & 1;
    let bits = |from: usize, n: usize| (from..from + n).fold(0u8, |v, i| (v << 1) | bit(i));
    match bits(0, 3) {
        // CPE: tag, common_window, then ics_info (or global_gain first).
        1 if bit(7) == 1 => bits(9, 2),
        1 => bits(17, 2),
        // SCE/LFE: tag, global_gain, ics_reserved_bit.
        0 | 3 => bits(16, 2),
        _ => 0,
    }
}

/// Whether a frame of sequence `b` may follow one of sequence `a`: the
/// right half of `a`'s window and the left half of `b`'s are both long or
/// both short.
fn fits(a: u8, b: u8) -> bool {
    matches!(a, 0 | 3) == matches!(b, 0 | 1)
}

/// Cuts the track into segments, encodes each, joins their frames.
struct Segmenter {
    rate: u32,
    kbps: u32,
    left: Vec<f32>,
    right: Vec<f32>,
    /// Block index of `left[0]`.
    origin: usize,
    /// The next segment.
    k: usize,
    /// The previous segment's last [`OVERLAP`] frames, not yet written.
    pending: Vec<Unit>,
}

impl Segmenter {
    fn new(rate: u32, kbps: u32) -> Segmenter {
        Segmenter {
            rate,
            kbps,
            left: Vec::new(),
            right: Vec::new(),
            origin: 0,
            k: 0,
            pending: Vec::new(),
        }
    }

    fn push(
        &mut self,
        left: &[f32],
        right: &[f32],
        emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), String> {
        self.left.extend_from_slice(left);
        self.right.extend_from_slice(right);
        while self.left.len() >= ((self.k + 1) * SEGMENT + LOOKAHEAD - self.origin) * AAC_FRAME {
            self.segment(false, emit)?;
        }
        Ok(())
    }

    fn finish(&mut self, emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> Result<(), String> {
        self.segment(true, emit)
    }

    /// Encodes segment `k` (to the end of the input when `last`) and
    /// writes its frames up to the next overlap.
    fn segment(
        &mut self,
        last: bool,
        emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), String> {
        let k = self.k;
        let first = if k == 0 { 0 } else { k * SEGMENT - OVERLAP };
        let o = first.saturating_sub(CONTEXT);
        let from = (o - self.origin) * AAC_FRAME;
        let to = if last {
            self.left.len()
        } else {
            ((k + 1) * SEGMENT + LOOKAHEAD - self.origin) * AAC_FRAME
        };
        let mut enc = AacEncoder::new(AacEncoderConfig {
            bitrate_bps: self.kbps * 1000,
            // One step size for every band (vendor/rusty_aac/VENDORED.md):
            // 2.0.1's mask-following shape left its noise 20 dB under the
            // music in every band at 256 kbps.
            noise_shaping: 0.0,
            ..AacEncoderConfig::default()
        });
        if to > from {
            enc.push_pcm_planar(&[&self.left[from..to], &self.right[from..to]], self.rate)
                .map_err(|e| e.to_string())?;
        }
        enc.finish();
        let mut units = Vec::new();
        while let Ok(p) = enc.next_packet() {
            units.push(Unit {
                seq: window_sequence(&p.data),
                data: p.data,
            });
        }
        // units[i] is frame o + i.
        let end = if last {
            o + units.len()
        } else {
            (k + 1) * SEGMENT
        };
        if end > o + units.len() || first < o {
            return Err(format!("segment {k}: {} frames from {o}", units.len()));
        }
        let mut new: Vec<Unit> = units.drain(first - o..end - o).collect();
        let pending = std::mem::take(&mut self.pending);
        let write = |u: &Unit, emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>| {
            emit(&u.data).map_err(|e| e.to_string())
        };
        let mut skip = 0;
        if !pending.is_empty() {
            // pending[i] and new[i] are both frame first + i.
            let j = join(&pending, &new);
            for u in &pending[..j] {
                write(u, emit)?;
            }
            skip = j;
        }
        let keep = if last { 0 } else { OVERLAP.min(new.len()) };
        let tail = new.split_off(new.len() - keep);
        for u in &new[skip.min(new.len())..] {
            write(u, emit)?;
        }
        self.pending = tail;
        self.k += 1;
        if !last {
            let next_o = ((k + 1) * SEGMENT - OVERLAP).saturating_sub(CONTEXT);
            let drop = (next_o - self.origin) * AAC_FRAME;
            self.left.drain(..drop);
            self.right.drain(..drop);
            self.origin = next_o;
        }
        Ok(())
    }
}

/// Where to switch from the previous segment's frames to the next's:
/// the first index `j` (1..=len) taken from `new`, nearest the middle of
/// the overlap where the two encodes agree on the windows at `j - 1` and
/// `j` and the windows fit; failing that, where they fit.
fn join(prev: &[Unit], new: &[Unit]) -> usize {
    let n = prev.len().min(new.len());
    if n == 0 {
        return 0;
    }
    let mid = n / 2;
    let order = (0..n).map(|d| {
        let d = d as isize;
        let off = if d % 2 == 0 { d / 2 } else { -(d + 1) / 2 };
        (mid as isize + off).clamp(1, n as isize) as usize
    });
    let fit = |j: usize| j < new.len() && fits(prev[j - 1].seq, new[j].seq);
    let agree = |j: usize| {
        prev[j - 1].seq == new[j - 1].seq && (j >= prev.len() || prev[j].seq == new[j].seq)
    };
    order
        .clone()
        .find(|&j| fit(j) && agree(j))
        .or_else(|| order.clone().find(|&j| fit(j)))
        .unwrap_or(mid.max(1))
}

/// Decodes an MP4 AAC file as [`super::mp4`] writes it (one AAC track) to
/// blocks of at most [`crate::audio::BLOCK_FRAMES`], the edit list's
/// priming dropped and the end cut at its duration. Returns the frames
/// handed out and the sample rate.
pub fn decode_file(
    path: &Path,
    mut f: impl FnMut(&crate::audio::Block),
) -> Result<(u64, u32), String> {
    let track = super::mp4read::read_track(path)?;
    if !(1..=2).contains(&track.channels) {
        return Err(format!("{} channels (mono or stereo only)", track.channels));
    }
    if track.skip + track.keep.unwrap_or(0) > track.media_samples {
        return Err(format!(
            "the edit list ({} + {:?} samples) passes the media's {} samples",
            track.skip, track.keep, track.media_samples
        ));
    }
    let mut dec = rusty_aac::AacDecoder::with_config_bytes(&track.asc)
        .map_err(|e| format!("AudioSpecificConfig: {e}"))?;
    let mut skip = track.skip;
    let mut left_to_give = track.keep;
    let mut block = crate::audio::Block::with_capacity(crate::audio::BLOCK_FRAMES);
    let mut out = 0u64;
    let mut rd = super::mp4read::UnitReader::open(path, &track)?;
    while let Some(unit) = rd.next_unit()? {
        let pcm = dec
            .decode(unit, None)
            .map_err(|e| format!("frame {}: {e}", rd.index()))?;
        let ch = usize::from(pcm.channels.max(1));
        for fr in pcm.samples.chunks_exact(ch) {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if left_to_give == Some(0) {
                break;
            }
            if let Some(n) = left_to_give.as_mut() {
                *n -= 1;
            }
            block.left.push(f64::from(fr[0]));
            block.right.push(f64::from(fr[if ch > 1 { 1 } else { 0 }]));
            if block.left.len() == crate::audio::BLOCK_FRAMES {
                out += block.len() as u64;
                f(&block);
                block.left.clear();
                block.right.clear();
            }
        }
        if left_to_give == Some(0) {
            break;
        }
    }
    if !block.left.is_empty() {
        out += block.len() as u64;
        f(&block);
    }
    Ok((out, track.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_fit_only_half_to_half() {
        assert!(fits(0, 0) && fits(0, 1) && fits(3, 0) && fits(1, 2) && fits(2, 3));
        assert!(!fits(0, 2) && !fits(1, 0) && !fits(2, 0) && !fits(3, 3));
    }

    #[test]
    fn the_join_prefers_the_middle_where_both_agree() {
        let u = |s: u8| Unit {
            data: Vec::new(),
            seq: s,
        };
        let a: Vec<Unit> = [0, 0, 0, 0, 0, 0, 0, 0].map(u).into();
        let b: Vec<Unit> = [0, 0, 0, 0, 0, 0, 0, 0].map(u).into();
        assert_eq!(join(&a, &b), 4);
        // The new encode starts a short run at 4: join before it (3) or
        // after the run ends.
        let c: Vec<Unit> = [0, 0, 0, 1, 2, 3, 0, 0].map(u).into();
        let d: Vec<Unit> = [0, 0, 0, 1, 2, 3, 0, 0].map(u).into();
        let j = join(&c, &d);
        assert!(fits(c[j - 1].seq, d[j].seq));
    }
}
