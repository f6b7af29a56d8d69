//! Staging and the lock: what an interrupted build leaves is cleaned by
//! the next one (and said), a previous output caught between its two
//! renames is put back, and of two builds into one folder the second
//! fails at once.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{album, refused, run, tree};
use crate::build::staging_left;
use crate::util::bin;

/// Entries beside the output whose name holds "glassmaster", sorted.
fn beside(dir: &Path) -> Vec<String> {
    let mut v = staging_left(dir);
    v.sort();
    v
}

fn spawn_build(dir: &Path, out: &str) -> Child {
    Command::new(bin())
        .current_dir(dir)
        .args(["build", "album.yaml", "-o", out, "-j", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the build `child` has its staging folder beside `out`
/// holding at least one file being written (it is mid-way, holding the
/// lock); its name.
fn wait_for_staging(dir: &Path, child: &mut Child) -> String {
    let t = Instant::now();
    let want = format!(".out.glassmaster-{}", child.id());
    loop {
        let staging = dir.join(&want);
        if staging.join("masters").is_dir()
            && std::fs::read_dir(staging.join("masters"))
                .unwrap()
                .next()
                .is_some()
        {
            return want;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the build ended before it was caught mid-way"
        );
        assert!(t.elapsed() < Duration::from_secs(60), "no staging folder");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_killed_build_is_cleaned_by_the_next() {
    let dir = album("safety-kill", 40.0);
    let mut child = spawn_build(&dir, "out");
    let staging = wait_for_staging(&dir, &mut child);
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    let left = beside(&dir);
    eprintln!("left by kill -9: {left:?}");
    assert!(left.contains(&staging), "{left:?}");
    assert!(!dir.join("out").exists());

    let (code, err) = run(
        &dir,
        &["build", "album.yaml", "-o", "out", "--only", "masters"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: removed") && err.contains(&staging) && err.contains("interrupted"),
        "the cleanup was not said: {err}"
    );
    assert_eq!(beside(&dir), Vec::<String>::new());
    assert!(dir.join("out/report.json").is_file());
}

#[test]
fn two_builds_into_one_folder_cannot_both_win() {
    let dir = album("safety-two", 40.0);
    let mut first = spawn_build(&dir, "out");
    wait_for_staging(&dir, &mut first);
    let t = Instant::now();
    let (code, err) = run(
        &dir,
        &["build", "album.yaml", "-o", "out", "--only", "masters"],
    );
    let took = t.elapsed().as_secs_f64();
    refused(
        code,
        &err,
        &["out:", "another glassmaster run is writing this folder"],
    );
    assert!(took < 5.0, "the second build took {took:.1} s to fail");
    // The second build did not touch the first's staging nor its lock.
    let out = first.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("out/report.json").is_file());
    assert_eq!(beside(&dir), Vec::<String>::new());
}

#[test]
fn stale_folders_are_removed_and_nothing_else() {
    let dir = album("safety-stale", 2.0);
    let args = ["build", "album.yaml", "-o", "out", "--only", "masters"];
    let (code, err) = run(&dir, &args);
    assert_eq!(code, 0, "{err}");
    // What interrupted runs leave: a staging folder, an `.old` folder.
    for stale in [".out.glassmaster-4000001", ".out.glassmaster-4000002.old"] {
        std::fs::create_dir_all(dir.join(stale).join("masters")).unwrap();
        std::fs::write(dir.join(stale).join("masters/x.wav"), "stale").unwrap();
    }
    // Not ours: a file and a symlink under a staging name, another name.
    let victim = dir.join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("keep.txt"), "mine\n").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join(".out.glassmaster-4000003")).unwrap();
    std::fs::write(dir.join(".out.glassmaster-4000004"), "a file\n").unwrap();
    std::fs::create_dir_all(dir.join(".out.glassmaster-notes")).unwrap();
    let (code, err) = run(&dir, &[&args[..], &["--force"]].concat());
    assert_eq!(code, 0, "{err}");
    for stale in [".out.glassmaster-4000001", ".out.glassmaster-4000002.old"] {
        assert!(err.contains(stale), "not said: {stale}: {err}");
        assert!(!dir.join(stale).exists(), "{stale} is still there");
    }
    assert_eq!(
        beside(&dir),
        [
            ".out.glassmaster-4000003",
            ".out.glassmaster-4000004",
            ".out.glassmaster-notes"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(victim.join("keep.txt")).unwrap(),
        "mine\n"
    );
}

/// A build killed between moving the previous output aside and moving the
/// new one in leaves no output folder, only `.out.glassmaster-PID.old`:
/// the next run puts it back (and says so) before anything else.
#[test]
fn a_previous_output_caught_mid_replace_is_put_back() {
    let dir = album("safety-old", 2.0);
    let args = ["build", "album.yaml", "-o", "out", "--only", "masters"];
    let (code, err) = run(&dir, &args);
    assert_eq!(code, 0, "{err}");
    let built = tree(&dir.join("out"));
    std::fs::rename(dir.join("out"), dir.join(".out.glassmaster-4000005.old")).unwrap();
    let (code, err) = run(&dir, &args);
    refused(code, &err, &["put back the previous output", "--force"]);
    assert_eq!(tree(&dir.join("out")), built);
    assert_eq!(beside(&dir), Vec::<String>::new());
}
