//! One test per consistency rule of `report::checks`, through the binary
//! as a user runs it: a generated three-track album whose second track
//! breaks the rule is flagged by `check --strict --json` (exit 1, the
//! rule's id, for that track where the rule is per track), and the plain
//! `check` flags it as a warning and exits 0 (manifest.md: a failed check
//! is a warning in `check`, an error with `--strict`); the same album
//! without the fault passes `check --strict` with no check at all.
//!
//! The albums are short (4 s a track) pieces of `build::music` at 48 kHz
//! 24-bit, each at -16 LUFS; a fault changes track 2 only. True-peak overs
//! are the one rule `check` leaves out on purpose (the final limiter takes
//! them off the sources), so that test builds the masters instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use glassmaster::audio::{Block, WavFormat};
use serde_json::Value;

use crate::build::music::{self, Style};
use crate::util::{bin, scratch};

const RATE: u32 = 48_000;
const SECS: f64 = 4.0;
const LUFS: f64 = -16.0;
/// The track each test breaks.
const FAULTY: u32 = 2;

/// One source of a generated album, before it is written.
#[derive(Clone)]
struct Take {
    seed: u64,
    rate: u32,
    format: WavFormat,
    block: Block,
}

impl Take {
    /// A piece in the band style at `rate`, at [`LUFS`].
    fn new(seed: u64, rate: u32) -> Take {
        let mut t = Take {
            seed,
            rate,
            format: WavFormat::Int24,
            block: music::compose(rate, SECS, seed, Style::BAND),
        };
        t.level(LUFS, -1.0);
        t
    }

    /// Scales to `lufs`, clipping peaks at `max_peak_dbfs` (see
    /// [`music::level`]).
    fn level(&mut self, lufs: f64, max_peak_dbfs: f64) {
        music::level(&mut self.block, self.rate, lufs, max_peak_dbfs);
    }

    /// Track `n` (1 to 3) of the album as it is without a fault, made
    /// once for all the tests.
    fn track(n: u32) -> Take {
        static ALBUM: OnceLock<Vec<Take>> = OnceLock::new();
        let album = ALBUM.get_or_init(|| (701..=703).map(|seed| Take::new(seed, RATE)).collect());
        album[n as usize - 1].clone()
    }

    /// `secs` of digital silence before (`head`) or after the music.
    fn pad(&mut self, head: bool, secs: f64) {
        let zeros = vec![0.0; (secs * f64::from(self.rate)) as usize];
        for c in [&mut self.block.left, &mut self.block.right] {
            if head {
                c.splice(0..0, zeros.iter().copied());
            } else {
                c.extend_from_slice(&zeros);
            }
        }
    }

    fn samples(&mut self) -> impl Iterator<Item = &mut f64> {
        self.block
            .left
            .iter_mut()
            .chain(self.block.right.iter_mut())
    }
}

/// Writes the album (three takes, `fault` applied to track [`FAULTY`]) and
/// its manifest with `yaml` appended into a fresh `dir`; returns the
/// manifest's path.
fn album(name: &str, yaml: &str, fault: impl Fn(&mut Take)) -> PathBuf {
    let dir = scratch(name);
    let mut manifest = String::from(
        "glassmaster: 1
release:
  title: Checks
  artist: The Test Band
isrc:
  registrant: US-XYZ
  year: 26
tracks:
",
    );
    for n in 1..=3u32 {
        let mut take = Take::track(n);
        if n == FAULTY {
            fault(&mut take);
        }
        let file = format!("{n:02} Song {n}.wav");
        music::write(&dir.join(&file), &take.block, take.rate, 2, take.format);
        manifest.push_str(&format!("  - file: {file}\n    title: Song {n}\n"));
    }
    manifest.push_str(yaml);
    let path = dir.join("album.yaml");
    std::fs::write(&path, manifest).unwrap();
    path
}

/// `glassmaster check --json [--strict] MANIFEST`: exit code and document.
fn check(manifest: &Path, strict: bool) -> (i32, Value) {
    let mut cmd = Command::new(bin());
    cmd.arg("check").arg("--json");
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.arg(manifest).output().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check gave no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// The `(id, track)` of every check in a `check --json` document.
fn flagged(doc: &Value) -> Vec<(String, Option<u64>)> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["track"].as_u64()))
        .collect()
}

/// The test of one rule: the album with `fault` on track [`FAULTY`] is
/// flagged `id` (on that track when `per_track`), and nothing else; an
/// error with `--strict` (exit 1), a warning without (exit 0). The album
/// with `clean` instead passes `check --strict` with no check. `yaml`
/// (a `report:` section, say) goes into both manifests.
fn rule(
    name: &str,
    id: &str,
    per_track: bool,
    yaml: &str,
    fault: impl Fn(&mut Take),
    clean: impl Fn(&mut Take),
) {
    let want = [(id.to_owned(), per_track.then_some(u64::from(FAULTY)))];
    let bad = album(&format!("checks-{name}-fault"), yaml, fault);
    let (code, doc) = check(&bad, true);
    eprintln!("{name}: {}", figures(&doc));
    assert_eq!(flagged(&doc), want, "{name}: {doc:#}");
    assert_eq!(code, 1, "{name}: --strict fails on it");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["checks"][0]["severity"], "error");
    eprintln!("{name}: {}", doc["checks"][0]["message"]);
    let (code, doc) = check(&bad, false);
    assert_eq!(flagged(&doc), want, "{name}: {doc:#}");
    assert_eq!(code, 0, "{name}: without --strict it is a warning");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["checks"][0]["severity"], "warning");

    let good = album(&format!("checks-{name}-clean"), yaml, clean);
    let (code, doc) = check(&good, true);
    assert_eq!(flagged(&doc), [], "{name}, clean: {doc:#}");
    assert_eq!(code, 0, "{name}, clean: {doc:#}");
    assert_eq!(doc["ok"], true);
}

/// The figures of each track that the rules read, for the log.
fn figures(doc: &Value) -> String {
    doc["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let f = |k: &str| t[k].as_f64().unwrap_or(f64::NAN);
            format!(
                "[{} {:.1} LUFS {:.1} dBTP PLR {:.1} DC {} corr {:.2} head {:.1} tail {:.1} clips {}]",
                t["number"],
                f("integrated_lufs"),
                f("true_peak_dbtp"),
                f("true_peak_dbtp") - f("integrated_lufs"),
                t["dc_offset_dbfs"],
                f("correlation"),
                f("head_silence_s"),
                f("tail_silence_s"),
                t["clipped_samples"]
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn unchanged(_: &mut Take) {}

#[test]
fn loudness_spread() {
    // Track 2 5 LU under the others: over the 3 LU default.
    let quiet = |t: &mut Take| t.level(LUFS - 5.0, -1.0);
    rule("spread", "album.loudness_spread", false, "", quiet, |t| {
        t.level(LUFS - 1.5, -1.0)
    });
    // In `track` mode every track is brought to the target: the sources'
    // spread is no fault (checks.rs leaves it out).
    let matched = album(
        "checks-spread-track-mode",
        "mastering:\n  loudness_mode: track\n",
        quiet,
    );
    let (code, doc) = check(&matched, true);
    assert_eq!(flagged(&doc), [], "{doc:#}");
    assert_eq!(code, 0);
}

#[test]
fn true_peak_overs() {
    // Track 2's source is 2.5 LU hotter than the rest and peaks over
    // -1 dBTP. The rule reads the masters: `check` leaves source overs to
    // the final limiter, and a build flags a master over the report's
    // limit, which the limiter lets through when the manifest's ceiling
    // (-0.3 dBTP) is above that limit (the -1.0 dBTP default); with the
    // ceiling at the limit no master is over.
    for (name, ceiling, faulty) in [("fault", -0.3, true), ("clean", -1.0, false)] {
        let yaml = format!("mastering:\n  loudness_mode: off\n  true_peak_dbtp: {ceiling}\n");
        let manifest = album(&format!("checks-true-peak-{name}"), &yaml, |t| {
            t.level(LUFS + 2.5, 0.0)
        });
        let (code, doc) = check(&manifest, true);
        eprintln!("true peak, {name}: {}", figures(&doc));
        assert!(doc["tracks"][1]["true_peak_dbtp"].as_f64().unwrap() > -1.0);
        assert_eq!(flagged(&doc), [], "{name}: {doc:#}");
        // The manifest that lets masters through over the report's limit
        // is a warning, so `check --strict` fails before anything is built.
        let warned = doc["diagnostics"].as_array().unwrap().iter().any(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .contains("max_true_peak_dbtp")
        });
        assert_eq!(warned, faulty, "{name}: {doc:#}");
        assert_eq!(code, if faulty { 1 } else { 0 }, "{name}");

        let out = manifest.with_file_name("build");
        let o = Command::new(bin())
            .arg("build")
            .arg(&manifest)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{name}: {stderr}");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        let peaks: Vec<f64> = report["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["master"]["true_peak_dbtp"].as_f64().unwrap())
            .collect();
        eprintln!("true peak, {name}: masters at {peaks:?} dBTP");
        if faulty {
            assert_eq!(
                flagged(&report),
                [("track.true_peak".to_owned(), Some(u64::from(FAULTY)))],
                "{report:#}"
            );
            assert_eq!(report["checks"][0]["severity"], "warning");
            eprintln!("true peak: {}", report["checks"][0]["message"]);
            assert!(stderr.contains("track.true_peak"), "{stderr}");
        } else {
            assert_eq!(flagged(&report), [], "{report:#}");
        }
    }
}

#[test]
fn plr_outlier() {
    // Track 2 brickwalled: its peaks clipped until, at the same loudness,
    // its PLR is about 7 dB against the others' 13 dB.
    // Clipped so, it also holds plateau runs, which track.clipping (the
    // restoration detectors, tests/restoration.rs) rightly flags, and a
    // low PSR, which track.psr (tests/translation.rs) does: both off here.
    rule(
        "plr",
        "track.plr",
        true,
        "report: { restoration: false, translation: false }\n",
        |t| t.level(LUFS, -14.0),
        unchanged,
    );
}

#[test]
fn dc_offset() {
    // 0.02 of full scale (-34 dBFS) on both channels; the limit is -40.
    rule(
        "dc",
        "track.dc_offset",
        true,
        "",
        |t| t.samples().for_each(|x| *x += 0.02),
        unchanged,
    );
}

#[test]
fn correlation() {
    // The right channel's polarity inverted: it cancels in mono.
    // An inverted channel is also what track.polarity (the restoration
    // detectors, tests/restoration.rs) and the playback translation checks
    // (tests/translation.rs) flag: off here.
    rule(
        "correlation",
        "track.correlation",
        true,
        "report: { restoration: false, translation: false }\n",
        |t| t.block.right.iter_mut().for_each(|x| *x = -*x),
        unchanged,
    );
}

#[test]
fn head_silence() {
    // 3 s of silence before the music; 1 s is within the 2 s default.
    // The padded take keeps less of the piece, whose bass note then
    // stands 20 dB out in one band: the single-band spectral rule
    // (tonal matching's) rightly sees it, so this test, of the head rule
    // alone, lifts the spectral limit out of the way.
    rule(
        "head",
        "track.head_silence",
        true,
        "report:\n  max_spectral_deviation_db: 20.0\n",
        |t| t.pad(true, 3.0),
        |t| t.pad(true, 1.0),
    );
}

#[test]
fn tail_silence() {
    // The manifest's own limit: 4 s of silence after the music is over
    // 3 s, 2 s is not (the 10 s default would pass both).
    rule(
        "tail",
        "track.tail_silence",
        true,
        "report:\n  max_tail_silence_s: 3.0\n",
        |t| t.pad(false, 4.0),
        |t| t.pad(false, 2.0),
    );
}

#[test]
fn clipping() {
    // One beat (a kick) driven 6 dB into full scale.
    rule(
        "clipping",
        "track.clipping",
        true,
        "",
        |t| {
            let start = (1.0 * f64::from(t.rate)) as usize;
            let end = start + (0.05 * f64::from(t.rate)) as usize;
            for c in [&mut t.block.left, &mut t.block.right] {
                for x in &mut c[start..end] {
                    *x = (*x * 2.0).clamp(-1.0, 1.0);
                }
            }
        },
        unchanged,
    );
}

#[test]
fn format_mix() {
    // Track 2 is 44.1 kHz 16-bit among 48 kHz 24-bit sources. The take
    // made at 44.1 kHz is another rendering of the piece, its bass 20 dB
    // up in one band, which the single-band spectral rule rightly sees:
    // this test, of the format rule alone, lifts that limit out of the way.
    rule(
        "format",
        "album.format_mix",
        false,
        "report:\n  max_spectral_deviation_db: 20.0\n",
        |t| {
            *t = Take::new(t.seed, 44_100);
            t.format = WavFormat::Int16;
        },
        unchanged,
    );
}

#[test]
fn spectral_outlier() {
    // Track 2 low-passed at 3 kHz (-12 dB/octave) and brought back to
    // the album's loudness: dull against the others. Of three tracks the
    // rule compares each with the median of all three (the others' median
    // would be the mean of two, dragged by the outlier), so only the dull
    // one is flagged.
    rule(
        "spectral",
        "track.spectral_balance",
        true,
        "",
        |t| {
            for c in [&mut t.block.left, &mut t.block.right] {
                music::lowpass(c, t.rate, 3000.0);
            }
            t.level(LUFS, -1.0);
        },
        unchanged,
    );
}
