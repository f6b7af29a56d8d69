//! Shared test helpers.

use std::path::PathBuf;
use std::process::Command;

/// Path of the built `glassmaster` binary.
#[allow(dead_code)]
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_glassmaster"))
}

/// True when `tool` runs on this machine; prints a skip message when not.
#[allow(dead_code)]
pub fn have_tool(tool: &str, test: &str) -> bool {
    let ok = Command::new(tool)
        .arg("-version")
        .output()
        .or_else(|_| Command::new(tool).arg("--version").output())
        .is_ok();
    if !ok {
        eprintln!("SKIP {test}: `{tool}` is not installed");
    }
    ok
}

/// A fresh scratch folder under target/ for one test.
#[allow(dead_code)]
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
