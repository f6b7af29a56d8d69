//! The Ogg Opus codec of [`super::TrackEncoder`]: libopus (the `opus`
//! crate, built from its bundled sources), 48 kHz stereo, 20 ms frames,
//! VBR at the bundle's bit rate, in an Ogg stream this module writes
//! itself as RFC 7845 lays it out:
//!
//! - page 0 (beginning of stream) holds the `OpusHead` packet: version 1,
//!   two channels, the pre-skip (the encoder's lookahead, 312 samples for
//!   libopus at 48 kHz), the master's rate as the input rate, an output
//!   gain of 0 (no R128 gain: the master is delivered as it is), mapping
//!   family 0;
//! - page 1 holds `OpusTags` with the vendor "glassmaster" and no
//!   comments (the tags are written afterwards by [`crate::deliver::tags`]
//!   through lofty, as for FLAC and Vorbis);
//! - audio pages of whole packets (at most 255 lacing values, about 4 kB
//!   each), every page's granule position the 48 kHz samples decoded up to
//!   its last packet counting the pre-skip; the input is padded with
//!   silence to a whole frame past pre-skip + length, and the last page
//!   (end of stream) gives granule pre-skip + length, so that a decoder
//!   trims the padding and the file plays exactly the master's samples.
//!
//! The stream serial is fixed by the track's seed. Pages carry the Ogg
//! CRC-32 (polynomial 0x04C11DB7, not reflected, start 0).
//!
//! symphonia does not decode Opus: [`decode_file`] reads the pages back,
//! decodes the packets with libopus, drops the pre-skip and cuts the end at
//! the last granule position; [`OpusCodec`] meters that for the ceiling.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::io_err;
use super::lossy::{LossyCodec, LossyPass, PeakMeter};
use crate::audio::{Block, BLOCK_FRAMES};
use crate::deliver::DeliverError;

/// Opus is decoded at 48 kHz whatever the input was.
pub const OPUS_RATE: u32 = 48_000;
/// Samples per channel in a packet (20 ms).
pub const OPUS_FRAME: usize = 960;
/// Bit rates (kbps) an Opus bundle may ask for (libopus takes 6-510 kbps;
/// music below 32 kbps stereo is not a delivery).
pub const OPUS_KBPS: std::ops::RangeInclusive<u32> = 32..=320;
/// What libopus added to the true peak, dB (see the README, "Ogg Opus").
pub const OPUS_PREDICTED_OVERSHOOT_DB: f64 = 0.3;
/// A page is written once its data passes this many bytes.
const PAGE_BYTES: usize = 4096;

fn err(path: &Path, e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Codec {
        path: path.to_path_buf(),
        codec: "Opus encoder",
        reason: e.to_string(),
    }
}

pub(super) struct OpusCodec {
    kbps: u32,
    input_hz: u32,
    serial: u32,
}

impl OpusCodec {
    pub(super) fn new(
        path: &Path,
        rate: u32,
        input_hz: u32,
        kbps: u32,
        seed: u64,
    ) -> Result<OpusCodec, DeliverError> {
        if rate != OPUS_RATE {
            return Err(err(
                path,
                format!("Opus is written at 48000 Hz, not {rate}"),
            ));
        }
        if !OPUS_KBPS.contains(&kbps) {
            return Err(err(
                path,
                format!(
                    "{kbps} kbps is not an Opus rate glassmaster encodes ({}-{} kbps)",
                    OPUS_KBPS.start(),
                    OPUS_KBPS.end()
                ),
            ));
        }
        let c = OpusCodec {
            kbps,
            input_hz,
            serial: 0x676d_0000 | (seed & 0xFFFF) as u32,
        };
        drop(c.encoder(path)?);
        Ok(c)
    }

    fn encoder(&self, path: &Path) -> Result<opus::Encoder, DeliverError> {
        let mut e = opus::Encoder::new(OPUS_RATE, opus::Channels::Stereo, opus::Application::Audio)
            .map_err(|e| err(path, e))?;
        e.set_bitrate(opus::Bitrate::Bits(self.kbps as i32 * 1000))
            .map_err(|e| err(path, e))?;
        e.set_complexity(10).map_err(|e| err(path, e))?;
        Ok(e)
    }
}

impl LossyCodec for OpusCodec {
    fn predicted_overshoot_db(&self) -> f64 {
        OPUS_PREDICTED_OVERSHOOT_DB
    }

    fn start(&self, path: &Path, part: &Path) -> Result<Box<dyn LossyPass>, DeliverError> {
        let mut enc = self.encoder(path)?;
        let pre_skip = enc.get_lookahead().map_err(|e| err(path, e))?;
        let pre_skip = u16::try_from(pre_skip).map_err(|_| err(path, "lookahead"))?;
        let file = File::create(part).map_err(|e| io_err(path, e))?;
        let mut ogg = OggWriter::new(BufWriter::with_capacity(1 << 16, file), self.serial);
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1);
        head.push(2);
        head.extend_from_slice(&pre_skip.to_le_bytes());
        head.extend_from_slice(&self.input_hz.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes());
        head.push(0);
        let vendor = b"glassmaster";
        let mut tags = Vec::new();
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes());
        let w = |e| io_err(path, e);
        ogg.page(&[&head], 0, BOS).map_err(w)?;
        ogg.page(&[&tags], 0, 0).map_err(w)?;
        Ok(Box::new(OpusPass {
            path: path.to_path_buf(),
            enc,
            ogg,
            pre_skip: u64::from(pre_skip),
            frame: Vec::with_capacity(OPUS_FRAME * 2),
            samples_in: 0,
            packets: 0,
            packet: vec![0u8; 4000],
            pending: Vec::new(),
            pending_bytes: 0,
        }))
    }

    fn decoded_true_peak(&self, path: &Path, part: &Path) -> Result<Option<f64>, DeliverError> {
        let mut meter = PeakMeter::new(path, OPUS_RATE, true)?;
        decode_file(part, |b| meter.add(b)).map_err(|e| DeliverError::Codec {
            path: path.to_path_buf(),
            codec: "Opus decoder",
            reason: e,
        })?;
        Ok(meter.dbtp())
    }
}

const BOS: u8 = 0x02;
const EOS: u8 = 0x04;

/// Ogg pages of one logical stream.
struct OggWriter<W: Write> {
    out: W,
    serial: u32,
    seq: u32,
    buf: Vec<u8>,
}

impl<W: Write> OggWriter<W> {
    fn new(out: W, serial: u32) -> OggWriter<W> {
        OggWriter {
            out,
            serial,
            seq: 0,
            buf: Vec::new(),
        }
    }

    /// One page of whole packets.
    fn page(&mut self, packets: &[&[u8]], granule: u64, flags: u8) -> std::io::Result<()> {
        let b = &mut self.buf;
        b.clear();
        b.extend_from_slice(b"OggS");
        b.push(0);
        b.push(flags);
        b.extend_from_slice(&granule.to_le_bytes());
        b.extend_from_slice(&self.serial.to_le_bytes());
        b.extend_from_slice(&self.seq.to_le_bytes());
        b.extend_from_slice(&[0; 4]);
        let nseg: usize = packets.iter().map(|p| p.len() / 255 + 1).sum();
        debug_assert!(nseg <= 255);
        b.push(nseg as u8);
        for p in packets {
            b.extend(std::iter::repeat_n(255u8, p.len() / 255));
            b.push((p.len() % 255) as u8);
        }
        for p in packets {
            b.extend_from_slice(p);
        }
        let crc = ogg_crc(b);
        b[22..26].copy_from_slice(&crc.to_le_bytes());
        self.seq += 1;
        self.out.write_all(b)
    }
}

/// The Ogg page CRC-32.
fn ogg_crc(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut r = (i as u32) << 24;
            for _ in 0..8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04C1_1DB7
                } else {
                    r << 1
                };
            }
            *e = r;
        }
        t
    });
    bytes.iter().fold(0u32, |crc, &b| {
        (crc << 8) ^ t[((crc >> 24) as u8 ^ b) as usize]
    })
}

struct OpusPass {
    path: PathBuf,
    enc: opus::Encoder,
    ogg: OggWriter<BufWriter<File>>,
    pre_skip: u64,
    /// Interleaved samples of the frame being filled.
    frame: Vec<f32>,
    samples_in: u64,
    packets: u64,
    packet: Vec<u8>,
    /// Packets waiting for their page.
    pending: Vec<Vec<u8>>,
    pending_bytes: usize,
}

impl OpusPass {
    /// Encodes the full frame in `self.frame`; writes the page before it
    /// when that page is full.
    fn encode_frame(&mut self) -> Result<(), DeliverError> {
        let n = self
            .enc
            .encode_float(&self.frame, &mut self.packet)
            .map_err(|e| err(&self.path, e))?;
        self.frame.clear();
        let segs: usize = self.pending.iter().map(|p| p.len() / 255 + 1).sum();
        if !self.pending.is_empty()
            && (self.pending_bytes >= PAGE_BYTES || segs + n / 255 + 1 > 255)
        {
            let granule = self.packets * OPUS_FRAME as u64;
            self.write_pending(granule, 0)?;
        }
        self.pending.push(self.packet[..n].to_vec());
        self.pending_bytes += n;
        self.packets += 1;
        Ok(())
    }

    fn write_pending(&mut self, granule: u64, flags: u8) -> Result<(), DeliverError> {
        let refs: Vec<&[u8]> = self.pending.iter().map(Vec::as_slice).collect();
        self.ogg
            .page(&refs, granule, flags)
            .map_err(|e| io_err(&self.path, e))?;
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }
}

impl LossyPass for OpusPass {
    fn encode(&mut self, left: &[f32], right: &[f32]) -> Result<(), DeliverError> {
        for (&l, &r) in left.iter().zip(right) {
            self.frame.push(l);
            self.frame.push(r);
            if self.frame.len() == OPUS_FRAME * 2 {
                self.encode_frame()?;
            }
        }
        self.samples_in += left.len().min(right.len()) as u64;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), DeliverError> {
        let end = self.pre_skip + self.samples_in;
        // Silence until the encoder has given out every input sample
        // (its lookahead is the pre-skip).
        while self.packets * (OPUS_FRAME as u64) < end || !self.frame.is_empty() {
            self.frame.resize(OPUS_FRAME * 2, 0.0);
            self.encode_frame()?;
        }
        self.write_pending(end, EOS)?;
        let path = self.path.clone();
        let OggWriter { out, .. } = self.ogg;
        out.into_inner()
            .map_err(|e| io_err(&path, e.into_error()))?;
        Ok(())
    }
}

/// Decodes the Ogg Opus file at `path` (one stereo or mono stream, as
/// this module writes it) to 48 kHz blocks of at most [`BLOCK_FRAMES`],
/// the pre-skip dropped and the end cut at the last granule position.
/// Returns the frames handed out and the header's input rate.
pub fn decode_file(path: &Path, mut f: impl FnMut(&Block)) -> Result<(u64, u32), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut rd = BufReader::with_capacity(1 << 16, file);
    let mut dec: Option<opus::Decoder> = None;
    let (mut pre_skip, mut input_hz, mut channels) = (0u64, 0u32, 2usize);
    let mut packet: Vec<u8> = Vec::new();
    let mut packets_seen = 0u64;
    let mut decoded = vec![0f32; 5760 * 2];
    let mut pos = 0u64; // 48 kHz samples decoded, pre-skip included
    let mut out = 0u64;
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    let mut header = [0u8; 27];
    let mut data = Vec::new();
    loop {
        match rd.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.to_string()),
        }
        if &header[..4] != b"OggS" {
            return Err(format!("no Ogg page at packet {packets_seen}"));
        }
        let flags = header[5];
        let granule = u64::from_le_bytes(header[6..14].try_into().expect("8 bytes"));
        let mut lacing = vec![0u8; usize::from(header[26])];
        rd.read_exact(&mut lacing).map_err(|e| e.to_string())?;
        data.resize(lacing.iter().map(|&l| usize::from(l)).sum(), 0);
        rd.read_exact(&mut data).map_err(|e| e.to_string())?;
        let mut crc_page = header.to_vec();
        crc_page[22..26].fill(0);
        crc_page.extend_from_slice(&lacing);
        crc_page.extend_from_slice(&data);
        if ogg_crc(&crc_page).to_le_bytes() != header[22..26] {
            return Err(format!("page CRC mismatch after packet {packets_seen}"));
        }
        let limit = (flags & EOS != 0).then_some(granule);
        let mut at = 0;
        for &l in &lacing {
            packet.extend_from_slice(&data[at..at + usize::from(l)]);
            at += usize::from(l);
            if l == 255 {
                continue;
            }
            packets_seen += 1;
            match packets_seen {
                1 => {
                    if packet.len() < 19 || &packet[..8] != b"OpusHead" {
                        return Err("the first packet is not OpusHead".into());
                    }
                    channels = usize::from(packet[9]);
                    pre_skip = u64::from(u16::from_le_bytes([packet[10], packet[11]]));
                    input_hz = u32::from_le_bytes(packet[12..16].try_into().expect("4 bytes"));
                    let ch = match channels {
                        1 => opus::Channels::Mono,
                        2 => opus::Channels::Stereo,
                        n => return Err(format!("{n} channels")),
                    };
                    dec = Some(opus::Decoder::new(OPUS_RATE, ch).map_err(|e| e.to_string())?);
                }
                2 => {
                    if !packet.starts_with(b"OpusTags") {
                        return Err("the second packet is not OpusTags".into());
                    }
                }
                _ => {
                    let d = dec.as_mut().expect("set at packet 1");
                    let n = d
                        .decode_float(&packet, &mut decoded, false)
                        .map_err(|e| e.to_string())?;
                    let from = pos.max(pre_skip);
                    let mut to = pos + n as u64;
                    if let Some(g) = limit {
                        to = to.min(g);
                    }
                    for i in from..to.max(from) {
                        let k = (i - pos) as usize * channels;
                        let (l, r) = (decoded[k], decoded[k + channels - 1]);
                        block.left.push(f64::from(l));
                        block.right.push(f64::from(r));
                        if block.len() == BLOCK_FRAMES {
                            f(&block);
                            out += block.len() as u64;
                            block.clear();
                        }
                    }
                    pos += n as u64;
                }
            }
            packet.clear();
        }
    }
    if !block.is_empty() {
        f(&block);
        out += block.len() as u64;
    }
    Ok((out, input_hz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ogg_crc_is_the_one_of_the_spec() {
        // CRC-32/POSIX (check 0x765E7680) without its final inversion.
        assert_eq!(ogg_crc(b""), 0);
        assert_eq!(ogg_crc(b"123456789"), 0x89A1_897F);
    }
}
