//! The FLAC bundles' file writer: 16/24-bit stereo streamed frame by
//! frame through glassmaster's encoder ([`super::flac`]) into a `.part`
//! file, STREAMINFO (lengths, frame sizes, MD5) written at the end.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{flac, io_err, part_path, FLAC_BATCH, FLAC_BLOCK};
use crate::deliver::DeliverError;

/// Streams 16/24-bit stereo into a FLAC file, frame by frame.
pub(super) struct FlacSink {
    path: PathBuf,
    part: PathBuf,
    out: Option<BufWriter<File>>,
    encoder: flac::FrameEncoder,
    rate: u32,
    bits: u16,
    /// Samples waiting to be encoded: up to [`FLAC_BATCH`] whole frames.
    left: Vec<i32>,
    right: Vec<i32>,
    frames_done: usize,
    samples: u64,
    min_frame: u32,
    max_frame: u32,
    md5: md5::Context,
    md5_buf: Vec<u8>,
    pub(super) clipped: u64,
}

/// Bytes before the first frame: "fLaC", the STREAMINFO header and body.
const FLAC_HEADER_LEN: usize = 4 + 4 + 34;

impl FlacSink {
    pub(super) fn create(path: &Path, rate: u32, bits: u16) -> Result<FlacSink, DeliverError> {
        if !(8..=24).contains(&bits) || !(1..(1 << 20)).contains(&rate) {
            return Err(DeliverError::Flac {
                path: path.to_path_buf(),
                reason: format!("{bits}-bit at {rate} Hz cannot be written"),
            });
        }
        let part = part_path(path);
        let file = File::create(&part).map_err(|e| io_err(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 18, file);
        out.write_all(&[0u8; FLAC_HEADER_LEN])
            .map_err(|e| io_err(path, e))?;
        Ok(FlacSink {
            path: path.to_path_buf(),
            part,
            out: Some(out),
            encoder: flac::FrameEncoder::new(u32::from(bits), rate, FLAC_BLOCK),
            rate,
            bits,
            left: Vec::with_capacity(FLAC_BLOCK * FLAC_BATCH),
            right: Vec::with_capacity(FLAC_BLOCK * FLAC_BATCH),
            frames_done: 0,
            samples: 0,
            min_frame: u32::MAX,
            max_frame: 0,
            md5: md5::Context::new(),
            md5_buf: Vec::new(),
            clipped: 0,
        })
    }

    pub(super) fn write(&mut self, left: &[i32], right: &[i32]) -> Result<(), DeliverError> {
        let max = (1i32 << (self.bits - 1)) - 1;
        let min = -max - 1;
        let n = left.len().min(right.len());
        let mut pos = 0;
        while pos < n {
            let take = (FLAC_BLOCK * FLAC_BATCH - self.left.len()).min(n - pos);
            let (l, r) = (&left[pos..pos + take], &right[pos..pos + take]);
            let from = self.left.len();
            self.left.extend(l.iter().map(|&v| v.clamp(min, max)));
            self.right.extend(r.iter().map(|&v| v.clamp(min, max)));
            self.clipped += l.iter().chain(r).filter(|&&v| v < min || v > max).count() as u64;
            self.digest(from);
            pos += take;
            if self.left.len() == FLAC_BLOCK * FLAC_BATCH {
                self.flush_batch()?;
            }
        }
        self.samples += n as u64;
        Ok(())
    }

    /// Adds the samples from `from` on to the MD5 (interleaved,
    /// little-endian, bits/8 bytes each).
    fn digest(&mut self, from: usize) {
        let (l, r) = (&self.left[from..], &self.right[from..]);
        let bytes = usize::from(self.bits / 8);
        self.md5_buf.clear();
        self.md5_buf.resize(l.len() * 2 * bytes, 0);
        let frames = self.md5_buf.chunks_exact_mut(2 * bytes);
        match bytes {
            2 => {
                for ((f, &a), &b) in frames.zip(l).zip(r) {
                    f[..2].copy_from_slice(&(a as i16).to_le_bytes());
                    f[2..].copy_from_slice(&(b as i16).to_le_bytes());
                }
            }
            3 => {
                for ((f, &a), &b) in frames.zip(l).zip(r) {
                    f[..3].copy_from_slice(&a.to_le_bytes()[..3]);
                    f[3..].copy_from_slice(&b.to_le_bytes()[..3]);
                }
            }
            _ => {
                for ((f, &a), &b) in frames.zip(l).zip(r) {
                    f[..bytes].copy_from_slice(&a.to_le_bytes()[..bytes]);
                    f[bytes..].copy_from_slice(&b.to_le_bytes()[..bytes]);
                }
            }
        }
        self.md5.consume(&self.md5_buf);
    }

    /// Encodes the waiting frames (in parallel) and writes them in order.
    fn flush_batch(&mut self) -> Result<(), DeliverError> {
        if self.left.is_empty() {
            return Ok(());
        }
        let first = self.frames_done;
        let frames = self.left.len().div_ceil(FLAC_BLOCK);
        let (left, right, encoder) = (&self.left, &self.right, &self.encoder);
        let encoded: Vec<Vec<u8>> = (0..frames)
            .into_par_iter()
            .map_init(flac::Scratch::default, |scratch, i| {
                let end = ((i + 1) * FLAC_BLOCK).min(left.len());
                let span = i * FLAC_BLOCK..end;
                let mut bytes = Vec::new();
                encoder.encode(
                    (first + i) as u32,
                    &left[span.clone()],
                    &right[span],
                    scratch,
                    &mut bytes,
                );
                bytes
            })
            .collect();
        let out = self.out.as_mut().expect("live sink has a writer");
        for bytes in encoded {
            let n = bytes.len() as u32;
            self.min_frame = self.min_frame.min(n);
            self.max_frame = self.max_frame.max(n);
            out.write_all(&bytes).map_err(|e| io_err(&self.path, e))?;
        }
        self.frames_done += frames;
        self.left.clear();
        self.right.clear();
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<(), DeliverError> {
        self.flush_batch()?;
        let digest = self.md5.clone().finalize();
        let mut header = [0u8; FLAC_HEADER_LEN];
        header[0..4].copy_from_slice(b"fLaC");
        // Last-metadata-block flag set, type 0 (STREAMINFO), length 34.
        header[4] = 0x80;
        header[5..8].copy_from_slice(&[0, 0, 34]);
        let si = &mut header[8..];
        let block = FLAC_BLOCK as u16;
        si[0..2].copy_from_slice(&block.to_be_bytes());
        si[2..4].copy_from_slice(&block.to_be_bytes());
        let (min_f, max_f) = if self.frames_done == 0 {
            (0, 0)
        } else {
            (self.min_frame, self.max_frame)
        };
        si[4..7].copy_from_slice(&min_f.to_be_bytes()[1..]);
        si[7..10].copy_from_slice(&max_f.to_be_bytes()[1..]);
        // 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits samples.
        let packed: u64 = (u64::from(self.rate) << 44)
            | (1u64 << 41)
            | (u64::from(self.bits - 1) << 36)
            | (self.samples & 0xF_FFFF_FFFF);
        si[10..18].copy_from_slice(&packed.to_be_bytes());
        si[18..34].copy_from_slice(&digest.0);
        let path = self.path.clone();
        let out = self.out.take().expect("live sink has a writer");
        let res = (|| -> std::io::Result<()> {
            let mut file = out.into_inner().map_err(|e| e.into_error())?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&header)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&self.part, &self.path)
        })();
        res.map_err(|e| io_err(&path, e))
    }
}

impl Drop for FlacSink {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}
