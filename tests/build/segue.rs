//! Issue 10, sound defect 4: a segue on the CD is one continuous stream.
//! One music-like signal (chords of sines, drums, noise) is cut at a point
//! that is not on a frame into two tracks, the second `segue: true`; the
//! CD of the pair must be the CD of the uncut signal (a one-track album),
//! and `sox rate -v 44100` of it, as closely at the cut as anywhere else:
//! at 48 kHz within a few LSB (two resamplers, different filters), at
//! 44.1 kHz bit for bit. The same with a gain-only album loudness mode,
//! where the masters played back to back must be the source times one
//! gain; and the same bytes with one worker or two.

use std::path::{Path, PathBuf};

use glassmaster::audio::{Block, WavFormat};

use super::music::{self, Style};
use super::{build_ok, num};
use crate::disc::ddp_cli::wav_data;
use crate::util::{have_tool, scratch};

/// Frames of track 1's pause (`gap_s` 2.0) before the audio in album.wav.
const PAUSE: usize = 150 * 588;
/// Samples either side of the cut counted as "at the boundary".
const NEAR: usize = 2048;

/// The signal, leveled so that no limiter ever acts on it, then
/// band-limited to 17 kHz (after the leveling, which clips the highest
/// peaks), so that the two resamplers' different transition bands do not
/// decide the comparison with sox.
fn signal(rate: u32) -> Block {
    let mut b = music::compose(rate, 11.0, 1010, Style::BAND);
    music::level(&mut b, rate, -20.0, -8.0);
    Block {
        left: band_limit(&b.left, rate, 17_000.0),
        right: band_limit(&b.right, rate, 17_000.0),
    }
}

/// A linear-phase low-pass: a 511-tap windowed sinc (4-term
/// Blackman-Harris window, -92 dB side lobes) at `fc`.
fn band_limit(x: &[f64], rate: u32, fc: f64) -> Vec<f64> {
    const N: usize = 511;
    let m = (N / 2) as f64;
    let f = fc / f64::from(rate);
    let mut h: Vec<f64> = (0..N)
        .map(|k| {
            let t = k as f64 - m;
            let sinc = if t == 0.0 {
                2.0 * f
            } else {
                (std::f64::consts::TAU * f * t).sin() / (std::f64::consts::PI * t)
            };
            let p = std::f64::consts::TAU * k as f64 / (N - 1) as f64;
            let w =
                0.35875 - 0.48829 * p.cos() + 0.14128 * (2.0 * p).cos() - 0.01168 * (3.0 * p).cos();
            sinc * w
        })
        .collect();
    let sum: f64 = h.iter().sum();
    h.iter_mut().for_each(|v| *v /= sum);
    (0..x.len())
        .map(|n| {
            let lo = (n + N / 2).saturating_sub(x.len() - 1);
            let hi = (n + N / 2).min(N - 1);
            (lo..=hi).map(|k| h[k] * x[n + N / 2 - k]).sum()
        })
        .collect()
}

fn part(b: &Block, r: std::ops::Range<usize>) -> Block {
    Block {
        left: b.left[r.clone()].to_vec(),
        right: b.right[r].to_vec(),
    }
}

/// A manifest of `tracks` (file, extra YAML) with `mastering` lines.
fn manifest(mastering: &str, tracks: &[(&str, &str)]) -> String {
    let mut m = format!(
        "glassmaster: 1
release:
  title: Segue
  artist: The Test Band
mastering:
{mastering}  true_peak_dbtp: -1.0
  chain: []
cd:
  formats: [cue, toc]
  dither: none
tracks:
"
    );
    for (i, (file, extra)) in tracks.iter().enumerate() {
        m.push_str(&format!("  - file: {file}\n    title: T{}\n{extra}", i + 1));
    }
    m
}

/// The image's audio as interleaved samples, full scale 1.0.
fn image(out: &Path) -> Vec<f64> {
    wav_data(&out.join("cd/album.wav"))
        .chunks_exact(2)
        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

/// Interleaved samples of any WAV hound reads (integer or float).
fn read_wav(path: &Path) -> Vec<f64> {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| f64::from(s.unwrap())).collect(),
        hound::SampleFormat::Int => {
            let full = f64::from(1u32 << (spec.bits_per_sample - 1));
            r.samples::<i32>()
                .map(|s| f64::from(s.unwrap()) / full)
                .collect()
        }
    }
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-12).log10()
}

/// Largest difference of `a` and `b` (frames `a[i]` ~ `b[i + shift]`,
/// interleaved stereo) within `near` frames of frame `cut` of `a`, and
/// elsewhere, over frames `lo..hi` of `a`.
fn peaks(a: &[f64], b: &[f64], shift: usize, cut: usize, lo: usize, hi: usize) -> (f64, f64) {
    let (mut at, mut away) = (0.0f64, 0.0f64);
    for f in lo..hi {
        for c in 0..2 {
            let d = (a[2 * f + c] - b[2 * (f + shift) + c]).abs();
            if f.abs_diff(cut) <= NEAR {
                at = at.max(d);
            } else {
                away = away.max(d);
            }
        }
    }
    (at, away)
}

/// Builds the uncut signal and the segued pair at `rate` (`mastering`
/// lines for both) and returns (folder, uncut out, segued out, report of
/// the pair, frames of track 1).
fn build_pair(
    name: &str,
    rate: u32,
    mastering: &str,
) -> (PathBuf, PathBuf, PathBuf, serde_json::Value, usize) {
    let dir = scratch(name);
    let b = signal(rate);
    // 5.257 s: no whole number of frames, nor of output samples at 48 kHz.
    let cut = (5.257 * f64::from(rate)) as usize + 3;
    music::write(&dir.join("whole.wav"), &b, rate, 2, WavFormat::Int24);
    music::write(
        &dir.join("a.wav"),
        &part(&b, 0..cut),
        rate,
        2,
        WavFormat::Int24,
    );
    music::write(
        &dir.join("b.wav"),
        &part(&b, cut..b.len()),
        rate,
        2,
        WavFormat::Int24,
    );
    std::fs::write(
        dir.join("whole.yaml"),
        manifest(mastering, &[("whole.wav", "")]),
    )
    .unwrap();
    std::fs::write(
        dir.join("pair.yaml"),
        manifest(mastering, &[("a.wav", ""), ("b.wav", "    segue: true\n")]),
    )
    .unwrap();
    let _ = build_ok(&dir, "whole.yaml", "whole", &[]);
    let (report, _) = build_ok(&dir, "pair.yaml", "pair", &[]);
    (
        dir.clone(),
        dir.join("whole"),
        dir.join("pair"),
        report,
        cut,
    )
}

/// Where the cut falls in the CD stream, and INDEX 01 of track 2 on the
/// frame nearest to it (report.json).
fn cut_on_the_cd(report: &serde_json::Value, rate: u32, cut: usize) -> usize {
    let k = ((cut as u64 * 44_100 + u64::from(rate) / 2) / u64::from(rate)) as usize;
    let start = report["tracks"][1]["cd"]["start_frame"].as_u64().unwrap() as usize;
    let at = PAUSE + k;
    assert_eq!(
        start,
        (at + 294) / 588,
        "INDEX 01 of the segue: nearest frame to sample {at}"
    );
    assert_eq!(report["tracks"][1]["cd"]["pregap_frames"], 0);
    k
}

#[test]
fn a_48k_segue_is_the_cd_of_the_uncut_signal() {
    let rate = 48_000;
    let (dir, whole, pair, report, cut) = build_pair("segue-48k", rate, "  loudness_mode: off\n");
    let k = cut_on_the_cd(&report, rate, cut);
    let (w, p) = (image(&whole), image(&pair));
    assert_eq!(w.len(), p.len(), "the same length of image");
    let frames = w.len() / 2;
    let (at, away) = peaks(&p, &w, 0, PAUSE + k, PAUSE, frames);
    eprintln!(
        "48 kHz segue vs the uncut CD: {:.1} dBFS within {NEAR} samples of the cut, {:.1} dBFS elsewhere",
        db(at),
        db(away)
    );
    assert!(
        at <= away.max(1.0 / 32768.0) && db(at) < -85.0,
        "{at} vs {away}"
    );

    // The same bytes with one worker.
    let _ = build_ok(&dir, "pair.yaml", "pair-j1", &["-j", "1"]);
    let _ = build_ok(&dir, "pair.yaml", "pair-j2", &["-j", "2"]);
    let j1 = wav_data(&dir.join("pair-j1/cd/album.wav"));
    assert!(
        j1 == wav_data(&dir.join("pair-j2/cd/album.wav")),
        "-j 1 and -j 2 differ"
    );
    assert!(
        j1 == wav_data(&pair.join("cd/album.wav")),
        "-j 1 and the default differ"
    );

    if !have_tool("sox", "a_48k_segue_is_the_cd_of_the_uncut_signal (sox)") {
        return;
    }
    let sox = against_sox(&dir, &p, 1.0, PAUSE + k);
    eprintln!(
        "48 kHz segue vs sox rate -v: {:.1} dBFS at the cut, {:.1} dBFS elsewhere",
        db(sox.0),
        db(sox.1)
    );
    assert!(sox.0 <= sox.1 && db(sox.0) < -85.0, "{sox:?}");
}

/// `sox whole.wav vol GAIN rate -v 44100` as float, against the image
/// (its audio from PAUSE on): the largest difference at the cut and
/// elsewhere, the first and last 0.1 s left out (where the filters start
/// and end differently).
fn against_sox(dir: &Path, img: &[f64], gain: f64, cut: usize) -> (f64, f64) {
    let o = std::process::Command::new("sox")
        .current_dir(dir)
        .args([
            "whole.wav",
            "-e",
            "floating-point",
            "-b",
            "32",
            "sox.wav",
            "vol",
        ])
        .arg(format!("{gain:.12}"))
        .args(["rate", "-v", "44100"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = read_wav(&dir.join("sox.wav"));
    let n = r.len() / 2;
    let edge = 4410;
    // Frames of the image; the reference is shifted back by the pause.
    let shifted: Vec<f64> = std::iter::repeat_n(0.0, 2 * PAUSE).chain(r).collect();
    peaks(img, &shifted, 0, cut, PAUSE + edge, PAUSE + n - edge)
}

#[test]
fn a_44k_segue_is_the_uncut_signal_bit_for_bit() {
    let rate = 44_100;
    let (_, whole, pair, report, cut) = build_pair("segue-44k", rate, "  loudness_mode: off\n");
    let k = cut_on_the_cd(&report, rate, cut);
    assert_eq!(k, cut);
    let (w, p) = (
        wav_data(&whole.join("cd/album.wav")),
        wav_data(&pair.join("cd/album.wav")),
    );
    assert!(w == p, "the segued pair's image is not the uncut signal's");
    eprintln!(
        "44.1 kHz segue: album.wav identical to the uncut signal's ({} bytes)",
        w.len()
    );
}

#[test]
fn a_gain_only_album_mode_segue_is_one_gain_and_one_stream() {
    let rate = 48_000;
    let (dir, _, pair, report, cut) = build_pair(
        "segue-album",
        rate,
        "  loudness_mode: album\n  target_lufs: -17.0\n",
    );
    let k = cut_on_the_cd(&report, rate, cut);
    let gains: Vec<f64> = (0..2)
        .map(|i| num(&report["tracks"][i]["master"]["gain_db"]))
        .collect();
    assert_eq!(gains[0], gains[1], "one album gain for both tracks");
    // The masters back to back: the source times one gain (estimated by
    // least squares over the whole programme), within the 24-bit dither.
    let src = read_wav(&dir.join("whole.wav"));
    let mut masters = Vec::new();
    for m in super::masters(&pair) {
        masters.extend(read_wav(&m));
    }
    assert_eq!(masters.len(), src.len());
    let g = masters.iter().zip(&src).map(|(m, s)| m * s).sum::<f64>()
        / src.iter().map(|s| s * s).sum::<f64>();
    let worst = masters
        .iter()
        .zip(&src)
        .map(|(m, s)| (m - g * s).abs())
        .fold(0.0f64, f64::max);
    eprintln!(
        "album mode: gain {:.4} dB (report {:.2}); masters back to back within {:.1} dBFS of the source times it",
        db(g),
        gains[0],
        db(worst)
    );
    assert!((db(g) - gains[0]).abs() < 0.006);
    assert!(worst <= 2.0 / 8_388_608.0, "{worst}");
    if !have_tool(
        "sox",
        "a_gain_only_album_mode_segue_is_one_gain_and_one_stream (sox)",
    ) {
        return;
    }
    let sox = against_sox(&dir, &image(&pair), g, PAUSE + k);
    eprintln!(
        "album-mode segue vs sox vol {g:.6} rate -v: {:.1} dBFS at the cut, {:.1} dBFS elsewhere",
        db(sox.0),
        db(sox.1)
    );
    assert!(sox.0 <= sox.1 && db(sox.0) < -85.0, "{sox:?}");
}

/// What the CD pass of a run rests on: the resampler fed from a multiple
/// of its input period (160 frames at 48 kHz) into a stream gives the
/// whole stream's output frames from there on, once its filter has filled
/// (a few thousand frames), to rounding.
#[test]
fn the_resampler_resumes_on_the_streams_grid() {
    use glassmaster::dsp::Resampler;
    let x = signal(48_000);
    let x = part(&x, 0..96_000);
    let run = |from: usize| -> Block {
        let mut r = Resampler::new(48_000, 44_100).unwrap();
        let mut all = Block::default();
        let mut out = Block::default();
        for c in (from..x.len()).step_by(4096) {
            r.process(&part(&x, c..(c + 4096).min(x.len())), &mut out)
                .unwrap();
            all.left.extend_from_slice(&out.left);
            all.right.extend_from_slice(&out.right);
        }
        r.finish(&mut out).unwrap();
        all.left.extend_from_slice(&out.left);
        all.right.extend_from_slice(&out.right);
        all
    };
    assert_eq!(Resampler::period(48_000, 44_100), (160, 147));
    let whole = run(0);
    let from = 160 * 151;
    let late = run(from);
    let shift = from / 160 * 147;
    let worst = (3000..late.len() - 3000)
        .map(|k| (late.left[k] - whole.left[k + shift]).abs())
        .fold(0.0f64, f64::max);
    eprintln!(
        "resampler started {from} frames in: {:.1} dBFS from the whole stream's output",
        db(worst)
    );
    assert!(db(worst) < -140.0, "{worst}");
}
