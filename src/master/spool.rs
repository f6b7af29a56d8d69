//! The rendered master kept on disk between the loudness probes and the
//! sinks.
//!
//! Loudness matching renders a track, reads where the limiter left its
//! loudness, and renders it again with a corrected gain while it is off
//! ([`super::matching`]). When every render fed the sinks, a track that
//! took two renders was resampled for the CD, encoded to MP3 and FLAC and
//! fully metered twice, the first time for nothing. With a spool, each
//! render is a *probe*: the chain runs, only the integrated loudness is
//! metered ([`crate::analysis::Meter::loudness_only`], the same figure to
//! the bit as the full meter's), and the master's blocks go to this file.
//! Once a probe lands, the file is read back into the full meter and the
//! sinks once: [`super::render::replay`].
//!
//! The promise: the sinks and the meter get the same blocks, of the same
//! lengths and the same `f64` samples, as a render would have given them,
//! so the outputs are byte for byte those of rendering into the sinks.
//! The file holds, per block, its frame count (`u32`, little-endian) and
//! the left then the right samples (`f64`, little-endian): 16 bytes a
//! frame (2.8 GB an hour at 48 kHz), removed when the track is done; one
//! file per track in work, so at most one per worker at a time. Memory
//! is the two buffers, allocated once.
//!
//! A track with a tonal-matching EQ (a long FIR) also keeps its chain's
//! output from the pass that measures it with the EQ, empty blocks
//! included ([`SpoolWriter::create_keeping_empty`]), so that its probes
//! run only the gain, the limiter and the fade; that file lives from the
//! measuring pass to the track's last render.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::MasterError;
use crate::audio::{Block, BLOCK_FRAMES};

const BUFFER: usize = 1 << 20;

fn io(path: &Path, e: std::io::Error) -> MasterError {
    MasterError::Io {
        path: path.to_owned(),
        source: e,
    }
}

/// Writes a render's blocks to the spool file.
pub struct SpoolWriter {
    path: PathBuf,
    file: BufWriter<File>,
    bytes: Vec<u8>,
    keep_empty: bool,
}

impl SpoolWriter {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> Result<SpoolWriter, MasterError> {
        let file = File::create(path).map_err(|e| io(path, e))?;
        Ok(SpoolWriter {
            path: path.to_owned(),
            file: BufWriter::with_capacity(BUFFER, file),
            bytes: Vec::with_capacity(4 + BLOCK_FRAMES * 32),
            keep_empty: false,
        })
    }

    /// [`SpoolWriter::create`] for a chain's output that another chain
    /// will process: empty blocks are kept too, so that the next chain is
    /// called exactly as often as it would be behind the first.
    pub fn create_keeping_empty(path: &Path) -> Result<SpoolWriter, MasterError> {
        let mut w = SpoolWriter::create(path)?;
        w.keep_empty = true;
        Ok(w)
    }

    /// Appends one block (both channels; an empty block is kept out, as
    /// the sinks never see one, unless made to keep them).
    pub fn write(&mut self, block: &Block) -> Result<(), MasterError> {
        let n = block.left.len().min(block.right.len());
        if n == 0 && !self.keep_empty {
            return Ok(());
        }
        self.bytes.clear();
        self.bytes.extend_from_slice(&(n as u32).to_le_bytes());
        for x in block.left[..n].iter().chain(&block.right[..n]) {
            self.bytes.extend_from_slice(&x.to_le_bytes());
        }
        self.file
            .write_all(&self.bytes)
            .map_err(|e| io(&self.path, e))
    }

    /// Flushes the file (for the reader; a work file is not synced).
    pub fn finish(self) -> Result<(), MasterError> {
        let path = self.path;
        self.file
            .into_inner()
            .map_err(|e| io(&path, e.into_error()))?;
        Ok(())
    }
}

/// Reads the blocks back, in order.
pub struct SpoolReader {
    path: PathBuf,
    file: BufReader<File>,
    bytes: Vec<u8>,
}

impl SpoolReader {
    pub fn open(path: &Path) -> Result<SpoolReader, MasterError> {
        let file = File::open(path).map_err(|e| io(path, e))?;
        Ok(SpoolReader {
            path: path.to_owned(),
            file: BufReader::with_capacity(BUFFER, file),
            bytes: Vec::with_capacity(BLOCK_FRAMES * 16),
        })
    }

    /// The next block into `block` (cleared first); false at the end.
    pub fn read(&mut self, block: &mut Block) -> Result<bool, MasterError> {
        block.clear();
        let mut head = [0u8; 4];
        match self.file.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(io(&self.path, e)),
        }
        let n = u32::from_le_bytes(head) as usize;
        self.bytes.resize(n * 16, 0);
        self.file
            .read_exact(&mut self.bytes)
            .map_err(|e| io(&self.path, e))?;
        let f = |c: &[u8]| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let (l, r) = self.bytes.split_at(n * 8);
        block.left.extend(l.chunks_exact(8).map(f));
        block.right.extend(r.chunks_exact(8).map(f));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_back_as_they_went_in() {
        let dir = std::env::temp_dir().join(format!("gm-spool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.f64");
        let blocks: Vec<Block> = [4096usize, 17, 0, 1, 4096]
            .iter()
            .enumerate()
            .map(|(k, &n)| Block {
                left: (0..n).map(|i| (i as f64 * 0.37 + k as f64).sin()).collect(),
                right: (0..n).map(|i| -(i as f64 * 1e-9) - k as f64).collect(),
            })
            .collect();
        let mut w = SpoolWriter::create(&path).unwrap();
        for b in &blocks {
            w.write(b).unwrap();
        }
        w.finish().unwrap();
        let mut r = SpoolReader::open(&path).unwrap();
        let mut got = Block::with_capacity(BLOCK_FRAMES);
        let mut back = Vec::new();
        while r.read(&mut got).unwrap() {
            back.push(got.clone());
        }
        let want: Vec<&Block> = blocks.iter().filter(|b| !b.is_empty()).collect();
        assert_eq!(back.len(), want.len());
        for (a, b) in back.iter().zip(want) {
            assert_eq!(a.left, b.left);
            assert_eq!(a.right, b.right);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
