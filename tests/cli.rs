//! The commands as a user runs them: exit codes, JSON shapes and the
//! messages for broken audio.

mod pipes;
mod progress;
mod strict;

use std::process::Command;

use crate::util::{bin, scratch, write_wav_i16};

fn run(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(bin())
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn analyze_names_each_broken_file_and_exits_1() {
    let dir = scratch("cli-broken-audio");
    write_wav_i16(&dir.join("good.wav"), 44_100, 2, 2.0, 440.0);
    let good = std::fs::read(dir.join("good.wav")).unwrap();
    std::fs::write(dir.join("truncated.wav"), &good[..good.len() / 2]).unwrap();
    std::fs::write(dir.join("text.wav"), "not audio at all\n").unwrap();
    std::fs::write(dir.join("empty.wav"), b"").unwrap();
    write_wav_i16(&dir.join("six.wav"), 48_000, 6, 0.5, 440.0);
    for (name, why) in [
        ("truncated.wav", "truncated"),
        ("text.wav", "not an audio file"),
        ("empty.wav", "empty"),
        ("six.wav", "6 channels"),
    ] {
        let (code, stdout, stderr) = run(&["analyze", "--json", "good.wav", name], &dir);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains(name) && stderr.contains(why),
            "{name}: {stderr}"
        );
        // The good file is still measured.
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(doc["files"].as_array().unwrap().len(), 1, "{stdout}");
    }
    let (code, _, stderr) = run(&["analyze", "nowhere.wav"], &dir);
    assert_eq!(code, 1);
    assert!(stderr.contains("nowhere.wav"), "{stderr}");
    let (code, _, _) = run(&["analyze"], &dir);
    assert_eq!(code, 2, "no files is a usage error");
    let (code, _, _) = run(&["frobnicate"], &dir);
    assert_eq!(code, 2);
}

#[test]
fn check_json_of_the_demo_album() {
    let demo = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo"));
    let (code, stdout, stderr) = run(&["check", "--json", "album.yaml"], demo);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["ok"], true);
    let tracks = doc["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 3);
    assert_eq!(tracks[1]["number"], 2);
    assert_eq!(tracks[1]["title"], "Night Drive");
    assert_eq!(tracks[1]["path"], "mixes/02 Night Drive.flac");
    assert_eq!(tracks[1]["sample_rate"], 48_000);
    assert_eq!(tracks[1]["bit_depth"], 16);
    assert_eq!(tracks[0]["channels"], 1);
    for key in [
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "short_term_max_lufs",
        "momentary_max_lufs",
        "dc_offset_dbfs",
        "correlation",
        "head_silence_s",
        "tail_silence_s",
        "clipped_samples",
        "duration_s",
    ] {
        assert!(!tracks[0][key].is_null(), "{key} missing: {}", tracks[0]);
    }
    // The demo passes its own gate: no check, not even a warning.
    assert!(
        doc["checks"].as_array().unwrap().is_empty(),
        "{}",
        doc["checks"]
    );
    let (code, _, stderr) = run(&["check", "--strict", "album.yaml"], demo);
    assert_eq!(code, 0, "{stderr}");
    // Two source formats (44.1 kHz and 48 kHz): a warning, not a failure...
    let dir = scratch("cli-format-mix");
    write_wav_i16(&dir.join("a.wav"), 44_100, 2, 3.0, 440.0);
    write_wav_i16(&dir.join("b.wav"), 48_000, 2, 3.0, 330.0);
    std::fs::write(
        dir.join("album.yaml"),
        "glassmaster: 1\nrelease:\n  title: Mix\n  artist: Formats\ntracks:\n  - file: a.wav\n    title: A\n  - file: b.wav\n    title: B\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["check", "--json", "album.yaml"], &dir);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let checks = doc["checks"].as_array().unwrap();
    assert!(
        checks.iter().any(|c| c["id"] == "album.format_mix"),
        "{checks:?}"
    );
    // ...until --strict.
    let (code, stdout, _) = run(&["check", "--json", "--strict", "album.yaml"], &dir);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert!(doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "album.format_mix" && c["severity"] == "error"));
}

#[test]
fn check_runs_the_store_lint_for_streaming_releases() {
    let dir = scratch("cli-store-lint");
    std::fs::create_dir_all(dir.join("mixes")).unwrap();
    write_wav_i16(&dir.join("mixes/a.wav"), 44_100, 2, 5.0, 440.0);
    write_wav_i16(&dir.join("mixes/b.wav"), 44_100, 2, 5.0, 330.0);
    let manifest = |t1: &str, t2: &str| {
        [
            "glassmaster: 1".to_owned(),
            "release: { title: Lint, artist: Tester, upc: \"5012345678900\" }".to_owned(),
            "isrc: { registrant: US-XYZ, year: 26 }".to_owned(),
            "tracks:".to_owned(),
            format!("  - {{ file: mixes/a.wav, title: \"{t1}\" }}"),
            format!("  - {{ file: mixes/b.wav, title: \"{t2}\" }}"),
            "streaming:".to_owned(),
            "  - profile: archive".to_owned(),
        ]
        .join("\n")
            + "\n"
    };
    std::fs::write(
        dir.join("bad.yaml"),
        manifest("Song (feat. Someone)", "LOUD TITLE"),
    )
    .unwrap();
    std::fs::write(dir.join("good.yaml"), manifest("Song", "Loud Title")).unwrap();
    let (code, stdout, stderr) = run(&["check", "--json", "bad.yaml"], &dir);
    assert_eq!(code, 0, "lint findings are warnings: {stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(ids.contains(&"store.featured_in_title"), "{ids:?}");
    assert!(ids.contains(&"store.all_caps_title"), "{ids:?}");
    let (code, _, _) = run(&["check", "--strict", "bad.yaml"], &dir);
    assert_eq!(code, 1, "--strict makes them errors");
    let (code, stdout, stderr) = run(&["check", "--json", "good.yaml"], &dir);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        !doc["checks"].as_array().unwrap().iter().any(|c| c["id"]
            .as_str()
            .unwrap()
            .starts_with("store.title")
            || c["id"] == "store.featured_in_title"
            || c["id"] == "store.all_caps_title"),
        "{stdout}"
    );
}
