//! Issue 12's hidden track one audio through `build`: `cd.hidden_track`
//! lies in track 1's pregap. shnsplit's pregap piece holds it, cdrdao
//! (`cdrdao show-toc`, `toc2cue`) puts it before track 1's START / INDEX 01 with
//! INDEX 00 at 00:00:00, its samples are the hidden track's CD render (the
//! same source built as an ordinary track, without dither), the DDP PQ and
//! the PQ sheet list it, and the whole disc passes the checks of
//! [`super::discs::check_disc`].

use std::path::PathBuf;
use std::sync::OnceLock;

use glassmaster::disc::ddp::DdpFileset;

use super::discs::{check_disc, facts, UPC};
use super::music::{self, Style};
use super::{build_ok, gm};
use crate::disc::checkers::{paren_frames, run};
use crate::disc::ddp_cli::wav_data;
use crate::util::{have_tool, scratch};

const HIDDEN_SECS: f64 = 4.3;

fn manifest(hidden: bool, first: &str) -> String {
    let hidden = if hidden {
        "  hidden_track:\n    file: mixes/hidden.wav\n    title: Before Anything\n"
    } else {
        ""
    };
    format!(
        "glassmaster: 1
release:
  title: Hidden Glass
  artist: The Test Band
  upc: \"{UPC}\"
mastering:
  loudness_mode: off
cd:
  formats: [ddp, cue, toc]
  dither: none
{hidden}tracks:
  - file: mixes/{first}
    title: First Light
    isrc: GBAYE2600001
  - file: mixes/b.wav
    title: Second Light
    isrc: GBAYE2600002
"
    )
}

/// (folder, out folder, report.json) of the HTOA disc, and of the same
/// hidden source built as track 1 of an ordinary disc.
fn built() -> &'static [(PathBuf, PathBuf, serde_json::Value); 2] {
    static BUILT: OnceLock<[(PathBuf, PathBuf, serde_json::Value); 2]> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = scratch("build-htoa");
        let mixes = dir.join("mixes");
        std::fs::create_dir_all(&mixes).unwrap();
        for (i, (f, secs)) in [("hidden.wav", HIDDEN_SECS), ("a.wav", 5.0), ("b.wav", 4.5)]
            .iter()
            .enumerate()
        {
            music::make(
                &mixes,
                f,
                f,
                44_100,
                2,
                *secs,
                70 + i as u64,
                Style::BAND,
                -16.0,
                -3.0,
            );
        }
        std::fs::write(dir.join("htoa.yaml"), manifest(true, "a.wav")).unwrap();
        std::fs::write(dir.join("plain.yaml"), manifest(false, "hidden.wav")).unwrap();
        let (a, _) = build_ok(&dir, "htoa.yaml", "htoa", &[]);
        let (b, _) = build_ok(&dir, "plain.yaml", "plain", &[]);
        [
            (dir.clone(), dir.join("htoa"), a),
            (dir.clone(), dir.join("plain"), b),
        ]
    })
}

#[test]
fn the_hidden_track_is_in_track_1s_pregap() {
    let [(dir, out, report), (_, plain, plain_report)] = built();
    let disc = &report["discs"][0];
    let hidden = &disc["hidden"];
    assert_eq!(hidden["title"], "Before Anything");
    let samples = hidden["samples"].as_u64().unwrap();
    assert_eq!(samples, (HIDDEN_SECS * 44_100.0).round() as u64);
    let start = hidden["start_frame"].as_u64().unwrap() as u32;
    let frames = hidden["length_frames"].as_u64().unwrap() as u32;
    assert_eq!(start, 150, "2 s of silence before the hidden audio");
    assert_eq!(frames, samples.div_ceil(588) as u32);
    let total = report["cd"]["total_frames"].as_u64().unwrap();
    let want = facts(report, 1, total);
    let index01 = want.tracks[0].0;
    assert_eq!(want.tracks[0].1, index01, "INDEX 00 at 00:00:00");
    assert_eq!(
        index01,
        start + frames,
        "the pregap is the pause and the hidden audio"
    );
    let pieces = check_disc(&out.join("cd"), &want, "Hidden Glass");

    // The pregap: 2 s of zeros, the hidden track's CD render (the same
    // source as track 1 of the plain disc, no dither), zeros to INDEX 01.
    let image = wav_data(&out.join("cd/album.wav"));
    let plain_image = wav_data(&plain.join("cd/album.wav"));
    let p0 = plain_report["tracks"][0]["cd"]["start_frame"]
        .as_u64()
        .unwrap() as usize
        * 2352;
    let h0 = start as usize * 2352;
    let n = samples as usize * 4;
    assert!(
        image[..h0].iter().all(|&b| b == 0),
        "the 2 s before it are silent"
    );
    assert!(
        image[h0..h0 + n] == plain_image[p0..p0 + n],
        "the pregap's audio is not the hidden track's CD render"
    );
    assert!(image[h0 + n..index01 as usize * 2352]
        .iter()
        .all(|&b| b == 0));
    assert!(
        image[h0..h0 + n].iter().any(|&b| b != 0),
        "the hidden audio is not silence"
    );

    // shnsplit's pregap piece is exactly that (check_disc cut it).
    if let Some(pieces) = pieces {
        let piece = wav_data(&pieces.join("split-track00.wav"));
        assert!(piece == image[..index01 as usize * 2352]);
        assert_eq!(piece.len() as u64, u64::from(index01) * 2352);
    }

    // cdrdao: track 1's pregap (START) is the pause and the hidden audio;
    // toc2cue gives INDEX 00 at 00:00:00 and INDEX 01 after it.
    if have_tool("cdrdao", "the_hidden_track_is_in_track_1s_pregap") {
        let cd = out.join("cd");
        let o = run(&cd, "cdrdao", &["show-toc", "album.toc"]);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        let first = text.split("TRACK ").nth(1).unwrap();
        let line = |key: &str| {
            first
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with(key))
                .map(paren_frames)
        };
        assert_eq!(line("PREGAP"), Some(index01), "{first}");
        assert_eq!(line("START"), Some(index01), "{first}");
        eprintln!("cdrdao show-toc: track 1 PREGAP and START {index01} frames");
    }
    if have_tool("toc2cue", "the_hidden_track_is_in_track_1s_pregap") {
        let cd = out.join("cd");
        let conv = scratch("htoa-toc2cue").join("album.cue");
        let o = run(&cd, "toc2cue", &["album.toc", conv.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let cue = String::from_utf8_lossy(&std::fs::read(&conv).unwrap()).into_owned();
        let t1: Vec<&str> = cue
            .split("TRACK 02")
            .next()
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("INDEX") || l.starts_with("PREGAP"))
            .collect();
        let msf = |f: u32| format!("{:02}:{:02}:{:02}", f / 4500, f / 75 % 60, f % 75);
        assert_eq!(
            t1,
            vec![
                "INDEX 00 00:00:00".to_string(),
                format!("INDEX 01 {}", msf(index01))
            ],
            "toc2cue:\n{cue}"
        );
        eprintln!("toc2cue: INDEX 00 00:00:00, INDEX 01 {}", msf(index01));
    }

    // The DDP PQ: track 1's INDEX 00 at 0, INDEX 01 after the hidden audio.
    let set = DdpFileset::open(out.join("cd/ddp")).unwrap();
    let t1 = &set.tracks()[0];
    let ix: Vec<(u8, u32)> = t1.indexes.iter().map(|i| (i.number, i.frame)).collect();
    assert_eq!(ix, vec![(0, 0), (1, index01)]);

    // The PQ sheet names it, and where it runs.
    let sheet = std::fs::read_to_string(out.join("cd/pq-sheet.txt")).unwrap();
    assert!(
        sheet.contains("Hidden:    Before Anything (in track 01's pregap, from 00:02:00"),
        "{sheet}"
    );
    let html = std::fs::read_to_string(out.join("cd/pq-sheet.html")).unwrap();
    assert!(html.contains("Before Anything"));

    // verify re-reads the disc.
    let o = gm(
        dir,
        &[
            "verify",
            out.to_str().unwrap(),
            "--manifest",
            "htoa.yaml",
            "--json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    eprintln!(
        "HTOA: {samples} samples from frame {start} to INDEX 01 at {index01}: the hidden track's CD render, in shnsplit's pregap piece, cdrdao's START, the PQ and the PQ sheet"
    );
}
