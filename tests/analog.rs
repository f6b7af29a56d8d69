//! Issue 12's vinyl and cassette premasters: the manifest's side rules
//! (every mistake at once, each at its line; side lengths against the data
//! table from stand-in probes, so no long audio is made), and builds
//! through the binary whose side files, per-track files and sheets are
//! read back with ffprobe and ffmpeg.
//!
//! Shared here: signal files written with hound, ffprobe's sample count,
//! ffmpeg's decoded samples.

mod cassette;
mod manifest;
mod vinyl;

use std::path::Path;
use std::process::Command;

/// A 24-bit stereo WAV of `secs` at `rate`: a 60 Hz bass (its right
/// channel inverted when `inverted_bass`), a 700 Hz tone and a quiet
/// 10 kHz tone, all on both channels.
pub fn write_signal(path: &Path, rate: u32, secs: f64, inverted_bass: bool) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (secs * f64::from(rate)).round() as usize;
    let tau = std::f64::consts::TAU;
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let bass = 0.3 * (tau * 60.0 * t).sin();
        let mid = 0.1 * (tau * 700.0 * t).sin() + 0.01 * (tau * 10_000.0 * t).sin();
        let (l, r) = (bass + mid, if inverted_bass { -bass } else { bass } + mid);
        for v in [l, r] {
            w.write_sample((v * 8_388_607.0).round() as i32).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Digital silence as FLAC (a few kilobytes for any length), by sox.
pub fn write_silent_flac(path: &Path, secs: f64) {
    let o = Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "2", "-b", "16"])
        .arg(path)
        .args(["trim", "0", &format!("{secs}")])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sox: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// ffprobe's first audio stream: (codec, sample rate, samples).
pub fn ffprobe(path: &Path) -> (String, u32, u64) {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .args([
            "stream=codec_name,sample_rate,duration_ts",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "ffprobe {}", path.display());
    let text = String::from_utf8_lossy(&o.stdout);
    let f: Vec<&str> = text.trim().split(',').collect();
    (
        f[0].to_owned(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
    )
}

/// Interleaved stereo samples as ffmpeg decodes them (32-bit).
pub fn ffmpeg_samples(path: &Path) -> Vec<i32> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s32le", "-ac", "2", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "ffmpeg {}", path.display());
    o.stdout
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}
