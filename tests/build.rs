//! End to end through `glassmaster build`: generated albums mastered and
//! measured by ffmpeg (issue 3), a 12-track CD checked by cdrdao, cuetools,
//! shntool, libcue, md5sum and the DDP reader (issue 4), Red Book
//! violations and failed builds that must leave nothing behind, and the
//! demo album built twice, bit for bit.
//!
//! Shared here: the music-like signal generator (`music`), running the
//! binary, reading report.json, and ffmpeg's EBU R128 meter.

mod cd;
mod ceiling;
mod ddex;
mod demo;
mod discs;
mod failures;
mod htoa;
mod lengths;
mod mastering;
pub mod music;
mod outputs;
mod partial;
mod plan;
mod repair;
mod segue;
mod streaming;
mod text;
mod timings;
mod tonal;
mod tonal_album;
mod tonal_matchering;
mod verify;
mod verify_trust;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::util::bin;

/// Runs `glassmaster ARGS` in `dir`.
pub fn gm(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// `glassmaster build MANIFEST -o OUT EXTRA...` in `dir`; panics with the
/// stderr unless it exits 0. Returns report.json and stderr.
pub fn build_ok(
    dir: &Path,
    manifest: &str,
    out: &str,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let mut args = vec!["build", manifest, "-o", out];
    args.extend_from_slice(extra);
    let t = std::time::Instant::now();
    let o = gm(dir, &args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "glassmaster {args:?}:\n{stderr}");
    eprintln!(
        "glassmaster {} took {:.1} s",
        args.join(" "),
        t.elapsed().as_secs_f64()
    );
    (report(&dir.join(out)), stderr)
}

/// The demo album (examples/demo/album.yaml) built once, everything it
/// asks for, for the tests that only read a build: its folder and
/// report.json. A test that changes files builds its own.
pub fn demo_build() -> &'static (PathBuf, serde_json::Value) {
    static DEMO: OnceLock<(PathBuf, serde_json::Value)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let manifest = root.join("examples/demo/album.yaml");
        let out = crate::util::scratch("build-demo-shared").join("out");
        let (report, stderr) = build_ok(
            &root,
            manifest.to_str().unwrap(),
            out.to_str().unwrap(),
            &[],
        );
        let _ = DEMO_STDERR.set(stderr);
        (out, report)
    })
}

static DEMO_STDERR: OnceLock<String> = OnceLock::new();

/// What the shared demo build ([`demo_build`]) printed on stderr.
pub fn demo_build_stderr() -> &'static str {
    demo_build();
    DEMO_STDERR.get().map_or("", String::as_str)
}

/// report.json of a build folder.
pub fn report(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A number from report.json.
pub fn num(v: &serde_json::Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("not a number in report.json: {v}"))
}

/// The sorted master files of a build.
pub fn masters(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out.join("masters"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// ffmpeg's EBU R128 figures of one file or of files played one after the
/// other.
#[derive(Debug, Clone, Copy)]
pub struct R128 {
    /// Integrated loudness as the summary prints it (one decimal).
    pub i_printed: f64,
    /// The same with three decimals: the last `lavfi.r128.I` the filter
    /// attaches to its frames (metadata=1).
    pub i: f64,
    /// True peak as the summary prints it, dBFS (one decimal).
    pub tp_printed: f64,
}

/// `ffmpeg -nostats -i F -af ebur128=peak=true -f null -`; several files
/// are joined with the concat filter (each resampled to 48 kHz stereo
/// first, so the filter gets one format). Callers check for ffmpeg.
pub fn ffmpeg_r128(files: &[PathBuf], scratch: &Path) -> R128 {
    let meta = scratch.join(format!("r128-{}.txt", std::process::id()));
    let meta = unique(meta);
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostats", "-hide_banner", "-nostdin"]);
    for f in files {
        cmd.arg("-i").arg(f);
    }
    let tail = format!(
        "ebur128=peak=true:metadata=1,ametadata=mode=print:key=lavfi.r128.I:file={}",
        meta.display()
    );
    if files.len() == 1 {
        cmd.args(["-af", &tail]);
    } else {
        let mut g = String::new();
        for i in 0..files.len() {
            g.push_str(&format!(
                "[{i}:a]aresample=48000,aformat=sample_fmts=dbl:channel_layouts=stereo[a{i}];"
            ));
        }
        for i in 0..files.len() {
            g.push_str(&format!("[a{i}]"));
        }
        g.push_str(&format!("concat=n={}:v=0:a=1,{tail}", files.len()));
        cmd.args(["-filter_complex", &g]);
    }
    cmd.args(["-f", "null", "-"]);
    let o = cmd.output().expect("ffmpeg runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "ffmpeg: {err}");
    let summary = err.rsplit("Summary:").next().unwrap();
    let field = |key: &str| -> f64 {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in ffmpeg's summary:\n{summary}"))
    };
    let text = std::fs::read_to_string(&meta).unwrap();
    let _ = std::fs::remove_file(&meta);
    let i = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("lavfi.r128.I="))
        .and_then(|v| v.parse().ok())
        .expect("lavfi.r128.I in ffmpeg's metadata");
    R128 {
        i_printed: field("I:"),
        i,
        tp_printed: field("Peak:"),
    }
}

/// A path that no other thread of this process uses.
fn unique(p: PathBuf) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    p.with_extension(format!("{n}.txt"))
}

/// Files (relative path → bytes) below `dir`, for before/after checks.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Entries of `dir` whose name contains "glassmaster" (staging folders).
pub fn staging_left(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("glassmaster"))
        .collect()
}
