//! Issue 12 through `build`: a generated two-disc set (6 tracks on disc 1
//! with a segue and an INDEX 02, 5 on disc 2) writes `cd/disc-1/` and
//! `cd/disc-2/`, each a whole CD that cdrdao, cuetools, shntool, libcue,
//! md5sum and the DDP reader accept, with track numbers from 1, its own
//! CD-Text and the MCN; FLAC tags carry DISCNUMBER/DISCTOTAL (metaflac);
//! `verify` passes and fails when one disc's IMAGE.DAT changes. The disc
//! numbering and segue mistakes exit 1 at their line, writing nothing.
//! The hidden-track disc is in [`super::htoa`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::ddp::DdpFileset;

use super::music::{self, Style};
use super::{build_ok, gm, staging_left};
use crate::disc::checkers::{breakpoint_frames, latin1, paren_frames, run};
use crate::disc::ddp_cli::wav_data;
use crate::util::{have_tool, scratch};

pub const UPC: &str = "5012345678900";

/// (disc, title, seconds, extra YAML).
#[rustfmt::skip]
const ROWS: [(u32, &str, f64, &str); 11] = [
    (1, "One A",   4.6, ""),
    (1, "One B",   4.4, "    pregap: 1\n"),
    (1, "One C",   4.5, "    segue: true\n"),
    (1, "One D",   6.0, "    indexes: [\"0:02.500\"]\n"),
    (1, "One E",   4.3, ""),
    (1, "One F",   4.4, ""),
    (2, "Two A",   4.5, ""),
    (2, "Two B",   4.2, ""),
    (2, "Two C",   4.6, ""),
    (2, "Two D",   4.4, "    pregap: 0\n"),
    (2, "Two E",   4.3, ""),
];

/// Writes the set's sources into `dir/mixes` and returns the manifest's
/// `tracks:` entries (`extra[i]` added to track i).
fn tracks_yaml(dir: &Path, extra: &[(usize, &str)]) -> String {
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    let mut yaml = String::new();
    for (i, (disc, title, secs, more)) in ROWS.iter().enumerate() {
        let file = format!("{:02}.wav", i + 1);
        if !mixes.join(&file).exists() {
            music::make(
                &mixes,
                &file,
                title,
                44_100,
                2,
                *secs,
                900 + i as u64,
                Style::BAND,
                -14.0,
                -1.0,
            );
        }
        yaml.push_str(&format!(
            "  - file: mixes/{file}\n    title: {title}\n    disc: {disc}\n{more}"
        ));
        for (_, e) in extra.iter().filter(|(k, _)| *k == i) {
            yaml.push_str(e);
        }
    }
    yaml
}

fn manifest(tracks: &str) -> String {
    format!(
        "glassmaster: 1
release:
  title: Double Glass
  artist: The Test Band
  upc: \"{UPC}\"
isrc:
  registrant: GB-AYE
  year: 26
  first: 1
mastering:
  loudness_mode: album
  target_lufs: -14.0
cd:
  formats: [ddp, cue, toc]
  cd_text: true
streaming:
  - profile: custom
    name: flacs
    format: flac
tracks:
{tracks}"
    )
}

/// The set, built once: (folder, out folder, report.json).
fn set() -> &'static (PathBuf, PathBuf, serde_json::Value) {
    static SET: OnceLock<(PathBuf, PathBuf, serde_json::Value)> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = scratch("build-discs");
        let yaml = manifest(&tracks_yaml(&dir, &[]));
        std::fs::write(dir.join("album.yaml"), yaml).unwrap();
        let (report, _) = build_ok(&dir, "album.yaml", "out", &[]);
        (dir.clone(), dir.join("out"), report)
    })
}

/// A disc as report.json gives it: each track's (INDEX 01, pregap,
/// indexes from 01, length, ISRC, title) and the disc's total frames.
/// (INDEX 01, pregap, indexes from 01, length, ISRC, title).
pub type TrackFacts = (u32, u32, Vec<u32>, u32, Option<String>, String);

pub struct DiscFacts {
    pub tracks: Vec<TrackFacts>,
    pub total: u32,
}

pub fn facts(report: &serde_json::Value, disc: u64, total: u64) -> DiscFacts {
    let f = |v: &serde_json::Value| v.as_u64().unwrap() as u32;
    let tracks = report["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["disc"].as_u64() == Some(disc))
        .map(|t| {
            let c = &t["cd"];
            (
                f(&c["start_frame"]),
                f(&c["pregap_frames"]),
                c["indexes"].as_array().unwrap().iter().map(f).collect(),
                f(&c["length_frames"]),
                t["isrc"].as_str().map(str::to_string),
                t["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    DiscFacts {
        tracks,
        total: total as u32,
    }
}

/// Every check tests/build/cd.rs makes of a built disc, on the disc in
/// `dir` against `want` (from report.json) and its CD-Text disc title.
/// Returns the folder of shnsplit's pieces, when shnsplit is there.
pub fn check_disc(dir: &Path, want: &DiscFacts, title: &str) -> Option<PathBuf> {
    let n = want.tracks.len();
    let what = dir.display().to_string();
    // cdrdao show-toc: the TOC parses; starts, pregaps, INDEX 02, ISRCs.
    if have_tool("cdrdao", "check_disc (cdrdao)") {
        let o = run(dir, "cdrdao", &["show-toc", "album.toc"]);
        assert!(
            o.status.success(),
            "{what}: cdrdao show-toc: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&format!("CATALOG NUMBER: {UPC}")), "{text}");
        let blocks: Vec<&str> = text.split("TRACK ").skip(1).collect();
        assert_eq!(blocks.len(), n, "{what}: cdrdao's tracks");
        for (k, block) in blocks.iter().enumerate() {
            let (mut start, mut pregap, mut ix) = (None, 0, Vec::new());
            for line in block.lines().map(str::trim) {
                if line.starts_with("START") {
                    start = Some(paren_frames(line));
                } else if line.starts_with("PREGAP") {
                    pregap = paren_frames(line);
                } else if line.starts_with("INDEX") {
                    ix.push(paren_frames(line));
                }
            }
            let t = &want.tracks[k];
            assert_eq!(start, Some(t.0), "{what}: cdrdao track {} start", k + 1);
            assert_eq!(pregap, t.1, "{what}: cdrdao track {} pregap", k + 1);
            assert_eq!(ix, t.2[1..].to_vec(), "{what}: track {} indexes", k + 1);
        }
    }
    // cuebreakpoints and cueprint: silent on stderr, the same tracks.
    if have_tool("cuebreakpoints", "check_disc (cuetools)") {
        let o = run(dir, "cuebreakpoints", &["album.cue"]);
        assert!(o.status.success());
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "",
            "{what}: cuebreakpoints"
        );
        let got: Vec<u32> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(breakpoint_frames)
            .collect();
        let starts: Vec<u32> = want.tracks[1..].iter().map(|t| t.0).collect();
        assert_eq!(got, starts, "{what}: cuebreakpoints");
        let o = run(
            dir,
            "cueprint",
            &[
                "-i",
                "cue",
                "-d",
                "%N|%T|%P\n",
                "-t",
                "%n|%i|%t\n",
                "album.cue",
            ],
        );
        assert!(o.status.success());
        assert_eq!(String::from_utf8_lossy(&o.stderr), "", "{what}: cueprint");
        let printed = latin1(&o.stdout);
        let mut lines = printed.lines();
        assert_eq!(
            lines.next(),
            Some(format!("{n}|{title}|The Test Band").as_str())
        );
        for (k, t) in want.tracks.iter().enumerate() {
            let line = lines.next().unwrap();
            let f: Vec<&str> = line.split('|').collect();
            assert_eq!(f[0], (k + 1).to_string(), "{what}: {line}");
            assert_eq!(Some(f[1].to_string()), t.4, "{what}: {line}");
            assert_eq!(f[2], t.5, "{what}: {line}");
        }
    }
    // shnsplit: each piece is album.wav between the INDEX 01 frames.
    let image = wav_data(&dir.join("album.wav"));
    assert_eq!(image.len(), want.total as usize * 2352, "{what}: album.wav");
    let mut pieces = None;
    if have_tool("shnsplit", "check_disc (shnsplit)") {
        let split = scratch(&format!(
            "discs-split-{}",
            dir.file_name().unwrap().to_string_lossy()
        ));
        let o = run(
            dir,
            "shnsplit",
            &[
                "-q",
                "-d",
                split.to_str().unwrap(),
                "-f",
                "album.cue",
                "-o",
                "wav",
                "album.wav",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let piece = |name: &str| wav_data(&split.join(name));
        assert!(piece("split-track00.wav") == image[..want.tracks[0].0 as usize * 2352]);
        for (k, t) in want.tracks.iter().enumerate() {
            let end = want.tracks.get(k + 1).map_or(want.total, |x| x.0) as usize;
            assert!(
                piece(&format!("split-track{:02}.wav", k + 1))
                    == image[t.0 as usize * 2352..end * 2352],
                "{what}: shnsplit's track {} is not album.wav from frame {} to {end}",
                k + 1,
                t.0
            );
        }
        pieces = Some(split);
    }
    // libcue: catalog, disc title, every index.
    #[cfg(feature = "libcue")]
    {
        let sheet = latin1(&std::fs::read(dir.join("album.cue")).unwrap());
        let d = glassmaster::disc::libcue::parse(&sheet).unwrap();
        assert_eq!(d.catalog.as_deref(), Some(UPC));
        assert_eq!(d.text.title.as_deref(), Some(title));
        assert_eq!(d.tracks.len(), n);
        for (k, (c, t)) in d.tracks.iter().zip(&want.tracks).enumerate() {
            assert_eq!(c.start, i64::from(t.0), "{what}: libcue track {}", k + 1);
            let mut ix: Vec<(u32, i64)> = Vec::new();
            if t.1 > 0 {
                ix.push((0, i64::from(t.0 - t.1)));
            }
            ix.extend(
                t.2.iter()
                    .enumerate()
                    .map(|(j, &f)| (j as u32 + 1, i64::from(f))),
            );
            assert_eq!(c.indexes, ix, "{what}: libcue track {} indexes", k + 1);
            assert_eq!(c.text.title.as_deref(), Some(t.5.as_str()));
        }
    }
    // The DDP fileset: IMAGE.DAT is album.wav's data, md5sum -c passes,
    // the PQ entries and CD-Text read back.
    let ddp = dir.join("ddp");
    assert!(
        std::fs::read(ddp.join("IMAGE.DAT")).unwrap() == image,
        "{what}: IMAGE.DAT"
    );
    if have_tool("md5sum", "check_disc (md5sum)") {
        let o = std::process::Command::new("md5sum")
            .args(["-c", "CHECKSUM.MD5"])
            .current_dir(&ddp)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{what}: {text}");
        assert_eq!(text.matches(": OK").count(), 5, "{text}");
    }
    let set = DdpFileset::open(&ddp).unwrap();
    assert!(set.verify().unwrap().ok());
    assert_eq!(set.upc(), Some(UPC));
    assert_eq!(set.lead_out(), want.total);
    assert_eq!(set.tracks().len(), n);
    for (k, (t, w)) in set.tracks().iter().zip(&want.tracks).enumerate() {
        assert_eq!(t.number as usize, k + 1, "{what}: PQ track numbers from 1");
        assert_eq!(t.start(), Some(w.0), "{what}: PQ track {}", k + 1);
        assert_eq!(t.isrc, w.4, "{what}: PQ ISRC {}", k + 1);
    }
    let text = set.cdtext().expect("CDTEXT.BIN");
    let b = &text.blocks[0];
    assert_eq!(b.disc.text(TextField::Title), Some(title));
    assert_eq!(b.disc.text(TextField::Code), Some(UPC));
    let titles: Vec<&str> = b
        .tracks
        .iter()
        .filter_map(|f| f.text(TextField::Title))
        .collect();
    let want_titles: Vec<&str> = want.tracks.iter().map(|t| t.5.as_str()).collect();
    assert_eq!(titles, want_titles, "{what}: CD-Text track titles");
    pieces
}

#[test]
fn a_two_disc_set_builds_two_whole_cds() {
    let (_, out, report) = set();
    let discs = report["discs"].as_array().unwrap();
    assert_eq!(discs.len(), 2);
    assert!(report.get("cd").is_none(), "`cd` is for a single disc");
    assert!(!out.join("cd/album.wav").exists());
    for (k, d) in discs.iter().enumerate() {
        let n = k as u64 + 1;
        assert_eq!(d["disc"], n);
        assert_eq!(d["dir"], format!("cd/disc-{n}"));
        assert_eq!(d["mcn"], UPC);
        assert_eq!(d["image"], format!("cd/disc-{n}/album.wav"));
        let want = facts(report, n, d["total_frames"].as_u64().unwrap());
        assert_eq!(want.tracks.len(), if n == 1 { 6 } else { 5 });
        // Disc 1: the segue has no pause, INDEX 02 is there; disc 2
        // starts after 2 s again.
        assert_eq!(want.tracks[0].0, 150, "disc {n} track 1 at 00:02:00");
        if n == 1 {
            assert_eq!(want.tracks[2].1, 0, "the segue");
            assert_eq!(want.tracks[3].2.len(), 2, "INDEX 02");
        } else {
            assert_eq!(want.tracks[3].1, 0, "pregap: 0");
        }
        check_disc(
            &out.join(format!("cd/disc-{n}")),
            &want,
            &format!("Double Glass (Disc {n})"),
        );
        eprintln!(
            "disc {n}: {} tracks, {} frames: cdrdao, cuetools, shnsplit, libcue, md5sum and the DDP reader agree with report.json",
            want.tracks.len(),
            want.total
        );
    }
}

#[test]
fn flac_tags_carry_the_disc_number_and_total() {
    if !have_tool("metaflac", "flac_tags_carry_the_disc_number_and_total") {
        return;
    }
    let (_, out, report) = set();
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.join("streaming/flacs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "flac"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 11);
    for t in report["tracks"].as_array().unwrap() {
        let title = t["title"].as_str().unwrap();
        let f = files
            .iter()
            .find(|f| f.to_string_lossy().contains(title))
            .unwrap_or_else(|| panic!("no FLAC for {title}: {files:?}"));
        let o = std::process::Command::new("metaflac")
            .arg("--export-tags-to=-")
            .arg(f)
            .output()
            .unwrap();
        let tags = String::from_utf8_lossy(&o.stdout);
        let disc = t["disc"].as_u64().unwrap();
        let on_disc = if disc == 1 { 6 } else { 5 };
        for want in [
            format!("DISCNUMBER={disc}"),
            "DISCTOTAL=2".to_owned(),
            format!("TRACKTOTAL={on_disc}"),
        ] {
            assert!(
                tags.lines().any(|l| l == want),
                "{}: no {want} in\n{tags}",
                f.display()
            );
        }
    }
    eprintln!(
        "metaflac: 11 FLACs carry DISCNUMBER 1 or 2, DISCTOTAL=2 and their disc's TRACKTOTAL"
    );
}

#[test]
fn verify_checks_every_disc() {
    let (dir, out, _) = set();
    let o = gm(dir, &["verify", out.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{doc:#}");
    // A copy beside it, with one byte of disc 2's IMAGE.DAT changed.
    let copy = dir.join("changed");
    let _ = std::fs::remove_dir_all(&copy);
    let o = std::process::Command::new("cp")
        .args(["-a", out.to_str().unwrap(), copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    let image = copy.join("cd/disc-2/ddp/IMAGE.DAT");
    let mut bytes = std::fs::read(&image).unwrap();
    let at = bytes.len() / 2 + 5;
    bytes[at] ^= 0x04;
    std::fs::write(&image, &bytes).unwrap();
    let o = gm(dir, &["verify", copy.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{doc:#}");
    let problems = doc["problems"].as_array().unwrap();
    let files: Vec<&str> = problems.iter().filter_map(|p| p["file"].as_str()).collect();
    assert!(
        files.iter().all(|f| f.starts_with("cd/disc-2/ddp")),
        "{doc:#}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["field"] == "audio" && p["file"] == "cd/disc-2/ddp/IMAGE.DAT"),
        "{doc:#}"
    );
    eprintln!(
        "verify: exit 0 on the set; exit 1 with byte {at} of disc 2's IMAGE.DAT changed ({} problems, all in cd/disc-2/ddp)",
        problems.len()
    );
}

#[test]
fn disc_mistakes_exit_1_at_their_line_and_write_nothing() {
    let dir = scratch("build-discs-bad");
    // A segue onto disc 2's first track (track 7), and disc 3 without 2.
    let segue = manifest(&tracks_yaml(&dir, &[(6, "    segue: true\n")]));
    let hole = manifest(&tracks_yaml(&dir, &[])).replace("disc: 2", "disc: 3");
    let missing = manifest(&tracks_yaml(&dir, &[])).replace(
        "  cd_text: true\n",
        "  cd_text: true\n  hidden_track:\n    file: mixes/none.wav\n    title: Gone\n",
    );
    let missing_line = missing
        .lines()
        .position(|l| l.contains("mixes/none.wav"))
        .unwrap()
        + 1;
    let line_of = |yaml: &str, nth_track: usize, key: &str| {
        let start = yaml
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("  - file:"))
            .nth(nth_track)
            .unwrap()
            .0;
        yaml.lines()
            .enumerate()
            .skip(start)
            .find(|(_, l)| l.trim_start().starts_with(key))
            .unwrap()
            .0
            + 1
    };
    let cases = [
        (
            "a segue onto disc 2",
            segue.clone(),
            line_of(&segue, 6, "segue:"),
            "first track of disc 2",
        ),
        (
            "disc 3 without disc 2",
            hole.clone(),
            line_of(&hole, 6, "disc:"),
            "no disc 2",
        ),
        (
            "a hidden track that is not there",
            missing.clone(),
            missing_line,
            "no such file",
        ),
    ];
    for (what, yaml, line, needle) in cases {
        std::fs::write(dir.join("album.yaml"), &yaml).unwrap();
        let o = gm(&dir, &["build", "album.yaml", "-o", "out"]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        eprintln!(
            "{what}: exit {:?}: {}",
            o.status.code(),
            stderr.lines().find(|l| l.contains("error")).unwrap_or("")
        );
        assert_eq!(o.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{what}: want {needle:?} in\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("album.yaml:{line}:")),
            "{what}: want line {line} in\n{stderr}"
        );
        assert!(!stderr.contains("panicked"));
        assert!(
            !dir.join("out").exists(),
            "{what}: the output folder appeared"
        );
        assert_eq!(staging_left(&dir), Vec::<String>::new(), "{what}");
    }
}
