//! CD-Text: the model of a disc's text, its encoder to raw 18-byte packs and
//! the decoder back.
//!
//! A [`CdText`] holds up to eight [`CdTextBlock`]s, one per language. Each
//! block carries the six text fields (title, performer, songwriter,
//! composer, arranger, message) and the UPC/ISRC for the disc and each
//! track, plus disc id (0x86), genre (0x87) and closed information (0x8D);
//! TOC packs (0x88, 0x89) and reserved types are kept as stored.
//!
//! [`CdText::encode`] writes packs the way libburn/cdrskin and cue2ddp do
//! (byte-identical for their inputs): types in ascending order, strings
//! NUL-terminated and running across packs, empty strings for the disc or
//! tracks without a field that others have, the three 0x8F size-information
//! packs and a CRC-16 on every pack. Sequence numbers start at 0 in every
//! block, as libburn, libcdio and libcueify write them.
//!
//! [`decode`] (strict) and [`decode_with_report`] (lenient about CRC and
//! sequence faults, which it reports) read packs back, from a raw pack file
//! or a READ TOC format-5 response with its 4-byte header.
//!
//! MS-JIS (charset 0x80) text is decoded through a small table (kana,
//! full-width ASCII, common punctuation, the CP932 user area); every other
//! double-byte code is kept losslessly as the private-use character
//! U+F0000 + code, which the encoder turns back into the same two bytes.

mod decode;
mod encode;
mod msjis;

pub use decode::{decode, decode_with_report, DecodeReport, Decoded};
pub use encode::EncodeOptions;

use thiserror::Error;

/// Length of one pack in bytes.
pub const PACK_LEN: usize = 18;
/// Most blocks (languages) on a disc.
pub const MAX_BLOCKS: usize = 8;
/// Most text packs in one block (256 sequence numbers minus the three 0x8F
/// packs).
pub const MAX_TEXT_PACKS: usize = 253;

/// Character set of a block, as stored in its 0x8F size information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// 0x00, ISO-8859-1.
    Latin1,
    /// 0x01, ISO 646 (ASCII).
    Ascii,
    /// 0x80, MS-JIS double-byte.
    MsJis,
    /// Any other code, decoded byte for byte as Latin-1.
    Other(u8),
}

impl Charset {
    pub fn code(self) -> u8 {
        match self {
            Charset::Latin1 => 0x00,
            Charset::Ascii => 0x01,
            Charset::MsJis => 0x80,
            Charset::Other(c) => c,
        }
    }
    pub fn from_code(code: u8) -> Charset {
        match code {
            0x00 => Charset::Latin1,
            0x01 => Charset::Ascii,
            0x80 => Charset::MsJis,
            c => Charset::Other(c),
        }
    }
    /// True for the double-byte character set.
    pub fn double_byte(self) -> bool {
        self == Charset::MsJis
    }
}

/// Which text field of a disc or track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextField {
    Title,
    Performer,
    Songwriter,
    Composer,
    Arranger,
    Message,
    /// UPC/EAN for the disc, ISRC for a track (pack type 0x8E).
    Code,
}

impl TextField {
    pub const ALL: [TextField; 7] = [
        TextField::Title,
        TextField::Performer,
        TextField::Songwriter,
        TextField::Composer,
        TextField::Arranger,
        TextField::Message,
        TextField::Code,
    ];
    /// The pack type that carries this field.
    pub fn pack_type(self) -> u8 {
        match self {
            TextField::Title => 0x80,
            TextField::Performer => 0x81,
            TextField::Songwriter => 0x82,
            TextField::Composer => 0x83,
            TextField::Arranger => 0x84,
            TextField::Message => 0x85,
            TextField::Code => 0x8E,
        }
    }
    pub fn from_pack_type(t: u8) -> Option<TextField> {
        TextField::ALL.into_iter().find(|f| f.pack_type() == t)
    }
    pub fn name(self) -> &'static str {
        match self {
            TextField::Title => "TITLE",
            TextField::Performer => "PERFORMER",
            TextField::Songwriter => "SONGWRITER",
            TextField::Composer => "COMPOSER",
            TextField::Arranger => "ARRANGER",
            TextField::Message => "MESSAGE",
            TextField::Code => "UPC_ISRC",
        }
    }
    /// UPC/ISRC are ISO 646 in every block, whatever the block's charset.
    pub(crate) fn always_single_byte(self) -> bool {
        self == TextField::Code
    }
}

/// The text fields of the disc or of one track. `None`: the pack type does
/// not carry this entry; `Some("")`: an empty string is stored (a writer
/// must store one when another track has the field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub title: Option<String>,
    pub performer: Option<String>,
    pub songwriter: Option<String>,
    pub composer: Option<String>,
    pub arranger: Option<String>,
    pub message: Option<String>,
    /// UPC/EAN (disc) or ISRC (track), kept as stored (dashes included).
    pub code: Option<String>,
}

impl Fields {
    pub fn get(&self, f: TextField) -> Option<&String> {
        match f {
            TextField::Title => self.title.as_ref(),
            TextField::Performer => self.performer.as_ref(),
            TextField::Songwriter => self.songwriter.as_ref(),
            TextField::Composer => self.composer.as_ref(),
            TextField::Arranger => self.arranger.as_ref(),
            TextField::Message => self.message.as_ref(),
            TextField::Code => self.code.as_ref(),
        }
    }
    pub fn get_mut(&mut self, f: TextField) -> &mut Option<String> {
        match f {
            TextField::Title => &mut self.title,
            TextField::Performer => &mut self.performer,
            TextField::Songwriter => &mut self.songwriter,
            TextField::Composer => &mut self.composer,
            TextField::Arranger => &mut self.arranger,
            TextField::Message => &mut self.message,
            TextField::Code => &mut self.code,
        }
    }
    /// The field's text when it is stored and not empty, as a player shows
    /// it (libcdio prints no empty fields).
    pub fn text(&self, f: TextField) -> Option<&str> {
        self.get(f).map(String::as_str).filter(|s| !s.is_empty())
    }
}

/// Genre (pack type 0x87): a code from the CD-Text genre list and a free
/// text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genre {
    /// 0 not used, 1 not defined, 2 adult contemporary, ... 5 classical, ...
    pub code: u16,
    pub text: String,
}

/// A pack kept as stored: TOC (0x88), second TOC (0x89), reserved types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPack {
    pub pack_type: u8,
    pub track: u8,
    pub data: [u8; 12],
}

/// One language block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdTextBlock {
    /// EBU Tech 3264 language code: 0x09 English, 0x08 German, 0x0F French,
    /// 0x69 Japanese.
    pub language: u8,
    pub charset: Charset,
    pub first_track: u8,
    pub last_track: u8,
    /// Copyright byte of the size information (0x00 none; bits flag
    /// title/performer/... as copyrighted).
    pub copyright: u8,
    pub disc: Fields,
    /// One entry per track, `first_track..=last_track`.
    pub tracks: Vec<Fields>,
    pub genre: Option<Genre>,
    /// Disc identification (0x86), such as a catalogue number.
    pub disc_id: Option<String>,
    /// Closed information (0x8D), not meant to be shown.
    pub closed_info: Option<String>,
    pub raw_packs: Vec<RawPack>,
}

impl CdTextBlock {
    /// An empty block for tracks `first..=last` (language English, Latin-1).
    pub fn new(first_track: u8, last_track: u8) -> CdTextBlock {
        let n = usize::from(last_track.saturating_sub(first_track)) + 1;
        CdTextBlock {
            language: 0x09,
            charset: Charset::Latin1,
            first_track,
            last_track,
            copyright: 0,
            disc: Fields::default(),
            tracks: vec![Fields::default(); n],
            genre: None,
            disc_id: None,
            closed_info: None,
            raw_packs: Vec::new(),
        }
    }
    /// Fields of track `number` (1..99), if the block covers it.
    pub fn track(&self, number: u8) -> Option<&Fields> {
        let i = number.checked_sub(self.first_track)?;
        self.tracks.get(usize::from(i))
    }
}

/// The CD-Text of a disc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CdText {
    pub blocks: Vec<CdTextBlock>,
}

impl CdText {
    /// Raw packs with the default options (no TAB compression).
    pub fn encode(&self) -> Result<Vec<u8>, CdTextError> {
        encode::encode(self, &EncodeOptions::default())
    }
    pub fn encode_with(&self, options: &EncodeOptions) -> Result<Vec<u8>, CdTextError> {
        encode::encode(self, options)
    }
    /// The model as the packs carry it: where any entry of a block has a
    /// field, the entries without it get an empty string.
    /// `decode(&x.encode()?)? == x.filled()`.
    pub fn filled(&self) -> CdText {
        let mut out = self.clone();
        for b in &mut out.blocks {
            for f in TextField::ALL {
                let present =
                    b.disc.get(f).is_some() || b.tracks.iter().any(|t| t.get(f).is_some());
                if present {
                    for e in std::iter::once(&mut b.disc).chain(b.tracks.iter_mut()) {
                        e.get_mut(f).get_or_insert_with(String::new);
                    }
                }
            }
        }
        out
    }
}

/// Everything that can be wrong with CD-Text in or out.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum CdTextError {
    #[error("{what} {text:?} has the character {ch:?}, which {charset} cannot hold")]
    Unencodable {
        what: String,
        text: String,
        ch: char,
        charset: &'static str,
    },
    #[error("{count} CD-Text blocks; a disc holds at most {MAX_BLOCKS}")]
    TooManyBlocks { count: usize },
    #[error("CD-Text block {block} needs {count} text packs; at most {MAX_TEXT_PACKS} fit")]
    TooManyTextPacks { block: usize, count: usize },
    #[error("CD-Text block {block}: {message}")]
    BadBlock { block: usize, message: String },
    #[error("CD-Text is {len} bytes, not a whole number of 18-byte packs")]
    BadLength { len: usize },
    #[error("CD-Text holds no packs")]
    Empty,
    #[error("CD-Text pack {index} (type {pack_type:#04x}): CRC {stored:#06x} stored, {computed:#06x} computed")]
    Crc {
        index: usize,
        pack_type: u8,
        stored: u16,
        computed: u16,
    },
    #[error("CD-Text pack {index}: type {pack_type:#04x} is not a CD-Text pack type (0x80..0x8F)")]
    BadPackType { index: usize, pack_type: u8 },
    #[error("CD-Text block {block} has {count} packs, more than 256 sequence numbers can count (the numbers wrapped); the set is corrupt")]
    Wrapped { block: usize, count: usize },
    #[error("CD-Text pack {index}: sequence number {found:#04x}, expected {expected:#04x}")]
    Sequence {
        index: usize,
        found: u8,
        expected: u8,
    },
    #[error(
        "CD-Text block {block}: size information says {field} is {stated}, the packs give {actual}"
    )]
    SizeInfo {
        block: usize,
        field: String,
        stated: u32,
        actual: u32,
    },
    #[error("CD-Text block {block}: no 0x8F size information (needs 3 packs, found {found})")]
    NoSizeInfo { block: usize, found: usize },
}

/// CRC-16 of CD-Text packs: polynomial 0x1021, initial 0, not reflected,
/// result XOR 0xFFFF (CRC-16/GSM; `crc16(b"123456789") == 0xCE3C`).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc ^ 0xFFFF
}

/// Writes the CRC of bytes 0..16 into bytes 16..18.
pub fn seal_pack(pack: &mut [u8; PACK_LEN]) {
    let crc = crc16(&pack[..16]);
    pack[16..].copy_from_slice(&crc.to_be_bytes());
}

/// True when the pack's stored CRC matches its content.
pub fn pack_crc_ok(pack: &[u8]) -> bool {
    pack.len() == PACK_LEN && crc16(&pack[..16]).to_be_bytes() == pack[16..18]
}

/// Name of a pack type for messages.
pub fn pack_type_name(t: u8) -> &'static str {
    match t {
        0x80 => "title",
        0x81 => "performer",
        0x82 => "songwriter",
        0x83 => "composer",
        0x84 => "arranger",
        0x85 => "message",
        0x86 => "disc id",
        0x87 => "genre",
        0x88 => "TOC",
        0x89 => "TOC 2",
        0x8D => "closed information",
        0x8E => "UPC/ISRC",
        0x8F => "size information",
        _ => "reserved",
    }
}
