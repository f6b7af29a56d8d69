//! Issue 17, `build --timings`: the demo album built with the flag prints
//! the stage table and writes it into report.json; the phases (which
//! follow one another) add up to the build's wall time within 5 %; the
//! stages the tracks' phase is made of cost no more CPU than that phase
//! used (spans do not nest or double count); every output byte is the
//! same as the build without the flag, which writes no `timings` at all.

use std::path::PathBuf;

use super::{build_ok, demo_build};
use crate::util::scratch;

#[test]
fn build_timings_prints_and_records_a_table_that_adds_up() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("examples/demo/album.yaml");
    let out = scratch("build-timings").join("out");
    let (report, stderr) = build_ok(
        &root,
        manifest.to_str().unwrap(),
        out.to_str().unwrap(),
        &["--timings"],
    );
    assert!(stderr.contains("phases together"), "{stderr}");
    assert!(stderr.contains("stage (all tracks)"), "{stderr}");
    let t = &report["timings"];
    let wall = t["wall_s"].as_f64().unwrap();
    let phases = t["phases"].as_array().unwrap();
    let sum: f64 = phases.iter().map(|p| p["wall_s"].as_f64().unwrap()).sum();
    assert!(
        wall > 0.0 && (sum - wall).abs() <= 0.05 * wall,
        "phases {sum} s against wall {wall} s"
    );
    let phase_cpu = |name: &str| {
        phases
            .iter()
            .find(|p| p["phase"] == name)
            .unwrap_or_else(|| panic!("no phase {name}: {t}"))["cpu_s"]
            .as_f64()
            .unwrap()
    };
    let stages = t["stages"].as_array().unwrap();
    let all: Vec<&serde_json::Value> = stages.iter().filter(|s| s.get("track").is_none()).collect();
    let stage = |name: &str| {
        all.iter()
            .find(|s| s["stage"] == name)
            .unwrap_or_else(|| panic!("no stage {name}: {t}"))["cpu_s"]
            .as_f64()
            .unwrap()
    };
    for name in [
        "decode",
        "chain (render)",
        "measure: master",
        "encode: FLAC",
        "encode: MP3",
        "CD: resample, dither",
        "hash (md5)",
        "bundles: artwork (decode, resize, encode)",
        "bundles: re-measure delivered",
    ] {
        assert!(stage(name) >= 0.0);
    }
    // The stages charged inside the tracks' phase, against the CPU the
    // whole process spent in it (getrusage's tick leaves some slack).
    let render: f64 = all
        .iter()
        .filter(|s| {
            let n = s["stage"].as_str().unwrap();
            [
                "decode",
                "chain",
                "measure",
                "encode",
                "write",
                "CD: resample",
                "CD: segue spool",
            ]
            .iter()
            .any(|p| n.starts_with(p))
        })
        .map(|s| s["cpu_s"].as_f64().unwrap())
        .sum();
    let phase = phase_cpu("tracks: decode, measure, render") + phase_cpu("CD: segued runs");
    assert!(
        render <= phase * 1.05 + 0.05,
        "stages {render} s CPU against the phases' {phase} s"
    );
    for n in 1..=3 {
        assert!(
            stages
                .iter()
                .any(|s| s["track"] == n && s["stage"] == "decode"),
            "no decode of track {n}"
        );
    }
    for th in t["threads"].as_array().unwrap() {
        assert!(th["busy_s"].as_f64().unwrap() <= wall + 0.05, "{th}");
    }
    // Same bytes as without the flag, and no timings there.
    let (_, plain) = demo_build();
    assert!(plain.get("timings").is_none());
    assert_eq!(report["outputs"], plain["outputs"]);
    eprintln!("build --timings: wall {wall:.2} s, phases {sum:.2} s, tracks' stages {render:.2} s CPU of {phase:.2} s");
}
