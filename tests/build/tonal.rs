//! Issue 13: tonal matching through `glassmaster build`, measured by the
//! test's own FFT (a Welch average of Hann-windowed frames, summed into
//! 1/3-octave bands, each spectrum's mean over the bands removed so that
//! level does not count) — not by glassmaster's analyser.
//!
//! A real-music excerpt (20 s) is altered in the test by RBJ biquads
//! written here (a +5 dB low shelf at 150 Hz, a -5 dB bell at 2.5 kHz):
//! - `to: album`, `strength: 1`, for each of the eleven tracks (10 s):
//!   an album of four unaltered copies and one altered (the shelf on
//!   every other track, the bell on the rest); the altered master's
//!   distance to the original is at most a quarter of its source's, and
//!   the unaltered masters stay within 0.5 dB of their source in every
//!   band. (tonal_album.rs: an album of the eleven different pieces.)
//! - `to: reference` with the original as the reference: the altered
//!   copy's master comes within 1 dB RMS of it.
//! - `strength: 0` masters bit for bit as without `match`; a reference
//!   that is too short, silent or not audio fails with a message and exit
//!   1; a mono reference at another rate works.

use std::path::Path;

use rustfft::{num_complex::Complex, FftPlanner};

use super::{build_ok, gm, num};
use crate::dsp::ceiling::real_music;
use crate::util::scratch;

const RATE: u32 = 48_000;

pub(super) fn write_wav24(path: &Path, rate: u32, channels: &[&[f64]]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample(
                (c[i] * 8_388_607.0)
                    .round()
                    .clamp(-8_388_608.0, 8_388_607.0) as i32,
            )
            .unwrap();
        }
    }
    w.finalize().unwrap();
}

pub(super) fn read_wav(path: &Path) -> [Vec<f64>; 2] {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let full = f64::from(1u32 << (spec.bits_per_sample - 1));
    let v: Vec<f64> = r
        .samples::<i32>()
        .map(|s| f64::from(s.unwrap()) / full)
        .collect();
    let ch = usize::from(spec.channels);
    [
        v.iter().step_by(ch).copied().collect(),
        v.iter().skip(ch - 1).step_by(ch).copied().collect(),
    ]
}

/// An RBJ cookbook biquad (shelf or bell), run over `x` in place.
pub(super) fn biquad(x: &mut [f64], rate: f64, kind: &str, f0: f64, gain_db: f64, q: f64) {
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = std::f64::consts::TAU * f0 / rate;
    let (cw, sw) = (w0.cos(), w0.sin());
    let alpha = sw / (2.0 * q);
    let (b, den) = match kind {
        "bell" => (
            [1.0 + alpha * a, -2.0 * cw, 1.0 - alpha * a],
            [1.0 + alpha / a, -2.0 * cw, 1.0 - alpha / a],
        ),
        _ => {
            // Low shelf.
            let s = 2.0 * a.sqrt() * alpha;
            (
                [
                    a * ((a + 1.0) - (a - 1.0) * cw + s),
                    2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
                    a * ((a + 1.0) - (a - 1.0) * cw - s),
                ],
                [
                    (a + 1.0) + (a - 1.0) * cw + s,
                    -2.0 * ((a - 1.0) + (a + 1.0) * cw),
                    (a + 1.0) + (a - 1.0) * cw - s,
                ],
            )
        }
    };
    let (b0, b1, b2) = (b[0] / den[0], b[1] / den[0], b[2] / den[0]);
    let (a1, a2) = (den[1] / den[0], den[2] / den[0]);
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    for v in x.iter_mut() {
        let y = b0 * *v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        (x2, x1, y2, y1) = (x1, *v, y1, y);
        *v = y;
    }
}

/// The test's own 1/3-octave spectrum, 31.5 Hz to 16 kHz (26 bands),
/// dB, with its mean over the bands removed.
pub fn bands_db(ch: &[Vec<f64>; 2], rate: u32) -> Vec<f64> {
    let n = 16_384;
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n);
    let win: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        .collect();
    let mut power = vec![0.0; n / 2];
    let mut buf = vec![Complex::default(); n];
    for c in ch {
        let mut start = 0;
        while start + n <= c.len() {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = Complex::new(c[start + i] * win[i], 0.0);
            }
            fft.process(&mut buf);
            for (p, b) in power.iter_mut().zip(&buf) {
                *p += b.norm_sqr();
            }
            start += n / 2;
        }
    }
    let df = f64::from(rate) / n as f64;
    let db: Vec<f64> = (2..28)
        .map(|k| {
            let c = 1000.0 * 10f64.powf((k as f64 - 17.0) / 10.0);
            let (lo, hi) = (c / 10f64.powf(0.05), c * 10f64.powf(0.05));
            let p: f64 = (1..n / 2)
                .filter(|&i| (lo..hi).contains(&(i as f64 * df)))
                .map(|i| power[i])
                .sum();
            10.0 * p.log10()
        })
        .collect();
    let mean = db.iter().sum::<f64>() / db.len() as f64;
    db.iter().map(|d| d - mean).collect()
}

/// RMS over the bands of a − b (each already without its mean), dB.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let m = d.iter().sum::<f64>() / d.len() as f64;
    (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / d.len() as f64).sqrt()
}

/// The most any band differs between two spectra, dB.
pub fn worst_band(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The excerpt and its two altered copies; `None` without real music.
fn excerpt() -> Option<[[Vec<f64>; 2]; 3]> {
    let b = real_music("wav48", "hr3-desert.wav", 40.0, 20.0, 0.0)?;
    let orig = [b.left, b.right];
    let alter = |kind: &str, f0: f64, g: f64, q: f64| {
        let mut c = orig.clone();
        for ch in c.iter_mut() {
            biquad(ch, f64::from(RATE), kind, f0, g, q);
            // Headroom for the boost: the master's limiter is not tested.
            ch.iter_mut().for_each(|v| *v *= 0.5);
        }
        c
    };
    let shelf = alter("shelf", 150.0, 5.0, 0.707);
    let bell = alter("bell", 2500.0, -5.0, 1.0);
    Some([orig, shelf, bell])
}

pub(super) fn manifest(files: &[&str], mastering_extra: &str) -> String {
    let mut m = format!(
        "glassmaster: 1\nrelease: {{ title: Match, artist: Test }}\nmastering:\n  loudness_mode: album\n  target_lufs: -20\n{mastering_extra}tracks:\n"
    );
    for (i, f) in files.iter().enumerate() {
        m += &format!("  - {{ file: {f}, title: T{} }}\n", i + 1);
    }
    m
}

/// One album of `name`: four unaltered copies and one altered (a +5 dB
/// shelf at 150 Hz or a -5 dB bell at 2.5 kHz), matched `to: album` with
/// `strength: 1`; returns each track's (distance to the original before,
/// after) and whether it was altered, by the test's FFT.
fn album_of_copies(name: &str, shelf: bool) -> Option<Vec<(f64, f64, bool)>> {
    let b = real_music("wav48", &format!("{name}.wav"), 30.0, 10.0, 0.0)?;
    let orig = [b.left, b.right];
    let mut alt = orig.clone();
    for ch in alt.iter_mut() {
        if shelf {
            biquad(ch, f64::from(RATE), "shelf", 150.0, 5.0, 0.707);
        } else {
            biquad(ch, f64::from(RATE), "bell", 2500.0, -5.0, 1.0);
        }
        // Headroom for the boost: the master's limiter is not tested.
        ch.iter_mut().for_each(|v| *v *= 0.5);
    }
    let dir = scratch(&format!("tonal-album-{name}"));
    write_wav24(&dir.join("o.wav"), RATE, &[&orig[0], &orig[1]]);
    write_wav24(&dir.join("a.wav"), RATE, &[&alt[0], &alt[1]]);
    // Each unaltered track's target is the median of three copies and
    // the altered one: the original.
    let files = ["o.wav", "a.wav", "o.wav", "o.wav", "o.wav"];
    let text = manifest(&files, "  match: { to: album, strength: 1 }\n");
    std::fs::write(dir.join("album.yaml"), text).unwrap();
    let (report, _) = build_ok(&dir, "album.yaml", "out", &[]);
    let reference = bands_db(&orig, RATE);
    let masters = super::masters(&dir.join("out"));
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let src = bands_db(&read_wav(&dir.join(f)), RATE);
        let got = bands_db(&read_wav(&masters[i]), RATE);
        let altered = *f == "a.wav";
        let m = &report["tracks"][i]["match"];
        if altered {
            assert!(num(&m["distance_after_db"]) < num(&m["distance_before_db"]));
            out.push((distance(&src, &reference), distance(&got, &reference), true));
        } else {
            // An unaltered track: how far any band moved.
            out.push((0.0, worst_band(&src, &got), false));
        }
    }
    Some(out)
}

#[test]
fn album_matching_corrects_the_altered_tracks_and_leaves_the_others() {
    // Each of the eleven tracks (10 s), two albums at a time.
    let names = crate::build::tonal_album::NAMES;
    let results: Vec<Option<Vec<(f64, f64, bool)>>> = std::thread::scope(|s| {
        let jobs: Vec<_> = (0..2)
            .map(|w| {
                s.spawn(move || {
                    (w..names.len())
                        .step_by(2)
                        .map(|k| (k, album_of_copies(names[k], k % 2 == 0)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = jobs.into_iter().flat_map(|j| j.join().unwrap()).collect();
        all.sort_by_key(|(k, _)| *k);
        all.into_iter().map(|(_, r)| r).collect()
    });
    let mut failures = Vec::new();
    for (name, r) in names.iter().zip(results) {
        let Some(r) = r else {
            return;
        };
        let mut moved = 0.0f64;
        for (before, after, altered) in r {
            if altered {
                eprintln!("{name} altered: distance to the original {before:.2} -> {after:.2} dB (test FFT)");
                if before <= 1.0 || after > 0.25 * before {
                    failures.push(format!("{name}: altered {before:.2} -> {after:.2} dB"));
                }
            } else {
                moved = moved.max(after);
                if after >= 0.5 {
                    failures.push(format!("{name}: an unaltered copy moved {after:.2} dB"));
                }
            }
        }
        eprintln!("{name}: the unaltered copies moved at most {moved:.2} dB in a band");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn reference_matching_brings_the_copy_within_1_db_of_the_original() {
    let Some([orig, shelf, bell]) = excerpt() else {
        return;
    };
    let dir = scratch("tonal-reference");
    write_wav24(&dir.join("o.wav"), RATE, &[&orig[0], &orig[1]]);
    write_wav24(&dir.join("s.wav"), RATE, &[&shelf[0], &shelf[1]]);
    write_wav24(&dir.join("b.wav"), RATE, &[&bell[0], &bell[1]]);
    let text = manifest(
        &["s.wav", "b.wav"],
        "  match: { to: reference, reference: [o.wav], strength: 1, width: true }\n",
    );
    std::fs::write(dir.join("ref.yaml"), text).unwrap();
    let (report, _) = build_ok(&dir, "ref.yaml", "out", &[]);
    let reference = bands_db(&orig, RATE);
    for (i, m) in super::masters(&dir.join("out")).iter().enumerate() {
        let src = if i == 0 { &shelf } else { &bell };
        let before = distance(&bands_db(src, RATE), &reference);
        let after = distance(&bands_db(&read_wav(m), RATE), &reference);
        eprintln!(
            "reference match, track {}: {before:.2} dB -> {after:.2} dB",
            i + 1
        );
        assert!(
            after < 1.0,
            "track {}: {after:.2} dB from the reference",
            i + 1
        );
        assert_eq!(report["tracks"][i]["match"]["to"], "reference");
    }
}

#[test]
fn strength_zero_is_bit_identical_and_bad_references_fail_clearly() {
    // Generated, short: pink-ish noise from a fixed seed, 12 s.
    let n = 12 * RATE as usize;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
    let (mut pl, mut pr) = (0.0, 0.0);
    for (a, b) in l.iter_mut().zip(r.iter_mut()) {
        pl = 0.98 * pl + 0.1 * noise();
        pr = 0.98 * pr + 0.1 * noise();
        (*a, *b) = (pl, pr);
    }
    let dir = scratch("tonal-zero");
    write_wav24(&dir.join("a.wav"), RATE, &[&l, &r]);
    write_wav24(&dir.join("b.wav"), RATE, &[&r, &l]);
    let plain = manifest(&["a.wav", "b.wav"], "");
    let zero = manifest(&["a.wav", "b.wav"], "  match: { to: album, strength: 0 }\n");
    std::fs::write(dir.join("plain.yaml"), plain).unwrap();
    std::fs::write(dir.join("zero.yaml"), zero).unwrap();
    build_ok(&dir, "plain.yaml", "plain", &[]);
    build_ok(&dir, "zero.yaml", "zero", &[]);
    let (a, b) = (
        super::masters(&dir.join("plain")),
        super::masters(&dir.join("zero")),
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
    }

    // References: 5 s, silent, not audio, and a mono one at 44.1 kHz.
    write_wav24(
        &dir.join("short.wav"),
        RATE,
        &[&l[..5 * RATE as usize], &r[..5 * RATE as usize]],
    );
    let silent = vec![0.0; n];
    write_wav24(&dir.join("silent.wav"), RATE, &[&silent, &silent]);
    std::fs::write(dir.join("text.wav"), "not audio").unwrap();
    let mono: Vec<f64> = l
        .iter()
        .step_by(2)
        .copied()
        .chain(l.iter().step_by(2).copied())
        .collect();
    write_wav24(&dir.join("mono.wav"), 44_100, &[&mono]);
    for (reference, wanted) in [
        ("short.wav", "at least 10 s"),
        ("silent.wav", "silent"),
        ("text.wav", "text.wav"),
        ("nothere.wav", "no such file"),
    ] {
        let text = manifest(
            &["a.wav"],
            &format!("  match: {{ to: reference, reference: [{reference}] }}\n"),
        );
        std::fs::write(dir.join("bad.yaml"), text).unwrap();
        let o = gm(&dir, &["build", "bad.yaml", "-o", "bad"]);
        let err = String::from_utf8_lossy(&o.stderr);
        eprintln!("{reference}: {err}");
        assert_eq!(o.status.code(), Some(1), "{reference}: {err}");
        assert!(
            err.contains(wanted) && err.contains(reference),
            "{reference}: {err}"
        );
        assert!(!err.contains("panicked"));
        assert!(!dir.join("bad").join("masters").exists());
    }
    let text = manifest(
        &["a.wav"],
        "  match: { to: reference, reference: [mono.wav], width: true }\n",
    );
    std::fs::write(dir.join("mono.yaml"), text).unwrap();
    let (report, _) = build_ok(&dir, "mono.yaml", "mono", &[]);
    assert_eq!(report["tracks"][0]["match"]["applied"], true);

    // One album, two resolutions: refused at the track's `resolution`.
    let text = manifest(&["a.wav", "b.wav"], "  match: { to: album }\n")
        .replace("title: T2 }", "title: T2, match: { resolution: erb } }");
    std::fs::write(dir.join("mixed.yaml"), &text).unwrap();
    let line = text.lines().position(|l| l.contains("erb")).unwrap() + 1;
    let o = gm(&dir, &["build", "mixed.yaml", "-o", "mixed"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("mixed.yaml:{line}:")) && err.contains("tracks[2].match.resolution"),
        "{err}"
    );
    assert!(!dir.join("mixed").exists());
}

/// Pink-ish noise (three one-pole sums, a fixed seed), stereo, `secs` long.
fn pink(seed: u64, secs: f64) -> [Vec<f64>; 2] {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let n = (secs * f64::from(RATE)) as usize;
    let mut out = [vec![0.0; n], vec![0.0; n]];
    for ch in out.iter_mut() {
        let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
        for v in ch.iter_mut() {
            let w = rnd();
            a = 0.997 * a + 0.029 * w;
            b = 0.963 * b + 0.032 * w;
            c = 0.57 * c + 0.048 * w;
            *v = 0.6 * (a + b + c + 0.018 * w);
        }
    }
    out
}

#[test]
fn check_strict_flags_the_18_db_track_only_and_matching_clears_it() {
    let dir = scratch("tonal-check");
    for i in 0..3u64 {
        let mut t = pink(7 + i, 10.0);
        if i == 1 {
            for ch in t.iter_mut() {
                biquad(ch, f64::from(RATE), "bell", 1000.0, 18.0, 4.3);
                ch.iter_mut().for_each(|v| *v *= 0.3);
            }
        }
        write_wav24(&dir.join(format!("{}.wav", i + 1)), RATE, &[&t[0], &t[1]]);
    }
    let spectral = |doc: &serde_json::Value| -> Vec<serde_json::Value> {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"] == "track.spectral_balance")
            .map(|c| c["track"].clone())
            .collect()
    };
    let files = ["1.wav", "2.wav", "3.wav"];
    std::fs::write(dir.join("plain.yaml"), manifest(&files, "")).unwrap();
    let o = gm(&dir, &["check", "--strict", "--json", "plain.yaml"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{doc}");
    assert_eq!(spectral(&doc), vec![serde_json::json!(2)], "{doc}");

    let text = manifest(&files, "  match: { to: album }\n");
    std::fs::write(dir.join("match.yaml"), text).unwrap();
    // `check` shows the plan: track 2 cut at 1 kHz by half (the default
    // strength) of its distance to the target there, at most 6 dB.
    let o = gm(&dir, &["check", "--json", "match.yaml"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let bands = doc["tracks"][1]["match"]["bands"]
        .as_array()
        .unwrap()
        .clone();
    let at_1k = bands.iter().find(|b| b["hz"] == 1000.0).unwrap();
    let wanted = (0.5 * (num(&at_1k["target_db"]) - num(&at_1k["before_db"]))).max(-6.0);
    let c = num(&at_1k["correction_db"]);
    assert!(wanted < -4.0 && (c - wanted).abs() < 0.02, "{at_1k}");
    let o = gm(&dir, &["check", "match.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("match: track 2"), "{err}");
    let (report, _) = build_ok(&dir, "match.yaml", "out", &[]);
    assert!(spectral(&report).is_empty(), "{}", report["checks"]);
}
