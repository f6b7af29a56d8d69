//! Reader dialects and faults: typed errors, zero-padded fields, a bad
//! CD-Text CRC, unreadable checksum lists, a pregap left out of the image;
//! extraction checked by golden CUE sheets and independent tools.

use std::path::Path;

use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::ddp::{DdpError, DdpFileset};

use super::prepared;
use crate::util::have_tool;

#[test]
fn reader_faults_are_typed_errors() {
    let Some((_, dir)) = prepared("025-embed-cue-full", "faults") else {
        return;
    };
    let orig = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let (ddpid, ddpms, sd) = (orig("DDPID"), orig("DDPMS"), orig("SD"));
    let with = |f: &str, bytes: &[u8]| -> Result<DdpFileset, DdpError> {
        std::fs::write(dir.join(f), bytes).unwrap();
        let r = DdpFileset::open(&dir);
        std::fs::write(dir.join(f), orig_bytes(f, &ddpid, &ddpms, &sd)).unwrap();
        r
    };
    let mut b = ddpms.clone();
    b[256 + 14..256 + 22].copy_from_slice(b"  16x0  ");
    let e = with("DDPMS", &b).unwrap_err().to_string();
    assert!(
        e.contains("DDPMS") && e.contains("DSL") && e.contains("16x0"),
        "{e}"
    );
    let e = with("DDPMS", &ddpms[..200]).unwrap_err();
    assert!(matches!(e, DdpError::Length { .. }), "{e}");
    let mut b = sd.clone();
    b[64 + 12..64 + 14].copy_from_slice(b"61");
    let e = with("SD", &b).unwrap_err().to_string();
    assert!(e.contains("SD entry 1") && e.contains("A-time"), "{e}");
    let mut b = sd.clone();
    b[64 * 2 + 16] = b'Z';
    assert!(with("SD", &b).unwrap_err().to_string().contains("C1"));
    let mut b = ddpid.clone();
    b[..8].copy_from_slice(b"XYZ 2.00");
    assert!(with("DDPID", &b).unwrap_err().to_string().contains("level"));
    // A map that names a file outside the folder is refused.
    let mut b = ddpms.clone();
    b[128 + 74..128 + 91].copy_from_slice(b"../ddp-x/SD      ");
    let e = with("DDPMS", &b).unwrap_err().to_string();
    assert!(e.contains("not a plain file name"), "{e}");
    std::fs::remove_file(dir.join("SD")).unwrap();
    assert!(matches!(
        DdpFileset::open(&dir),
        Err(DdpError::MissingFile { .. })
    ));
    std::fs::write(dir.join("sd"), &sd).unwrap();
    assert!(
        DdpFileset::open(&dir).is_ok(),
        "file names match without regard to case"
    );
    // Fuzz: random damage to the map and PQ never panics.
    let mut x: u64 = 0x1234_5678_9ABC_DEF1;
    for round in 0..400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (f, base) = if round % 2 == 0 {
            ("DDPMS", &ddpms)
        } else {
            ("sd", &sd)
        };
        let mut b = base.clone();
        if round % 5 == 0 {
            b.truncate((x as usize) % b.len());
        } else {
            let i = (x as usize >> 8) % b.len();
            b[i] = (x >> 40) as u8;
        }
        std::fs::write(dir.join(f), &b).unwrap();
        let _ = DdpFileset::open(&dir).map(|s| s.verify());
        std::fs::write(dir.join(f), base).unwrap();
    }
}

fn orig_bytes<'a>(f: &str, ddpid: &'a [u8], ddpms: &'a [u8], sd: &'a [u8]) -> &'a [u8] {
    match f {
        "DDPID" => ddpid,
        "DDPMS" => ddpms,
        _ => sd,
    }
}

/// The HOFA/Sonoris dialect: zero-padded numbers, `PQDESCR` as the file
/// name, SCR "0", hours written as "00" and the UPC on every PQ entry.
#[test]
fn zero_padded_dialect_reads_the_same() {
    let Some((_, dir)) = prepared("025-embed-cue-full", "zeros") else {
        return;
    };
    let plain = DdpFileset::open(&dir).unwrap();
    let mut ms = std::fs::read(dir.join("DDPMS")).unwrap();
    for rec in ms.chunks_mut(128) {
        for (at, len) in [(14, 8), (46, 4), (71, 3)] {
            let field = &mut rec[at..at + len];
            if field.iter().any(|b| b.is_ascii_digit()) {
                field
                    .iter_mut()
                    .filter(|b| **b == b' ')
                    .for_each(|b| *b = b'0');
            }
        }
        if &rec[74..76] == b"SD" {
            rec[74..81].copy_from_slice(b"PQDESCR");
        }
        if rec[41] == b'1' {
            rec[41] = b'0';
        }
    }
    let mut pq = std::fs::read(dir.join("SD")).unwrap();
    for e in pq.chunks_mut(64) {
        e[8..10].copy_from_slice(b"00");
        e[32..45].copy_from_slice(b"0123456789012");
    }
    // The lead-out once only, as some writers do.
    pq.truncate(pq.len() - 64);
    assert_eq!(&ms[128 + 14..128 + 22], b"00000512");
    ms[128 + 14..128 + 22].copy_from_slice(b"00000448");
    std::fs::remove_file(dir.join("SD")).unwrap();
    std::fs::write(dir.join("PQDESCR"), &pq).unwrap();
    std::fs::write(dir.join("DDPMS"), &ms).unwrap();
    for f in ["CHECKSUM.MD5", "CHECKSUM.TXT"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let z = DdpFileset::open(&dir).unwrap();
    assert_eq!(z.pq_file(), "PQDESCR");
    assert_eq!(z.pq.len(), 7);
    assert!(z
        .pq
        .iter()
        .all(|e| e.upc.as_deref() == Some("0123456789012")));
    assert_eq!(z.map[2].length, Some(1650));
    assert_eq!(z.map[2].pre2, Some(150));
    assert_eq!(z.tracks(), plain.tracks());
    assert_eq!((z.upc(), z.lead_out()), (plain.upc(), plain.lead_out()));
    assert_eq!(z.cdtext(), plain.cdtext());
    assert!(z.verify().unwrap().ok());
}

/// A CD-Text pack with a bad CRC: the text still reads, verify fails.
#[test]
fn bad_cdtext_crc_fails_verify_but_reads() {
    let Some((_, dir)) = prepared("011-cdtext-cue", "badcrc") else {
        return;
    };
    let path = dir.join("CDTEXT.BIN");
    let mut b = std::fs::read(&path).unwrap();
    b[18 + 17] ^= 0xFF;
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &b).unwrap();
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(set.cdtext_report().unwrap().bad_crc, vec![1]);
    let b = &set.cdtext().unwrap().blocks[0];
    assert_eq!(
        b.track(1).unwrap().text(TextField::Title),
        Some("Track One")
    );
    let r = set.verify().unwrap();
    let fails: Vec<_> = r.failures().collect();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(fails[0].what == "CD-Text" && fails[0].detail.contains("bad CRC in packs [1]"));
}

/// Compares `got` with the golden file, or rewrites it with
/// GLASSMASTER_BLESS=1.
fn golden(rel: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    if std::env::var_os("GLASSMASTER_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{}: no golden file (run with GLASSMASTER_BLESS=1)",
            path.display()
        )
    });
    assert_eq!(got, want, "{}", path.display());
}

/// The extracted CUE sheets of cue2ddp's fullest sets, as golden files.
#[test]
fn extracted_cue_sheets_match_golden() {
    for name in [
        "025-embed-cue-full",
        "014-three-tracks",
        "011-cdtext-cue",
        "010-flag-scms",
    ] {
        let Some((_, dir)) = prepared(name, "golden") else {
            return;
        };
        let set = DdpFileset::open(&dir).unwrap();
        let x = set.extract(dir.join("out")).unwrap();
        let cue = std::fs::read_to_string(&x.cue).unwrap();
        assert_eq!(cue, glassmaster::disc::ddp::cue_sheet(&set));
        golden(&format!("ddp/{name}.album.cue"), &cue);
    }
}

/// A checksum list that does not parse: the fileset opens, verify fails
/// and names the list and line.
#[test]
fn unreadable_checksum_list_fails_verify() {
    let Some((_, dir)) = prepared("021-cdtext-missing-field", "badlist") else {
        return;
    };
    std::fs::write(dir.join("EXTRA.md5"), "not a checksum line\n").unwrap();
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(set.checksum_errors().len(), 1);
    let r = set.verify().unwrap();
    let fails: Vec<_> = r.failures().collect();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(
        fails[0].detail.contains("EXTRA.md5 line 1"),
        "{}",
        fails[0].detail
    );
    // A listed file that is missing fails too.
    std::fs::write(dir.join("EXTRA.md5"), format!("{:032x}  GONE.BIN\n", 0)).unwrap();
    let r = DdpFileset::open(&dir).unwrap().verify().unwrap();
    assert!(r
        .failures()
        .any(|c| c.detail.contains("GONE.BIN, which is missing")));
}

fn run(tool: &str, args: &[&str], cwd: &Path) -> (String, String, bool) {
    let out = std::process::Command::new(tool)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// ffprobe, cuetools and cdrdao read what extract writes.
#[test]
fn extracted_files_pass_independent_readers() {
    let t = "extracted_files_pass_independent_readers";
    let Some((_, dir)) = prepared("025-embed-cue-full", "tools") else {
        return;
    };
    let set = DdpFileset::open(&dir).unwrap();
    let out = dir.join("out");
    set.extract(&out).unwrap();
    if have_tool("ffprobe", t) {
        let (o, e, ok) = run(
            "ffprobe",
            &[
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name,sample_rate,channels,duration",
                "-of",
                "compact",
                "album.wav",
            ],
            &out,
        );
        assert!(ok && e.is_empty(), "{e}");
        assert_eq!(
            o.trim(),
            "stream|codec_name=pcm_s16le|sample_rate=44100|channels=2|duration=22.000000"
        );
    }
    if have_tool("cueprint", t) {
        let (o, e, _) = run("cueprint", &["-i", "cue", "album.cue"], &out);
        assert!(e.is_empty(), "{e}");
        assert!(
            o.contains("ISRC:\t\tUSABC1111111") && o.contains("title:\t\tTwo"),
            "{o}"
        );
    }
    if have_tool("cuebreakpoints", t) {
        let (o, e, _) = run("cuebreakpoints", &["album.cue"], &out);
        assert!(e.is_empty(), "{e}");
        assert_eq!(o.trim(), "0:12.00");
    }
    // cdrdao's CUE reader stops at INDEX 02 (a cdrdao bug), so give it 011.
    let Some((_, dir)) = prepared("011-cdtext-cue", "tools") else {
        return;
    };
    DdpFileset::open(&dir)
        .unwrap()
        .extract(dir.join("out"))
        .unwrap();
    if have_tool("cdrdao", t) {
        let (o, e, ok) = run("cdrdao", &["toc-info", "album.cue"], &dir.join("out"));
        assert!(ok, "{o}{e}");
        assert!(
            format!("{o}{e}").contains("2 tracks, length 00:22:00, 1650 blocks"),
            "{o}{e}"
        );
    }
}

/// A writer that leaves track 1's 150-sector pregap out of the image (DSL
/// = sectors in the file, PRE2 150, lead-out 150 past the image's end):
/// verify accepts it and extract puts the silence back.
#[test]
fn pregap_outside_the_image() {
    let Some((_, dir)) = prepared("005-isrc-upc", "outside") else {
        return;
    };
    let full = std::fs::read(dir.join("IMAGE.DAT")).unwrap();
    std::fs::write(dir.join("IMAGE.DAT"), &full[150 * 2352..]).unwrap();
    let mut ms = std::fs::read(dir.join("DDPMS")).unwrap();
    assert_eq!(&ms[128 + 14..128 + 22], b"     900");
    ms[128 + 14..128 + 22].copy_from_slice(b"     750");
    std::fs::write(dir.join("DDPMS"), &ms).unwrap();
    for f in ["CHECKSUM.MD5", "CHECKSUM.TXT"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(
        (set.image_sectors(), set.image_start_frame(), set.lead_out()),
        (750, 150, 900)
    );
    let r = set.verify().unwrap();
    assert!(r.ok(), "{:?}", r.failures().collect::<Vec<_>>());
    let x = set.extract(dir.join("out")).unwrap();
    assert_eq!(x.data_bytes, full.len() as u64);
    assert_eq!(&std::fs::read(&x.wav).unwrap()[44..], &full[..]);
    // Without the PRE2 the same image is 150 frames short.
    ms[128 + 46..128 + 50].copy_from_slice(b"    ");
    std::fs::write(dir.join("DDPMS"), &ms).unwrap();
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(set.image_start_frame(), 0);
    let fails: Vec<_> = set
        .verify()
        .unwrap()
        .failures()
        .map(|c| c.what.clone())
        .collect();
    assert_eq!(fails, ["lead-out"]);
}
