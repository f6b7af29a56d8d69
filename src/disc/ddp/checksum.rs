//! Checksum files beside a DDP fileset and the hashes to check them.
//!
//! Read: md5sum format (`<md5>  NAME` or `<md5> *NAME`, as cue2ddp's
//! `CHECKSUM.MD5`), BSD format (`MD5 (NAME) = <md5>`) in any `*.md5` file
//! or `MD5SUM(S)`, and cue2ddp's CRC-32 list (`CHECKSUM.TXT`: a
//! `[CRC32 Checksum]` section of `NAME=8HEX` lines). CRC-32 is the common
//! zlib/IEEE one (reflected 0xEDB88320, init and final XOR 0xFFFFFFFF).

use std::io::Read;
use std::path::Path;

use super::DdpError;

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// Running CRC-32 (IEEE).
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Crc32(0xFFFF_FFFF)
    }
}

impl Crc32 {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, data: &[u8]) {
        let mut c = self.0;
        for &b in data {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }
    pub fn finish(self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

/// CRC-32 of a byte slice (`crc32(b"123456789") == 0xCBF43926`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

/// MD5, CRC-32 and length of a file, read in blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHashes {
    pub md5: [u8; 16],
    pub crc32: u32,
    pub len: u64,
}

impl FileHashes {
    pub fn md5_hex(&self) -> String {
        self.md5.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Hashes a file by streaming it.
pub fn hash_file(path: &Path) -> Result<FileHashes, DdpError> {
    let mut f = crate::fsio::open_regular(path).map_err(|e| DdpError::io(path, e))?;
    let mut md5 = md5::Context::new();
    let mut crc = Crc32::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| DdpError::io(path, e))?;
        if n == 0 {
            break;
        }
        md5.consume(&buf[..n]);
        crc.update(&buf[..n]);
        len += n as u64;
    }
    Ok(FileHashes {
        md5: md5.finalize().0,
        crc32: crc.finish(),
        len,
    })
}

/// Which hash a listed entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Md5([u8; 16]),
    Crc32(u32),
}

/// One line of a checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// The checksum file it came from.
    pub list: String,
    pub name: String,
    pub expected: Expected,
}

fn hex_md5(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// True for file names this module reads as checksum lists.
pub fn is_checksum_list(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    up.ends_with(".MD5") || up == "MD5SUM" || up == "MD5SUMS" || up == "CHECKSUM.TXT"
}

/// Parses a checksum list; `list` names it in messages.
pub fn parse_list(list: &str, text: &str) -> Result<Vec<ChecksumEntry>, DdpError> {
    let mut out = Vec::new();
    let crc_style = text
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("[CRC32 Checksum]"));
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with(';')
            || line.starts_with('[')
        {
            continue;
        }
        let bad = || {
            DdpError::field(
                &format!("{list} line {}", n + 1),
                "checksum line",
                line,
                "is not understood",
            )
        };
        if crc_style {
            let (name, hex) = line.split_once('=').ok_or_else(bad)?;
            let v = u32::from_str_radix(hex.trim(), 16).map_err(|_| bad())?;
            out.push(ChecksumEntry {
                list: list.into(),
                name: name.trim().into(),
                expected: Expected::Crc32(v),
            });
        } else if let Some(rest) = line.strip_prefix("MD5 (") {
            let (name, hex) = rest.rsplit_once(") = ").ok_or_else(bad)?;
            out.push(ChecksumEntry {
                list: list.into(),
                name: name.into(),
                expected: Expected::Md5(hex_md5(hex.trim()).ok_or_else(bad)?),
            });
        } else {
            let (hex, name) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
            let name = name.trim_start();
            let name = name.strip_prefix('*').unwrap_or(name);
            out.push(ChecksumEntry {
                list: list.into(),
                name: name.into(),
                expected: Expected::Md5(hex_md5(hex).ok_or_else(bad)?),
            });
        }
    }
    Ok(out)
}
