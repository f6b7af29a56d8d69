//! The MP3 sink of [`super::TrackEncoder`]: the spool, LAME, the
//! true-peak re-encode loop and the LAME tag (see the parent module).

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{io_err, part_path};
use crate::analysis::TruePeak;
use crate::audio::{Block, Decoder, BLOCK_FRAMES};
use crate::deliver::DeliverError;

/// Most times an MP3 is encoded again to bring its true peak under the
/// ceiling.
pub const MAX_REENCODES: u32 = 4;
/// Taken off the gain of the first MP3 encode beyond the input's own
/// excess over the ceiling, dB: what LAME at 320 kbps adds to the true
/// peak. On the 11 real-music tracks (44.1 kHz) the decoded true peak came
/// out 0.05 dB under to 0.11 dB over the input's, at gain 0 and at -1.3
/// dB; so most files meet the ceiling at the first encode, landing at
/// most this much plus what the encode took off under it, and the rest
/// are encoded again as before.
pub const PREDICTED_OVERSHOOT_DB: f64 = 0.15;
/// Taken off the gain beyond the measured excess at the first re-encode,
/// dB; doubled at each further one (LAME's peaks do not follow the gain
/// exactly, so a file that lands just over again gets a wider margin).
pub const REENCODE_MARGIN_DB: f64 = 0.05;

/// Spools the input and meters its true peak; encodes with LAME at the end.
pub(super) struct Mp3Sink {
    path: PathBuf,
    part: PathBuf,
    spool_path: PathBuf,
    spool: Option<BufWriter<File>>,
    rate: u32,
    bitrate_kbps: u32,
    ceiling_dbtp: f64,
    spool_buf: Vec<u8>,
    /// True peak of the input (as given to LAME at gain 0).
    input_peak: TruePeak,
}

/// One LAME encode of the whole track into the part file.
struct Mp3Pass {
    lame: mp3lame_encoder::Encoder,
    out: BufWriter<File>,
    gain: f32,
    left: Vec<f32>,
    right: Vec<f32>,
    buf: Vec<u8>,
}

fn lame_bitrate(kbps: u32) -> Option<mp3lame_encoder::Bitrate> {
    use mp3lame_encoder::Bitrate as B;
    Some(match kbps {
        32 => B::Kbps32,
        40 => B::Kbps40,
        48 => B::Kbps48,
        64 => B::Kbps64,
        80 => B::Kbps80,
        96 => B::Kbps96,
        112 => B::Kbps112,
        128 => B::Kbps128,
        160 => B::Kbps160,
        192 => B::Kbps192,
        224 => B::Kbps224,
        256 => B::Kbps256,
        320 => B::Kbps320,
        _ => return None,
    })
}

/// A LAME encoder set up for the bundle.
fn lame_encoder(
    path: &Path,
    rate: u32,
    kbps: u32,
) -> Result<mp3lame_encoder::Encoder, DeliverError> {
    let lame_err = |reason: String| DeliverError::Mp3 {
        path: path.to_path_buf(),
        reason,
    };
    let brate =
        lame_bitrate(kbps).ok_or_else(|| lame_err(format!("{kbps} kbps is not a LAME rate")))?;
    let mut b = mp3lame_encoder::Builder::new()
        .ok_or_else(|| lame_err("LAME could not be initialised".into()))?;
    let e = |x: mp3lame_encoder::BuildError| lame_err(x.to_string());
    b.set_num_channels(2).map_err(e)?;
    b.set_sample_rate(rate).map_err(e)?;
    b.set_output_sample_rate(std::num::NonZeroU32::new(rate))
        .map_err(e)?;
    b.set_brate(brate).map_err(e)?;
    b.set_vbr_mode(mp3lame_encoder::VbrMode::Off).map_err(e)?;
    b.set_mode(mp3lame_encoder::Mode::JointStereo).map_err(e)?;
    b.set_quality(mp3lame_encoder::Quality::VeryNice)
        .map_err(e)?;
    b.set_to_write_vbr_tag(true).map_err(e)?;
    b.build().map_err(e)
}

impl Mp3Pass {
    fn start(
        path: &Path,
        part: &Path,
        rate: u32,
        kbps: u32,
        gain_db: f64,
    ) -> Result<Mp3Pass, DeliverError> {
        let lame = lame_encoder(path, rate, kbps)?;
        let file = File::create(part).map_err(|x| io_err(path, x))?;
        Ok(Mp3Pass {
            lame,
            out: BufWriter::with_capacity(1 << 16, file),
            gain: 10f64.powf(gain_db / 20.0) as f32,
            left: Vec::with_capacity(BLOCK_FRAMES),
            right: Vec::with_capacity(BLOCK_FRAMES),
            buf: Vec::new(),
        })
    }

    fn encode_f32(&mut self, path: &Path) -> Result<(), DeliverError> {
        let n = self.left.len();
        self.buf.clear();
        self.buf
            .reserve(mp3lame_encoder::max_required_buffer_size(n));
        self.lame
            .encode_to_vec(
                mp3lame_encoder::DualPcm {
                    left: &self.left[..],
                    right: &self.right[..],
                },
                &mut self.buf,
            )
            .map_err(|e| DeliverError::Mp3 {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        self.out.write_all(&self.buf).map_err(|e| io_err(path, e))
    }

    /// Ends the stream: [`TAIL_FRAME`] samples of silence after the
    /// input, LAME flushed (every buffered sample encoded, the last frame
    /// padded with silence), then the LAME tag, with that silence counted
    /// in its padding, written over the frame LAME reserved at the start.
    fn finish(mut self, path: &Path) -> Result<(), DeliverError> {
        let lame_err = |reason: String| DeliverError::Mp3 {
            path: path.to_path_buf(),
            reason,
        };
        self.left.clear();
        self.left.resize(TAIL_FRAME, 0.0);
        self.right.clear();
        self.right.resize(TAIL_FRAME, 0.0);
        self.encode_f32(path)?;
        self.buf.clear();
        self.buf.reserve(7200);
        self.lame
            .flush_to_vec::<mp3lame_encoder::FlushGap>(&mut self.buf)
            .map_err(|e| lame_err(e.to_string()))?;
        self.out.write_all(&self.buf).map_err(|e| io_err(path, e))?;
        let mut tag = Vec::with_capacity(self.lame.lame_tag_size().max(1));
        // Without the tag's delay and padding no decoder could trim the
        // file to the master's length: refuse rather than deliver that.
        if self.lame.lame_tag_encode_to_vec(&mut tag).is_none() {
            return Err(lame_err("LAME gave no Info tag to write".into()));
        }
        add_padding(&mut tag, TAIL_FRAME).map_err(|r| lame_err(r.into()))?;
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| io_err(path, e.into_error()))?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&tag))
            .map_err(|e| io_err(path, e))?;
        Ok(())
    }
}

/// Silence encoded after the master and counted as padding in the LAME
/// tag: one frame, so that the last frame holds nothing of the master.
/// libmad as sox uses it never decodes a file's last frame (it needs
/// bytes after it), and LAME's own padding can be as short as 576
/// samples, less than the 529-sample decoder delay plus a frame.
/// Gapless decoders trim it with the rest of the padding.
pub const TAIL_FRAME: usize = 1152;

/// CRC-16 as the LAME tag uses it (polynomial 0x8005 reflected, start 0).
fn lame_crc(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| {
        let mut c = crc ^ u16::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xA001
            } else {
                c >> 1
            };
        }
        c
    })
}

/// Offset of the LAME extension's delay/padding field and of the tag's
/// CRC in an MPEG-1 layer III Info/Xing frame written by LAME.
fn lame_fields(tag: &[u8]) -> Result<(usize, usize), &'static str> {
    if tag.len() < 4 || tag[0] != 0xFF || tag[1] & 0xFE != 0xFA {
        return Err("the Info frame is not an MPEG-1 layer III frame");
    }
    // Side information: 17 bytes mono, 32 otherwise (MPEG-1).
    let xing = 4 + if tag[3] >> 6 == 3 { 17 } else { 32 };
    let crc_at = xing + 154;
    if tag.len() < crc_at + 2
        || !(tag[xing..xing + 4] == *b"Info" || tag[xing..xing + 4] == *b"Xing")
        || tag[xing + 120..xing + 124] != *b"LAME"
    {
        return Err("the Info frame has no LAME tag where LAME writes it");
    }
    Ok((xing + 141, crc_at))
}

/// Adds `extra` samples to the LAME tag's padding and renews its CRC.
fn add_padding(tag: &mut [u8], extra: usize) -> Result<(), &'static str> {
    let (at, crc_at) = lame_fields(tag)?;
    if lame_crc(&tag[..crc_at]).to_be_bytes() != tag[crc_at..crc_at + 2] {
        return Err("the LAME tag's CRC does not match its bytes");
    }
    let trim = u32::from_be_bytes([0, tag[at], tag[at + 1], tag[at + 2]]);
    let padding = (trim & 0xFFF) as usize + extra;
    if padding > 0xFFF {
        return Err("the padding does not fit the LAME tag's 12 bits");
    }
    let trim = (trim & !0xFFF) | padding as u32;
    tag[at..at + 3].copy_from_slice(&trim.to_be_bytes()[1..]);
    let crc = lame_crc(&tag[..crc_at]);
    tag[crc_at..crc_at + 2].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

impl Mp3Sink {
    pub(super) fn create(
        path: &Path,
        rate: u32,
        bitrate_kbps: u32,
        ceiling_dbtp: f64,
    ) -> Result<Mp3Sink, DeliverError> {
        // Settings LAME refuses fail here, not at the end of the track.
        drop(lame_encoder(path, rate, bitrate_kbps)?);
        let input_peak = TruePeak::new(rate).map_err(|e| DeliverError::Mp3 {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let part = part_path(path);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let spool_path = path.with_file_name(format!("{name}.spool.f32"));
        let spool = File::create(&spool_path).map_err(|e| io_err(path, e))?;
        Ok(Mp3Sink {
            path: path.to_path_buf(),
            part,
            spool_path,
            spool: Some(BufWriter::with_capacity(1 << 18, spool)),
            rate,
            bitrate_kbps,
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

    /// Decoded true peak of the part file, dBTP.
    fn measure(&self) -> Result<Option<f64>, DeliverError> {
        let mut dec = Decoder::open(&self.part).map_err(|e| DeliverError::Audio {
            source: Box::new(e),
        })?;
        let mut meter = TruePeak::new(dec.info().sample_rate).map_err(|e| DeliverError::Mp3 {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let mut b = Block::with_capacity(BLOCK_FRAMES);
        while dec.read_block(&mut b).map_err(|e| DeliverError::Audio {
            source: Box::new(e),
        })? > 0
        {
            meter.add(&b);
        }
        Ok(meter.dbtp())
    }

    /// Encodes the spool at `gain_db` into the part file.
    fn encode(&self, gain_db: f64) -> Result<(), DeliverError> {
        let mut pass = Mp3Pass::start(
            &self.path,
            &self.part,
            self.rate,
            self.bitrate_kbps,
            gain_db,
        )?;
        let file = File::open(&self.spool_path).map_err(|e| io_err(&self.path, e))?;
        let mut rd = BufReader::with_capacity(1 << 18, file);
        let mut bytes = vec![0u8; BLOCK_FRAMES * 8];
        loop {
            let n =
                crate::audio::read_full(&mut rd, &mut bytes).map_err(|e| io_err(&self.path, e))?;
            if n < 8 {
                break;
            }
            pass.left.clear();
            pass.right.clear();
            for fr in bytes[..n - n % 8].chunks_exact(8) {
                let l = f32::from_le_bytes([fr[0], fr[1], fr[2], fr[3]]);
                let r = f32::from_le_bytes([fr[4], fr[5], fr[6], fr[7]]);
                pass.left.push(l * pass.gain);
                pass.right.push(r * pass.gain);
            }
            pass.encode_f32(&self.path)?;
        }
        pass.finish(&self.path)
    }

    /// The gain of the first encode: the input's true peak brought
    /// [`PREDICTED_OVERSHOOT_DB`] under the ceiling, 0 dB when it is
    /// already that far under.
    fn first_gain(&self) -> f64 {
        match self.input_peak.dbtp() {
            Some(p) if p + PREDICTED_OVERSHOOT_DB > self.ceiling_dbtp => {
                self.ceiling_dbtp - PREDICTED_OVERSHOOT_DB - p
            }
            _ => 0.0,
        }
    }

    /// Encodes the spool, then measures and encodes again as needed.
    /// Returns (gain dB, re-encodes, decoded true peak).
    pub(super) fn finish(self) -> Result<(f64, u32, Option<f64>), DeliverError> {
        let gain = self.first_gain();
        self.finish_from(gain)
    }

    /// [`Mp3Sink::finish`] with the first encode at `first_gain_db`.
    fn finish_from(mut self, first_gain_db: f64) -> Result<(f64, u32, Option<f64>), DeliverError> {
        let spool = self.spool.take().expect("spool open until finish");
        // A temporary file: flushed for the reader, not synced.
        spool
            .into_inner()
            .map_err(|e| io_err(&self.path, e.into_error()))?;
        let mut gain = first_gain_db;
        self.encode(gain)?;
        let mut n = 0;
        let mut tp = self.measure()?;
        while let Some(peak) = tp {
            if peak <= self.ceiling_dbtp || n >= MAX_REENCODES {
                break;
            }
            gain -= peak - self.ceiling_dbtp + REENCODE_MARGIN_DB * f64::from(1u32 << n);
            self.encode(gain)?;
            n += 1;
            tp = self.measure()?;
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
        Ok((gain, n, tp))
    }
}

impl Drop for Mp3Sink {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.spool_path);
        if self.part.exists() {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loud music-like stereo at 44.1 kHz: tones and noise, sample peak
    /// at full scale.
    fn loud(secs: f64) -> Block {
        let n = (secs * 44_100.0) as usize;
        let mut seed = 7u32;
        let mut b = Block::with_capacity(n);
        for i in 0..n {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5;
            let t = i as f64 / 44_100.0;
            let w = |f: f64| (2.0 * std::f64::consts::PI * f * t).sin();
            let x = 0.45 * w(110.0) + 0.25 * w(1760.0) + 0.15 * w(7040.0) + 0.3 * noise;
            b.left.push(x.clamp(-1.0, 1.0));
            b.right.push((0.9 * x - 0.1 * noise).clamp(-1.0, 1.0));
        }
        b
    }

    fn mp3_sink(name: &str, block: &Block) -> (Mp3Sink, PathBuf) {
        let dir = std::env::temp_dir().join(format!("gm-mp3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let mut sink = Mp3Sink::create(&path, 44_100, 320, -1.0).unwrap();
        for (l, r) in block
            .left
            .chunks(BLOCK_FRAMES)
            .zip(block.right.chunks(BLOCK_FRAMES))
        {
            sink.write(&Block {
                left: l.to_vec(),
                right: r.to_vec(),
            })
            .unwrap();
        }
        (sink, path)
    }

    #[test]
    fn every_bit_rate_a_bundle_may_ask_for_is_one_lame_is_set_to() {
        for k in crate::deliver::profile::MP3_BITRATES {
            assert!(lame_bitrate(k).is_some(), "{k} kbps");
            assert!(
                lame_encoder(Path::new("x.mp3"), 44_100, k).is_ok(),
                "{k} kbps"
            );
        }
    }

    #[test]
    fn the_lame_tag_counts_the_tail_frame_in_its_padding_and_keeps_its_crc() {
        let dir = std::env::temp_dir().join(format!("gm-mp3tag-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tag.mp3");
        let mut lame = lame_encoder(&path, 48_000, 320).unwrap();
        let zeros = vec![0.0f32; 5000];
        let mut buf = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(5000) + 7200);
        let pcm = mp3lame_encoder::DualPcm {
            left: &zeros[..],
            right: &zeros[..],
        };
        lame.encode_to_vec(pcm, &mut buf).unwrap();
        lame.flush_to_vec::<mp3lame_encoder::FlushGap>(&mut buf)
            .unwrap();
        let mut tag = Vec::with_capacity(lame.lame_tag_size());
        lame.lame_tag_encode_to_vec(&mut tag).unwrap();
        let (at, crc_at) = lame_fields(&tag).unwrap();
        // Our CRC is LAME's.
        assert_eq!(
            lame_crc(&tag[..crc_at]).to_be_bytes(),
            tag[crc_at..crc_at + 2]
        );
        let field = |t: &[u8]| {
            (usize::from(t[at]) << 16) | (usize::from(t[at + 1]) << 8) | usize::from(t[at + 2])
        };
        let before = field(&tag);
        // 5000 samples: delay 576, padding to whole frames.
        assert_eq!(before >> 12, 576);
        assert_eq!((576 + 5000 + (before & 0xFFF)) % 1152, 0);
        let mut patched = tag.clone();
        add_padding(&mut patched, TAIL_FRAME).unwrap();
        assert_eq!(field(&patched), before + TAIL_FRAME);
        assert_eq!(
            lame_crc(&patched[..crc_at]).to_be_bytes(),
            patched[crc_at..crc_at + 2]
        );
        // Only the field and the CRC changed.
        let changed: Vec<usize> = (0..tag.len()).filter(|&i| tag[i] != patched[i]).collect();
        assert!(
            changed
                .iter()
                .all(|&i| (at..at + 3).contains(&i) || (crc_at..crc_at + 2).contains(&i)),
            "{changed:?}"
        );
        // A tag that is not LAME's as expected is refused, not patched.
        let mut bad = tag.clone();
        bad[at] ^= 1;
        assert!(add_padding(&mut bad, TAIL_FRAME).is_err());
        assert!(add_padding(&mut tag, 4096).is_err(), "12 bits");
    }

    #[test]
    fn mp3_over_the_ceiling_is_encoded_again_with_less_gain() {
        let block = loud(3.0);
        // At 0 dB the decoded peak passes -1 dBTP: encoded again.
        let (sink, path) = mp3_sink("again.mp3", &block);
        let input = sink.input_peak.dbtp().unwrap();
        assert!(input > -0.5, "input true peak {input}");
        let (gain, n, tp) = sink.finish_from(0.0).unwrap();
        let tp = tp.unwrap();
        assert!(n >= 1, "re-encodes {n}");
        // Every sample is still there after the re-encode: symphonia
        // trims the LAME tag's delay and padding to the input's length.
        let (_, back) = crate::audio::read_all(&path).unwrap();
        assert_eq!(back.len(), block.len(), "decoded length");
        // About the input's excess over -1 dBTP (give or take what LAME
        // adds to or takes from the peak), not more than a few dB.
        assert!(gain < -(input + 1.0) + 0.2 && gain > -4.0, "gain {gain}");
        assert!(tp <= -1.0 && tp > -1.6, "decoded {tp}");
        assert!(path.exists() && !part_path(&path).exists());
        // The first encode takes the input's excess plus the predicted
        // overshoot off, and usually needs no second.
        let (sink, path2) = mp3_sink("first.mp3", &block);
        assert!((sink.first_gain() - (-1.0 - PREDICTED_OVERSHOOT_DB - input)).abs() < 1e-12);
        let (gain, n, tp) = sink.finish().unwrap();
        println!("predicted: gain {gain:.3} dB, {n} re-encodes, decoded {tp:?} (input {input:.3})");
        assert!(tp.unwrap() <= -1.0);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(&path2);
    }
}
