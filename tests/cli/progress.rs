//! Issue 11 point 10: build's progress names the stage and the track
//! (the stage "decode, measure, render", then each track as it starts a
//! step: `track 2 "Night Drive": render 1`), and
//! `ddp verify --json` says what it checked. Progress is drawn only on a
//! terminal, so the build runs under util-linux's `script`, which gives
//! it a pseudo-terminal and copies what it draws to our stdout.

use std::path::Path;
use std::process::Command;

use crate::util::{bin, have_tool, scratch};

#[test]
fn build_progress_names_the_stage_and_each_track() {
    if !have_tool("script", "build_progress_names_the_stage_and_each_track") {
        return;
    }
    let dir = scratch("cli-progress");
    let out = dir.join("out");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/album.yaml");
    let cmd = format!(
        "stty cols 200; '{}' build '{demo}' -o '{}' -j 1",
        bin().display(),
        out.display()
    );
    let run = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let drawn = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "build under script: {drawn}");
    assert!(
        out.join("report.json").is_file(),
        "the build wrote no report"
    );
    // Each of the demo's three tracks is named with its step while the
    // mastering stage runs (-j 1: one track at a time, each drawn).
    for (n, title) in [(1, "Intro"), (2, "Night Drive"), (3, "Outro")] {
        let named = format!("track {n} \"{title}\": ");
        assert!(
            drawn.contains(&format!("{named}decode, measure"))
                || drawn.contains(&format!("{named}render 1")),
            "no step of track {n} drawn: {drawn}"
        );
    }
    assert!(
        drawn.contains("decode, measure, render"),
        "no stage drawn: {drawn}"
    );
    assert!(
        drawn.contains(": render 1"),
        "no render step drawn: {drawn}"
    );
}

#[test]
fn ddp_verify_json_lists_every_check_and_fails_a_changed_image() {
    let (build, _) = crate::build::demo_build();
    let ddp = build.join("cd/ddp");
    let verify = |dir: &Path| {
        let out = Command::new(bin())
            .args(["ddp", "verify", "--json"])
            .arg(dir)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), doc)
    };
    let (code, doc) = verify(&ddp);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["ok"], true);
    let checks = doc["checks"].as_array().unwrap();
    assert!(checks.len() >= 3, "{doc:#}");
    assert!(checks
        .iter()
        .all(|c| c["ok"] == true && c["what"].is_string()));
    // One byte of a copy's IMAGE.DAT changed: not ok, and the failing
    // check is there with its detail.
    let copy = scratch("cli-ddp-verify-json").join("ddp");
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(&ddp).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let image = copy.join("IMAGE.DAT");
    let mut bytes = std::fs::read(&image).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&image, bytes).unwrap();
    let (code, doc) = verify(&copy);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["ok"], false);
    let failed: Vec<&serde_json::Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert!(!failed.is_empty(), "{doc:#}");
    assert!(
        failed
            .iter()
            .all(|c| c["detail"].as_str().is_some_and(|d| !d.is_empty())),
        "{doc:#}"
    );
}
