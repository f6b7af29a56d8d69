//! What every lossy format of a bundle shares: the spool, the input's
//! true peak, and the codec-aware ceiling (encode, decode what was
//! written, measure its true peak, encode again with less gain when it
//! passes the bundle's ceiling).
//!
//! A codec ([`LossyCodec`]) only knows how to start one encode of the
//! whole track into a file ([`LossyCodec::start`], a [`LossyPass`] fed
//! planar `f32` blocks with the gain already applied) and how to decode
//! that file back to its true peak ([`LossyCodec::decoded_true_peak`]).
//! [`LossySink`] does the rest, the same way for MP3, Ogg Vorbis and Ogg
//! Opus:
//!
//! - the blocks of the (resampled) master are spooled, as they come from
//!   the render, to a temporary 32-bit float file beside the output
//!   (`NAME.EXT.spool.f32`), and their true peak is metered;
//! - at [`LossySink::finish`] the spool is encoded once into
//!   `NAME.part.EXT`, with the input's excess over the ceiling plus the
//!   codec's predicted overshoot taken off the gain (0 dB when the input
//!   is that far under); the first gain needs the whole track's peak, so
//!   the encode cannot run beside the render without being thrown away
//!   whenever the master is loud, which mastered tracks are;
//! - the part file is decoded and metered; over the ceiling, the spool is
//!   encoded again with the excess (plus [`REENCODE_MARGIN_DB`], doubled
//!   at each further try) taken off, at most [`MAX_REENCODES`] times;
//! - the part file is synced and renamed into place, the spool removed.
//!   A sink dropped before that removes both.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{io_err, part_path};
use crate::analysis::TruePeak;
use crate::audio::{Block, Decoder, BLOCK_FRAMES};
use crate::deliver::DeliverError;

/// Most times a lossy file is encoded again to bring its true peak under
/// the ceiling.
pub const MAX_REENCODES: u32 = 4;
/// Taken off the gain beyond the measured excess at the first re-encode,
/// dB; doubled at each further one (a codec's peaks do not follow the gain
/// exactly, so a file that lands just over again gets a wider margin).
pub const REENCODE_MARGIN_DB: f64 = 0.05;

/// One lossy format: how to encode a whole track and decode it back.
pub(super) trait LossyCodec: Send {
    /// Taken off the gain of the first encode beyond the input's own
    /// excess over the ceiling, dB: what the codec typically adds to the
    /// true peak.
    fn predicted_overshoot_db(&self) -> f64;
    /// Starts one encode into `part` (the output is `path`, for errors).
    fn start(&self, path: &Path, part: &Path) -> Result<Box<dyn LossyPass>, DeliverError>;
    /// The true peak of the file at `part` as a player decodes it, dBTP
    /// (`None`: silence).
    fn decoded_true_peak(&self, path: &Path, part: &Path) -> Result<Option<f64>, DeliverError> {
        symphonia_true_peak(path, part, false)
    }
}

/// One encode of a whole track.
pub(super) trait LossyPass {
    /// The next samples (planar, gain applied, full scale 1.0).
    fn encode(&mut self, left: &[f32], right: &[f32]) -> Result<(), DeliverError>;
    /// Ends the stream and closes the file (not synced: it may be encoded
    /// again).
    fn finish(self: Box<Self>) -> Result<(), DeliverError>;
}

/// The decoded true peak of `part` through [`crate::audio::Decoder`]
/// (symphonia: MP3 with its LAME tag's trimming, Vorbis): the BS.1770
/// meter's, or with `reconstruct` the higher of that and the ideal
/// reconstruction's ([`PeakMeter`]).
pub(super) fn symphonia_true_peak(
    path: &Path,
    part: &Path,
    reconstruct: bool,
) -> Result<Option<f64>, DeliverError> {
    let mut dec = Decoder::open(part).map_err(|e| DeliverError::Audio {
        source: Box::new(e),
    })?;
    let mut meter = PeakMeter::new(path, dec.info().sample_rate, reconstruct)?;
    let mut b = Block::with_capacity(BLOCK_FRAMES);
    while dec.read_block(&mut b).map_err(|e| DeliverError::Audio {
        source: Box::new(e),
    })? > 0
    {
        meter.add(&b);
    }
    Ok(meter.dbtp())
}

/// The decoded peak the ceiling is held to. BS.1770's 4x meter reads low
/// on bright material (a 2.5 kHz square with noise at 44.1 kHz: -1.06
/// dBTP where 64x oversampling of the same decoded samples gives -0.78
/// and ffmpeg's ebur128 -0.70), so the Vorbis and Opus paths also run the
/// ideal reconstruction ([`crate::dsp::ReconstructedPeak`], 8x, within
/// 0.01 dB up to 0.48 fs) and take the higher; MP3 keeps the BS.1770
/// meter alone, as before (its bytes are unchanged).
pub(super) struct PeakMeter {
    tp: TruePeak,
    recon: Option<crate::dsp::ReconstructedPeak>,
}

impl PeakMeter {
    pub(super) fn new(path: &Path, rate: u32, reconstruct: bool) -> Result<Self, DeliverError> {
        Ok(PeakMeter {
            tp: TruePeak::new(rate).map_err(|e| meter_err(path, e))?,
            recon: reconstruct.then(crate::dsp::ReconstructedPeak::new),
        })
    }

    pub(super) fn add(&mut self, b: &Block) {
        self.tp.add(b);
        if let Some(r) = self.recon.as_mut() {
            r.add(b);
        }
    }

    pub(super) fn dbtp(&self) -> Option<f64> {
        let tp = self.tp.dbtp();
        match (tp, self.recon.as_ref().and_then(|r| r.dbfs())) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A true-peak meter that could not be set up (a rate it has no filter for).
pub(super) fn meter_err(path: &Path, e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Codec {
        path: path.to_path_buf(),
        codec: "true-peak meter",
        reason: e.to_string(),
    }
}

/// What [`LossySink::finish`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossyOutcome {
    /// Gain of the encode that was kept, dB.
    pub gain_db: f64,
    /// Encodes after the first.
    pub reencodes: u32,
    /// True peak of the decoded file, dBTP.
    pub decoded_true_peak_dbtp: Option<f64>,
}

/// Spools the input and meters its true peak; encodes at the end.
pub(super) struct LossySink {
    codec: Box<dyn LossyCodec>,
    path: PathBuf,
    part: PathBuf,
    spool_path: PathBuf,
    spool: Option<BufWriter<File>>,
    ceiling_dbtp: f64,
    spool_buf: Vec<u8>,
    /// True peak of the input (as given to the codec at gain 0).
    pub(super) input_peak: TruePeak,
}

impl LossySink {
    pub(super) fn create(
        codec: Box<dyn LossyCodec>,
        path: &Path,
        rate: u32,
        ceiling_dbtp: f64,
    ) -> Result<LossySink, DeliverError> {
        let input_peak = TruePeak::new(rate).map_err(|e| meter_err(path, e))?;
        let part = part_path(path);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let spool_path = path.with_file_name(format!("{name}.spool.f32"));
        let spool = File::create(&spool_path).map_err(|e| io_err(path, e))?;
        Ok(LossySink {
            codec,
            path: path.to_path_buf(),
            part,
            spool_path,
            spool: Some(BufWriter::with_capacity(1 << 18, spool)),
            ceiling_dbtp,
            spool_buf: Vec::with_capacity(BLOCK_FRAMES * 8),
            input_peak,
        })
    }

    pub(super) fn write(&mut self, block: &Block) -> Result<(), DeliverError> {
        self.input_peak.add(block);
        let n = block.left.len().min(block.right.len());
        self.spool_buf.clear();
        self.spool_buf.resize(n * 8, 0);
        for ((f, &l), &r) in self
            .spool_buf
            .chunks_exact_mut(8)
            .zip(&block.left)
            .zip(&block.right)
        {
            f[..4].copy_from_slice(&(l as f32).to_le_bytes());
            f[4..].copy_from_slice(&(r as f32).to_le_bytes());
        }
        let spool = self.spool.as_mut().expect("spool open until finish");
        spool
            .write_all(&self.spool_buf)
            .map_err(|e| io_err(&self.path, e))
    }

    /// Encodes the spool at `gain_db` into the part file.
    fn encode(&self, gain_db: f64) -> Result<(), DeliverError> {
        let mut pass = self.codec.start(&self.path, &self.part)?;
        let gain = 10f64.powf(gain_db / 20.0) as f32;
        let file = File::open(&self.spool_path).map_err(|e| io_err(&self.path, e))?;
        let mut rd = BufReader::with_capacity(1 << 18, file);
        let mut bytes = vec![0u8; BLOCK_FRAMES * 8];
        let mut left = Vec::with_capacity(BLOCK_FRAMES);
        let mut right = Vec::with_capacity(BLOCK_FRAMES);
        loop {
            let n =
                crate::audio::read_full(&mut rd, &mut bytes).map_err(|e| io_err(&self.path, e))?;
            if n < 8 {
                break;
            }
            left.clear();
            right.clear();
            for fr in bytes[..n - n % 8].chunks_exact(8) {
                let l = f32::from_le_bytes([fr[0], fr[1], fr[2], fr[3]]);
                let r = f32::from_le_bytes([fr[4], fr[5], fr[6], fr[7]]);
                left.push(l * gain);
                right.push(r * gain);
            }
            pass.encode(&left, &right)?;
        }
        pass.finish()
    }

    /// The gain of the first encode: the input's true peak brought the
    /// codec's predicted overshoot under the ceiling, 0 dB when it is
    /// already that far under.
    pub(super) fn first_gain(&self) -> f64 {
        let over = self.codec.predicted_overshoot_db();
        match self.input_peak.dbtp() {
            Some(p) if p + over > self.ceiling_dbtp => self.ceiling_dbtp - over - p,
            _ => 0.0,
        }
    }

    /// Encodes the spool, then measures and encodes again as needed.
    pub(super) fn finish(self) -> Result<LossyOutcome, DeliverError> {
        let gain = self.first_gain();
        self.finish_from(gain)
    }

    /// [`LossySink::finish`] with the first encode at `first_gain_db`.
    pub(super) fn finish_from(mut self, first_gain_db: f64) -> Result<LossyOutcome, DeliverError> {
        let spool = self.spool.take().expect("spool open until finish");
        // A temporary file: flushed for the reader, not synced.
        spool
            .into_inner()
            .map_err(|e| io_err(&self.path, e.into_error()))?;
        let mut gain = first_gain_db;
        self.encode(gain)?;
        let mut n = 0;
        let mut tp = self.codec.decoded_true_peak(&self.path, &self.part)?;
        while let Some(peak) = tp {
            if peak <= self.ceiling_dbtp || n >= MAX_REENCODES {
                break;
            }
            gain -= peak - self.ceiling_dbtp + REENCODE_MARGIN_DB * f64::from(1u32 << n);
            self.encode(gain)?;
            n += 1;
            tp = self.codec.decoded_true_peak(&self.path, &self.part)?;
        }
        if let Some(peak) = tp.filter(|p| *p > self.ceiling_dbtp) {
            return Err(DeliverError::PeakOverCeiling {
                path: self.path.clone(),
                peak_dbtp: peak,
                ceiling_dbtp: self.ceiling_dbtp,
                tries: n,
            });
        }
        File::options()
            .write(true)
            .open(&self.part)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_err(&self.path, e))?;
        std::fs::rename(&self.part, &self.path).map_err(|e| io_err(&self.path, e))?;
        let _ = std::fs::remove_file(&self.spool_path);
        Ok(LossyOutcome {
            gain_db: gain,
            reencodes: n,
            decoded_true_peak_dbtp: tp,
        })
    }
}

impl Drop for LossySink {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.spool_path);
        if self.part.exists() {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}
