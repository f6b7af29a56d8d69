//! Issue 10: the -1 dBTP ceiling through `glassmaster build`, read by
//! readers we did not write. Bright generated sources (white noise
//! high-passed at 12 and 15 kHz, sines at 0.45-0.47 fs, naive square
//! waves) and a real-music excerpt, pushed 4 dB over the ceiling by the
//! track's `gain_db`, are mastered at 44.1, 48 and 96 kHz into masters, the
//! CD image (CUE + WAV, shaped dither) and two FLAC bundles (at the
//! master's rate, 24 bit; a custom one at 44.1 kHz, 16 bit). Every file must read at
//! most -1.0 dB by ffmpeg's `ebur128=peak=true` and by the test's own
//! ideal reconstruction ([`crate::reconstruct`]); report.json's figures
//! for both must agree with them and raise no `track.true_peak` check.
//!
//! The sources are band-limited to 0.475 fs (an FFT brick wall), as every
//! ADC and resampler leaves them: the limiter's detector is exact to
//! 0.48 fs, and white noise that runs on to Nyquist reads up to 0.5 dB
//! higher by `sox rate -v -b 99.7` (tests/dsp/ceiling.rs keeps such noise,
//! against the test's own 0.48 fs reference).

use std::path::{Path, PathBuf};
use std::process::Command;

use rustfft::{num_complex::Complex, FftPlanner};

use super::{build_ok, num};
use crate::dsp::ceiling::{bright, real_music};
use crate::reconstruct;
use crate::util::{have_tool, scratch};

const CEILING: f64 = -1.0;

/// Writes a stereo block as a 24-bit WAV (hound).
fn write_wav24(path: &Path, rate: u32, left: &[f64], right: &[f64]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (l, r) in left.iter().zip(right) {
        for v in [l, r] {
            w.write_sample((v * 8_388_607.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

/// A PCM file's channels as f64 (WAV by hound, anything else by ffmpeg).
fn decode(path: &Path) -> [Vec<f64>; 2] {
    let v: Vec<f64> = if path.extension().is_some_and(|e| e == "wav") {
        let mut r = hound::WavReader::open(path).unwrap();
        let full = f64::from(1u32 << (r.spec().bits_per_sample - 1));
        r.samples::<i32>()
            .map(|s| f64::from(s.unwrap()) / full)
            .collect()
    } else {
        let o = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-i"])
            .arg(path)
            .args(["-f", "f64le", "-ac", "2", "-"])
            .output()
            .unwrap();
        assert!(o.status.success(), "ffmpeg decodes {}", path.display());
        o.stdout
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    [
        v.iter().step_by(2).copied().collect(),
        v.iter().skip(1).step_by(2).copied().collect(),
    ]
}

/// ffmpeg's true peak (`ebur128=peak=true`, the filter's last
/// `lavfi.r128.true_peak`, 3 decimals linear), dBFS.
fn ffmpeg_peak(path: &Path) -> f64 {
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-af",
            "ebur128=peak=true:metadata=1,ametadata=mode=print:key=lavfi.r128.true_peak:file=-",
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "ffmpeg reads {}", path.display());
    let text = String::from_utf8_lossy(&o.stdout);
    let lin: f64 = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("lavfi.r128.true_peak="))
        .and_then(|v| v.trim().parse().ok())
        .expect("lavfi.r128.true_peak in ffmpeg's output");
    20.0 * lin.log10()
}

/// `x` with everything above `frac` of the sample rate removed (FFT brick
/// wall; the edges are faded over 10 ms first so the wrap does not ring).
fn band_limit(x: &[f64], rate: f64, frac: f64) -> Vec<f64> {
    let n = x.len();
    let fade = (0.01 * rate) as usize;
    let mut buf: Vec<Complex<f64>> = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let e = (i.min(n - 1 - i) as f64 / fade as f64).min(1.0);
            Complex::new(v * e, 0.0)
        })
        .collect();
    let mut planner = FftPlanner::new();
    planner.plan_fft_forward(n).process(&mut buf);
    let cut = (frac * n as f64) as usize;
    for (k, c) in buf.iter_mut().enumerate() {
        if k.min(n - k) > cut {
            *c = Complex::new(0.0, 0.0);
        }
    }
    planner.plan_fft_inverse(n).process(&mut buf);
    buf.iter().map(|c| c.re / n as f64).collect()
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn masters_cd_and_flac_hold_the_ceiling_by_ffmpeg_and_an_ideal_reconstruction() {
    if !have_tool("ffmpeg", "ceiling") {
        return;
    }
    let kinds = ["noise-hp12k", "noise-hp15k", "near-nyquist", "square"];
    let mut worst: (f64, f64) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for rate in [44_100u32, 48_000, 96_000] {
        let dir = scratch(&format!("build-ceiling-{rate}"));
        let mixes = dir.join("mixes");
        std::fs::create_dir_all(&mixes).unwrap();
        let mut yaml = String::from(
            "glassmaster: 1
release:
  title: Bright
  artist: The Test Band
mastering:
  loudness_mode: off
  true_peak_dbtp: -1.0
  chain: []
cd:
  formats: [cue]
  dither: shaped
streaming:
  - profile: bandcamp
  - profile: custom
    name: flac-44k
    format: flac
    sample_rate: 44100
    bit_depth: 16
tracks:
",
        );
        let mut sources = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            let b = bright(kind, f64::from(rate), 4.0, 70 + i as u64);
            sources.push((kind.to_string(), b));
        }
        let real = match rate {
            44_100 => real_music("wav44", "hr3-hell.wav", 40.0, 4.0, 0.0),
            48_000 => real_music("wav48", "hr3-laboratory.wav", 20.0, 4.0, 0.0),
            _ => None,
        };
        sources.extend(real.map(|b| ("real".to_string(), b)));
        for (i, (kind, b)) in sources.iter_mut().enumerate() {
            b.left = band_limit(&b.left, f64::from(rate), 0.475);
            b.right = band_limit(&b.right, f64::from(rate), 0.475);
            // Written at a sample peak of -1 dBFS; `gain_db: 4` pushes it
            // 4 dB over before the limiters.
            let m = b
                .left
                .iter()
                .chain(&b.right)
                .fold(0.0f64, |m, v| m.max(v.abs()));
            let s = 10f64.powf(-1.0 / 20.0) / m;
            let (l, r): (Vec<f64>, Vec<f64>) = (
                b.left.iter().map(|v| v * s).collect(),
                b.right.iter().map(|v| v * s).collect(),
            );
            let file = format!("{:02}-{kind}.wav", i + 1);
            write_wav24(&mixes.join(&file), rate, &l, &r);
            yaml.push_str(&format!(
                "  - file: mixes/{file}\n    title: {kind}\n    gain_db: 4.0\n"
            ));
        }
        std::fs::write(dir.join("album.yaml"), yaml).unwrap();
        let (report, _) = build_ok(&dir, "album.yaml", "out", &[]);
        let out = dir.join("out");
        let mut files = files_under(&out, "wav");
        files.extend(files_under(&out, "flac"));
        assert!(files.len() > 3 * sources.len(), "{files:?}");
        let mut failures = Vec::new();
        for f in &files {
            let [l, r] = decode(f);
            let ideal = reconstruct::peak_db(&[&l, &r]);
            let ff = ffmpeg_peak(f);
            println!(
                "{rate:>6} Hz {:<44} ffmpeg {ff:7.3} dBTP, ideal {ideal:7.3} dBFS",
                f.strip_prefix(&out).unwrap().display()
            );
            worst = (worst.0.max(ff), worst.1.max(ideal));
            // The `flac-44k` bundle of a 48 or 96 kHz album is resampled
            // after the master's limiter and limited again at 44.1 kHz.
            if ff > CEILING || ideal > CEILING {
                failures.push(format!("{}: ffmpeg {ff:.3}, ideal {ideal:.3}", f.display()));
            }
        }
        assert!(
            failures.is_empty(),
            "over the ceiling:\n{}",
            failures.join("\n")
        );
        // report.json: both figures per master, the stricter judged.
        for t in report["tracks"].as_array().unwrap() {
            let m = &t["master"];
            let (tp, rp) = (
                num(&m["true_peak_dbtp"]),
                num(&m["reconstructed_peak_dbfs"]),
            );
            assert!(tp <= CEILING && rp <= CEILING, "report: {tp} / {rp}");
            assert!(num(&t["cd"]["reconstructed_peak_dbfs"]) <= CEILING);
        }
        let checks = report["checks"].as_array().unwrap();
        assert!(
            !checks.iter().any(|c| c["id"] == "track.true_peak"),
            "{checks:?}"
        );
    }
    println!(
        "worst: ffmpeg {:.3} dBTP, ideal reconstruction {:.3} dBFS",
        worst.0, worst.1
    );
}
