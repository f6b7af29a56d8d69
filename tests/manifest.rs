//! The manifest: golden diagnostics for broken manifests (one mistake each,
//! exact message and place), a manifest with ten mistakes, YAML bombs, and
//! a mutation run that must never panic.
//!
//! Set GLASSMASTER_BLESS=1 to rewrite the golden `.stderr` files.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{bin, no_panic, scratch, write_wav_i16, Mutator};

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/manifests"
    ))
}

/// The audio files the fixtures point at, generated into `dir/mixes`.
fn make_mixes(dir: &Path) {
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    write_wav_i16(&mixes.join("a.wav"), 44_100, 2, 5.0, 440.0);
    write_wav_i16(&mixes.join("b.wav"), 44_100, 2, 6.0, 330.0);
    write_wav_i16(&mixes.join("short.wav"), 44_100, 2, 3.0, 220.0);
    write_wav_i16(&mixes.join("surround.wav"), 48_000, 6, 1.0, 440.0);
    // 8:10 at 8 kHz: ten of these make a disc past 79:57:74.
    write_wav_i16(&mixes.join("long.wav"), 8_000, 1, 490.0, 200.0);
    std::fs::write(mixes.join("notes.wav"), "these are my notes, not audio\n").unwrap();
}

fn check(dir: &Path, manifest: &str, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .current_dir(dir)
        .arg("check")
        .arg(manifest)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn broken_manifests_match_their_golden_diagnostics() {
    let dir = scratch("manifest-golden");
    make_mixes(&dir);
    let bless = std::env::var_os("GLASSMASTER_BLESS").is_some();
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures().join("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 25, "only {} broken manifests", names.len());
    let mut failures = Vec::new();
    for yaml in &names {
        let name = yaml.file_name().unwrap().to_str().unwrap();
        std::fs::copy(yaml, dir.join(name)).unwrap();
        let (code, stdout, stderr) = check(&dir, name, &[]);
        assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
        assert_eq!(code, 1, "{name}: exit status {code}\n{stderr}");
        assert!(stdout.is_empty(), "{name}: printed on stdout: {stdout}");
        let golden = yaml.with_extension("stderr");
        if bless {
            std::fs::write(&golden, &stderr).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|_| {
            panic!(
                "{}: no golden file (run with GLASSMASTER_BLESS=1)",
                golden.display()
            )
        });
        if want != stderr {
            failures.push(format!("--- {name}: want\n{want}--- got\n{stderr}"));
        }
        // Every diagnostic names the manifest with a line and a column
        // (warnings at earlier lines come first), and one is an error.
        let heads: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains(": error: ") || l.contains(": warning: "))
            .collect();
        assert!(
            heads.iter().all(|l| l.starts_with(&format!("{name}:"))),
            "{name}: {heads:?}"
        );
        assert!(
            heads.iter().any(|l| l.contains(": error: ")),
            "{name}: no error in {heads:?}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ten_mistakes_are_all_reported_at_once() {
    let dir = scratch("manifest-ten");
    make_mixes(&dir);
    std::fs::copy(
        fixtures().join("bad/ten-mistakes.yaml"),
        dir.join("album.yaml"),
    )
    .unwrap();
    let (code, stdout, stderr) = check(&dir, "album.yaml", &["--json"]);
    assert_eq!(code, 1, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["ok"], false);
    let diags = doc["diagnostics"].as_array().unwrap();
    let errors: Vec<_> = diags.iter().filter(|d| d["severity"] == "error").collect();
    assert_eq!(errors.len(), 10, "{diags:#?}");
    let mut lines: Vec<u64> = errors.iter().map(|d| d["line"].as_u64().unwrap()).collect();
    lines.dedup();
    assert_eq!(
        lines,
        vec![1, 4, 7, 8, 12, 13, 14, 18, 19, 21],
        "{diags:#?}"
    );
    for d in errors {
        assert_eq!(d["file"], "album.yaml");
        assert!(d["column"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn a_good_manifest_passes() {
    let dir = scratch("manifest-good");
    make_mixes(&dir);
    std::fs::copy(fixtures().join("good.yaml"), dir.join("album.yaml")).unwrap();
    let (code, _stdout, stderr) = check(&dir, "album.yaml", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn yaml_bombs_and_huge_files_are_refused_quickly() {
    let dir = scratch("manifest-bombs");
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    std::fs::write(dir.join("bomb.yaml"), &bomb).unwrap();
    let t = std::time::Instant::now();
    let (code, _, stderr) = check(&dir, "bomb.yaml", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(t.elapsed().as_secs() < 5);
    assert!(stderr.starts_with("bomb.yaml:"), "{stderr}");
    assert!(stderr.contains("budget"), "{stderr}");

    let deep = format!(
        "glassmaster: 1\nx: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    std::fs::write(dir.join("deep.yaml"), deep).unwrap();
    let (code, _, stderr) = check(&dir, "deep.yaml", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let huge = "# padding\n".repeat(200_000);
    std::fs::write(dir.join("huge.yaml"), huge).unwrap();
    let (code, _, stderr) = check(&dir, "huge.yaml", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("largest accepted"), "{stderr}");

    std::fs::write(
        dir.join("latin1.yaml"),
        b"glassmaster: 1\nrelease: { title: Caf\xe9 }\n",
    )
    .unwrap();
    let (code, _, stderr) = check(&dir, "latin1.yaml", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.starts_with("latin1.yaml:2:"), "{stderr}");

    let (code, _, stderr) = check(&dir, "nowhere.yaml", &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("nowhere.yaml"), "{stderr}");
}

/// Deterministic mutations of full manifests (bit flips, bytes inserted
/// from YAML's punctuation or dropped, truncations, runs doubled, splices
/// of one manifest into another: see `util::Mutator`) give diagnostics
/// that name the file, never a panic. 3000 cases, about a second.
#[test]
fn mutated_manifests_never_panic() {
    let dir = scratch("manifest-mutations");
    make_mixes(&dir);
    let read = |p: &str| std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap();
    let demo = read("examples/demo/album.yaml");
    let good = read("tests/fixtures/manifests/good.yaml");
    let probe = |p: &Path| glassmaster::audio::decode::probe(p);
    let path = dir.join("album.yaml");
    let mut fuzz = Mutator::new(0x9e37_79b9_7f4a_7c15, b":-[]{}&*!|>'\"%@`#,? \n\t0");
    for case in 0..3000 {
        let (base, other) = if case % 2 == 0 {
            (&demo, &good)
        } else {
            (&good, &demo)
        };
        let m = fuzz.mutate(base, &[other]);
        let s = String::from_utf8_lossy(&m).into_owned();
        no_panic(
            || format!("case {case}:\n{s}"),
            || match glassmaster::manifest::raw::parse(&s) {
                Ok(root) => {
                    let (_, diags) =
                        glassmaster::manifest::validate::validate(&root, &path, &dir, &probe);
                    for d in diags {
                        let text = d.render(Some(&s));
                        assert!(text.starts_with(&*path.to_string_lossy()), "{text}");
                    }
                }
                Err(e) => assert!(!e.message.is_empty()),
            },
        );
    }
}

/// The broken manifests that passed `check` before and failed `build` only
/// after the mastering: each must now fail `build` at its line before any
/// rendering — no output folder, within seconds — with every part and
/// with `--only masters`.
#[test]
fn late_failures_fail_build_before_rendering() {
    let dir = scratch("manifest-prerender");
    make_mixes(&dir);
    let cases = [
        "cd-gap-1e308",
        "cd-pregap-huge",
        "cd-100-indexes",
        "cd-two-indexes-in-one-frame",
        "cd-text-over-253-packs",
        "trim-start-past-end",
        "title-with-nul",
        "artist-with-c1-control",
        "mp3-bitrate-not-mpeg",
        "eq-band-above-nyquist",
    ];
    for name in cases {
        let file = format!("{name}.yaml");
        std::fs::copy(fixtures().join("bad").join(&file), dir.join(&file)).unwrap();
        for only in [None, Some("masters")] {
            let out = dir.join(format!("out-{name}"));
            let mut cmd = Command::new(bin());
            cmd.current_dir(&dir)
                .arg("build")
                .arg(&file)
                .arg("-o")
                .arg(&out);
            if let Some(o) = only {
                cmd.arg("--only").arg(o);
            }
            let t = std::time::Instant::now();
            let run = cmd.output().unwrap();
            let secs = t.elapsed().as_secs_f64();
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(1), "{name} {only:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            assert!(
                stderr.starts_with(&format!("{file}:")) && stderr.contains(": error: "),
                "{name} {only:?}: not at its line: {stderr}"
            );
            assert!(
                !out.exists(),
                "{name} {only:?}: {} was created",
                out.display()
            );
            let leftovers: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(&format!("out-{name}")))
                .collect();
            assert!(leftovers.is_empty(), "{name}: {leftovers:?}");
            assert!(secs < 5.0, "{name} {only:?}: took {secs:.1} s");
        }
    }
}

/// No message prints a huge number in full: every numeric field set to
/// ±1e308 (and 1e-308), and no run of 20 digits in what `check` says.
#[test]
fn huge_numbers_are_printed_rounded() {
    let dir = scratch("manifest-huge-numbers");
    make_mixes(&dir);
    for v in ["1e308", "-1e308", "1.7976931348623157e308", "1e-308"] {
        let text = format!(
            "glassmaster: 1
release: {{ title: Fixture, artist: Tester }}
isrc: {{ registrant: US-XYZ, year: 26 }}
mastering:
  target_lufs: {v}
  true_peak_dbtp: {v}
  chain:
    - eq: [{{ type: bell, freq_hz: {v}, gain_db: {v}, q: {v} }}]
    - compressor: {{ threshold_db: {v}, ratio: {v}, attack_ms: {v}, release_ms: {v}, knee_db: {v}, makeup_db: {v}, stereo_link: {v} }}
    - gain: {{ gain_db: {v} }}
    - stereo: {{ width: {v} }}
    - limiter: {{ release_ms: {v}, lookahead_ms: {v} }}
tracks:
  - file: mixes/a.wav
    title: One
    gain_db: {v}
    trim: {{ start: {v}, end: {v} }}
    fade: {{ in_s: {v}, out_s: {v} }}
    indexes: [{v}]
  - file: mixes/b.wav
    title: Two
    pregap: {v}
    indexes: [1, {v}]
cd:
  gap_s: {v}
streaming:
  - profile: spotify
    true_peak_dbtp: {v}
report:
  max_loudness_spread_lu: {v}
  max_true_peak_dbtp: {v}
  max_head_silence_s: {v}
  min_correlation: {v}
"
        );
        std::fs::write(dir.join("album.yaml"), &text).unwrap();
        let (code, _, stderr) = check(&dir, "album.yaml", &[]);
        assert_eq!(code, 1, "{v}: {stderr}");
        let longest = stderr
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest < 20,
            "{v}: a number of {longest} digits in:\n{stderr}"
        );
        assert!(
            stderr.contains("e308") || stderr.contains("e-308"),
            "{v}: {stderr}"
        );
    }
}

/// Control characters in text are refused at their line (newline and tab
/// only in `lyrics`), and nothing from the manifest reaches the terminal
/// raw: an escape sequence in a key is shown escaped.
#[test]
fn control_characters_are_refused_and_never_echoed() {
    let dir = scratch("manifest-control");
    make_mixes(&dir);
    let base = "glassmaster: 1\nrelease: { title: Fixture, artist: Tester }\nisrc: { registrant: US-XYZ, year: 26 }\ntracks:\n  - file: mixes/a.wav\n";
    for (field, value) in [
        ("title", "\"A\\0B\""),
        ("title", "\"A\\eB\""),
        ("title", "\"A\\x7fB\""),
        ("title", "\"A\\x85B\""),
        ("title", "\"A\\u009fB\""),
        ("title", "\"A\\tB\""),
        ("composer", "\"A\\nB\""),
        ("lyrics", "\"A\\rB\""),
        ("featuring", "[\"A\\x01B\"]"),
    ] {
        let text = if field == "title" {
            format!("{base}    title: {value}\n")
        } else {
            format!("{base}    {field}: {value}\n    title: One\n")
        };
        std::fs::write(dir.join("album.yaml"), &text).unwrap();
        let (code, _, stderr) = check(&dir, "album.yaml", &[]);
        assert_eq!(code, 1, "{field}: {value}: {stderr}");
        assert!(
            stderr.starts_with("album.yaml:6:") && stderr.contains("control character"),
            "{field}: {value}: {stderr}"
        );
    }
    // Lyrics keep their lines and tabs.
    let text = format!("{base}    title: One\n    lyrics: \"first line\\n\\tsecond line\"\n");
    std::fs::write(dir.join("album.yaml"), &text).unwrap();
    let (code, _, stderr) = check(&dir, "album.yaml", &[]);
    assert_eq!(code, 0, "{stderr}");

    let text = format!("{base}    title: One\n    \"\\e[2J\\e]0;pwned\\a\": 1\n");
    std::fs::write(dir.join("album.yaml"), &text).unwrap();
    let out = Command::new(bin())
        .current_dir(&dir)
        .args(["check", "album.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stderr.iter().any(|b| *b == 0x1b || *b == 0x07),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr}");
}
