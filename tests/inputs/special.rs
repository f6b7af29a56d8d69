//! A FIFO, a character device (/dev/zero, /dev/null) or a folder given
//! where glassmaster reads a file: the manifest, a track, the artwork, a
//! file for `analyze`, a CUE sheet for `init --from-cue`, a DDP file. Each
//! is refused by name before anything is read: exit 1 within 5 s (before
//! the fix, the FIFO cases blocked forever and `check /dev/zero` read
//! until memory ran out).

use std::path::{Path, PathBuf};
use std::process::Command;

use glassmaster::disc::ddp::{
    write_fileset, Control, DiscLayout, Index, LayoutTrack, WriteOptions,
};

use super::refused;
use crate::util::{scratch, write_wav_i16};

/// Two 2 s tracks, `mixes/a.wav` and `mixes/b.wav` (line 8).
pub const MANIFEST: &str = "glassmaster: 1
release:
  title: Small
  artist: The Test Band
tracks:
  - file: mixes/a.wav
    title: One
  - file: mixes/b.wav
    title: Two
";

/// A folder with `mixes/a.wav`, `mixes/b.wav`, a FIFO `pipe`, and the
/// manifest; `None` (and a SKIP) without `mkfifo`.
fn setup(name: &str) -> Option<PathBuf> {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("mixes")).unwrap();
    write_wav_i16(&dir.join("mixes/a.wav"), 44_100, 2, 2.0, 440.0);
    write_wav_i16(&dir.join("mixes/b.wav"), 44_100, 2, 2.0, 330.0);
    std::fs::write(dir.join("album.yaml"), MANIFEST).unwrap();
    mkfifo(&dir.join("pipe")).then_some(dir)
}

fn mkfifo(path: &Path) -> bool {
    match Command::new("mkfifo").arg(path).status() {
        Ok(s) if s.success() => true,
        _ => {
            eprintln!("SKIP: `mkfifo` is not available");
            false
        }
    }
}

const FIFO: &str = "is a FIFO, not a regular file";
const CHAR: &str = "is a character device, not a regular file";
const DIR: &str = "is a directory, not a regular file";

#[test]
fn a_special_file_as_the_manifest_is_refused_by_name() {
    let Some(dir) = setup("inputs-manifest") else {
        return;
    };
    std::fs::create_dir_all(dir.join("folder.yaml")).unwrap();
    for cmd in ["check", "build"] {
        refused(&dir, &[cmd, "pipe"], &["pipe", FIFO]);
        refused(&dir, &[cmd, "/dev/zero"], &["/dev/zero", CHAR]);
        refused(&dir, &[cmd, "/dev/null"], &["/dev/null", CHAR]);
        refused(&dir, &[cmd, "folder.yaml"], &["folder.yaml", DIR]);
    }
    assert!(!dir.join("build").exists());
}

#[test]
fn a_special_file_as_a_track_or_the_artwork_is_refused_by_name() {
    let Some(dir) = setup("inputs-track") else {
        return;
    };
    std::fs::create_dir_all(dir.join("mixes/c.wav")).unwrap();
    for (name, file, want) in [
        ("fifo", "pipe", FIFO),
        ("zero", "/dev/zero", CHAR),
        ("null", "/dev/null", CHAR),
        ("dir", "mixes/c.wav", DIR),
    ] {
        let m = MANIFEST.replace("mixes/b.wav", file);
        std::fs::write(dir.join(format!("{name}.yaml")), &m).unwrap();
        let yaml = format!("{name}.yaml");
        // The manifest's line 8 is the second track's `file:`.
        let r = refused(&dir, &["check", &yaml], &[file, want]);
        assert!(
            r.stderr.contains(&format!("{name}.yaml:8:")),
            "{}",
            r.stderr
        );
        refused(&dir, &["build", &yaml, "-o", "out"], &[file, want]);
        assert!(!dir.join("out").exists());
        let art = MANIFEST.replace(
            "  artist: The Test Band\n",
            &format!("  artist: The Test Band\n  artwork: {file}\n"),
        );
        std::fs::write(dir.join("art.yaml"), &art).unwrap();
        let r = refused(&dir, &["check", "art.yaml"], &["artwork", file, want]);
        assert!(r.stderr.contains("art.yaml:5:"), "{}", r.stderr);
    }
}

#[test]
fn a_special_file_given_to_analyze_or_init_is_refused_by_name() {
    let Some(dir) = setup("inputs-analyze") else {
        return;
    };
    refused(&dir, &["analyze", "mixes/a.wav", "pipe"], &["pipe", FIFO]);
    refused(&dir, &["analyze", "/dev/zero"], &["/dev/zero", CHAR]);
    refused(&dir, &["analyze", "mixes"], &["mixes", DIR]);
    let r = refused(
        &dir,
        &["analyze", "--json", "/dev/null"],
        &["/dev/null", CHAR],
    );
    assert!(
        r.stdout.is_empty() || r.stdout.starts_with('{'),
        "{}",
        r.stdout
    );
    if cfg!(feature = "libcue") {
        refused(
            &dir,
            &["init", "--from-cue", "pipe", "new"],
            &["pipe", FIFO],
        );
        refused(
            &dir,
            &["init", "--from-cue", "/dev/zero", "new"],
            &["/dev/zero", CHAR],
        );
        assert!(!dir.join("new/album.yaml").exists());
    }
}

/// One track at 00:02:00 on a 300-sector disc, no CD-Text.
pub fn one_track_layout() -> DiscLayout {
    DiscLayout {
        upc: None,
        master_id: "GM-TEST".into(),
        tracks: vec![LayoutTrack {
            number: 1,
            indexes: vec![Index {
                number: 1,
                frame: 150,
            }],
            isrc: None,
            control: Control::default(),
        }],
        total_sectors: 300,
        cdtext: None,
    }
}

/// The [`one_track_layout`] fileset, written by our writer into `dir`.
pub fn fileset(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("IMAGE.DAT"), vec![0u8; 300 * 2352]).unwrap();
    write_fileset(dir, &one_track_layout(), &WriteOptions::default()).unwrap();
}

#[test]
fn a_special_file_in_a_ddp_fileset_is_refused_by_name() {
    let Some(dir) = setup("inputs-ddp") else {
        return;
    };
    let set = dir.join("ddp");
    fileset(&set);
    let run = |args: &[&str], want: &[&str]| refused(&dir, args, want);
    // IMAGE.DAT a FIFO: verify and extract refuse it (info never reads it).
    std::fs::rename(set.join("IMAGE.DAT"), dir.join("IMAGE.DAT")).unwrap();
    assert!(mkfifo(&set.join("IMAGE.DAT")));
    run(&["ddp", "verify", "ddp"], &["IMAGE.DAT", FIFO]);
    run(&["ddp", "extract", "ddp", "-o", "x"], &["IMAGE.DAT", FIFO]);
    assert!(!dir.join("x/album.wav").exists());
    std::fs::remove_file(set.join("IMAGE.DAT")).unwrap();
    std::fs::create_dir(set.join("IMAGE.DAT")).unwrap();
    run(&["ddp", "verify", "ddp"], &["IMAGE.DAT", DIR]);
    std::fs::remove_dir(set.join("IMAGE.DAT")).unwrap();
    std::fs::rename(dir.join("IMAGE.DAT"), set.join("IMAGE.DAT")).unwrap();
    // The small files: DDPID, DDPMS, PQDESCR, a checksum list.
    for name in ["DDPID", "DDPMS", "PQDESCR", "CHECKSUM.MD5"] {
        let keep = dir.join(format!("{name}.orig"));
        std::fs::rename(set.join(name), &keep).unwrap();
        assert!(mkfifo(&set.join(name)));
        for cmd in ["info", "verify"] {
            run(&["ddp", cmd, "ddp"], &[name, FIFO]);
        }
        std::fs::remove_file(set.join(name)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", set.join(name)).unwrap();
        run(&["ddp", "info", "ddp"], &[name, CHAR]);
        std::fs::remove_file(set.join(name)).unwrap();
        std::fs::rename(&keep, set.join(name)).unwrap();
    }
    let r = super::run_within(
        &dir,
        &["ddp", "verify", "ddp"],
        std::time::Duration::from_secs(5),
    );
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
}
