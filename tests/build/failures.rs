//! Builds that must not happen or must fail cleanly (cli.md: exit 1, the
//! output folder as it was, no staging folder left): a manifest with
//! errors, an existing output folder without --force (or one glassmaster
//! did not write, even with it: tests/safety.rs has the rest), a source that turns
//! out corrupt while rendering, an output path that cannot be made.

use std::path::Path;

use super::music::{self, Style};
use super::{gm, snapshot, staging_left};
use crate::util::scratch;

const MANIFEST: &str = "glassmaster: 1
release:
  title: Small
  artist: The Test Band
mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0
tracks:
  - file: mixes/01 One.wav
    title: One
  - file: mixes/02 Two.wav
    title: Two
";

fn setup(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    music::make(
        &mixes,
        "01 One.wav",
        "One",
        48_000,
        2,
        5.0,
        31,
        Style::BAND,
        -16.0,
        -1.0,
    );
    music::make(
        &mixes,
        "02 Two.wav",
        "Two",
        48_000,
        2,
        6.0,
        32,
        Style::SPARSE,
        -20.0,
        -3.0,
    );
    std::fs::write(dir.join("album.yaml"), MANIFEST).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = gm(dir, args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (o.status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_manifest_with_errors_writes_nothing() {
    let dir = setup("build-fail-manifest");
    let bad = MANIFEST
        .replace("true_peak_dbtp: -1.0", "true_peak_dbt: -1.0")
        .replace("title: Two", "title: Two\n    gain_db: loud");
    std::fs::write(dir.join("bad.yaml"), bad).unwrap();
    let (code, stderr) = run(&dir, &["build", "bad.yaml", "-o", "out"]);
    eprintln!("bad manifest: exit {code}\n{stderr}");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("bad.yaml:8:") && stderr.contains("true_peak_dbtp"),
        "{stderr}"
    );
    assert!(stderr.contains("gain_db"), "{stderr}");
    assert!(!dir.join("out").exists(), "the output folder appeared");
    assert_eq!(staging_left(&dir), Vec::<String>::new());
}

#[test]
fn an_existing_output_folder_needs_force() {
    let dir = setup("build-fail-exists");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("MARKER"), "mine\n").unwrap();
    let before = snapshot(&out);
    let args = ["build", "album.yaml", "-o", "out", "--only", "masters"];
    // A folder glassmaster did not write: refused with and without --force.
    for force in [false, true] {
        let mut a = args.to_vec();
        if force {
            a.push("--force");
        }
        let (code, stderr) = run(&dir, &a);
        eprintln!("existing output folder: exit {code}: {}", stderr.trim());
        assert_eq!(code, 1);
        assert!(
            stderr.contains("--force")
                && stderr.contains("out")
                && stderr.contains("did not write"),
            "{stderr}"
        );
        assert_eq!(snapshot(&out), before, "the output folder changed");
        assert_eq!(staging_left(&dir), Vec::<String>::new());
    }
    // One it wrote: refused without --force, replaced with it.
    std::fs::remove_dir_all(&out).unwrap();
    let (code, stderr) = run(&dir, &args);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = run(&dir, &args);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("exists") && stderr.contains("--force"),
        "{stderr}"
    );
    let (code, stderr) = run(&dir, &[&args[..], &["--force"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(out.join("report.json").exists());
}

/// A source whose header promises more frames than the file holds passes
/// validation (the header is fine) and fails while the engine decodes it:
/// the build fails after work was done, and the previous output folder
/// must be left exactly as it was.
#[test]
fn a_build_that_fails_midway_leaves_the_old_output() {
    let dir = setup("build-fail-midway");
    let out = dir.join("out");
    let (code, stderr) = run(
        &dir,
        &["build", "album.yaml", "-o", "out", "--only", "masters"],
    );
    assert_eq!(code, 0, "{stderr}");
    let before = snapshot(&out);
    let names: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
    eprintln!("the good build: {names:?}");

    let src = dir.join("mixes/02 Two.wav");
    let bytes = std::fs::read(&src).unwrap();
    std::fs::write(&src, &bytes[..bytes.len() / 2]).unwrap();
    let (code, stderr) = run(
        &dir,
        &[
            "build",
            "album.yaml",
            "-o",
            "out",
            "--only",
            "masters",
            "--force",
        ],
    );
    eprintln!("truncated source: exit {code}: {}", stderr.trim());
    assert_eq!(code, 1);
    assert!(
        stderr.contains("02 Two.wav"),
        "the error names the file: {stderr}"
    );
    assert_eq!(snapshot(&out), before, "the previous output folder changed");
    assert_eq!(
        staging_left(&dir),
        Vec::<String>::new(),
        "a staging folder was left"
    );
}

#[test]
fn an_output_path_that_cannot_be_made_fails_cleanly() {
    let dir = setup("build-fail-path");
    std::fs::write(dir.join("afile"), "a file, not a folder\n").unwrap();
    let (code, stderr) = run(
        &dir,
        &[
            "build",
            "album.yaml",
            "-o",
            "afile/out",
            "--only",
            "masters",
        ],
    );
    eprintln!("output under a file: exit {code}: {}", stderr.trim());
    assert_eq!(code, 1);
    assert!(stderr.contains("afile"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("afile")).unwrap(),
        "a file, not a folder\n"
    );
    assert_eq!(staging_left(&dir), Vec::<String>::new());
}
