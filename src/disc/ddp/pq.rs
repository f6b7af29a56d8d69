//! The PQ descriptor (`PQDESCR`, cue2ddp's `SD`): 64-byte `VVVS` entries,
//! one per index, from the lead-in (track "00") to the lead-out ("AA").
//!
//! Entry layout: 0 "VVVS" · 4 track (2) · 6 index (2) · 8 A-time (8:
//! "HHMMSSFF", the hours blank in cue2ddp's "  MMSSFF") · 16 C1 (2: the
//! control nibble in hex, then "1", or "S" for SCMS) · 18 C2 (2) · 20 ISRC
//! (12) · 32 UPC/EAN (13) · 45 user text (19).

use super::{Control, DdpError};

pub const ENTRY_LEN: usize = 64;

/// Which part of the disc an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PqTrack {
    /// "00".
    LeadIn,
    /// "01".."99".
    Track(u8),
    /// "AA".
    LeadOut,
}

/// One PQ entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PqEntry {
    pub track: PqTrack,
    pub index: u8,
    /// A-time in frames from 00:00:00.
    pub frame: u32,
    pub control: Control,
    /// C2 as stored (normally blank).
    pub c2: String,
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub text: String,
}

fn field(e: &[u8], at: usize, len: usize) -> String {
    e[at..at + len].iter().map(|&b| char::from(b)).collect()
}

fn digits(file: &str, what: &'static str, raw: &str, blank_zero: bool) -> Result<u32, DdpError> {
    let t = raw.trim();
    if t.is_empty() && blank_zero {
        return Ok(0);
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DdpError::field(file, what, raw, "is not a number"));
    }
    t.parse()
        .map_err(|_| DdpError::field(file, what, raw, "is out of range"))
}

/// Parses a whole PQ file.
pub fn parse_pq(file: &str, bytes: &[u8]) -> Result<Vec<PqEntry>, DdpError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(ENTRY_LEN) {
        return Err(DdpError::Length {
            file: file.into(),
            len: bytes.len() as u64,
            expected: "a whole number of 64-byte entries".into(),
        });
    }
    bytes
        .chunks_exact(ENTRY_LEN)
        .enumerate()
        .map(|(i, e)| parse_entry(&format!("{file} entry {i}"), e))
        .collect()
}

fn parse_entry(ctx: &str, e: &[u8]) -> Result<PqEntry, DdpError> {
    if &e[..4] != b"VVVS" {
        return Err(DdpError::field(
            ctx,
            "marker",
            &field(e, 0, 4),
            "is not \"VVVS\"",
        ));
    }
    let tk = field(e, 4, 2);
    let track = match tk.as_str() {
        "AA" | "aa" => PqTrack::LeadOut,
        _ => match digits(ctx, "track", &tk, false)? {
            0 => PqTrack::LeadIn,
            n @ 1..=99 => PqTrack::Track(n as u8),
            _ => return Err(DdpError::field(ctx, "track", &tk, "is not 00..99 or AA")),
        },
    };
    let idx = field(e, 6, 2);
    let index = digits(ctx, "index", &idx, false)?;
    if index > 99 {
        return Err(DdpError::field(ctx, "index", &idx, "is not 00..99"));
    }
    let atime = field(e, 8, 8);
    let h = digits(ctx, "A-time hours", &field(e, 8, 2), true)?;
    let m = digits(ctx, "A-time minutes", &field(e, 10, 2), false)?;
    let s = digits(ctx, "A-time seconds", &field(e, 12, 2), false)?;
    let f = digits(ctx, "A-time frames", &field(e, 14, 2), false)?;
    if s > 59 || f > 74 {
        return Err(DdpError::field(
            ctx,
            "A-time",
            &atime,
            "has seconds over 59 or frames over 74",
        ));
    }
    let frame = ((h * 60 + m) * 60 + s) * 75 + f;
    let c1 = field(e, 16, 2);
    let control = parse_c1(ctx, &c1)?;
    let opt = |s: String| {
        let t = s.trim().to_string();
        (!t.is_empty()).then_some(t)
    };
    Ok(PqEntry {
        track,
        index: index as u8,
        frame,
        control,
        c2: field(e, 18, 2).trim().to_string(),
        isrc: opt(field(e, 20, 12)),
        upc: opt(field(e, 32, 13)),
        text: field(e, 45, 19).trim_end().to_string(),
    })
}

fn parse_c1(ctx: &str, c1: &str) -> Result<Control, DdpError> {
    let mut ch = c1.chars();
    let nibble =
        ch.next().and_then(|c| c.to_digit(16)).ok_or_else(|| {
            DdpError::field(ctx, "C1", c1, "does not start with a hex control nibble")
        })? as u8;
    let scms = match ch.next() {
        Some('S') | Some('s') => true,
        Some('1') | Some(' ') | Some('0') => false,
        _ => return Err(DdpError::field(ctx, "C1", c1, "does not end in '1' or 'S'")),
    };
    Ok(Control::from_nibble(nibble, scms))
}

/// A-time as the writer stores it: two blanks (hours) + "MMSSFF".
pub fn format_atime(frame: u32) -> String {
    let (m, s, f) = (frame / 75 / 60, frame / 75 % 60, frame % 75);
    format!("  {m:02}{s:02}{f:02}")
}

/// One entry, cue2ddp's layout.
pub fn format_entry(e: &PqEntry) -> [u8; ENTRY_LEN] {
    let mut rec = [b' '; ENTRY_LEN];
    let put = |rec: &mut [u8; ENTRY_LEN], at: usize, len: usize, s: &str| {
        let b = s.as_bytes();
        let n = b.len().min(len);
        rec[at..at + n].copy_from_slice(&b[..n]);
    };
    put(&mut rec, 0, 4, "VVVS");
    let tk = match e.track {
        PqTrack::LeadIn => "00".to_string(),
        PqTrack::Track(n) => format!("{n:02}"),
        PqTrack::LeadOut => "AA".to_string(),
    };
    put(&mut rec, 4, 2, &tk);
    put(&mut rec, 6, 2, &format!("{:02}", e.index));
    put(&mut rec, 8, 8, &format_atime(e.frame));
    let c1 = format!(
        "{:X}{}",
        e.control.nibble(),
        if e.control.scms { 'S' } else { '1' }
    );
    put(&mut rec, 16, 2, &c1);
    put(&mut rec, 18, 2, &e.c2);
    put(&mut rec, 20, 12, e.isrc.as_deref().unwrap_or(""));
    put(&mut rec, 32, 13, e.upc.as_deref().unwrap_or(""));
    put(&mut rec, 45, 19, &e.text);
    rec
}
