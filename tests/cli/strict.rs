//! Issue 11 points 3 and 9: `check --strict` fails on what `build` would
//! warn about (CD-Text outside Latin-1, a CUE value over 80 characters),
//! and a misspelt key is answered with the key that takes its kind of
//! value, in a message that says "track 5".

use super::run;
use crate::util::{scratch, write_wav_i16};

/// A CD album of five 5-second tracks whose titles are `titles`; `extra`
/// is added to the fifth track's line.
fn album(dir: &std::path::Path, titles: [&str; 5], extra: &str) -> String {
    std::fs::create_dir_all(dir.join("mixes")).unwrap();
    let mut lines = vec![
        "glassmaster: 1".to_owned(),
        "release: { title: Strict, artist: Tester, upc: \"5012345678900\" }".to_owned(),
        "isrc: { registrant: US-XYZ, year: 26 }".to_owned(),
        "tracks:".to_owned(),
    ];
    for (i, t) in titles.iter().enumerate() {
        let f = format!("mixes/{i}.wav");
        if !dir.join(&f).exists() {
            write_wav_i16(&dir.join(&f), 44_100, 2, 5.0, 440.0);
        }
        let more = if i == 4 { extra } else { "" };
        lines.push(format!("  - {{ file: {f}, title: \"{t}\"{more} }}"));
    }
    lines.push("cd: { formats: [ddp, cue, toc] }".to_owned());
    // The tracks are steady sines: a peak-to-short-term loudness ratio of
    // 0.7 dB, which track.psr (tests/translation.rs) flags. This test is
    // about CD-Text: the translation checks are off.
    lines.push("report: { translation: false }".to_owned());
    lines.join("\n") + "\n"
}

#[test]
fn check_strict_fails_on_every_text_warning_the_cd_writers_give() {
    let dir = scratch("cli-strict-cd-text");
    let long = "L".repeat(81);
    let plain = ["One", "Two", "Three", "Four", "Five"];
    std::fs::write(dir.join("plain.yaml"), album(&dir, plain, "")).unwrap();
    let (code, _, stderr) = run(&["check", "--strict", "plain.yaml"], &dir);
    assert_eq!(code, 0, "the plain album passes --strict: {stderr}");

    let cases = [
        (
            "latin1.yaml",
            ["One", "Two", "Ōsaka 東京", "Four", "Five"],
            "outside Latin-1",
            7,
        ),
        (
            "long.yaml",
            ["One", "Two", "Three", "Four", long.as_str()],
            "longer than 80 characters",
            9,
        ),
    ];
    for (name, titles, what, line) in cases {
        std::fs::write(dir.join(name), album(&dir, titles, "")).unwrap();
        let (code, _, stderr) = run(&["check", "--strict", name], &dir);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stderr.contains(what), "{name}: {stderr}");
        // Placed at the title's line.
        assert!(
            stderr.contains(&format!("{name}:{line}:")),
            "{name}: {stderr}"
        );
        // Without --strict a warning, not an error.
        let (code, _, stderr) = run(&["check", name], &dir);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(
            stderr.contains("warning") && stderr.contains(what),
            "{stderr}"
        );
    }
}

#[test]
fn a_number_under_a_misspelt_key_is_sent_to_the_key_taking_a_number() {
    let dir = scratch("cli-suggest-kind");
    let titles = ["One", "Two", "Three", "Four", "Five"];
    std::fs::write(dir.join("gain.yaml"), album(&dir, titles, ", gain: -6")).unwrap();
    let (code, _, stderr) = run(&["check", "gain.yaml"], &dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("unknown key `gain` in track 5; did you mean `gain_db`?"),
        "{stderr}"
    );
    assert!(!stderr.contains("`chain`"), "{stderr}");
    assert!(!stderr.contains("tracks["), "{stderr}");
}
