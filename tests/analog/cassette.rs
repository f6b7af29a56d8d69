//! A C60 cassette split automatically through `glassmaster build`: the two
//! side files (ffprobe) hold every track and gap and differ by at most one
//! track's length; an album too long for the tape exits 1 at `length`.

use super::{ffprobe, write_signal, write_silent_wav};
use crate::build::{build_ok, gm};
use crate::util::{have_tool, scratch};

#[test]
fn a_c60_split_balances_its_sides_within_one_track() {
    if !have_tool("ffprobe", "cassette split") {
        return;
    }
    let dir = scratch("analog-cassette");
    let lengths = [2.0, 5.0, 1.5, 3.5, 2.5];
    let mut text = String::from(
        "glassmaster: 1\nrelease: {title: Tape, artist: A}\nmastering: {loudness_mode: off}\ntracks:\n",
    );
    for (i, secs) in lengths.iter().enumerate() {
        let f = format!("{:02}.wav", i + 1);
        write_signal(&dir.join(&f), 44_100, *secs, false);
        text.push_str(&format!("  - file: {f}\n    title: Song {}\n", i + 1));
    }
    text.push_str("cassette:\n  length: C60\n  gap_s: 1.0\n");
    std::fs::write(dir.join("album.yaml"), &text).unwrap();
    let (report, _) = build_ok(&dir, "album.yaml", "out", &["--only", "cassette"]);
    let out = dir.join("out");
    let src: Vec<u64> = (1..=5)
        .map(|i| ffprobe(&dir.join(format!("{i:02}.wav"))).2)
        .collect();
    let a = ffprobe(&out.join("cassette/side-A.wav"));
    let b = ffprobe(&out.join("cassette/side-B.wav"));
    assert_eq!((a.0.as_str(), a.1), ("pcm_s24le", 44_100));
    let on_a = report["cassette"]["sides"][0]["tracks"]
        .as_array()
        .unwrap()
        .len();
    let gap = 44_100;
    assert_eq!(
        a.2,
        src[..on_a].iter().sum::<u64>() + gap * (on_a as u64 - 1)
    );
    assert_eq!(
        b.2,
        src[on_a..].iter().sum::<u64>() + gap * (4 - on_a as u64)
    );
    let longest = *src.iter().max().unwrap();
    assert!(
        a.2.abs_diff(b.2) <= longest,
        "sides {} and {} samples",
        a.2,
        b.2
    );
    let sheet = std::fs::read_to_string(out.join("cassette/duplication-sheet.txt")).unwrap();
    assert!(
        sheet.contains("DUPLICATION SHEET") && sheet.contains("Format:      C60"),
        "{sheet}"
    );
    let b1 = format!("{:<5} {:>5}  Song {}", "B1", on_a + 1, on_a + 1);
    assert!(sheet.contains(&b1), "{sheet}");
    assert!(out.join("cassette/duplication-sheet.html").is_file());
}

#[test]
fn an_album_too_long_for_the_tape_exits_1() {
    let dir = scratch("analog-cassette-long");
    write_silent_wav(&dir.join("01.wav"), 31.0 * 60.0);
    write_silent_wav(&dir.join("02.wav"), 31.0 * 60.0);
    let text = "glassmaster: 1
release: {title: Long Tape, artist: A}
tracks:
  - file: 01.wav
    title: One
  - file: 02.wav
    title: Two
cassette:
  length: C60
";
    std::fs::write(dir.join("album.yaml"), text).unwrap();
    let o = gm(&dir, &["build", "album.yaml", "-o", "out"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("album.yaml:9"), "{err}");
    assert!(
        err.contains("side A is 31:00.000 long; a C60 cassette holds at most 30:00 per side"),
        "{err}"
    );
    assert!(!dir.join("out").exists());
}
