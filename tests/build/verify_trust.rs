//! Issue 10: what `verify` may read and what it must catch. A report.json
//! naming files outside the build folder and the manifest's folder (an
//! absolute path, `..`, a symbolic link out) is refused naming the field,
//! and the file is never read (its recognisable text is nowhere in the
//! output); an edited TOC `START` is caught; a mix changed after the
//! build is named, sources out of reach are a warning; a delivered file a
//! few samples short of its master is named, and every MP3's decoded
//! length (LAME delay and padding trimmed) agrees with ffmpeg's.

use std::path::{Path, PathBuf};
use std::process::Command;

use glassmaster::audio::{read_all, WavFormat, WavWriter};

use super::gm;
use super::verify::{
    assert_flags, copy_dir, copy_of_demo, demo, first_with, manifest, problems, rel, root, verify,
};
use crate::util::{have_tool, scratch};

/// Text that would show if the file holding it were read and echoed.
const SECRET: &str = "root:x:0:0:GLASSMASTER-SECRET-7f3a:/root:/bin/bash\n";

/// `verify DIR --json` without `--manifest`: exit code, document, all the
/// output (stdout and stderr together).
fn verify_bare(dir: &Path) -> (Option<i32>, serde_json::Value, String) {
    let o = gm(&root(), &["verify", dir.to_str().unwrap(), "--json"]);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o.status.code(), doc, out)
}

fn edit_report(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("report.json");
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    f(&mut r);
    std::fs::write(&path, serde_json::to_string_pretty(&r).unwrap()).unwrap();
}

fn message<'a>(doc: &'a serde_json::Value, file: &str, field: &str) -> &'a str {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["file"] == file && p["field"] == field)
        .and_then(|p| p["message"].as_str())
        .unwrap_or_else(|| panic!("no problem {file} / {field} in {doc:#}"))
}

#[test]
fn verify_refuses_report_names_leading_outside_and_reads_nothing_there() {
    let base = scratch("verify-trust-outside");
    let secret = base.join("secret.yaml");
    std::fs::write(&secret, SECRET).unwrap();
    let build = base.join("sub").join("build");
    copy_dir(demo(), &build);
    let pristine = std::fs::read_to_string(build.join("report.json")).unwrap();
    let abs = secret.to_str().unwrap().to_owned();

    // (what to change, the field named)
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new({
                let abs = abs.clone();
                move |r| r["manifest"] = abs.clone().into()
            }),
            "manifest",
        ),
        (
            Box::new(|r| r["manifest"] = "../../secret.yaml".into()),
            "manifest",
        ),
        (
            Box::new(|r| r["tracks"][0]["master"]["file"] = "../../secret.yaml".into()),
            "tracks[1].master.file",
        ),
        (
            Box::new({
                let abs = abs.clone();
                move |r| r["outputs"][0]["path"] = abs.clone().into()
            }),
            "outputs[0].path",
        ),
        (
            Box::new(|r| r["bundles"][0]["files"][0]["file"] = "../../../../secret.yaml".into()),
            "bundles[0].files[0].file",
        ),
        (
            Box::new(|r| r["bundles"][1]["name"] = "../../..".into()),
            "bundles[1].name",
        ),
        (
            Box::new(|r| r["tracks"][1]["source"]["path"] = "../secret.yaml".into()),
            "",
        ),
    ];
    for (edit, field) in cases {
        std::fs::write(build.join("report.json"), &pristine).unwrap();
        edit_report(&build, &*edit);
        let (code, doc, out) = verify_bare(&build);
        assert!(!out.contains("GLASSMASTER-SECRET"), "{field}: {out}");
        if field.is_empty() {
            // A source outside the manifest's folder: a warning, not read.
            let w = doc["warnings"].to_string();
            assert!(
                w.contains("tracks[2].source.path") && w.contains("did not open it"),
                "{doc:#}"
            );
            continue;
        }
        assert_flags(&doc, code, "report.json", field);
        assert!(
            message(&doc, "report.json", field).contains("did not open it"),
            "{doc:#}"
        );
    }

    // A symbolic link out of the folder, where a master and its checksum
    // are listed: both fields named, the link not followed.
    std::fs::write(build.join("report.json"), &pristine).unwrap();
    let master = build.join("masters/01 Intro.wav");
    std::fs::remove_file(&master).unwrap();
    std::os::unix::fs::symlink(&secret, &master).unwrap();
    let (code, doc, out) = verify_bare(&build);
    assert!(!out.contains("GLASSMASTER-SECRET"), "{out}");
    assert_flags(&doc, code, "report.json", "tracks[1].master.file");
    let outputs: Vec<String> = problems(&doc)
        .into_iter()
        .filter(|(f, x)| f == "report.json" && x.starts_with("outputs["))
        .map(|(_, x)| x)
        .collect();
    assert_eq!(outputs.len(), 1, "{doc:#}");
    assert!(message(&doc, "report.json", "tracks[1].master.file").contains("symbolic link"));

    // A DDP file linked out: the fileset is not read at all.
    std::fs::remove_file(&master).unwrap();
    std::fs::copy(demo().join("masters/01 Intro.wav"), &master).unwrap();
    let image = build.join("cd/ddp/IMAGE.DAT");
    std::fs::remove_file(&image).unwrap();
    std::os::unix::fs::symlink(&secret, &image).unwrap();
    let (code, doc, out) = verify_bare(&build);
    assert!(!out.contains("GLASSMASTER-SECRET"), "{out}");
    assert_flags(&doc, code, "cd/ddp/IMAGE.DAT", "file");

    // report.json itself a link out: refused, exit 1, nothing echoed.
    std::fs::remove_file(build.join("report.json")).unwrap();
    std::os::unix::fs::symlink(&secret, build.join("report.json")).unwrap();
    let (code, _, out) = verify_bare(&build);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("report.json"), "{out}");
    assert!(!out.contains("GLASSMASTER-SECRET"), "{out}");

    // A report.json that is not JSON, and a manifest that is no manifest:
    // what is wrong and where, not the text.
    std::fs::remove_file(build.join("report.json")).unwrap();
    std::fs::write(build.join("report.json"), SECRET).unwrap();
    let (code, _, out) = verify_bare(&build);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not JSON (at line 1"), "{out}");
    assert!(!out.contains("GLASSMASTER-SECRET"), "{out}");
    std::fs::write(build.join("report.json"), &pristine).unwrap();
    let o = gm(
        &root(),
        &["verify", build.to_str().unwrap(), "--manifest", &abs],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("does not validate"), "{out}");
    assert!(!out.contains("GLASSMASTER-SECRET"), "{out}");
}

#[test]
fn verify_names_an_edited_toc_start() {
    let dir = copy_of_demo("toc-start");
    let toc = dir.join("cd/album.toc");
    let text = std::fs::read_to_string(&toc).unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    assert!(
        !problems(&doc).iter().any(|(f, _)| f == "cd/album.toc"),
        "the fresh TOC agrees: {doc:#}"
    );
    let _ = code;
    // Track 2's pause lengthened by 10 frames: INDEX 01 10 frames later.
    let at = text.find("// Track 2").unwrap();
    let start = at + text[at..].find("START 00:02:00").unwrap();
    let edited = format!(
        "{}START 00:02:10{}",
        &text[..start],
        &text[start + "START 00:02:00".len()..]
    );
    std::fs::write(&toc, &edited).unwrap();
    if have_tool("cdrdao", "verify_names_an_edited_toc_start (cdrdao)") {
        // Still a TOC cdrdao reads: only the layout is wrong.
        let o = Command::new("cdrdao")
            .current_dir(dir.join("cd"))
            .args(["show-toc", "album.toc"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (code, doc, _) = verify(&dir, &manifest());
    assert_flags(&doc, code, "cd/album.toc", "track 02 indexes");
    let m = message(&doc, "cd/album.toc", "track 02 indexes");
    assert!(m.contains("01 "), "{m}");
    // And a track cut short in the TOC.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let file = lines
        .iter()
        .rposition(|l| l.starts_with("FILE \"album.wav\""))
        .unwrap();
    let words: Vec<&str> = lines[file].split(' ').collect();
    lines[file] = format!("{} {} {} 00:04:00", words[0], words[1], words[2]);
    std::fs::write(&toc, lines.join("\n") + "\n").unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    assert_flags(&doc, code, "cd/album.toc", "track 03 length");
}

/// The demo's manifest folder copied beside a copy of its build, so that
/// verify finds the manifest and its sources.
fn demo_project(name: &str) -> (PathBuf, PathBuf) {
    let base = scratch(&format!("verify-trust-{name}"));
    let demo_dir = root().join("examples/demo");
    std::fs::copy(demo_dir.join("album.yaml"), base.join("album.yaml")).unwrap();
    copy_dir(&demo_dir.join("mixes"), &base.join("mixes"));
    copy_dir(&demo_dir.join("art"), &base.join("art"));
    let build = base.join("build");
    copy_dir(demo(), &build);
    (base, build)
}

fn source_problems(doc: &serde_json::Value) -> Vec<(String, String)> {
    problems(doc)
        .into_iter()
        .filter(|(f, _)| f.contains("/mixes/"))
        .collect()
}

#[test]
fn verify_names_a_mix_changed_after_the_build() {
    let (base, build) = demo_project("mix-changed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(build.join("report.json")).unwrap()).unwrap();
    // report.json records each source's MD5, as md5sum computes it.
    for t in report["tracks"].as_array().unwrap() {
        let src = base.join(t["source"]["path"].as_str().unwrap());
        let want = t["source"]["md5"].as_str().unwrap();
        if have_tool("md5sum", "verify_names_a_mix_changed (md5sum)") {
            let o = Command::new("md5sum").arg(&src).output().unwrap();
            assert!(String::from_utf8_lossy(&o.stdout).starts_with(want));
        }
    }
    let (_, doc, out) = verify_bare(&build);
    assert!(source_problems(&doc).is_empty(), "{out}");
    assert_eq!(doc["warnings"], serde_json::json!([]), "{out}");
    assert!(doc["manifest"].as_str().unwrap().ends_with("album.yaml"));

    // One sample of the intro's mix changed, its header untouched.
    let mix = base.join("mixes/01 Intro.wav");
    let mut bytes = std::fs::read(&mix).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0x01;
    std::fs::write(&mix, bytes).unwrap();
    let (code, doc, _) = verify_bare(&build);
    let found = source_problems(&doc);
    assert_eq!(code, Some(1));
    assert_eq!(found.len(), 1, "{doc:#}");
    assert!(found[0].0.ends_with("mixes/01 Intro.wav"), "{found:?}");
    assert_eq!(found[0].1, "md5");

    // The build folder moved without its mixes: a warning naming them,
    // not a problem.
    let moved = copy_of_demo("mix-moved");
    let (_, doc, _) = verify(&moved, &manifest());
    assert!(source_problems(&doc).is_empty(), "{doc:#}");
    let (_, doc, _) = verify_bare(&moved);
    let w = doc["warnings"].to_string();
    assert!(
        w.contains("3 of 3 sources not checked") && w.contains("mixes/02 Night Drive.flac"),
        "{doc:#}"
    );
    assert!(
        !problems(&doc).iter().any(|(f, _)| f.contains("mixes/")),
        "{doc:#}"
    );
}

/// Samples in `path` as ffmpeg decodes it (gapless trimming its own).
fn ffmpeg_samples(path: &Path) -> u64 {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s16le", "-ac", "1", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout.len() as u64 / 2
}

#[test]
fn verify_names_a_delivered_file_a_few_samples_short_of_its_master() {
    let dir = copy_of_demo("short");
    let report = super::report(&dir);
    let (_, fresh, _) = verify(&dir, &manifest());
    let lengths: Vec<(String, String)> = problems(&fresh)
        .into_iter()
        .filter(|(_, x)| x == "length")
        .collect();
    // No FLAC or WAV of a correct build is flagged.
    assert!(
        lengths.iter().all(|(f, _)| f.ends_with(".mp3")),
        "{fresh:#}"
    );
    // Each MP3 is flagged exactly when ffmpeg decodes it to another length
    // than its master's (more than one sample apart), and verify's decoded
    // length (symphonia, the LAME tag's delay and padding trimmed) is
    // ffmpeg's.
    if have_tool("ffmpeg", "verify_names_a_delivered_file_short (ffmpeg)") {
        for f in report["bundles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == "promo-mp3")
            .unwrap()["files"]
            .as_array()
            .unwrap()
        {
            let rel_mp3 = format!("streaming/promo-mp3/{}", f["file"].as_str().unwrap());
            let n = f["track"].as_u64().unwrap() as usize;
            let master = dir.join(report["tracks"][n - 1]["master"]["file"].as_str().unwrap());
            let master_samples = ffmpeg_samples(&master);
            let mp3_samples = ffmpeg_samples(&dir.join(&rel_mp3));
            let (mr, r) = (
                report["tracks"][n - 1]["source"]["sample_rate"]
                    .as_u64()
                    .unwrap(),
                f["sample_rate"].as_u64().unwrap(),
            );
            let off = (mp3_samples * mr).abs_diff(master_samples * r);
            let flagged = lengths.iter().any(|(x, _)| *x == rel_mp3);
            eprintln!(
                "{rel_mp3}: ffmpeg {mp3_samples} samples at {r} Hz, master {master_samples} at {mr} Hz; verify flags it: {flagged}"
            );
            assert_eq!(flagged, off > mr, "{fresh:#}");
            if flagged {
                let m = message(&fresh, &rel_mp3, "length");
                assert!(
                    m.starts_with(&format!("decodes to {mp3_samples} samples")),
                    "verify and ffmpeg disagree on {rel_mp3}: {m}"
                );
            }
        }
    }

    // A delivered WAV cut 3 samples short, its header rewritten to match:
    // its duration still rounds to report.json's, its length is named.
    let wav = first_with(&dir.join("streaming/apple-digital-masters"), ".wav");
    let (info, mut block) = read_all(&wav).unwrap();
    let keep = block.left.len() - 3;
    block.left.truncate(keep);
    block.right.truncate(keep);
    let mut w = WavWriter::create(&wav, info.sample_rate, 2, WavFormat::Int24).unwrap();
    w.write_block(&block).unwrap();
    w.finalize().unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    let name = rel(&dir, &wav);
    assert_flags(&doc, code, &name, "length");
    let m = message(&doc, &name, "length");
    assert!(m.contains(" samples short"), "{m}");
    assert!(
        !problems(&doc)
            .iter()
            .any(|(f, x)| *f == name && x == "duration_s"),
        "the old check (against report.json, ±10 ms) would not have seen it: {doc:#}"
    );
}

const SILENT_MANIFEST: &str = "glassmaster: 1
release:
  title: Quiet
  artist: The Test Band
mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0
tracks:
  - file: mixes/01 Band.wav
    title: Band
  - file: mixes/02 Silence.wav
    title: Silence
cd:
  formats: [ddp, cue, toc]
streaming:
  - profile: custom
    name: lossless
    format: flac
    sample_rate: 44100
    bit_depth: 16
  - profile: custom
    name: hires
    format: wav
    sample_rate: 48000
    bit_depth: 24
";

/// sox's "Maximum amplitude" of a file (after the `effects`).
fn sox_max(path: &Path, effects: &[&str]) -> f64 {
    let o = Command::new("sox")
        .arg(path)
        .arg("-n")
        .args(effects)
        .arg("stat")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("Maximum amplitude:"))
        .unwrap_or_else(|| panic!("sox stat: {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_digitally_silent_track_builds_and_verifies_with_nulls() {
    let dir = scratch("verify-trust-silence");
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    super::music::make(
        &mixes,
        "01 Band.wav",
        "Band",
        48_000,
        2,
        6.0,
        41,
        super::music::Style::BAND,
        -16.0,
        -1.0,
    );
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(mixes.join("02 Silence.wav"), spec).unwrap();
    for _ in 0..2 * 48_000 * 6 {
        w.write_sample(0i32).unwrap();
    }
    w.finalize().unwrap();
    std::fs::write(dir.join("album.yaml"), SILENT_MANIFEST).unwrap();
    let (report, _) = super::build_ok(&dir, "album.yaml", "build", &[]);
    let out = dir.join("build");

    // null wherever silence has no figure, in the source, the master, the
    // CD and every delivered file.
    let t = &report["tracks"][1];
    for (part, key) in [
        ("source", "integrated_lufs"),
        ("source", "true_peak_dbtp"),
        ("source", "sample_peak_dbfs"),
        ("source", "loudness_range_lu"),
        ("master", "integrated_lufs"),
        ("master", "true_peak_dbtp"),
        ("master", "sample_peak_dbfs"),
        ("master", "loudness_range_lu"),
        ("master", "short_term_max_lufs"),
        ("master", "plr_db"),
        ("cd", "true_peak_dbtp"),
    ] {
        assert!(
            t[part][key].is_null(),
            "tracks[2].{part}.{key}: {:#}",
            t[part]
        );
    }
    for b in report["bundles"].as_array().unwrap() {
        let f = &b["files"][1];
        assert_eq!(f["track"], 2);
        assert!(
            f["integrated_lufs"].is_null() && f["true_peak_dbtp"].is_null(),
            "{f:#}"
        );
    }
    // The album is the band's alone, on target.
    assert!((report["album"]["integrated_lufs"].as_f64().unwrap() + 14.0).abs() < 0.1);

    // Digital silence out, read by sox: the master, the delivered files.
    if have_tool("sox", "a_digitally_silent_track (sox)") {
        let master = out.join(t["master"]["file"].as_str().unwrap());
        assert_eq!(sox_max(&master, &[]), 0.0, "{}", master.display());
        let cd = &t["cd"];
        let at = |k: &str| format!("{}s", cd[k].as_u64().unwrap() * 588);
        let track = ["trim", &at("start_frame"), &at("length_frames")];
        assert_eq!(
            sox_max(&out.join("cd/album.wav"), &track),
            0.0,
            "the CD's track 2"
        );
        for b in report["bundles"].as_array().unwrap() {
            let f = out
                .join("streaming")
                .join(b["name"].as_str().unwrap())
                .join(b["files"][1]["file"].as_str().unwrap());
            assert_eq!(sox_max(&f, &[]), 0.0, "{}", f.display());
        }
    }

    let (code, doc, stderr) = verify(&out, &dir.join("album.yaml"));
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
    assert!(problems(&doc).is_empty(), "{doc:#}");

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for bad in ["NaN", "Infinity", "-inf", "inf dB", "inf LU"] {
        assert!(!html.contains(bad), "report.html shows {bad:?}");
    }
}

/// A report output replaced by a FIFO (a master, IMAGE.DAT, a delivered
/// file): verify refuses each by name without opening it, and finishes
/// within 5 s with exit 1 instead of blocking on the pipe.
#[test]
fn verify_refuses_fifos_among_the_outputs_within_five_seconds() {
    if !have_tool("mkfifo", "verify_refuses_fifos_among_the_outputs") {
        return;
    }
    let dir = copy_of_demo("fifo-outputs");
    let master = first_with(&dir.join("masters"), ".wav");
    let names = [
        rel(&dir, &master),
        "cd/ddp/IMAGE.DAT".to_string(),
        "cd/album.wav".to_string(),
    ];
    for n in &names {
        let p = dir.join(n);
        std::fs::remove_file(&p).unwrap();
        assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
    }
    let mut child = Command::new(crate::util::bin())
        .args(["verify", dir.to_str().unwrap(), "--manifest"])
        .arg(manifest())
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(5) {
            let _ = child.kill();
            panic!("verify still running after 5 s on a build folder holding FIFOs");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| {
        panic!(
            "verify --json printed no document: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert_eq!(o.status.code(), Some(1), "{doc:#}");
    let found = problems(&doc);
    for n in &names {
        assert!(
            found.iter().any(|(f, _)| f == n),
            "{n} is not named in {found:?}"
        );
    }
}
