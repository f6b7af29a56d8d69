//! The `vinyl:` and `cassette:` rules, through manifest validation with a
//! stand-in probe that gives each (empty) source file the length its name
//! says: `07.5m.wav` is 7.5 minutes at 44.1 kHz.

use std::path::Path;

use glassmaster::audio::{AudioError, AudioInfo};
use glassmaster::manifest::{Diagnostic, Manifest};

use crate::util::scratch;

/// Validates `text`; the tracks are files named by their minutes.
fn validate(name: &str, text: &str) -> (Option<Manifest>, Vec<Diagnostic>) {
    let dir = scratch(&format!("analog-manifest-{name}"));
    for line in text.lines() {
        if let Some(f) = line.trim().strip_prefix("- file: ") {
            std::fs::write(dir.join(f), b"").unwrap();
        }
    }
    let probe = |p: &Path| -> Result<AudioInfo, AudioError> {
        let name = p.file_name().unwrap().to_string_lossy();
        let minutes: f64 = name.trim_end_matches("m.wav").parse().unwrap();
        let rate = if name.starts_with('9') {
            48_000
        } else {
            44_100
        };
        Ok(AudioInfo {
            sample_rate: rate,
            channels: 2,
            bit_depth: Some(24),
            float: false,
            frames: Some((minutes * 60.0 * f64::from(rate)).round() as u64),
            codec: "pcm".into(),
        })
    };
    let root = glassmaster::manifest::raw::parse(text).unwrap();
    let path = dir.join("album.yaml");
    glassmaster::manifest::validate::validate(&root, &path, &dir, &probe)
}

fn head(tracks: &[&str]) -> String {
    let mut t = String::from("glassmaster: 1\nrelease: {title: T, artist: A}\ntracks:\n");
    for f in tracks {
        t.push_str(&format!("  - file: {f}\n    title: X\n"));
    }
    t
}

/// Each diagnostic as `line: message`.
fn lines(diags: &[Diagnostic]) -> Vec<(u32, String)> {
    diags
        .iter()
        .map(|d| (d.pos.map_or(0, |p| p.line), d.message.clone()))
        .collect()
}

fn has(diags: &[(u32, String)], line: u32, words: &str) -> bool {
    diags.iter().any(|(l, m)| *l == line && m.contains(words))
}

#[test]
fn every_vinyl_mistake_is_reported_at_once_at_its_line() {
    let mut text = head(&["03m.wav", "04m.wav", "05m.wav", "06m.wav"]);
    // Tracks take lines 4-11.
    text.push_str("vinyl:\n  size: 11\n  rpm: 78\n  gap_s: 40\n  sides:\n    - [1, 2]\n    - [2, 9]\n    - []\n");
    let (m, diags) = validate("mistakes", &text);
    assert!(m.is_none());
    let d = lines(&diags);
    assert!(
        has(
            &d,
            13,
            "`size` is the number 11; a record is 7, 10 or 12 inches"
        ),
        "{d:#?}"
    );
    assert!(has(&d, 14, "`rpm` is 78"), "{d:#?}");
    assert!(has(&d, 15, "`gap_s` is 40 s"), "{d:#?}");
    assert!(
        has(&d, 18, "track 2 is on side B as well as on side A"),
        "{d:#?}"
    );
    assert!(
        has(
            &d,
            18,
            "side B lists track 9; the release's tracks are 1 to 4"
        ),
        "{d:#?}"
    );
    assert!(has(&d, 19, "side C has no tracks"), "{d:#?}");
    assert!(has(&d, 17, "tracks 3, 4 are on no side"), "{d:#?}");
    assert_eq!(d.len(), 7, "{d:#?}");
}

#[test]
fn a_long_side_warns_and_a_longer_one_is_an_error() {
    // 12" 33 1/3: 20 minutes recommended, 25 at most. Side A: 10.5 + 2.5 s
    // + 10.5 = 21:02.5; side B: 26 minutes.
    let mut text = head(&["10.5m.wav", "10.5m.wav", "26m.wav"]);
    text.push_str("vinyl:\n  size: 12\n  rpm: 33\n  sides: [[1, 2], [3]]\n");
    let (m, diags) = validate("lengths", &text);
    assert!(m.is_none());
    let d = lines(&diags);
    assert!(
        diags.iter().any(|x| !x.is_error() && x.message.contains("side A is 21:02.500 long, over the 20:00 recommended for a 12\" record at 33 1/3 rpm")),
        "{d:#?}"
    );
    assert!(
        diags.iter().any(|x| x.is_error() && x.message.contains("side B is 26:00.000 long; a 12\" record at 33 1/3 rpm holds at most 25:00 per side")),
        "{d:#?}"
    );
    assert!(
        d.iter().all(|(l, _)| *l == 13),
        "both at the sides' line: {d:#?}"
    );
    // The same 21-minute side alone is only a warning.
    let mut text = head(&["10.5m.wav", "10.5m.wav"]);
    text.push_str("vinyl:\n  size: 12\n  rpm: 33\n  sides: [[1, 2]]\n");
    let (m, diags) = validate("warn", &text);
    assert!(m.is_some(), "{:#?}", lines(&diags));
    assert_eq!(diags.len(), 1);
    let v = m.unwrap().vinyl.unwrap();
    assert_eq!((v.size, v.rpm, v.gap_s), (12, 33, 2.5));
    assert_eq!(v.sides, vec![vec![0, 1]]);
}

#[test]
fn a_side_of_two_rates_is_refused() {
    let mut text = head(&["03m.wav", "93m.wav"]);
    text.push_str("vinyl: {size: 12, rpm: 45, sides: [[1, 2]]}\n");
    let (_, diags) = validate("rates", &text);
    let d = lines(&diags);
    assert!(
        has(&d, 8, "side A has tracks at 44100 Hz and 48000 Hz"),
        "{d:#?}"
    );
}

#[test]
fn cassette_rules() {
    let mut text = head(&["10m.wav", "12m.wav"]);
    text.push_str("cassette:\n  length: C120\n  sides: [[1], [2], []]\n");
    let (_, diags) = validate("cassette-bad", &text);
    let d = lines(&diags);
    assert!(
        has(
            &d,
            9,
            "`length` is text \"C120\"; a cassette is C46, C60, C90"
        ),
        "{d:#?}"
    );
    assert!(
        has(&d, 10, "`sides` lists 3 sides; a cassette has 2 sides"),
        "{d:#?}"
    );
    // The automatic split of two 31-minute tracks: each side over a C60's 30.
    let mut text = head(&["31m.wav", "31m.wav"]);
    text.push_str("cassette:\n  length: C60\n");
    let (m, diags) = validate("cassette-long", &text);
    assert!(m.is_none());
    let d = lines(&diags);
    assert!(
        has(
            &d,
            9,
            "side A is 31:00.000 long; a C60 cassette holds at most 30:00 per side"
        ),
        "{d:#?}"
    );
    assert!(has(&d, 9, "side B is 31:00.000 long"), "{d:#?}");
    // A C90 takes them.
    let text = text.replace("C60", "C90");
    let (m, diags) = validate("cassette-ok", &text);
    assert!(diags.is_empty(), "{:#?}", lines(&diags));
    let c = m.unwrap().cassette.unwrap();
    assert_eq!((c.side_minutes, c.sides), (45.0, None));
}
