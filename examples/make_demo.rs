//! Synthesises the demo album's mixes in `examples/demo/mixes/`:
//! `cargo run --example make_demo [-- OUT_DIR]`.
//!
//! Three short pieces by one synthesised band (drums, bass, pad, a lead
//! tune with an echo, an arpeggio; A minor, 120 bpm), made
//! deterministically from a fixed seed (no clock, no input), as 16-bit
//! 48 kHz mixes in two containers (a mono WAV, two stereo FLACs), so that
//! the CD is resampled and the decoder exercised. The pieces share their
//! format, balance and loudness, so that the demo passes `check --strict`
//! (the failing albums are generated in tests/cli.rs and tests/report.rs).
//! The output is GPL-3.0-or-later like the rest of the project.

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

/// A band-limited saw: the harmonics of `f` below 8 kHz (24 at most),
/// each 1/h.
fn saw(f: f64, t: f64) -> f64 {
    let top = (8_000.0 / f).floor().clamp(1.0, 24.0) as usize;
    (1..=top)
        .map(|h| (TAU * f * h as f64 * t).sin() / h as f64)
        .sum::<f64>()
        * 0.5
}

/// A one-pole low-pass filter.
struct OnePole {
    a: f64,
    y: f64,
}

impl OnePole {
    fn new(cut_hz: f64, rate: f64) -> OnePole {
        OnePole {
            a: 1.0 - (-TAU * cut_hz / rate).exp(),
            y: 0.0,
        }
    }
    fn run(&mut self, x: f64) -> f64 {
        self.y += self.a * (x - self.y);
        self.y
    }
}

/// How loud each part of the band plays in one piece (0 = silent).
struct Parts {
    drums: f64,
    bass: f64,
    pad: f64,
    lead: f64,
    arp: f64,
    /// Fade in and out, seconds.
    fade_in: f64,
    fade_out: f64,
}

/// A-minor, Am–F–C–G, one chord a bar.
const ROOTS: [f64; 4] = [45.0, 41.0, 48.0, 43.0];
const CHORDS: [[f64; 3]; 4] = [
    [57.0, 60.0, 64.0],
    [53.0, 57.0, 60.0],
    [55.0, 60.0, 64.0],
    [55.0, 59.0, 62.0],
];
/// The lead's tune, one note an eighth (0: rest), over four bars.
const TUNE: [f64; 32] = [
    76.0, 0.0, 74.0, 72.0, 69.0, 0.0, 72.0, 0.0, //
    72.0, 0.0, 69.0, 67.0, 65.0, 0.0, 64.0, 0.0, //
    67.0, 0.0, 72.0, 0.0, 76.0, 74.0, 72.0, 0.0, //
    74.0, 0.0, 71.0, 67.0, 74.0, 0.0, 0.0, 0.0,
];

/// One piece by the demo's band at 120 bpm: kick, snare and hats, an
/// eighth-note bass, a detuned pad, a lead tune with a stereo echo and an
/// arpeggio, mixed as `parts` says and levelled to -17 dBFS RMS with a
/// soft clip, so that the three pieces share a balance and a loudness
/// (the album passes its own consistency checks).
fn band(rate: f64, secs: f64, parts: &Parts, rng: &mut Rng) -> Vec<[f64; 2]> {
    let n = (rate * secs) as usize;
    let beat = 0.5;
    let eighth = beat / 2.0;
    let mut pad_lp = [OnePole::new(1800.0, rate), OnePole::new(1800.0, rate)];
    let mut bass_lp = OnePole::new(500.0, rate);
    let mut hat_hp = 0.0f64;
    let mut snare_lp = OnePole::new(4000.0, rate);
    let echo_len = (rate * eighth * 3.0) as usize;
    let mut echo = vec![[0.0f64; 2]; echo_len];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / rate;
        let bar = ((t / (4.0 * beat)) as usize) % 4;
        let tb = t % beat;
        let beat_no = (t / beat) as usize % 4;
        let te = t % eighth;
        let eighth_no = (t / eighth) as usize;
        // Drums.
        let kick_f = 48.0 + 110.0 * (-tb / 0.025).exp();
        let kick = (TAU * kick_f * tb).sin() * env(tb, 0.002, 0.16);
        let noise = rng.next();
        let snare = if beat_no % 2 == 1 {
            snare_lp.run(noise) * env(tb, 0.001, 0.09) * 1.4
                + (TAU * 190.0 * tb).sin() * env(tb, 0.001, 0.05) * 0.4
        } else {
            snare_lp.run(noise) * 0.0
        };
        let hp = noise - hat_hp;
        hat_hp = noise;
        let hat = hp * env(te, 0.001, if eighth_no % 2 == 1 { 0.05 } else { 0.02 }) * 0.25;
        let drums = (kick * 0.9 + snare * 0.5) * parts.drums;
        // Bass: the root in eighths, an octave jump on the last one.
        let root = ROOTS[bar] + if eighth_no % 8 == 7 { 12.0 } else { 0.0 };
        let bass = bass_lp.run(saw(midi(root), t)) * env(te, 0.004, 0.2) * 1.3 * parts.bass;
        // Pad: the chord, detuned left and right.
        let mut pad = [0.0; 2];
        for (c, (lp, det)) in pad_lp.iter_mut().zip([0.998, 1.002]).enumerate() {
            let v: f64 = CHORDS[bar].iter().map(|m| saw(midi(*m) * det, t)).sum();
            pad[c] = lp.run(v) * 0.22 * parts.pad;
        }
        // Lead: the tune with a little vibrato; an arpeggio of the chord.
        let note = TUNE[eighth_no % TUNE.len()];
        let vib = 1.0 + 0.004 * (TAU * 5.5 * t).sin();
        let lead = if note > 0.0 {
            let f = midi(note) * vib;
            ((TAU * f * t).sin()
                + 0.3 * (TAU * 2.0 * f * t).sin()
                + 0.12 * (TAU * 3.0 * f * t).sin())
                * env(te, 0.01, 0.3)
                * 0.35
                * parts.lead
        } else {
            0.0
        };
        let sixteenth = (t / (eighth / 2.0)) as usize;
        let arp_note = CHORDS[bar][sixteenth % 3] + 12.0 * ((sixteenth / 3) % 2) as f64;
        let ts = t % (eighth / 2.0);
        let arp = saw(midi(arp_note), t) * env(ts, 0.002, 0.08) * 0.3 * parts.arp;
        // A ping-pong echo of the lead and arpeggio, three eighths late.
        let k = i % echo_len;
        let [el, er] = echo[k];
        let dry = lead + arp;
        echo[k] = [dry * 0.45 + er * 0.35, el * 0.35];
        let l = drums + bass + pad[0] + dry * 0.9 + el * 0.6 + hat * 0.8 * parts.drums.max(0.4);
        let r = drums + bass + pad[1] + dry * 0.9 + er * 0.6 + hat * 1.2 * parts.drums.max(0.4);
        let fade = (t / parts.fade_in.max(1e-3)).min(1.0)
            * ((secs - t) / parts.fade_out.max(1e-3)).clamp(0.0, 1.0);
        out.push([l * fade, r * fade]);
    }
    level(&mut out, -17.0);
    out
}

/// Scales to `rms_db` dBFS RMS, then soft-clips (tanh) what would pass
/// -1 dBFS.
fn level(frames: &mut [[f64; 2]], rms_db: f64) {
    let sum: f64 = frames.iter().map(|f| f[0] * f[0] + f[1] * f[1]).sum();
    let rms = (sum / (2.0 * frames.len().max(1) as f64)).sqrt().max(1e-9);
    let gain = 10f64.powf(rms_db / 20.0) / rms;
    let ceiling = 10f64.powf(-1.0 / 20.0);
    for f in frames.iter_mut() {
        for v in f.iter_mut() {
            *v = ceiling * (*v * gain / ceiling).tanh();
        }
    }
}

/// "Intro": the band coming in, pad and tune first, drums held back;
/// mono.
fn intro(rate: f64, secs: f64, rng: &mut Rng) -> Vec<[f64; 2]> {
    let parts = Parts {
        drums: 0.45,
        bass: 0.8,
        pad: 1.3,
        lead: 1.0,
        arp: 0.3,
        fade_in: 1.0,
        fade_out: 0.05,
    };
    band(rate, secs, &parts, rng)
        .into_iter()
        .map(|[l, r]| {
            let m = 0.5 * (l + r);
            [m, m]
        })
        .collect()
}

/// "Night Drive": the whole band, stereo.
fn night_drive(rate: f64, secs: f64, rng: &mut Rng) -> Vec<[f64; 2]> {
    let parts = Parts {
        drums: 1.0,
        bass: 1.0,
        pad: 0.8,
        lead: 1.0,
        arp: 0.5,
        fade_in: 0.01,
        fade_out: 0.05,
    };
    band(rate, secs, &parts, rng)
}

/// "Outro": the arpeggio over the band, which fades away.
fn outro(rate: f64, secs: f64, rng: &mut Rng) -> Vec<[f64; 2]> {
    let parts = Parts {
        drums: 0.7,
        bass: 0.9,
        pad: 1.0,
        lead: 0.5,
        arp: 1.0,
        fade_in: 0.01,
        fade_out: 2.5,
    };
    band(rate, secs, &parts, rng)
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
    write_wav(
        &out.join("01 Intro.wav"),
        &intro(48_000.0, 4.6, &mut rng),
        48_000,
        1,
    );
    write_flac(
        &out.join("02 Night Drive.flac"),
        &night_drive(48_000.0, 6.0, &mut rng),
        48_000,
        16,
    );
    write_flac(
        &out.join("03 Outro.flac"),
        &outro(48_000.0, 5.0, &mut rng),
        48_000,
        16,
    );
}
