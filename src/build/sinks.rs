//! Where a rendered master goes: the 24-bit master WAV, and the CD path
//! (resampled to 44.1 kHz, limited again at that rate, dithered to 16 bit).
//! A CD sink may be fed more than its track (the tail of the track before
//! and the head of the one after, in a segued run: see
//! [`super::segue`]); its [`CdWindow`] says which of its output frames are
//! the track's, and only those are metered and written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::analysis::{Measurement, Meter};
use crate::audio::{AudioError, Block, WavFormat, WavWriter, BLOCK_FRAMES};
use crate::dsp::{self, Chain, Dither, DitherKind, LimiterParams, Resampler};
use crate::master::{MasterError, Sink};

/// The seed of a track's dither noise: fixed per track and output, so
/// that builds are reproducible.
pub fn dither_seed(track: u32, output: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in output.bytes().chain(track.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn dsp_err(track: u32) -> impl Fn(dsp::DspError) -> MasterError {
    move |source| MasterError::Dsp { track, source }
}

/// The master as a 24-bit plain PCM WAV at the source rate, stereo,
/// TPDF-dithered from float.
pub struct MasterWav {
    track: u32,
    writer: Option<WavWriter>,
    dither: Dither,
    left: Vec<i32>,
    right: Vec<i32>,
}

impl MasterWav {
    pub fn create(path: &Path, track: u32, sample_rate: u32) -> Result<MasterWav, MasterError> {
        Ok(MasterWav {
            track,
            writer: Some(WavWriter::create(path, sample_rate, 2, WavFormat::Int24)?),
            dither: Dither::new(DitherKind::Tpdf, 24, dither_seed(track, "master"))
                .map_err(dsp_err(track))?,
            left: vec![0; BLOCK_FRAMES * 2],
            right: vec![0; BLOCK_FRAMES * 2],
        })
    }
}

impl Sink for MasterWav {
    fn stage(&self) -> &'static str {
        "write: 24-bit master"
    }

    fn write(&mut self, block: &Block) -> Result<(), MasterError> {
        let n = block.len();
        if self.left.len() < n {
            self.left.resize(n, 0);
            self.right.resize(n, 0);
        }
        self.dither
            .process_planar(block, &mut self.left[..n], &mut self.right[..n]);
        let w = self.writer.as_mut().ok_or_else(|| MasterError::Track {
            track: self.track,
            message: "the master was written after it was finished".into(),
        })?;
        w.write_i32_frames(&self.left[..n], &self.right[..n])?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), MasterError> {
        if let Some(w) = self.writer.take() {
            w.finalize()?;
        }
        Ok(())
    }
}

/// What the CD path made of a track.
#[derive(Debug, Clone)]
pub struct CdSegment {
    /// Raw 16-bit little-endian stereo samples of the track at 44.1 kHz.
    pub path: PathBuf,
    /// Frames (sample pairs) in it.
    pub samples: u64,
    /// The figures at 44.1 kHz before dither (the CD's own true peak).
    pub measurement: Measurement,
}

/// A slot the CD sink fills when it finishes (a render may be repeated;
/// the last one wins).
pub type CdSlot = Arc<Mutex<Option<CdSegment>>>;

/// The output frames (at 44.1 kHz) of a CD sink's stream that belong to
/// its track: the first `skip` are context (run through the resampler,
/// limiter and dither, so that their state is the continuous stream's at
/// the cut, then dropped), the next `keep` are written (`None`: all that
/// follow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CdWindow {
    pub skip: u64,
    pub keep: Option<u64>,
}

impl CdWindow {
    /// The whole stream is the track.
    pub const ALL: CdWindow = CdWindow {
        skip: 0,
        keep: None,
    };

    /// The part of `n` frames starting at output frame `pos` that is kept,
    /// as a range within them.
    fn kept(&self, pos: u64, n: usize) -> std::ops::Range<usize> {
        let end = self.keep.map_or(u64::MAX, |k| self.skip.saturating_add(k));
        let lo = self.skip.clamp(pos, pos + n as u64) - pos;
        let hi = end.clamp(pos, pos + n as u64) - pos;
        lo as usize..hi.max(lo) as usize
    }
}

/// The CD path of a track: resample to 44.1 kHz, limit again at that rate
/// (resampling can raise the true peak), meter, dither to 16 bit.
pub struct CdSink {
    track: u32,
    path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    resampler: Option<Resampler>,
    limiter: Chain,
    meter: Option<Meter>,
    dither: Dither,
    rs_out: Block,
    lim_out: Block,
    left: Vec<i32>,
    right: Vec<i32>,
    bytes: Vec<u8>,
    /// The kept frames of a block that is partly context, for the meter.
    part: Block,
    window: CdWindow,
    /// Output frames (kept or not) so far.
    pos: u64,
    /// Kept frames written so far.
    samples: u64,
    slot: CdSlot,
}

pub const CD_RATE: u32 = 44_100;

impl CdSink {
    pub fn create(
        path: &Path,
        track: u32,
        source_rate: u32,
        limiter: LimiterParams,
        dither: DitherKind,
        window: CdWindow,
        slot: CdSlot,
    ) -> Result<CdSink, MasterError> {
        let file = std::fs::File::create(path).map_err(|e| MasterError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let resampler = if source_rate == CD_RATE {
            None
        } else {
            Some(Resampler::new(source_rate, CD_RATE).map_err(dsp_err(track))?)
        };
        let limiter = Chain::new(vec![dsp::Stage::from(
            dsp::Limiter::new(CD_RATE, limiter).map_err(dsp_err(track))?,
        )]);
        Ok(CdSink {
            track,
            path: path.to_owned(),
            file: Some(std::io::BufWriter::with_capacity(1 << 18, file)),
            resampler,
            rs_out: Block::with_capacity(BLOCK_FRAMES * 2),
            lim_out: limiter.output_block(),
            limiter,
            meter: Some(
                Meter::new(CD_RATE)
                    .map_err(|e| MasterError::Track {
                        track,
                        message: e.to_string(),
                    })?
                    .with_reconstruction(),
            ),
            dither: Dither::new(dither, 16, dither_seed(track, "cd")).map_err(dsp_err(track))?,
            left: Vec::new(),
            right: Vec::new(),
            bytes: Vec::new(),
            part: Block::with_capacity(BLOCK_FRAMES),
            window,
            pos: 0,
            samples: 0,
            slot,
        })
    }

    /// Limits, meters, dithers and writes a block at 44.1 kHz.
    fn emit(&mut self, block_at_cd_rate: &Block, last: bool) -> Result<(), MasterError> {
        let mut lim = std::mem::take(&mut self.lim_out);
        self.limiter.process(block_at_cd_rate, &mut lim);
        self.write_cd(&lim)?;
        if last {
            self.limiter.finish(&mut lim);
            self.write_cd(&lim)?;
        }
        self.lim_out = lim;
        Ok(())
    }

    /// Meters and writes the kept frames of a block at 44.1 kHz; every
    /// frame goes through the dither, so that its state runs on.
    fn write_cd(&mut self, block: &Block) -> Result<(), MasterError> {
        let n = block.len();
        if n == 0 {
            return Ok(());
        }
        let kept = self.window.kept(self.pos, n);
        self.pos += n as u64;
        if kept.is_empty() {
            if self.window.skip >= self.pos {
                // Context before the track: only the dither's state matters.
                self.left.resize(n, 0);
                self.right.resize(n, 0);
                self.dither
                    .process_planar(block, &mut self.left, &mut self.right);
            }
            return Ok(());
        }
        if let Some(m) = self.meter.as_mut() {
            if kept.len() == n {
                m.add(block);
            } else {
                self.part.clear();
                self.part.left.extend_from_slice(&block.left[kept.clone()]);
                self.part
                    .right
                    .extend_from_slice(&block.right[kept.clone()]);
                m.add(&self.part);
            }
        }
        self.left.resize(n, 0);
        self.right.resize(n, 0);
        self.dither
            .process_planar(block, &mut self.left, &mut self.right);
        self.bytes.clear();
        for (l, r) in self.left[kept.clone()]
            .iter()
            .zip(&self.right[kept.clone()])
        {
            self.bytes.extend_from_slice(&(*l as i16).to_le_bytes());
            self.bytes.extend_from_slice(&(*r as i16).to_le_bytes());
        }
        let f = self.file.as_mut().ok_or_else(|| MasterError::Track {
            track: self.track,
            message: "the CD segment was written after it was finished".into(),
        })?;
        f.write_all(&self.bytes).map_err(|e| MasterError::Io {
            path: self.path.clone(),
            source: e,
        })?;
        self.samples += kept.len() as u64;
        Ok(())
    }
}

impl Sink for CdSink {
    fn stage(&self) -> &'static str {
        "CD: resample, dither"
    }

    fn write(&mut self, block: &Block) -> Result<(), MasterError> {
        match self.resampler.as_mut() {
            None => self.emit(block, false),
            Some(rs) => {
                let mut out = std::mem::take(&mut self.rs_out);
                rs.process(block, &mut out).map_err(dsp_err(self.track))?;
                let r = self.emit(&out, false);
                self.rs_out = out;
                r
            }
        }
    }

    fn finish(&mut self) -> Result<(), MasterError> {
        let mut out = std::mem::take(&mut self.rs_out);
        out.clear();
        if let Some(rs) = self.resampler.as_mut() {
            rs.finish(&mut out).map_err(dsp_err(self.track))?;
        }
        self.emit(&out, true)?;
        if let Some(keep) = self.window.keep {
            if self.samples != keep {
                return Err(MasterError::Track {
                    track: self.track,
                    message: format!(
                        "the CD path made {} of the track's {keep} samples at 44.1 kHz",
                        self.samples
                    ),
                });
            }
        }
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| MasterError::Io {
                path: self.path.clone(),
                source: e,
            })?;
        }
        let measurement = self.meter.take().map(|m| m.finish().0);
        if let Some(measurement) = measurement {
            let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
            *slot = Some(CdSegment {
                path: self.path.clone(),
                samples: self.samples,
                measurement,
            });
        }
        Ok(())
    }
}

impl From<AudioError> for crate::build::BuildError {
    fn from(e: AudioError) -> Self {
        crate::build::BuildError::Master(MasterError::Audio(e))
    }
}
