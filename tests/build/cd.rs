//! Issue 4 through `build`: a generated 12-track album with a segue, a
//! track with INDEX 02 and 03, pauses of 0.5 s, 3 s and none, full CD-Text
//! and every CD format, read back by cdrdao, cuetools, shntool, libcue,
//! md5sum, ffmpeg and glassmaster's own DDP reader, all against
//! report.json; and the Red Book violations, which must write nothing.

use std::path::PathBuf;
use std::sync::OnceLock;

use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::ddp::DdpFileset;

use super::music::{self, Style};
use super::{build_ok, gm, num, staging_left};
use crate::cdtext::read_cue;
use crate::disc::checkers::{breakpoint_frames, latin1, paren_frames, run};
use crate::disc::ddp_cli::wav_data;
use crate::util::{have_tool, scratch, write_wav_i16};

const UPC: &str = "5012345678900";

/// One track of the test disc.
struct Row {
    title: &'static str,
    rate: u32,
    secs: f64,
    extra: &'static str,
}

#[rustfmt::skip]
const ROWS: [Row; 12] = [
    Row { title: "Opening",      rate: 48_000, secs: 5.0, extra: "    isrc: GBAYE2600101\n" },
    Row { title: "Café Noir",    rate: 44_100, secs: 6.0, extra: "    isrc: GB-AYE-26-00102\n    pregap: 0.5\n    artist: Guest Artist\n    featuring: [Second Voice]\n" },
    Row { title: "Segue Into",   rate: 48_000, secs: 5.5, extra: "    segue: true\n" },
    Row { title: "Indexed",      rate: 48_000, secs: 8.0, extra: "    pregap: 3\n    indexes: [\"0:02.000\", \"0:04.500\"]\n" },
    Row { title: "Short Light",  rate: 44_100, secs: 4.5, extra: "" },
    Row { title: "No Pause",     rate: 48_000, secs: 5.0, extra: "    pregap: 0\n" },
    Row { title: "Seventh",      rate: 48_000, secs: 4.2, extra: "" },
    Row { title: "Eighth",       rate: 44_100, secs: 6.5, extra: "    isrc: GBAYE2600108\n" },
    Row { title: "Ninth",        rate: 48_000, secs: 7.0, extra: "    version: Radio Edit\n" },
    Row { title: "Tenth",        rate: 48_000, secs: 4.0, extra: "" },
    Row { title: "Runs On",      rate: 48_000, secs: 6.0, extra: "    segue: true\n" },
    Row { title: "Outro",        rate: 48_000, secs: 7.5, extra: "" },
];

fn composer(i: usize) -> String {
    format!("Composer {}", i + 1)
}
fn lyricist(i: usize) -> String {
    format!("Lyricist {}", i + 1)
}

/// The album, built once: (folder, out folder, report.json).
fn disc() -> &'static (PathBuf, PathBuf, serde_json::Value) {
    static DISC: OnceLock<(PathBuf, PathBuf, serde_json::Value)> = OnceLock::new();
    DISC.get_or_init(|| {
        let dir = scratch("build-cd");
        let mixes = dir.join("mixes");
        std::fs::create_dir_all(&mixes).unwrap();
        let mut yaml = String::from(
            "glassmaster: 1
release:
  title: Glass Disc
  artist: The Test Band
  upc: \"5012345678900\"
  genre: Rock
isrc:
  registrant: GB-AYE
  year: 26
  first: 1
mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0
  chain:
    - compressor: { threshold_db: -18, ratio: 2.0, attack_ms: 10, release_ms: 150, knee_db: 6 }
    - limiter: { release_ms: 50, lookahead_ms: 5 }
cd:
  gap_s: 2.0
  formats: [ddp, cue, toc]
  cd_text: true
  dither: shaped
tracks:
",
        );
        for (i, r) in ROWS.iter().enumerate() {
            let file = format!("{:02}.wav", i + 1);
            let style = if i % 3 == 0 {
                Style::SPARSE
            } else {
                Style::BAND
            };
            let s = music::make(
                &mixes,
                &file,
                r.title,
                r.rate,
                2,
                r.secs,
                500 + i as u64,
                style,
                -13.0 - (i % 4) as f64,
                -1.0,
            );
            eprintln!(
                "source {file} {:<12} {} Hz {:.1} s {:.2} LUFS",
                r.title, r.rate, r.secs, s.lufs
            );
            yaml.push_str(&format!(
                "  - file: mixes/{file}\n    title: {}\n    composer: {}\n    lyricist: {}\n{}",
                r.title,
                composer(i),
                lyricist(i),
                r.extra
            ));
        }
        std::fs::write(dir.join("album.yaml"), yaml).unwrap();
        let (report, stderr) = build_ok(&dir, "album.yaml", "out", &[]);
        for w in stderr.lines().filter(|l| l.contains("warning")) {
            eprintln!("  {w}");
        }
        (dir.clone(), dir.join("out"), report)
    })
}

/// Per track: (INDEX 01 frame, pregap frames, every index from 01 on,
/// length in frames) from report.json.
fn report_cd(report: &serde_json::Value) -> Vec<(u32, u32, Vec<u32>, u32)> {
    report["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let c = &t["cd"];
            let f = |v: &serde_json::Value| v.as_u64().unwrap() as u32;
            (
                f(&c["start_frame"]),
                f(&c["pregap_frames"]),
                c["indexes"].as_array().unwrap().iter().map(f).collect(),
                f(&c["length_frames"]),
            )
        })
        .collect()
}

fn isrcs(report: &serde_json::Value) -> Vec<Option<String>> {
    report["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["isrc"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_layout_in_report_json_is_the_manifests() {
    let (_, out, report) = disc();
    let cd = report_cd(report);
    let total = report["cd"]["total_frames"].as_u64().unwrap() as u32;
    eprintln!(
        "report.json: {} tracks, {total} frames, MCN {}",
        cd.len(),
        report["cd"]["mcn"]
    );
    for (i, (start, pregap, ix, len)) in cd.iter().enumerate() {
        eprintln!(
            "  {:02} start {start:>6} pregap {pregap:>4} indexes {ix:?} length {len} isrc {}",
            i + 1,
            report["tracks"][i]["isrc"]
        );
    }
    assert_eq!(report["cd"]["mcn"], UPC);
    assert_eq!(cd.len(), 12);
    // Pauses: 150 before track 1, 0.5 s and 3 s where asked, none at a
    // segue or with `pregap: 0`, 2 s elsewhere.
    let want_pregaps: Vec<u32> = (0..12)
        .map(|i| match i {
            0 => 150,
            1 => 38,
            2 | 5 | 10 => 0,
            3 => 225,
            _ => 150,
        })
        .collect();
    let got: Vec<u32> = cd.iter().map(|c| c.1).collect();
    assert!(
        got.iter()
            .zip(&want_pregaps)
            .all(|(g, w)| g == w || (*w == 38 && *g == 37)),
        "pregaps {got:?}, want {want_pregaps:?} (0.5 s = 37 or 38 frames)"
    );
    let mut at = 0;
    for (i, (start, pregap, ix, len)) in cd.iter().enumerate() {
        assert_eq!(
            *start,
            at + pregap,
            "track {} starts after its pause",
            i + 1
        );
        assert_eq!(
            ix[0],
            *start,
            "track {}: indexes begin with INDEX 01",
            i + 1
        );
        // Mastered length: the source's, rounded up to whole frames (the
        // last track) or to the frame grid.
        let secs = num(&report["tracks"][i]["master"]["duration_s"]);
        assert!(
            (f64::from(*len) - secs * 75.0).abs() <= 1.0,
            "track {}: {len} frames for {secs} s",
            i + 1
        );
        at = start + len;
    }
    assert_eq!(at, total, "the last track ends at the lead-out");
    // INDEX 02 and 03 of track 4 at 2 s and 4.5 s from its INDEX 01.
    let t4 = &cd[3];
    assert_eq!((t4.2.len(), t4.2[1]), (3, t4.0 + 150), "{:?}", t4.2);
    assert!(t4.2[2] == t4.0 + 337 || t4.2[2] == t4.0 + 338, "{:?}", t4.2);
    // ISRCs: explicit ones as given (no dashes), the rest generated in
    // order, skipping none that is taken.
    let got = isrcs(report);
    assert_eq!(got[0].as_deref(), Some("GBAYE2600101"));
    assert_eq!(got[1].as_deref(), Some("GBAYE2600102"));
    assert_eq!(got[7].as_deref(), Some("GBAYE2600108"));
    assert_eq!(got[2].as_deref(), Some("GBAYE2600001"));
    assert!(got.iter().all(|i| i
        .as_ref()
        .is_some_and(|i| i.len() == 12 && !i.contains('-'))));
    let mut uniq = got.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 12, "{got:?}");
    // The files cli.md lists.
    for f in [
        "cd/album.wav",
        "cd/album.cue",
        "cd/album.toc",
        "cd/pq-sheet.txt",
        "cd/pq-sheet.html",
        "cd/ddp/DDPID",
        "cd/ddp/DDPMS",
        "cd/ddp/PQDESCR",
        "cd/ddp/IMAGE.DAT",
        "cd/ddp/CDTEXT.BIN",
        "cd/ddp/CHECKSUM.MD5",
        "report.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_eq!(std::fs::read_dir(out.join("masters")).unwrap().count(), 12);
    // album.wav holds exactly the frames report.json counts.
    let data = wav_data(&out.join("cd/album.wav"));
    assert_eq!(data.len() as u64, u64::from(total) * 2352);
    // The CD's own true peak, report.json and ffmpeg.
    for t in report["tracks"].as_array().unwrap() {
        assert!(num(&t["cd"]["true_peak_dbtp"]) <= -1.0, "{}", t["cd"]);
    }
    if have_tool(
        "ffmpeg",
        "the_layout_in_report_json_is_the_manifests (ffmpeg)",
    ) {
        let r = super::ffmpeg_r128(&[out.join("cd/album.wav")], out.parent().unwrap());
        eprintln!(
            "ffmpeg on cd/album.wav: {:.3} LUFS, true peak {:.1} dBTP",
            r.i, r.tp_printed
        );
        assert!(r.tp_printed <= -1.0 + 0.1);
    }
}

#[test]
fn cdrdao_reads_the_built_toc() {
    if !have_tool("cdrdao", "cdrdao_reads_the_built_toc") {
        return;
    }
    let (_, out, report) = disc();
    let dir = out.join("cd");
    let o = run(&dir, "cdrdao", &["show-toc", "album.toc"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "cdrdao show-toc: {stderr}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("CATALOG NUMBER: {UPC}")), "{text}");
    let cd = report_cd(report);
    let want_isrc = isrcs(report);
    let mut n = 0;
    for (k, block) in text.split("TRACK ").skip(1).enumerate() {
        let (mut start, mut pregap, mut ix, mut isrc) = (None, 0, Vec::new(), None);
        for line in block.lines().map(str::trim) {
            if line.starts_with("START") {
                start = Some(paren_frames(line));
            } else if line.starts_with("PREGAP") {
                pregap = paren_frames(line);
            } else if line.starts_with("INDEX") {
                ix.push(paren_frames(line));
            } else if let Some(i) = line.strip_prefix("ISRC ") {
                isrc = Some(i.replace(' ', ""));
            }
        }
        let (s, p, indexes, _) = &cd[k];
        assert_eq!(start, Some(*s), "cdrdao: track {} start", k + 1);
        assert_eq!(pregap, *p, "cdrdao: track {} pregap", k + 1);
        assert_eq!(ix, indexes[1..].to_vec(), "cdrdao: track {} indexes", k + 1);
        assert_eq!(isrc, want_isrc[k], "cdrdao: track {} ISRC", k + 1);
        n += 1;
    }
    assert_eq!(n, 12);
    eprintln!("cdrdao show-toc: exit 0, {n} tracks agree with report.json (starts, pregaps, INDEX 02/03, ISRCs)");
}

#[test]
fn cuetools_agree_with_report_json() {
    if !have_tool("cuebreakpoints", "cuetools_agree_with_report_json") {
        return;
    }
    let (_, out, report) = disc();
    let dir = out.join("cd");
    let cd = report_cd(report);
    let o = run(&dir, "cuebreakpoints", &["album.cue"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "",
        "cuebreakpoints stderr"
    );
    let got: Vec<u32> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(breakpoint_frames)
        .collect();
    let want: Vec<u32> = cd[1..].iter().map(|c| c.0).collect();
    assert_eq!(got, want, "cuebreakpoints: INDEX 01 of tracks 2..12");

    let o = run(
        &dir,
        "cueprint",
        &[
            "-i",
            "cue",
            "-d",
            "%N|%T|%P\n",
            "-t",
            "%n|%i|%t|%p|%s\n",
            "album.cue",
        ],
    );
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "cueprint stderr");
    let printed = latin1(&o.stdout);
    let mut lines = printed.lines();
    assert_eq!(lines.next(), Some("12|Glass Disc|The Test Band"));
    for (i, t) in report["tracks"].as_array().unwrap().iter().enumerate() {
        let line = lines.next().unwrap();
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f[0], (i + 1).to_string());
        assert_eq!(Some(f[1].to_string()), isrcs(report)[i], "{line}");
        assert!(f[2].starts_with(t["title"].as_str().unwrap()), "{line}");
        assert_eq!(f[4], lyricist(i), "{line}");
    }
    eprintln!("cuebreakpoints and cueprint: no stderr, 11 breakpoints and 12 tracks agree with report.json");
}

#[test]
fn shnsplit_cuts_at_the_report_frames() {
    if !have_tool("shnsplit", "shnsplit_cuts_at_the_report_frames") {
        return;
    }
    let (_, out, report) = disc();
    let dir = out.join("cd");
    let split = scratch("build-cd-shnsplit");
    let o = run(
        &dir,
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
    let image = wav_data(&dir.join("album.wav"));
    let total = report["cd"]["total_frames"].as_u64().unwrap() as usize;
    let cd = report_cd(report);
    let piece = |name: &str| wav_data(&split.join(name));
    assert_eq!(
        piece("split-track00.wav"),
        image[..cd[0].0 as usize * 2352],
        "track 1's pregap"
    );
    for (k, c) in cd.iter().enumerate() {
        let end = cd.get(k + 1).map_or(total, |n| n.0 as usize);
        let got = piece(&format!("split-track{:02}.wav", k + 1));
        assert!(
            got == image[c.0 as usize * 2352..end * 2352],
            "track {}: shnsplit's piece is not album.wav from frame {} to {end}",
            k + 1,
            c.0
        );
    }
    eprintln!("shnsplit: 13 pieces, each exactly album.wav between report.json's INDEX 01 frames");
}

#[cfg(feature = "libcue")]
#[test]
fn libcue_reads_the_built_cue() {
    let (_, out, report) = disc();
    let sheet = latin1(&std::fs::read(out.join("cd/album.cue")).unwrap());
    let d = glassmaster::disc::libcue::parse(&sheet).unwrap();
    assert_eq!(d.catalog.as_deref(), Some(UPC));
    assert_eq!(d.text.title.as_deref(), Some("Glass Disc"));
    assert_eq!(d.text.performer.as_deref(), Some("The Test Band"));
    let cd = report_cd(report);
    assert_eq!(d.tracks.len(), 12);
    for (k, (c, t)) in d
        .tracks
        .iter()
        .zip(report["tracks"].as_array().unwrap())
        .enumerate()
    {
        assert_eq!(c.isrc, isrcs(report)[k], "track {}", k + 1);
        assert_eq!(c.start, i64::from(cd[k].0), "track {}", k + 1);
        let mut want: Vec<(u32, i64)> = Vec::new();
        if cd[k].1 > 0 {
            want.push((0, i64::from(cd[k].0 - cd[k].1)));
        }
        for (j, &f) in cd[k].2.iter().enumerate() {
            want.push((j as u32 + 1, i64::from(f)));
        }
        assert_eq!(c.indexes, want, "track {} indexes", k + 1);
        assert!(
            c.text
                .title
                .as_deref()
                .unwrap()
                .starts_with(t["title"].as_str().unwrap()),
            "{:?}",
            c.text.title
        );
        assert_eq!(c.text.songwriter.as_deref(), Some(lyricist(k).as_str()));
    }
    eprintln!("libcue: catalog, 12 ISRCs, titles and every index agree with report.json");
}

#[test]
fn the_ddp_fileset_is_the_image_and_the_cue() {
    let (_, out, report) = disc();
    let cd_dir = out.join("cd");
    let ddp = cd_dir.join("ddp");
    let image = std::fs::read(ddp.join("IMAGE.DAT")).unwrap();
    assert!(
        image == wav_data(&cd_dir.join("album.wav")),
        "IMAGE.DAT is not album.wav's data"
    );
    if have_tool(
        "md5sum",
        "the_ddp_fileset_is_the_image_and_the_cue (md5sum)",
    ) {
        let o = std::process::Command::new("md5sum")
            .args(["-c", "CHECKSUM.MD5"])
            .current_dir(&ddp)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{text}");
        assert_eq!(text.matches(": OK").count(), 5, "{text}");
        eprintln!("md5sum -c CHECKSUM.MD5: 5 files OK");
    }
    // PQ entries: the CUE's indexes, flags and ISRCs, and report.json's.
    let set = DdpFileset::open(&ddp).unwrap();
    let cue = read_cue(&std::fs::read(cd_dir.join("album.cue")).unwrap());
    assert_eq!(set.upc(), Some(UPC));
    assert_eq!(cue.catalog.as_deref(), Some(UPC));
    assert_eq!(set.tracks().len(), 12);
    assert_eq!(cue.tracks.len(), 12);
    let cd = report_cd(report);
    for ((t, c), r) in set.tracks().iter().zip(&cue.tracks).zip(&cd) {
        let got: Vec<(u8, u32)> = t.indexes.iter().map(|i| (i.number, i.frame)).collect();
        assert_eq!(got, c.indexes, "track {}: PQ against the CUE", t.number);
        assert_eq!(t.isrc, c.text.code, "track {} ISRC", t.number);
        assert_eq!(t.control.pre_emphasis, c.flags.iter().any(|f| f == "PRE"));
        assert_eq!(t.control.copy_permitted, c.flags.iter().any(|f| f == "DCP"));
        assert_eq!(
            t.start(),
            Some(r.0),
            "track {}: PQ against report.json",
            t.number
        );
    }
    assert_eq!(
        u64::from(set.lead_out()),
        report["cd"]["total_frames"].as_u64().unwrap()
    );
    assert!(set.verify().unwrap().ok());
    eprintln!(
        "PQDESCR: {} entries agree with the CUE and report.json",
        set.pq.len()
    );

    // CD-Text: everything the manifest gave.
    let text = set.cdtext().expect("CDTEXT.BIN");
    let b = &text.blocks[0];
    assert_eq!(b.disc.text(TextField::Title), Some("Glass Disc"));
    assert_eq!(b.disc.text(TextField::Performer), Some("The Test Band"));
    assert_eq!(b.disc.text(TextField::Code), Some(UPC));
    let genre = b.genre.as_ref().expect("a genre pack");
    assert_eq!((genre.code, genre.text.as_str()), (23, "Rock"));
    for (i, f) in b.tracks.iter().enumerate() {
        let t = &report["tracks"][i];
        let title = f.text(TextField::Title).unwrap();
        assert!(title.starts_with(t["title"].as_str().unwrap()), "{title}");
        assert_eq!(f.text(TextField::Composer), Some(composer(i).as_str()));
        assert_eq!(f.text(TextField::Songwriter), Some(lyricist(i).as_str()));
        assert_eq!(
            f.text(TextField::Code).map(str::to_string),
            isrcs(report)[i]
        );
        let performer = f.text(TextField::Performer).unwrap();
        if i == 1 {
            assert_eq!(performer, "Guest Artist feat. Second Voice");
            assert_eq!(title, "Café Noir");
        } else {
            assert_eq!(performer, "The Test Band");
        }
        if i == 8 {
            assert_eq!(title, "Ninth (Radio Edit)");
        }
    }
    eprintln!(
        "CDTEXT.BIN: titles, performers, composers, lyricists, genre, UPC and 12 ISRCs read back"
    );

    // ddp extract gives album.wav's samples back; verify catches one
    // flipped byte.
    let x = scratch("build-cd-extract");
    let o = gm(&x, &["ddp", "extract", ddp.to_str().unwrap(), "-o", "x"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        wav_data(&x.join("x/album.wav")) == image,
        "ddp extract: not album.wav's samples"
    );
    let bad = x.join("flipped");
    std::fs::create_dir_all(&bad).unwrap();
    for e in std::fs::read_dir(&ddp).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), bad.join(e.file_name())).unwrap();
    }
    let mut flipped = image.clone();
    let at = flipped.len() / 2 + 17;
    flipped[at] ^= 0x10;
    std::fs::write(bad.join("IMAGE.DAT"), &flipped).unwrap();
    let ok = gm(&x, &["ddp", "verify", ddp.to_str().unwrap()]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let v = gm(&x, &["ddp", "verify", bad.to_str().unwrap()]);
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    assert!(String::from_utf8_lossy(&v.stdout).contains("IMAGE.DAT"));
    eprintln!(
        "ddp extract: album.wav's {} bytes back; ddp verify: exit 0, and 1 with byte {at} flipped",
        image.len()
    );
}

/// A manifest for Red Book tests: `tracks` entries (file, extra YAML).
fn redbook_manifest(upc: &str, tracks: &[(String, String)]) -> String {
    let mut m = format!(
        "glassmaster: 1
release:
  title: Too Much
  artist: The Test Band
  upc: \"{upc}\"
cd:
  formats: [ddp, cue, toc]
tracks:
"
    );
    for (i, (file, extra)) in tracks.iter().enumerate() {
        m.push_str(&format!(
            "  - file: {file}\n    title: T{}\n    isrc: GBAYE26{:05}\n{extra}",
            i + 1,
            i + 1
        ));
    }
    m
}

#[test]
fn red_book_violations_are_errors_and_write_nothing() {
    let dir = scratch("build-redbook");
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    // Low-rate sources keep the long ones small (as tests/manifest.rs does).
    write_wav_i16(&mixes.join("4s.wav"), 8_000, 1, 4.5, 300.0);
    write_wav_i16(&mixes.join("3s.wav"), 8_000, 1, 3.0, 300.0);
    write_wav_i16(&mixes.join("long.wav"), 8_000, 1, 481.0, 200.0);
    let four = || ("mixes/4s.wav".to_string(), String::new());
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "100 tracks",
            redbook_manifest(UPC, &(0..100).map(|_| four()).collect::<Vec<_>>()),
            "at most 99",
        ),
        (
            "a 3 s track",
            redbook_manifest(
                UPC,
                &[four(), ("mixes/3s.wav".into(), String::new()), four()],
            ),
            "at least 4 s",
        ),
        (
            "80:30 of audio",
            redbook_manifest(
                UPC,
                &(0..10)
                    .map(|_| ("mixes/long.wav".to_string(), String::new()))
                    .collect::<Vec<_>>(),
            ),
            "79:57:74",
        ),
        (
            "a bad MCN",
            redbook_manifest("5012345678901", &[four(), four()]),
            "check digit",
        ),
        (
            "a dashed ISRC of 11 characters",
            redbook_manifest(UPC, &[four()]).replace("isrc: GBAYE2600001", "isrc: GB-AYE-26-0001"),
            "GB-AYE-26-0001",
        ),
    ];
    for (what, yaml, needle) in &cases {
        std::fs::write(dir.join("album.yaml"), yaml).unwrap();
        let o = gm(&dir, &["build", "album.yaml", "-o", "out"]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        eprintln!(
            "{what}: exit {:?}: {}",
            o.status.code(),
            stderr.lines().find(|l| l.contains("error")).unwrap_or("")
        );
        assert_eq!(o.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("error") && stderr.contains(needle),
            "{what}: want {needle:?} in\n{stderr}"
        );
        assert!(!stderr.contains("panicked"));
        assert!(
            !dir.join("out").exists(),
            "{what}: the output folder appeared"
        );
        assert_eq!(staging_left(&dir), Vec::<String>::new(), "{what}");
    }
}

/// `verify` re-reads the 12-track disc (segues, an INDEX 02, ISRCs from
/// the registrant, CD-Text) and agrees with report.json and the manifest
/// beside the folder.
#[test]
fn verify_passes_on_the_built_disc() {
    let (dir, out, _) = disc();
    let o = super::gm(dir, &["verify", out.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["problems"].as_array().unwrap().len(), 0);
    assert_eq!(doc["notes"].as_array().unwrap().len(), 0, "{doc:#}");
    assert_eq!(doc["audio_checked"], 12);
    assert!(doc["manifest"].as_str().unwrap().ends_with("album.yaml"));
}
