//! Issue 4: the demo album's CD image, DDP fileset and masters are the
//! same bytes from one build to the next, and with one worker or two.

use std::path::{Path, PathBuf};

use super::{build_ok, snapshot};
use crate::util::scratch;

/// The files a build made that must be reproducible: masters, cd/album.wav
/// and the DDP fileset (with their MD5 for the message).
fn made(out: &Path) -> Vec<(String, Vec<u8>)> {
    snapshot(out)
        .into_iter()
        .filter(|(n, _)| {
            n.starts_with("masters/") || n == "cd/album.wav" || n.starts_with("cd/ddp/")
        })
        .collect()
}

#[test]
fn the_demo_album_builds_bit_identically() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("examples/demo/album.yaml");
    let dir = scratch("build-demo");
    let m = manifest.to_str().unwrap();
    let mut builds = Vec::new();
    for (name, jobs) in [
        ("first", None),
        ("second", Some("2")),
        ("one-job", Some("1")),
    ] {
        let out = dir.join(name);
        let o = out.to_str().unwrap();
        let mut extra = vec![];
        if let Some(j) = jobs {
            extra = vec!["-j", j];
        }
        let (report, _) = build_ok(&root, m, o, &extra);
        builds.push((name, made(&out), report));
    }
    let (_, first, report) = &builds[0];
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    eprintln!("demo build: {} files compared: {names:?}", first.len());
    for want in [
        "cd/album.wav",
        "cd/ddp/IMAGE.DAT",
        "cd/ddp/PQDESCR",
        "cd/ddp/CDTEXT.BIN",
        "cd/ddp/CHECKSUM.MD5",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert_eq!(
        names.iter().filter(|n| n.starts_with("masters/")).count(),
        3
    );
    for (name, files, rep) in &builds[1..] {
        let got: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(got, names, "{name}: other files");
        for ((n, a), (_, b)) in first.iter().zip(files) {
            assert!(
                a == b,
                "{n} differs between the first build and the {name} build"
            );
        }
        // report.json's outputs (with their MD5s) are the same too.
        assert_eq!(
            rep["outputs"], report["outputs"],
            "{name}: report.json outputs"
        );
    }
    for (n, bytes) in first {
        if n == "cd/album.wav" || n.starts_with("masters/") {
            eprintln!(
                "  {n}: {} bytes, md5 {:x}, identical in all 3 builds",
                bytes.len(),
                md5::compute(bytes)
            );
        }
    }
    eprintln!(
        "demo: album {} LUFS, {} dBTP; {} CD frames",
        report["album"]["integrated_lufs"],
        report["album"]["true_peak_dbtp"],
        report["cd"]["total_frames"]
    );
}
