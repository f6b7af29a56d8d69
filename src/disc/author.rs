//! Writing a build's `cd/` folder around the image the caller rendered:
//! `album.cue`, `album.toc`, the DDP fileset in `ddp/` (its `IMAGE.DAT`
//! copied from the data chunk of `album.wav` in one streaming pass that
//! also hashes it), then `pq-sheet.txt` and `pq-sheet.html`, which carry
//! that hash.
//!
//! The caller first writes `cd/album.wav` (16-bit 44.1 kHz stereo, exactly
//! [`DiscLayout::image_samples`] samples, laid out as each track's
//! [`super::ImageSpan`] says), then calls [`author`]. Every file is written
//! under a temporary name and renamed when whole.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::ddp::{self, DdpError};
use super::layout::{DiscLayout, LayoutError};
use super::pqsheet::PqSheet;
use super::text::{one_line, DiscWarning};
use super::{cue, toc};
use crate::manifest::model::CdFormat;

/// What to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorOptions {
    /// Among DDP, CUE and TOC; the PQ sheets are always written.
    pub formats: Vec<CdFormat>,
    /// The image's name in the folder ("album.wav").
    pub wav_name: String,
    /// Disc title and artist for the PQ sheet when there is no CD-Text.
    pub title: String,
    pub artist: String,
    /// DDPID master ID (blank by default).
    pub master_id: String,
    /// The release's catalogue number for the PQ sheet (blank: none).
    pub catalog_number: String,
}

impl Default for AuthorOptions {
    fn default() -> Self {
        AuthorOptions {
            formats: vec![CdFormat::Ddp, CdFormat::Cue, CdFormat::Toc],
            wav_name: "album.wav".into(),
            title: String::new(),
            artist: String::new(),
            master_id: String::new(),
            catalog_number: String::new(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authored {
    /// Every file, in the order written (DDP files under `ddp/`).
    pub files: Vec<PathBuf>,
    /// The layout's warnings and the CUE writer's.
    pub warnings: Vec<DiscWarning>,
}

/// Everything that can go wrong writing the folder.
#[derive(Debug, Error)]
pub enum AuthorError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    Wav { path: PathBuf, problem: String },
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("DDP: {0}")]
    Ddp(#[from] DdpError),
    #[error("PQ sheet template: {0}")]
    Template(#[from] minijinja::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuthorError + '_ {
    move |source| AuthorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through `path.part`.
pub fn put(path: &Path, bytes: &[u8]) -> Result<(), AuthorError> {
    let part = part_name(path);
    std::fs::write(&part, bytes).map_err(io(&part))?;
    std::fs::rename(&part, path).map_err(io(path))
}

fn part_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

/// Writes the CUE, TOC, PQ sheets and DDP fileset of `layout` into
/// `cd_dir`, beside the image `cd_dir/<wav_name>` the caller wrote.
pub fn author(
    cd_dir: &Path,
    layout: &DiscLayout,
    options: &AuthorOptions,
) -> Result<Authored, AuthorError> {
    let mut files = Vec::new();
    let mut warnings = layout.warnings.clone();
    let wav = cd_dir.join(&options.wav_name);
    if options.formats.contains(&CdFormat::Cue) {
        let sheet = cue::write(layout, &options.wav_name);
        let path = cd_dir.join(Path::new(&options.wav_name).with_extension("cue"));
        put(&path, &sheet.bytes)?;
        warnings.extend(sheet.warnings);
        files.push(path);
    }
    if options.formats.contains(&CdFormat::Toc) {
        let path = cd_dir.join(Path::new(&options.wav_name).with_extension("toc"));
        put(&path, &toc::write(layout, &options.wav_name))?;
        files.push(path);
    }
    let mut sheet = PqSheet::new(layout, &options.title, &options.artist);
    sheet.catalog_number = one_line(&options.catalog_number).into_owned();
    if options.formats.contains(&CdFormat::Ddp) {
        let dir = cd_dir.join("ddp");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let ddp_layout = layout.to_ddp(&options.master_id)?;
        let wopts = ddp::WriteOptions::default();
        let image = dir.join(&wopts.image_file);
        let (md5, len) = copy_image(&wav, &image, layout.image_samples() * 4)?;
        let written = ddp::write::write_fileset_with_md5(&dir, &ddp_layout, &wopts, md5, len)?;
        files.extend(written.files.iter().map(|(n, _)| dir.join(n)));
        files.push(dir.join("CHECKSUM.MD5"));
        sheet.ddp_md5 = md5.iter().map(|b| format!("{b:02x}")).collect();
    }
    // After the DDP, whose checksum the sheets carry.
    let txt = cd_dir.join("pq-sheet.txt");
    put(&txt, sheet.text().as_bytes())?;
    let html = cd_dir.join("pq-sheet.html");
    put(&html, sheet.html()?.as_bytes())?;
    files.extend([txt, html]);
    Ok(Authored { files, warnings })
}

/// Where the PCM data of a 16-bit 44.1 kHz stereo WAV file lies: (offset,
/// length in bytes).
pub fn wav_data(path: &Path) -> Result<(u64, u64), AuthorError> {
    let bad = |problem: String| AuthorError::Wav {
        path: path.to_path_buf(),
        problem,
    };
    let mut f = BufReader::new(File::open(path).map_err(io(path))?);
    let mut head = [0u8; 12];
    f.read_exact(&mut head).map_err(io(path))?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(bad("not a RIFF WAVE file".into()));
    }
    let mut pos = 12u64;
    let mut format_ok = false;
    loop {
        let mut ch = [0u8; 8];
        if f.read_exact(&mut ch).is_err() {
            return Err(bad("no data chunk".into()));
        }
        let size = u64::from(u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]));
        pos += 8;
        match &ch[0..4] {
            b"fmt " => {
                let mut fmt = vec![0u8; size as usize];
                f.read_exact(&mut fmt).map_err(io(path))?;
                let u16at = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
                if fmt.len() < 16 {
                    return Err(bad("fmt chunk shorter than 16 bytes".into()));
                }
                let (tag, channels, bits) = (u16at(0), u16at(2), u16at(14));
                let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
                if !(tag == 1 || tag == 0xFFFE) || channels != 2 || rate != 44_100 || bits != 16 {
                    return Err(bad(format!(
                        "{channels} channels of {bits}-bit at {rate} Hz (format {tag:#x}); a CD image is 2 channels of 16-bit PCM at 44100 Hz"
                    )));
                }
                format_ok = true;
                if size % 2 == 1 {
                    f.seek(SeekFrom::Current(1)).map_err(io(path))?;
                }
            }
            b"data" => {
                if !format_ok {
                    return Err(bad("data chunk before the fmt chunk".into()));
                }
                return Ok((pos, size));
            }
            _ => {
                f.seek(SeekFrom::Current((size + size % 2) as i64))
                    .map_err(io(path))?;
            }
        }
        pos += size + size % 2;
    }
}

/// Copies the WAV's data chunk to `image`, hashing it; the data must be
/// `want` bytes.
fn copy_image(wav: &Path, image: &Path, want: u64) -> Result<([u8; 16], u64), AuthorError> {
    let (offset, len) = wav_data(wav)?;
    if len != want {
        return Err(AuthorError::Wav {
            path: wav.to_path_buf(),
            problem: format!(
                "{len} bytes of audio data; the layout needs {want} ({} frames of 2352 bytes)",
                want / ddp::SECTOR_BYTES
            ),
        });
    }
    let mut r = File::open(wav).map_err(io(wav))?;
    r.seek(SeekFrom::Start(offset)).map_err(io(wav))?;
    let mut r = r.take(len);
    let part = part_name(image);
    let mut w = BufWriter::new(File::create(&part).map_err(io(&part))?);
    let mut md5 = md5::Context::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut copied = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(io(wav))?;
        if n == 0 {
            break;
        }
        md5.consume(&buf[..n]);
        w.write_all(&buf[..n]).map_err(io(&part))?;
        copied += n as u64;
    }
    if copied != len {
        return Err(AuthorError::Wav {
            path: wav.to_path_buf(),
            problem: format!("the data chunk says {len} bytes but the file ends after {copied}"),
        });
    }
    w.flush().map_err(io(&part))?;
    drop(w);
    std::fs::rename(&part, image).map_err(io(image))?;
    Ok((md5.finalize().0, copied))
}
