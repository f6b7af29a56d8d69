//! Inputs that are not what they claim (issue 10): a FIFO, a device or a
//! folder where a file should be (`inputs/special.rs`), NaN and infinite
//! samples (`inputs/nonfinite.rs`), `-j` past the cores and the work and
//! DDP files whose size disagrees with DDPMS (`inputs/limits.rs`). Every
//! case must end within 5 s with exit 1 and a message naming the file.

mod limits;
mod nonfinite;
mod special;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::bin;

/// What a run of the binary gave.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// Runs `glassmaster ARGS` in `dir`, killing it past `limit` (and then
/// failing the test: a hang is the defect these tests look for).
pub fn run_within(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let t = Instant::now();
    let mut child = Command::new(bin())
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes on threads so that a chatty child cannot block.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("glassmaster {args:?} still running after {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = t.elapsed();
    let r = Run {
        code: status.code(),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        took,
    };
    assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
    r
}

/// [`run_within`] 5 s, expecting exit 1 and every one of `want` in
/// stderr (or stdout).
pub fn refused(dir: &Path, args: &[&str], want: &[&str]) -> Run {
    let r = run_within(dir, args, Duration::from_secs(5));
    assert_eq!(
        r.code,
        Some(1),
        "{args:?}: exit {:?}\n{}{}",
        r.code,
        r.stdout,
        r.stderr
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    for w in want {
        assert!(all.contains(w), "{args:?}: no {w:?} in\n{all}");
    }
    eprintln!("{args:?}: exit 1 in {:?}: {}", r.took, r.stderr.trim());
    r
}
