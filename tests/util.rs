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

/// Writes a 16-bit PCM WAV of a sine at -12 dBFS (the same on every
/// channel), `secs` long.
#[allow(dead_code)]
pub fn write_wav_i16(path: &std::path::Path, rate: u32, channels: u16, secs: f64, freq: f64) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (secs * f64::from(rate)) as usize;
    for i in 0..n {
        let v = (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin() * 0.25;
        let s = (v * 32767.0).round() as i16;
        for _ in 0..channels {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
}
