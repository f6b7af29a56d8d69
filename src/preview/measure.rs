//! What the codec preview measures of one decoded stream, against the
//! float spool of what was encoded (interleaved `f32` frames, little
//! endian, at the stream's rate).
//!
//! One decode meters the true peak (the higher of the BS.1770 4x meter,
//! libebur128's filter as everywhere in glassmaster, and the ideal
//! reconstruction of [`crate::dsp::ReconstructedPeak`]: BS.1770's filter
//! reads bright material low, and `ffmpeg -af ebur128=peak=true`, which
//! resamples to 192 kHz, reads it as the reconstruction does), the sample
//! peak, the integrated loudness, and the loudness of the difference:
//! decoded minus encoded, frame by frame. The decoders give back exactly
//! the frames that were encoded, from the first (see
//! [`crate::deliver::encode::preview`]), so frame `n` of the one is frame
//! `n` of the other: the difference is time-aligned by construction, and
//! `tests/preview.rs` checks it against numpy's cross-correlation of
//! ffmpeg's decode. A decode longer than the spool differs from silence
//! past its end.
//!
//! The clips are counted in the same pass, by the reconstruction's meter
//! ([`ReconstructedPeak::counting_clips`]): it computes a stretch that can
//! raise the peak or pass full scale, so a stream that stays under full
//! scale pays nothing for its count, and one that clips is decoded and
//! reconstructed once.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::analysis::{Meter, TruePeak};
use crate::audio::{Block, BLOCK_FRAMES};
use crate::deliver::encode::preview::decode;
use crate::deliver::DeliverError;
use crate::dsp::ReconstructedPeak;

use super::passages::Passage;
use super::PreviewCodec;

/// The figures of one decoded stream.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Measured {
    pub frames: u64,
    pub true_peak_dbtp: Option<f64>,
    pub reconstructed_peak_dbfs: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    pub clipped_on_sample: u64,
    pub clipped_inter_sample: u64,
    pub integrated_lufs: Option<f64>,
    pub artefact_lufs: Option<f64>,
}

fn meter_err(file: &Path, e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Codec {
        path: file.to_path_buf(),
        codec: "meter",
        reason: e.to_string(),
    }
}

fn io(file: &Path, e: std::io::Error) -> DeliverError {
    DeliverError::Io {
        path: file.to_path_buf(),
        source: e,
    }
}

/// Reads the spool of what was encoded, frame by frame.
pub struct SpoolFrames {
    rd: BufReader<File>,
    bytes: Vec<u8>,
}

impl SpoolFrames {
    pub fn open(path: &Path) -> Result<SpoolFrames, DeliverError> {
        let f = File::open(path).map_err(|e| io(path, e))?;
        Ok(SpoolFrames {
            rd: BufReader::with_capacity(1 << 18, f),
            bytes: Vec::with_capacity(BLOCK_FRAMES * 8),
        })
    }

    /// Goes to frame `frame` of the spool.
    pub fn seek(&mut self, frame: u64) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        self.rd.seek(SeekFrom::Start(frame * 8)).map(|_| ())
    }

    /// Up to `n` frames into `out` (cleared first); fewer at the end.
    pub fn read(&mut self, n: usize, out: &mut Block) -> std::io::Result<usize> {
        out.clear();
        self.bytes.resize(n * 8, 0);
        let got = crate::audio::read_full(&mut self.rd, &mut self.bytes)? / 8;
        for fr in self.bytes[..got * 8].chunks_exact(8) {
            out.left
                .push(f64::from(f32::from_le_bytes([fr[0], fr[1], fr[2], fr[3]])));
            out.right
                .push(f64::from(f32::from_le_bytes([fr[4], fr[5], fr[6], fr[7]])));
        }
        Ok(got)
    }
}

/// Appends `block` to a spool as interleaved `f32` frames.
pub fn spool_bytes(block: &Block, bytes: &mut Vec<u8>) {
    bytes.clear();
    for (l, r) in block.left.iter().zip(&block.right) {
        bytes.extend_from_slice(&(*l as f32).to_le_bytes());
        bytes.extend_from_slice(&(*r as f32).to_le_bytes());
    }
}

/// Which part of a passage's decode a stretch of it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Before the passage: the encoder's start; meters only warm up.
    Lead,
    /// The passage: measured.
    Passage,
    /// After it: the inter-sample points of its last frames still read
    /// these (the first [`FLUSH`] frames); the rest is the encoder's end.
    Tail,
}

/// Frames of the tail that reach back into the passage's inter-sample
/// points (the reconstruction's pending stretch and delay, and
/// libebur128's interpolator).
const FLUSH: u64 = 2 * (crate::dsp::oversample::STRETCH + crate::dsp::oversample::HIST) as u64;

/// Frames of the lead handed to the meters: all their history reaches
/// back (the reconstruction's window and pending stretch, libebur128's
/// interpolator), with room to spare. The lead's earlier frames are
/// decoded and dropped: they are the encoder's start, and metering them
/// cost a twelfth of the preview's metering for figures thrown away.
const WARM: u64 = FLUSH;

/// Decodes one passage's file, handing each stretch of its blocks to `f`
/// with its part (of the lead, only the last [`WARM`] frames); the first
/// stretch of the passage itself is announced by `Part::Passage` with
/// `first` true.
fn decode_parts(
    kind: PreviewCodec,
    file: &Path,
    p: &Passage,
    f: &mut dyn FnMut(Part, bool, &Block) -> Result<(), DeliverError>,
) -> Result<u64, DeliverError> {
    let lead = p.lead();
    let warm_from = lead.saturating_sub(WARM);
    let end = lead + p.frames();
    let stop = end + if p.ends_track() { 0 } else { FLUSH };
    let mut pos = 0u64;
    let mut seg = Block::with_capacity(BLOCK_FRAMES);
    let mut started = false;
    decode(kind, file, &mut |b: &Block| {
        let len = b.len() as u64;
        let mut at = 0u64;
        while at < len {
            let abs = pos + at;
            if abs < warm_from {
                at = (warm_from - pos).min(len);
                continue;
            }
            let (part, until) = if abs < lead {
                (Part::Lead, lead)
            } else if abs < end {
                (Part::Passage, end)
            } else {
                (Part::Tail, stop)
            };
            let upto = until.min(pos + len);
            if upto <= abs {
                break; // past what is read of the tail
            }
            seg.clear();
            let (a, z) = ((abs - pos) as usize, (upto - pos) as usize);
            seg.left.extend_from_slice(&b.left[a..z]);
            seg.right.extend_from_slice(&b.right[a..z]);
            let first = part == Part::Passage && !started;
            started |= part == Part::Passage;
            f(part, first, &seg)?;
            at = upto - pos;
        }
        pos += len;
        Ok(())
    })
}

/// Decodes each passage's file (a `kind` stream at `rate`: `files[k]` is
/// the encode of `passages[k]`) and measures the passages against the
/// spool at `reference` (the whole track, at that rate).
pub fn measure(
    kind: PreviewCodec,
    files: &[(&Path, Passage)],
    reference: &Path,
    rate: u32,
) -> Result<Measured, DeliverError> {
    let meter = |file: &Path| Meter::loudness_only(rate).map_err(|e| meter_err(file, e));
    let Some((first, _)) = files.first() else {
        return Ok(Measured::default());
    };
    let mut loud = meter(first)?;
    let mut diff_meter = meter(first)?;
    let mut enc = Block::with_capacity(BLOCK_FRAMES);
    let mut diff = Block::with_capacity(BLOCK_FRAMES);
    let (mut true_peak, mut reconstructed) = (None::<f64>, None::<f64>);
    let mut sample_peak = 0.0f64;
    let mut frames = 0u64;
    let (mut clipped_on_sample, mut clipped_inter_sample) = (0u64, 0u64);
    let higher = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for (file, p) in files {
        let mut tp = TruePeak::new(rate).map_err(|e| meter_err(file, e))?;
        let mut recon = ReconstructedPeak::counting_clips();
        let mut spool = SpoolFrames::open(reference)?;
        spool.seek(p.from).map_err(|e| io(reference, e))?;
        decode_parts(kind, file, p, &mut |part, first, b| {
            if first {
                tp.restart();
                recon.restart();
            }
            tp.add(b);
            recon.add(b);
            if part != Part::Passage {
                return Ok(());
            }
            frames += b.len() as u64;
            loud.add(b);
            for s in b.left.iter().chain(&b.right) {
                sample_peak = sample_peak.max(s.abs());
            }
            // A decoded block may be longer than a spool read.
            diff.clear();
            let mut at = 0;
            while at < b.len() {
                let want = (b.len() - at).min(BLOCK_FRAMES);
                let got = spool.read(want, &mut enc).map_err(|e| io(reference, e))?;
                for k in 0..want {
                    let (l, r) = if k < got {
                        (enc.left[k], enc.right[k])
                    } else {
                        (0.0, 0.0)
                    };
                    diff.left.push(b.left[at + k] - l);
                    diff.right.push(b.right[at + k] - r);
                }
                at += want;
            }
            diff_meter.add(&diff);
            Ok(())
        })?;
        let (r, (on, inter)) = if p.ends_track() {
            (recon.dbfs(), recon.counts_to_end())
        } else {
            (recon.dbfs_so_far(), recon.counts())
        };
        clipped_on_sample += on;
        clipped_inter_sample += inter;
        reconstructed = higher(reconstructed, r);
        true_peak = higher(true_peak, higher(tp.dbtp(), r));
    }
    Ok(Measured {
        frames,
        true_peak_dbtp: true_peak,
        reconstructed_peak_dbfs: reconstructed,
        sample_peak_dbfs: (sample_peak > 0.0).then(|| 20.0 * sample_peak.log10()),
        clipped_on_sample,
        clipped_inter_sample,
        integrated_lufs: loud.finish().0.integrated_lufs,
        artefact_lufs: diff_meter.finish().0.integrated_lufs,
    })
}
