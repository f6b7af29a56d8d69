//! Limits that hold against what the input claims: `-j 100000` starts no
//! more threads than cores and tracks (measured in /proc while it runs),
//! DDP files whose size disagrees with DDPMS are refused before any
//! hashing (a sparse 5 GB IMAGE.DAT at once), and the manifest read is
//! capped by the bytes read, not by the size the file claims.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::refused;
use super::special::{fileset, one_track_layout};
use crate::util::{bin, scratch, write_wav_i16};

/// Runs `glassmaster ARGS` in `dir` to its end, counting the process's
/// threads every few milliseconds: (exit code, stderr, most threads seen).
fn run_counting_threads(dir: &Path, args: &[&str]) -> (Option<i32>, String, usize) {
    let mut child = Command::new(bin())
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let task = format!("/proc/{}/task", child.id());
    let t = Instant::now();
    let mut most = 0;
    let status = loop {
        if let Ok(d) = std::fs::read_dir(&task) {
            most = most.max(d.count());
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "{args:?} hangs");
        std::thread::sleep(Duration::from_millis(2));
    };
    (status.code(), err_t.join().unwrap(), most)
}

#[test]
fn jobs_are_capped_at_the_cores_and_the_tracks() {
    if !Path::new("/proc/self/task").exists() {
        eprintln!("SKIP jobs_are_capped_at_the_cores_and_the_tracks: no /proc");
        return;
    }
    let dir = scratch("inputs-jobs");
    std::fs::create_dir_all(dir.join("mixes")).unwrap();
    write_wav_i16(&dir.join("mixes/a.wav"), 48_000, 2, 40.0, 440.0);
    write_wav_i16(&dir.join("mixes/b.wav"), 48_000, 2, 8.0, 330.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // One file: one worker, whatever -j says.
    let (code, stderr, most) =
        run_counting_threads(&dir, &["analyze", "-j", "100000", "mixes/a.wav"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("note: -j 100000 reduced to 1 (1 to process)"),
        "{stderr}"
    );
    eprintln!("analyze -j 100000 (1 file): at most {most} threads");
    assert!(most <= 3, "{most} threads for one file");
    std::fs::write(
        dir.join("album.yaml"),
        "glassmaster: 1\nrelease:\n  title: T\n  artist: A\ntracks:\n  - file: mixes/a.wav\n    title: One\n  - file: mixes/b.wav\n    title: Two\n",
    )
    .unwrap();
    let cap = cores.min(2);
    let (code, stderr, most) = run_counting_threads(
        &dir,
        &[
            "build",
            "album.yaml",
            "-o",
            "out",
            "-j",
            "100000",
            "--only",
            "masters",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    // build: the cores only (a track's meters and encoders are tasks of
    // the pool, so two tracks can use more than two cores).
    assert!(
        stderr.contains(&format!("note: -j 100000 reduced to {cores} (")),
        "{stderr}"
    );
    eprintln!("build -j 100000 (2 tracks, {cores} cores): at most {most} threads");
    assert!(most <= cores + 3, "{most} threads for {cores} workers");
    let (code, stderr, _) = run_counting_threads(&dir, &["check", "album.yaml", "-j", "100000"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("note: -j 100000 reduced to {cap} (")),
        "{stderr}"
    );
    // Asking for no more than the cap says nothing.
    let (code, stderr, _) = run_counting_threads(&dir, &["analyze", "-j", "1", "mixes/b.wav"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("reduced"), "{stderr}");
}

const FIVE_GB: u64 = 5 << 30;

#[test]
fn a_sparse_five_gigabyte_image_is_refused_before_hashing() {
    let dir = scratch("inputs-sparse");
    let set = dir.join("ddp");
    fileset(&set);
    let image = std::fs::OpenOptions::new()
        .write(true)
        .open(set.join("IMAGE.DAT"))
        .unwrap();
    image.set_len(FIVE_GB).unwrap();
    drop(image);
    let r = refused(
        &dir,
        &["ddp", "verify", "ddp"],
        &[
            "image size",
            "5368709120 bytes",
            "705600 bytes",
            "not hashed",
        ],
    );
    assert!(r.took < Duration::from_secs(2), "{:?}", r.took);
    let r = refused(
        &dir,
        &["ddp", "extract", "ddp", "-o", "x"],
        &["IMAGE.DAT", "5368709120 bytes", "705600"],
    );
    assert!(r.took < Duration::from_secs(2), "{:?}", r.took);
    assert!(!dir.join("x/album.wav").exists());
    // The writer (build's own DDP step) compares before it hashes too.
    let layout_err = {
        let t = Instant::now();
        let e = glassmaster::disc::ddp::write_fileset(
            &set,
            &one_track_layout(),
            &glassmaster::disc::ddp::WriteOptions::default(),
        )
        .unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        e.to_string()
    };
    assert!(
        layout_err.contains("5368709120 bytes, expected 705600"),
        "{layout_err}"
    );
    // A small file past its cap: a sparse 5 GB PQ descriptor.
    std::fs::OpenOptions::new()
        .write(true)
        .open(set.join("PQDESCR"))
        .unwrap()
        .set_len(FIVE_GB)
        .unwrap();
    let r = refused(
        &dir,
        &["ddp", "info", "ddp"],
        &["PQDESCR", "larger than 1048576 bytes, the largest accepted"],
    );
    assert!(r.took < Duration::from_secs(2), "{:?}", r.took);
}

/// /proc/kallsyms is a regular file that claims 0 bytes and holds
/// megabytes: the manifest cap must count what it reads.
#[test]
fn the_manifest_cap_counts_bytes_read_not_the_size_claimed() {
    let p = Path::new("/proc/kallsyms");
    let claimed = std::fs::metadata(p).map(|m| (m.is_file(), m.len()));
    let mut head = Vec::new();
    let holds = std::fs::File::open(p)
        .and_then(|f| f.take(2 << 20).read_to_end(&mut head))
        .unwrap_or(0);
    if claimed.ok() != Some((true, 0)) || holds <= 1 << 20 {
        eprintln!("SKIP the_manifest_cap_counts_bytes_read: no /proc/kallsyms over 1 MiB");
        return;
    }
    let dir = scratch("inputs-cap");
    refused(
        &dir,
        &["check", "/proc/kallsyms"],
        &[
            "/proc/kallsyms",
            "larger than 1048576 bytes, the largest accepted",
        ],
    );
}
