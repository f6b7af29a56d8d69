//! Where a rendered master goes: the 24-bit master WAV, and the CD path
//! (resampled to 44.1 kHz, limited again at that rate, dithered to 16 bit).

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

    fn write_cd(&mut self, block: &Block) -> Result<(), MasterError> {
        let n = block.len();
        if n == 0 {
            return Ok(());
        }
        if let Some(m) = self.meter.as_mut() {
            m.add(block);
        }
        self.left.resize(n, 0);
        self.right.resize(n, 0);
        self.dither
            .process_planar(block, &mut self.left, &mut self.right);
        self.bytes.clear();
        for (l, r) in self.left.iter().zip(&self.right) {
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
        self.samples += n as u64;
        Ok(())
    }
}

impl Sink for CdSink {
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
