//! Issue 13 on an album of different pieces: the eleven real-music tracks
//! (12 s of each), four of them altered in the test (±5 dB shelves and
//! bells, fixed choices), built with `match: { to: album, strength: 1,
//! max_db: 12 }` twice: once with the clean tracks, once with the four
//! altered. Measured by the test's own FFT (tonal.rs `bands_db`), not by
//! glassmaster:
//! - each altered track's master against its master in the clean album:
//!   at least half of the alteration is undone (0.49-0.78 dB left of
//!   1.43-2.10 dB). The rest: bands that want more than `max_db` (these
//!   pieces differ by up to 19 dB in a band) and the median target moving
//!   when four of eleven tracks change;
//! - the seven unaltered tracks come out of the altered album within
//!   1.5 dB, in every band, of what they are in the clean album (0.84-1.19
//!   dB measured): the leave-one-out median of ten different pieces moves
//!   to a neighbouring order statistic when four of them change.
//!
//! The issue's 75 % and 0.5 dB are met where the album's other tracks
//! agree (tonal.rs: each of the eleven tracks in an album of four copies
//! and one altered copy).
//!
//! report.html draws one before/after panel per matched track, with the
//! distances report.json gives, in the page and in headless Chromium's DOM.

use super::tonal::{bands_db, biquad, distance, manifest, read_wav, worst_band, write_wav24};
use super::{build_ok, num};
use crate::dsp::ceiling::real_music;
use crate::util::scratch;

const RATE: u32 = 48_000;
/// How far an unaltered track may move when four others are altered.
const UNALTERED_DB: f64 = 1.5;
/// At most this share of an alteration may be left in the master.
const UNDONE: f64 = 0.5;
pub(super) const NAMES: [&str; 11] = [
    "hr3-caves",
    "hr3-crossroads",
    "hr3-desert",
    "hr3-graveyard",
    "hr3-hell",
    "hr3-icyland",
    "hr3-jungle",
    "hr3-laboratory",
    "hr3-mirror",
    "hr3-motion",
    "hr3-rlyeh",
];
/// Which tracks are altered, and how: (index, kind, Hz, dB, Q).
const ALTERED: [(usize, &str, f64, f64, f64); 4] = [
    (1, "shelf", 150.0, 5.0, 0.707),
    (4, "bell", 2500.0, -5.0, 1.0),
    (7, "bell", 800.0, 5.0, 1.0),
    (10, "shelf", 200.0, -5.0, 0.707),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[test]
fn album_of_the_real_tracks_matches_the_altered_ones_and_not_the_others() {
    let mut clean = Vec::new();
    for n in NAMES {
        // -6 dB: headroom for the +5 dB alterations (the limiter is not
        // what is tested).
        let Some(b) = real_music("wav48", &format!("{n}.wav"), 20.0, 12.0, -6.0) else {
            return;
        };
        clean.push([b.left, b.right]);
    }
    let dir = scratch("tonal-real-album");
    let mut clean_files = Vec::new();
    let mut altered_files = Vec::new();
    for (i, c) in clean.iter().enumerate() {
        let f = format!("c{i:02}.wav");
        write_wav24(&dir.join(&f), RATE, &[&c[0], &c[1]]);
        clean_files.push(f.clone());
        match ALTERED.iter().find(|a| a.0 == i) {
            Some(&(_, kind, hz, db, q)) => {
                let mut a = c.clone();
                a.iter_mut()
                    .for_each(|ch| biquad(ch, f64::from(RATE), kind, hz, db, q));
                let f = format!("a{i:02}.wav");
                write_wav24(&dir.join(&f), RATE, &[&a[0], &a[1]]);
                altered_files.push(f);
            }
            None => altered_files.push(f),
        }
    }
    let settings = "  match: { to: album, strength: 1, max_db: 12 }\n";
    std::fs::write(
        dir.join("clean.yaml"),
        manifest(&refs(&clean_files), settings),
    )
    .unwrap();
    std::fs::write(
        dir.join("altered.yaml"),
        manifest(&refs(&altered_files), settings),
    )
    .unwrap();
    build_ok(&dir, "clean.yaml", "clean", &[]);
    let (report, _) = build_ok(&dir, "altered.yaml", "altered", &[]);
    let clean_bands: Vec<Vec<f64>> = clean.iter().map(|c| bands_db(c, RATE)).collect();
    let clean_masters = super::masters(&dir.join("clean"));
    let masters = super::masters(&dir.join("altered"));
    let mut failures = Vec::new();
    for i in 0..NAMES.len() {
        let out = bands_db(&read_wav(&masters[i]), RATE);
        let in_clean = bands_db(&read_wav(&clean_masters[i]), RATE);
        if ALTERED.iter().any(|a| a.0 == i) {
            // The alteration: the altered source against the clean one;
            // what is left of it: the master against the clean album's.
            let src = bands_db(&read_wav(&dir.join(&altered_files[i])), RATE);
            let (before, after) = (distance(&src, &clean_bands[i]), distance(&out, &in_clean));
            let target: Vec<f64> = (0..out.len())
                .map(|k| {
                    median(
                        (0..NAMES.len())
                            .filter(|&j| j != i)
                            .map(|j| clean_bands[j][k])
                            .collect(),
                    )
                })
                .collect();
            let m = &report["tracks"][i]["match"];
            eprintln!(
                "{} altered: alteration {before:.2} dB -> {after:.2} dB left (master against the clean album's); distance to the album target {:.2} -> {:.2} dB (test FFT; report {} -> {} dB)",
                NAMES[i], distance(&src, &target), distance(&out, &target), m["distance_before_db"], m["distance_after_db"]
            );
            if after > UNDONE * before {
                failures.push(format!(
                    "{}: {before:.2} -> {after:.2} dB, less than half undone",
                    NAMES[i]
                ));
            }
        } else {
            let worst = worst_band(&in_clean, &out);
            eprintln!(
                "{} unaltered: at most {worst:.2} dB from its master in the clean album",
                NAMES[i]
            );
            if worst >= UNALTERED_DB {
                failures.push(format!("{}: moved {worst:.2} dB", NAMES[i]));
            }
        }
    }

    assert!(failures.is_empty(), "{failures:#?}");

    // report.html: one panel per matched track, titled with report.json's
    // distances.
    let html = std::fs::read_to_string(dir.join("altered/report.html")).unwrap();
    assert_eq!(html.matches(r#"class="match-after""#).count(), NAMES.len());
    assert_eq!(html.matches(r#"class="match-target""#).count(), NAMES.len());
    for (i, t) in report["tracks"].as_array().unwrap().iter().enumerate() {
        let m = &t["match"];
        let head = format!(">{}. T{} — ", i + 1, i + 1);
        let at = html
            .find(&head)
            .unwrap_or_else(|| panic!("report.html lacks {head:?}"))
            + head.len();
        let title = &html[at..at + html[at..].find('<').unwrap()];
        // "4.8 → 1.4 dB": one decimal of what report.json gives to two.
        let shown: Vec<f64> = title
            .split(|c: char| c == '→' || c.is_whitespace())
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(shown.len(), 2, "{title:?}");
        for (v, key) in shown
            .iter()
            .zip(["distance_before_db", "distance_after_db"])
        {
            assert!(
                (v - num(&m[key])).abs() <= 0.051,
                "{title:?} against {key} {}",
                m[key]
            );
        }
    }
    if crate::util::have_tool("chromium", "tonal match plot in Chromium") {
        let url = format!("file://{}", dir.join("altered/report.html").display());
        let (dom, _) = crate::report::chromium(&["--dump-dom".into(), url], &dir.join("profile"));
        assert!(dom.contains(r#"id="plot-match""#));
        assert_eq!(dom.matches(r#"class="match-after""#).count(), NAMES.len());
    }
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
