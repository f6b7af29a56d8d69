//! The DDP fileset `author` writes for the test album, read back by the
//! reader, md5sum and the `ddp` command line; `ddp info` on every cue2ddp
//! fileset against its input.cue.

use std::path::Path;
use std::process::{Command, Output};

use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::ddp::DdpFileset;

use super::{authored, msf};
use crate::cdtext::{cdtext_from_cue, read_cue};
use crate::ddp::{experiments, image_params, prepared};
use crate::util::{bin, have_tool, scratch};

fn gm(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn ok(o: &Output) -> bool {
    o.status.code() == Some(0)
}

/// The bytes of a WAV file's data chunk (the files here have 44-byte
/// headers).
pub(crate) fn wav_data(path: &Path) -> Vec<u8> {
    let (offset, len) = glassmaster::disc::author::wav_data(path).unwrap();
    let bytes = std::fs::read(path).unwrap();
    bytes[offset as usize..(offset + len) as usize].to_vec()
}

#[test]
fn album_ddp_matches_the_cue_and_round_trips() {
    let (dir, l, done) = authored("ddp");
    let ddp = dir.join("ddp");
    for name in [
        "DDPID",
        "DDPMS",
        "PQDESCR",
        "CDTEXT.BIN",
        "IMAGE.DAT",
        "CHECKSUM.MD5",
    ] {
        assert!(
            done.files.contains(&ddp.join(name)),
            "{name} in {:?}",
            done.files
        );
    }
    // IMAGE.DAT is album.wav's data.
    let image = std::fs::read(ddp.join("IMAGE.DAT")).unwrap();
    assert_eq!(image, wav_data(&dir.join("album.wav")));
    assert_eq!(image.len() as u64, u64::from(l.total_frames) * 2352);

    if have_tool(
        "md5sum",
        "album_ddp_matches_the_cue_and_round_trips (md5sum)",
    ) {
        let out = Command::new("md5sum")
            .args(["-c", "CHECKSUM.MD5"])
            .current_dir(&ddp)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.matches(": OK").count(), 5, "{text}");
        eprintln!("md5sum -c CHECKSUM.MD5: 5 files OK");
    }

    // Every PQ entry matches the CUE's indexes, flags and ISRCs.
    let set = DdpFileset::open(&ddp).unwrap();
    let cue = read_cue(&std::fs::read(dir.join("album.cue")).unwrap());
    assert_eq!(set.upc(), cue.catalog.as_deref());
    assert_eq!(set.tracks().len(), cue.tracks.len());
    for (t, c) in set.tracks().iter().zip(&cue.tracks) {
        let got: Vec<(u8, u32)> = t.indexes.iter().map(|i| (i.number, i.frame)).collect();
        assert_eq!(got, c.indexes, "track {} indexes", t.number);
        assert_eq!(t.isrc, c.text.code, "track {} ISRC", t.number);
        assert_eq!(t.control.pre_emphasis, c.flags.iter().any(|f| f == "PRE"));
        assert_eq!(t.control.copy_permitted, c.flags.iter().any(|f| f == "DCP"));
    }
    assert_eq!(set.lead_out(), l.total_frames);
    assert_eq!(set.cdtext(), Some(&l.cdtext().unwrap().filled()));
    assert!(set.verify().unwrap().ok());

    // The CLI: verify passes, extract gives album.wav's samples back.
    let d = ddp.to_str().unwrap();
    let v = gm(&["ddp", "verify", d]);
    assert!(ok(&v), "{}", String::from_utf8_lossy(&v.stdout));
    let out = scratch("disc-ddp-extract");
    let o = out.to_str().unwrap();
    let x = gm(&["ddp", "extract", d, "-o", o]);
    assert!(ok(&x), "{}", String::from_utf8_lossy(&x.stderr));
    assert_eq!(wav_data(&out.join("album.wav")), image);
    let back = read_cue(&std::fs::read(out.join("album.cue")).unwrap());
    let idx = |c: &crate::cdtext::MiniCue| -> Vec<Vec<(u8, u32)>> {
        c.tracks.iter().map(|t| t.indexes.clone()).collect()
    };
    assert_eq!(idx(&back), idx(&cue));
    // Again: refused without --force (exit 1, the path named), done with it.
    let again = gm(&["ddp", "extract", d, "-o", o]);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains(o) && err.contains("--force"), "{err}");
    assert!(ok(&gm(&["ddp", "extract", d, "-o", o, "--force"])));
    assert_eq!(wav_data(&out.join("album.wav")), image);

    // One flipped byte in IMAGE.DAT: verify fails and names the file.
    let bad = scratch("disc-ddp-flipped");
    for e in std::fs::read_dir(&ddp).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), bad.join(e.file_name())).unwrap();
    }
    let mut flipped = image.clone();
    flipped[1_000_000] ^= 0x01;
    std::fs::write(bad.join("IMAGE.DAT"), &flipped).unwrap();
    let v = gm(&["ddp", "verify", bad.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&v.stdout);
    let stderr = String::from_utf8_lossy(&v.stderr);
    let fails: Vec<&str> = stdout.lines().filter(|x| x.starts_with("FAIL")).collect();
    assert_eq!(fails.len(), 1, "{stdout}");
    assert!(
        fails[0].contains("IMAGE.DAT") && fails[0].contains("MD5"),
        "{stdout}"
    );
    assert!(stderr.contains("IMAGE.DAT"), "{stderr}");

    // info --json: the same fileset as one document.
    let j = gm(&["ddp", "info", "--json", d]);
    assert!(ok(&j));
    let doc: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(doc["upc"], "5012345678900");
    assert_eq!(doc["pq_file"], "PQDESCR");
    assert_eq!(doc["lead_out"], l.total_frames);
    assert_eq!(doc["pq"].as_array().unwrap().len(), set.pq.len());
    assert_eq!(doc["cdtext"][0]["tracks"][1]["title"], "Caf\u{e9} Noir");
    assert_eq!(doc["cdtext"][0]["tracks"][1]["upc_isrc"], "GBAYE2600002");
    let t4 = doc["pq"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["track"] == "04" && e["index"] == 2)
        .unwrap();
    assert_eq!(t4["frame"], l.tracks[3].indexes[1]);
    assert_eq!(t4["time"], super::msf(l.tracks[3].indexes[1]));

    // Usage errors exit 2; a missing folder exits 1 and names it.
    assert_eq!(gm(&["ddp", "extract", d]).status.code(), Some(2));
    let missing = gm(&["ddp", "info", "/nonexistent/ddp"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/ddp"));
}

#[test]
fn ddp_info_prints_each_cue2ddp_fileset() {
    let names = experiments();
    if names.is_empty() {
        return;
    }
    for name in &names {
        let (src, dir) = prepared(name, "info").unwrap();
        let (_, p, _, _) = image_params(name);
        let o = gm(&["ddp", "info", dir.to_str().unwrap()]);
        assert!(ok(&o), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("  level             DDP 2.00\n"), "{name}");
        for list in ["CHECKSUM.MD5", "CHECKSUM.TXT"] {
            let kind = if list.ends_with("MD5") {
                "MD5   "
            } else {
                "CRC-32"
            };
            assert_eq!(
                out.contains(&format!("  {list}   {kind} DDPID\n")),
                src.join(list).exists(),
                "{name}: {list}\n{out}"
            );
        }
        let Ok(bytes) = std::fs::read(src.join("input.cue")) else {
            continue;
        };
        let cue = read_cue(&bytes);
        if let Some(c) = &cue.catalog {
            assert!(
                out.contains(&format!("UPC/EAN: {c}\n")),
                "{name}: UPC {c}\n{out}"
            );
        }
        let pq_rows: Vec<&str> = out.lines().filter(|l| l.starts_with("  ")).collect();
        for t in &cue.tracks {
            for &(n, f) in &t.indexes {
                let prefix = format!("  {:02}  {n:02}   {}", t.number, msf(f + p));
                let row = pq_rows
                    .iter()
                    .find(|r| r.starts_with(&prefix))
                    .unwrap_or_else(|| panic!("{name}: no PQ row {prefix:?}\n{out}"));
                for flag in &t.flags {
                    assert!(row.contains(flag.as_str()), "{name}: {flag} in {row:?}");
                }
                if t.flags.is_empty() {
                    assert!(row.contains(" -"), "{name}: no flags in {row:?}");
                }
            }
            if let Some(isrc) = &t.text.code {
                assert!(out.contains(isrc.as_str()), "{name}: ISRC {isrc}");
            }
        }
        if !name.starts_with("081") && !name.starts_with("092") && src.join("CDTEXT.BIN").exists() {
            let want = cdtext_from_cue(&cue, false);
            let b = &want.blocks[0];
            for f in std::iter::once(&b.disc).chain(&b.tracks) {
                for field in [
                    TextField::Title,
                    TextField::Performer,
                    TextField::Songwriter,
                ] {
                    if let Some(v) = f.text(field) {
                        let line = format!("    {:<10} {v:?}", field.name());
                        assert!(out.contains(&line), "{name}: {line:?}\n{out}");
                    }
                }
            }
        }
    }
}
