//! Issue 10's data-loss cases: where an output may go, what `--force` may
//! replace, staging and the lock, temporary files and planted symlinks,
//! for every command that writes (`build`, `ddp extract`, `init`). Each
//! refusal is checked by the MD5 of every entry of the user's folder
//! before and after (names, contents, links: nothing added, nothing
//! renamed), the exit status 1 and a message naming the folder and why.

mod force;
mod staging;
mod writers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::build::music::{self, Style};
use crate::util::{bin, scratch};

/// A small album (two short generated mixes and cover art) in a fresh
/// scratch folder: album.yaml, mixes/, art/.
pub fn album(name: &str, secs: f64) -> PathBuf {
    let dir = scratch(name);
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    std::fs::create_dir_all(dir.join("art")).unwrap();
    music::make(
        &mixes,
        "01 One.wav",
        "One",
        48_000,
        2,
        secs,
        41,
        Style::BAND,
        -16.0,
        -1.0,
    );
    music::make(
        &mixes,
        "02 Two.wav",
        "Two",
        44_100,
        2,
        secs,
        42,
        Style::SPARSE,
        -20.0,
        -3.0,
    );
    let cover = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/art/cover.png");
    std::fs::copy(cover, dir.join("art/cover.png")).unwrap();
    std::fs::write(dir.join("album.yaml"), manifest("mixes/01 One.wav")).unwrap();
    dir
}

/// The manifest of [`album`], its first track's file given.
pub fn manifest(first: &str) -> String {
    format!(
        "glassmaster: 1
release:
  title: Safe
  artist: The Test Band
  artwork: art/cover.png
mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0
tracks:
  - file: \"{first}\"
    title: One
  - file: mixes/02 Two.wav
    title: Two
"
    )
}

/// Runs `glassmaster ARGS` in `dir`; exit status and stderr (never a panic).
pub fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    run_env(dir, args, &[])
}

pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> (i32, String) {
    let mut c = Command::new(bin());
    c.current_dir(dir).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o: Output = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    eprintln!(
        "glassmaster {}: exit {:?}\n{stderr}",
        args.join(" "),
        o.status.code()
    );
    (o.status.code().unwrap_or(-1), stderr)
}

/// Every entry below `dir` (hidden ones too), relative: a file's MD5, a
/// link's target, `dir` for a folder.
pub fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&p).unwrap().display())
            } else if meta.is_dir() {
                stack.push(p);
                "dir".to_owned()
            } else {
                format!("{:x}", md5::compute(std::fs::read(&p).unwrap()))
            };
            out.insert(rel, what);
        }
    }
    out
}

/// Asserts a refusal: exit 1, and stderr holding every one of `words`.
pub fn refused(code: i32, stderr: &str, words: &[&str]) {
    assert_eq!(code, 1, "expected exit 1: {stderr}");
    for w in words {
        assert!(stderr.contains(w), "the message lacks `{w}`: {stderr}");
    }
}
