//! The repair stages end to end through `glassmaster build`: a 20 s
//! real-music excerpt (at -6 dB, so the final limiter stays idle) with 50 Hz
//! hum and five harmonics at -40 dBFS and white hiss at -50 dBFS, mastered
//! with `loudness_mode: off` and the chain `dehum: { freq_hz: auto }`,
//! `denoise`. The master (24-bit WAV, read back by scipy) is as long as the
//! source and lines up with it to the sample (the denoiser's latency is
//! hidden), `auto` found 50 Hz (every line at least 30 dB down, measured by
//! numpy, as what is left at each line in the master) and the lead-in of
//! hum and hiss alone comes out more than 15 dB quieter. A 2 s lead-in of digital
//! silence (hum and hiss alone in the source) is the passage the noise
//! profile is learned from.

use std::path::PathBuf;
use std::process::Command;

use super::build_ok;
use super::masters;
use super::tonal::{read_wav, write_wav24};
use crate::dsp::ceiling::real_music;
use crate::util::{have_python, have_tool, scratch};

fn measure(args: &[&str]) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dsp/repair_measure.py");
    let o = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn build_dehums_and_denoises_and_keeps_the_master_aligned() {
    if !have_tool("python3", "repair build")
        || !have_python("numpy, scipy.io.wavfile", "repair build")
    {
        return;
    }
    let Some(b) = real_music("wav48", "hr3-desert.wav", 60.0, 20.0, -6.0) else {
        return;
    };
    let rate = 48_000u32;
    // Two seconds of digital silence first, where hum and hiss show alone
    // (the quietest passage the noise profile is learned from).
    let lead = 2 * rate as usize;
    let clean = [
        [vec![0.0; lead], b.left].concat(),
        [vec![0.0; lead], b.right].concat(),
    ];
    let mut damaged = clean.clone();
    let mut s = 99u64;
    for ch in damaged.iter_mut() {
        for (i, v) in ch.iter_mut().enumerate() {
            let t = i as f64 / f64::from(rate);
            let hum: f64 = (1..=6)
                .map(|k| 0.01 * (std::f64::consts::TAU * 50.0 * k as f64 * t + k as f64).sin())
                .sum();
            // Uniform white noise at -50 dBFS RMS (sqrt 3 × the RMS wide).
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
            *v += hum + u * 0.003_162 * 3f64.sqrt();
        }
    }
    let dir = scratch("repair-build");
    write_wav24(&dir.join("clean.wav"), rate, &[&clean[0], &clean[1]]);
    write_wav24(&dir.join("hum.wav"), rate, &[&damaged[0], &damaged[1]]);
    // The hum left is read off the master itself (against silence).
    let zeros = vec![0.0; clean[0].len()];
    write_wav24(&dir.join("zeros.wav"), rate, &[&zeros, &zeros]);
    std::fs::write(
        dir.join("album.yaml"),
        "glassmaster: 1\nrelease: { title: Repair, artist: Test }\nmastering:\n  loudness_mode: off\n  chain:\n    - dehum: { freq_hz: auto }\n    - denoise: { reduction_db: 18 }\ntracks:\n  - { file: hum.wav, title: One }\n",
    )
    .unwrap();
    build_ok(&dir, "album.yaml", "out", &["--only", "masters"]);
    let m = masters(&dir.join("out"));
    let master = read_wav(&m[0]);
    assert_eq!(master[0].len(), clean[0].len(), "the master's length");
    let (c, d, o) = (
        dir.join("clean.wav"),
        dir.join("hum.wav"),
        m[0].to_str().unwrap().to_owned(),
    );
    let (c, d) = (c.to_str().unwrap(), d.to_str().unwrap());
    let z = dir.join("zeros.wav");
    let hum = measure(&["hum", c, d, &o, "50", "5", "20", "3.0", z.to_str().unwrap()]);
    let snr = measure(&["snr", c, d, &o, "2.0"]);
    let lines: Vec<f64> = hum["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reduction_db"].as_f64().unwrap())
        .collect();
    // The lead-in holds hum and hiss alone: its level in the master against
    // the source's, from 0.5 s (the notches settled) to 1.8 s (before the
    // music's first frame).
    let source = read_wav(&dir.join("hum.wav"));
    let level = |x: &[Vec<f64>; 2]| {
        let (a, b) = (rate as usize / 2, rate as usize * 18 / 10);
        let e: f64 = x
            .iter()
            .map(|c| c[a..b].iter().map(|v| v * v).sum::<f64>())
            .sum();
        10.0 * (e / (2 * (b - a)) as f64).log10()
    };
    let (before, after) = (level(&source), level(&master));
    println!(
        "build with dehum auto + denoise: lines down {lines:.1?} dB; lead-in (hum + hiss) {before:.1} -> {after:.1} dBFS; lag {}; SNR vs clean {:.2} -> {:.2} dB (the notches' phase shift counts)",
        snr["lag"],
        snr["before_db"].as_f64().unwrap(),
        snr["after_db"].as_f64().unwrap()
    );
    assert_eq!(snr["lag"].as_i64(), Some(0), "the master is shifted");
    assert!(lines.iter().all(|&r| r >= 30.0), "{lines:?}");
    // Hum gone, hiss down by the 18 dB floor (or close to it).
    assert!(
        after < -65.0 && before - after > 15.0,
        "{before} -> {after}"
    );
}

/// `declip` end to end: 10 s of hr3-laboratory (at -6 dB, so the final
/// limiter stays idle) hard-clipped 6 dB under its own peak and written
/// as a 24-bit WAV, mastered with `loudness_mode: off` and the chain
/// `declip: { threshold: auto }`. The master is the stage's own output on
/// the file's samples (tests/dsp/declip.rs's path, levels learned as the
/// learning pass learns them) but for the master's 24-bit rounding, as
/// long as the source, aligned to it (numpy's cross-correlation), keeps
/// every sample under the clip level, and is closer to the unclipped
/// excerpt than the clipped file by at least 6 dB of error energy.
#[test]
fn build_declips_as_the_stage_does_and_keeps_the_master_aligned() {
    if !have_tool("python3", "declip build")
        || !have_python("numpy, scipy.io.wavfile", "declip build")
    {
        return;
    }
    let Some(b) = real_music("wav48", "hr3-laboratory.wav", 30.0, 10.0, -6.0) else {
        return;
    };
    let rate = 48_000u32;
    let dir = scratch("declip-build");
    write_wav24(&dir.join("clean.wav"), rate, &[&b.left, &b.right]);
    let clean = read_wav(&dir.join("clean.wav"));
    let peak = clean.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let level = peak * 10f64.powf(-6.0 / 20.0);
    let clipped: Vec<Vec<f64>> = clean
        .iter()
        .map(|c| c.iter().map(|v| v.clamp(-level, level)).collect())
        .collect();
    write_wav24(&dir.join("clipped.wav"), rate, &[&clipped[0], &clipped[1]]);
    // The stage on exactly the samples the build reads.
    let src = read_wav(&dir.join("clipped.wav"));
    let direct = crate::dsp::declip::declip(
        rate,
        &glassmaster::audio::Block {
            left: src[0].clone(),
            right: src[1].clone(),
        },
    );
    std::fs::write(
        dir.join("album.yaml"),
        "glassmaster: 1\nrelease: { title: Declip, artist: Test }\nmastering:\n  loudness_mode: off\n  chain:\n    - declip: { threshold: auto }\ntracks:\n  - { file: clipped.wav, title: One }\n",
    )
    .unwrap();
    build_ok(&dir, "album.yaml", "out", &["--only", "masters"]);
    let m = masters(&dir.join("out"));
    let master = read_wav(&m[0]);
    assert_eq!(master[0].len(), src[0].len(), "the master's length");
    let lsb = 1.0 / f64::from(1u32 << 23);
    let (mut worst, mut rebuilt, mut under) = (0.0f64, 0usize, 0.0f64);
    for (c, d) in [&direct.left, &direct.right].into_iter().enumerate() {
        for ((o, d), s) in master[c].iter().zip(d).zip(&src[c]) {
            worst = worst.max((o - d).abs());
            if s.abs() < level - 2.0 * lsb {
                under = under.max((o - s).abs());
            } else if (o - s).abs() > lsb {
                rebuilt += 1;
            }
        }
    }
    let r = measure(&[
        "declip",
        dir.join("clean.wav").to_str().unwrap(),
        dir.join("clipped.wav").to_str().unwrap(),
        m[0].to_str().unwrap(),
    ]);
    let out = &r["outs"][0];
    println!(
        "build with declip auto: {:.2} % of samples clipped, {rebuilt} rebuilt; error {:.2} dB lower; master against the stage alone at most {:.1} LSB, samples under the level at most {:.1} LSB off; lag {}",
        100.0 * r["clipped_fraction"].as_f64().unwrap(),
        out["reduction_db"].as_f64().unwrap(),
        worst / lsb,
        under / lsb,
        out["lag"]
    );
    assert_eq!(out["lag"].as_i64(), Some(0), "the master is shifted");
    assert!(rebuilt > 1000, "only {rebuilt} samples rebuilt");
    assert!(
        worst <= 2.0 * lsb,
        "the master is not the stage's output: {worst}"
    );
    assert!(
        under <= 2.0 * lsb,
        "a sample under the clip level moved: {under}"
    );
    assert!(out["reduction_db"].as_f64().unwrap() >= 6.0, "{r}");
}
