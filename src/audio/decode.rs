//! Decoding with symphonia: every input format glassmaster accepts comes
//! out as planar stereo `f64` [`Block`]s of at most [`BLOCK_FRAMES`] frames.
//!
//! Promises:
//! - streamed: one packet is decoded at a time; memory does not grow with
//!   the file's length;
//! - integer samples are scaled by their own full scale (16-bit by 2^15,
//!   24-bit by 2^23, 32-bit by 2^31), which is exact in `f64`, so that
//!   integer PCM in → `f64` → the same width out is bit-identical;
//! - mono plays on both channels, more than two channels is
//!   [`AudioError::TooManyChannels`];
//! - every failure is a typed [`AudioError`] naming the file; a malformed
//!   stream never panics through this module (symphonia's calls are run
//!   under `catch_unwind`, since they parse untrusted bytes);
//! - a lossless file that ends before the frame count its header promised
//!   is [`AudioError::Corrupt`], never silently short;
//! - only a regular file is opened ([`crate::fsio::open_regular`]): a FIFO
//!   or a device is refused by name before anything is read;
//! - a float or lossy stream holding a NaN or an infinite sample is
//!   [`AudioError::NotFinite`], naming the first such sample's time and
//!   channel (integer PCM cannot hold one).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use symphonia::core::audio::conv::FromSample;
use symphonia::core::audio::sample::Sample;
use symphonia::core::audio::{Audio, AudioBuffer, GenericAudioBufferRef};
use symphonia::core::codecs::audio::well_known::*;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{AudioError, AudioInfo, Block, BLOCK_FRAMES};

/// A file opened for streamed decoding.
pub struct Decoder {
    path: PathBuf,
    info: AudioInfo,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Samples of the last decoded packet not yet handed out.
    pending: Block,
    pending_pos: usize,
    /// Frames handed out so far.
    frames_out: u64,
    /// Whether the header's frame count is exact (lossless codecs) and so
    /// a shortfall means truncation.
    exact_length: bool,
    /// Whether samples can be NaN or infinite (float PCM, lossy codecs)
    /// and so are checked.
    check_finite: bool,
    done: bool,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("frames_out", &self.frames_out)
            .finish_non_exhaustive()
    }
}

/// Reads only the header of `path` (no audio is decoded).
pub fn probe(path: &Path) -> Result<AudioInfo, AudioError> {
    let (format, _track_id, info) = open_format(path)?;
    drop(format);
    Ok(info)
}

/// Decodes a whole file into one block. For tests and short files only:
/// memory grows with the file's length.
pub fn read_all(path: &Path) -> Result<(AudioInfo, Block), AudioError> {
    let mut dec = Decoder::open(path)?;
    let mut all = Block::with_capacity(dec.info.frames.unwrap_or(0).min(1 << 24) as usize);
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    while dec.read_block(&mut block)? > 0 {
        all.left.extend_from_slice(&block.left);
        all.right.extend_from_slice(&block.right);
    }
    Ok((dec.info.clone(), all))
}

impl Decoder {
    /// Opens `path`, reads its header and readies the codec.
    pub fn open(path: &Path) -> Result<Decoder, AudioError> {
        let (format, track_id, info) = open_format(path)?;
        let params = format
            .tracks()
            .iter()
            .find(|t| t.id == track_id)
            .and_then(|t| t.codec_params.as_ref())
            .and_then(|p| p.audio())
            .cloned()
            .ok_or_else(|| unsupported(path, "no audio codec parameters"))?;
        let made = guard(|| {
            symphonia::default::get_codecs()
                .make_audio_decoder(&params, &AudioDecoderOptions::default())
        });
        let decoder = match made {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Err(map_error(path, e, "cannot start the decoder")),
            None => return Err(corrupt(path, "the decoder failed on the stream header")),
        };
        let exact_length = matches!(info.codec.as_str(), "pcm" | "flac" | "alac");
        let check_finite = info.float || info.bit_depth.is_none();
        Ok(Decoder {
            path: path.to_path_buf(),
            info,
            format,
            decoder,
            track_id,
            pending: Block::with_capacity(BLOCK_FRAMES),
            pending_pos: 0,
            frames_out: 0,
            exact_length,
            check_finite,
            done: false,
        })
    }

    /// What the file is, as its header says.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The file being decoded.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames handed out so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_out
    }

    /// Clears `out` and fills it with up to [`BLOCK_FRAMES`] frames. Returns
    /// the number of frames, 0 at the end of the stream.
    pub fn read_block(&mut self, out: &mut Block) -> Result<usize, AudioError> {
        out.clear();
        while out.len() < BLOCK_FRAMES {
            let avail = self.pending.len() - self.pending_pos;
            if avail > 0 {
                let n = avail.min(BLOCK_FRAMES - out.len());
                let range = self.pending_pos..self.pending_pos + n;
                out.left
                    .extend_from_slice(&self.pending.left[range.clone()]);
                out.right.extend_from_slice(&self.pending.right[range]);
                self.pending_pos += n;
                continue;
            }
            if self.done {
                break;
            }
            if let Some(cut) = self.decode_packet()? {
                self.done = true;
                self.check_length(self.frames_out + out.len() as u64, cut)?;
                break;
            }
        }
        if self.check_finite {
            self.check_samples(out)?;
        }
        self.frames_out += out.len() as u64;
        Ok(out.len())
    }

    /// Refuses a block (about to be handed out) that holds a NaN or an
    /// infinite sample, naming the first one.
    fn check_samples(&mut self, block: &Block) -> Result<(), AudioError> {
        let bad = |c: &[f64]| c.iter().position(|s| !s.is_finite());
        let (l, r) = (bad(&block.left), bad(&block.right));
        let (frame, channel, value) = match (l, r) {
            (None, None) => return Ok(()),
            (Some(i), Some(j)) if j < i => (j, "right", block.right[j]),
            (Some(i), _) => (i, "left", block.left[i]),
            (None, Some(j)) => (j, "right", block.right[j]),
        };
        self.done = true;
        let frame = self.frames_out + frame as u64;
        Err(AudioError::NotFinite {
            path: self.path.clone(),
            value: if value.is_nan() {
                "NaN"
            } else if value > 0.0 {
                "+infinity"
            } else {
                "-infinity"
            },
            time: clock(frame, self.info.sample_rate),
            channel: if self.info.channels == 1 {
                "mono"
            } else {
                channel
            },
            frame,
        })
    }

    /// Decodes the next packet of our track into `pending`. Returns
    /// `Some(cut)` at the end of the stream, where `cut` says why it ended
    /// early if the container was cut mid-packet.
    fn decode_packet(&mut self) -> Result<Option<Option<&'static str>>, AudioError> {
        loop {
            let next = guard(|| self.format.next_packet());
            let packet = match next {
                None => return Err(self.fail("the container reader failed (malformed data)")),
                Some(Ok(Some(p))) => p,
                Some(Ok(None)) => return Ok(Some(None)),
                Some(Err(SymError::IoError(e)))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(Some(Some("the file ends in the middle of a packet")));
                }
                Some(Err(SymError::ResetRequired)) => {
                    self.done = true;
                    return Err(unsupported(
                        &self.path,
                        "chained streams (the stream changes format midway)",
                    ));
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Err(map_error(&self.path, e, "reading the container"));
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let decoder = &mut self.decoder;
            let pending = &mut self.pending;
            let result = guard(|| -> Result<Result<(), usize>, SymError> {
                let buf = decoder.decode(&packet)?;
                Ok(convert(buf, pending))
            });
            self.pending_pos = 0;
            match result {
                None => return Err(self.fail("the decoder failed (malformed data)")),
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(channels))) => {
                    self.done = true;
                    return Err(AudioError::TooManyChannels {
                        path: self.path.clone(),
                        channels,
                    });
                }
                Some(Err(SymError::Unsupported(what))) => {
                    self.done = true;
                    return Err(unsupported(&self.path, what));
                }
                Some(Err(e)) => {
                    let at = self.frames_out as f64 / f64::from(self.info.sample_rate.max(1));
                    return Err(self.fail(&format!("{e} (at {at:.3} s)")));
                }
            }
            if !self.pending.is_empty() {
                return Ok(None);
            }
        }
    }

    /// At the end of the stream, `got` frames in all: a file without any
    /// is empty, a lossless file shorter than its header said is corrupt.
    fn check_length(&self, got: u64, cut: Option<&str>) -> Result<(), AudioError> {
        if got == 0 {
            return Err(AudioError::Empty {
                path: self.path.clone(),
            });
        }
        if !self.exact_length {
            return Ok(());
        }
        if let Some(promised) = self.info.frames {
            if got < promised {
                return Err(corrupt(
                    &self.path,
                    &format!(
                        "truncated: the header promises {promised} frames, only {got} could be read"
                    ),
                ));
            }
        }
        match cut {
            Some(reason) => Err(corrupt(&self.path, reason)),
            None => Ok(()),
        }
    }

    fn fail(&mut self, reason: &str) -> AudioError {
        self.done = true;
        corrupt(&self.path, reason)
    }
}

/// Copies a decoded buffer into `out` (cleared first) as stereo f64.
/// `Err(n)` when the buffer has `n` > 2 channels.
fn convert(buf: GenericAudioBufferRef<'_>, out: &mut Block) -> Result<(), usize> {
    out.clear();
    match buf {
        GenericAudioBufferRef::U8(b) => copy_planes(b, out),
        GenericAudioBufferRef::U16(b) => copy_planes(b, out),
        GenericAudioBufferRef::U24(b) => copy_planes(b, out),
        GenericAudioBufferRef::U32(b) => copy_planes(b, out),
        GenericAudioBufferRef::S8(b) => copy_planes(b, out),
        GenericAudioBufferRef::S16(b) => copy_planes(b, out),
        GenericAudioBufferRef::S24(b) => copy_planes(b, out),
        GenericAudioBufferRef::S32(b) => copy_planes(b, out),
        GenericAudioBufferRef::F32(b) => copy_planes(b, out),
        GenericAudioBufferRef::F64(b) => copy_planes(b, out),
    }
}

fn copy_planes<S>(buf: &AudioBuffer<S>, out: &mut Block) -> Result<(), usize>
where
    S: Sample,
    f64: FromSample<S>,
{
    let frames = buf.frames();
    let planes = buf.spec().channels().count();
    let (l, r) = match planes {
        1 => {
            let p = buf.plane(0).unwrap_or(&[]);
            (p, p)
        }
        2 => buf.plane_pair(0, 1).unwrap_or((&[], &[])),
        0 => return Ok(()),
        n => return Err(n),
    };
    let (l, r) = (&l[..frames.min(l.len())], &r[..frames.min(r.len())]);
    out.left.extend(l.iter().map(|&s| f64::from_sample(s)));
    out.right.extend(r.iter().map(|&s| f64::from_sample(s)));
    Ok(())
}

/// Runs a call into symphonia, turning a panic into `None`.
fn guard<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// Opens the container and picks its audio track; fills `AudioInfo`.
fn open_format(path: &Path) -> Result<(Box<dyn FormatReader>, u32, AudioInfo), AudioError> {
    let file = crate::fsio::open_regular(path).map_err(|source| AudioError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = guard(|| {
        symphonia::default::get_probe().probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
    });
    let format = match probed {
        None => return Err(corrupt(path, "the container reader failed on the header")),
        Some(Ok(f)) => f,
        Some(Err(SymError::IoError(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(corrupt(path, "the file ends inside its header"))
        }
        Some(Err(SymError::Unsupported(_))) => {
            return Err(unsupported(
                path,
                "no known audio format: WAV, AIFF, FLAC, ALAC, Ogg Vorbis or MP3",
            ))
        }
        Some(Err(e)) => return Err(map_error(path, e, "no known audio format")),
    };
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unsupported(path, "no audio track"))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unsupported(path, "no audio codec parameters"))?;
    let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
    if channels > 2 {
        return Err(AudioError::TooManyChannels {
            path: path.to_path_buf(),
            channels,
        });
    }
    let sample_rate = params
        .sample_rate
        .ok_or_else(|| unsupported(path, "no sample rate in the header"))?;
    if sample_rate == 0 {
        return Err(corrupt(path, "the header gives a sample rate of 0 Hz"));
    }
    let (codec, lossy, float) = codec_name(params.codec);
    let bit_depth = if lossy {
        None
    } else if float {
        Some(if is_f64(params.codec) { 64 } else { 32 })
    } else {
        params.bits_per_sample.map(|b| b as u16).or_else(|| {
            // MP4 leaves ALAC's width to the codec's own header.
            (params.codec == CODEC_ID_ALAC)
                .then(|| params.extra_data.as_deref().and_then(alac_bit_depth))
                .flatten()
        })
    };
    let frames = track.num_frames;
    let info = AudioInfo {
        sample_rate,
        // Unknown channel layout: assume stereo until the decoder says.
        channels: if channels == 0 { 2 } else { channels as u16 },
        bit_depth,
        float,
        frames,
        codec: codec.to_string(),
    };
    // Only PCM headers state their length for sure; a lossless stream's
    // 0 may mean "unknown", and the end of the stream tells anyway.
    if frames == Some(0) && codec == "pcm" {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok((format, track_id, info))
}

/// The bit depth in an ALAC magic cookie (ALACSpecificConfig: frame
/// length u32, compatible version u8, bit depth u8, ...), which may follow
/// `frma` and `alac` atom headers.
fn alac_bit_depth(mut cookie: &[u8]) -> Option<u16> {
    for atom in [b"frma", b"alac"] {
        if cookie.len() >= 12 && &cookie[4..8] == atom {
            cookie = &cookie[12..];
        }
    }
    let depth = *cookie.get(5)?;
    (cookie.len() >= 24 && (1..=32).contains(&depth)).then_some(u16::from(depth))
}

fn is_f64(c: AudioCodecId) -> bool {
    [
        CODEC_ID_PCM_F64LE,
        CODEC_ID_PCM_F64BE,
        CODEC_ID_PCM_F64LE_PLANAR,
        CODEC_ID_PCM_F64BE_PLANAR,
    ]
    .contains(&c)
}

/// Short name, whether the codec is lossy, whether it is float PCM.
fn codec_name(c: AudioCodecId) -> (&'static str, bool, bool) {
    let float = [
        CODEC_ID_PCM_F32LE,
        CODEC_ID_PCM_F32BE,
        CODEC_ID_PCM_F32LE_PLANAR,
        CODEC_ID_PCM_F32BE_PLANAR,
    ]
    .contains(&c)
        || is_f64(c);
    match c {
        CODEC_ID_FLAC => ("flac", false, false),
        CODEC_ID_ALAC => ("alac", false, false),
        CODEC_ID_VORBIS => ("vorbis", true, false),
        CODEC_ID_OPUS => ("opus", true, false),
        CODEC_ID_MP1 => ("mp1", true, false),
        CODEC_ID_MP2 => ("mp2", true, false),
        CODEC_ID_MP3 => ("mp3", true, false),
        CODEC_ID_AAC => ("aac", true, false),
        _ if float => ("pcm", false, true),
        _ if is_pcm(c) => ("pcm", false, false),
        _ => ("other", true, false),
    }
}

fn is_pcm(c: AudioCodecId) -> bool {
    [
        CODEC_ID_PCM_S16LE,
        CODEC_ID_PCM_S16BE,
        CODEC_ID_PCM_S24LE,
        CODEC_ID_PCM_S24BE,
        CODEC_ID_PCM_S32LE,
        CODEC_ID_PCM_S32BE,
        CODEC_ID_PCM_S8,
        CODEC_ID_PCM_U8,
        CODEC_ID_PCM_U16LE,
        CODEC_ID_PCM_U16BE,
        CODEC_ID_PCM_U24LE,
        CODEC_ID_PCM_U24BE,
        CODEC_ID_PCM_U32LE,
        CODEC_ID_PCM_U32BE,
    ]
    .contains(&c)
}

/// `frame` at `rate` as mm:ss.sss (minutes past 59 keep counting).
pub fn clock(frame: u64, rate: u32) -> String {
    let ms = (u128::from(frame) * 1000 / u128::from(rate.max(1))) as u64;
    format!("{:02}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

fn unsupported(path: &Path, reason: &str) -> AudioError {
    AudioError::Unsupported {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn corrupt(path: &Path, reason: &str) -> AudioError {
    AudioError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Maps a symphonia error to ours; `what` says what was being done.
fn map_error(path: &Path, e: SymError, what: &str) -> AudioError {
    match e {
        SymError::Unsupported(feature) => unsupported(path, &format!("{what}: {feature}")),
        SymError::IoError(io) => corrupt(path, &format!("{what}: {io}")),
        other => corrupt(path, &format!("{what}: {other}")),
    }
}
