//! Issue 5: the demo album's bundles, read by tools we did not write.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::demo_build;
use crate::util::have_tool;

/// The files of `dir` ending in `.ext`, sorted.
pub(super) fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

fn text(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn demo_bundles_pass_the_stores_readers() {
    let (out, report) = demo_build();
    let tracks = report["tracks"].as_array().unwrap();

    // spotify: FLAC, tagged, with a front cover.
    let spotify = files(&out.join("streaming/spotify"), "flac");
    assert_eq!(spotify.len(), 3);
    if have_tool("flac", "demo_bundles (flac)") {
        for f in &spotify {
            let o = Command::new("flac")
                .args(["-t", "-s"])
                .arg(f)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "flac -t {}: {}",
                f.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        for (f, t) in spotify.iter().zip(tracks) {
            let tags = text(Command::new("metaflac").arg("--export-tags-to=-").arg(f));
            let n = t["number"].as_u64().unwrap();
            let master_lufs = t["master"]["integrated_lufs"].as_f64().unwrap();
            let album_lufs = report["album"]["integrated_lufs"].as_f64().unwrap();
            for want in [
                format!("TITLE={}", t["title"].as_str().unwrap()),
                "ALBUM=Night Drive".to_owned(),
                "ALBUMARTIST=The Example Band".to_owned(),
                format!("TRACKNUMBER={n}"),
                "TRACKTOTAL=3".to_owned(),
                "DISCNUMBER=1".to_owned(),
                "DATE=2026-12-04".to_owned(),
                format!("ISRC={}", t["isrc"].as_str().unwrap()),
                "BARCODE=5012345678900".to_owned(),
                "LABEL=Example Records".to_owned(),
                "COPYRIGHT=2026 Example Records".to_owned(),
                format!("REPLAYGAIN_TRACK_GAIN={:.2} dB", -18.0 - master_lufs),
                format!("REPLAYGAIN_ALBUM_GAIN={:.2} dB", -18.0 - album_lufs),
            ] {
                // ReplayGain comes from unrounded figures: allow the last digit.
                let ok = tags.lines().any(|l| l == want)
                    || (want.starts_with("REPLAYGAIN") && {
                        let (k, v) = want.split_once('=').unwrap();
                        let want_v: f64 = v.trim_end_matches(" dB").parse().unwrap();
                        tags.lines().any(|l| {
                            l.strip_prefix(&format!("{k}="))
                                .and_then(|g| g.trim_end_matches(" dB").parse::<f64>().ok())
                                .is_some_and(|g| (g - want_v).abs() <= 0.011)
                        })
                    });
                assert!(ok, "{}: no {want} in\n{tags}", f.display());
            }
            assert!(tags.contains("ARTIST="), "{tags}");
            assert!(tags.contains("COMPOSER=A. Writer") || n == 3, "{tags}");
            let pic = text(
                Command::new("metaflac")
                    .args(["--list", "--block-type=PICTURE"])
                    .arg(f),
            );
            assert!(pic.contains("type: 3 (Cover (front))"), "{pic}");
        }
    }

    // apple-digital-masters: 24-bit plain PCM at the source rate, 3000 px cover.
    let apple = files(&out.join("streaming/apple-digital-masters"), "wav");
    assert_eq!(apple.len(), 3);
    for (f, t) in apple.iter().zip(tracks) {
        let b = std::fs::read(f).unwrap();
        assert_eq!(
            &b[20..22],
            &1u16.to_le_bytes(),
            "{}: not WAVE_FORMAT_PCM",
            f.display()
        );
        assert_eq!(u16::from_le_bytes([b[34], b[35]]), 24, "{}", f.display());
        let rate = u32::from_le_bytes([b[24], b[25], b[26], b[27]]);
        assert_eq!(
            u64::from(rate),
            t["source"]["sample_rate"].as_u64().unwrap()
        );
    }
    let cover = image::open(out.join("streaming/apple-digital-masters/cover.jpg")).unwrap();
    assert_eq!((cover.width(), cover.height()), (3000, 3000));

    // promo-mp3: 320 kbps CBR, ID3 tags, decoded true peak under the ceiling.
    let mp3 = files(&out.join("streaming/promo-mp3"), "mp3");
    assert_eq!(mp3.len(), 3);
    if have_tool("ffprobe", "demo_bundles (ffprobe)") {
        for (f, t) in mp3.iter().zip(tracks) {
            let info = text(
                Command::new("ffprobe")
                    .args([
                        "-v",
                        "error",
                        "-show_entries",
                        "stream=bit_rate:format_tags=title,TSRC,isrc",
                        "-of",
                        "default=nw=1",
                    ])
                    .arg(f),
            );
            assert!(info.contains("bit_rate=320000"), "{info}");
            assert!(info.contains(t["title"].as_str().unwrap()), "{info}");
            let o = Command::new("ffmpeg")
                .args(["-nostats", "-i"])
                .arg(f)
                .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
                .output()
                .unwrap();
            let log = String::from_utf8_lossy(&o.stderr);
            let peak: f64 = log[log.rfind("Peak:").unwrap() + 5..]
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap();
            eprintln!("{}: decoded true peak {peak} dBTP", f.display());
            assert!(peak <= -1.0 + 0.1, "{}: {peak} dBTP", f.display());
        }
    }
    if have_tool("exiftool", "demo_bundles (exiftool)") {
        let tags = text(Command::new("exiftool").arg("-a").arg(&mp3[0]));
        for want in [
            "ISRC",
            "Intro",
            "The Example Band",
            "Night Drive",
            "Picture",
        ] {
            assert!(tags.contains(want), "exiftool: no {want} in\n{tags}");
        }
    }
    // The normalisation preview made it into report.json.
    let rows = report["normalisation"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["profile"] == "spotify" && r["track"].is_null()),
        "{rows:?}"
    );
}
