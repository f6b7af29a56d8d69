//! DDPID (the 128-byte identifier) and DDPMS (128-byte map packets): fixed
//! ASCII fields, read and written.
//!
//! Numbers may be space- or zero-padded on either side (cue2ddp writes them
//! space-padded and right-aligned, HOFA and Sonoris zero-padded); blank
//! means absent. The writer pads with spaces, right-aligned, as cue2ddp.

use super::DdpError;

/// Length of the DDPID file and of one DDPMS packet.
pub const RECORD_LEN: usize = 128;

/// The DDPID stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdpId {
    /// "DDP 2.00".
    pub level: String,
    /// UPC/EAN (13 digits) or `None` when blank.
    pub upc: Option<String>,
    pub map_stream_start: Option<u64>,
    pub msl: Option<u64>,
    pub media: String,
    /// Master ID (48 characters, trailing spaces trimmed).
    pub master_id: String,
    pub book: String,
    /// "CD".
    pub disc_type: String,
}

/// One DDPMS map packet (`VVVM`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapPacket {
    /// DST: "D0" main data, "S0" subcode (PQ, CD-Text), ...
    pub stream_type: String,
    pub pointer: Option<u64>,
    /// DSL: sectors for audio, bytes for subcode streams.
    pub length: Option<u64>,
    pub start: Option<u64>,
    /// SUB: "PQ DESCR", "CDTEXT", ...
    pub subcode: String,
    /// CDM: "DA" for audio.
    pub cd_mode: String,
    pub ssm: String,
    pub scrambled: String,
    pub pre1: Option<u32>,
    pub pre2: Option<u32>,
    pub postgap: Option<u32>,
    pub media: String,
    pub track: Option<u8>,
    pub index: Option<u8>,
    pub isrc: Option<String>,
    pub siz: String,
    /// DSI: the file this packet describes.
    pub file_name: String,
    pub new: String,
    pub pre1_next: Option<u32>,
    pub pause_add: Option<u64>,
    pub offset: Option<u64>,
}

fn text(rec: &[u8], at: usize, len: usize) -> String {
    rec[at..at + len].iter().map(|&b| char::from(b)).collect()
}

fn trimmed(rec: &[u8], at: usize, len: usize) -> String {
    text(rec, at, len).trim().to_string()
}

fn opt(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A space- or zero-padded decimal field; blank is `None`.
pub(super) fn number(
    file: &str,
    field: &'static str,
    rec: &[u8],
    at: usize,
    len: usize,
) -> Result<Option<u64>, DdpError> {
    let raw = text(rec, at, len);
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DdpError::field(
            file,
            field,
            &raw,
            "is not a decimal number",
        ));
    }
    t.parse()
        .map(Some)
        .map_err(|_| DdpError::field(file, field, &raw, "is out of range"))
}

fn small<T: TryFrom<u64>>(
    file: &str,
    field: &'static str,
    rec: &[u8],
    at: usize,
    len: usize,
) -> Result<Option<T>, DdpError> {
    match number(file, field, rec, at, len)? {
        None => Ok(None),
        Some(n) => T::try_from(n)
            .map(Some)
            .map_err(|_| DdpError::field(file, field, &text(rec, at, len), "is out of range")),
    }
}

pub(super) fn parse_ddpid(bytes: &[u8]) -> Result<DdpId, DdpError> {
    const F: &str = "DDPID";
    if bytes.len() < 95 {
        return Err(DdpError::Length {
            file: F.into(),
            len: bytes.len() as u64,
            expected: "128 bytes".into(),
        });
    }
    let mut rec = bytes.to_vec();
    rec.resize(RECORD_LEN, b' ');
    let level = text(&rec, 0, 8);
    if !level.starts_with("DDP ") {
        return Err(DdpError::field(F, "level", &level, "is not \"DDP 2.00\""));
    }
    let upc = opt(trimmed(&rec, 8, 13));
    if let Some(u) = &upc {
        if !u.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DdpError::field(F, "UPC/EAN", u, "is not all digits"));
        }
    }
    Ok(DdpId {
        level: level.trim_end().to_string(),
        upc,
        map_stream_start: number(F, "map stream start", &rec, 21, 8)?,
        msl: number(F, "MSL", &rec, 29, 8)?,
        media: trimmed(&rec, 37, 1),
        master_id: text(&rec, 38, 48).trim_end().to_string(),
        book: trimmed(&rec, 86, 1),
        disc_type: trimmed(&rec, 87, 2),
    })
}

pub(super) fn parse_ddpms(bytes: &[u8]) -> Result<Vec<MapPacket>, DdpError> {
    const F: &str = "DDPMS";
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD_LEN) {
        return Err(DdpError::Length {
            file: F.into(),
            len: bytes.len() as u64,
            expected: "a whole number of 128-byte packets".into(),
        });
    }
    let mut out = Vec::new();
    for (i, rec) in bytes.chunks_exact(RECORD_LEN).enumerate() {
        if &rec[..4] != b"VVVM" {
            return Err(DdpError::field(
                F,
                "packet marker",
                &text(rec, 0, 4),
                &format!("in packet {i} is not \"VVVM\""),
            ));
        }
        out.push(MapPacket {
            stream_type: trimmed(rec, 4, 2),
            pointer: number(F, "DSP", rec, 6, 8)?,
            length: number(F, "DSL", rec, 14, 8)?,
            start: number(F, "DSS", rec, 22, 8)?,
            subcode: trimmed(rec, 30, 8),
            cd_mode: trimmed(rec, 38, 2),
            ssm: trimmed(rec, 40, 1),
            scrambled: trimmed(rec, 41, 1),
            pre1: small(F, "PRE1", rec, 42, 4)?,
            pre2: small(F, "PRE2", rec, 46, 4)?,
            postgap: small(F, "PST", rec, 50, 4)?,
            media: trimmed(rec, 54, 1),
            track: small(F, "TRK", rec, 55, 2)?,
            index: small(F, "IDX", rec, 57, 2)?,
            isrc: opt(trimmed(rec, 59, 12)),
            siz: trimmed(rec, 71, 3),
            file_name: trimmed(rec, 74, 17),
            new: trimmed(rec, 91, 1),
            pre1_next: small(F, "PRE1NXT", rec, 92, 4)?,
            pause_add: number(F, "PAUSEADD", rec, 96, 8)?,
            offset: number(F, "OFS", rec, 104, 9)?,
        });
    }
    Ok(out)
}

/// Writes `s` left-aligned into `rec[at..at+len]` (the rest stays blank).
pub(super) fn put(rec: &mut [u8], at: usize, len: usize, s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(len);
    rec[at..at + n].copy_from_slice(&b[..n]);
}

/// Writes a number right-aligned, space-padded.
pub(super) fn put_num(rec: &mut [u8], at: usize, len: usize, n: Option<u64>) {
    if let Some(n) = n {
        put(rec, at, len, &format!("{n:>len$}"));
    }
}

pub(super) fn format_ddpid(id: &DdpId) -> [u8; RECORD_LEN] {
    let mut rec = [b' '; RECORD_LEN];
    put(&mut rec, 0, 8, &id.level);
    put(&mut rec, 8, 13, id.upc.as_deref().unwrap_or(""));
    put_num(&mut rec, 21, 8, id.map_stream_start);
    put_num(&mut rec, 29, 8, id.msl);
    put(&mut rec, 37, 1, &id.media);
    put(&mut rec, 38, 48, &id.master_id);
    put(&mut rec, 86, 1, &id.book);
    put(&mut rec, 87, 2, &id.disc_type);
    rec
}

pub(super) fn format_packet(p: &MapPacket) -> [u8; RECORD_LEN] {
    let mut rec = [b' '; RECORD_LEN];
    put(&mut rec, 0, 4, "VVVM");
    put(&mut rec, 4, 2, &p.stream_type);
    put_num(&mut rec, 6, 8, p.pointer);
    put_num(&mut rec, 14, 8, p.length);
    put_num(&mut rec, 22, 8, p.start);
    put(&mut rec, 30, 8, &p.subcode);
    put(&mut rec, 38, 2, &p.cd_mode);
    put(&mut rec, 40, 1, &p.ssm);
    put(&mut rec, 41, 1, &p.scrambled);
    put_num(&mut rec, 42, 4, p.pre1.map(u64::from));
    put_num(&mut rec, 46, 4, p.pre2.map(u64::from));
    put_num(&mut rec, 50, 4, p.postgap.map(u64::from));
    put(&mut rec, 54, 1, &p.media);
    if let Some(t) = p.track {
        put(&mut rec, 55, 2, &format!("{t:02}"));
    }
    if let Some(i) = p.index {
        put(&mut rec, 57, 2, &format!("{i:02}"));
    }
    put(&mut rec, 59, 12, p.isrc.as_deref().unwrap_or(""));
    put(&mut rec, 71, 3, &format!("{:>3}", p.siz));
    put(&mut rec, 74, 17, &p.file_name);
    put(&mut rec, 91, 1, &p.new);
    put_num(&mut rec, 92, 4, p.pre1_next.map(u64::from));
    put_num(&mut rec, 96, 8, p.pause_add);
    put_num(&mut rec, 104, 9, p.offset);
    rec
}
