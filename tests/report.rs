//! The report: report.json's fields and round trip, report.html's content
//! (self-contained, small, every plot drawn, every track's row), the
//! spectral-outlier check and the meter's series and spectrum on generated
//! audio, and the page in headless Chromium, generated and the demo
//! album's (skipped without `chromium`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use glassmaster::analysis::{Measurement, Meter, BANDS};
use glassmaster::audio::{Block, BLOCK_FRAMES};
use glassmaster::manifest::model::{LoudnessMode, ReportThresholds};
use glassmaster::report::checks::{self, Stage, TrackFigures};
use glassmaster::report::model::{
    AlbumReport, CdReport, CheckEntry, MasterFigures, NormalisationRow, OutputEntry, Playback,
    ReleaseInfo, Report, SourceFigures, TrackCd, TrackReport,
};
use glassmaster::report::{render_html, CheckSeverity};

use crate::build::music;
use crate::util;

const PLOTS: [&str; 5] = [
    "plot-timeline",
    "plot-loudness",
    "plot-true-peak",
    "plot-spectrum",
    "plot-normalisation",
];

/// Seeded xorshift64* in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [a, b).
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

/// A generated album report: `tracks` tracks over `minutes` minutes, with
/// a CD layout, three stores' normalisation, some failed checks and
/// outputs. Numbers come from `seed`; one track is made dull (its top
/// octaves 20 dB down) so the spectrum plot has an outlier to show.
fn synthetic(tracks: usize, minutes: f64, seed: u64) -> Report {
    let mut rng = Rng(seed);
    let target = -14.0;
    let mut frame = 150u64;
    let mut list = Vec::new();
    let mut total_s = 0.0;
    for i in 0..tracks {
        let number = i as u32 + 1;
        let duration = minutes * 60.0 / tracks as f64 * rng.range(0.8, 1.2);
        total_s += duration;
        let src_lufs = rng.range(-22.0, -12.0);
        let master_lufs = target + rng.range(-1.5, 1.0);
        let tp = rng.range(-1.6, -0.9);
        let series: Vec<Option<f64>> = (0..duration as usize)
            .map(|k| {
                let t = k as f64 / duration;
                if k < 2 {
                    None
                } else {
                    Some(master_lufs + 4.0 * (t * 9.0 + i as f64).sin() + rng.range(-2.0, 2.0))
                }
            })
            .collect();
        let dull = i == tracks / 2;
        let spectrum: Vec<Option<f64>> = (0..BANDS)
            .map(|b| {
                let tilt = -0.25 * b as f64 + rng.range(-1.5, 1.5);
                let cut = if dull && b >= 22 { -20.0 } else { 0.0 };
                Some(-30.0 + tilt + cut)
            })
            .collect();
        let length = (duration * 75.0).round() as u64;
        // Two seconds before every track, as a `cd:` section's default.
        let pregap = 150;
        if i > 0 {
            frame += pregap;
        }
        let source = SourceFigures {
            path: format!("mixes/{number:02} Track {number}.wav"),
            sample_rate: 48_000,
            bit_depth: Some(24),
            channels: 2,
            duration_s: duration,
            integrated_lufs: Some(src_lufs),
            true_peak_dbtp: Some(rng.range(-6.0, -0.2)),
            sample_peak_dbfs: Some(rng.range(-6.5, -0.3)),
            loudness_range_lu: Some(rng.range(4.0, 12.0)),
            short_term_max_lufs: Some(src_lufs + rng.range(3.0, 8.0)),
            more: Default::default(),
            md5: None,
        };
        let mut master = MasterFigures {
            gain_db: master_lufs - src_lufs,
            integrated_lufs: Some(master_lufs),
            true_peak_dbtp: Some(tp),
            sample_peak_dbfs: Some(tp - rng.range(0.0, 0.4)),
            loudness_range_lu: Some(rng.range(3.0, 10.0)),
            short_term_max_lufs: Some(master_lufs + rng.range(3.0, 6.0)),
            plr_db: Some(tp - master_lufs),
            duration_s: duration,
            more: Default::default(),
            short_term: glassmaster::report::model::Series {
                step_s: 1.0,
                lufs: series,
            },
            spectrum_db: spectrum,
            chain_lufs: Some(src_lufs),
            wanted_lufs: Some(master_lufs),
            renders: 1,
            file: Some(format!("masters/{number:02} Song.wav")),
            reconstructed_peak_dbfs: Some(tp + rng.range(0.0, 0.2)),
        };
        master.more.dc_offset_dbfs = [Some(rng.range(-110.0, -80.0)), None];
        master.more.correlation = rng.range(0.2, 0.95);
        master.more.head_silence_s = rng.range(0.0, 0.5);
        master.more.tail_silence_s = rng.range(0.5, 4.0);
        list.push(TrackReport {
            number,
            title: format!("Song <{number}> & \"friends\""),
            artist: "The Generated".into(),
            isrc: Some(format!("GBABC26{:05}", number)),
            source,
            master,
            tonal_match: None,
            restoration: None,
            translation: None,
            codecs: Vec::new(),
            cd: Some(TrackCd {
                start_frame: frame,
                pregap_frames: pregap,
                length_frames: length,
                indexes: vec![frame],
                true_peak_dbtp: None,
                reconstructed_peak_dbfs: None,
            }),
            disc: 1,
        });
        frame += length;
    }
    let mut normalisation = Vec::new();
    for t in &list {
        let l = t.master.integrated_lufs.unwrap_or(-14.0);
        normalisation.push(NormalisationRow {
            profile: "spotify".into(),
            track: Some(t.number),
            gain_db: (-14.0 - l).min(-1.0 - t.master.true_peak_dbtp.unwrap_or(0.0)),
            playback: Playback::Album,
        });
        normalisation.push(NormalisationRow {
            profile: "youtube".into(),
            track: Some(t.number),
            gain_db: (-14.0 - l).min(0.0),
            playback: Playback::Album,
        });
    }
    normalisation.push(NormalisationRow {
        profile: "apple-music".into(),
        track: None,
        gain_db: -2.0,
        playback: Playback::Album,
    });
    let masters: Vec<f64> = list
        .iter()
        .filter_map(|t| t.master.integrated_lufs)
        .collect();
    let spread = masters.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - masters.iter().copied().fold(f64::INFINITY, f64::min);
    let peak = list
        .iter()
        .filter_map(|t| t.master.true_peak_dbtp)
        .fold(f64::NEG_INFINITY, f64::max);
    Report {
        glassmaster_version: "0.1.0".into(),
        manifest: "album.yaml".into(),
        release: ReleaseInfo {
            title: "Generated Album".into(),
            artist: "The Generated".into(),
            upc: Some("5012345678900".into()),
        },
        album: AlbumReport {
            target_lufs: target,
            loudness_mode: LoudnessMode::Album,
            integrated_lufs: Some(-14.1),
            true_peak_dbtp: Some(peak),
            loudness_range_lu: Some(6.3),
            loudness_spread_lu: Some(spread),
            duration_s: total_s,
            true_peak_ceiling_dbtp: -1.0,
        },
        tracks: list,
        cd: Some(CdReport {
            total_frames: frame,
            mcn: Some("5012345678900".into()),
        }),
        checks: vec![
            CheckEntry {
                id: "track.true_peak".into(),
                severity: CheckSeverity::Warning,
                track: Some(2),
                message: "track 2 peaks at -0.90 dBTP, over the -1.0 dBTP limit".into(),
            },
            CheckEntry {
                id: "album.loudness_spread".into(),
                severity: CheckSeverity::Error,
                track: None,
                message: "the tracks span 3.4 LU <b>".into(),
            },
        ],
        outputs: vec![OutputEntry {
            path: "cd/album.cue".into(),
            md5: "0123456789abcdef0123456789abcdef".into(),
        }],
        thresholds: ReportThresholds::default(),
        normalisation,
        bundles: Vec::new(),
        vinyl: None,
        cassette: None,
        discs: Vec::new(),
        timings: None,
    }
}

/// The SVG element with `id`, from its start tag to its end.
fn plot<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}"));
    let open = html[..start].rfind("<svg").expect("the id is on an <svg>");
    let end = start + html[start..].find("</svg>").expect("the svg is closed");
    &html[open..end]
}

/// The row of track `number` in the page's track table.
fn row(html: &str, number: u32) -> &str {
    let start = html
        .find(&format!("id=\"track-{number}\""))
        .unwrap_or_else(|| panic!("no row for track {number}"));
    let open = html[..start].rfind("<tr").expect("the id is on a <tr>");
    let end = start + html[start..].find("</tr>").expect("the row is closed");
    &html[open..end]
}

/// Checks a page (our HTML or Chromium's DOM of it) of an album with
/// `tracks` (their numbers) and `stores` normalisation profiles: every
/// plot is an `svg.plot` with drawn marks (the timeline a series per
/// track, the loudness and true-peak plots a bar per track, the spectrum
/// a panel per track, the normalisation plot a bar per store and track),
/// and every track has its row in the table and its own table.
fn assert_drawn(html: &str, tracks: &[u32], stores: usize, what: &str) {
    for id in PLOTS {
        let svg = plot(html, id);
        assert!(
            svg.contains("class=\"plot\""),
            "{what}: {id} is not an svg.plot"
        );
        let marks = svg.matches("class=\"mark").count();
        assert!(marks > 0, "{what}: {id} has no marks");
    }
    let n = tracks.len();
    for (id, mark, count) in [
        ("plot-timeline", "class=\"mark series\"", n),
        ("plot-loudness", "class=\"mark bar", n),
        ("plot-true-peak", "class=\"mark bar", n),
        ("plot-spectrum", "class=\"mark deviation", n),
        ("plot-normalisation", "class=\"mark bar", stores * n),
    ] {
        assert_eq!(
            plot(html, id).matches(mark).count(),
            count,
            "{what}: {id}, {mark}"
        );
    }
    assert_eq!(html.matches("<tr class=\"track-row").count(), n, "{what}");
    for &t in tracks {
        assert!(
            row(html, t).contains(&format!("<td>{t}</td>")),
            "{what}: the row of track {t} has no number"
        );
        assert!(
            html.contains(&format!("id=\"track-{t}-detail\"")),
            "{what}: no table for track {t}"
        );
    }
}

/// [`assert_drawn`] for a [`synthetic`] report: three stores, and the
/// dull track's spectrum panel is red, the rest are not.
fn assert_complete(html: &str, report: &Report, what: &str) {
    let tracks: Vec<u32> = report.tracks.iter().map(|t| t.number).collect();
    assert_drawn(html, &tracks, 3, what);
    assert_eq!(
        plot(html, "plot-spectrum")
            .matches("mark deviation over")
            .count(),
        1,
        "{what}"
    );
}

fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    assert!(!lower.contains("http"), "a URL in the page");
    assert!(!lower.contains("<script"), "a script in the page");
    assert!(!lower.contains(" src="), "something fetched by the page");
    assert!(
        !lower.contains("url("),
        "something fetched by the stylesheet"
    );
    assert!(!lower.contains("@import"), "an import in the stylesheet");
    assert!(!lower.contains("<link"), "a linked resource");
}

#[test]
fn report_html_three_tracks() {
    let r = synthetic(3, 12.0, 7);
    let html = render_html(&r).unwrap();
    assert_self_contained(&html);
    assert_complete(&html, &r, "3 tracks");
    // Escaped titles, the failed checks at the top, errors first.
    assert!(html.contains("Song &lt;2&gt; &amp; &quot;friends&quot;"));
    assert!(!html.contains("<b>"));
    let checks = html.find("id=\"failed-checks\"").unwrap();
    assert!(checks < html.find("id=\"overview\"").unwrap());
    let e = html.find("album.loudness_spread").unwrap();
    let w = html.find("track.true_peak").unwrap();
    assert!(
        checks < e && e < w,
        "the error is listed before the warning"
    );
    // The CD running time of the glance: total frames as MM:SS:FF.
    let cd = r.cd.as_ref().unwrap().total_frames;
    let msf = format!("{:02}:{:02}:{:02}", cd / 4500, cd / 75 % 60, cd % 75);
    assert!(html.contains(&msf), "CD time {msf}");
    // Same report, same bytes.
    assert_eq!(html, render_html(&r).unwrap());
    let dir = util::scratch("report-3");
    std::fs::write(dir.join("report.html"), &html).unwrap();
}

#[test]
fn report_html_sixty_minutes_is_small() {
    let r = synthetic(15, 60.0, 11);
    let html = render_html(&r).unwrap();
    assert_self_contained(&html);
    assert_complete(&html, &r, "60 minutes");
    let timeline = plot(&html, "plot-timeline").len();
    eprintln!(
        "60-minute report: {} bytes of HTML ({} in the timeline)",
        html.len(),
        timeline
    );
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    // Nothing without its place on the page.
    assert!(!html.contains("NaN") && !html.contains("inf"));
}

#[test]
fn report_json_round_trip_and_fields() {
    let r = synthetic(4, 16.0, 3);
    let json = r.to_json().unwrap();
    let back = Report::from_json(&json).unwrap();
    // Rounded on the way out: the text is a fixed point, and the value read
    // back is what a second reading gives.
    assert_eq!(back.to_json().unwrap(), json);
    assert_eq!(Report::from_json(&back.to_json().unwrap()).unwrap(), back);
    // Figures that are already round come back as they were.
    assert_eq!(back.tracks[0].cd, r.tracks[0].cd);
    assert_eq!(back.album.target_lufs, -14.0);
    assert_eq!(back.checks, r.checks);
    assert_eq!(back.normalisation.len(), r.normalisation.len());
    // cli.md's fields, in its order, before any addition.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let starts = |got: Vec<String>, want: &[&str]| {
        assert_eq!(&got[..want.len()], want, "{got:?}");
    };
    starts(
        keys(&v),
        &[
            "glassmaster_version",
            "manifest",
            "release",
            "album",
            "tracks",
            "cd",
            "checks",
            "outputs",
        ],
    );
    starts(keys(&v["release"]), &["title", "artist", "upc"]);
    starts(
        keys(&v["album"]),
        &[
            "target_lufs",
            "loudness_mode",
            "integrated_lufs",
            "true_peak_dbtp",
            "loudness_range_lu",
            "loudness_spread_lu",
            "duration_s",
        ],
    );
    let t = &v["tracks"][0];
    starts(
        keys(t),
        &[
            "number", "title", "artist", "isrc", "source", "master", "cd",
        ],
    );
    starts(
        keys(&t["source"]),
        &[
            "path",
            "sample_rate",
            "bit_depth",
            "channels",
            "duration_s",
            "integrated_lufs",
            "true_peak_dbtp",
            "sample_peak_dbfs",
            "loudness_range_lu",
        ],
    );
    starts(
        keys(&t["master"]),
        &[
            "gain_db",
            "integrated_lufs",
            "true_peak_dbtp",
            "sample_peak_dbfs",
            "loudness_range_lu",
            "short_term_max_lufs",
            "plr_db",
            "duration_s",
        ],
    );
    starts(
        keys(&t["cd"]),
        &["start_frame", "pregap_frames", "length_frames", "indexes"],
    );
    starts(keys(&v["cd"]), &["total_frames", "mcn"]);
    starts(
        keys(&v["checks"][0]),
        &["id", "severity", "track", "message"],
    );
    starts(keys(&v["outputs"][0]), &["path", "md5"]);
    assert_eq!(v["album"]["loudness_mode"], "album");
    assert_eq!(v["checks"][1]["severity"], "error");
    assert_eq!(v["checks"][1]["track"], serde_json::Value::Null);
    // Two decimals.
    let d = v["tracks"][0]["master"]["gain_db"].as_f64().unwrap();
    assert_eq!(d, (d * 100.0).round() / 100.0);
    // Without a CD, no cd keys at all.
    let mut no_cd = r.clone();
    no_cd.cd = None;
    for t in &mut no_cd.tracks {
        t.cd = None;
    }
    let v: serde_json::Value = serde_json::from_str(&no_cd.to_json().unwrap()).unwrap();
    assert!(v.get("cd").is_none() && v["tracks"][0].get("cd").is_none());
    // A report with cli.md's fields alone reads (the additions default).
    let mut minimal = v.clone();
    for k in ["thresholds", "normalisation"] {
        minimal.as_object_mut().unwrap().remove(k);
    }
    let back: Report = serde_json::from_value(minimal).unwrap();
    assert_eq!(back.thresholds, ReportThresholds::default());
}

// ---- generated audio through the meter -----------------------------------

const RATE: u32 = 48_000;

/// Pink-ish noise (Paul Kellet's economy filter on seeded white noise),
/// `seconds` long, channels partly correlated, without DC; optionally
/// low-passed by two 2nd-order Butterworth sections at `lowpass_hz` (-24
/// dB/octave).
fn pink(seconds: f64, seed: u64, lowpass_hz: Option<f64>) -> (Vec<f64>, Vec<f64>) {
    let n = (seconds * f64::from(RATE)) as usize;
    let mut rng = Rng(seed);
    let mut chans = [Vec::with_capacity(n), Vec::with_capacity(n)];
    let mut state = [[0.0f64; 3]; 2];
    for _ in 0..n {
        let common = rng.next() - 0.5;
        for (c, st) in chans.iter_mut().zip(state.iter_mut()) {
            let w = 0.6 * common + 0.4 * (rng.next() - 0.5);
            st[0] = 0.99765 * st[0] + w * 0.0990460;
            st[1] = 0.96300 * st[1] + w * 0.2965164;
            st[2] = 0.57000 * st[2] + w * 1.0526913;
            c.push(0.25 * (st[0] + st[1] + st[2] + w * 0.1848));
        }
    }
    if let Some(f) = lowpass_hz {
        for c in &mut chans {
            for _ in 0..2 {
                music::lowpass(c, RATE, f);
            }
        }
    }
    // The filter's slowest pole wanders: take out the DC it leaves.
    for c in &mut chans {
        let mean = c.iter().sum::<f64>() / c.len().max(1) as f64;
        c.iter_mut().for_each(|x| *x -= mean);
    }
    let [l, r] = chans;
    (l, r)
}

/// Meters planar stereo in the decoder's block size.
fn meter(l: &[f64], r: &[f64]) -> Measurement {
    let mut m = Meter::new(RATE).unwrap();
    for (a, b) in l.chunks(BLOCK_FRAMES).zip(r.chunks(BLOCK_FRAMES)) {
        m.add(&Block {
            left: a.to_vec(),
            right: b.to_vec(),
        });
    }
    m.finish().0
}

#[test]
fn spectral_check_flags_the_dull_track_only() {
    let thresholds = ReportThresholds::default();
    let run = |dull: Option<usize>| {
        let ms: Vec<Measurement> = (0..5)
            .map(|i| {
                let lp = (Some(i) == dull).then_some(1500.0);
                let (l, r) = pink(8.0, 100 + i as u64, lp);
                meter(&l, &r)
            })
            .collect();
        let titles: Vec<String> = (1..=5).map(|i| format!("Song {i}")).collect();
        let figures: Vec<TrackFigures<'_>> = ms
            .iter()
            .zip(&titles)
            .enumerate()
            .map(|(i, (m, t))| TrackFigures {
                number: i as u32 + 1,
                title: t,
                m,
            })
            .collect();
        let found: Vec<_> = checks::run(&thresholds, LoudnessMode::Album, Stage::Masters, &figures)
            .into_iter()
            .filter(|c| c.id == "track.spectral_balance")
            .collect();
        (found, ms)
    };
    let (found, ms) = run(Some(2));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].track, Some(3));
    assert!(found[0].message.contains("kHz"), "{}", found[0].message);
    eprintln!("{}", found[0].message);
    let (clean, _) = run(None);
    assert!(clean.is_empty(), "{clean:?}");
    // Without spectra (a meter without one), the rule says nothing.
    let stripped: Vec<Measurement> = ms
        .into_iter()
        .map(|mut m| {
            m.spectrum = None;
            m
        })
        .collect();
    let figures: Vec<TrackFigures<'_>> = stripped
        .iter()
        .map(|m| TrackFigures {
            number: 1,
            title: "x",
            m,
        })
        .collect();
    assert!(checks::spectral_outliers(&thresholds, &figures).is_empty());
}

#[test]
fn spectrum_of_pink_noise_and_a_low_passed_copy() {
    let (l, r) = pink(10.0, 42, None);
    let flat = meter(&l, &r).spectrum.unwrap();
    let (l, r) = pink(10.0, 42, Some(1000.0));
    let dull = meter(&l, &r).spectrum.unwrap();
    let fb = flat.balance().unwrap();
    let db = dull.balance().unwrap();
    // Pink noise: the same power in every 1/3 octave, 40 Hz to 16 kHz
    // within ±1.5 dB of its mean (the filter's ripple and the noise's).
    for (b, v) in fb.iter().enumerate().take(30).skip(3) {
        assert!(v.abs() < 1.5, "band {b}: {v:.2} dB");
    }
    // The low-passed copy: the same below 400 Hz, 24 dB an octave less
    // above 1 kHz (after the balance's own shift).
    for b in 0..14 {
        let a = flat.bands_db[b].unwrap();
        let d = dull.bands_db[b].unwrap();
        assert!((a - d).abs() < 0.5, "band {b}: {a:.2} vs {d:.2}");
    }
    let at = |b: usize| flat.bands_db[b].unwrap() - dull.bands_db[b].unwrap();
    // 2 kHz, 4 kHz and 8 kHz: one, two and three octaves up.
    assert!((at(20) - 24.0).abs() < 3.0, "{}", at(20));
    assert!((at(23) - 48.0).abs() < 3.0, "{}", at(23));
    assert!(at(26) > 65.0, "{}", at(26));
    assert!(db[25] < fb[25] - 40.0);
}

#[test]
fn short_term_series_follows_the_level() {
    // 10 s of a 1 kHz sine at -20 dBFS then 10 s at -30 dBFS, both
    // channels: -20 and -30 LUFS (EBU Tech 3341's case 1 rule).
    let n = 20 * RATE as usize;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let a = if i < n / 2 { 0.1 } else { 10f64.powf(-1.5) };
            a * (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(RATE)).sin()
        })
        .collect();
    let m = meter(&x, &x);
    let s = &m.short_term_series;
    assert_eq!(s.step_s(), 1.0);
    assert_eq!(s.len(), 20);
    // No value before a whole 3 s window is in.
    let all: Vec<Option<f64>> = s.lufs().collect();
    assert_eq!(&all[..2], &[None, None]);
    let v: Vec<f64> = all[2..].iter().map(|l| l.unwrap()).collect();
    // Point i ends at i + 1 s: whole 3 s windows inside either level.
    for (i, l) in v.iter().enumerate() {
        let t = i + 3;
        if (3..=10).contains(&t) {
            assert!((l + 20.0).abs() < 0.05, "{t} s: {l}");
        } else if t >= 13 {
            assert!((l + 30.0).abs() < 0.05, "{t} s: {l}");
        } else if t > 10 {
            assert!(*l < -20.1 && *l > -30.0, "{t} s: {l}");
        }
    }
    // Its maximum is the meter's short-term maximum (to the 100 ms grid).
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!((max - m.short_term_max_lufs.unwrap()).abs() < 0.05);
    // Into the report: one decimal, one point a second.
    let f = MasterFigures::from_measurement(0.0, &m);
    assert_eq!(f.short_term.lufs.len(), 20);
    assert_eq!(f.spectrum_db.len(), BANDS);
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["short_term"]["lufs"][5], -20.0);
    assert_eq!(json["short_term"]["step_s"], 1.0);
    let src = SourceFigures::from_measurement("a.wav", &m);
    assert_eq!(src.duration_s, 20.0);
}

// ---- headless Chromium -----------------------------------------------------

/// Runs Chromium headless on `args` with a fresh profile; returns stdout
/// and the wall time.
pub(crate) fn chromium(args: &[String], profile: &Path) -> (String, Duration) {
    let t = Instant::now();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8_lossy(&out.stdout).into_owned(), took)
}

/// The best of three runs of `args`, each with a fresh profile.
fn best_of_three(dir: &Path, name: &str, args: &[String]) -> (String, Duration) {
    let mut best: Option<(String, Duration)> = None;
    for k in 0..3 {
        let profile = dir.join(format!("profile-{name}-{k}"));
        let (dom, t) = chromium(args, &profile);
        if best.as_ref().is_none_or(|b| t < b.1) {
            best = Some((dom, t));
        }
    }
    best.expect("three runs")
}

#[test]
fn report_in_headless_chromium() {
    if !util::have_tool("chromium", "report_in_headless_chromium") {
        return;
    }
    let dir = util::scratch("report-chromium");
    for (name, r) in [
        ("three", synthetic(3, 12.0, 7)),
        ("sixty", synthetic(15, 60.0, 11)),
    ] {
        let page = dir.join(format!("{name}.html"));
        std::fs::write(&page, render_html(&r).unwrap()).unwrap();
        let url = format!("file://{}", page.display());
        let (dom, took) = best_of_three(&dir, name, &["--dump-dom".into(), url]);
        assert!(dom.contains("<svg"), "{name}: Chromium gave no DOM");
        assert_complete(&dom, &r, &format!("Chromium's DOM of {name}"));
        if name == "sixty" {
            // The page's own time, measured inside Chromium: a wrapper page
            // (the test's, with a script; the report has none) loads the
            // report in a 1280 × 2400 frame and notes, when it has loaded,
            // the time since navigation and forces a layout of it.
            let wrapper = dir.join("timing.html");
            std::fs::write(
                &wrapper,
                format!(
                    r#"<!DOCTYPE html><html><body><pre id="t">none</pre>
<iframe id="f" style="width:1280px;height:2400px" src="{name}.html"></iframe>
<script>
document.getElementById("f").onload = function () {{
  var d = this.contentDocument;
  var h = d ? d.documentElement.scrollHeight : -1;
  document.getElementById("t").textContent = "page " + performance.now().toFixed(1) + " ms height " + h;
}};
</script></body></html>"#
                ),
            )
            .unwrap();
            let (dom, _) = best_of_three(
                &dir,
                "timing",
                &[
                    "--allow-file-access-from-files".into(),
                    "--dump-dom".into(),
                    format!("file://{}", wrapper.display()),
                ],
            );
            let line = dom
                .split("<pre id=\"t\">")
                .nth(1)
                .and_then(|s| s.split("</pre>").next())
                .unwrap_or("")
                .to_string();
            let mut words = line.split_whitespace();
            assert_eq!(words.next(), Some("page"), "{line}");
            let ms: f64 = words.next().and_then(|w| w.parse().ok()).expect("a time");
            let height: i64 = words.nth(2).and_then(|w| w.parse().ok()).expect("a height");
            assert!(height > 2000, "the report was not laid out: {line}");
            // Chromium's own start-up: an empty page the same way.
            let (_, blank) =
                best_of_three(&dir, "blank", &["--dump-dom".into(), "about:blank".into()]);
            eprintln!(
                "Chromium --dump-dom, best of 3: 60-minute report {:.0} ms wall, about:blank {:.0} ms wall; \
                 inside Chromium the report loads and lays out in {ms:.0} ms ({height} px tall)",
                took.as_secs_f64() * 1000.0,
                blank.as_secs_f64() * 1000.0,
            );
            assert!(ms < 1000.0, "the page took {ms} ms");
        }
    }
}

/// The demo album's report.html, from the build the tests share, in
/// headless Chromium: from the DOM, every plot has drawn marks (a mark per
/// track, a bar per store and track) and each of the three tracks has
/// its row, with its title and ISRC, and its table.
#[test]
fn demo_report_in_headless_chromium() {
    if !util::have_tool("chromium", "demo_report_in_headless_chromium") {
        return;
    }
    let (out, report) = crate::build::demo_build();
    let tracks: Vec<&serde_json::Value> = report["tracks"].as_array().unwrap().iter().collect();
    let numbers: Vec<u32> = tracks
        .iter()
        .map(|t| t["number"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    let mut stores: Vec<&str> = report["normalisation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    stores.sort_unstable();
    stores.dedup();
    assert!(!stores.is_empty(), "no normalisation in the demo's report");
    let dir = util::scratch("report-demo-chromium");
    let url = format!("file://{}", out.join("report.html").display());
    let (dom, took) = chromium(&["--dump-dom".into(), url], &dir.join("profile"));
    assert!(dom.contains("<svg"), "Chromium gave no DOM");
    assert_drawn(&dom, &numbers, stores.len(), "Chromium's DOM of the demo");
    for t in tracks {
        let n = t["number"].as_u64().unwrap() as u32;
        for field in ["title", "isrc"] {
            let v = t[field].as_str().unwrap();
            assert!(
                row(&dom, n).contains(&format!(">{v}</td>")),
                "the row of track {n} has no {field} {v}"
            );
        }
    }
    eprintln!(
        "demo report in Chromium: {} tracks, {} stores ({}), DOM of {} bytes in {:.0} ms",
        numbers.len(),
        stores.len(),
        stores.join(", "),
        dom.len(),
        took.as_secs_f64() * 1000.0
    );
}

#[test]
fn report_screenshot() {
    if !util::have_tool("chromium", "report_screenshot") {
        return;
    }
    // A PNG of the 3-track report, as examples/report_screenshot.rs makes
    // of a real one; REPORT_PNG names where to write it.
    let dir = util::scratch("report-screenshot");
    let page = dir.join("report.html");
    std::fs::write(&page, render_html(&synthetic(6, 30.0, 5)).unwrap()).unwrap();
    let png = std::env::var_os("REPORT_PNG").map_or_else(|| dir.join("report.png"), Into::into);
    let (_, took) = chromium(
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2400".into(),
            "--hide-scrollbars".into(),
            format!("file://{}", page.display()),
        ],
        &dir.join("profile"),
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // Width and height from the IHDR chunk.
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1280, 2400));
    assert!(bytes.len() > 50_000, "a blank page? {} bytes", bytes.len());
    eprintln!(
        "screenshot {} ({} bytes) in {:.0} ms",
        png.display(),
        bytes.len(),
        took.as_secs_f64() * 1000.0
    );
}

/// `check --strict` on a generated album of five pink-noise tracks: with
/// one of them low-passed, exit 1 naming that track's spectral balance;
/// without, exit 0 and no check.
#[test]
fn check_strict_flags_a_dull_source() {
    use glassmaster::audio::{WavFormat, WavWriter};
    for dull in [true, false] {
        let dir = util::scratch(if dull {
            "report-check-dull"
        } else {
            "report-check-clean"
        });
        std::fs::create_dir_all(dir.join("mixes")).unwrap();
        let mut yaml = String::from(
            "glassmaster: 1\nrelease:\n  title: Pink\n  artist: Noise\nisrc:\n  registrant: US-XYZ\n  year: 26\ntracks:\n",
        );
        for i in 0..5u64 {
            let lp = (dull && i == 2).then_some(1500.0);
            let (l, r) = pink(8.0, 200 + i, lp);
            let name = format!("mixes/{}.wav", i + 1);
            let mut w = WavWriter::create(&dir.join(&name), RATE, 2, WavFormat::Int24).unwrap();
            for (a, b) in l.chunks(BLOCK_FRAMES).zip(r.chunks(BLOCK_FRAMES)) {
                w.write_block(&Block {
                    left: a.to_vec(),
                    right: b.to_vec(),
                })
                .unwrap();
            }
            w.finalize().unwrap();
            yaml.push_str(&format!("  - file: {name}\n    title: Pink {}\n", i + 1));
        }
        std::fs::write(dir.join("album.yaml"), yaml).unwrap();
        let out = Command::new(util::bin())
            .current_dir(&dir)
            .args(["check", "--strict", "--json", "album.yaml"])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let spectral: Vec<&serde_json::Value> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"] == "track.spectral_balance")
            .collect();
        if dull {
            assert_eq!(out.status.code(), Some(1), "{doc}");
            assert_eq!(spectral.len(), 1, "{doc}");
            assert_eq!(spectral[0]["track"], 3);
            assert_eq!(spectral[0]["severity"], "error");
        } else {
            assert_eq!(out.status.code(), Some(0), "{doc}");
            assert!(doc["checks"].as_array().unwrap().is_empty(), "{doc}");
        }
    }
}
