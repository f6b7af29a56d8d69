//! Reads back the one audio track of an MP4 file: the AudioSpecificConfig,
//! the sample tables and the edit list, then the access units one by one.
//! Enough for the files [`super::mp4`] writes, and for those after lofty
//! has put tags into their `moov` (boxes are found by walking, not by
//! place); version 0 and 1 boxes, `stco` and `co64`.
//!
//! symphonia reads MP4 too, but ignores the edit list, so a decoded file
//! would be 1024 samples too long at the start and carry the padding at
//! the end: the ceiling and `verify` decode through here instead.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What [`read_track`] found.
#[derive(Debug, Clone)]
pub struct Mp4Track {
    pub sample_rate: u32,
    pub channels: u16,
    /// The DecoderSpecificInfo of the `esds`.
    pub asc: Vec<u8>,
    /// Byte offset and size of every access unit.
    pub units: Vec<(u64, u32)>,
    /// Decoded samples dropped at the start (the edit's media time).
    pub skip: u64,
    /// Samples kept after those (the edit's duration); `None`: all.
    pub keep: Option<u64>,
    /// `mdhd` duration, media samples.
    pub media_samples: u64,
}

fn be(b: &[u8], at: usize, n: usize) -> Result<u64, String> {
    let s = b
        .get(at..at + n)
        .ok_or_else(|| format!("a box ends early (byte {at})"))?;
    Ok(s.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// A box: its type and its payload.
type Mp4Box<'a> = ([u8; 4], &'a [u8]);

/// The children of a box payload.
fn children(mut b: &[u8]) -> Result<Vec<Mp4Box<'_>>, String> {
    let mut out = Vec::new();
    while b.len() >= 8 {
        let mut len = be(b, 0, 4)? as usize;
        let kind: [u8; 4] = b[4..8].try_into().expect("4 bytes");
        let mut head = 8;
        if len == 1 {
            len = be(b, 8, 8)? as usize;
            head = 16;
        } else if len == 0 {
            len = b.len();
        }
        if len < head || len > b.len() {
            return Err(format!(
                "box `{}` claims {len} bytes",
                String::from_utf8_lossy(&kind)
            ));
        }
        out.push((kind, &b[head..len]));
        b = &b[len..];
    }
    Ok(out)
}

fn child<'a>(b: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, String> {
    Ok(children(b)?
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, p)| p))
}

fn need<'a>(b: &'a [u8], kind: &[u8; 4]) -> Result<&'a [u8], String> {
    child(b, kind)?.ok_or_else(|| format!("no `{}` box", String::from_utf8_lossy(kind)))
}

/// Tag and body of the MPEG-4 descriptor at the start of `b`, and what follows.
fn descriptor(b: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let tag = *b.first().ok_or("an empty descriptor")?;
    let (mut len, mut i) = (0usize, 1);
    loop {
        let x = *b.get(i).ok_or("a descriptor's length runs out")?;
        len = (len << 7) | usize::from(x & 0x7F);
        i += 1;
        if x & 0x80 == 0 || i == 5 {
            break;
        }
    }
    let body = b.get(i..i + len).ok_or("a descriptor runs past its box")?;
    Ok((tag, body, &b[i + len..]))
}

/// The AudioSpecificConfig inside an `esds` payload.
fn esds_asc(esds: &[u8]) -> Result<Vec<u8>, String> {
    let (tag, es, _) = descriptor(esds.get(4..).ok_or("esds is empty")?)?;
    if tag != 3 {
        return Err(format!("esds holds descriptor {tag}, not an ES_Descriptor"));
    }
    let flags = *es.get(2).ok_or("a short ES_Descriptor")?;
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2;
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(*es.get(at).ok_or("a short ES_Descriptor")?);
    }
    if flags & 0x20 != 0 {
        at += 2;
    }
    let mut rest = es.get(at..).ok_or("a short ES_Descriptor")?;
    while !rest.is_empty() {
        let (tag, body, next) = descriptor(rest)?;
        if tag == 4 {
            if body.first() != Some(&0x40) {
                return Err(format!("object type 0x{:02X} is not MPEG-4 audio", body[0]));
            }
            let (t, asc, _) = descriptor(body.get(13..).ok_or("a short DecoderConfigDescriptor")?)?;
            if t != 5 {
                return Err("no DecoderSpecificInfo".into());
            }
            return Ok(asc.to_vec());
        }
        rest = next;
    }
    Err("no DecoderConfigDescriptor".into())
}

/// (timescale, duration) of an `mvhd` or `mdhd` payload.
fn timescale(b: &[u8]) -> Result<(u64, u64), String> {
    if b.first() == Some(&1) {
        Ok((be(b, 20, 4)?, be(b, 24, 8)?))
    } else {
        Ok((be(b, 12, 4)?, be(b, 16, 4)?))
    }
}

/// Reads the `moov` of the file at `path` and its audio track.
pub fn read_track(path: &Path) -> Result<Mp4Track, String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let mut at = 0u64;
    let moov = loop {
        if at + 8 > size {
            return Err("no `moov` box".into());
        }
        let mut head = [0u8; 16];
        file.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
        let n = file.read(&mut head).map_err(|e| e.to_string())?;
        let mut len = be(&head[..n], 0, 4)?;
        let mut hl = 8;
        if len == 1 {
            len = be(&head[..n], 8, 8)?;
            hl = 16;
        } else if len == 0 {
            len = size - at;
        }
        if len < hl || at + len > size {
            return Err(format!("a top-level box at byte {at} claims {len} bytes"));
        }
        if &head[4..8] == b"moov" {
            if len > 64 << 20 {
                return Err(format!("`moov` of {len} bytes"));
            }
            let mut buf = vec![0u8; (len - hl) as usize];
            file.seek(SeekFrom::Start(at + hl))
                .map_err(|e| e.to_string())?;
            file.read_exact(&mut buf).map_err(|e| e.to_string())?;
            break buf;
        }
        at += len;
    };
    let (movie_ts, _) = timescale(need(&moov, b"mvhd")?)?;
    let trak = children(&moov)?
        .into_iter()
        .filter(|(k, _)| k == b"trak")
        .find_map(|(_, t)| {
            let mdia = child(t, b"mdia").ok().flatten()?;
            let hdlr = child(mdia, b"hdlr").ok().flatten()?;
            (hdlr.get(8..12) == Some(b"soun")).then_some(t)
        })
        .ok_or("no audio track")?;
    let mdia = need(trak, b"mdia")?;
    let (media_ts, media_samples) = timescale(need(mdia, b"mdhd")?)?;
    let stbl = need(need(mdia, b"minf")?, b"stbl")?;
    let stsd = need(stbl, b"stsd")?;
    let entries = children(stsd.get(8..).ok_or("stsd is empty")?)?;
    let (kind, mp4a) = entries.first().ok_or("stsd has no entry")?;
    if kind != b"mp4a" {
        return Err(format!(
            "the track is `{}`, not AAC",
            String::from_utf8_lossy(kind)
        ));
    }
    let channels = be(mp4a, 16, 2)? as u16;
    let esds = need(mp4a.get(28..).ok_or("a short mp4a entry")?, b"esds")?;
    let asc = esds_asc(esds)?;
    let sizes = need(stbl, b"stsz")?;
    let (fixed, count) = (be(sizes, 4, 4)? as u32, be(sizes, 8, 4)? as usize);
    let size_of = |i: usize| -> Result<u32, String> {
        if fixed != 0 {
            Ok(fixed)
        } else {
            Ok(be(sizes, 12 + 4 * i, 4)? as u32)
        }
    };
    let (offsets, wide) = match child(stbl, b"stco")? {
        Some(b) => (b, false),
        None => (need(stbl, b"co64")?, true),
    };
    let chunks = be(offsets, 4, 4)? as usize;
    let chunk_at = |c: usize| -> Result<u64, String> {
        if wide {
            be(offsets, 8 + 8 * c, 8)
        } else {
            be(offsets, 8 + 4 * c, 4)
        }
    };
    let stsc = need(stbl, b"stsc")?;
    let runs = be(stsc, 4, 4)? as usize;
    let mut units = Vec::with_capacity(count);
    for r in 0..runs {
        let first = be(stsc, 8 + 12 * r, 4)? as usize;
        let per = be(stsc, 12 + 12 * r, 4)? as usize;
        let next = if r + 1 < runs {
            be(stsc, 8 + 12 * (r + 1), 4)? as usize
        } else {
            chunks + 1
        };
        for c in first.max(1)..next.min(chunks + 1) {
            let mut off = chunk_at(c - 1)?;
            for _ in 0..per {
                if units.len() == count {
                    break;
                }
                let s = size_of(units.len())?;
                units.push((off, s));
                off += u64::from(s);
            }
        }
    }
    if units.len() != count {
        return Err(format!(
            "the chunk tables place {} of {count} frames",
            units.len()
        ));
    }
    let (mut skip, mut keep) = (0u64, None);
    if let Some(elst) = child(trak, b"edts")?
        .map(|e| need(e, b"elst"))
        .transpose()?
    {
        let v1 = elst.first() == Some(&1);
        if be(elst, 4, 4)? >= 1 {
            let (dur, time) = if v1 {
                (be(elst, 8, 8)?, be(elst, 16, 8)?)
            } else {
                (be(elst, 8, 4)?, be(elst, 12, 4)?)
            };
            if time != u64::from(u32::MAX) && (v1 || time < 1 << 31) {
                skip = time;
            }
            keep = Some(dur * media_ts / movie_ts.max(1));
        }
    }
    Ok(Mp4Track {
        sample_rate: media_ts as u32,
        channels,
        asc,
        units,
        skip,
        keep,
        media_samples,
    })
}

/// Hands out the access units of a track in order.
pub struct UnitReader<'a> {
    rd: BufReader<File>,
    track: &'a Mp4Track,
    next: usize,
    /// Byte the reader stands at.
    pos: u64,
    buf: Vec<u8>,
}

impl<'a> UnitReader<'a> {
    pub fn open(path: &Path, track: &'a Mp4Track) -> Result<UnitReader<'a>, String> {
        let f = File::open(path).map_err(|e| e.to_string())?;
        Ok(UnitReader {
            rd: BufReader::with_capacity(1 << 16, f),
            track,
            next: 0,
            pos: u64::MAX,
            buf: Vec::new(),
        })
    }

    /// Index of the unit last handed out.
    pub fn index(&self) -> usize {
        self.next.saturating_sub(1)
    }

    pub fn next_unit(&mut self) -> Result<Option<&[u8]>, String> {
        let Some(&(off, len)) = self.track.units.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        if off != self.pos {
            self.rd
                .seek(SeekFrom::Start(off))
                .map_err(|e| e.to_string())?;
        }
        self.pos = off + u64::from(len);
        self.buf.resize(len as usize, 0);
        self.rd
            .read_exact(&mut self.buf)
            .map_err(|e| format!("frame {}: {e}", self.next - 1))?;
        Ok(Some(&self.buf))
    }
}
