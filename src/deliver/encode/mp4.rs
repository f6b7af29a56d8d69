//! A small MP4 (ISO/IEC 14496-12 and -14) writer for one AAC-LC audio
//! track, the container of the `format: aac` bundles (`.m4a`).
//!
//! The file is written front to back as the encoder hands out access
//! units: `ftyp` (major brand `M4A `), then `mdat` with the raw AAC frames
//! one after the other, then at the end `moov`, whose sample tables are
//! known only then. `moov` holds `mvhd`, one `trak` (`tkhd`, an edit list,
//! `mdia` with `mdhd`, `hdlr` `soun`, `minf` with `smhd`, `dinf` and the
//! sample tables: `stsd` with an `mp4a` entry and its `esds` carrying the
//! AudioSpecificConfig, `stts`, `stsc`, `stsz`, `stco`), and `udta` with an
//! iTunes `meta`/`ilst` holding the encoder (`©too`) and `iTunSMPB`.
//!
//! Encoder delay and padding: the edit list (`elst`) starts the
//! presentation `priming` samples into the media and lasts exactly the
//! master's length, and `iTunSMPB` says the same for iTunes-style players
//! (priming, padding, original length), so ffmpeg and Apple players play
//! back the master's samples and no more. The tags of a track are added
//! afterwards into this `ilst` by [`crate::deliver::mp4tags`] (lofty), which
//! keeps what is there. Every time field is 0 (no clock): same input, same
//! bytes.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

/// Access units per chunk (`stsc`/`stco`): about 0.7 s at 48 kHz.
pub const SAMPLES_PER_CHUNK: usize = 32;

/// What the muxer needs to know of the stream.
#[derive(Debug, Clone)]
pub struct TrackInfo {
    pub sample_rate: u32,
    pub channels: u16,
    /// Samples per access unit (1024 for AAC-LC).
    pub frame_len: u32,
    /// Decoder samples before the first sample of the master.
    pub priming: u32,
    /// The master's length, samples per channel.
    pub frames: u64,
    /// The AudioSpecificConfig (esds DecoderSpecificInfo).
    pub asc: Vec<u8>,
    /// `©too`.
    pub encoder: String,
}

/// One box being built in memory: `open` writes the header, `close`
/// patches the size.
#[derive(Default)]
pub struct BoxBuf {
    pub buf: Vec<u8>,
    stack: Vec<usize>,
}

impl BoxBuf {
    pub fn open(&mut self, kind: &[u8; 4]) -> &mut Self {
        self.stack.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(kind);
        self
    }

    /// A full box: version 0 and `flags`.
    pub fn open_full(&mut self, kind: &[u8; 4], flags: u32) -> &mut Self {
        self.open(kind);
        self.u32(flags & 0x00FF_FFFF)
    }

    pub fn close(&mut self) -> &mut Self {
        let at = self.stack.pop().expect("close matches an open");
        let len = (self.buf.len() - at) as u32;
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        self
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.buf.resize(self.buf.len() + n, 0);
        self
    }
}

/// The unity matrix of `mvhd` and `tkhd`.
fn matrix(b: &mut BoxBuf) {
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        b.u32(v);
    }
}

/// An MPEG-4 descriptor (tag, length in one byte or the 4-byte form).
fn descriptor(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len() as u32;
    v.extend_from_slice(&[
        0x80 | ((n >> 21) & 0x7F) as u8,
        0x80 | ((n >> 14) & 0x7F) as u8,
        0x80 | ((n >> 7) & 0x7F) as u8,
        (n & 0x7F) as u8,
    ]);
    v.extend_from_slice(body);
    v
}

/// The `esds` payload: ES_Descriptor with the DecoderConfigDescriptor
/// (MPEG-4 audio, 0x40), the AudioSpecificConfig and the SL config.
fn es_descriptor(t: &TrackInfo, max_bytes: u32, avg_bps: u32, max_bps: u32) -> Vec<u8> {
    let mut dcd = vec![0x40, 0x15];
    dcd.extend_from_slice(&max_bytes.to_be_bytes()[1..]);
    dcd.extend_from_slice(&max_bps.to_be_bytes());
    dcd.extend_from_slice(&avg_bps.to_be_bytes());
    dcd.extend(descriptor(0x05, &t.asc));
    let mut es = vec![0, 1, 0]; // ES_ID 1, no flags
    es.extend(descriptor(0x04, &dcd));
    es.extend(descriptor(0x06, &[0x02]));
    descriptor(0x03, &es)
}

/// An iTunes `ilst` text item (`data` type 1, UTF-8).
pub fn ilst_text(b: &mut BoxBuf, kind: &[u8; 4], text: &str) {
    b.open(kind)
        .open_full(b"data", 1)
        .u32(0)
        .bytes(text.as_bytes());
    b.close().close();
}

/// An iTunes freeform item `----:mean:name` (text).
pub fn ilst_freeform(b: &mut BoxBuf, mean: &str, name: &str, text: &str) {
    b.open(b"----");
    b.open_full(b"mean", 0).bytes(mean.as_bytes()).close();
    b.open_full(b"name", 0).bytes(name.as_bytes()).close();
    b.open_full(b"data", 1)
        .u32(0)
        .bytes(text.as_bytes())
        .close();
    b.close();
}

/// `iTunSMPB`: 0, priming, padding, original length (hex, Apple's layout).
pub fn itunsmpb(priming: u32, padding: u32, frames: u64) -> String {
    let mut s = format!(" 00000000 {priming:08X} {padding:08X} {frames:016X}");
    for _ in 0..8 {
        s.push_str(" 00000000");
    }
    s
}

/// The whole `moov` box for the access unit `sizes`, the first of which
/// starts at byte `mdat_data` of the file.
pub fn moov(t: &TrackInfo, sizes: &[u32], mdat_data: u64) -> Result<Vec<u8>, String> {
    let units = sizes.len() as u64;
    let media = units * u64::from(t.frame_len);
    let rate = t.sample_rate;
    let secs = (media as f64 / f64::from(rate)).max(1e-9);
    let total: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
    let avg_bps = (total as f64 * 8.0 / secs).round() as u32;
    let max_bytes = sizes.iter().copied().max().unwrap_or(0);
    let max_bps = (f64::from(max_bytes) * 8.0 * f64::from(rate) / f64::from(t.frame_len)) as u32;
    let dur =
        |v: u64| u32::try_from(v).map_err(|_| format!("{v} samples do not fit a 32-bit duration"));
    let frames = dur(t.frames)?;
    let padding = media.saturating_sub(u64::from(t.priming) + t.frames);

    let mut b = BoxBuf::default();
    b.open(b"moov");
    b.open_full(b"mvhd", 0).u32(0).u32(0).u32(rate).u32(frames);
    b.u32(0x0001_0000).u16(0x0100).zeros(10);
    matrix(&mut b);
    b.zeros(24).u32(2).close();

    b.open(b"trak");
    b.open_full(b"tkhd", 3)
        .u32(0)
        .u32(0)
        .u32(1)
        .u32(0)
        .u32(frames);
    b.zeros(8).u16(0).u16(0).u16(0x0100).u16(0);
    matrix(&mut b);
    b.u32(0).u32(0).close();
    b.open(b"edts").open_full(b"elst", 0).u32(1);
    b.u32(frames).u32(t.priming).u16(1).u16(0);
    b.close().close();

    b.open(b"mdia");
    b.open_full(b"mdhd", 0)
        .u32(0)
        .u32(0)
        .u32(rate)
        .u32(dur(media)?);
    b.u16(0x55C4).u16(0).close(); // language "und"
    b.open_full(b"hdlr", 0).u32(0).bytes(b"soun").zeros(12);
    b.bytes(b"SoundHandler\0").close();
    b.open(b"minf");
    b.open_full(b"smhd", 0).u16(0).u16(0).close();
    b.open(b"dinf").open_full(b"dref", 0).u32(1);
    b.open_full(b"url ", 1).close().close().close();

    b.open(b"stbl");
    b.open_full(b"stsd", 0).u32(1);
    b.open(b"mp4a").zeros(6).u16(1).zeros(8);
    b.u16(t.channels).u16(16).u16(0).u16(0);
    b.u32(if rate <= 0xFFFF { rate << 16 } else { 0 });
    b.open_full(b"esds", 0)
        .bytes(&es_descriptor(t, max_bytes, avg_bps, max_bps))
        .close();
    b.close().close();
    b.open_full(b"stts", 0);
    if units > 0 {
        b.u32(1).u32(dur(units)?).u32(t.frame_len);
    } else {
        b.u32(0);
    }
    b.close();
    let chunks = sizes.len().div_ceil(SAMPLES_PER_CHUNK);
    let last = sizes.len() - chunks.saturating_sub(1) * SAMPLES_PER_CHUNK;
    b.open_full(b"stsc", 0);
    if chunks == 0 {
        b.u32(0);
    } else if chunks == 1 || last == SAMPLES_PER_CHUNK {
        b.u32(1)
            .u32(1)
            .u32(sizes.len().min(SAMPLES_PER_CHUNK) as u32)
            .u32(1);
    } else {
        b.u32(2).u32(1).u32(SAMPLES_PER_CHUNK as u32).u32(1);
        b.u32(chunks as u32).u32(last as u32).u32(1);
    }
    b.close();
    b.open_full(b"stsz", 0).u32(0).u32(sizes.len() as u32);
    for &s in sizes {
        b.u32(s);
    }
    b.close();
    b.open_full(b"stco", 0).u32(chunks as u32);
    let mut at = mdat_data;
    for chunk in sizes.chunks(SAMPLES_PER_CHUNK) {
        let off = u32::try_from(at).map_err(|_| "the file passes 4 GiB".to_string())?;
        b.u32(off);
        at += chunk.iter().map(|&s| u64::from(s)).sum::<u64>();
    }
    b.close();
    b.close().close().close().close(); // stbl minf mdia trak

    b.open(b"udta");
    b.open_full(b"meta", 0);
    b.open_full(b"hdlr", 0)
        .u32(0)
        .bytes(b"mdirappl")
        .zeros(8)
        .u8(0)
        .close();
    b.open(b"ilst");
    ilst_text(&mut b, b"\xA9too", &t.encoder);
    ilst_freeform(
        &mut b,
        "com.apple.iTunes",
        "iTunSMPB",
        &itunsmpb(t.priming, padding as u32, t.frames),
    );
    b.close().close().close().close(); // ilst meta udta moov
    Ok(b.buf)
}

/// Streams access units into `mdat` and writes `moov` at the end.
pub struct Mp4Writer {
    out: BufWriter<File>,
    mdat_at: u64,
    written: u64,
    sizes: Vec<u32>,
}

impl Mp4Writer {
    /// Writes `ftyp` and the `mdat` header into `file`.
    pub fn new(file: File) -> std::io::Result<Mp4Writer> {
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let mut b = BoxBuf::default();
        b.open(b"ftyp").bytes(b"M4A ").u32(0);
        b.bytes(b"M4A ").bytes(b"mp42").bytes(b"isom").close();
        let mdat_at = b.buf.len() as u64;
        b.u32(0).bytes(b"mdat");
        out.write_all(&b.buf)?;
        Ok(Mp4Writer {
            out,
            mdat_at,
            written: 0,
            sizes: Vec::new(),
        })
    }

    /// The next access unit.
    pub fn unit(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.out.write_all(data)?;
        self.written += data.len() as u64;
        self.sizes.push(data.len() as u32);
        Ok(())
    }

    /// Access units so far.
    pub fn units(&self) -> usize {
        self.sizes.len()
    }

    /// Patches the `mdat` size, appends `moov` and closes the file (not
    /// synced).
    pub fn finish(mut self, t: &TrackInfo) -> Result<(), String> {
        let mdat_len = self.written + 8;
        let len = u32::try_from(mdat_len).map_err(|_| "the audio passes 4 GiB".to_string())?;
        let moov = moov(t, &self.sizes, self.mdat_at + 8)?;
        let io = |e: std::io::Error| e.to_string();
        self.out.write_all(&moov).map_err(io)?;
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| e.into_error().to_string())?;
        file.seek(SeekFrom::Start(self.mdat_at)).map_err(io)?;
        file.write_all(&len.to_be_bytes()).map_err(io)?;
        file.flush().map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_and_boxes_carry_their_lengths() {
        let d = descriptor(5, &[0x12, 0x10]);
        assert_eq!(d, vec![5, 0x80, 0x80, 0x80, 2, 0x12, 0x10]);
        let mut b = BoxBuf::default();
        b.open(b"abcd").u32(7).open(b"efgh").close().close();
        assert_eq!(&b.buf[..4], &20u32.to_be_bytes());
        assert_eq!(&b.buf[12..16], &8u32.to_be_bytes());
        assert_eq!(itunsmpb(1024, 100, 44_100).len(), 9 + 9 + 9 + 17 + 8 * 9);
    }
}
