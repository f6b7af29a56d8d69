//! Issue 14, AAC through `glassmaster build`: a release with a `promo-aac`
//! bundle and a custom 128 kbps AAC bundle at 48 kHz builds (its DDEX
//! message, and an Ogg bundle's, validates against the ERN 4.3 schema with
//! the codec and container by their allowed values); `verify` passes it
//! (codec, rate, decoded length against the master to the sample,
//! loudness, decoded true peak, bit rate, tags and cover) and fails it
//! when a tag changes or a file at another bit rate takes a file's place;
//! `check` refuses AAC bit rates and sample rates AAC-LC does not have,
//! naming the bundle's line.

use std::path::Path;

use crate::build::music::{self, Style};
use crate::build::{build_ok, gm};
use crate::util::scratch;

const MANIFEST: &str = "glassmaster: 1
release:
  title: Glass Test
  artist: The Test Band
  upc: \"5012345678900\"
  artwork: cover.png
  explicit: true
  release_date: 2027-01-15
  genre: Ambient
  label: Example Records
  phonographic_copyright: 2027 Example Records
isrc: { registrant: GB-ABC, year: 26, first: 1 }
mastering:
  loudness_mode: album
  target_lufs: -12.0
  true_peak_dbtp: -1.0
tracks:
  - file: mixes/01 One.wav
    title: One
  - file: mixes/02 Two.wav
    title: Two
streaming:
  - profile: promo-aac
    ddex: true
  - profile: promo-ogg
    ddex: true
  - profile: custom
    name: aac-128
    format: aac
    sample_rate: 48000
    bitrate_kbps: 128
ddex:
  sender: { party_id: PADPIDA2014021302H, name: Example Records }
  recipients: [{ party_id: PADPIDA2024072201A, name: Example Store }]
";

fn make_release(dir: &Path) {
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    music::make(
        &mixes,
        "01 One.wav",
        "One",
        48_000,
        2,
        6.0003,
        51,
        Style::DENSE,
        -14.0,
        -0.5,
    );
    music::make(
        &mixes,
        "02 Two.wav",
        "Two",
        44_100,
        2,
        5.0,
        52,
        Style::BAND,
        -16.0,
        -1.0,
    );
    super::encode::write_png(&dir.join("cover.png"), 1400, 1400);
    std::fs::write(dir.join("album.yaml"), MANIFEST).unwrap();
}

#[test]
fn an_aac_build_passes_verify_and_a_changed_tag_fails_it() {
    let dir = scratch("deliver-aac-build");
    make_release(&dir);
    let (r, _) = build_ok(&dir, "album.yaml", "out", &[]);
    let bundles = r["bundles"].as_array().unwrap();
    for (name, kbps, rates) in [
        ("promo-aac", 256, [48_000, 44_100]),
        ("aac-128", 128, [48_000, 48_000]),
    ] {
        let b = bundles.iter().find(|b| b["name"] == name).unwrap();
        assert_eq!(b["format"], "aac", "{b}");
        for (f, rate) in b["files"].as_array().unwrap().iter().zip(rates) {
            let file = f["file"].as_str().unwrap();
            assert!(file.ends_with(".m4a"), "{file}");
            assert_eq!(f["sample_rate"], rate, "{name}/{file}");
            assert!(f["true_peak_dbtp"].as_f64().unwrap() <= -1.0, "{f}");
            let k = f["bitrate_kbps"].as_f64().unwrap();
            assert!(k <= f64::from(kbps) && k > 0.8 * f64::from(kbps), "{f}");
            println!(
                "{name}/{file}: {} Hz, {} kbps, {} LUFS, {} dBTP decoded",
                f["sample_rate"], f["bitrate_kbps"], f["integrated_lufs"], f["true_peak_dbtp"]
            );
        }
        assert_eq!(b["bitrate_kbps"], kbps, "{b}");
    }
    // The DDEX message names the codec and the container by the ERN 4.3
    // allowed values, and validates against the official schema.
    let xsd = Path::new("/work/shared/testdata/ddex/ern43/release-notification.xsd");
    let xsd = [
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/testdata/ddex/ern43/release-notification.xsd"),
        xsd.to_path_buf(),
    ]
    .into_iter()
    .find(|p| p.is_file());
    match (xsd, crate::util::have_tool("xmllint", "aac ddex")) {
        (Some(xsd), true) => {
            for (bundle, codec, container) in
                [("promo-aac", "AAC", "MP4"), ("promo-ogg", "Vorbis", "Ogg")]
            {
                let msg = dir
                    .join("out/streaming")
                    .join(bundle)
                    .join("ddex/NewReleaseMessage.xml");
                let o = std::process::Command::new("xmllint")
                    .arg("--noout")
                    .arg("--schema")
                    .arg(&xsd)
                    .arg(&msg)
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&o.stderr);
                assert!(
                    o.status.success() && err.contains("validates"),
                    "{bundle}: {err}"
                );
                let text = std::fs::read_to_string(&msg).unwrap();
                assert!(
                    text.contains(&format!("<AudioCodecType>{codec}</AudioCodecType>")),
                    "{text}"
                );
                assert!(
                    text.contains(&format!("<ContainerFormat>{container}</ContainerFormat>")),
                    "{text}"
                );
            }
        }
        _ => eprintln!("SKIP aac ddex: no xmllint or no ERN 4.3 schema"),
    }
    let v = gm(&dir, &["verify", "out"]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "verify: {}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    // A title changed after the build: verify names the file and the tag.
    let b = bundles.iter().find(|b| b["name"] == "promo-aac").unwrap();
    let file = b["files"][0]["file"].as_str().unwrap();
    let path = dir.join("out/streaming/promo-aac").join(file);
    let mut ilst = {
        use lofty::file::AudioFile;
        let mut f = std::fs::File::open(&path).unwrap();
        let mp4 =
            lofty::mp4::Mp4File::read_from(&mut f, lofty::config::ParseOptions::new()).unwrap();
        mp4.ilst().cloned().unwrap()
    };
    use lofty::tag::{Accessor, TagExt};
    ilst.set_title("Another Title".into());
    ilst.save_to_path(&path, lofty::config::WriteOptions::default())
        .unwrap();
    let v = gm(&dir, &["verify", "out"]);
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert_eq!(v.status.code(), Some(1), "{err}");
    assert!(err.contains(file) && err.contains("title tag"), "{err}");
    println!("verify after the change: {err}");
    // The 128 kbps encode of the same track in its place: the bit rate.
    let low = bundles.iter().find(|b| b["name"] == "aac-128").unwrap();
    let low = dir
        .join("out/streaming/aac-128")
        .join(low["files"][0]["file"].as_str().unwrap());
    std::fs::copy(&low, &path).unwrap();
    let v = gm(&dir, &["verify", "out"]);
    let err = String::from_utf8_lossy(&v.stdout).into_owned() + &String::from_utf8_lossy(&v.stderr);
    assert_eq!(v.status.code(), Some(1), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains(file) && l.contains(": bit rate: averages"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("report.json says 2"), "{line}");
    println!("{line}");
}

#[test]
fn check_refuses_aac_rates_aac_lc_does_not_have() {
    let dir = scratch("deliver-aac-check");
    make_release(&dir);
    let bad = MANIFEST
        .replace("bitrate_kbps: 128", "bitrate_kbps: 32")
        .replace(
        "streaming:\n",
        "streaming:\n  - { profile: custom, name: aac-hires, format: aac, sample_rate: 192000 }\n",
    );
    std::fs::write(dir.join("bad.yaml"), bad).unwrap();
    let o = gm(&dir, &["check", "bad.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bundle `aac-hires`: AAC-LC is delivered at 44100, 48000, 88200 or 96000 Hz, not 192000 Hz"),
        "{err}"
    );
    assert!(
        err.contains(
            "bundle `aac-128`: AAC bit rate 32 kbps is not one glassmaster encodes; use 64 to 320"
        ),
        "{err}"
    );
    for l in err.lines().filter(|l| l.contains("AAC")) {
        assert!(l.starts_with("bad.yaml:") && l.contains(": error: "), "{l}");
    }
}
