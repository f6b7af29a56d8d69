//! The side files: each side's per-track premasters (24-bit stereo PCM
//! WAV at the side's rate, as the build rendered them) joined in order
//! with the side's gaps as digital silence, in blocks, sample for sample:
//! the side holds exactly its tracks' samples and `gap_frames` zeros
//! between each two. A track file of another format, rate or length than
//! the layout says is refused rather than joined.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{AnalogError, Side};
use crate::audio::{read_wav_header, WavFormat, WavWriter, BLOCK_FRAMES};

/// Bytes of one 24-bit stereo frame.
const FRAME_BYTES: usize = 6;

/// Writes `side` to `path` from `track_files` (one per album track,
/// indexed as the side's tracks are). Returns the frames written.
pub fn write_side(path: &Path, side: &Side, track_files: &[PathBuf]) -> Result<u64, AnalogError> {
    let mut out = WavWriter::create(path, side.rate, 2, WavFormat::Int24)?;
    let mut bytes = vec![0u8; BLOCK_FRAMES * FRAME_BYTES];
    let mut left = vec![0i32; BLOCK_FRAMES];
    let mut right = vec![0i32; BLOCK_FRAMES];
    for (k, placed) in side.tracks.iter().enumerate() {
        if k > 0 {
            left.fill(0);
            right.fill(0);
            let mut gap = side.gap_frames;
            while gap > 0 {
                let n = gap.min(BLOCK_FRAMES as u64) as usize;
                out.write_i32_frames(&left[..n], &right[..n])?;
                gap -= n as u64;
            }
        }
        let file = &track_files[placed.track];
        let mut f = open_track(file, side.rate, placed.frames)?;
        let mut left_frames = placed.frames;
        while left_frames > 0 {
            let n = left_frames.min(BLOCK_FRAMES as u64) as usize;
            let buf = &mut bytes[..n * FRAME_BYTES];
            f.read_exact(buf).map_err(|e| AnalogError::io(file, e))?;
            for (i, fr) in buf.chunks_exact(FRAME_BYTES).enumerate() {
                left[i] = i24(&fr[..3]);
                right[i] = i24(&fr[3..]);
            }
            out.write_i32_frames(&left[..n], &right[..n])?;
            left_frames -= n as u64;
        }
    }
    let frames = out.frames();
    out.finalize()?;
    Ok(frames)
}

/// A little-endian 24-bit sample, sign-extended.
fn i24(b: &[u8]) -> i32 {
    i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8
}

/// Opens a track's premaster at its first sample, after checking that it
/// is what the side expects.
fn open_track(path: &Path, rate: u32, frames: u64) -> Result<std::fs::File, AnalogError> {
    let h = read_wav_header(path).map_err(|e| AnalogError::io(path, e))?;
    let bad = |message: String| AnalogError::Invalid {
        path: path.to_owned(),
        message,
    };
    if h.format_tag != 1 || h.channels != 2 || h.bits != 24 || h.sample_rate != rate {
        return Err(bad(format!(
            "a premaster must be 24-bit stereo PCM at {rate} Hz; this one is {} bit, {} channels at {} Hz",
            h.bits, h.channels, h.sample_rate
        )));
    }
    if h.data_len != frames * FRAME_BYTES as u64 {
        return Err(bad(format!(
            "holds {} frames where the side has {frames} for it",
            h.data_len / FRAME_BYTES as u64
        )));
    }
    let mut f = crate::fsio::open_regular(path).map_err(|e| AnalogError::io(path, e))?;
    f.seek(SeekFrom::Start(h.data_offset))
        .map_err(|e| AnalogError::io(path, e))?;
    Ok(f)
}

/// Frames of a 24-bit stereo premaster, from its header.
pub fn premaster_frames(path: &Path) -> Result<u64, AnalogError> {
    let h = read_wav_header(path).map_err(|e| AnalogError::io(path, e))?;
    Ok(h.data_len / FRAME_BYTES as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analog::lay_out;

    #[test]
    fn a_side_is_its_tracks_and_zeros_byte_for_byte() {
        let dir = std::env::temp_dir().join(format!("gm-analog-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for (i, n) in [5000usize, 123].into_iter().enumerate() {
            let p = dir.join(format!("t{i}.wav"));
            let mut w = WavWriter::create(&p, 44_100, 2, WavFormat::Int24).unwrap();
            let l: Vec<i32> = (0..n as i32).map(|k| k * 97 - 8_000_000).collect();
            let r: Vec<i32> = l.iter().map(|v| -v).collect();
            w.write_i32_frames(&l, &r).unwrap();
            w.finalize().unwrap();
            files.push(p);
        }
        let side = &lay_out(&[vec![0, 1]], &[5000, 123], 44_100, 17)[0];
        let out = dir.join("side.wav");
        assert_eq!(write_side(&out, side, &files).unwrap(), 5000 + 17 + 123);
        let data = |p: &Path| {
            let h = read_wav_header(p).unwrap();
            let all = std::fs::read(p).unwrap();
            all[h.data_offset as usize..(h.data_offset + h.data_len) as usize].to_vec()
        };
        let mut want = data(&files[0]);
        want.extend(std::iter::repeat_n(0u8, 17 * 6));
        want.extend(data(&files[1]));
        assert_eq!(data(&out), want);
        let short = &lay_out(&[vec![0]], &[4999], 44_100, 0)[0];
        let err = write_side(&dir.join("bad.wav"), short, &files).unwrap_err();
        assert!(err.to_string().contains("5000 frames"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
