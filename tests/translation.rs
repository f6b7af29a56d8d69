//! Playback translation (`analysis::translation`, the `track.mono_*`,
//! `track.phone_loss`, `track.low_end_*` and `track.psr` checks): signals
//! with known answers; every figure against an independent computation
//! in numpy/scipy (tests/fixtures/translation_reference.py) on the same
//! files, and the mono and phone losses against ffmpeg's `ebur128` after
//! ffmpeg's own filters (`pan`, `highpass`/`lowpass`); three-track albums
//! through `check --json`; clips of the real-music tracks, which raise no
//! check with the default thresholds.

use std::path::{Path, PathBuf};
use std::process::Command;

use glassmaster::analysis::translation::{phone_vs_album, Translation};
use glassmaster::analysis::{analyze_file_with_extras, Extras, Meter};
use glassmaster::audio::{Block, Decoder, WavFormat, BLOCK_FRAMES};
use glassmaster::manifest::model::{LoudnessMode, ReportThresholds};
use glassmaster::report::checks::{self, Stage, TrackFigures};
use glassmaster::report::translation;
use serde_json::Value;

use crate::build::music::{self, Style};
use crate::util::{bin, have_python, have_tool, scratch};

const RATE: u32 = 48_000;
const TAU: f64 = std::f64::consts::TAU;

/// Meters a block in pieces of 4096 frames; the figures and loudness.
fn measure(b: &Block, rate: u32) -> (Translation, glassmaster::analysis::Measurement) {
    let mut m = Meter::new(rate).unwrap().with_translation();
    for (l, r) in b.left.chunks(4096).zip(b.right.chunks(4096)) {
        m.add(&Block {
            left: l.to_vec(),
            right: r.to_vec(),
        });
    }
    let (m, _) = m.finish();
    (m.translation.clone().unwrap(), m)
}

fn sine(n: usize, rate: u32, f: f64, a: f64) -> Vec<f64> {
    (0..n)
        .map(|i| a * (TAU * f * i as f64 / f64::from(rate)).sin())
        .collect()
}

/// ffmpeg's integrated loudness of `path` after the filter `pre` ("" for
/// none).
fn ffmpeg_lufs(path: &Path, pre: &str) -> f64 {
    let af = if pre.is_empty() {
        "ebur128".to_owned()
    } else {
        format!("{pre},ebur128")
    };
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", &af, "-f", "null", "-"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let summary = err.rsplit("Summary:").next().unwrap();
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("I:"))
        .unwrap_or_else(|| panic!("no integrated loudness from ffmpeg: {err}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A 48 kHz 24-bit stereo WAV of `b`.
fn write(dir: &Path, name: &str, b: &Block) -> PathBuf {
    let p = dir.join(name);
    music::write(&p, b, RATE, 2, WavFormat::Int24);
    p
}

/// The bass of the right channel (under 120 Hz) inverted: the low band
/// taken by a zero-phase low-pass (forward and backward, so that
/// subtracting twice it inverts it rather than shifting its phase), the
/// whole scaled down 6 dB for headroom.
fn invert_bass(b: &mut Block, rate: u32) {
    let mut low = b.right.clone();
    music::lowpass(&mut low, rate, 120.0);
    low.reverse();
    music::lowpass(&mut low, rate, 120.0);
    low.reverse();
    for (x, l) in b.right.iter_mut().zip(&low) {
        *x -= 2.0 * l;
    }
    for x in b.left.iter_mut().chain(b.right.iter_mut()) {
        *x *= 0.5;
    }
}

#[test]
fn anti_phase_low_band_cancels_in_mono() {
    // In phase: 500 Hz, 3 kHz, 12 kHz; under 120 Hz: 50 Hz in anti-phase.
    let n = RATE as usize * 8;
    let mut l = vec![0.0; n];
    for (f, a) in [(500.0, 0.15), (3000.0, 0.1), (12_000.0, 0.05)] {
        for (x, s) in l.iter_mut().zip(sine(n, RATE, f, a)) {
            *x += s;
        }
    }
    let mut r = l.clone();
    for ((x, y), s) in l.iter_mut().zip(r.iter_mut()).zip(sine(n, RATE, 50.0, 0.4)) {
        *x += s;
        *y -= s;
    }
    let b = Block { left: l, right: r };
    let (t, m) = measure(&b, RATE);
    eprintln!("{t:?}");
    let [low, low_mid, high_mid, high] = t.band_correlation.map(Option::unwrap);
    assert!(low < -0.99, "under 120 Hz: {low}");
    for c in [low_mid, high_mid, high] {
        // (the 50 Hz tone leaks a little through the 120 Hz LR4 high-pass)
        assert!(c > 0.95, "the other bands stay in phase: {c}");
    }
    // The 50 Hz tone carries most of the energy (37 % under the 60 Hz
    // LR4, which passes 50 Hz at -3 dB), and all of it cancels.
    assert!(t.low_end_share_pct > 30.0);
    assert!(t.low_end_correlation.unwrap() < -0.99);
    let loss = t.mono_loss_lu.unwrap();
    assert!(loss > 1.0, "mono loss {loss}");
    // The same without the bass loses nothing.
    let flat = Block {
        left: b
            .left
            .iter()
            .zip(&b.right)
            .map(|(a, c)| 0.5 * (a + c))
            .collect(),
        right: b
            .left
            .iter()
            .zip(&b.right)
            .map(|(a, c)| 0.5 * (a + c))
            .collect(),
    };
    let (tf, _) = measure(&flat, RATE);
    assert!(tf.mono_loss_lu.unwrap().abs() < 0.01, "{tf:?}");

    if !have_tool("ffmpeg", "translation against ffmpeg") {
        return;
    }
    let dir = scratch("translation-anti-phase");
    let p = write(&dir, "a.wav", &b);
    let stereo = ffmpeg_lufs(&p, "");
    let mono = ffmpeg_lufs(&p, "pan=stereo|c0=0.5*c0+0.5*c1|c1=0.5*c0+0.5*c1");
    eprintln!(
        "ffmpeg: stereo {stereo} mono {mono}; ours {:?} loss {loss}",
        m.integrated_lufs
    );
    assert!((m.integrated_lufs.unwrap() - stereo).abs() < 0.2);
    assert!(
        (loss - (stereo - mono)).abs() < 0.2,
        "ffmpeg {}",
        stereo - mono
    );
}

/// Track 2 of a three-track album: 40 Hz carries most of it.
fn bass_heavy(secs: f64, seed: u64) -> Block {
    let mut b = music::compose(RATE, secs, seed, Style::BAND);
    music::level(&mut b, RATE, -30.0, -1.0);
    let n = b.left.len();
    for (i, s) in sine(n, RATE, 40.0, 0.5).into_iter().enumerate() {
        b.left[i] += s;
        b.right[i] += s;
    }
    b
}

/// Writes a three-track album (`tracks`) and its manifest; the manifest.
fn album(name: &str, tracks: &[Block], yaml: &str) -> PathBuf {
    let dir = scratch(name);
    let mut manifest = String::from(
        "glassmaster: 1\nrelease:\n  title: Translation\n  artist: The Test Band\ntracks:\n",
    );
    for (k, b) in tracks.iter().enumerate() {
        let file = format!("{:02} Song.wav", k + 1);
        write(&dir, &file, b);
        manifest.push_str(&format!("  - file: {file}\n    title: Song {}\n", k + 1));
    }
    manifest.push_str(yaml);
    let path = dir.join("album.yaml");
    std::fs::write(&path, manifest).unwrap();
    path
}

/// `check --json`: the document and the `(id, track)` of its checks.
fn check(manifest: &Path) -> (Value, Vec<(String, Option<u64>)>) {
    let out = Command::new(bin())
        .args(["check", "--json"])
        .arg(manifest)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let ids = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["track"].as_u64()))
        .collect();
    (doc, ids)
}

fn plain(seed: u64) -> Block {
    let mut b = music::compose(RATE, 6.0, seed, Style::BAND);
    music::level(&mut b, RATE, -16.0, -1.0);
    b
}

#[test]
fn bass_heavy_track_is_flagged_by_the_phone_model() {
    let heavy = bass_heavy(6.0, 812);
    let (t, m) = measure(&heavy, RATE);
    let (p, _) = measure(&plain(811), RATE);
    eprintln!("heavy {t:?}\nplain {p:?}");
    assert!(t.low_end_share_pct > 60.0 && p.low_end_share_pct < 30.0);
    assert!(t.phone_loss_lu.unwrap() > p.phone_loss_lu.unwrap() + 10.0);

    let path = album(
        "translation-phone",
        &[plain(811), heavy.clone(), plain(813)],
        "",
    );
    let (doc, ids) = check(&path);
    eprintln!("{ids:?}");
    for (id, track) in &ids {
        if id != "album.loudness_spread" {
            assert_eq!(*track, Some(2), "only the bass-heavy track: {id}");
        }
    }
    assert!(
        ids.contains(&("track.phone_loss".into(), Some(2))),
        "{doc:#}"
    );
    assert!(
        ids.contains(&("track.low_end_share".into(), Some(2))),
        "{doc:#}"
    );
    let vs = doc["tracks"][1]["translation"]["phone"]["vs_album_lu"]
        .as_f64()
        .unwrap();
    assert!(vs > 10.0, "{vs}");

    if !have_tool("ffmpeg", "phone model against ffmpeg") {
        return;
    }
    let dir = scratch("translation-phone-ffmpeg");
    let f = write(&dir, "heavy.wav", &heavy);
    let full = ffmpeg_lufs(&f, "");
    let phone = ffmpeg_lufs(
        &f,
        "highpass=f=400:poles=2,highpass=f=400:poles=2,lowpass=f=12000:poles=2",
    );
    let ours = t.phone_loss_lu.unwrap();
    eprintln!(
        "ffmpeg: full {full} phone {phone}; ours {ours} ({:?})",
        m.integrated_lufs
    );
    assert!(
        (ours - (full - phone)).abs() < 0.2,
        "ffmpeg {}",
        full - phone
    );
}

#[test]
fn inverted_bass_is_flagged_for_mono() {
    let mut bad = plain(822);
    invert_bass(&mut bad, RATE);
    let path = album("translation-mono", &[plain(821), bad, plain(823)], "");
    let (doc, ids) = check(&path);
    eprintln!("{ids:?}");
    for (id, track) in &ids {
        // (6 dB down: the album's loudness spread is no concern here.)
        if id != "album.loudness_spread" {
            assert_eq!(*track, Some(2), "only the inverted track: {id}");
        }
    }
    assert!(
        ids.contains(&("track.mono_correlation".into(), Some(2))),
        "{doc:#}"
    );
    let low = doc["tracks"][1]["translation"]["mono"]["correlation"]["low"]
        .as_f64()
        .unwrap();
    assert!(low < -0.5, "{low}");
    // The clean album raises none of the translation checks.
    let clean = album(
        "translation-clean",
        &[plain(821), plain(822), plain(823)],
        "",
    );
    let (doc, ids) = check(&clean);
    assert_eq!(ids, [], "{doc:#}");
}

#[test]
fn squashed_track_has_a_lower_psr() {
    let dynamic = plain(831);
    let mut squashed = dynamic.clone();
    music::level(&mut squashed, RATE, -10.0, -9.0);
    let (d, _) = measure(&dynamic, RATE);
    let (s, ms) = measure(&squashed, RATE);
    eprintln!("dynamic {d:?}\nsquashed {s:?}");
    assert!(s.psr_median_db.unwrap() < d.psr_median_db.unwrap() - 3.0);
    assert!(s.psr_min_db.unwrap() <= s.psr_median_db.unwrap());
    // The default limit (7 dB) flags the squashed one only.
    let t = ReportThresholds::default();
    let (_, md) = measure(&dynamic, RATE);
    let track = |m| TrackFigures {
        number: 1,
        title: "piece",
        m,
    };
    let flagged = translation::checks(&t, &[track(&ms)]);
    assert!(flagged.iter().any(|c| c.id == "track.psr"), "{flagged:?}");
    let flagged = translation::checks(&t, &[track(&md)]);
    assert!(flagged.is_empty(), "{flagged:?}");
}

/// The reference figures of `paths` from numpy/scipy
/// (tests/fixtures/translation_reference.py), one JSON object each;
/// `None` (with a skip message) without python3, numpy or scipy.
fn reference(paths: &[PathBuf], test: &str) -> Option<Vec<Value>> {
    if !have_python("numpy, scipy", test) {
        return None;
    }
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/translation_reference.py");
    let out = Command::new("python3")
        .arg(script)
        .args(paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), paths.len());
    Some(docs)
}

/// Asserts that `ours` (measured from the file, as `check` measures a
/// source) agrees with numpy's figures of the same file; returns the
/// largest differences (loudness figures LU, correlations, shares in
/// percentage points, PSR dB, PSR dB against scipy's interpolator) for
/// the log.
fn agree(name: &str, ours: &Translation, lufs: f64, np: &Value, scipy_db: f64) -> [f64; 5] {
    let f = |k: &str| np[k].as_f64();
    let close = |what: &str, a: Option<f64>, b: Option<f64>, tol: f64| -> f64 {
        match (a, b) {
            (Some(a), Some(b)) => {
                assert!((a - b).abs() <= tol, "{name} {what}: ours {a}, numpy {b}");
                (a - b).abs()
            }
            (None, None) => 0.0,
            _ => panic!("{name} {what}: ours {a:?}, numpy {b:?}"),
        }
    };
    let mut worst = [0.0f64; 5];
    worst[0] = [
        close("loudness", Some(lufs), f("integrated_lufs"), 0.05),
        close("mono loss", ours.mono_loss_lu, f("mono_loss_lu"), 0.05),
        close("phone loss", ours.phone_loss_lu, f("phone_loss_lu"), 0.05),
        close(
            "sub peak to loudness",
            ours.low_end_peak_to_loudness_db,
            f("low_end_peak_to_loudness_db"),
            0.05,
        ),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    for k in 0..4 {
        let band = np["band_correlation"][k].as_f64();
        // A band under the 0.01 % floor has no correlation of ours.
        if ours.band_correlation[k].is_some() {
            let d = close("band correlation", ours.band_correlation[k], band, 0.01);
            worst[1] = worst[1].max(d);
        }
        let share = np["band_share_pct"][k].as_f64();
        let d = close("band share", Some(ours.band_share_pct[k]), share, 0.05);
        worst[2] = worst[2].max(d);
    }
    if ours.low_end_correlation.is_some() {
        let d = close(
            "low-end correlation",
            ours.low_end_correlation,
            f("low_end_correlation"),
            0.01,
        );
        worst[1] = worst[1].max(d);
    }
    let d = close(
        "low-end share",
        Some(ours.low_end_share_pct),
        f("low_end_share_pct"),
        0.05,
    );
    worst[2] = worst[2].max(d);
    // PSR by the same definition (the 48-tap Hann-windowed sinc): the
    // least exactly, the median to our 0.1 dB histogram bins; against a
    // near-ideal interpolator (scipy's) within `scipy_db`: the short
    // filter, rolling off the top octave, misses inter-sample peaks of
    // hard-clipped material.
    worst[3] = close("PSR min", ours.psr_min_db, f("psr_bs1770_min_db"), 0.01).max(close(
        "PSR median",
        ours.psr_median_db,
        f("psr_bs1770_median_db"),
        0.06,
    ));
    worst[4] = close(
        "PSR min (scipy)",
        ours.psr_min_db,
        f("psr_min_db"),
        scipy_db,
    )
    .max(close(
        "PSR median (scipy)",
        ours.psr_median_db,
        f("psr_median_db"),
        scipy_db,
    ));
    worst
}

/// Measures `blocks` written as 48 kHz float WAVs through the library as
/// `check` does, and compares each with numpy's figures.
#[test]
fn figures_agree_with_numpy() {
    let dir = scratch("translation-numpy");
    let mut inverted = plain(842);
    invert_bass(&mut inverted, RATE);
    let mut squashed = plain(843);
    music::level(&mut squashed, RATE, -10.0, -9.0);
    // With PSR's tolerance against scipy's interpolator, dB: the squashed
    // piece is clipped at -9 dBFS, where the 48-tap filter reads the
    // inter-sample peaks 0.7 (least) to 1.0 dB (median) under scipy's;
    // the inverted piece 0.18 to 0.26 dB; the others within 0.04 dB.
    let cases = [
        ("plain", plain(841), 0.05),
        ("inverted-bass", inverted, 0.3),
        ("squashed", squashed, 1.0),
        ("bass-heavy", bass_heavy(6.0, 844), 0.05),
    ];
    let mut paths = Vec::new();
    for (name, b, _) in &cases {
        let p = dir.join(format!("{name}.wav"));
        music::write(&p, b, RATE, 2, WavFormat::Float32);
        paths.push(p);
    }
    let Some(np) = reference(&paths, "translation against numpy") else {
        return;
    };
    for ((name, _, tol), (p, np)) in cases.iter().zip(paths.iter().zip(&np)) {
        let a = analyze_file_with_extras(p, extras(), &mut |_| {}).unwrap();
        let t = a.measurement.translation.as_ref().unwrap();
        let lufs = a.measurement.integrated_lufs.unwrap();
        let worst = agree(name, t, lufs, np, *tol);
        eprintln!("{name}: ours {t:?}\n  numpy {np}\n  largest differences (LU, corr, %, PSR dB, PSR dB against scipy) {worst:?}");
    }
}

/// What `check` measures with `report:` at its defaults.
fn extras() -> Extras {
    Extras {
        min_dropout_ms: None,
        translation: true,
    }
}

/// 20 s of each real-music track (from 30 s in), written as float WAVs
/// and measured as `check` measures sources: the figures agree with
/// numpy's, and with the default thresholds no translation check is
/// raised, the eleven as one album (`-- --nocapture` prints the figures
/// the README quotes).
#[test]
fn real_music_raises_no_translation_check() {
    let Some(dir) = crate::analysis::real_music() else {
        return;
    };
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir.join("wav48"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    sources.sort();
    assert!(!sources.is_empty());
    let out = scratch("translation-real-music");
    let mut paths = Vec::new();
    for p in &sources {
        let mut dec = Decoder::open(p).unwrap();
        let rate = dec.info().sample_rate;
        assert_eq!(rate, RATE, "{}", p.display());
        let (skip, take) = (30 * rate as usize, 20 * rate as usize);
        let mut clip = Block::with_capacity(take);
        let mut block = Block::with_capacity(BLOCK_FRAMES);
        let mut pos = 0usize;
        while clip.left.len() < take && dec.read_block(&mut block).unwrap() > 0 {
            let n = block.left.len();
            let from = skip.saturating_sub(pos).min(n);
            let to = (skip + take).saturating_sub(pos).min(n);
            clip.left.extend_from_slice(&block.left[from..to]);
            clip.right.extend_from_slice(&block.right[from..to]);
            pos += n;
        }
        let clip_path = out.join(p.file_name().unwrap());
        music::write(&clip_path, &clip, RATE, 2, WavFormat::Float32);
        paths.push(clip_path);
    }
    let measured: Vec<_> = paths
        .iter()
        .map(|p| {
            analyze_file_with_extras(p, extras(), &mut |_| {})
                .unwrap()
                .measurement
        })
        .collect();
    let losses: Vec<_> = measured
        .iter()
        .map(|m| m.translation.as_ref().unwrap().phone_loss_lu)
        .collect();
    for ((p, m), vs) in paths.iter().zip(&measured).zip(phone_vs_album(&losses)) {
        eprintln!(
            "{}: {:?} vs album {vs:?}",
            p.file_name().unwrap().to_string_lossy(),
            m.translation
        );
    }
    if let Some(np) = reference(&paths, "real-music translation against numpy") {
        let mut worst = [0.0f64; 5];
        for ((p, m), np) in paths.iter().zip(&measured).zip(&np) {
            let name = p.file_name().unwrap().to_string_lossy();
            let t = m.translation.as_ref().unwrap();
            // Mastered music: the two interpolators agree to 0.01 dB.
            let w = agree(&name, t, m.integrated_lufs.unwrap(), np, 0.05);
            for (a, b) in worst.iter_mut().zip(w) {
                *a = a.max(b);
            }
        }
        eprintln!("against numpy, largest differences (LU, corr, %, PSR dB, PSR dB against scipy): {worst:?}");
    }
    let titles: Vec<String> = paths
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let figures: Vec<TrackFigures<'_>> = measured
        .iter()
        .zip(&titles)
        .enumerate()
        .map(|(i, (m, t))| TrackFigures {
            number: i as u32 + 1,
            title: t,
            m,
        })
        .collect();
    let flagged = translation::checks(&ReportThresholds::default(), &figures);
    assert!(flagged.is_empty(), "{flagged:#?}");
    // And through the whole rule set as `check` runs it on sources.
    let all = checks::run(
        &ReportThresholds::default(),
        LoudnessMode::Album,
        Stage::Sources,
        &figures,
    );
    assert!(
        !all.iter().any(|c| c.id.starts_with("track.mono")
            || c.id.starts_with("track.phone")
            || c.id.starts_with("track.low_end")
            || c.id == "track.psr"),
        "{all:#?}"
    );
}
