//! NaN and infinite samples in float sources: before the fix they gave a
//! null loudness and a build that exited 0 off target. Now `check`,
//! `analyze` and the start of `build` (its measuring pass, before any
//! output) refuse them: exit 1, naming the file, the first bad sample's
//! time (mm:ss.sss) and its channel.

use std::path::Path;

use super::refused;
use super::special::MANIFEST;
use crate::util::{scratch, write_wav_i16};

/// A 32-bit float WAV of a -12 dBFS sine, `secs` long, with `bad` written
/// at frame `at` on channel `channel` (0 left, 1 right).
fn float_wav(path: &Path, rate: u32, channels: u16, secs: f64, at: usize, channel: u16, bad: f32) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * f64::from(rate)) as usize {
        let v = (std::f64::consts::TAU * 440.0 * i as f64 / f64::from(rate)).sin() * 0.25;
        for c in 0..channels {
            w.write_sample(if i == at && c == channel {
                bad
            } else {
                v as f32
            })
            .unwrap();
        }
    }
    w.finalize().unwrap();
}

#[test]
fn nan_and_infinite_samples_are_errors_naming_the_file_and_time() {
    let dir = scratch("inputs-nonfinite");
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    write_wav_i16(&mixes.join("good.wav"), 48_000, 2, 3.0, 440.0);
    // 72 345 / 48 000 = 1.507 s, right channel.
    float_wav(&mixes.join("nan.wav"), 48_000, 2, 3.0, 72_345, 1, f32::NAN);
    // 1:02.25 into a 44.1 kHz file, left channel.
    let at = 62 * 44_100 + 44_100 / 4;
    float_wav(
        &mixes.join("inf.wav"),
        44_100,
        2,
        63.0,
        at,
        0,
        f32::INFINITY,
    );
    float_wav(
        &mixes.join("ninf.wav"),
        44_100,
        1,
        1.0,
        0,
        0,
        f32::NEG_INFINITY,
    );

    refused(
        &dir,
        &["analyze", "mixes/nan.wav"],
        &["nan.wav", "00:01.507", "right channel", "NaN"],
    );
    refused(
        &dir,
        &["analyze", "mixes/inf.wav"],
        &["inf.wav", "01:02.250", "left channel", "+infinity"],
    );
    refused(
        &dir,
        &["analyze", "mixes/ninf.wav"],
        &["ninf.wav", "00:00.000", "mono", "-infinity"],
    );
    for bad in ["nan.wav", "inf.wav"] {
        let m = MANIFEST
            .replace("mixes/a.wav", "mixes/good.wav")
            .replace("mixes/b.wav", &format!("mixes/{bad}"));
        std::fs::write(dir.join("album.yaml"), m).unwrap();
        refused(
            &dir,
            &["check", "album.yaml"],
            &[bad, "must be a finite number"],
        );
        let r = refused(
            &dir,
            &["build", "album.yaml", "-o", "out"],
            &[bad, "must be a finite number"],
        );
        assert!(!dir.join("out").exists(), "{}", r.stderr);
    }
    // A float source without any is fine.
    float_wav(&mixes.join("fine.wav"), 48_000, 2, 1.0, 0, 0, 0.0);
    let r = super::run_within(
        &dir,
        &["analyze", "mixes/fine.wav"],
        std::time::Duration::from_secs(10),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}
