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

/// Digital silence as a 16-bit mono 44.1 kHz WAV of `secs`, made at once:
/// the header, then the file extended with zeros (sparse where the file
/// system allows), so a 26-minute source costs no time.
pub fn write_silent_wav(path: &Path, secs: f64) {
    let data = (secs * 44_100.0).round() as u32 * 2;
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    for v in [1u16, 1] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&44_100u32.to_le_bytes());
    h.extend_from_slice(&88_200u32.to_le_bytes());
    for v in [2u16, 16] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    std::fs::write(path, &h).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(44 + u64::from(data)).unwrap();
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
