//! Decoding and analysis: EBU Tech 3341/3342 cases through the whole path
//! (our WAV writer → decoder → meter), sample-exact PCM decoding, other
//! formats via ffmpeg, broken files, and real music against ffmpeg.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

use glassmaster::analysis::{self, analyze_file, analyze_files, Meter};
use glassmaster::audio::{self, AudioError, Block, Decoder, WavFormat, WavWriter, BLOCK_FRAMES};

use crate::util;

const RATE: u32 = 48_000;

/// A segment of a test signal: seconds of a sine at a peak level.
struct Tone {
    seconds: f64,
    dbfs: f64,
}

fn tone(seconds: f64, dbfs: f64) -> Tone {
    Tone { seconds, dbfs }
}

/// Writes stereo 1 kHz sines (both channels alike, phase continuous) as a
/// 24-bit WAV with our writer, block by block.
fn write_tones(path: &Path, tones: &[Tone]) {
    let mut w = WavWriter::create(path, RATE, 2, WavFormat::Int24).unwrap();
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    let mut n: u64 = 0;
    for t in tones {
        let amp = 10f64.powf(t.dbfs / 20.0);
        let frames = (t.seconds * f64::from(RATE)).round() as u64;
        let mut left = frames;
        while left > 0 {
            block.clear();
            let k = left.min(BLOCK_FRAMES as u64);
            for _ in 0..k {
                let x = amp * (2.0 * PI * 1000.0 * n as f64 / f64::from(RATE)).sin();
                block.left.push(x);
                block.right.push(x);
                n += 1;
            }
            w.write_block(&block).unwrap();
            left -= k;
        }
    }
    w.finalize().unwrap();
}

/// Writes a stereo signal given as a function of the frame index.
fn write_fn(path: &Path, frames: usize, format: WavFormat, f: impl Fn(usize) -> (f64, f64)) {
    let mut w = WavWriter::create(path, RATE, 2, format).unwrap();
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    let mut i = 0;
    while i < frames {
        block.clear();
        let end = (i + BLOCK_FRAMES).min(frames);
        for k in i..end {
            let (l, r) = f(k);
            block.left.push(l);
            block.right.push(r);
        }
        w.write_block(&block).unwrap();
        i = end;
    }
    w.finalize().unwrap();
}

/// Seeded xorshift64* noise in [-1, 1).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn integrated(path: &Path) -> f64 {
    analyze_file(path)
        .unwrap()
        .measurement
        .integrated_lufs
        .unwrap()
}

fn assert_near(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.3}, want {want:.3} ± {tol}"
    );
}

#[test]
fn ebu_tech_3341_loudness_cases() {
    let dir = util::scratch("ebu3341");
    let cases: Vec<(&str, Vec<Tone>)> = vec![
        ("case1", vec![tone(20.0, -23.0)]),
        ("case2", vec![tone(20.0, -33.0)]),
        (
            "case3",
            vec![tone(10.0, -36.0), tone(60.0, -23.0), tone(10.0, -36.0)],
        ),
        (
            "case4",
            vec![
                tone(10.0, -72.0),
                tone(10.0, -36.0),
                tone(60.0, -23.0),
                tone(10.0, -36.0),
                tone(10.0, -72.0),
            ],
        ),
        (
            "case5",
            vec![tone(20.0, -26.0), tone(20.1, -20.0), tone(20.0, -26.0)],
        ),
    ];
    let want = [-23.0, -33.0, -23.0, -23.0, -23.0];
    for ((name, tones), want) in cases.iter().zip(want) {
        let path = dir.join(format!("{name}.wav"));
        write_tones(&path, tones);
        let got = integrated(&path);
        eprintln!("EBU 3341 {name}: {got:.3} LUFS (want {want})");
        assert_near(name, got, want, 0.1);
    }
}

#[test]
fn ebu_tech_3342_loudness_range_cases() {
    let dir = util::scratch("ebu3342");
    let cases: Vec<(&str, Vec<Tone>, f64)> = vec![
        ("case1", vec![tone(20.0, -20.0), tone(20.0, -30.0)], 10.0),
        ("case2", vec![tone(20.0, -20.0), tone(20.0, -15.0)], 5.0),
        ("case3", vec![tone(20.0, -40.0), tone(20.0, -20.0)], 20.0),
        (
            "case4",
            vec![
                tone(20.0, -50.0),
                tone(20.0, -35.0),
                tone(20.0, -20.0),
                tone(20.0, -35.0),
                tone(20.0, -50.0),
            ],
            15.0,
        ),
    ];
    for (name, tones, want) in &cases {
        let path = dir.join(format!("{name}.wav"));
        write_tones(&path, tones);
        let m = analyze_file(&path).unwrap().measurement;
        let got = m.loudness_range_lu.unwrap();
        eprintln!("EBU 3342 {name}: LRA {got:.3} LU (want {want})");
        assert_near(name, got, *want, 1.0);
    }
}

#[test]
fn ebu_tech_3341_true_peak_cases() {
    let dir = util::scratch("ebu3341tp");
    // fs/4 sines: (amplitude, phase in degrees, expected dBTP, -tol, +tol).
    let cases = [
        ("tp_0deg", 0.5, 0.0, -6.0, 0.4, 0.2),
        ("tp_45deg", 0.5, 45.0, -6.0, 0.4, 0.2),
        ("tp_45deg_1.41", 1.41, 45.0, 3.0, 0.4, 0.2),
    ];
    for (name, amp, phase, want, below, above) in cases {
        let path = dir.join(format!("{name}.wav"));
        let ph = phase * PI / 180.0;
        write_fn(&path, RATE as usize * 2, WavFormat::Int24, |n| {
            let x = amp * (PI / 2.0 * n as f64 + ph).sin();
            (x, x)
        });
        let m = analyze_file(&path).unwrap().measurement;
        let got = m.true_peak_dbtp.unwrap();
        eprintln!("EBU 3341 {name}: {got:.3} dBTP (want {want})");
        assert!(
            got >= want - below && got <= want + above,
            "{name}: {got} dBTP, want {want} (+{above}/-{below})"
        );
        // The sample peak is that of the samples themselves.
        let sample_peak = (0..4)
            .map(|n| (amp * (PI / 2.0 * f64::from(n) + ph).sin()).abs())
            .fold(0.0, f64::max);
        let sample_peak = 20.0 * sample_peak.log10();
        assert_near(
            "sample peak",
            m.sample_peak_dbfs.unwrap(),
            sample_peak,
            0.01,
        );
    }
}

#[test]
fn meter_figures_of_known_signals() {
    // 1 s silence, 2 s of -20 dBFS sine with 0.01 DC on the left and the
    // right inverted, 0.5 s silence.
    let rate = RATE as usize;
    let frames = rate * 7 / 2;
    let mut meter = Meter::new(RATE).unwrap();
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    let amp = 0.1;
    let mut i = 0;
    while i < frames {
        block.clear();
        for n in i..(i + BLOCK_FRAMES).min(frames) {
            let on = (rate..3 * rate).contains(&n);
            let x = if on {
                amp * (2.0 * PI * 997.0 * n as f64 / RATE as f64).sin()
            } else {
                0.0
            };
            block.left.push(if on { x + 0.01 } else { 0.0 });
            block.right.push(-x);
        }
        meter.add(&block);
        i += block.len();
    }
    let (m, _) = meter.finish();
    assert_eq!(m.clipped_samples, 0);
    assert_near("duration", m.duration_s, 3.5, 1e-9);
    assert_near("head silence", m.head_silence_s, 1.0, 1e-3);
    assert_near("tail silence", m.tail_silence_s, 0.5, 1e-3);
    // DC: 0.01 for 2 s of 3.5 s → 20 log10(0.01 * 2/3.5).
    let dc = 20.0 * (0.01f64 * 2.0 / 3.5).log10();
    assert_near("dc left", m.dc_offset_dbfs[0].unwrap(), dc, 0.01);
    assert!(m.dc_offset_dbfs[1].unwrap() < -100.0);
    assert!(m.correlation < -0.98, "correlation {}", m.correlation);
    // A -20 dBFS 1 kHz-ish stereo sine reads -20 LUFS. Gating keeps the 17
    // 400 ms blocks inside the tone and the 6 that overlap its edges (3/4,
    // 1/2, 1/4 of the tone at each end): 20 blocks' worth of energy in 23.
    let want = -20.0 + 10.0 * (20.0f64 / 23.0).log10();
    assert_near("integrated", m.integrated_lufs.unwrap(), want, 0.1);
    assert_near("momentary max", m.momentary_max_lufs.unwrap(), -20.0, 0.2);
    // 2 s of tone in a 3 s window: 10 log10(2/3) below.
    assert_near(
        "short-term max",
        m.short_term_max_lufs.unwrap(),
        -20.0 + 10.0 * (2.0f64 / 3.0).log10(),
        0.2,
    );
    assert_near(
        "sample peak",
        m.sample_peak_dbfs.unwrap(),
        20.0 * 0.11f64.log10(),
        0.01,
    );
}

#[test]
fn silence_is_null_and_clips_are_counted() {
    let mut meter = Meter::new(44_100).unwrap();
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    block.left.resize(BLOCK_FRAMES, 0.0);
    block.right.resize(BLOCK_FRAMES, 0.0);
    for _ in 0..20 {
        meter.add(&block);
    }
    let (m, state) = meter.finish();
    assert_eq!(m.integrated_lufs, None);
    assert_eq!(m.true_peak_dbtp, None);
    assert_eq!(m.momentary_max_lufs, None);
    assert_eq!(m.dc_offset_dbfs, [None, None]);
    assert_eq!(m.correlation, 1.0);
    assert_near("head", m.head_silence_s, m.duration_s, 1e-12);
    let json = serde_json::to_value(&m).unwrap();
    assert!(json["integrated_lufs"].is_null());
    assert_eq!(json["dc_offset_dbfs"], serde_json::json!([null, null]));
    let album = analysis::album_loudness([&state]);
    assert_eq!(album.integrated_lufs, None);

    // Clips: a run of 2 (not counted), runs of 3 and 5 on the left, one
    // run of 4 at -1.0 on the right that spans two blocks.
    let mut meter = Meter::new(44_100).unwrap();
    let mut a = Block {
        left: vec![
            0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0,
        ],
        right: vec![0.0; 14],
    };
    a.right[12] = -1.0;
    a.right[13] = -1.0;
    let b = Block {
        left: vec![0.0, 0.0],
        right: vec![-1.0, -1.0],
    };
    meter.add(&a);
    meter.add(&b);
    let (m, _) = meter.finish();
    assert_eq!(m.clipped_samples, 3 + 5 + 4);
}

#[test]
fn analyze_json_field_names() {
    let dir = util::scratch("json");
    let path = dir.join("t.wav");
    write_tones(&path, &[tone(3.0, -20.0)]);
    let f = analyze_file(&path).unwrap();
    let v = serde_json::to_value(&f).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "path",
            "sample_rate",
            "bit_depth",
            "channels",
            "duration_s",
            "integrated_lufs",
            "loudness_range_lu",
            "short_term_max_lufs",
            "momentary_max_lufs",
            "true_peak_dbtp",
            "sample_peak_dbfs",
            "dc_offset_dbfs",
            "correlation",
            "head_silence_s",
            "tail_silence_s",
            "clipped_samples"
        ]
    );
    assert_eq!(v["bit_depth"], 24);
    assert_eq!(v["duration_s"], 3.0);
    // Rounded to 2 decimals.
    let i = v["integrated_lufs"].as_f64().unwrap();
    assert_eq!((i * 100.0).round() / 100.0, i);
}

#[test]
fn album_gates_all_tracks_together() {
    let dir = util::scratch("album");
    let a = dir.join("a.wav");
    let b = dir.join("b.wav");
    let c = dir.join("c.wav");
    write_tones(&a, &[tone(10.0, -20.0)]);
    write_tones(&b, &[tone(10.0, -26.0)]);
    write_fn(&c, 1000, WavFormat::Int16, |_| (0.0, 0.0));
    let paths = vec![a.clone(), b.clone(), dir.join("missing.wav"), c];
    let total = std::sync::atomic::AtomicU64::new(0);
    let batch = analyze_files(&paths, 2, |n| {
        total.fetch_max(n, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(batch.files.len(), 4);
    assert!(matches!(batch.files[2], Err(AudioError::Open { .. })));
    assert_eq!(total.into_inner(), 2 * 10 * u64::from(RATE) + 1000);
    let album = batch.album.unwrap();
    // Equal durations at -20 and -26: the mean energy of both.
    let want = 10.0 * ((10f64.powf(-2.0) + 10f64.powf(-2.6)) / 2.0).log10();
    assert_near(
        "album integrated",
        album.integrated_lufs.unwrap(),
        want,
        0.1,
    );
    assert_near("spread", album.loudness_spread_lu.unwrap(), 6.0, 0.1);
    assert_near("album LRA", album.loudness_range_lu.unwrap(), 6.0, 1.0);
    let tp_a = batch.files[0]
        .as_ref()
        .unwrap()
        .measurement
        .true_peak_dbtp
        .unwrap();
    assert_eq!(album.true_peak_dbtp, Some(tp_a));
    // The same album as one file measures the same.
    let ab = dir.join("ab.wav");
    write_tones(&ab, &[tone(10.0, -20.0), tone(10.0, -26.0)]);
    assert_near(
        "one file",
        integrated(&ab),
        album.integrated_lufs.unwrap(),
        0.05,
    );
}

// ---- decoding ----

/// Writes `frames` seeded random codes with hound; returns them, interleaved.
fn hound_file(path: &Path, channels: u16, bits: u16, float: bool, frames: usize) -> Vec<f64> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: 44_100,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ u64::from(bits));
    let full = 2f64.powi(i32::from(bits) - 1);
    let mut want = Vec::new();
    for i in 0..frames * channels as usize {
        let x = noise.next();
        if float {
            let v = x as f32;
            w.write_sample(v).unwrap();
            want.push(f64::from(v));
        } else {
            // Full-scale codes at the ends too.
            let code = match i {
                0 => -full,
                1 => full - 1.0,
                _ => (x * full).floor().clamp(-full, full - 1.0),
            };
            match bits {
                16 => w.write_sample(code as i16).unwrap(),
                _ => w.write_sample(code as i32).unwrap(),
            }
            want.push(code / full);
        }
    }
    w.finalize().unwrap();
    want
}

#[test]
fn pcm_wav_decodes_sample_exact() {
    let dir = util::scratch("pcm");
    for (bits, float) in [(16, false), (24, false), (32, false), (32, true)] {
        let path = dir.join(format!("s{bits}{}.wav", if float { "f" } else { "" }));
        let frames = BLOCK_FRAMES * 3 + 17;
        let want = hound_file(&path, 2, bits, float, frames);
        let (info, got) = audio::read_all(&path).unwrap();
        assert_eq!(info.bit_depth, Some(bits), "{path:?}");
        assert_eq!(info.float, float);
        assert_eq!(info.channels, 2);
        assert_eq!(info.frames, Some(frames as u64));
        assert_eq!(got.len(), frames);
        for i in 0..frames {
            assert_eq!(got.left[i], want[2 * i], "{path:?} left {i}");
            assert_eq!(got.right[i], want[2 * i + 1], "{path:?} right {i}");
        }
        let probed = audio::probe(&path).unwrap();
        assert_eq!(probed, info);
    }
}

#[test]
fn mono_plays_on_both_channels() {
    let dir = util::scratch("mono");
    let path = dir.join("mono.wav");
    let want = hound_file(&path, 1, 16, false, 5000);
    let mut dec = Decoder::open(&path).unwrap();
    assert_eq!(dec.info().channels, 1);
    let mut block = Block::default();
    let mut got = Vec::new();
    while dec.read_block(&mut block).unwrap() > 0 {
        assert!(block.len() <= BLOCK_FRAMES);
        assert_eq!(block.left, block.right);
        got.extend_from_slice(&block.left);
    }
    assert_eq!(got, want);
    let m = analyze_file(&path).unwrap().measurement;
    assert_eq!(m.channels, 1);
    assert_eq!(m.correlation, 1.0);
}

#[test]
fn wav_writer_24_bit_round_trip_is_bit_exact_and_plain_pcm() {
    let dir = util::scratch("roundtrip");
    let src = dir.join("src.wav");
    let frames = 20_000;
    hound_file(&src, 2, 24, false, frames);
    let dst = dir.join("dst.wav");
    let mut dec = Decoder::open(&src).unwrap();
    let mut w = WavWriter::create(&dst, dec.info().sample_rate, 2, WavFormat::Int24).unwrap();
    let mut block = Block::default();
    while dec.read_block(&mut block).unwrap() > 0 {
        w.write_block(&block).unwrap();
    }
    assert_eq!(w.clipped(), 0);
    assert!(dir.join("dst.wav.part").exists());
    w.finalize().unwrap();
    assert!(!dir.join("dst.wav.part").exists());
    let a: Vec<i32> = hound::WavReader::open(&src)
        .unwrap()
        .samples::<i32>()
        .map(Result::unwrap)
        .collect();
    let b: Vec<i32> = hound::WavReader::open(&dst)
        .unwrap()
        .samples::<i32>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(a.len(), frames * 2);
    assert!(a == b, "24-bit samples differ after decode → write");
    // The header: WAVE_FORMAT_PCM, a 16-byte fmt chunk, data at 36.
    let bytes = std::fs::read(&dst).unwrap();
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
        bytes.len() - 8
    );
    assert_eq!(&bytes[12..16], b"fmt ");
    assert_eq!(u32::from_le_bytes(bytes[16..20].try_into().unwrap()), 16);
    assert_eq!(u16::from_le_bytes(bytes[20..22].try_into().unwrap()), 1);
    assert_eq!(u16::from_le_bytes(bytes[34..36].try_into().unwrap()), 24);
    assert_eq!(&bytes[36..40], b"data");
    assert_eq!(
        u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as usize,
        frames * 6
    );
}

#[test]
fn wav_writer_formats_clip_and_float_tag() {
    let dir = util::scratch("writer");
    let block = Block {
        left: vec![0.5, 1.5, -2.0, -1.0, 0.25],
        right: vec![-0.5, 0.0, f64::NAN, 1.0, 0.75],
    };
    // 16-bit: clipping counted, values rounded.
    let p16 = dir.join("c16.wav");
    let mut w = WavWriter::create(&p16, 44_100, 2, WavFormat::Int16).unwrap();
    w.write_block(&block).unwrap();
    assert_eq!(w.clipped(), 3);
    w.write_i32_frames(&[40_000, -5], &[-40_000, 7]).unwrap();
    assert_eq!(w.clipped(), 5);
    w.finalize().unwrap();
    let got: Vec<i16> = hound::WavReader::open(&p16)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        got,
        [16384, -16384, 32767, 0, -32768, 0, -32768, 32767, 8192, 24576, 32767, -32768, -5, 7]
    );
    // Float: tag 3, values kept.
    let pf = dir.join("f.wav");
    let mut w = WavWriter::create(&pf, 48_000, 2, WavFormat::Float32).unwrap();
    w.write_block(&block).unwrap();
    assert!(w.write_i32_frames(&[1], &[1]).is_err());
    w.finalize().unwrap();
    let bytes = std::fs::read(&pf).unwrap();
    assert_eq!(u16::from_le_bytes(bytes[20..22].try_into().unwrap()), 3);
    let got: Vec<f32> = hound::WavReader::open(&pf)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, [0.5, -0.5, 1.5, 0.0, -2.0, 0.0, -1.0, 1.0, 0.25, 0.75]);
    // Mono takes the left channel.
    let pm = dir.join("m.wav");
    let mut w = WavWriter::create(&pm, 48_000, 1, WavFormat::Int24).unwrap();
    w.write_block(&block).unwrap();
    w.finalize().unwrap();
    let r = hound::WavReader::open(&pm).unwrap();
    assert_eq!(r.spec().channels, 1);
    assert_eq!(r.len(), 5);
    // A writer dropped without finalize leaves nothing behind.
    let pd = dir.join("dropped.wav");
    let w = WavWriter::create(&pd, 48_000, 2, WavFormat::Int16).unwrap();
    drop(w);
    assert!(!pd.exists() && !dir.join("dropped.wav.part").exists());
}

fn ffmpeg(args: &[&str]) -> bool {
    Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn other_formats_via_ffmpeg() {
    if !util::have_tool("ffmpeg", "other_formats_via_ffmpeg") {
        return;
    }
    let dir = util::scratch("formats");
    let src = dir.join("src.wav");
    // 5 s of a -18 dBFS 440 Hz sine plus quiet noise, 16-bit 44.1 kHz.
    let mut noise = Noise(7);
    let frames = 44_100 * 5;
    let mut w = WavWriter::create(&src, 44_100, 2, WavFormat::Int16).unwrap();
    let mut block = Block::default();
    for n in 0..frames {
        let s = 0.125 * (2.0 * PI * 440.0 * n as f64 / 44_100.0).sin();
        block.left.push(s + 0.01 * noise.next());
        block.right.push(0.8 * s + 0.01 * noise.next());
    }
    w.write_block(&block).unwrap();
    w.finalize().unwrap();
    let (_, want) = audio::read_all(&src).unwrap();
    let want_lufs = integrated(&src);
    let cases: &[(&str, &[&str], &str, bool)] = &[
        ("flac", &["-c:a", "flac"], "flac", true),
        ("m4a", &["-c:a", "alac"], "alac", true),
        ("aiff", &["-c:a", "pcm_s16be"], "pcm", true),
        ("ogg", &["-c:a", "libvorbis", "-q:a", "6"], "vorbis", false),
        ("mp3", &["-c:a", "libmp3lame", "-b:a", "256k"], "mp3", false),
    ];
    for (ext, codec_args, codec, lossless) in cases {
        let out = dir.join(format!("out.{ext}"));
        let mut args = vec!["-i", src.to_str().unwrap()];
        args.extend_from_slice(codec_args);
        args.push(out.to_str().unwrap());
        if !ffmpeg(&args) {
            eprintln!("SKIP {ext}: ffmpeg cannot write it here");
            continue;
        }
        let (info, got) = audio::read_all(&out).unwrap_or_else(|e| panic!("{ext}: {e}"));
        assert_eq!(info.codec, *codec, "{ext}");
        assert_eq!(info.sample_rate, 44_100);
        assert_eq!(info.channels, 2);
        if *lossless {
            assert_eq!(info.bit_depth, Some(16), "{ext}");
            assert_eq!(got.len(), want.len(), "{ext}");
            assert!(
                got.left == want.left && got.right == want.right,
                "{ext}: samples differ"
            );
            if *ext == "flac" {
                // Cut short: fewer frames than STREAMINFO promises.
                let bytes = std::fs::read(&out).unwrap();
                let cut = dir.join("cut.flac");
                std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
                let err = analyze_file(&cut).expect_err("a truncated FLAC must fail");
                assert!(matches!(err, AudioError::Corrupt { .. }), "{err}");
            }
        } else {
            assert_eq!(info.bit_depth, None);
            let diff = got.len() as i64 - want.len() as i64;
            assert!(
                diff.abs() <= 2048,
                "{ext}: {diff} frames more than the source"
            );
            let lufs = integrated(&out);
            eprintln!("{ext}: {lufs:.2} LUFS vs source {want_lufs:.2}, {diff} frames");
            assert_near(ext, lufs, want_lufs, 0.3);
        }
    }
}

#[test]
fn lossless_24_bit_formats_via_ffmpeg_are_exact() {
    if !util::have_tool("ffmpeg", "lossless_24_bit_formats_via_ffmpeg_are_exact") {
        return;
    }
    let dir = util::scratch("formats24");
    let src = dir.join("src.wav");
    write_fn(&src, RATE as usize * 3, WavFormat::Int24, |n| {
        (0.7 * noise_at(24, 2 * n), 0.7 * noise_at(24, 2 * n + 1))
    });
    let (_, want) = audio::read_all(&src).unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        ("flac", &["-c:a", "flac", "-sample_fmt", "s32"], "flac"),
        ("m4a", &["-c:a", "alac", "-sample_fmt", "s32p"], "alac"),
        ("aiff", &["-c:a", "pcm_s24be"], "pcm"),
    ];
    for (ext, codec_args, codec) in cases {
        let out = dir.join(format!("out.{ext}"));
        let mut args = vec!["-i", src.to_str().unwrap()];
        args.extend_from_slice(codec_args);
        args.push(out.to_str().unwrap());
        if !ffmpeg(&args) {
            eprintln!("SKIP {ext}: ffmpeg cannot write it here");
            continue;
        }
        let (info, got) = audio::read_all(&out).unwrap_or_else(|e| panic!("{ext}: {e}"));
        assert_eq!(info.codec, *codec, "{ext}");
        assert_eq!(info.bit_depth, Some(24), "{ext}");
        assert_eq!(info.sample_rate, RATE);
        assert!(
            got.left == want.left && got.right == want.right,
            "{ext}: 24-bit samples differ"
        );
    }
}

/// Seeded noise in [-1, 1) as a function of the sample index.
fn noise_at(seed: u64, i: usize) -> f64 {
    let mut n = Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64 + 1));
    n.next();
    n.next()
}

fn expect_err(path: &Path, check: impl Fn(&AudioError) -> bool) {
    let err = analyze_file(path).expect_err("must fail");
    assert!(check(&err), "{path:?}: wrong error {err:?}");
    assert!(
        err.to_string().contains(path.to_str().unwrap()),
        "error does not name the file: {err}"
    );
    // The decoder alone says the same.
    let direct = Decoder::open(path).and_then(|mut d| {
        let mut b = Block::default();
        while d.read_block(&mut b)? > 0 {}
        Ok(())
    });
    assert!(direct.is_err());
}

#[test]
fn broken_audio_gives_the_right_error() {
    let dir = util::scratch("broken");
    // Truncated: a 24-bit WAV cut in the middle of its data.
    let whole = dir.join("whole.wav");
    write_tones(&whole, &[tone(2.0, -20.0)]);
    let bytes = std::fs::read(&whole).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 1, 50] {
        let p = dir.join(format!("cut{cut}.wav"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        expect_err(&p, |e| {
            matches!(e, AudioError::Corrupt { .. } | AudioError::Empty { .. })
        });
    }
    let p = dir.join("half.wav");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    expect_err(
        &p,
        |e| matches!(e, AudioError::Corrupt { reason, .. } if reason.contains("truncated")),
    );
    // Text named .wav.
    let p = dir.join("text.wav");
    std::fs::write(&p, "this is not audio, just some text\n".repeat(20)).unwrap();
    expect_err(&p, |e| matches!(e, AudioError::Unsupported { .. }));
    // Empty file, and a WAV without frames.
    let p = dir.join("empty.wav");
    std::fs::write(&p, b"").unwrap();
    expect_err(&p, |e| matches!(e, AudioError::Empty { .. }));
    let p = dir.join("noframes.wav");
    WavWriter::create(&p, 48_000, 2, WavFormat::Int16)
        .unwrap()
        .finalize()
        .unwrap();
    expect_err(&p, |e| matches!(e, AudioError::Empty { .. }));
    // Six channels.
    let p = dir.join("six.wav");
    hound_file(&p, 6, 16, false, 1000);
    expect_err(&p, |e| {
        matches!(e, AudioError::TooManyChannels { channels: 6, .. })
    });
    // Missing.
    let p = dir.join("missing.wav");
    expect_err(&p, |e| matches!(e, AudioError::Open { .. }));
    // Garbage after a valid header never panics, whatever it is.
    let mut noise = Noise(99);
    for (i, keep) in [12usize, 36, 44, 100].into_iter().enumerate() {
        let mut b = bytes[..keep.min(bytes.len())].to_vec();
        b.extend((0..5000).map(|_| (noise.next() * 127.0) as i8 as u8));
        let p = dir.join(format!("garbage{i}.wav"));
        std::fs::write(&p, &b).unwrap();
        let _ = analyze_file(&p);
    }
}

// ---- real music against ffmpeg ----

/// ffmpeg's summary: (integrated LUFS, LRA LU, true peak dBTP).
fn ffmpeg_ebur128(path: &Path) -> Option<(f64, f64, f64)> {
    ffmpeg_ebur128_with(path, "ebur128=peak=true")
}

fn ffmpeg_ebur128_with(path: &Path, filter: &str) -> Option<(f64, f64, f64)> {
    let out = Command::new("ffmpeg")
        .args(["-nostats", "-i"])
        .arg(path)
        .args(["-af", filter, "-f", "null", "-"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = &text[text.find("Summary:")?..];
    let field = |label: &str| -> Option<f64> {
        let at = summary.find(label)? + label.len();
        summary[at..].split_whitespace().next()?.parse().ok()
    };
    Some((field("I:")?, field("LRA:")?, field("Peak:")?))
}

pub(crate) fn real_music() -> Option<PathBuf> {
    // Two tests ask at once: fetch once.
    static FETCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = FETCH.lock().unwrap_or_else(|e| e.into_inner());
    if !util::have_tool("ffmpeg", "real music") {
        return None;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/real-music");
    // shared/ lies beside the repository (in CI too).
    let script = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/real-music.sh"),
        PathBuf::from("/work/shared/testdata/real-music.sh"),
    ]
    .into_iter()
    .find(|p| p.exists());
    let Some(script) = script else {
        eprintln!("SKIP real music: shared/testdata/real-music.sh not found");
        return None;
    };
    let ok = Command::new("bash")
        .arg(script)
        .arg(&dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIP real music: real-music.sh failed");
        return None;
    }
    Some(dir)
}

#[test]
fn real_music_matches_ffmpeg() {
    let Some(dir) = real_music() else { return };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("wav48"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    // Through the command itself: `glassmaster analyze --json`.
    let out = Command::new(util::bin())
        .arg("analyze")
        .arg("--json")
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), paths.len());
    let (mut worst_i, mut worst_tp, mut worst_lra) = (0.0f64, 0.0f64, 0.0f64);
    for (path, ours) in paths.iter().zip(files) {
        assert_eq!(ours["sample_rate"], 48_000);
        if ours["bit_depth"] != 24 {
            continue;
        }
        let (oi, otp, olra) = (
            ours["integrated_lufs"].as_f64().unwrap(),
            ours["true_peak_dbtp"].as_f64().unwrap(),
            ours["loudness_range_lu"].as_f64().unwrap(),
        );
        let (i, lra, tp) = ffmpeg_ebur128(path).expect("ffmpeg summary");
        let di = oi - i;
        let dtp = otp - tp;
        let dlra = olra - lra;
        eprintln!(
            "{}: I {oi:.2} vs {i} ({di:+.2}), TP {otp:.2} vs {tp} ({dtp:+.2}), LRA {olra:.2} vs {lra} ({dlra:+.2})",
            path.file_name().unwrap().to_string_lossy(),
        );
        worst_i = worst_i.max(di.abs());
        worst_tp = worst_tp.max(dtp.abs());
        worst_lra = worst_lra.max(dlra.abs());
    }
    eprintln!("worst: I {worst_i:.3} LU, TP {worst_tp:.3} dB, LRA {worst_lra:.3} LU");
    // The album against ffmpeg on all tracks played one after another
    // (blocks across the joins differ a little, hence 0.15 LU).
    let list = util::scratch("real-album").join("list.txt");
    let text: String = paths
        .iter()
        .map(|p| format!("file '{}'\n", p.display()))
        .collect();
    std::fs::write(&list, text).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-nostats", "-f", "concat", "-safe", "0", "-i"])
        .arg(&list)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = &text[text.find("Summary:").expect("ffmpeg summary")..];
    let field = |label: &str| -> f64 {
        let at = summary.find(label).unwrap() + label.len();
        summary[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let album_i = doc["album"]["integrated_lufs"].as_f64().unwrap();
    let album_lra = doc["album"]["loudness_range_lu"].as_f64().unwrap();
    eprintln!(
        "album: I {album_i:.2} vs {}, LRA {album_lra:.2} vs {}",
        field("I:"),
        field("LRA:")
    );
    assert_near("album I", album_i, field("I:"), 0.15);
    assert_near("album LRA", album_lra, field("LRA:"), 0.65);
    // ffmpeg prints one decimal: allow its rounding (0.05) on top.
    assert!(worst_i <= 0.1 + 0.05, "integrated differs by {worst_i}");
    assert!(worst_tp <= 0.2 + 0.05, "true peak differs by {worst_tp}");
    assert!(worst_lra <= 0.6 + 0.05, "LRA differs by {worst_lra}");
}

#[test]
fn real_music_vorbis_decodes_like_its_wav() {
    let Some(dir) = real_music() else { return };
    let mut oggs: Vec<PathBuf> = std::fs::read_dir(dir.join("ogg"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    oggs.sort();
    for ogg in oggs {
        let name = ogg.file_stem().unwrap().to_string_lossy().to_string();
        let wav = dir.join("wav48").join(format!("{name}.wav"));
        match analyze_file(&ogg) {
            Ok(f) => {
                let m = &f.measurement;
                assert_eq!(m.sample_rate, 44_100, "{name}");
                assert_eq!(m.bit_depth, None, "{name}");
                let i = m.integrated_lufs.unwrap();
                eprintln!("{name}.ogg: {i:.2} LUFS, {:.1} s", m.duration_s);
                if wav.exists() {
                    // ffmpeg made the WAV from this file (resampled to
                    // 48 kHz): the same loudness and length.
                    let w = analyze_file(&wav).unwrap().measurement;
                    assert_near(&name, i, w.integrated_lufs.unwrap(), 0.05);
                    assert_near(&name, m.duration_s, w.duration_s, 0.01);
                } else {
                    // One of the files ffmpeg refuses: still music.
                    assert!((-30.0..-5.0).contains(&i), "{name}: {i} LUFS");
                    assert!(m.duration_s > 10.0, "{name}");
                }
            }
            Err(e) => {
                // Only the odd ones may fail, with an error naming them.
                assert!(!wav.exists(), "{name}: {e}");
                assert!(e.to_string().contains(&name), "{e}");
                eprintln!("{e}");
            }
        }
    }
}

#[test]
fn mono_reads_as_dual_mono_like_ffmpeg() {
    if !util::have_tool("ffmpeg", "mono_reads_as_dual_mono_like_ffmpeg") {
        return;
    }
    let dir = util::scratch("mono-ffmpeg");
    let path = dir.join("mono.wav");
    // 12 s of a 440 Hz sine swelling from quiet to loud, over noise.
    let mut noise = Noise(3);
    let mut w = WavWriter::create(&path, RATE, 1, WavFormat::Int24).unwrap();
    let mut block = Block::default();
    let frames = RATE as usize * 12;
    for n in 0..frames {
        let t = n as f64 / f64::from(RATE);
        let x = (0.02 + 0.3 * t / 12.0) * (2.0 * PI * 440.0 * t).sin() + 0.01 * noise.next();
        block.left.push(x);
        block.right.push(x);
    }
    w.write_block(&block).unwrap();
    w.finalize().unwrap();
    let m = analyze_file(&path).unwrap().measurement;
    assert_eq!(m.channels, 1);
    let (i, lra, tp) = ffmpeg_ebur128_with(&path, "ebur128=peak=true:dualmono=true").unwrap();
    eprintln!(
        "mono: I {:?} vs {i}, LRA {:?} vs {lra}, TP {:?} vs {tp}",
        m.integrated_lufs, m.loudness_range_lu, m.true_peak_dbtp
    );
    assert_near("integrated", m.integrated_lufs.unwrap(), i, 0.15);
    assert_near("range", m.loudness_range_lu.unwrap(), lra, 0.65);
    assert_near("true peak", m.true_peak_dbtp.unwrap(), tp, 0.25);
}
