//! DDP 2.00 audio filesets: read, verify, extract to WAV + CUE, write.
//!
//! [`DdpFileset::open`] reads DDPID, the DDPMS map, the PQ descriptor named
//! in the map (`PQDESCR`, `SD` or any other name), the CD-Text packs and
//! every checksum list beside them. It does not need the image itself:
//! [`DdpFileset::verify`] checks it (size against the map and the PQ
//! lead-out, MD5/CRC-32 against the lists) and [`DdpFileset::extract`]
//! copies it into a WAV file with a CUE sheet. [`mod@write`] produces the
//! fileset around an `IMAGE.DAT` the caller has streamed.
//!
//! Every fault is a [`DdpError`] naming the file and the field.

mod checksum;
mod extract;
mod fields;
mod pq;
mod verify;
pub mod write;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::disc::cdtext::{self, CdText, CdTextError, DecodeReport};

pub use checksum::{crc32, hash_file, ChecksumEntry, Crc32, Expected, FileHashes};
pub use extract::{cue_sheet, wav_header, Extracted};
pub use fields::{DdpId, MapPacket};
pub use pq::{format_atime, parse_pq, PqEntry, PqTrack};
pub use verify::{Check, VerifyReport};
pub use write::{
    write_fileset, write_fileset_with_md5, DiscLayout, LayoutTrack, WriteOptions, Written,
};

/// True for an ISRC as the Q channel carries it: the rules of
/// [`crate::manifest::codes::Isrc`] in their compact form (12 characters,
/// upper case, no dashes).
pub fn isrc_valid(isrc: &str) -> bool {
    crate::manifest::codes::Isrc::parse(isrc).is_ok_and(|i| i.as_str() == isrc)
}

/// True for a 13-digit UPC/EAN whose GS1 check digit is right (the rules
/// of [`crate::manifest::codes::Upc`], 13-digit form only).
pub fn upc_valid(upc: &str) -> bool {
    upc.len() == 13 && crate::manifest::codes::Upc::parse(upc).is_ok_and(|u| u.ean13() == upc)
}

/// Bytes in one CD-DA sector (1/75 s of 16-bit stereo at 44.1 kHz).
pub const SECTOR_BYTES: u64 = 2352;

/// Everything that can be wrong with a DDP fileset.
#[derive(Debug, Error)]
pub enum DdpError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {field} {value:?} {problem}")]
    Field {
        file: String,
        field: &'static str,
        value: String,
        problem: String,
    },
    #[error("{file}: {len} bytes, expected {expected}")]
    Length {
        file: String,
        len: u64,
        expected: String,
    },
    #[error("DDPMS has no {what} packet")]
    MissingPacket { what: &'static str },
    #[error("{name} (named in {by}) is not in {}", dir.display())]
    MissingFile {
        name: String,
        by: &'static str,
        dir: PathBuf,
    },
    #[error("{file}: {source}")]
    CdText { file: String, source: CdTextError },
    #[error("{file}: {message}")]
    Pq { file: String, message: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("disc layout: {0}")]
    Layout(String),
    #[error("{} already exists; extract writes into a new or empty folder", path.display())]
    Exists { path: PathBuf },
}

impl DdpError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> DdpError {
        DdpError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn field(file: &str, field: &'static str, value: &str, problem: &str) -> DdpError {
        DdpError::Field {
            file: file.to_string(),
            field,
            value: value.to_string(),
            problem: problem.to_string(),
        }
    }
}

/// Q-channel control flags of a track (and the SCMS flag DDP carries
/// beside them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Control {
    pub pre_emphasis: bool,
    pub copy_permitted: bool,
    pub data: bool,
    pub four_channel: bool,
    /// Serial copy management: copy permitted once (C1 "xS").
    pub scms: bool,
}

impl Control {
    pub fn from_nibble(n: u8, scms: bool) -> Control {
        Control {
            pre_emphasis: n & 1 != 0,
            copy_permitted: n & 2 != 0,
            data: n & 4 != 0,
            four_channel: n & 8 != 0,
            scms,
        }
    }
    pub fn nibble(self) -> u8 {
        u8::from(self.pre_emphasis)
            | u8::from(self.copy_permitted) << 1
            | u8::from(self.data) << 2
            | u8::from(self.four_channel) << 3
    }
}

/// An index point: number and absolute frame from 00:00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub number: u8,
    pub frame: u32,
}

/// A track as the PQ descriptor gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdpTrack {
    pub number: u8,
    /// Index 00 (pregap) first when there is one, then 01, 02, ...
    pub indexes: Vec<Index>,
    pub isrc: Option<String>,
    pub control: Control,
}

impl DdpTrack {
    /// Frame of index 01 (where the track starts).
    pub fn start(&self) -> Option<u32> {
        self.indexes.iter().find(|i| i.number == 1).map(|i| i.frame)
    }
}

/// A DDP 2.00 fileset, read.
#[derive(Debug)]
pub struct DdpFileset {
    dir: PathBuf,
    pub id: DdpId,
    pub map: Vec<MapPacket>,
    pub pq: Vec<PqEntry>,
    pq_file: String,
    tracks: Vec<DdpTrack>,
    lead_out: u32,
    cdtext: Option<CdText>,
    cdtext_file: Option<String>,
    cdtext_error: Option<CdTextError>,
    cdtext_report: Option<DecodeReport>,
    image_name: String,
    image_sectors: u64,
    image_start: u32,
    checksums: Vec<ChecksumEntry>,
    checksum_errors: Vec<DdpError>,
}

/// The largest DDPID, DDPMS, PQ, CD-Text or checksum list read (counted
/// as read): 1 MiB, far above any real one (a 99-track PQ descriptor with
/// 99 indexes each is 620 KiB; CD-Text at most 8 × 255 packs of 18 bytes).
pub const MAX_SMALL_FILE_BYTES: u64 = 1 << 20;

/// The file `name` in `dir`, matched without regard to case when the exact
/// name is not there (filesets copied through other systems). Any kind of
/// file is found, so that a FIFO or a folder in its place is refused by
/// name when opened ([`crate::fsio::open_regular`]), not called missing.
pub(crate) fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.exists() {
        return Some(exact);
    }
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.exists()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
}

/// True for a plain file name (no folder part), the only kind a fileset
/// may name: DDPMS and checksum lists never reach outside the folder.
pub(crate) fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

fn read(dir: &Path, name: &str, by: &'static str) -> Result<Vec<u8>, DdpError> {
    if !plain_name(name) {
        return Err(DdpError::field(
            by,
            "file name",
            name,
            "is not a plain file name in the fileset's folder",
        ));
    }
    let path = find_file(dir, name).ok_or_else(|| DdpError::MissingFile {
        name: name.to_string(),
        by,
        dir: dir.to_path_buf(),
    })?;
    crate::fsio::read_capped_io(&path, MAX_SMALL_FILE_BYTES).map_err(|e| DdpError::io(&path, e))
}

impl DdpFileset {
    /// Reads the fileset in `dir` (the image is only looked at by
    /// [`verify`](Self::verify) and [`extract`](Self::extract)).
    pub fn open(dir: impl AsRef<Path>) -> Result<DdpFileset, DdpError> {
        let dir = dir.as_ref().to_path_buf();
        let id = fields::parse_ddpid(&read(&dir, "DDPID", "the DDP standard")?)?;
        let map = fields::parse_ddpms(&read(&dir, "DDPMS", "the DDP standard")?)?;
        let audio = map
            .iter()
            .find(|p| p.stream_type == "D0")
            .ok_or(DdpError::MissingPacket {
                what: "main data (D0)",
            })?;
        if !audio.cd_mode.is_empty() && audio.cd_mode != "DA" {
            return Err(DdpError::field(
                "DDPMS",
                "CDM",
                &audio.cd_mode,
                "is not \"DA\" (audio)",
            ));
        }
        let d0 = map.iter().filter(|p| p.stream_type == "D0").count();
        if d0 > 1 {
            return Err(DdpError::Unsupported(format!(
                "DDPMS splits the audio over {d0} main-data (D0) packets; only one image file is read"
            )));
        }
        let image_name = audio.file_name.clone();
        if !plain_name(&image_name) {
            return Err(DdpError::field(
                "DDPMS",
                "DSI",
                &image_name,
                "is not a plain file name in the fileset's folder",
            ));
        }
        let image_sectors = audio
            .length
            .ok_or_else(|| DdpError::field("DDPMS", "DSL", "", "of the D0 packet is blank"))?;
        let is_pq = |p: &&MapPacket| {
            p.stream_type == "S0"
                && (p.subcode.starts_with("PQ") || p.file_name.eq_ignore_ascii_case("PQDESCR"))
        };
        let pq_packet = map.iter().find(is_pq).ok_or(DdpError::MissingPacket {
            what: "PQ descriptor (S0 \"PQ DESCR\")",
        })?;
        let pq_file = pq_packet.file_name.clone();
        let pq = parse_pq(&pq_file, &read(&dir, &pq_file, "DDPMS")?)?;
        let (tracks, lead_out) = tracks_from_pq(&pq_file, &pq)?;
        // The image normally starts at 00:00:00 (cue2ddp, and every writer
        // that puts track 1's pregap in the image). A writer that leaves
        // the pregap out states it in PRE1/PRE2: then the PQ lead-out is
        // that many frames past the image's end.
        let pregap = u64::from(audio.pre1.unwrap_or(0)) + u64::from(audio.pre2.unwrap_or(0));
        let image_start = if pregap > 0 && u64::from(lead_out) == image_sectors + pregap {
            pregap as u32
        } else {
            0
        };
        let mut set = DdpFileset {
            dir,
            id,
            pq,
            pq_file,
            tracks,
            lead_out,
            cdtext: None,
            cdtext_file: None,
            cdtext_error: None,
            cdtext_report: None,
            image_name,
            image_sectors,
            image_start,
            checksums: Vec::new(),
            checksum_errors: Vec::new(),
            map: Vec::new(),
        };
        if let Some(p) = map
            .iter()
            .find(|p| p.stream_type == "S0" && p.subcode == "CDTEXT")
        {
            let bytes = read(&set.dir, &p.file_name, "DDPMS")?;
            set.cdtext_file = Some(p.file_name.clone());
            // Lenient: a bad pack CRC still leaves the text readable;
            // verify() reports it.
            match cdtext::decode_with_report(&bytes) {
                Ok(d) => {
                    set.cdtext = Some(d.cdtext);
                    set.cdtext_report = Some(d.report);
                }
                Err(e) => set.cdtext_error = Some(e),
            }
        }
        set.map = map;
        (set.checksums, set.checksum_errors) = read_checksum_lists(&set.dir)?;
        Ok(set)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn tracks(&self) -> &[DdpTrack] {
        &self.tracks
    }
    /// UPC/EAN from DDPID, else from the PQ descriptor.
    pub fn upc(&self) -> Option<&str> {
        self.id
            .upc
            .as_deref()
            .or_else(|| self.pq.iter().find_map(|e| e.upc.as_deref()))
    }
    /// The CD-Text, when the fileset has one that decodes.
    pub fn cdtext(&self) -> Option<&CdText> {
        self.cdtext.as_ref()
    }
    /// What the CD-Text decoder let pass (bad CRCs, size-information
    /// disagreements), when the file decoded.
    pub fn cdtext_report(&self) -> Option<&DecodeReport> {
        self.cdtext_report.as_ref()
    }
    /// Why the fileset's CD-Text file did not decode.
    pub fn cdtext_error(&self) -> Option<&CdTextError> {
        self.cdtext_error.as_ref()
    }
    pub fn cdtext_file(&self) -> Option<&str> {
        self.cdtext_file.as_deref()
    }
    pub fn pq_file(&self) -> &str {
        &self.pq_file
    }
    /// Where the image should be (it may be missing).
    pub fn image_path(&self) -> PathBuf {
        find_file(&self.dir, &self.image_name).unwrap_or_else(|| self.dir.join(&self.image_name))
    }
    /// Sectors of the image, as the map states them (DSL of the D0 packet).
    pub fn image_sectors(&self) -> u64 {
        self.image_sectors
    }
    /// Disc frame of the image's first sector: 0, or the pregap the map
    /// says the image leaves out (PRE1 + PRE2) when the PQ lead-out is that
    /// far past the image's end.
    pub fn image_start_frame(&self) -> u32 {
        self.image_start
    }
    /// Frame of the lead-out from the PQ descriptor.
    pub fn lead_out(&self) -> u32 {
        self.lead_out
    }
    /// Entries of every checksum list found beside the fileset.
    pub fn checksums(&self) -> &[ChecksumEntry] {
        &self.checksums
    }
    /// Checksum lists that could not be read (verify reports them).
    pub fn checksum_errors(&self) -> &[DdpError] {
        &self.checksum_errors
    }
    pub fn verify(&self) -> Result<VerifyReport, DdpError> {
        verify::verify(self)
    }
    /// Writes `album.wav` and `album.cue` into `out_dir`.
    pub fn extract(&self, out_dir: impl AsRef<Path>) -> Result<Extracted, DdpError> {
        extract::extract(self, out_dir.as_ref())
    }
}

/// Every checksum list in `dir`; a list that does not parse is kept as an
/// error for verify rather than stopping the fileset from opening.
fn read_checksum_lists(dir: &Path) -> Result<(Vec<ChecksumEntry>, Vec<DdpError>), DdpError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| DdpError::io(dir, e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| checksum::is_checksum_list(n))
        .collect();
    names.sort();
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for n in names {
        let path = dir.join(&n);
        let bytes = crate::fsio::read_capped_io(&path, MAX_SMALL_FILE_BYTES)
            .map_err(|e| DdpError::io(&path, e))?;
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        match checksum::parse_list(&n, &text) {
            Ok(entries) => out.extend(entries),
            Err(e) => errors.push(e),
        }
    }
    Ok((out, errors))
}

/// Tracks and the lead-out frame from the PQ entries.
fn tracks_from_pq(file: &str, pq: &[PqEntry]) -> Result<(Vec<DdpTrack>, u32), DdpError> {
    let err = |message: String| DdpError::Pq {
        file: file.to_string(),
        message,
    };
    let mut tracks: Vec<DdpTrack> = Vec::new();
    let mut lead_out = None;
    for e in pq {
        match e.track {
            PqTrack::LeadIn => {}
            PqTrack::LeadOut => {
                lead_out.get_or_insert(e.frame);
            }
            PqTrack::Track(n) => {
                if lead_out.is_some() {
                    return Err(err(format!("track {n} entry after the lead-out")));
                }
                match tracks.last_mut() {
                    Some(t) if t.number == n => {
                        if t.indexes.last().is_some_and(|i| i.number >= e.index) {
                            return Err(err(format!(
                                "track {n}: index {:02} out of order",
                                e.index
                            )));
                        }
                        t.indexes.push(Index {
                            number: e.index,
                            frame: e.frame,
                        });
                        if t.isrc.is_none() {
                            t.isrc = e.isrc.clone();
                        }
                        if e.index == 1 {
                            t.control = e.control;
                        }
                    }
                    last => {
                        if let Some(l) = last {
                            if n != l.number + 1 {
                                return Err(err(format!("track {n} follows track {}", l.number)));
                            }
                        }
                        tracks.push(DdpTrack {
                            number: n,
                            indexes: vec![Index {
                                number: e.index,
                                frame: e.frame,
                            }],
                            isrc: e.isrc.clone(),
                            control: e.control,
                        });
                    }
                }
            }
        }
    }
    if tracks.is_empty() {
        return Err(err("no track entries".into()));
    }
    for t in &tracks {
        if t.start().is_none() {
            return Err(err(format!("track {} has no index 01", t.number)));
        }
    }
    let lead_out = lead_out.ok_or_else(|| err("no lead-out (AA) entry".into()))?;
    Ok((tracks, lead_out))
}
