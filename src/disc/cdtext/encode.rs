//! CD-Text encoder: [`CdText`] → raw 18-byte packs.
//!
//! Per block, pack types in ascending order; the strings of one type (disc
//! first, then every track) are laid end to end, NUL-terminated, cut into
//! 12-byte payloads and the last payload padded with zeros. Each pack names
//! the track of its first byte and how many characters of that string came
//! before (0..15, capped). A type that any disc or track entry has is
//! written for all of them, with empty strings for the rest. Three 0x8F
//! packs close each block. The output for libburn's NIGHTCATS.CUE is
//! byte-identical to cdrskin's.

use super::{
    msjis, seal_pack, CdText, CdTextBlock, CdTextError, Charset, TextField, MAX_BLOCKS,
    MAX_TEXT_PACKS, PACK_LEN,
};

/// Encoder choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Write a TAB ("same as the previous track") for a track whose text
    /// equals the previous track's. Off by default: some players show the
    /// TAB instead of repeating.
    pub use_tab: bool,
}

/// One string (or the genre record) of a pack type: the track it belongs
/// to, its bytes with the terminator, and how many leading bytes are not
/// characters (the genre code).
struct Entry {
    track: u8,
    bytes: Vec<u8>,
    prefix: usize,
}

/// The payload packs of one block, without sequence numbers yet.
struct Pending {
    pack_type: u8,
    track: u8,
    cp_byte: u8,
    data: [u8; 12],
}

pub(super) fn encode(text: &CdText, options: &EncodeOptions) -> Result<Vec<u8>, CdTextError> {
    if text.blocks.len() > MAX_BLOCKS {
        return Err(CdTextError::TooManyBlocks {
            count: text.blocks.len(),
        });
    }
    let mut per_block = Vec::with_capacity(text.blocks.len());
    for (b, block) in text.blocks.iter().enumerate() {
        check_block(b, block)?;
        let packs = block_packs(b, block, options)?;
        if packs.len() > MAX_TEXT_PACKS {
            return Err(CdTextError::TooManyTextPacks {
                block: b,
                count: packs.len(),
            });
        }
        per_block.push(packs);
    }
    // Last sequence number of every block (text packs + 3 size packs - 1).
    let mut last_seq = [0u8; 8];
    let mut languages = [0u8; 8];
    for (b, packs) in per_block.iter().enumerate() {
        // At most 253 + 3 - 1 = 255: fits.
        last_seq[b] = (packs.len() + 2) as u8;
        languages[b] = text.blocks[b].language;
    }
    let mut out = Vec::new();
    for (b, (block, packs)) in text.blocks.iter().zip(&per_block).enumerate() {
        let block_bits = (b as u8) << 4;
        let mut counts = [0u8; 16];
        for p in packs {
            counts[usize::from(p.pack_type - 0x80)] += 1;
        }
        counts[15] = 3;
        let mut seq: u8 = 0;
        for p in packs {
            let mut pack = [0u8; PACK_LEN];
            pack[0] = p.pack_type;
            pack[1] = p.track;
            pack[2] = seq;
            pack[3] = p.cp_byte | block_bits;
            pack[4..16].copy_from_slice(&p.data);
            seal_pack(&mut pack);
            out.extend_from_slice(&pack);
            seq += 1;
        }
        let mut info = [0u8; 36];
        info[0] = block.charset.code();
        info[1] = block.first_track;
        info[2] = block.last_track;
        info[3] = block.copyright;
        info[4..20].copy_from_slice(&counts);
        info[20..28].copy_from_slice(&last_seq);
        info[28..36].copy_from_slice(&languages);
        for (i, chunk) in info.chunks_exact(12).enumerate() {
            let mut pack = [0u8; PACK_LEN];
            pack[0] = 0x8F;
            pack[1] = i as u8;
            pack[2] = seq;
            pack[3] = block_bits;
            pack[4..16].copy_from_slice(chunk);
            seal_pack(&mut pack);
            out.extend_from_slice(&pack);
            seq = seq.wrapping_add(1);
        }
    }
    Ok(out)
}

fn check_block(b: usize, block: &CdTextBlock) -> Result<(), CdTextError> {
    let bad = |message: String| Err(CdTextError::BadBlock { block: b, message });
    if block.first_track == 0 || block.last_track > 99 || block.first_track > block.last_track {
        return bad(format!(
            "tracks {}..{} are not a range within 1..99",
            block.first_track, block.last_track
        ));
    }
    let n = usize::from(block.last_track - block.first_track) + 1;
    if block.tracks.len() != n {
        return bad(format!(
            "has {} track entries for tracks {}..{} ({n})",
            block.tracks.len(),
            block.first_track,
            block.last_track
        ));
    }
    for p in &block.raw_packs {
        if !matches!(p.pack_type, 0x88..=0x8C) {
            return bad(format!(
                "kept pack of type {:#04x}; only 0x88..0x8C are kept raw",
                p.pack_type
            ));
        }
    }
    Ok(())
}

/// All payload packs of a block except the size information, in type order.
fn block_packs(
    b: usize,
    block: &CdTextBlock,
    options: &EncodeOptions,
) -> Result<Vec<Pending>, CdTextError> {
    let mut packs = Vec::new();
    let dbcs = block.charset.double_byte();
    for t in 0x80u8..=0x8E {
        let entries: Vec<Entry> = match t {
            0x80..=0x85 | 0x8E => {
                let field = TextField::from_pack_type(t).expect("text pack type");
                text_entries(b, block, field, options)?
            }
            0x86 => single(b, block, "DISC_ID", block.disc_id.as_deref())?,
            0x8D => single(b, block, "closed information", block.closed_info.as_deref())?,
            0x87 => match &block.genre {
                None => Vec::new(),
                Some(g) => {
                    let mut bytes = g.code.to_be_bytes().to_vec();
                    bytes.extend(to_bytes(b, "GENRE", &g.text, block.charset, dbcs)?);
                    bytes.extend(terminator(dbcs));
                    vec![Entry {
                        track: 0,
                        bytes,
                        prefix: 2,
                    }]
                }
            },
            _ => {
                for p in block.raw_packs.iter().filter(|p| p.pack_type == t) {
                    packs.push(Pending {
                        pack_type: t,
                        track: p.track,
                        cp_byte: 0,
                        data: p.data,
                    });
                }
                continue;
            }
        };
        let dbcc_bit = if dbcs && matches!(t, 0x80..=0x85 | 0x87) {
            0x80
        } else {
            0
        };
        lay_out(t, &entries, dbcc_bit, &mut packs);
    }
    Ok(packs)
}

fn terminator(dbcs: bool) -> &'static [u8] {
    if dbcs {
        &[0, 0]
    } else {
        &[0]
    }
}

/// A disc-only string type (0x86, 0x8D): single-byte text.
fn single(
    b: usize,
    block: &CdTextBlock,
    what: &str,
    text: Option<&str>,
) -> Result<Vec<Entry>, CdTextError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let charset = if block.charset.double_byte() {
        Charset::Ascii
    } else {
        block.charset
    };
    let mut bytes = to_bytes(b, what, text, charset, false)?;
    bytes.push(0);
    Ok(vec![Entry {
        track: 0,
        bytes,
        prefix: 0,
    }])
}

/// Disc and track strings of one field, or nothing when no entry has it.
fn text_entries(
    b: usize,
    block: &CdTextBlock,
    field: TextField,
    options: &EncodeOptions,
) -> Result<Vec<Entry>, CdTextError> {
    let present =
        block.disc.get(field).is_some() || block.tracks.iter().any(|t| t.get(field).is_some());
    if !present {
        return Ok(Vec::new());
    }
    let single_byte = field.always_single_byte();
    let dbcs = block.charset.double_byte() && !single_byte;
    let charset = if block.charset.double_byte() && single_byte {
        Charset::Ascii
    } else {
        block.charset
    };
    let slots = std::iter::once((0u8, &block.disc)).chain(
        block
            .tracks
            .iter()
            .enumerate()
            .map(|(i, f)| (block.first_track + i as u8, f)),
    );
    let mut entries = Vec::new();
    let mut previous: Option<&str> = None;
    for (slot, (track, fields)) in slots.enumerate() {
        let text = fields.get(field).map(String::as_str).unwrap_or("");
        let tab = options.use_tab
            && !single_byte
            && slot >= 2
            && !text.is_empty()
            && previous == Some(text);
        let mut bytes = if tab {
            if dbcs {
                vec![0x09, 0x09]
            } else {
                vec![0x09]
            }
        } else {
            let what = if track == 0 {
                format!("disc {}", field.name())
            } else {
                format!("track {track} {}", field.name())
            };
            to_bytes(b, &what, text, charset, dbcs)?
        };
        bytes.extend(terminator(dbcs));
        entries.push(Entry {
            track,
            bytes,
            prefix: 0,
        });
        previous = Some(text);
    }
    Ok(entries)
}

/// Converts text to the block's character set, naming the text on error.
fn to_bytes(
    block: usize,
    what: &str,
    text: &str,
    charset: Charset,
    dbcs: bool,
) -> Result<Vec<u8>, CdTextError> {
    let fail = |ch: char, name: &'static str| CdTextError::Unencodable {
        what: format!("block {block} {what}"),
        text: text.to_string(),
        ch,
        charset: name,
    };
    if dbcs {
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let code = msjis::encode_char(ch).ok_or_else(|| fail(ch, "MS-JIS"))?;
            out.extend_from_slice(&code.to_be_bytes());
        }
        return Ok(out);
    }
    let (limit, name) = match charset {
        Charset::Ascii => (0x7F, "ASCII (ISO 646)"),
        _ => (0xFF, "ISO-8859-1 (Latin-1)"),
    };
    text.chars()
        .map(|ch| {
            let c = u32::from(ch);
            if c == 0 || c > limit {
                Err(fail(ch, name))
            } else {
                Ok(c as u8)
            }
        })
        .collect()
}

/// Cuts the entries of one type into packs.
fn lay_out(t: u8, entries: &[Entry], dbcc_bit: u8, packs: &mut Vec<Pending>) {
    // (track, character position) of every byte, in order.
    let mut stream: Vec<(u8, u8, usize)> = Vec::new();
    for e in entries {
        for (k, &byte) in e.bytes.iter().enumerate() {
            stream.push((byte, e.track, k.saturating_sub(e.prefix)));
        }
    }
    for chunk in stream.chunks(12) {
        let mut data = [0u8; 12];
        for (d, &(byte, _, _)) in data.iter_mut().zip(chunk) {
            *d = byte;
        }
        let (_, track, pos) = chunk[0];
        packs.push(Pending {
            pack_type: t,
            track,
            cp_byte: dbcc_bit | pos.min(15) as u8,
            data,
        });
    }
}
