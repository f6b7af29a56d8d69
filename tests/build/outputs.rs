//! Issue 11, what the outputs say: the demo album passes its own gate
//! (`check --strict` exits 0, its build prints no warning); the report's
//! CD card and columns and the PQ sheets name their units, state the copy
//! and emphasis flags and carry the MCN, catalogue number and the DDP
//! checksum (read from headless Chromium's DOM, the checksum computed
//! here); the store-normalisation view gives album and playlist playback
//! (the playlist gains against ffmpeg's loudness of the masters); a
//! `uniform` profile delivers one rate where the sources mix 44.1 and 48
//! kHz (metaflac reads the rates) while `archive` keeps each master's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::music::{self, Style};
use super::streaming::files;
use super::{build_ok, demo_build, demo_build_stderr, ffmpeg_r128, gm, masters, num};
use crate::util::{have_tool, scratch};

fn demo_manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo/album.yaml")
}

#[test]
fn the_demo_passes_check_strict_and_builds_without_a_warning() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let o = gm(
        &root,
        &["check", "--strict", demo_manifest().to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "check --strict:\n{stderr}");
    assert!(!stderr.contains("warning"), "check --strict:\n{stderr}");
    let (_, report) = demo_build();
    let stderr = demo_build_stderr();
    assert!(
        !stderr.to_lowercase().contains("warning"),
        "the README's first command warns:\n{stderr}"
    );
    assert!(
        report["checks"].as_array().unwrap().is_empty(),
        "{}",
        report["checks"]
    );
    eprintln!(
        "demo: check --strict exit 0; build printed no warning; album {} LUFS, spread {} LU",
        report["album"]["integrated_lufs"], report["album"]["loudness_spread_lu"]
    );
}

/// Chromium's DOM of `page` (tests/report.rs runs it).
fn dom(page: &Path, tag: &str) -> String {
    let profile = scratch(&format!("outputs-chromium-{tag}"));
    let url = format!("file://{}", page.display());
    crate::report::chromium(&["--dump-dom".into(), url], &profile).0
}

/// The text of the element `id="ID"` in a DOM (tags inside dropped).
fn by_id(dom: &str, id: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let start = at + dom[at..].find('>').unwrap() + 1;
    let end = start + dom[start..].find("</").unwrap();
    let mut text = String::new();
    let mut inside = false;
    for c in dom[start..end].chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => text.push(c),
            _ => {}
        }
    }
    text
}

#[test]
fn times_carry_their_units_and_the_pq_sheet_its_codes() {
    let (out, report) = demo_build();
    let image = std::fs::read(out.join("cd/ddp/IMAGE.DAT")).unwrap();
    let md5 = format!("{:x}", md5::compute(&image));
    let pq = std::fs::read_to_string(out.join("cd/pq-sheet.txt")).unwrap();
    for want in [
        "Times are mm:ss:ff (minutes:seconds:frames, 75 frames a second)".to_owned(),
        "MCN (UPC): 5012345678900".to_owned(),
        "Catalog:   EXR-042".to_owned(),
        format!("DDP MD5:   {md5}"),
        "COPY EMPH".to_owned(),
    ] {
        assert!(pq.contains(&want), "pq-sheet.txt lacks {want:?}:\n{pq}");
    }
    // Every index row states both flags (the demo: copy prohibited, no
    // pre-emphasis).
    let rows: Vec<&str> = pq
        .lines()
        .filter(|l| l.len() > 3 && l.as_bytes()[0].is_ascii_digit())
        .collect();
    assert!(rows.len() >= 4, "{pq}");
    for r in &rows {
        assert!(r.contains("  no   no"), "flags not stated: {r:?}");
    }
    if !have_tool("chromium", "times_carry_their_units (chromium)") {
        return;
    }
    let sheet = dom(&out.join("cd/pq-sheet.html"), "pq");
    assert_eq!(by_id(&sheet, "mcn"), "5012345678900");
    assert_eq!(by_id(&sheet, "catalog"), "EXR-042");
    assert_eq!(by_id(&sheet, "ddp-md5"), md5);
    assert!(by_id(&sheet, "time-note").contains("mm:ss:ff"), "{sheet}");
    for th in [
        "Absolute (mm:ss:ff)",
        "Relative (mm:ss:ff)",
        "Length (mm:ss:ff)",
        "Copy (DCP)",
        "Emphasis (PRE)",
    ] {
        assert!(sheet.contains(&format!("<th>{th}</th>")), "no {th} column");
    }
    assert_eq!(
        sheet.matches("<td class=\"flag\">no</td>").count(),
        2 * rows.len(),
        "a flag cell per flag and index row"
    );
    let page = dom(&out.join("report.html"), "report");
    // The CD card: the value in mm:ss:ff, said so, and the same length
    // as a running time.
    let frames = num(&report["cd"]["total_frames"]) as u64;
    let msf = format!(
        "{:02}:{:02}:{:02}",
        frames / 4500,
        frames / 75 % 60,
        frames % 75
    );
    let card = page
        .split("<div class=\"card")
        .find(|c| c.contains("<div class=\"label\">CD</div>"))
        .expect("a CD card");
    assert!(
        card.contains(&format!("{msf} <small>mm:ss:ff</small>")),
        "{card}"
    );
    let secs = (frames as f64 / 75.0).round() as u64;
    assert!(
        card.contains(&format!("{}:{:02} with pauses", secs / 60, secs % 60)),
        "{card}"
    );
    let running = page
        .split("<div class=\"card")
        .find(|c| c.contains("Running time"))
        .unwrap();
    assert!(running.contains("<small>m:ss</small>"), "{running}");
    for th in ["CD start mm:ss:ff", "CD length mm:ss:ff"] {
        assert!(page.contains(&format!(">{th}</th>")), "no {th} column");
    }
    eprintln!("pq-sheet.txt/html and report.html: units, flags, MCN, catalogue, DDP MD5 {md5}");
}

/// Two tracks, 44.1 kHz at about -24 LUFS and 48 kHz at about -10, not
/// loudness-matched, delivered to spotify (album mode, `uniform` rate)
/// and archive (each master's rate): the out folder.
fn mixed_album() -> &'static PathBuf {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let dir = scratch("build-outputs-mixed");
        std::fs::create_dir_all(dir.join("mixes")).unwrap();
        let cover = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo/art/cover.png");
        let mut yaml = format!(
            "glassmaster: 1
release:
  title: Mixed
  artist: Rates
  upc: \"036000291452\"
  artwork: {}
isrc:
  registrant: US-XYZ
  year: 26
mastering:
  loudness_mode: off
streaming:
  - profile: spotify
  - profile: archive
tracks:
",
            serde_json::to_string(cover.to_str().unwrap()).unwrap()
        );
        for (i, (rate, lufs, peak)) in [(44_100, -24.0, -8.0), (48_000, -10.0, -1.5)]
            .into_iter()
            .enumerate()
        {
            let file = format!("{}.wav", i + 1);
            music::make(
                &dir.join("mixes"),
                &file,
                "t",
                rate,
                2,
                4.0,
                40 + i as u64,
                Style::BAND,
                lufs,
                peak,
            );
            yaml.push_str(&format!(
                "  - file: mixes/{file}\n    title: Track {}\n",
                i + 1
            ));
        }
        std::fs::write(dir.join("album.yaml"), yaml).unwrap();
        build_ok(&dir, "album.yaml", "out", &[]);
        dir.join("out")
    })
}

#[test]
fn normalisation_shows_album_and_playlist_playback() {
    let out = mixed_album();
    let report = super::report(out);
    let rows: Vec<&serde_json::Value> = report["normalisation"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["profile"] == "spotify")
        .collect();
    let gain = |view: &str, track: Option<u64>| -> f64 {
        let r = rows
            .iter()
            .find(|r| r["playback"] == view && r["track"].as_u64() == track)
            .unwrap_or_else(|| panic!("no {view} row for {track:?}: {rows:?}"));
        num(&r["gain_db"])
    };
    // Album playback: spotify plays the album with one gain.
    let album = gain("album", None);
    for t in [1, 2] {
        assert_eq!(gain("album", Some(t)), album);
    }
    // Playlist playback: each track's own, from ffmpeg's loudness and
    // true peak of the masters: down to -14, or up no further than -1 dBTP.
    let m = masters(out);
    let mut want = Vec::new();
    let mut ffmpeg = false;
    if have_tool("ffmpeg", "normalisation_shows_album_and_playlist_playback") {
        ffmpeg = true;
        for (t, f) in m.iter().enumerate() {
            let r = ffmpeg_r128(std::slice::from_ref(f), &scratch("outputs-r128"));
            let down = -14.0 - r.i;
            let g = if down <= 0.0 {
                down
            } else {
                down.min(-1.0 - r.tp_printed)
            };
            let got = gain("playlist", Some(t as u64 + 1));
            assert!(
                (got - g).abs() <= 0.3,
                "track {}: playlist gain {got} dB, ffmpeg gives {g:.2} (I {} LUFS, TP {} dBFS)",
                t + 1,
                r.i,
                r.tp_printed
            );
            want.push(g);
        }
    }
    let (p1, p2) = (gain("playlist", Some(1)), gain("playlist", Some(2)));
    assert!(p1 > 0.0 && p2 < -3.0, "quiet up, loud down: {p1} {p2}");
    // report.html says which is which and shows both.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for want in [
        "id=\"norm-album\">Album playback<",
        "id=\"norm-playlist\">Playlist playback<",
    ] {
        assert!(html.contains(want), "report.html lacks {want}");
    }
    let row2 = html.split("<tr id=\"norm-2\">").nth(1).unwrap();
    let row2 = &row2[..row2.find("</tr>").unwrap()];
    let cell = |x: f64| {
        let s = format!("{x:.1}");
        let s = if x > 0.0 { format!("+{s}") } else { s };
        s.replace('-', "\u{2212}")
    };
    // report.json rounds to 2 decimals, the page to 1: either side of
    // the JSON's figure.
    let shown = |class: &str, x: f64| {
        [x - 0.005, x + 0.005]
            .iter()
            .any(|&v| row2.contains(&format!("<td class=\"{class}\">{}</td>", cell(v))))
    };
    assert!(shown("norm-playlist", p2), "{row2}");
    assert!(shown("norm-album", album), "{row2}");
    eprintln!(
        "spotify: album playback {album:+.2} dB on both tracks; playlist {p1:+.2} and {p2:+.2} dB{}",
        if ffmpeg {
            format!(" (ffmpeg: {:+.2}, {:+.2})", want[0], want[1])
        } else {
            String::new()
        }
    );
}

#[test]
fn a_uniform_profile_does_not_mix_rates() {
    let out = mixed_album();
    let report = super::report(out);
    let rates = |name: &str| -> Vec<u64> {
        let b = report["bundles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .unwrap();
        b["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["sample_rate"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(rates("spotify"), [48_000, 48_000]);
    assert_eq!(rates("archive"), [44_100, 48_000]);
    if !have_tool("metaflac", "a_uniform_profile_does_not_mix_rates") {
        return;
    }
    for (bundle, want) in [("spotify", [48_000, 48_000]), ("archive", [44_100, 48_000])] {
        let got: Vec<u64> = files(&out.join("streaming").join(bundle), "flac")
            .iter()
            .map(|f| {
                let o = Command::new("metaflac")
                    .arg("--show-sample-rate")
                    .arg(f)
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
            })
            .collect();
        assert_eq!(got, want, "{bundle} (metaflac)");
    }
    let o = gm(out, &["profiles", "tidal"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("album's highest master rate"), "{text}");
    eprintln!("spotify (uniform): 48000, 48000 Hz; archive (source): 44100, 48000 Hz (metaflac)");
}
