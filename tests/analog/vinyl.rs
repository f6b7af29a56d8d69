//! A 12" 33 1/3 two-sided release through `glassmaster build`: the side
//! files' lengths are the tracks and gaps to the sample (ffprobe), the
//! cutting sheet's start samples and times find each track in its side
//! file (ffmpeg decodes both), the per-track files are the masters, the
//! inverted-polarity bass is flagged `vinyl.low_end_phase` and the clean
//! one is not; a 26-minute side exits 1 naming its line, writing nothing.

use std::path::Path;

use super::{ffmpeg_samples, ffprobe, write_signal, write_silent_wav};
use crate::build::{build_ok, gm};
use crate::util::{have_tool, scratch};

const MANIFEST: &str = "glassmaster: 1
release:
  title: Vinyl Test
  artist: The Test Band
mastering:
  loudness_mode: off
  true_peak_dbtp: -1.0
tracks:
  - file: 01.wav
    title: Clean
  - file: 02.wav
    title: Inverted Bass
  - file: 03.wav
    title: Third
  - file: 04.wav
    title: Fourth
vinyl:
  size: 12
  rpm: 33
  sides: [[1, 2], [3, 4]]
";

const RATE: u32 = 48_000;
const GAP: u64 = 120_000; // 2.5 s at 48 kHz

/// (position, start text, start sample, frames) of each row of a side.
fn sheet_rows(sheet: &str, side: &str) -> Vec<(String, String, u64, u64)> {
    sheet
        .lines()
        .filter(|l| l.starts_with(side) && l.as_bytes().get(1).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            let i = t
                .iter()
                .position(|w| w.contains(':') && w.contains('.'))
                .unwrap();
            (
                t[0].to_owned(),
                t[i].to_owned(),
                t[i + 1].parse().unwrap(),
                0,
            )
        })
        .collect()
}

fn clock(frames: u64) -> String {
    let ms = (frames * 1000 + u64::from(RATE) / 2) / u64::from(RATE);
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

#[test]
fn two_sides_hold_their_tracks_and_gaps_to_the_sample() {
    if !have_tool("ffprobe", "vinyl sides") || !have_tool("ffmpeg", "vinyl sides") {
        return;
    }
    let dir = scratch("analog-vinyl");
    let lengths = [3.0, 2.5, 4.1, 2.2];
    for (i, secs) in lengths.iter().enumerate() {
        write_signal(&dir.join(format!("{:02}.wav", i + 1)), RATE, *secs, i == 1);
    }
    std::fs::write(dir.join("album.yaml"), MANIFEST).unwrap();
    let (report, _) = build_ok(&dir, "album.yaml", "out", &["--only", "masters,vinyl"]);
    let out = dir.join("out");
    let src: Vec<u64> = (1..=4)
        .map(|i| ffprobe(&dir.join(format!("{i:02}.wav"))).2)
        .collect();
    let sheet = std::fs::read_to_string(out.join("vinyl/cutting-sheet.txt")).unwrap();
    for (side, tracks) in [("A", [0usize, 1]), ("B", [2, 3])] {
        let path = out.join(format!("vinyl/side-{side}.wav"));
        let (codec, rate, samples) = ffprobe(&path);
        assert_eq!((codec.as_str(), rate), ("pcm_s24le", RATE));
        assert_eq!(
            samples,
            src[tracks[0]] + GAP + src[tracks[1]],
            "side {side}"
        );
        let side_pcm = ffmpeg_samples(&path);
        assert_eq!(side_pcm.len() as u64, samples * 2);
        let rows = sheet_rows(&sheet, side);
        assert_eq!(rows.len(), 2, "{sheet}");
        let mut expect_start = 0;
        for (k, (pos, start, at, _)) in rows.iter().enumerate() {
            assert_eq!(*at, expect_start, "{pos}");
            assert_eq!(*start, clock(*at), "{pos}");
            let files: Vec<_> = std::fs::read_dir(out.join("vinyl/tracks"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(pos.as_str())
                })
                .collect();
            assert_eq!(files.len(), 1, "{pos}: {files:?}");
            let track_pcm = ffmpeg_samples(&files[0]);
            assert_eq!(track_pcm.len() as u64, src[tracks[k]] * 2);
            let a = (*at * 2) as usize;
            assert!(
                side_pcm[a..a + track_pcm.len()] == track_pcm[..],
                "{pos} is not at sample {at}"
            );
            if k > 0 {
                assert!(
                    side_pcm[a - (GAP * 2) as usize..a].iter().all(|&s| s == 0),
                    "{pos}: the gap is not silence"
                );
            }
            // The per-track premaster is the master.
            let master = out.join(format!(
                "masters/{:02} {}.wav",
                tracks[k] + 1,
                ["Clean", "Inverted Bass", "Third", "Fourth"][tracks[k]]
            ));
            assert_eq!(
                std::fs::read(&master).unwrap(),
                std::fs::read(&files[0]).unwrap(),
                "{pos}"
            );
            expect_start = at + src[tracks[k]] + GAP;
        }
        assert!(
            sheet.contains(&format!(
                "Side {side} total: {} ({samples} samples): fits",
                clock(samples)
            )),
            "{sheet}"
        );
    }
    let flagged: Vec<u64> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "vinyl.low_end_phase")
        .map(|c| c["track"].as_u64().unwrap())
        .collect();
    assert_eq!(flagged, [2], "{}", report["checks"]);
    let corr = |t: usize| {
        report["vinyl"]["figures"][t]["low_correlation"]
            .as_f64()
            .unwrap()
    };
    assert!(corr(0) > 0.99 && corr(1) < -0.99, "{}", report["vinyl"]);
    assert_eq!(report["vinyl"]["sides"][1]["tracks"][0]["start_frame"], 0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("vinyl.low_end_phase"),
        "report.html lists the vinyl check"
    );
    assert!(sheet.contains("(vinyl.low_end_phase)"), "{sheet}");
    if have_tool("xmllint", "cutting sheet HTML") {
        let o = std::process::Command::new("xmllint")
            .args(["--html", "--noout"])
            .arg(out.join("vinyl/cutting-sheet.html"))
            .output()
            .unwrap();
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn a_26_minute_side_exits_1_before_any_work() {
    let dir = scratch("analog-vinyl-long");
    write_signal(&dir.join("01.wav"), 44_100, 1.0, false);
    write_silent_wav(&dir.join("02.wav"), 26.0 * 60.0);
    let text = "glassmaster: 1
release: {title: Long, artist: A}
tracks:
  - file: 01.wav
    title: One
  - file: 02.wav
    title: Long One
vinyl:
  size: 12
  rpm: 33
  sides:
    - [1]
    - [2]
";
    std::fs::write(dir.join("album.yaml"), text).unwrap();
    let t = std::time::Instant::now();
    let o = gm(&dir, &["build", "album.yaml", "-o", "out"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("album.yaml:13"), "{err}");
    assert!(
        err.contains(
            "side B is 26:00.000 long; a 12\" record at 33 1/3 rpm holds at most 25:00 per side"
        ),
        "{err}"
    );
    assert!(!Path::new(&dir.join("out")).exists());
    assert!(
        t.elapsed().as_secs_f64() < 20.0,
        "refused only after {:?}",
        t.elapsed()
    );
}

/// Two real tracks (8 s of each) with a vinyl chain and ceiling of their
/// own: the premaster is a render of its own, under its -3 dBTP ceiling by
/// ffmpeg's meter while the master goes up to -1, and each side is its
/// track to the sample.
#[test]
fn real_music_gets_its_own_vinyl_render() {
    let music =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/real-music/wav48");
    if !music.join("hr3-laboratory.wav").is_file() {
        eprintln!(
            "SKIP vinyl real music: {} not found (shared/testdata/real-music.sh)",
            music.display()
        );
        return;
    }
    if !have_tool("ffmpeg", "vinyl real music") || !have_tool("ffprobe", "vinyl real music") {
        return;
    }
    let dir = scratch("analog-vinyl-real");
    let text = format!(
        "glassmaster: 1
release: {{title: Real, artist: Shawn Parrotte}}
mastering:
  loudness_mode: track
  target_lufs: -11
  true_peak_dbtp: -1.0
tracks:
  - file: {0}/hr3-laboratory.wav
    title: Laboratory
    trim: {{start: 30, end: 38}}
  - file: {0}/hr3-icyland.wav
    title: Icy Land
    trim: {{start: 20, end: 28}}
vinyl:
  size: 7
  rpm: 45
  sides: [[1], [2]]
  true_peak_dbtp: -3.0
  chain:
    - eq: [{{type: highpass, freq_hz: 30}}]
    - limiter: {{}}
",
        music.display()
    );
    std::fs::write(dir.join("album.yaml"), text).unwrap();
    let (report, _) = build_ok(&dir, "album.yaml", "out", &["--only", "masters,vinyl"]);
    let out = dir.join("out");
    assert_eq!(report["vinyl"]["own_render"], true);
    for (side, title, n) in [("A", "Laboratory", 1), ("B", "Icy Land", 2)] {
        let side_file = out.join(format!("vinyl/side-{side}.wav"));
        assert_eq!(
            ffprobe(&side_file),
            ("pcm_s24le".to_owned(), RATE, 8 * u64::from(RATE))
        );
        let track = out.join(format!("vinyl/tracks/{side}1 {title}.wav"));
        let master = out.join(format!("masters/{n:02} {title}.wav"));
        assert_eq!(ffmpeg_samples(&track), ffmpeg_samples(&side_file));
        assert_ne!(
            std::fs::read(&track).unwrap(),
            std::fs::read(&master).unwrap()
        );
        let v = crate::build::ffmpeg_r128(&[track], &dir);
        let m = crate::build::ffmpeg_r128(&[master], &dir);
        assert!(v.tp_printed <= -3.0 + 0.1, "{title}: vinyl {v:?}");
        assert!(
            m.tp_printed <= -1.0 + 0.1 && m.tp_printed > v.tp_printed,
            "{title}: master {m:?}, vinyl {v:?}"
        );
    }
    let o = gm(&dir, &["verify", "out"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
