//! The MP3 codec of [`super::TrackEncoder`]: LAME and the LAME tag (see
//! the parent module); the spool and the true-peak re-encode loop are
//! [`super::lossy`]'s.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use super::io_err;
use super::lossy::{LossyCodec, LossyPass};
use crate::audio::BLOCK_FRAMES;
use crate::deliver::DeliverError;
/// Taken off the gain of the first MP3 encode beyond the input's own
/// excess over the ceiling, dB: what LAME at 320 kbps adds to the true
/// peak. On the 11 real-music tracks (44.1 kHz) the decoded true peak came
/// out 0.05 dB under to 0.11 dB over the input's, at gain 0 and at -1.3
/// dB; so most files meet the ceiling at the first encode, landing at
/// most this much plus what the encode took off under it, and the rest
/// are encoded again as before.
pub const PREDICTED_OVERSHOOT_DB: f64 = 0.15;
/// LAME at the bundle's rate and bit rate.
pub(super) struct Mp3Codec {
    pub(super) rate: u32,
    pub(super) bitrate_kbps: u32,
}

impl Mp3Codec {
    /// Settings LAME refuses fail here, not at the end of the track.
    pub(super) fn new(path: &Path, rate: u32, bitrate_kbps: u32) -> Result<Mp3Codec, DeliverError> {
        drop(lame_encoder(path, rate, bitrate_kbps)?);
        Ok(Mp3Codec { rate, bitrate_kbps })
    }
}

impl LossyCodec for Mp3Codec {
    fn predicted_overshoot_db(&self) -> f64 {
        PREDICTED_OVERSHOOT_DB
    }

    fn start(&self, path: &Path, part: &Path) -> Result<Box<dyn LossyPass>, DeliverError> {
        Ok(Box::new(Mp3Pass::start(
            path,
            part,
            self.rate,
            self.bitrate_kbps,
        )?))
    }
}

impl LossyPass for Mp3Pass {
    fn encode(&mut self, left: &[f32], right: &[f32]) -> Result<(), DeliverError> {
        self.left.clear();
        self.left.extend_from_slice(left);
        self.right.clear();
        self.right.extend_from_slice(right);
        let path = self.path.clone();
        self.encode_f32(&path)
    }

    fn finish(self: Box<Self>) -> Result<(), DeliverError> {
        let path = self.path.clone();
        (*self).finish_stream(&path)
    }
}

/// One LAME encode of the whole track into the part file.
struct Mp3Pass {
    path: std::path::PathBuf,
    lame: mp3lame_encoder::Encoder,
    out: BufWriter<File>,
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
    fn start(path: &Path, part: &Path, rate: u32, kbps: u32) -> Result<Mp3Pass, DeliverError> {
        let lame = lame_encoder(path, rate, kbps)?;
        let file = File::create(part).map_err(|x| io_err(path, x))?;
        Ok(Mp3Pass {
            path: path.to_path_buf(),
            lame,
            out: BufWriter::with_capacity(1 << 16, file),
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
    fn finish_stream(mut self, path: &Path) -> Result<(), DeliverError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Block;
    use crate::deliver::encode::lossy::LossySink;
    use crate::deliver::encode::part_path;
    use std::path::PathBuf;

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

    fn mp3_sink(name: &str, block: &Block) -> (LossySink, PathBuf) {
        let dir = std::env::temp_dir().join(format!("gm-mp3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let codec = Mp3Codec::new(&path, 44_100, 320).unwrap();
        let mut sink = LossySink::create(Box::new(codec), &path, 44_100, -1.0).unwrap();
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
        let out = sink.finish_from(0.0).unwrap();
        let (gain, n, tp) = (
            out.gain_db,
            out.reencodes,
            out.decoded_true_peak_dbtp.unwrap(),
        );
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
        let out = sink.finish().unwrap();
        let (gain, n, tp) = (out.gain_db, out.reencodes, out.decoded_true_peak_dbtp);
        println!("predicted: gain {gain:.3} dB, {n} re-encodes, decoded {tp:?} (input {input:.3})");
        assert!(tp.unwrap() <= -1.0);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(&path2);
    }
}
