//! Checking a fileset against itself: the image size against the map and
//! the PQ lead-out and the map lengths of the PQ and CD-Text files (first,
//! from the files' metadata, so that a file of the wrong size is never
//! hashed), every checksum list entry (file present, MD5 or CRC-32
//! matching), the order of the PQ frames and the CD-Text packs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::checksum::{hash_file, Expected, FileHashes};
use super::{find_file, DdpError, DdpFileset, SECTOR_BYTES};

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Short name: "checksum", "image size", "lead-out", ...
    pub what: String,
    pub ok: bool,
    /// What was compared, in a sentence.
    pub detail: String,
}

/// Every check `verify` made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub checks: Vec<Check>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
    fn push(&mut self, what: &str, ok: bool, detail: String) {
        self.checks.push(Check {
            what: what.to_string(),
            ok,
            detail,
        });
    }
}

pub(super) fn verify(set: &DdpFileset) -> Result<VerifyReport, DdpError> {
    let mut r = VerifyReport::default();
    let mut hashes: BTreeMap<PathBuf, FileHashes> = BTreeMap::new();
    let mut hash = |path: PathBuf| -> Result<FileHashes, DdpError> {
        if let Some(h) = hashes.get(&path) {
            return Ok(*h);
        }
        let h = hash_file(&path)?;
        hashes.insert(path, h);
        Ok(h)
    };

    r.push(
        "level",
        set.id.level == "DDP 2.00",
        format!("DDPID level {:?}, expected \"DDP 2.00\"", set.id.level),
    );
    // Sizes first, from metadata alone: a file whose size disagrees with
    // DDPMS is never hashed (a sparse 5 GB IMAGE.DAT is refused at once).
    let mut wrong_size: Vec<PathBuf> = Vec::new();
    let image = set.image_path();
    let stated = set.image_sectors();
    match crate::fsio::check_regular(&image) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            r.push("image", false, format!("{} is missing", image.display()))
        }
        Err(e) => return Err(DdpError::io(&image, e)),
        Ok(m) => {
            let len = m.len();
            let ok = len == stated * SECTOR_BYTES;
            if !ok {
                wrong_size.push(image.clone());
            }
            r.push(
                "image size",
                ok,
                format!(
                    "{} is {len} bytes; DDPMS states {stated} sectors = {} bytes",
                    image.display(),
                    stated * SECTOR_BYTES
                ),
            );
        }
    }
    let start = set.image_start_frame();
    r.push(
        "lead-out",
        u64::from(set.lead_out()) == u64::from(start) + stated,
        format!(
            "PQ lead-out at frame {} ({}), image of {stated} sectors starting at {}",
            set.lead_out(),
            msf(set.lead_out()),
            msf(start)
        ),
    );
    let lead_outs: Vec<u32> = set
        .pq
        .iter()
        .filter(|e| e.track == super::PqTrack::LeadOut)
        .map(|e| e.frame)
        .collect();
    r.push(
        "lead-out entries",
        lead_outs.iter().all(|&f| f == set.lead_out()),
        format!("lead-out entries at frames {lead_outs:?}"),
    );

    for p in &set.map {
        if p.stream_type != "S0" {
            continue;
        }
        let Some(path) = super::plain_name(&p.file_name)
            .then(|| find_file(set.dir(), &p.file_name))
            .flatten()
        else {
            continue;
        };
        let len = crate::fsio::check_regular(&path)
            .map_err(|e| DdpError::io(&path, e))?
            .len();
        if p.length != Some(len) {
            wrong_size.push(path.clone());
        }
        r.push(
            "map length",
            p.length == Some(len),
            format!("{} is {len} bytes; DDPMS DSL {:?}", p.file_name, p.length),
        );
    }
    for e in &set.checksums {
        if !super::plain_name(&e.name) {
            r.push(
                "checksum",
                false,
                format!(
                    "{} lists {:?}, which is not a file of the fileset's folder",
                    e.list, e.name
                ),
            );
            continue;
        }
        let Some(path) = find_file(set.dir(), &e.name) else {
            r.push(
                "checksum",
                false,
                format!("{} lists {}, which is missing", e.list, e.name),
            );
            continue;
        };
        if wrong_size.contains(&path) {
            r.push(
                "checksum",
                false,
                format!(
                    "{} is listed in {} but not hashed: its size disagrees with DDPMS",
                    e.name, e.list
                ),
            );
            continue;
        }
        let h = hash(path)?;
        let (ok, detail) = match &e.expected {
            Expected::Md5(m) => {
                let want: String = m.iter().map(|b| format!("{b:02x}")).collect();
                (
                    *m == h.md5,
                    format!(
                        "{} MD5 {} in {}, file has {}",
                        e.name,
                        want,
                        e.list,
                        h.md5_hex()
                    ),
                )
            }
            Expected::Crc32(c) => (
                *c == h.crc32,
                format!(
                    "{} CRC-32 {c:08X} in {}, file has {:08X}",
                    e.name, e.list, h.crc32
                ),
            ),
        };
        r.push("checksum", ok, detail);
    }
    for e in set.checksum_errors() {
        r.push("checksum", false, e.to_string());
    }
    if set.checksums.is_empty() && set.checksum_errors().is_empty() {
        r.push(
            "checksum",
            true,
            "no checksum list beside the fileset (nothing to compare)".into(),
        );
    }

    let mut prev: Option<(u8, u8, u32)> = None;
    let mut order_ok = true;
    let mut order_detail = "every index after the one before".to_string();
    for t in set.tracks() {
        for i in &t.indexes {
            if let Some((pt, pi, pf)) = prev {
                if i.frame < pf || (i.frame == pf && !(pt == t.number && pi == 0)) {
                    order_ok = false;
                    order_detail = format!(
                        "track {} index {:02} at {} is not after track {pt} index {pi:02} at {}",
                        t.number,
                        i.number,
                        msf(i.frame),
                        msf(pf)
                    );
                }
            }
            prev = Some((t.number, i.number, i.frame));
        }
        if t.start().is_some_and(|s| s >= set.lead_out()) {
            order_ok = false;
            order_detail = format!("track {} starts at or after the lead-out", t.number);
        }
    }
    r.push("index order", order_ok, order_detail);
    if let Some(t1) = set.tracks().first().and_then(|t| t.start()) {
        r.push(
            "track 1 pregap",
            t1 >= 150,
            format!("track 1 index 01 at {} (at least 00:02:00)", msf(t1)),
        );
    }

    if let Some(file) = set.cdtext_file() {
        match set.cdtext_error() {
            Some(e) => r.push("CD-Text", false, format!("{file}: {e}")),
            None => {
                let rep = set.cdtext_report().cloned().unwrap_or_default();
                let mut faults = rep.warnings.clone();
                if !rep.bad_crc.is_empty() {
                    faults.insert(0, format!("bad CRC in packs {:?}", rep.bad_crc));
                }
                if faults.is_empty() {
                    r.push(
                        "CD-Text",
                        true,
                        format!("{file}: CRCs and size information agree"),
                    );
                } else {
                    r.push("CD-Text", false, format!("{file}: {}", faults.join("; ")));
                }
            }
        }
    }
    if let Some(u) = set.upc() {
        r.push(
            "UPC",
            super::upc_valid(u),
            format!("UPC/EAN {u}: 13 digits with a GS1 check digit"),
        );
    }
    for t in set.tracks() {
        if let Some(isrc) = &t.isrc {
            r.push(
                "ISRC",
                super::isrc_valid(isrc),
                format!("track {} ISRC {isrc}: 12 characters CCXXXYYNNNNN", t.number),
            );
        }
    }
    if let Some(text) = set.cdtext() {
        let first = set.tracks().first().map_or(0, |t| t.number);
        let last = set.tracks().last().map_or(0, |t| t.number);
        for (i, b) in text.blocks.iter().enumerate() {
            r.push(
                "CD-Text tracks",
                (b.first_track, b.last_track) == (first, last),
                format!(
                    "CD-Text block {i} covers tracks {}..{}, the PQ descriptor {first}..{last}",
                    b.first_track, b.last_track
                ),
            );
        }
    }
    if let (Some(a), Some(b)) = (
        set.id.upc.as_deref(),
        set.pq.iter().find_map(|e| e.upc.as_deref()),
    ) {
        r.push("UPC", a == b, format!("DDPID UPC {a}, PQ UPC {b}"));
    }
    Ok(r)
}

pub(super) fn msf(frame: u32) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        frame / 4500,
        frame / 75 % 60,
        frame % 75
    )
}
