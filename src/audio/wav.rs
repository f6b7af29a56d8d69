//! A plain PCM WAV writer: `WAVE_FORMAT_PCM` (format tag 1, a 16-byte
//! `fmt ` chunk) for 16/24/32-bit integers and `WAVE_FORMAT_IEEE_FLOAT`
//! (tag 3) for 32-bit float. Never `WAVE_FORMAT_EXTENSIBLE`, which some
//! stores reject (hound writes it for 24-bit, hence this writer).
//!
//! Streamed and buffered: samples go out block by block into `NAME.part`
//! beside the target; [`WavWriter::finalize`] patches the sizes in the
//! header and renames the file into place, so a half-written WAV never
//! carries the final name. Dropping a writer without finalizing removes
//! the partial file.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{AudioError, Block};

/// Sample format of a written WAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    Int16,
    Int24,
    Int32,
    Float32,
}

impl WavFormat {
    /// Bits per stored sample.
    pub fn bits(self) -> u16 {
        match self {
            WavFormat::Int16 => 16,
            WavFormat::Int24 => 24,
            WavFormat::Int32 => 32,
            WavFormat::Float32 => 32,
        }
    }

    fn bytes(self) -> usize {
        usize::from(self.bits() / 8)
    }

    /// Largest integer code (`i32::MAX` for 32-bit), `None` for float.
    pub fn max_code(self) -> Option<i32> {
        match self {
            WavFormat::Int16 => Some(i32::from(i16::MAX)),
            WavFormat::Int24 => Some((1 << 23) - 1),
            WavFormat::Int32 => Some(i32::MAX),
            WavFormat::Float32 => None,
        }
    }
}

/// Size of the header we write: RIFF (12) + fmt (8 + 16) + data header (8).
const HEADER_LEN: u64 = 44;

/// Streams PCM frames into a WAV file.
pub struct WavWriter {
    path: PathBuf,
    part: PathBuf,
    out: Option<BufWriter<File>>,
    format: WavFormat,
    channels: u16,
    sample_rate: u32,
    data_bytes: u64,
    clipped: u64,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for WavWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavWriter")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("channels", &self.channels)
            .field("sample_rate", &self.sample_rate)
            .field("data_bytes", &self.data_bytes)
            .finish_non_exhaustive()
    }
}

impl WavWriter {
    /// Starts `path` (written as `path.part` until [`finalize`](Self::finalize)).
    /// `channels` is 1 or 2; a mono file takes the left channel of each block.
    pub fn create(
        path: &Path,
        sample_rate: u32,
        channels: u16,
        format: WavFormat,
    ) -> Result<WavWriter, AudioError> {
        if !(1..=2).contains(&channels) || sample_rate == 0 {
            return Err(write_err(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "{channels} channels at {sample_rate} Hz: the writer takes 1 or 2 channels at a rate above 0"
                    ),
                ),
            ));
        }
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".part");
        let part = path.with_file_name(name);
        let file = File::create(&part).map_err(|e| write_err(path, e))?;
        let mut w = WavWriter {
            path: path.to_path_buf(),
            part,
            out: Some(BufWriter::with_capacity(1 << 18, file)),
            format,
            channels,
            sample_rate,
            data_bytes: 0,
            clipped: 0,
            scratch: Vec::with_capacity(super::BLOCK_FRAMES * 2 * 4),
        };
        let header = w.header();
        w.write_bytes_raw(&header)?;
        Ok(w)
    }

    /// Samples that were out of range and clipped so far.
    pub fn clipped(&self) -> u64 {
        self.clipped
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.data_bytes / (self.format.bytes() as u64 * u64::from(self.channels))
    }

    /// Writes a block, full scale = 1.0. Integer formats round to the
    /// nearest code and clip to the code range (no dither: the caller
    /// dithers first when reducing word length); float stores as is,
    /// clipped to ±1.0 only if not finite.
    pub fn write_block(&mut self, block: &Block) -> Result<(), AudioError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let n = block.len().min(block.right.len());
        let (l, r) = (&block.left[..n], &block.right[..n]);
        match self.format {
            WavFormat::Float32 => {
                for i in 0..n {
                    scratch.extend_from_slice(&float_sample(l[i]).to_le_bytes());
                    if self.channels == 2 {
                        scratch.extend_from_slice(&float_sample(r[i]).to_le_bytes());
                    }
                }
            }
            f => {
                let bytes = f.bytes();
                let max = f64::from(f.max_code().unwrap_or(i32::MAX));
                let scale = max + 1.0;
                let mut clipped = 0u64;
                let mut quantise = |x: f64| -> i32 {
                    let v = (x * scale).round();
                    if v > max {
                        clipped += 1;
                        max as i32
                    } else if v < -scale {
                        clipped += 1;
                        -(scale as i64) as i32
                    } else if v.is_nan() {
                        0
                    } else {
                        v as i32
                    }
                };
                for i in 0..n {
                    let a = quantise(l[i]);
                    scratch.extend_from_slice(&a.to_le_bytes()[..bytes]);
                    if self.channels == 2 {
                        let b = quantise(r[i]);
                        scratch.extend_from_slice(&b.to_le_bytes()[..bytes]);
                    }
                }
                self.clipped += clipped;
            }
        }
        let res = self.write_data(&scratch);
        self.scratch = scratch;
        res
    }

    /// Writes frames that are already integer codes of this writer's
    /// width (e.g. dithered 16-bit values), planar. Codes outside the
    /// range are clipped (and counted). An error for a float writer.
    pub fn write_i32_frames(&mut self, left: &[i32], right: &[i32]) -> Result<(), AudioError> {
        let Some(max) = self.format.max_code() else {
            return Err(write_err(
                &self.path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "integer codes given to a 32-bit float WAV writer",
                ),
            ));
        };
        let min = -(i64::from(max) + 1);
        let bytes = self.format.bytes();
        let n = left.len().min(right.len());
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let mut clipped = 0u64;
        let mut clip = |v: i32| -> i32 {
            let w = i64::from(v);
            if w > i64::from(max) {
                clipped += 1;
                max
            } else if w < min {
                clipped += 1;
                min as i32
            } else {
                v
            }
        };
        for i in 0..n {
            scratch.extend_from_slice(&clip(left[i]).to_le_bytes()[..bytes]);
            if self.channels == 2 {
                scratch.extend_from_slice(&clip(right[i]).to_le_bytes()[..bytes]);
            }
        }
        self.clipped += clipped;
        let res = self.write_data(&scratch);
        self.scratch = scratch;
        res
    }

    /// Patches the header, flushes and moves the file into place.
    pub fn finalize(mut self) -> Result<(), AudioError> {
        let header = self.header();
        let path = self.path.clone();
        let mut out = self.out.take().expect("writer present until finalize");
        let res = (|| -> std::io::Result<()> {
            out.flush()?;
            let mut file = out.into_inner().map_err(|e| e.into_error())?;
            if self.data_bytes % 2 == 1 {
                // RIFF chunks are word aligned: a pad byte after odd data.
                file.seek(SeekFrom::End(0))?;
                file.write_all(&[0])?;
            }
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&header)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&self.part, &self.path)
        })();
        res.map_err(|e| write_err(&path, e))
    }

    fn header(&self) -> [u8; HEADER_LEN as usize] {
        let bytes = self.format.bytes() as u16;
        let block_align = bytes * self.channels;
        let tag: u16 = if self.format == WavFormat::Float32 {
            3
        } else {
            1
        };
        let data = self.data_bytes.min(u64::from(u32::MAX)) as u32;
        let pad = data % 2;
        let riff = (HEADER_LEN as u32 - 8)
            .saturating_add(data)
            .saturating_add(pad);
        let mut h = [0u8; HEADER_LEN as usize];
        h[0..4].copy_from_slice(b"RIFF");
        h[4..8].copy_from_slice(&riff.to_le_bytes());
        h[8..12].copy_from_slice(b"WAVE");
        h[12..16].copy_from_slice(b"fmt ");
        h[16..20].copy_from_slice(&16u32.to_le_bytes());
        h[20..22].copy_from_slice(&tag.to_le_bytes());
        h[22..24].copy_from_slice(&self.channels.to_le_bytes());
        h[24..28].copy_from_slice(&self.sample_rate.to_le_bytes());
        let byte_rate = self.sample_rate.saturating_mul(u32::from(block_align));
        h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
        h[32..34].copy_from_slice(&block_align.to_le_bytes());
        h[34..36].copy_from_slice(&self.format.bits().to_le_bytes());
        h[36..40].copy_from_slice(b"data");
        h[40..44].copy_from_slice(&data.to_le_bytes());
        h
    }

    fn write_data(&mut self, bytes: &[u8]) -> Result<(), AudioError> {
        // The RIFF size field is 32 bits: stop before it would overflow.
        let limit = u64::from(u32::MAX) - HEADER_LEN;
        if self.data_bytes + bytes.len() as u64 > limit {
            return Err(write_err(
                &self.path,
                std::io::Error::other("the audio exceeds the 4 GiB a WAV file can hold"),
            ));
        }
        self.write_bytes_raw(bytes)?;
        self.data_bytes += bytes.len() as u64;
        Ok(())
    }

    fn write_bytes_raw(&mut self, bytes: &[u8]) -> Result<(), AudioError> {
        let out = self.out.as_mut().expect("writer present until finalize");
        out.write_all(bytes).map_err(|e| write_err(&self.path, e))
    }
}

impl Drop for WavWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            // Not finalized: the partial file is of no use to anyone.
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

fn float_sample(x: f64) -> f32 {
    if x.is_finite() {
        x as f32
    } else if x.is_nan() {
        0.0
    } else {
        x.signum() as f32
    }
}

fn write_err(path: &Path, source: std::io::Error) -> AudioError {
    AudioError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// What a WAV file's header says: the `fmt ` chunk's fields and where
/// the `data` chunk's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavHeader {
    /// 1 plain PCM, 3 IEEE float, 0xFFFE extensible.
    pub format_tag: u16,
    pub channels: u16,
    pub sample_rate: u32,
    pub bits: u16,
    /// Offset of the first sample byte.
    pub data_offset: u64,
    /// Bytes of samples.
    pub data_len: u64,
}

/// Reads the RIFF chunks of a WAV file up to its `data` chunk. The error
/// says what is wrong with the header.
pub fn read_header(path: &Path) -> std::io::Result<WavHeader> {
    use std::io::{Error, ErrorKind, Read};
    let bad = |m: &str| Error::new(ErrorKind::InvalidData, m.to_owned());
    let mut f = std::io::BufReader::new(crate::fsio::open_regular(path)?);
    let mut head = [0u8; 12];
    f.read_exact(&mut head)?;
    if &head[..4] != b"RIFF" || &head[8..] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let mut pos = 12u64;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    loop {
        let mut ch = [0u8; 8];
        f.read_exact(&mut ch).map_err(|_| bad("no `data` chunk"))?;
        let len = u64::from(u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]));
        pos += 8;
        if &ch[..4] == b"data" {
            let (format_tag, channels, sample_rate, bits) =
                fmt.ok_or_else(|| bad("`data` before `fmt `"))?;
            return Ok(WavHeader {
                format_tag,
                channels,
                sample_rate,
                bits,
                data_offset: pos,
                data_len: len,
            });
        }
        let skip = len + (len & 1);
        if &ch[..4] == b"fmt " {
            if len < 16 {
                return Err(bad("`fmt ` chunk shorter than 16 bytes"));
            }
            let mut b = [0u8; 16];
            f.read_exact(&mut b)?;
            fmt = Some((
                u16::from_le_bytes([b[0], b[1]]),
                u16::from_le_bytes([b[2], b[3]]),
                u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
                u16::from_le_bytes([b[14], b[15]]),
            ));
            f.seek_relative((skip - 16) as i64)?;
        } else {
            f.seek_relative(skip as i64)?;
        }
        pos += skip;
    }
}
