//! Issue 10: every file a build delivers holds every sample. Sources of odd
//! lengths (48 kHz stereo, 44.1 kHz mono) go through `glassmaster build`;
//! sox counts each source and each master, ffmpeg, mpg123 and sox decode
//! each bundle file: masters as long as their sources, bundles at the
//! master's rate as long as the master, resampled ones `round(n × to /
//! from)`, MP3s included (gapless decoders trim the LAME tag's delay and
//! padding; sox, through libmad, keeps them, as the tag says).

use std::path::Path;
use std::process::Command;

use super::music::{self, Style};
use super::{build_ok, gm, report};
use crate::util::{have_tool, scratch};

const MANIFEST: &str = "glassmaster: 1
release:
  title: Lengths
  artist: The Test Band
mastering:
  loudness_mode: track
  target_lufs: -14.0
  true_peak_dbtp: -1.0
tracks:
  - file: mixes/01 Stereo.wav
    title: Stereo
  - file: mixes/02 Mono.wav
    title: Mono
streaming:
  - profile: promo-mp3
  - profile: custom
    name: mp3-48k
    format: mp3
    sample_rate: 48000
    bitrate_kbps: 320
  - profile: custom
    name: flac-44k
    format: flac
    sample_rate: 44100
    bit_depth: 16
  - profile: custom
    name: wav-src
    format: wav
    bit_depth: 24
";

/// Frames in an audio file as `sox … -t f32 -` decodes it (stereo or mono).
fn sox_frames(path: &Path) -> usize {
    let o = Command::new("sox")
        .arg(path)
        .args(["-t", "f32", "-c", "2", "-"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sox {}: {}",
        path.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout.len() / 8
}

/// Frames ffmpeg (or mpg123) decodes, as stereo f32.
fn decoded_frames(tool: &str, path: &Path) -> usize {
    let p = path.to_str().unwrap();
    let args: Vec<&str> = match tool {
        "ffmpeg" => vec!["-v", "error", "-i", p, "-f", "f32le", "-ac", "2", "-"],
        _ => vec!["-q", "-e", "f32", "--stereo", "-s", p],
    };
    let o = Command::new(tool).args(&args).output().unwrap();
    assert!(o.status.success(), "{tool} {p}");
    o.stdout.len() / 8
}

fn resampled(n: usize, from: usize, to: usize) -> usize {
    (n * to * 2 + from) / (2 * from)
}

#[test]
fn every_delivered_file_holds_every_sample_of_its_master() {
    let test = "every_delivered_file_holds_every_sample_of_its_master";
    if !have_tool("sox", test) || !have_tool("ffmpeg", test) {
        return;
    }
    let dir = scratch("build-lengths");
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    // 4.0003 s at 48 kHz and 3.7777 s at 44.1 kHz: neither a whole number
    // of MP3 frames, CD frames nor FLAC blocks.
    music::make(
        &mixes,
        "01 Stereo.wav",
        "Stereo",
        48_000,
        2,
        4.0003,
        41,
        Style::BAND,
        -16.0,
        -1.0,
    );
    music::make(
        &mixes,
        "02 Mono.wav",
        "Mono",
        44_100,
        1,
        3.7777,
        42,
        Style::SPARSE,
        -18.0,
        -2.0,
    );
    std::fs::write(dir.join("album.yaml"), MANIFEST).unwrap();
    build_ok(&dir, "album.yaml", "out", &[]);
    let out = dir.join("out");
    let r = report(&out);
    let v = gm(&dir, &["verify", "out"]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "verify: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    let mpg123 = have_tool("mpg123", test);
    for (i, (src, rate)) in [("01 Stereo.wav", 48_000usize), ("02 Mono.wav", 44_100)]
        .into_iter()
        .enumerate()
    {
        let n = sox_frames(&mixes.join(src));
        let master = out.join("masters").join(src);
        assert_eq!(sox_frames(&master), n, "{src}: master length");
        let files = &r["bundles"];
        for (bundle, to) in [
            ("promo-mp3", 44_100usize),
            ("mp3-48k", 48_000),
            ("flac-44k", 44_100),
            ("wav-src", rate),
        ] {
            let b = files
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["name"] == bundle)
                .unwrap_or_else(|| panic!("no bundle {bundle} in report.json"));
            let file = b["files"][i]["file"].as_str().unwrap();
            let path = out.join("streaming").join(bundle).join(file);
            let want = resampled(n, rate, to);
            let ff = decoded_frames("ffmpeg", &path);
            eprintln!(
                "{src} ({n} frames at {rate} Hz) -> {bundle}: ffmpeg {ff} frames, want {want}"
            );
            assert_eq!(ff, want, "{bundle}/{file}: ffmpeg length");
            if path.extension().is_some_and(|e| e == "mp3") {
                if mpg123 {
                    assert_eq!(
                        decoded_frames("mpg123", &path),
                        want,
                        "{bundle}/{file}: mpg123"
                    );
                }
                // libmad: the master plus the LAME tag's delay (576) and
                // padding (LAME's 576..1727, plus glassmaster's frame of
                // silence), which make whole 1152-sample frames.
                let s = sox_frames(&path);
                assert_eq!(s % 1152, 0, "{bundle}/{file}: sox {s} frames");
                assert!(
                    (want + 576 + 1728..want + 576 + 2880).contains(&s),
                    "{bundle}/{file}: sox {s} frames"
                );
            } else {
                assert_eq!(sox_frames(&path), want, "{bundle}/{file}: sox length");
            }
            // report.json's duration (to 10 ms) is the delivered file's.
            let d = b["files"][i]["duration_s"].as_f64().unwrap();
            assert!(
                (d - want as f64 / to as f64).abs() < 0.0051,
                "{bundle}/{file}: report {d} s"
            );
        }
    }
}
