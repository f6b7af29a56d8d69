//! A fileset back to a plain disc image: `album.wav` (16-bit 44.1 kHz
//! stereo PCM, the image's bytes copied as they are: IMAGE.DAT is already
//! little-endian interleaved) and `album.cue` (one WAVE file, indexes
//! relative to its start, which is 00:00:00 of the disc).
//!
//! The CUE is written in ISO-8859-1 when every text fits, else in UTF-8;
//! its strings follow the one CUE rule, [`cue::quote`] (`"` as `'`, a
//! space after a trailing `\`), and are not cut: the CD-Text is the
//! authority, the sheet a way to play or burn the image.
//!
//! Both files are written under a temporary name, made new (never an
//! existing file, never through a symlink), and renamed when whole.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::verify::msf;
use super::{DdpError, DdpFileset, SECTOR_BYTES};
use crate::disc::cdtext::{Fields, TextField};
use crate::disc::cue;

/// What `extract` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub wav: PathBuf,
    pub cue: PathBuf,
    /// Bytes in the WAV data chunk (the image's size, plus any pregap the
    /// image leaves out).
    pub data_bytes: u64,
}

/// The 44-byte header of a 16-bit 44.1 kHz stereo PCM WAV file.
pub fn wav_header(data_bytes: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36u32.wrapping_add(data_bytes)).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&2u16.to_le_bytes()); // channels
    h[24..28].copy_from_slice(&44_100u32.to_le_bytes());
    h[28..32].copy_from_slice(&(44_100u32 * 4).to_le_bytes());
    h[32..34].copy_from_slice(&4u16.to_le_bytes()); // block align
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

pub(super) fn extract(set: &DdpFileset, out: &Path) -> Result<Extracted, DdpError> {
    std::fs::create_dir_all(out).map_err(|e| DdpError::io(out, e))?;
    let wav = out.join("album.wav");
    let cue = out.join("album.cue");
    for p in [&wav, &cue] {
        if p.exists() {
            return Err(DdpError::Exists { path: p.clone() });
        }
    }
    let image = set.image_path();
    let len = std::fs::metadata(&image)
        .map_err(|e| DdpError::io(&image, e))?
        .len();
    // Silence for a pregap the image leaves out, so that the WAV starts at
    // 00:00:00 like the CUE's indexes.
    let lead = u64::from(set.image_start_frame()) * SECTOR_BYTES;
    let data = len + lead;
    if !len.is_multiple_of(4) || data > u64::from(u32::MAX - 36) {
        return Err(DdpError::Length {
            file: image.display().to_string(),
            len,
            expected: "whole stereo 16-bit samples, under 4 GiB".into(),
        });
    }
    let part = out.join("album.wav.part");
    {
        let mut src = File::open(&image).map_err(|e| DdpError::io(&image, e))?;
        let f = create_new(&part)?;
        let mut w = BufWriter::with_capacity(1 << 16, f);
        w.write_all(&wav_header(data as u32))
            .map_err(|e| DdpError::io(&part, e))?;
        std::io::copy(&mut std::io::repeat(0).take(lead), &mut w)
            .map_err(|e| DdpError::io(&part, e))?;
        let copied = std::io::copy(&mut src, &mut w).map_err(|e| DdpError::io(&image, e))?;
        if copied != len {
            return Err(DdpError::Length {
                file: image.display().to_string(),
                len: copied,
                expected: format!("{len} bytes (the file changed while copying)"),
            });
        }
        w.into_inner()
            .map_err(|e| DdpError::io(&part, e.into_error()))?
            .sync_all()
            .map_err(|e| DdpError::io(&part, e))?;
    }
    std::fs::rename(&part, &wav).map_err(|e| DdpError::io(&wav, e))?;

    let text = cue_sheet(set);
    let bytes: Vec<u8> = if text.chars().all(|c| u32::from(c) <= 0xFF) {
        text.chars().map(|c| c as u8).collect()
    } else {
        text.into_bytes()
    };
    let part = out.join("album.cue.part");
    create_new(&part)?
        .write_all(&bytes)
        .map_err(|e| DdpError::io(&part, e))?;
    std::fs::rename(&part, &cue).map_err(|e| DdpError::io(&cue, e))?;
    Ok(Extracted {
        wav,
        cue,
        data_bytes: data,
    })
}

/// A new file, never an existing one nor through a symlink (`O_EXCL`): a
/// `.part` left there (or planted) is refused, not written through.
fn create_new(path: &Path) -> Result<File, DdpError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => DdpError::Exists {
                path: path.to_owned(),
            },
            _ => DdpError::io(path, e),
        })
}

fn text_lines(out: &mut String, indent: &str, f: Option<&Fields>) {
    let Some(f) = f else { return };
    for (field, cmd) in [
        (TextField::Title, "TITLE"),
        (TextField::Performer, "PERFORMER"),
        (TextField::Songwriter, "SONGWRITER"),
    ] {
        if let Some(v) = f.text(field) {
            let _ = writeln!(out, "{indent}{cmd} {}", cue::quote(v).text);
        }
    }
}

/// The CUE sheet of the extracted image.
pub fn cue_sheet(set: &DdpFileset) -> String {
    let mut out = String::new();
    if let Some(upc) = set.upc() {
        let _ = writeln!(out, "CATALOG {upc}");
    }
    let block = set.cdtext().and_then(|t| t.blocks.first());
    text_lines(&mut out, "", block.map(|b| &b.disc));
    out.push_str("FILE \"album.wav\" WAVE\n");
    for t in set.tracks() {
        let _ = writeln!(out, "  TRACK {:02} AUDIO", t.number);
        text_lines(&mut out, "    ", block.and_then(|b| b.track(t.number)));
        let c = t.control;
        let flags: Vec<&str> = [
            (c.copy_permitted, "DCP"),
            (c.four_channel, "4CH"),
            (c.pre_emphasis, "PRE"),
            (c.scms, "SCMS"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if !flags.is_empty() {
            let _ = writeln!(out, "    FLAGS {}", flags.join(" "));
        }
        if let Some(isrc) = &t.isrc {
            let _ = writeln!(out, "    ISRC {isrc}");
        }
        let start = t.start();
        // A zero-length pregap is no pregap.
        for i in t
            .indexes
            .iter()
            .filter(|i| !(i.number == 0 && Some(i.frame) == start))
        {
            let _ = writeln!(out, "    INDEX {:02} {}", i.number, msf(i.frame));
        }
    }
    out
}
