//! Writing a DDP 2.00 fileset around an image the caller has streamed.
//!
//! The caller writes `IMAGE.DAT` (16-bit little-endian stereo from 00:00:00,
//! track 1's pregap included) into the folder and describes the disc in a
//! [`DiscLayout`]; [`write_fileset`] checks the layout, streams the image
//! once for its MD5 and writes DDPID, DDPMS, the PQ descriptor, CDTEXT.BIN
//! and CHECKSUM.MD5 (md5sum format, every other file).
//!
//! The format is the conservative one cue2ddp writes, which ddpinfo and the
//! plants' readers accept: space-padded right-aligned numbers, packets in
//! the order CD-Text, PQ, audio, SIZ " 17", SCR "1", PRE2 150, the lead-in
//! PQ entry with the UPC, track 1's index 00 at 00:00:00, the ISRC on each
//! track's first entry and the lead-out written twice. The one deliberate
//! difference: the PQ file is called `PQDESCR` (the common name) unless
//! [`WriteOptions::pq_file`] says otherwise (cue2ddp calls it `SD`).

use std::path::Path;

use super::checksum::hash_file;
use super::fields::{format_ddpid, format_packet, DdpId, MapPacket};
use super::pq::{format_entry, PqEntry, PqTrack};
use super::{isrc_valid, upc_valid, Control, DdpError, Index, SECTOR_BYTES};
use crate::disc::cdtext;

/// A track of the disc to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutTrack {
    pub number: u8,
    /// Absolute frames from 00:00:00: index 00 (pregap) when there is one,
    /// then 01, 02, ... Track 1's index 00 is at frame 0 or left out (then
    /// written at frame 0).
    pub indexes: Vec<Index>,
    /// 12 characters, no dashes.
    pub isrc: Option<String>,
    pub control: Control,
}

/// The disc to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscLayout {
    /// UPC/EAN of 13 digits.
    pub upc: Option<String>,
    /// Master ID for DDPID (at most 48 ASCII characters; blank by default).
    pub master_id: String,
    pub tracks: Vec<LayoutTrack>,
    /// Sectors in the image = frame of the lead-out.
    pub total_sectors: u32,
    /// Raw CD-Text packs (as [`cdtext::CdText::encode`] gives them).
    pub cdtext: Option<Vec<u8>>,
}

/// Writer choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Name of the PQ descriptor file ("PQDESCR"; cue2ddp writes "SD").
    pub pq_file: String,
    /// Name of the image in the folder ("IMAGE.DAT").
    pub image_file: String,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            pq_file: "PQDESCR".into(),
            image_file: "IMAGE.DAT".into(),
        }
    }
}

/// What was written: every file with its MD5, in CHECKSUM.MD5 order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub files: Vec<(String, String)>,
}

/// Writes the fileset in `dir` around `dir/IMAGE.DAT`, streaming the image
/// for its MD5.
pub fn write_fileset(
    dir: &Path,
    layout: &DiscLayout,
    options: &WriteOptions,
) -> Result<Written, DdpError> {
    let image = dir.join(&options.image_file);
    // The size against the layout before the image is hashed.
    let len = crate::fsio::check_regular(&image)
        .map_err(|e| DdpError::io(&image, e))?
        .len();
    check_image_len(layout, options, len)?;
    let h = hash_file(&image)?;
    write_fileset_with_md5(dir, layout, options, h.md5, h.len)
}

/// The image's length `len` against the layout's sectors.
fn check_image_len(layout: &DiscLayout, options: &WriteOptions, len: u64) -> Result<(), DdpError> {
    let want = u64::from(layout.total_sectors) * SECTOR_BYTES;
    if len != want {
        return Err(DdpError::Length {
            file: options.image_file.clone(),
            len,
            expected: format!("{want} ({} sectors of 2352 bytes)", layout.total_sectors),
        });
    }
    Ok(())
}

/// As [`write_fileset`], with the image's MD5 and length already known
/// (computed while the caller streamed it).
pub fn write_fileset_with_md5(
    dir: &Path,
    layout: &DiscLayout,
    options: &WriteOptions,
    image_md5: [u8; 16],
    image_len: u64,
) -> Result<Written, DdpError> {
    check(layout)?;
    check_image_len(layout, options, image_len)?;
    for name in [&options.pq_file, &options.image_file] {
        if name.is_empty() || name.len() > 17 || !name.is_ascii() {
            return Err(DdpError::Layout(format!(
                "file name {name:?} does not fit DDPMS (1..17 ASCII characters)"
            )));
        }
    }
    let id = DdpId {
        level: "DDP 2.00".into(),
        upc: layout.upc.clone(),
        map_stream_start: None,
        msl: None,
        media: String::new(),
        master_id: layout.master_id.clone(),
        book: String::new(),
        disc_type: "CD".into(),
    };
    let pq: Vec<u8> = pq_entries(layout).iter().flat_map(format_entry).collect();
    let mut map = Vec::new();
    if let Some(packs) = &layout.cdtext {
        map.push(MapPacket {
            stream_type: "S0".into(),
            length: Some(packs.len() as u64),
            subcode: "CDTEXT".into(),
            track: Some(0),
            siz: "17".into(),
            file_name: "CDTEXT.BIN".into(),
            ..MapPacket::default()
        });
    }
    map.push(MapPacket {
        stream_type: "S0".into(),
        length: Some(pq.len() as u64),
        subcode: "PQ DESCR".into(),
        siz: "17".into(),
        file_name: options.pq_file.clone(),
        ..MapPacket::default()
    });
    map.push(MapPacket {
        stream_type: "D0".into(),
        length: Some(u64::from(layout.total_sectors)),
        cd_mode: "DA".into(),
        ssm: "7".into(),
        scrambled: "1".into(),
        pre2: Some(150),
        siz: "17".into(),
        file_name: options.image_file.clone(),
        ..MapPacket::default()
    });
    let ddpms: Vec<u8> = map.iter().flat_map(format_packet).collect();

    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("DDPID".into(), format_ddpid(&id).to_vec()),
        ("DDPMS".into(), ddpms),
    ];
    if let Some(packs) = &layout.cdtext {
        files.push(("CDTEXT.BIN".into(), packs.clone()));
    }
    files.push((options.pq_file.clone(), pq));
    let mut written = Vec::new();
    let mut list = String::new();
    for (name, bytes) in &files {
        put_file(dir, name, bytes)?;
        let md5 = format!("{:x}", md5::compute(bytes));
        list.push_str(&format!("{md5}  {name}\n"));
        written.push((name.clone(), md5));
    }
    let image_hex: String = image_md5.iter().map(|b| format!("{b:02x}")).collect();
    list.push_str(&format!("{image_hex}  {}\n", options.image_file));
    written.push((options.image_file.clone(), image_hex));
    put_file(dir, "CHECKSUM.MD5", list.as_bytes())?;
    Ok(Written { files: written })
}

fn put_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), DdpError> {
    let part = dir.join(format!("{name}.part"));
    let path = dir.join(name);
    std::fs::write(&part, bytes).map_err(|e| DdpError::io(&part, e))?;
    std::fs::rename(&part, &path).map_err(|e| DdpError::io(&path, e))
}

/// The PQ entries of a checked layout.
pub fn pq_entries(layout: &DiscLayout) -> Vec<PqEntry> {
    let entry = |track, index, frame, control, isrc: Option<String>| PqEntry {
        track,
        index,
        frame,
        control,
        c2: String::new(),
        isrc,
        upc: None,
        text: String::new(),
    };
    let mut out = vec![PqEntry {
        upc: layout.upc.clone(),
        ..entry(PqTrack::LeadIn, 0, 0, Control::default(), None)
    }];
    for (i, t) in layout.tracks.iter().enumerate() {
        let mut indexes = t.indexes.clone();
        if i == 0 && indexes[0].number != 0 {
            indexes.insert(
                0,
                Index {
                    number: 0,
                    frame: 0,
                },
            );
        }
        for (k, ix) in indexes.iter().enumerate() {
            let isrc = if k == 0 { t.isrc.clone() } else { None };
            out.push(entry(
                PqTrack::Track(t.number),
                ix.number,
                ix.frame,
                t.control,
                isrc,
            ));
        }
    }
    for _ in 0..2 {
        out.push(entry(
            PqTrack::LeadOut,
            1,
            layout.total_sectors,
            Control::default(),
            None,
        ));
    }
    out
}

fn check(layout: &DiscLayout) -> Result<(), DdpError> {
    let bad = |m: String| Err(DdpError::Layout(m));
    if layout.tracks.is_empty() || layout.tracks.len() > 99 {
        return bad(format!("{} tracks; a CD has 1 to 99", layout.tracks.len()));
    }
    if layout.total_sectors >= 100 * 60 * 75 {
        return bad(format!(
            "{} sectors reach 100 minutes, past what PQ A-times can say",
            layout.total_sectors
        ));
    }
    if let Some(u) = &layout.upc {
        if !upc_valid(u) {
            return bad(format!(
                "UPC/EAN {u:?} is not 13 digits with a right GS1 check digit"
            ));
        }
    }
    if layout.master_id.len() > 48 || !layout.master_id.is_ascii() {
        return bad(format!(
            "master ID {:?} is not at most 48 ASCII characters",
            layout.master_id
        ));
    }
    let mut prev_frame: Option<u32> = None;
    for (i, t) in layout.tracks.iter().enumerate() {
        let n = t.number;
        if usize::from(n) != usize::from(layout.tracks[0].number) + i || n == 0 || n > 99 {
            return bad(format!(
                "track {n} is out of sequence (tracks must count up from the first, 1..99)"
            ));
        }
        if let Some(isrc) = &t.isrc {
            if !isrc_valid(isrc) {
                return bad(format!(
                    "track {n}: ISRC {isrc:?} is not CC-XXX-YY-NNNNN written without dashes (12 characters)"
                ));
            }
        }
        if t.control.data {
            return bad(format!(
                "track {n} is flagged as data; a DDP audio fileset holds audio only"
            ));
        }
        if !t.indexes.iter().any(|x| x.number == 1) {
            return bad(format!("track {n} has no index 01"));
        }
        if i == 0 {
            if let Some(x) = t.indexes.iter().find(|x| x.number == 0) {
                if x.frame != 0 {
                    return bad(format!(
                        "track {n}: index 00 at frame {} but the image starts with it (frame 0)",
                        x.frame
                    ));
                }
            }
            let start = t
                .indexes
                .iter()
                .find(|x| x.number == 1)
                .map_or(0, |x| x.frame);
            if start < 150 {
                return bad(format!("track {n} starts at frame {start}; the first track needs at least 150 frames (2 s) of pregap"));
            }
        }
        let mut prev_number: Option<u8> = None;
        for x in &t.indexes {
            if x.number > 99 || prev_number.is_some_and(|p| x.number <= p) {
                return bad(format!("track {n}: index {:02} out of order", x.number));
            }
            if prev_frame.is_some_and(|p| x.frame <= p) {
                return bad(format!(
                    "track {n} index {:02} at frame {} is not after the index before",
                    x.number, x.frame
                ));
            }
            prev_number = Some(x.number);
            prev_frame = Some(x.frame);
        }
    }
    if prev_frame.is_some_and(|p| p >= layout.total_sectors) {
        return bad(format!(
            "the last index is not before the lead-out at frame {}",
            layout.total_sectors
        ));
    }
    if let Some(packs) = &layout.cdtext {
        let text = match cdtext::decode(packs) {
            Ok(t) => t,
            Err(e) => return bad(format!("CD-Text packs do not decode: {e}")),
        };
        let (first, last) = (
            layout.tracks[0].number,
            layout.tracks[layout.tracks.len() - 1].number,
        );
        for (i, b) in text.blocks.iter().enumerate() {
            if (b.first_track, b.last_track) != (first, last) {
                return bad(format!(
                    "CD-Text block {i} covers tracks {}..{}, the disc has {first}..{last}",
                    b.first_track, b.last_track
                ));
            }
        }
    }
    Ok(())
}
