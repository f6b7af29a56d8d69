//! `ddp extract` and `init`: a fileset `ddp verify` rejects is refused
//! before anything is written (a previous extraction kept whole), the
//! output is staged and replaced only when ours, and a symlink planted at
//! a temporary or output path is never written through.

use std::os::unix::fs::symlink;
use std::path::Path;

use glassmaster::disc::ddp::DdpFileset;

use super::{refused, run, tree};
use crate::util::{scratch, write_wav_i16};

/// A copy of the test album's fileset with one byte of IMAGE.DAT flipped.
fn broken_copy(ddp: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(ddp).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    let mut image = std::fs::read(to.join("IMAGE.DAT")).unwrap();
    image[1_000_000] ^= 0x01;
    std::fs::write(to.join("IMAGE.DAT"), image).unwrap();
}

#[test]
fn ddp_extract_refuses_a_broken_fileset_and_keeps_the_last_extraction() {
    let (dir, _, _) = crate::disc::authored("safety-extract");
    let ddp = dir.join("ddp");
    let good = ddp.to_str().unwrap();
    let (code, err) = run(&dir, &["ddp", "extract", good, "-o", "x"]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("x/album.wav").is_file() && dir.join("x/album.cue").is_file());
    broken_copy(&ddp, &dir.join("broken"));
    let before = tree(&dir);

    // --force over the last extraction: refused before writing, kept whole.
    let (code, err) = run(&dir, &["ddp", "extract", "broken", "-o", "x", "--force"]);
    refused(
        code,
        &err,
        &[
            "broken",
            "IMAGE.DAT",
            "fails `ddp verify`",
            "nothing was written",
        ],
    );
    assert_eq!(tree(&dir), before, "the last extraction changed");
    // Into a new folder: nothing made.
    let (code, err) = run(&dir, &["ddp", "extract", "broken", "-o", "new/y"]);
    refused(code, &err, &["fails `ddp verify`"]);
    assert!(!dir.join("new").exists());
    // Into the fileset itself, or a folder holding it: refused.
    for target in ["ddp", "."] {
        let (code, err) = run(&dir, &["ddp", "extract", "ddp", "-o", target, "--force"]);
        refused(code, &err, &["refusing", "an input"]);
    }
    // Into a folder of the user's: refused even with --force.
    std::fs::create_dir_all(dir.join("mine")).unwrap();
    std::fs::write(dir.join("mine/album.wav"), "my own take\n").unwrap();
    let before = tree(&dir);
    let (code, err) = run(&dir, &["ddp", "extract", "ddp", "-o", "mine", "--force"]);
    refused(code, &err, &["mine:", "did not write it"]);
    assert_eq!(tree(&dir), before);
    // A good fileset replaces our own extraction with --force.
    let (code, err) = run(&dir, &["ddp", "extract", "ddp", "-o", "x", "--force"]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(&dir, &["ddp", "extract", "ddp", "-o", "x"]);
    refused(code, &err, &["x: the output folder exists", "--force"]);
}

#[test]
fn ddp_extract_never_writes_through_a_planted_part_file() {
    let (dir, _, _) = crate::disc::authored("safety-extract-link");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    symlink(&victim, out.join("album.wav.part")).unwrap();
    symlink(&victim, out.join("album.cue.part")).unwrap();
    let before = tree(&dir);
    for extra in [&[][..], &["--force"][..]] {
        let mut args = vec!["ddp", "extract", "ddp", "-o", "out"];
        args.extend_from_slice(extra);
        let (code, err) = run(&dir, &args);
        refused(code, &err, &["out:"]);
        assert_eq!(tree(&dir), before);
    }
    // The library call into that folder refuses too (the .part is new or
    // nothing), and the file the link points at is unchanged.
    let set = DdpFileset::open(dir.join("ddp")).unwrap();
    let e = set.extract(&out).unwrap_err().to_string();
    assert!(e.contains("album.wav.part"), "{e}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(tree(&dir), before);
}

#[test]
fn init_never_writes_through_a_planted_symlink() {
    let dir = scratch("safety-init");
    write_wav_i16(&dir.join("01 One.wav"), 44_100, 2, 1.0, 440.0);
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    // The old temporary name, planted: passed over.
    symlink(&victim, dir.join("album.yaml.tmp")).unwrap();
    let (code, err) = run(&dir, &["init"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(dir.join("album.yaml")).unwrap();
    assert!(meta.is_file(), "album.yaml is not a plain file");
    let ours = std::fs::read_to_string(dir.join("album.yaml")).unwrap();

    // album.yaml itself a link: refused, with and without --force.
    std::fs::remove_file(dir.join("album.yaml")).unwrap();
    symlink(&victim, dir.join("album.yaml")).unwrap();
    let before = tree(&dir);
    for args in [&["init"][..], &["init", "--force"][..]] {
        let (code, err) = run(&dir, args);
        refused(code, &err, &["album.yaml", "symbolic link"]);
        assert_eq!(tree(&dir), before);
    }
    // A manifest the user wrote: --force does not replace it.
    std::fs::remove_file(dir.join("album.yaml")).unwrap();
    std::fs::write(dir.join("album.yaml"), "glassmaster: 1\n# mine\n").unwrap();
    let before = tree(&dir);
    let (code, err) = run(&dir, &["init", "--force"]);
    refused(
        code,
        &err,
        &["album.yaml", "was not written by glassmaster"],
    );
    assert_eq!(tree(&dir), before);
    // init's own: replaced with --force, and no temporary file left.
    std::fs::write(dir.join("album.yaml"), &ours).unwrap();
    let (code, err) = run(&dir, &["init", "--force"]);
    assert_eq!(code, 0, "{err}");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") && n != "album.yaml.tmp")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[cfg(feature = "libcue")]
#[test]
fn init_from_cue_never_writes_through_a_planted_symlink() {
    let dir = scratch("safety-init-cue");
    write_wav_i16(&dir.join("image.wav"), 44_100, 2, 4.0, 440.0);
    let sheet = "TITLE \"T\"\nFILE \"image.wav\" WAVE\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n";
    std::fs::write(dir.join("image.cue"), sheet).unwrap();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    symlink(&victim, dir.join("album.yaml.tmp")).unwrap();
    let (code, err) = run(&dir, &["init", "--from-cue", "image.cue"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(std::fs::symlink_metadata(dir.join("album.yaml"))
        .unwrap()
        .is_file());
    // The CUE sheet as the manifest to write: refused, the sheet kept.
    std::fs::rename(dir.join("image.cue"), dir.join("album.yaml")).unwrap();
    let before = tree(&dir);
    let (code, err) = run(&dir, &["init", "--from-cue", "album.yaml", "--force"]);
    refused(code, &err, &["album.yaml", "an input"]);
    assert_eq!(tree(&dir), before);
}
