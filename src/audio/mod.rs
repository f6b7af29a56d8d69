//! Audio in and out. [`decode`] opens any input format glassmaster accepts
//! (WAV 16/24/32-bit integer and 32-bit float, AIFF, FLAC, ALAC, Ogg Vorbis,
//! MP3) with symphonia and hands it out as planar stereo `f64` blocks, a few
//! thousand frames at a time, so that no stage ever holds a whole track.
//! Mono sources play on both channels; more than two channels is an error.
//! [`wav`] writes plain PCM WAV files (never `WAVE_FORMAT_EXTENSIBLE`).

pub mod decode;
pub mod wav;

use std::path::PathBuf;

pub use decode::{probe, read_all, Decoder};
pub use wav::{read_header as read_wav_header, WavFormat, WavHeader, WavWriter};

/// Frames per block handed out by the decoder and passed along the chain.
pub const BLOCK_FRAMES: usize = 4096;

/// What a source file is, as read from its header.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    pub sample_rate: u32,
    /// Channels in the file (1 or 2); blocks are always stereo.
    pub channels: u16,
    /// Bits per sample of the stored format (16, 24, 32); `None` for lossy
    /// codecs, which have none.
    pub bit_depth: Option<u16>,
    /// True for floating-point PCM.
    pub float: bool,
    /// Frames in the file when the container says so.
    pub frames: Option<u64>,
    /// Short codec name: "pcm", "flac", "alac", "vorbis", "mp3", ...
    pub codec: String,
}

/// A block of planar stereo samples, full scale = 1.0.
#[derive(Debug, Clone, Default)]
pub struct Block {
    pub left: Vec<f64>,
    pub right: Vec<f64>,
}

impl Block {
    pub fn with_capacity(frames: usize) -> Self {
        Block {
            left: Vec::with_capacity(frames),
            right: Vec::with_capacity(frames),
        }
    }
    pub fn len(&self) -> usize {
        self.left.len()
    }
    pub fn is_empty(&self) -> bool {
        self.left.is_empty()
    }
    pub fn clear(&mut self) {
        self.left.clear();
        self.right.clear();
    }
}

/// Why a file could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an audio file glassmaster can read ({reason})")]
    Unsupported { path: PathBuf, reason: String },
    #[error("{path}: {channels} channels; glassmaster takes mono or stereo sources only")]
    TooManyChannels { path: PathBuf, channels: usize },
    #[error("{path}: the file is empty: it holds no audio")]
    Empty { path: PathBuf },
    #[error("{path}: corrupt or truncated audio: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path}: sample {frame} (at {time}, {channel} channel) is {value}; \
         every sample must be a finite number"
    )]
    NotFinite {
        path: PathBuf,
        /// "NaN", "+infinity" or "-infinity".
        value: &'static str,
        /// The sample's time from the start of the file, mm:ss.sss.
        time: String,
        /// "left", "right" or "mono".
        channel: &'static str,
        /// The frame's index from the start of the file.
        frame: u64,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads until `buf` is full or the reader ends; returns the bytes read
/// (less than `buf.len()` only at the end).
pub fn read_full(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}
