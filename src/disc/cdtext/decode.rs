//! CD-Text decoder: raw packs → [`CdText`].
//!
//! Accepts a plain pack file (with one stray trailing NUL byte tolerated, as
//! in libcdio's `cdtext.cdt`) or a READ TOC/PMA/ATIP format-5 response with
//! its 4-byte header. Every pack's CRC is checked; packs are grouped by
//! block; each block's 0x8F size information must be there and agree with
//! the packs (counts per type, last sequence number). A block of more than
//! 256 packs (sequence numbers wrapped, as cue2ddp writes for too much
//! text) is refused. TAB entries expand to the previous entry's text;
//! Latin-1 becomes UTF-8.

use super::{
    msjis, pack_crc_ok, pack_type_name, CdText, CdTextBlock, CdTextError, Charset, Genre, RawPack,
    TextField, PACK_LEN,
};

/// What the lenient decoder noticed and let pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeReport {
    /// Indexes (0-based, in file order) of packs whose CRC is wrong.
    pub bad_crc: Vec<usize>,
    /// The 4-byte READ TOC format-5 header was found and skipped.
    pub header_skipped: bool,
    /// One trailing NUL byte after the last pack was ignored.
    pub trailing_nul: bool,
    /// Sequence and size-information disagreements, text after the last
    /// track and similar faults, one sentence each.
    pub warnings: Vec<String>,
}

/// A decode with its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub cdtext: CdText,
    pub report: DecodeReport,
    /// Packs decoded (without header).
    pub packs: usize,
}

/// Strict decode: any CRC, sequence or size-information fault is an error.
pub fn decode(bytes: &[u8]) -> Result<CdText, CdTextError> {
    run(bytes, true).map(|d| d.cdtext)
}

/// Lenient decode: CRC, sequence and size-information faults are reported
/// in [`DecodeReport`]; structural faults (length, pack types, wrapped
/// sequence numbers, missing size information) are still errors.
pub fn decode_with_report(bytes: &[u8]) -> Result<Decoded, CdTextError> {
    run(bytes, false)
}

struct Ctx {
    strict: bool,
    report: DecodeReport,
}

impl Ctx {
    fn fault(&mut self, err: CdTextError) -> Result<(), CdTextError> {
        if self.strict {
            Err(err)
        } else {
            self.report.warnings.push(err.to_string());
            Ok(())
        }
    }
}

fn strip_framing(
    mut bytes: &[u8],
    report: &mut DecodeReport,
) -> Result<Vec<[u8; PACK_LEN]>, CdTextError> {
    if bytes.len() % PACK_LEN == 4 {
        let stated = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        if stated + 2 == bytes.len() {
            bytes = &bytes[4..];
            report.header_skipped = true;
        }
    }
    if bytes.len() % PACK_LEN == 1 && bytes.last() == Some(&0) {
        bytes = &bytes[..bytes.len() - 1];
        report.trailing_nul = true;
    }
    if !bytes.len().is_multiple_of(PACK_LEN) {
        return Err(CdTextError::BadLength { len: bytes.len() });
    }
    if bytes.is_empty() {
        return Err(CdTextError::Empty);
    }
    Ok(bytes
        .chunks_exact(PACK_LEN)
        .map(|c| c.try_into().expect("18-byte chunk"))
        .collect())
}

fn run(bytes: &[u8], strict: bool) -> Result<Decoded, CdTextError> {
    let mut ctx = Ctx {
        strict,
        report: DecodeReport::default(),
    };
    let packs = strip_framing(bytes, &mut ctx.report)?;
    let mut blocks: [Vec<(usize, &[u8; PACK_LEN])>; 8] = Default::default();
    for (i, p) in packs.iter().enumerate() {
        if !(0x80..=0x8F).contains(&p[0]) {
            return Err(CdTextError::BadPackType {
                index: i,
                pack_type: p[0],
            });
        }
        if !pack_crc_ok(p) {
            let stored = u16::from_be_bytes([p[16], p[17]]);
            let computed = super::crc16(&p[..16]);
            ctx.report.bad_crc.push(i);
            if strict {
                return Err(CdTextError::Crc {
                    index: i,
                    pack_type: p[0],
                    stored,
                    computed,
                });
            }
        }
        blocks[usize::from((p[3] >> 4) & 7)].push((i, p));
    }
    let mut last_seqs = [None; 8];
    for (b, list) in blocks.iter().enumerate() {
        if list.len() > 256 {
            return Err(CdTextError::Wrapped {
                block: b,
                count: list.len(),
            });
        }
        let Some(&(_, first)) = list.first() else {
            continue;
        };
        let mut expected = first[2];
        for &(i, p) in list {
            if p[2] != expected {
                ctx.fault(CdTextError::Sequence {
                    index: i,
                    found: p[2],
                    expected,
                })?;
            }
            expected = p[2].wrapping_add(1);
        }
        last_seqs[b] = list.last().map(|(_, p)| p[2]);
    }
    let mut text = CdText::default();
    for (b, list) in blocks.iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        let packs: Vec<&[u8; PACK_LEN]> = list.iter().map(|&(_, p)| p).collect();
        text.blocks
            .push(decode_block(b, &packs, &last_seqs, &mut ctx)?);
    }
    Ok(Decoded {
        cdtext: text,
        report: ctx.report,
        packs: packs.len(),
    })
}

fn decode_block(
    b: usize,
    packs: &[&[u8; PACK_LEN]],
    last_seqs: &[Option<u8>; 8],
    ctx: &mut Ctx,
) -> Result<CdTextBlock, CdTextError> {
    let size: Vec<&&[u8; PACK_LEN]> = packs.iter().filter(|p| p[0] == 0x8F).collect();
    if size.len() != 3 || size.iter().enumerate().any(|(i, p)| usize::from(p[1]) != i) {
        return Err(CdTextError::NoSizeInfo {
            block: b,
            found: size.len(),
        });
    }
    let mut info = [0u8; 36];
    for (i, p) in size.iter().enumerate() {
        info[i * 12..i * 12 + 12].copy_from_slice(&p[4..16]);
    }
    let (first, last) = (info[1], info[2]);
    if first == 0 || last > 99 || first > last {
        return Err(CdTextError::BadBlock {
            block: b,
            message: format!(
                "size information gives tracks {first}..{last}, not a range within 1..99"
            ),
        });
    }
    for p in packs {
        let text_type = matches!(p[0], 0x80..=0x87 | 0x8D | 0x8E);
        if text_type && p[1] != 0 && !(first..=last).contains(&p[1]) {
            ctx.fault(CdTextError::BadBlock {
                block: b,
                message: format!(
                    "a {} pack names track {}, outside tracks {first}..{last} of the size information",
                    pack_type_name(p[0]),
                    p[1]
                ),
            })?;
        }
    }
    let dbcs_block = info[0] == Charset::MsJis.code();
    if let Some(p) = packs
        .iter()
        .find(|p| matches!(p[0], 0x80..=0x85) && (p[3] & 0x80 != 0) != dbcs_block)
    {
        ctx.fault(CdTextError::BadBlock {
            block: b,
            message: format!(
                "a {} pack (sequence {:#04x}) has the double-byte flag {}, but the charset is {:#04x}",
                pack_type_name(p[0]),
                p[2],
                if dbcs_block { "clear" } else { "set" },
                info[0]
            ),
        })?;
    }
    let mut counts = [0u32; 16];
    for p in packs {
        counts[usize::from(p[0] - 0x80)] += 1;
    }
    for (t, &actual) in counts.iter().enumerate() {
        let stated = u32::from(info[4 + t]);
        if stated != actual {
            ctx.fault(CdTextError::SizeInfo {
                block: b,
                field: format!(
                    "the number of {:#04x} ({}) packs",
                    0x80 + t,
                    pack_type_name(0x80 + t as u8)
                ),
                stated,
                actual,
            })?;
        }
    }
    for (ob, last_seq) in last_seqs.iter().enumerate() {
        let stated = info[20 + ob];
        let actual = last_seq.unwrap_or(0);
        if stated != actual {
            ctx.fault(CdTextError::SizeInfo {
                block: b,
                field: format!("the last sequence number of block {ob}"),
                stated: u32::from(stated),
                actual: u32::from(actual),
            })?;
        }
    }
    let charset = Charset::from_code(info[0]);
    let mut block = CdTextBlock::new(first, last);
    block.language = info[28 + b];
    block.charset = charset;
    block.copyright = info[3];
    let slots = usize::from(last - first) + 2;
    for t in 0x80u8..=0x8E {
        let of_type: Vec<&&[u8; PACK_LEN]> = packs.iter().filter(|p| p[0] == t).collect();
        if of_type.is_empty() {
            continue;
        }
        if matches!(t, 0x88..=0x8C) {
            block.raw_packs.extend(of_type.iter().map(|p| RawPack {
                pack_type: t,
                track: p[1],
                data: p[4..16].try_into().expect("12 bytes"),
            }));
            continue;
        }
        let mut data: Vec<u8> = of_type
            .iter()
            .flat_map(|p| p[4..16].iter().copied())
            .collect();
        let dbcs = charset.double_byte() && matches!(t, 0x80..=0x85 | 0x87);
        match t {
            0x87 => {
                if data.len() < 2 {
                    continue;
                }
                let code = u16::from_be_bytes([data[0], data[1]]);
                let strings = split(&data[2..], dbcs);
                let text = strings
                    .first()
                    .map(|s| to_text(s, dbcs))
                    .unwrap_or_default();
                block.genre = Some(Genre { code, text });
            }
            0x86 | 0x8D => {
                let strings = split(&data, false);
                let s = strings
                    .first()
                    .map(|s| to_text(s, false))
                    .unwrap_or_default();
                if t == 0x86 {
                    block.disc_id = Some(s);
                } else {
                    block.closed_info = Some(s);
                }
            }
            _ => {
                let field = TextField::from_pack_type(t).expect("text type");
                if dbcs && !data.len().is_multiple_of(2) {
                    data.pop();
                }
                let strings = split(&data, dbcs);
                let mut previous: Option<String> = None;
                for (slot, raw) in strings.iter().enumerate() {
                    if slot >= slots {
                        if raw.iter().any(|&c| c != 0) {
                            ctx.report.warnings.push(format!(
                                "CD-Text block {b}: {} text after the last track {last} ignored",
                                pack_type_name(t)
                            ));
                        }
                        break;
                    }
                    let is_tab = if dbcs {
                        raw[..] == [9, 9]
                    } else {
                        raw[..] == [9]
                    };
                    let value = match (is_tab, &previous) {
                        (true, Some(p)) => p.clone(),
                        _ => to_text(raw, dbcs),
                    };
                    let target = if slot == 0 {
                        &mut block.disc
                    } else {
                        &mut block.tracks[slot - 1]
                    };
                    *target.get_mut(field) = Some(value.clone());
                    previous = Some(value);
                }
            }
        }
    }
    Ok(block)
}

/// Splits a type's concatenated payloads into NUL-terminated strings; the
/// last, unterminated piece (padding) counts only when it holds text.
fn split(data: &[u8], dbcs: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let step = if dbcs { 2 } else { 1 };
    for unit in data.chunks(step) {
        if unit.iter().all(|&c| c == 0) && unit.len() == step {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.extend_from_slice(unit);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Latin-1 (and ASCII, its subset) byte for byte; MS-JIS by pairs.
fn to_text(raw: &[u8], dbcs: bool) -> String {
    if dbcs {
        raw.chunks_exact(2)
            .map(|c| msjis::decode_pair(u16::from_be_bytes([c[0], c[1]])))
            .collect()
    } else {
        raw.iter().map(|&c| char::from(c)).collect()
    }
}
