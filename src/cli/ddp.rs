//! `glassmaster ddp info|verify|extract DIR`: any DDP 2.00 audio fileset.
//!
//! `info` prints the DDPID fields, the map, the PQ table, the UPC, the
//! CD-Text of every block and track and the checksum lists found (`--json`
//! gives the same as one document). `verify` prints every check and fails
//! (exit 1) when any does, naming the file and the field. `extract` writes
//! `album.wav` and `album.cue` as the new folder OUT, only from a fileset
//! `verify` passes; `--force` replaces an OUT that an earlier extract (or
//! build) wrote, and nothing else.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use serde_json::json;

use super::{Context, Outcome};
use crate::disc::cdtext::{CdTextBlock, Fields, TextField};
use crate::disc::ddp::{Control, DdpFileset, Expected, PqTrack};
use crate::disc::text::msf;

#[derive(Debug, Subcommand)]
pub enum DdpCommand {
    /// Print the DDPID, the map, the PQ table, the UPC, the CD-Text and the checksum lists.
    Info {
        /// The fileset's folder.
        dir: PathBuf,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Check the checksums, the image size against the map and the PQ lead-out, the PQ order and the CD-Text.
    Verify {
        /// The fileset's folder.
        dir: PathBuf,
        /// One JSON document on stdout: `ok` and every check with its detail.
        #[arg(long)]
        json: bool,
    },
    /// Write the image as album.wav with an album.cue into OUT.
    Extract {
        /// The fileset's folder.
        dir: PathBuf,
        /// The folder to write (new, empty, or with --force one glassmaster wrote).
        #[arg(short = 'o', long = "out", value_name = "OUT")]
        out: PathBuf,
        /// Replace OUT when an earlier extract or build wrote it.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(ctx: &Context, cmd: DdpCommand) -> Result<Outcome> {
    match cmd {
        DdpCommand::Info { dir, json } => info(&dir, json),
        DdpCommand::Verify { dir, json } => verify(&dir, json),
        DdpCommand::Extract { dir, out, force } => extract(ctx, &dir, &out, force),
    }
}

fn open(dir: &Path) -> Result<DdpFileset> {
    DdpFileset::open(dir).with_context(|| format!("DDP fileset {}", dir.display()))
}

/// "PRE DCP 4CH SCMS" style flags, "-" for none.
fn flags(c: Control) -> String {
    let mut v = Vec::new();
    if c.pre_emphasis {
        v.push("PRE");
    }
    if c.copy_permitted {
        v.push("DCP");
    }
    if c.four_channel {
        v.push("4CH");
    }
    if c.data {
        v.push("DATA");
    }
    if c.scms {
        v.push("SCMS");
    }
    if v.is_empty() {
        "-".into()
    } else {
        v.join(" ")
    }
}

fn pq_track(t: PqTrack) -> String {
    match t {
        PqTrack::LeadIn => "00".into(),
        PqTrack::Track(n) => format!("{n:02}"),
        PqTrack::LeadOut => "AA".into(),
    }
}

fn fields_json(f: &Fields) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for field in TextField::ALL {
        if let Some(v) = f.text(field) {
            m.insert(field.name().to_ascii_lowercase(), json!(v));
        }
    }
    serde_json::Value::Object(m)
}

fn block_json(b: &CdTextBlock) -> serde_json::Value {
    json!({
        "language": b.language,
        "charset": b.charset.code(),
        "first_track": b.first_track,
        "last_track": b.last_track,
        "disc": fields_json(&b.disc),
        "genre": b.genre.as_ref().map(|g| json!({"code": g.code, "text": g.text})),
        "disc_id": b.disc_id,
        "tracks": b.tracks.iter().map(fields_json).collect::<Vec<_>>(),
    })
}

fn info(dir: &Path, as_json: bool) -> Result<Outcome> {
    let set = open(dir)?;
    let id = &set.id;
    if as_json {
        let doc = json!({
            "ddpid": {
                "level": id.level, "upc": id.upc, "map_stream_start": id.map_stream_start,
                "msl": id.msl, "media": id.media, "master_id": id.master_id,
                "book": id.book, "type": id.disc_type,
            },
            "map": set.map.iter().map(|p| json!({
                "stream_type": p.stream_type, "length": p.length, "start": p.start,
                "subcode": p.subcode, "cd_mode": p.cd_mode, "pre1": p.pre1, "pre2": p.pre2,
                "track": p.track, "index": p.index, "isrc": p.isrc, "file": p.file_name,
            })).collect::<Vec<_>>(),
            "upc": set.upc(),
            "pq_file": set.pq_file(),
            "pq": set.pq.iter().map(|e| json!({
                "track": pq_track(e.track), "index": e.index, "frame": e.frame,
                "time": msf(e.frame), "control": e.control.nibble(),
                "flags": flags(e.control), "isrc": e.isrc, "upc": e.upc,
            })).collect::<Vec<_>>(),
            "lead_out": set.lead_out(),
            "cdtext": set.cdtext().map(|t| t.blocks.iter().map(block_json).collect::<Vec<_>>()),
            "cdtext_error": set.cdtext_error().map(ToString::to_string),
            "checksums": set.checksums().iter().map(|c| json!({
                "list": c.list, "file": c.name,
                "kind": match c.expected { Expected::Md5(_) => "md5", Expected::Crc32(_) => "crc32" },
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(Outcome::Success);
    }
    let mut s = String::new();
    let _ = writeln!(s, "DDP fileset {}", dir.display());
    let _ = writeln!(s, "DDPID");
    let opt = |v: &Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
    for (k, v) in [
        ("level", id.level.clone()),
        ("UPC/EAN", id.upc.clone().unwrap_or_else(|| "-".into())),
        ("map stream start", opt(&id.map_stream_start)),
        ("MSL", opt(&id.msl)),
        ("media", id.media.clone()),
        ("master ID", id.master_id.clone()),
        ("book", id.book.clone()),
        ("type", id.disc_type.clone()),
    ] {
        let _ = writeln!(s, "  {k:<17} {v}");
    }
    let _ = writeln!(s, "Map (DDPMS)");
    for p in &set.map {
        let _ = writeln!(
            s,
            "  {} {:<9} {:<17} length {}",
            p.stream_type,
            if p.subcode.is_empty() {
                p.cd_mode.as_str()
            } else {
                p.subcode.as_str()
            },
            p.file_name,
            opt(&p.length)
        );
    }
    let _ = writeln!(s, "UPC/EAN: {}", set.upc().unwrap_or("none"));
    let _ = writeln!(s, "PQ ({})", set.pq_file());
    let _ = writeln!(
        s,
        "  TRK IDX  TIME      FRAME   CTRL  FLAGS     ISRC          UPC"
    );
    for e in &set.pq {
        let line = format!(
            "  {:<3} {:02}   {:<8}  {:>6}  {:X}     {:<8}  {:<12}  {}",
            pq_track(e.track),
            e.index,
            msf(e.frame),
            e.frame,
            e.control.nibble(),
            flags(e.control),
            e.isrc.as_deref().unwrap_or(""),
            e.upc.as_deref().unwrap_or("")
        );
        let _ = writeln!(s, "{}", line.trim_end());
    }
    match (set.cdtext(), set.cdtext_error()) {
        (Some(t), _) => {
            for (i, b) in t.blocks.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "CD-Text block {i} (language {:#04x}, charset {:#04x}, tracks {}..{})",
                    b.language,
                    b.charset.code(),
                    b.first_track,
                    b.last_track
                );
                print_fields(&mut s, "disc", &b.disc);
                if let Some(g) = &b.genre {
                    let _ = writeln!(s, "    {:<10} {} {:?}", "GENRE", g.code, g.text);
                }
                if let Some(d) = &b.disc_id {
                    let _ = writeln!(s, "    {:<10} {d:?}", "DISC_ID");
                }
                for (k, f) in b.tracks.iter().enumerate() {
                    let n = usize::from(b.first_track) + k;
                    print_fields(&mut s, &format!("track {n:02}"), f);
                }
            }
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "CD-Text: does not decode: {e}");
        }
        (None, None) => {
            let _ = writeln!(s, "CD-Text: none");
        }
    }
    let _ = writeln!(s, "Checksums");
    if set.checksums().is_empty() {
        let _ = writeln!(s, "  none");
    }
    for c in set.checksums() {
        let kind = match c.expected {
            Expected::Md5(_) => "MD5",
            Expected::Crc32(_) => "CRC-32",
        };
        let _ = writeln!(s, "  {:<14} {kind:<6} {}", c.list, c.name);
    }
    print!("{s}");
    Ok(Outcome::Success)
}

fn print_fields(s: &mut String, who: &str, f: &Fields) {
    let _ = writeln!(s, "  {who}");
    for field in TextField::ALL {
        if let Some(v) = f.text(field) {
            let _ = writeln!(s, "    {:<10} {v:?}", field.name());
        }
    }
}

fn verify(dir: &Path, as_json: bool) -> Result<Outcome> {
    let set = open(dir)?;
    let report = set
        .verify()
        .with_context(|| format!("verifying {}", dir.display()))?;
    if as_json {
        let doc = json!({
            "ok": report.ok(),
            "dir": dir.display().to_string(),
            "checks": report.checks.iter().map(|c| json!({
                "what": c.what, "ok": c.ok, "detail": c.detail,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(if report.ok() {
            Outcome::Success
        } else {
            Outcome::Failed
        });
    }
    for c in &report.checks {
        println!(
            "{} {}: {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.what,
            c.detail
        );
    }
    if report.ok() {
        println!("{}: every check passed", dir.display());
        Ok(Outcome::Success)
    } else {
        for c in report.failures() {
            eprintln!("error: {}: {}: {}", dir.display(), c.what, c.detail);
        }
        Ok(Outcome::Failed)
    }
}

/// `ddp extract`: refuses, before writing anything, a fileset `ddp verify`
/// rejects and an output folder the output rule refuses
/// ([`crate::build::output`]); writes album.wav and album.cue into a
/// staging folder that becomes OUT only when both are whole.
fn extract(ctx: &Context, dir: &Path, out: &Path, force: bool) -> Result<Outcome> {
    use crate::build::output::{self, Output};
    let inputs = [dir.to_owned()];
    output::check(out, &inputs, force)?;
    let set = open(dir)?;
    let report = set
        .verify()
        .with_context(|| format!("verifying {}", dir.display()))?;
    if !report.ok() {
        for c in report.failures() {
            eprintln!("error: {}: {}: {}", dir.display(), c.what, c.detail);
        }
        eprintln!(
            "error: {}: the fileset fails `ddp verify`; nothing was written to {}",
            dir.display(),
            out.display()
        );
        return Ok(Outcome::Failed);
    }
    let say = |n: &str| eprintln!("note: {n}");
    let staged = Output::begin(out, &inputs, force, "ddp extract", &say)?;
    let done = set
        .extract(staged.dir())
        .with_context(|| format!("extracting {} into {}", dir.display(), out.display()))?;
    for n in staged.commit()? {
        eprintln!("warning: {n}");
    }
    if !ctx.quiet {
        eprintln!(
            "wrote {} ({} bytes of audio) and {}",
            out.join("album.wav").display(),
            done.data_bytes,
            out.join("album.cue").display()
        );
    }
    Ok(Outcome::Success)
}
