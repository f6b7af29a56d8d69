//! A bounded fuzz of the CUE readers: our own (`disc::cue::read`, which
//! `verify` uses), libcue through `disc::libcue::parse` (feature
//! `libcue`), and `glassmaster init --from-cue` end to end. Valid sheets
//! (the golden 12-track album.cue and the cue2ddp extractions) are
//! mutated by `util::Mutator`; no case may panic, and every refusal is an
//! error with a message (the command line's names the sheet).

use std::path::Path;
use std::process::Command;

use crate::util::{bin, no_panic, scratch, write_wav_i16, Mutator};

/// In-process cases; every [`CLI_EVERY`]th also runs `init --from-cue`.
const CASES: usize = 3000;
const CLI_EVERY: usize = 30;

fn sheets() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v = vec![std::fs::read(root.join("disc/album.cue")).unwrap()];
    let mut names: Vec<_> = std::fs::read_dir(root.join("ddp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cue"))
        .collect();
    names.sort();
    v.extend(names.iter().map(|p| std::fs::read(p).unwrap()));
    v
}

#[test]
fn mutated_cue_sheets_are_clean_errors_never_panics() {
    let dir = scratch("cue-fuzz");
    // Every base sheet plays "album.wav"; 20 s is enough for their indexes
    // to fall inside or past it.
    write_wav_i16(&dir.join("album.wav"), 44_100, 2, 20.0, 440.0);
    let valid = sheets();
    let others: Vec<&[u8]> = valid.iter().map(Vec::as_slice).collect();
    let mut fuzz = Mutator::new(0xC0E5_4EE7_0000_0001, b" \"\r\n:0123456789AFIKNRTX\\\t\xe9");
    let _quiet = libcue_quiet();
    for case in 0..CASES {
        let base = &valid[case % valid.len()];
        let bytes = fuzz.mutate(base, &others);
        let what = || format!("case {case}: {:?}", String::from_utf8_lossy(&bytes));
        no_panic(what, || {
            if let Err(e) = glassmaster::disc::cue::read(&bytes) {
                assert!(e.starts_with("line "), "{e}");
            }
            #[cfg(feature = "libcue")]
            {
                let text: String = bytes.iter().map(|&b| char::from(b)).collect();
                if let Err(e) = glassmaster::disc::libcue::parse(&text) {
                    assert!(!e.is_empty());
                }
            }
        });
        if case.is_multiple_of(CLI_EVERY) {
            from_cue(&dir, &bytes);
        }
    }
}

/// `init --from-cue` on `sheet`: exit 0 or 1, never a panic; an error
/// names the sheet; a manifest written is one `check` reads (exit 0 or 1,
/// never a panic).
fn from_cue(dir: &Path, sheet: &[u8]) {
    std::fs::write(dir.join("image.cue"), sheet).unwrap();
    let _ = std::fs::remove_file(dir.join("album.yaml"));
    let o = Command::new(bin())
        .current_dir(dir)
        .args(["init", "--from-cue", "image.cue", "--force"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let shown = String::from_utf8_lossy(sheet);
    assert!(
        matches!(o.status.code(), Some(0 | 1)) && !stderr.contains("panicked"),
        "init --from-cue: {:?} {stderr}\n{shown}",
        o.status.code()
    );
    if o.status.code() == Some(1) {
        assert!(
            stderr.contains("image.cue") || stderr.contains("libcue"),
            "{stderr}"
        );
        return;
    }
    if !dir.join("album.yaml").exists() {
        return;
    }
    let c = Command::new(bin())
        .current_dir(dir)
        .args(["check", "album.yaml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&c.stderr);
    assert!(
        matches!(c.status.code(), Some(0 | 1)) && !stderr.contains("panicked"),
        "check of the imported manifest: {:?} {stderr}\n{shown}\n{}",
        c.status.code(),
        std::fs::read_to_string(dir.join("album.yaml")).unwrap_or_default()
    );
}

/// libcue prints each refusal on the process's stderr (its parser's
/// `yyerror`), which the test harness cannot capture: thousands of lines.
/// While the guard lives, file descriptor 2 goes to /dev/null.
fn libcue_quiet() -> Option<impl Drop> {
    struct Restore(i32);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: self.0 is the duplicate of fd 2 made below.
            unsafe {
                libc::dup2(self.0, 2);
                libc::close(self.0);
            }
        }
    }
    if !cfg!(feature = "libcue") {
        return None;
    }
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .ok()?;
    use std::os::fd::AsRawFd;
    // SAFETY: plain descriptor calls on descriptors this process owns.
    unsafe {
        let saved = libc::dup(2);
        if saved < 0 {
            return None;
        }
        libc::dup2(null.as_raw_fd(), 2);
        Some(Restore(saved))
    }
}
