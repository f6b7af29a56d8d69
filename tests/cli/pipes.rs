//! Issue 11 point 2: a reader that closes early never makes a command
//! panic. Every command that prints is run with its stdout already closed
//! (the harshest case: the first write fails) and once through
//! `| head -c 10`; each exits 0 or is ended by SIGPIPE (141 in a shell),
//! and nothing "panicked" reaches stderr.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{bin, scratch, write_wav_i16};

/// Runs `glassmaster ARGS` in `dir` with its stdout a pipe whose reading
/// end is closed before the command writes; returns a description of how
/// it ended when that was not 0 or SIGPIPE, or "panicked" was printed.
fn closed_stdout(dir: &Path, args: &[&str]) -> Option<String> {
    let mut child = Command::new(bin())
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let fine = out.status.code() == Some(0) || out.status.signal() == Some(libc::SIGPIPE);
    (!fine || stderr.contains("panicked")).then(|| format!("{args:?}: {:?}\n{stderr}", out.status))
}

#[test]
fn every_printing_command_ends_quietly_on_a_closed_pipe() {
    let (build, _) = crate::build::demo_build();
    let build = build.to_str().unwrap();
    let ddp = Path::new(build).join("cd/ddp");
    let ddp = ddp.to_str().unwrap();
    let dir = scratch("cli-pipes");
    write_wav_i16(&dir.join("a.wav"), 44_100, 2, 2.0, 440.0);
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/album.yaml");
    let out = dir.join("plan-out");
    let out = out.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["--version"],
        vec!["analyze", "a.wav"],
        vec!["analyze", "--json", "a.wav"],
        vec!["check", demo],
        vec!["check", "--json", demo],
        vec!["verify", build],
        vec!["verify", "--json", build],
        vec!["ddp", "info", ddp],
        vec!["ddp", "info", "--json", ddp],
        vec!["ddp", "verify", ddp],
        vec!["ddp", "verify", "--json", ddp],
        vec!["profiles"],
        vec!["profiles", "--json"],
        vec!["profiles", "spotify"],
        vec!["build", demo, "-o", out, "--dry-run"],
        vec!["completions", "bash"],
        vec!["man"],
    ];
    let failures: Vec<String> = commands
        .iter()
        .filter_map(|args| closed_stdout(&dir, args))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!Path::new(out).exists(), "a dry run wrote {out}");

    // The issue's own words, through a shell: `| head -c 10`.
    let script = format!(
        "'{}' ddp info --json '{ddp}' | head -c 10 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        bin().display()
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        status == "0" || status == "141",
        "status {status}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn completions_and_man_pages_are_generated_from_the_flags() {
    let dir = scratch("cli-generate");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, stdout, stderr) = super::run(&["completions", shell], &dir);
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(
            stdout.contains("dry-run") && stdout.contains("verify"),
            "{shell}"
        );
    }
    let (code, _, _) = super::run(&["completions", "tcsh"], &dir);
    assert_eq!(code, 2, "an unknown shell is a usage error");
    let (code, page, stderr) = super::run(&["man"], &dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(page.contains(".TH glassmaster 1"), "{page}");
    for cmd in ["build", "check", "verify", "completions"] {
        assert!(
            page.contains(&format!("glassmaster\\-{cmd}")),
            "{cmd} not in the page"
        );
    }
    let (code, page, stderr) = super::run(&["man", "build"], &dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        page.contains(".TH glassmaster-build 1") || page.contains(".TH glassmaster\\-build 1"),
        "{page}"
    );
    assert!(
        page.contains("\\-\\-dry\\-run") && page.contains("\\-\\-only"),
        "{page}"
    );
    if crate::util::have_tool("man", "man page") {
        let path = dir.join("glassmaster-build.1");
        std::fs::write(&path, &page).unwrap();
        let o = Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("dry-run"), "man -l: {text}");
    }
    let (code, _, stderr) = super::run(&["man", "frobnicate"], &dir);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("frobnicate") && stderr.contains("build"),
        "{stderr}"
    );
}
