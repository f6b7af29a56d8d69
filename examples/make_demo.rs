//! Synthesises the demo album's mixes in `examples/demo/mixes/`:
//! `cargo run --example make_demo [-- OUT_DIR]`.
//!
//! Three short pieces, made deterministically from a fixed seed (no clock,
//! no input), in three source formats so that the demo exercises the
//! decoder: a mono 16-bit 44.1 kHz WAV, a stereo 24-bit 48 kHz FLAC and a
//! stereo 16-bit 44.1 kHz FLAC. The output is GPL-3.0-or-later like the
//! rest of the project.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};

use flacenc::component::BitRepr;
use flacenc::error::Verify;

/// A small deterministic generator (xorshift64*), so that the noise in the
/// drums is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

fn midi(note: f64) -> f64 {
    440.0 * 2f64.powf((note - 69.0) / 12.0)
}

/// An attack-decay envelope: `a` seconds up, then exponential decay.
fn env(t: f64, a: f64, decay: f64) -> f64 {
    if t < 0.0 {
        0.0
    } else if t < a {
        t / a
    } else {
        (-(t - a) / decay).exp()
    }
}

/// A soft saw-like tone: the first six harmonics of `f`.
fn tone(f: f64, t: f64) -> f64 {
    (1..=6)
        .map(|h| (TAU * f * h as f64 * t).sin() / h as f64)
        .sum::<f64>()
        * 0.5
}

/// "Intro": a slow A-minor pad swelling in, mono.
fn intro(rate: f64, secs: f64) -> Vec<[f64; 2]> {
    let n = (rate * secs) as usize;
    let notes = [57.0, 60.0, 64.0, 69.0];
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let swell = (t / 2.0).min(1.0) * (1.0 - ((t - secs + 0.8) / 0.8).clamp(0.0, 1.0));
            let v: f64 = notes
                .iter()
                .enumerate()
                .map(|(k, m)| tone(midi(*m) * (1.0 + 0.0015 * k as f64), t))
                .sum::<f64>()
                * 0.12
                * swell;
            [v, v]
        })
        .collect()
}

/// "Night Drive": bass, chord stabs, kick and hats at 120 bpm, stereo.
fn night_drive(rate: f64, secs: f64, rng: &mut Rng) -> Vec<[f64; 2]> {
    let n = (rate * secs) as usize;
    let beat = 0.5;
    let bass = [45.0, 45.0, 48.0, 43.0];
    let chords = [
        [57.0, 60.0, 64.0],
        [57.0, 60.0, 64.0],
        [60.0, 64.0, 67.0],
        [55.0, 59.0, 62.0],
    ];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / rate;
        let bar = ((t / (4.0 * beat)) as usize) % 4;
        let tb = t % beat;
        let kick_f = 50.0 + 90.0 * (-tb / 0.03).exp();
        let kick = (TAU * kick_f * tb).sin() * env(tb, 0.002, 0.12) * 0.55;
        let th = (t + beat / 2.0) % beat;
        let hat = rng.next() * env(th, 0.001, 0.025) * 0.12;
        let b = tone(midi(bass[bar]), t) * 0.22 * env(tb, 0.01, 0.35);
        let ts = t % (2.0 * beat);
        let stab: f64 = chords[bar].iter().map(|m| tone(midi(*m), t)).sum::<f64>()
            * 0.09
            * env(ts - beat, 0.005, 0.25);
        let l = kick + b + stab * 1.2 + hat * 0.6;
        let r = kick + b + stab * 0.8 + hat * 1.4;
        out.push([l, r]);
    }
    out
}

/// "Outro": a decaying arpeggio that picks up where Night Drive stops.
fn outro(rate: f64, secs: f64) -> Vec<[f64; 2]> {
    let n = (rate * secs) as usize;
    let seq = [69.0, 72.0, 76.0, 81.0, 76.0, 72.0];
    let step = 0.25;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let k = (t / step) as usize;
            let ts = t - k as f64 * step;
            let f = midi(seq[k % seq.len()]);
            let fade = (1.0 - t / secs).max(0.0);
            let v = tone(f, t) * env(ts, 0.003, 0.3) * 0.6 * fade;
            let pan = if k.is_multiple_of(2) { 0.35 } else { 0.65 };
            [v * (1.0 - pan) * 1.4, v * pan * 1.4]
        })
        .collect()
}

/// Rounds to `bits`-bit integers (the demo's sources are plain mixes: no
/// dither, so the files are identical on every run).
fn quantise(frames: &[[f64; 2]], bits: u32, channels: usize) -> Vec<i32> {
    let full = f64::from(1u32 << (bits - 1));
    frames
        .iter()
        .flat_map(|f| f[..channels].to_vec())
        .map(|v| (v * full).round().clamp(-full, full - 1.0) as i32)
        .collect()
}

fn write_wav(path: &Path, frames: &[[f64; 2]], rate: u32, channels: u16) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for s in quantise(frames, 16, channels as usize) {
        w.write_sample(s as i16).expect("write wav");
    }
    w.finalize().expect("finish wav");
}

fn write_flac(path: &Path, frames: &[[f64; 2]], rate: u32, bits: u32) {
    let samples = quantise(frames, bits, 2);
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .expect("flac config");
    let source =
        flacenc::source::MemSource::from_samples(&samples, 2, bits as usize, rate as usize);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .expect("flac encode");
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).expect("flac write");
    let mut bytes = sink.as_slice().to_vec();
    // STREAMINFO's minimum block size excludes the last block (FLAC
    // format, 8.2); flacenc counts it, which symphonia refuses.
    bytes[8..10].copy_from_slice(&(config.block_size as u16).to_be_bytes());
    std::fs::write(path, bytes).expect("write flac");
}

#[allow(dead_code)] // the tests include this file for `write_demo` only
fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/mixes"))
        });
    write_demo(&out);
    println!("demo mixes written to {}", out.display());
}

/// The cover: 3000x3000 flat shapes (a moon over a road at night), as a
/// PNG; flat colours keep it small.
fn write_cover(path: &Path) {
    let size = 3000u32;
    let img = image::RgbImage::from_fn(size, size, |x, y| {
        let (fx, fy) = (x as f64 / size as f64, y as f64 / size as f64);
        let moon = ((fx - 0.72).powi(2) + (fy - 0.25).powi(2)).sqrt() < 0.09;
        let horizon = fy > 0.62;
        let half_road = (fy - 0.62) * 0.9;
        let road = horizon && (fx - 0.5).abs() < half_road;
        let stripe =
            road && (fx - 0.5).abs() < half_road * 0.04 && ((fy * 40.0) as u32).is_multiple_of(2);
        if moon {
            image::Rgb([236, 230, 200])
        } else if stripe {
            image::Rgb([240, 200, 60])
        } else if road {
            image::Rgb([40, 40, 52])
        } else if horizon {
            image::Rgb([16, 24, 40])
        } else {
            image::Rgb([20, 30, 80])
        }
    });
    img.save(path).expect("write cover.png");
}

/// Writes the three demo mixes into `out` and the cover into `out/../art`.
pub fn write_demo(out: &Path) {
    let art = out.parent().unwrap_or(out).join("art");
    std::fs::create_dir_all(&art).expect("create art folder");
    write_cover(&art.join("cover.png"));
    std::fs::create_dir_all(out).expect("create output folder");
    let mut rng = Rng(0x676c_6173_736d_6173);
    write_wav(&out.join("01 Intro.wav"), &intro(44_100.0, 4.6), 44_100, 1);
    write_flac(
        &out.join("02 Night Drive.flac"),
        &night_drive(48_000.0, 6.0, &mut rng),
        48_000,
        24,
    );
    write_flac(
        &out.join("03 Outro.flac"),
        &outro(44_100.0, 5.0),
        44_100,
        16,
    );
}
