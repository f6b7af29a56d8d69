//! The per-track encoder of a bundle: float master blocks in, one WAV,
//! FLAC, MP3, Ogg Vorbis, Opus or AAC (`.m4a`) file out.
//!
//! [`TrackEncoder::create`] takes the bundle, the master's rate, the output
//! path and a dither seed; [`TrackEncoder::write_block`] takes the master's
//! blocks as the mastering engine makes them; [`TrackEncoder::finish`]
//! closes the file and returns what was written ([`Encoded`]).
//!
//! On the way: the resampler ([`crate::dsp::Resampler`]) when the bundle's
//! rate differs from the master's, and for a PCM file then a limiter at the
//! new rate with the bundle's ceiling (resampling can raise the true peak,
//! as on the CD path); then for PCM formats the quantiser
//! ([`crate::dsp::Dither`]: TPDF to 16 bit, seeded per track, rounding to
//! 24 bit unless the bundle asks for dither).
//!
//! - WAV: plain PCM through [`crate::audio::WavWriter`] (format tag 1).
//! - FLAC: glassmaster's own frame encoder ([`flac`]: what `flac -5`
//!   does, but the stereo decorrelation picked from an estimate instead of
//!   coding all four channels), frame by frame. The sink keeps one batch of
//!   [`FLAC_BATCH`] frames of 4096 samples (about 2 MB of 32-bit samples)
//!   and encodes a batch's frames in parallel (rayon), writing them in
//!   order; the STREAMINFO block (block sizes, frame sizes, total samples,
//!   MD5 of the samples) is written first as a placeholder and patched at
//!   the end. Memory does not grow with the track. The minimum block size
//!   is the block size: the FLAC format excludes the short last block from
//!   it.
//! - MP3: LAME (mp3lame-encoder), CBR at the bundle's bit rate, joint
//!   stereo, quality 3 (LAME's default, as `lame -b 320`), with a LAME/Info
//!   tag written over the frame LAME reserves at the start: encoder delay
//!   (576) and padding, so that gapless decoders (ffmpeg, mpg123,
//!   symphonia) give back exactly the master's samples. The end is
//!   `lame_encode_flush`, which pads LAME's buffered samples with silence
//!   to whole frames and records that padding; `lame_encode_flush_nogap`
//!   (for chaining streams) would drop the last ~2000 samples. One more
//!   frame of silence is counted in the padding (`mp3::TAIL_FRAME`), so
//!   that decoders that drop a file's last frame (libmad in sox) lose
//!   nothing of the master. The MP3 sink is in `mp3`. The resampled
//!   float signal is spooled to a temporary 32-bit float file beside the
//!   output, and its true peak metered ([`crate::analysis::TruePeak`]). At
//!   [`TrackEncoder::finish`] the spool is encoded, with the input's excess
//!   over the bundle's ceiling plus [`PREDICTED_OVERSHOOT_DB`] (what LAME
//!   typically adds) taken off the gain, or at 0 dB when the input is that
//!   far under it. The MP3 is then decoded again (symphonia) and its true
//!   peak metered; when it passes the ceiling the spool is encoded again
//!   with the excess (plus 0.05 dB, doubled at each further try) taken off
//!   the gain, up to [`MAX_REENCODES`] times. The spool is removed
//!   afterwards. One encode per file instead of two on loud masters: what
//!   lets the bundle beat `lame -b 320` run file by file on two cores.
//!
//! Every file is written under a temporary name (`NAME.part.EXT`) and
//! renamed into place when whole; an encoder dropped before `finish`
//! removes its partial files.

use std::path::{Path, PathBuf};

use super::profile::ResolvedBundle;
use super::DeliverError;
use crate::audio::{Block, WavFormat, WavWriter, BLOCK_FRAMES};
use crate::dsp::{self, Chain, Dither, DitherKind, LimiterParams, Resampler};
use crate::manifest::model::{AudioFormat, Dither as DitherChoice};

mod aac;
mod flac;
mod flacsink;
mod lossy;
mod mp3;
mod mp4;
mod mp4read;
mod ogg;
mod opus;
pub mod preview;

pub use aac::{
    decode_file as decode_aac, AAC_KBPS, AAC_PREDICTED_OVERSHOOT_DB, AAC_PRIMING, AAC_RATES,
};
use flacsink::FlacSink;
use lossy::{LossyCodec, LossySink};
pub use lossy::{LossyOutcome, MAX_REENCODES, REENCODE_MARGIN_DB};
pub use mp3::PREDICTED_OVERSHOOT_DB;
pub use ogg::{VORBIS_KBPS, VORBIS_PREDICTED_OVERSHOOT_DB};
pub use opus::{decode_file as decode_opus, OPUS_KBPS, OPUS_PREDICTED_OVERSHOOT_DB, OPUS_RATE};

/// The sample rate of the AAC track of an MP4 file (its `mdhd` timescale).
pub fn mp4_sample_rate(path: &Path) -> Result<u32, String> {
    mp4read::read_track(path).map(|t| t.sample_rate)
}

/// The average bit rate of the AAC track of an MP4 file, kbps: its frames'
/// bytes over the media's duration.
pub fn mp4_bitrate_kbps(path: &Path) -> Result<f64, String> {
    let t = mp4read::read_track(path)?;
    let bytes: u64 = t.units.iter().map(|&(_, n)| u64::from(n)).sum();
    let secs = t.units.len() as f64 * aac::AAC_FRAME as f64 / f64::from(t.sample_rate.max(1));
    if secs <= 0.0 {
        return Err("no frames".into());
    }
    Ok(bytes as f64 * 8.0 / secs / 1000.0)
}

/// FLAC block size (samples per channel in a frame), as `flac -5`.
pub const FLAC_BLOCK: usize = 4096;
/// FLAC frames encoded together (in parallel) before they are written.
pub const FLAC_BATCH: usize = 64;

/// What [`TrackEncoder::finish`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub path: PathBuf,
    pub format: AudioFormat,
    pub sample_rate: u32,
    /// Bits per sample of PCM formats; `None` for MP3.
    pub bit_depth: Option<u16>,
    /// Frames (per channel) in the file; for MP3 the frames given to LAME.
    pub frames: u64,
    /// Samples clipped when quantising (PCM formats).
    pub clipped: u64,
    /// Gain applied before a lossy encode, dB: 0 unless the input's true
    /// peak came within [`PREDICTED_OVERSHOOT_DB`] of the ceiling or the
    /// decoded file passed it.
    pub gain_db: f64,
    /// MP3: times the file was encoded again to meet the ceiling.
    pub reencodes: u32,
    /// MP3: true peak of the decoded file, dBTP (after any re-encode).
    pub decoded_true_peak_dbtp: Option<f64>,
    /// AAC: the file's average bit rate as written, kbps.
    pub bitrate_kbps: Option<f64>,
}

/// Encodes one track of one bundle, block by block.
pub struct TrackEncoder {
    path: PathBuf,
    format: AudioFormat,
    rate: u32,
    bits: u16,
    resampler: Option<Resampler>,
    resampled: Block,
    /// A PCM file at another rate than its master is limited again after
    /// the resampler (which can raise the true peak), as the CD path is.
    limiter: Option<Chain>,
    limited: Block,
    /// `None` only while `finish` runs.
    sink: Option<Sink>,
    frames: u64,
}

impl std::fmt::Debug for TrackEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackEncoder")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

enum Sink {
    Pcm(Box<PcmSink>),
    Lossy(Box<LossySink>),
}

struct PcmSink {
    dither: Dither,
    left: Vec<i32>,
    right: Vec<i32>,
    out: PcmOut,
}

enum PcmOut {
    Wav(WavWriter),
    Flac(Box<FlacSink>),
}

/// The temporary name a file is written under: `NAME.part.EXT`, so that the
/// extension still tells a decoder what it is.
fn part_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), e.to_string()),
        None => (name.to_string(), String::new()),
    };
    path.with_file_name(format!("{stem}.part.{ext}"))
}

fn io_err(path: &Path, e: std::io::Error) -> DeliverError {
    DeliverError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

impl TrackEncoder {
    /// Starts `path` for a master at `master_hz`. `seed` fixes the dither
    /// noise (use the track number, so that every build gives the same
    /// bytes).
    pub fn create(
        bundle: &ResolvedBundle,
        master_hz: u32,
        path: &Path,
        seed: u64,
    ) -> Result<TrackEncoder, DeliverError> {
        let rate = bundle.output_rate(master_hz);
        let resampler = if rate != master_hz {
            Some(
                Resampler::new(master_hz, rate).map_err(|e| DeliverError::Dsp {
                    path: path.to_path_buf(),
                    source: e,
                })?,
            )
        } else {
            None
        };
        let bits = bundle.bit_depth;
        let dsp = |e| DeliverError::Dsp {
            path: path.to_path_buf(),
            source: e,
        };
        let lossy = bundle.format.is_lossy();
        let sink = match bundle.format {
            AudioFormat::Mp3 | AudioFormat::Ogg | AudioFormat::Opus | AudioFormat::Aac => {
                let codec: Box<dyn LossyCodec> = match bundle.format {
                    AudioFormat::Mp3 => {
                        Box::new(mp3::Mp3Codec::new(path, rate, bundle.bitrate_kbps)?)
                    }
                    AudioFormat::Ogg => Box::new(ogg::VorbisCodec::new(
                        path,
                        rate,
                        bundle.bitrate_kbps,
                        seed,
                    )?),
                    AudioFormat::Aac => {
                        Box::new(aac::AacCodec::new(path, rate, bundle.bitrate_kbps)?)
                    }
                    _ => Box::new(opus::OpusCodec::new(
                        path,
                        rate,
                        master_hz,
                        bundle.bitrate_kbps,
                        seed,
                    )?),
                };
                Sink::Lossy(Box::new(LossySink::create(
                    codec,
                    path,
                    rate,
                    bundle.true_peak_dbtp,
                )?))
            }
            f => {
                let kind = match bundle.dither {
                    DitherChoice::None => DitherKind::None,
                    DitherChoice::Tpdf => DitherKind::Tpdf,
                    DitherChoice::Shaped => DitherKind::Shaped,
                };
                let dither = Dither::new(kind, u32::from(bits), seed).map_err(dsp)?;
                let out = if f == AudioFormat::Wav {
                    let wf = if bits == 16 {
                        WavFormat::Int16
                    } else {
                        WavFormat::Int24
                    };
                    PcmOut::Wav(WavWriter::create(path, rate, 2, wf).map_err(|e| {
                        DeliverError::Audio {
                            source: Box::new(e),
                        }
                    })?)
                } else {
                    PcmOut::Flac(Box::new(FlacSink::create(path, rate, bits)?))
                };
                Sink::Pcm(Box::new(PcmSink {
                    dither,
                    left: vec![0; BLOCK_FRAMES],
                    right: vec![0; BLOCK_FRAMES],
                    out,
                }))
            }
        };
        let limiter = match (&resampler, bundle.format) {
            (Some(_), _) if !lossy => {
                let params = LimiterParams {
                    ceiling_dbtp: bundle.true_peak_dbtp,
                    ..LimiterParams::default()
                };
                let lim = dsp::Limiter::new(rate, params).map_err(dsp)?;
                Some(Chain::new(vec![dsp::Stage::from(lim)]))
            }
            _ => None,
        };
        Ok(TrackEncoder {
            path: path.to_path_buf(),
            format: bundle.format,
            limited: limiter
                .as_ref()
                .map_or_else(Block::default, Chain::output_block),
            limiter,
            rate,
            bits,
            resampled: Block::with_capacity(
                resampler
                    .as_ref()
                    .map_or(BLOCK_FRAMES, |r| r.max_output_frames(BLOCK_FRAMES)),
            ),
            resampler,
            sink: Some(sink),
            frames: 0,
        })
    }

    /// The rate the file is written at.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Takes the next block of the master (planar stereo, full scale 1.0).
    pub fn write_block(&mut self, block: &Block) -> Result<(), DeliverError> {
        if let Some(r) = self.resampler.as_mut() {
            let mut out = std::mem::take(&mut self.resampled);
            r.process(block, &mut out).map_err(|e| DeliverError::Dsp {
                path: self.path.clone(),
                source: e,
            })?;
            let res = self.limit_and_sink(&out, false);
            self.resampled = out;
            res
        } else {
            self.sink_block(block)
        }
    }

    /// A resampled block through the limiter (when there is one) to the
    /// sink; `last` also drains the limiter's lookahead.
    fn limit_and_sink(&mut self, block: &Block, last: bool) -> Result<(), DeliverError> {
        let Some(mut lim) = self.limiter.take() else {
            return self.sink_block(block);
        };
        let mut out = std::mem::take(&mut self.limited);
        lim.process(block, &mut out);
        let mut res = self.sink_block(&out);
        if last && res.is_ok() {
            lim.finish(&mut out);
            res = self.sink_block(&out);
        }
        self.limited = out;
        self.limiter = Some(lim);
        res
    }

    fn sink_block(&mut self, block: &Block) -> Result<(), DeliverError> {
        self.frames += block.len() as u64;
        match self.sink.as_mut().expect("sink present until finish") {
            Sink::Pcm(p) => {
                let PcmSink {
                    dither,
                    left,
                    right,
                    out,
                } = &mut **p;
                // Resampled blocks can be longer than BLOCK_FRAMES: the
                // buffers grow to the longest block once, then stay.
                let n = block.len();
                if left.len() < n {
                    left.resize(n, 0);
                    right.resize(n, 0);
                }
                dither.process_planar(block, &mut left[..n], &mut right[..n]);
                match out {
                    PcmOut::Wav(w) => w.write_i32_frames(&left[..n], &right[..n]).map_err(|e| {
                        DeliverError::Audio {
                            source: Box::new(e),
                        }
                    })?,
                    PcmOut::Flac(f) => f.write(&left[..n], &right[..n])?,
                }
                Ok(())
            }
            Sink::Lossy(m) => m.write(block),
        }
    }

    /// Flushes the resampler, closes the file and moves it into place.
    pub fn finish(mut self) -> Result<Encoded, DeliverError> {
        if let Some(mut r) = self.resampler.take() {
            let mut out = std::mem::take(&mut self.resampled);
            r.finish(&mut out).map_err(|e| DeliverError::Dsp {
                path: self.path.clone(),
                source: e,
            })?;
            self.limit_and_sink(&out, true)?;
        }
        let mut enc = Encoded {
            path: self.path.clone(),
            format: self.format,
            sample_rate: self.rate,
            bit_depth: Some(self.bits),
            frames: self.frames,
            clipped: 0,
            gain_db: 0.0,
            reencodes: 0,
            decoded_true_peak_dbtp: None,
            bitrate_kbps: None,
        };
        let sink = self.sink.take().expect("sink present until finish");
        match sink {
            Sink::Pcm(p) => match p.out {
                PcmOut::Wav(w) => {
                    enc.clipped = w.clipped();
                    w.finalize().map_err(|e| DeliverError::Audio {
                        source: Box::new(e),
                    })?;
                }
                PcmOut::Flac(f) => {
                    enc.clipped = f.clipped;
                    f.finish()?;
                }
            },
            Sink::Lossy(m) => {
                let out = m.finish()?;
                enc.bit_depth = None;
                enc.gain_db = out.gain_db;
                enc.reencodes = out.reencodes;
                enc.decoded_true_peak_dbtp = out.decoded_true_peak_dbtp;
                if self.format == AudioFormat::Aac {
                    enc.bitrate_kbps =
                        Some(
                            mp4_bitrate_kbps(&self.path).map_err(|e| DeliverError::Codec {
                                path: self.path.clone(),
                                codec: "MP4 reader",
                                reason: e,
                            })?,
                        );
                }
            }
        }
        Ok(enc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A noisy two-tone test signal at `bits`, with stretches that
    /// exercise every subframe kind: silence (constant), a DC step, full
    /// scale square waves in opposite phase (25-bit side channel), low
    /// bits cleared (wasted bits) and white noise (verbatim).
    fn signal(bits: u16, frames: usize) -> (Vec<i32>, Vec<i32>) {
        let full = (1i64 << (bits - 1)) as f64;
        let (max, min) = ((1i32 << (bits - 1)) - 1, -(1i32 << (bits - 1)));
        let mut seed = 12345u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5
        };
        let mut l = Vec::with_capacity(frames);
        let mut r = Vec::with_capacity(frames);
        for i in 0..frames {
            let t = i as f64 / 48_000.0;
            let section = (i / 5000) % 6;
            let (a, b) = match section {
                0 => {
                    let s = 0.5 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                        + 0.2 * (2.0 * std::f64::consts::PI * 3100.0 * t).sin();
                    (
                        (s + 0.01 * noise()) * full,
                        (0.8 * s + 0.01 * noise()) * full,
                    )
                }
                1 => (0.0, 0.0),
                2 => (1234.0, -77.0),
                3 => {
                    let hi = (i / 7) % 2 == 0;
                    if hi {
                        (f64::from(max), f64::from(min))
                    } else {
                        (f64::from(min), f64::from(max))
                    }
                }
                4 => {
                    let s = 0.7 * (2.0 * std::f64::consts::PI * 97.0 * t).sin();
                    let v = ((s * full) as i32) & !0xFF;
                    (f64::from(v), f64::from(-v))
                }
                _ => (noise() * 2.0 * full, noise() * 2.0 * full),
            };
            l.push((a as i32).clamp(min, max));
            r.push((b as i32).clamp(min, max));
        }
        (l, r)
    }

    fn round_trip(bits: u16, rate: u32, frames: usize, chunk: usize) {
        let dir = std::env::temp_dir().join(format!("gm-flac-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("rt-{bits}-{rate}-{frames}-{chunk}.flac"));
        let (l, r) = signal(bits, frames);
        let mut sink = FlacSink::create(&path, rate, bits).unwrap();
        for (a, b) in l.chunks(chunk).zip(r.chunks(chunk)) {
            sink.write(a, b).unwrap();
        }
        sink.finish().unwrap();
        let (info, block) = crate::audio::read_all(&path).unwrap();
        assert_eq!(info.sample_rate, rate);
        assert_eq!(info.bit_depth, Some(bits));
        assert_eq!(block.len(), frames);
        let scale = (1i64 << (bits - 1)) as f64;
        for (i, (&a, &b)) in block.left.iter().zip(&block.right).enumerate() {
            assert_eq!((a * scale) as i32, l[i], "left {i} of {bits}-bit");
            assert_eq!((b * scale) as i32, r[i], "right {i} of {bits}-bit");
        }
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn flac_round_trips_exactly_at_16_and_24_bit() {
        round_trip(24, 48_000, 31_000, 1000);
        round_trip(16, 44_100, 31_000, 4096);
        round_trip(24, 96_000, 4096 * 3, 777);
        round_trip(16, 22_050, 1, 1);
        round_trip(24, 48_000, 4096 * FLAC_BATCH + 17, 10_000);
        round_trip(24, 44_100, 4096 + 3, 4096 + 3);
        round_trip(16, 48_000, 100, 7);
    }
}
