//! Issue 16: the DDEX ERN 4.3 NewReleaseMessage of a bundle, validated by
//! xmllint against the official schema (../shared/testdata/ddex/ern43) and
//! read back with `xmllint --xpath`: every ISRC, the UPC, every title,
//! duration (against ffprobe's sample count of the delivered file), file
//! name and MD5 (computed here) as report.json and the files have them;
//! the same bytes from two builds; the release type and parental warnings;
//! `verify` catching a hand edit; and the manifest's mistakes at their
//! lines.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{build_ok, gm};
use crate::util::{have_tool, scratch, write_wav_i16};

const SENDER: &str = "{ party_id: PADPIDA2014021302H, name: Example Records }";
const RECIPIENT: &str = "{ party_id: PADPIDA2024072201A, name: Example Store }";

/// The ERN 4.3 schema, when ../shared is beside the repository.
fn schema(test: &str) -> Option<PathBuf> {
    let found = [
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/testdata/ddex/ern43/release-notification.xsd"),
        PathBuf::from("/work/shared/testdata/ddex/ern43/release-notification.xsd"),
    ]
    .into_iter()
    .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("SKIP {test}: shared/testdata/ddex/ern43/release-notification.xsd not found");
    }
    found
}

/// Both xmllint and the schema, or a SKIP line.
fn tools(test: &str) -> Option<PathBuf> {
    if !have_tool("xmllint", test) {
        return None;
    }
    schema(test)
}

fn validates(xsd: &Path, msg: &Path) {
    let o = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(msg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("validates"),
        "xmllint --schema {}: {err}",
        msg.display()
    );
}

/// `xmllint --xpath "string(EXPR)"`.
fn xpath(msg: &Path, expr: &str) -> String {
    let o = Command::new("xmllint")
        .arg("--xpath")
        .arg(format!("string({expr})"))
        .arg(msg)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// Milliseconds of an ISO 8601 `PTnHnMn.nnnS`, parsed here.
fn iso_ms(d: &str) -> u64 {
    let mut rest = d
        .strip_prefix("PT")
        .unwrap_or_else(|| panic!("duration {d}"));
    let mut ms = 0.0;
    for (unit, scale) in [('H', 3_600_000.0), ('M', 60_000.0), ('S', 1000.0)] {
        if let Some(i) = rest.find(unit) {
            ms += rest[..i].parse::<f64>().unwrap() * scale;
            rest = &rest[i + 1..];
        }
    }
    assert!(rest.is_empty(), "duration {d}");
    ms.round() as u64
}

/// `%XX` escapes undone.
fn unescape(uri: &str) -> String {
    let b = uri.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&uri[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The delivered file's length in ms by ffprobe's sample count.
fn ffprobe_ms(file: &Path) -> Option<u64> {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .arg("stream=duration_ts,sample_rate")
        .args(["-of", "default=nw=1"])
        .arg(file)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout);
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Some((get("duration_ts")? * 1000.0 / get("sample_rate")?).round() as u64)
}

/// Milliseconds ffmpeg decodes from `file` at `rate`.
fn ffmpeg_ms(file: &Path, rate: f64) -> u64 {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-f", "s16le", "-ac", "2", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "ffmpeg {}", file.display());
    (o.stdout.len() as f64 / 4.0 * 1000.0 / rate).round() as u64
}

/// Every field the issue names, message against report.json and files.
/// Returns the message's path.
fn check_bundle(xsd: &Path, out: &Path, report: &serde_json::Value, bundle: &str) -> PathBuf {
    let b = report["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == bundle)
        .unwrap_or_else(|| panic!("bundle {bundle} not in report.json"));
    assert_eq!(b["ddex"], "ddex/NewReleaseMessage.xml");
    let dir = out.join("streaming").join(bundle);
    let msg = dir.join("ddex/NewReleaseMessage.xml");
    validates(xsd, &msg);
    assert_eq!(
        xpath(&msg, "//ReleaseList/Release/ReleaseId/ICPN"),
        report["release"]["upc"].as_str().unwrap()
    );
    let tracks = report["tracks"].as_array().unwrap();
    let files = b["files"].as_array().unwrap();
    assert_eq!(
        xpath(&msg, "count(//ResourceList/SoundRecording)"),
        tracks.len().to_string()
    );
    let probe = have_tool("ffprobe", "ddex durations (ffprobe)");
    for (i, (t, f)) in tracks.iter().zip(files).enumerate() {
        let sr = format!("//ResourceList/SoundRecording[{}]", i + 1);
        let isrc = xpath(&msg, &format!("{sr}/SoundRecordingEdition/ResourceId/ISRC"));
        assert_eq!(
            isrc,
            t["isrc"].as_str().unwrap(),
            "{bundle} track {}",
            i + 1
        );
        assert_eq!(
            xpath(&msg, &format!("{sr}/DisplayTitle/TitleText")),
            t["title"].as_str().unwrap()
        );
        assert_eq!(
            xpath(&msg, &format!("{sr}/DisplayTitleText")),
            t["title"].as_str().unwrap()
        );
        let ms = iso_ms(&xpath(&msg, &format!("{sr}/Duration")));
        let rec = f["duration_s"].as_f64().unwrap() * 1000.0;
        assert!(
            (ms as f64 - rec).abs() <= 5.0,
            "{bundle} track {}: {ms} ms, report {rec}",
            i + 1
        );
        let file = format!("{sr}/SoundRecordingEdition/TechnicalDetails/DeliveryFile/File");
        let uri = xpath(&msg, &format!("{file}/URI"));
        let name = unescape(uri.strip_prefix("../").unwrap());
        assert_eq!(name, f["file"].as_str().unwrap());
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            xpath(&msg, &format!("{file}/HashSum/HashSumValue")),
            format!("{:x}", md5::compute(&bytes))
        );
        assert_eq!(xpath(&msg, &format!("{file}/HashSum/Algorithm")), "MD5");
        assert_eq!(
            xpath(&msg, &format!("{file}/FileSize")),
            bytes.len().to_string()
        );
        let rate = xpath(&msg, &format!("{file}/../SamplingRate"));
        assert_eq!(rate, f["sample_rate"].to_string());
        // PCM and FLAC files have an exact sample count to compare with;
        // an MP3's is what ffmpeg decodes (encoder delay and padding cut
        // by the LAME header, as players do).
        if probe && !name.ends_with(".mp3") {
            assert_eq!(
                Some(ms),
                ffprobe_ms(&path),
                "{bundle} {name}: ffprobe's length"
            );
        } else if probe {
            let rate = f["sample_rate"].as_f64().unwrap();
            let decoded = ffmpeg_ms(&path, rate);
            assert!(
                decoded.abs_diff(ms) <= 1,
                "{bundle} {name}: {ms} ms, ffmpeg decodes {decoded} ms"
            );
        }
    }
    if b["cover"].is_object() {
        let img = "//ResourceList/Image/TechnicalDetails";
        assert_eq!(xpath(&msg, &format!("{img}/File/URI")), "../cover.jpg");
        let bytes = std::fs::read(dir.join("cover.jpg")).unwrap();
        assert_eq!(
            xpath(&msg, &format!("{img}/File/HashSum/HashSumValue")),
            format!("{:x}", md5::compute(&bytes))
        );
        assert_eq!(
            xpath(&msg, &format!("{img}/ImageWidth")),
            b["cover"]["width"].to_string()
        );
    }
    msg
}

/// The demo album with its spotify (FLAC) and promo-mp3 bundles opted in.
#[test]
fn demo_messages_validate_and_match_the_files() {
    let Some(xsd) = tools("demo_messages_validate_and_match_the_files") else {
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = scratch("ddex-demo");
    for sub in ["mixes", "art"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(root.join("examples/demo").join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
        }
    }
    let text = std::fs::read_to_string(root.join("examples/demo/album.yaml")).unwrap();
    let (head, tail) = text.split_at(text.find("\nstreaming:").unwrap());
    let report_at = tail.find("\nreport:").unwrap();
    let manifest = format!(
        "{head}\nstreaming:\n  - profile: spotify\n    ddex: true\n  - profile: promo-mp3\n    ddex: true\n\nddex:\n  sender: {SENDER}\n  recipients: [{RECIPIENT}]\n{}",
        &tail[report_at..]
    );
    std::fs::write(dir.join("album.yaml"), manifest).unwrap();
    let (report, _) = build_ok(&dir, "album.yaml", "out", &["--only", "streaming"]);
    let out = dir.join("out");
    for bundle in ["spotify", "promo-mp3"] {
        let msg = check_bundle(&xsd, &out, &report, bundle);
        // Three short tracks: a Single by the stores' rule; track 2 is explicit.
        assert_eq!(xpath(&msg, "//ReleaseList/Release/ReleaseType"), "Single");
        let warn = |i: usize| {
            xpath(
                &msg,
                &format!("//ResourceList/SoundRecording[{i}]/ParentalWarningType"),
            )
        };
        assert_eq!(
            (warn(1), warn(2), warn(3)),
            (
                "NotExplicit".into(),
                "Explicit".into(),
                "NotExplicit".into()
            )
        );
        for (expr, want) in [
            ("//ReleaseList/Release/ParentalWarningType", "Explicit"),
            ("//ReleaseList/Release/Genre/GenreText", "Electronic"),
            (
                "//MessageHeader/MessageSender/PartyId",
                "PADPIDA2014021302H",
            ),
            (
                "//MessageHeader/MessageRecipient/PartyId",
                "PADPIDA2024072201A",
            ),
            (
                "//MessageHeader/MessageCreatedDateTime",
                "2026-12-04T00:00:00Z",
            ),
            (
                "//DealList/ReleaseDeal/Deal[1]/DealTerms/TerritoryCode",
                "Worldwide",
            ),
            (
                "//DealList/ReleaseDeal/Deal[1]/DealTerms/ValidityPeriod/StartDate",
                "2026-12-04",
            ),
            (
                "//DealList/ReleaseDeal/Deal[2]/DealTerms/UseType",
                "PermanentDownload",
            ),
        ] {
            assert_eq!(xpath(&msg, expr), want, "{bundle}: {expr}");
        }
        // The featured singer and the lyricist have their roles.
        let sr2 = "//ResourceList/SoundRecording[2]";
        assert_eq!(
            xpath(&msg, &format!("{sr2}/DisplayArtist[2]/DisplayArtistRole")),
            "FeaturedArtist"
        );
        let guest = xpath(
            &msg,
            &format!("{sr2}/DisplayArtist[2]/ArtistPartyReference"),
        );
        assert_eq!(
            xpath(
                &msg,
                &format!("//PartyList/Party[PartyReference='{guest}']/PartyName/FullName")
            ),
            "Guest Singer"
        );
        assert_eq!(
            xpath(
                &msg,
                &format!("{sr2}/Contributor[Role='Lyricist']/ContributorPartyReference")
            ),
            xpath(
                &msg,
                "//PartyList/Party[PartyName/FullName='B. Poet']/PartyReference"
            )
        );
    }
    let mp3 = out.join("streaming/promo-mp3/ddex/NewReleaseMessage.xml");
    assert_eq!(
        xpath(&mp3, "//SoundRecording[1]//DeliveryFile/AudioCodecType"),
        "MP3"
    );
    assert_eq!(
        xpath(&mp3, "//SoundRecording[1]//DeliveryFile/BitRate"),
        "320"
    );

    // verify passes, then catches a message edited by hand: an ISRC changed.
    let o = gm(&dir, &["verify", "out"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let msg = out.join("streaming/spotify/ddex/NewReleaseMessage.xml");
    let text = std::fs::read_to_string(&msg).unwrap();
    let isrc = report["tracks"][1]["isrc"].as_str().unwrap();
    std::fs::write(&msg, text.replace(isrc, "GBXXX2699999")).unwrap();
    let o = gm(&dir, &["verify", "out"]);
    let err = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("SoundRecording A2 ISRC") && err.contains("GBXXX2699999"),
        "{err}"
    );
    assert!(
        err.contains("streaming/spotify/ddex/NewReleaseMessage.xml"),
        "{err}"
    );
}

/// A release of `tracks` (disc, title, seconds, explicit) with a spotify
/// bundle opted in, in `dir`.
fn release(dir: &Path, tracks: &[(u32, &str, f64, bool)]) {
    std::fs::create_dir_all(dir.join("mixes")).unwrap();
    let cover = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/art/cover.png");
    std::fs::copy(cover, dir.join("cover.png")).unwrap();
    let mut list = String::new();
    for (i, (disc, title, secs, explicit)) in tracks.iter().enumerate() {
        let name = format!("mixes/{:02}.wav", i + 1);
        write_wav_i16(&dir.join(&name), 44_100, 2, *secs, 220.0 + 40.0 * i as f64);
        list.push_str(&format!(
            "  - {{ file: {name}, title: \"{title}\", disc: {disc}, explicit: {explicit} }}\n"
        ));
    }
    let manifest = format!(
        "glassmaster: 1\nrelease:\n  title: Two Discs\n  artist: The Generated\n  upc: \"036000291452\"\n  label: Example Records\n  release_date: 2027-01-15\n  genre: Ambient\n  phonographic_copyright: 2027 Example Records\n  artwork: cover.png\nisrc: {{ registrant: US-XYZ, year: 27, first: 1 }}\ntracks:\n{list}streaming:\n  - profile: spotify\n    ddex: true\nddex:\n  sender: {SENDER}\n  recipients: [{RECIPIENT}]\n"
    );
    std::fs::write(dir.join("album.yaml"), manifest).unwrap();
}

#[test]
fn twelve_tracks_on_two_discs_same_bytes_twice() {
    let Some(xsd) = tools("twelve_tracks_on_two_discs_same_bytes_twice") else {
        return;
    };
    let dir = scratch("ddex-two-discs");
    let titles: Vec<String> = (1..=12).map(|i| format!("Piece {i}")).collect();
    let tracks: Vec<(u32, &str, f64, bool)> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                if i < 6 { 1 } else { 2 },
                t.as_str(),
                1.0 + 0.1 * i as f64,
                false,
            )
        })
        .collect();
    release(&dir, &tracks);
    let mut messages = Vec::new();
    for out in ["first", "second"] {
        let (report, _) = build_ok(&dir, "album.yaml", out, &[]);
        let msg = check_bundle(&xsd, &dir.join(out), &report, "spotify");
        messages.push(std::fs::read(&msg).unwrap());
        if out == "first" {
            assert_eq!(xpath(&msg, "//ReleaseList/Release/ReleaseType"), "Album");
            assert_eq!(
                xpath(&msg, "//ReleaseList/Release/ReleaseId/ICPN"),
                "0036000291452"
            );
            let top = "//ReleaseList/Release/ResourceGroup";
            assert_eq!(xpath(&msg, &format!("count({top}/ResourceGroup)")), "2");
            for disc in 1..=2 {
                let g = format!("{top}/ResourceGroup[{disc}]");
                assert_eq!(
                    xpath(&msg, &format!("{g}/SequenceNumber")),
                    disc.to_string()
                );
                assert_eq!(
                    xpath(&msg, &format!("count({g}/ResourceGroupContentItem)")),
                    "6"
                );
                for k in 1..=6 {
                    let item = format!("{g}/ResourceGroupContentItem[{k}]");
                    assert_eq!(
                        xpath(&msg, &format!("{item}/SequenceNumber")),
                        k.to_string()
                    );
                    let a = (disc - 1) * 6 + k;
                    assert_eq!(
                        xpath(&msg, &format!("{item}/ReleaseResourceReference")),
                        format!("A{a}")
                    );
                }
            }
            assert_eq!(xpath(&msg, "count(//ReleaseList/TrackRelease)"), "12");
        }
    }
    assert!(
        messages[0] == messages[1],
        "two builds wrote different messages"
    );

    // A changed title changes the message (and its id); SOURCE_DATE_EPOCH
    // sets the creation time.
    let text = std::fs::read_to_string(dir.join("album.yaml")).unwrap();
    std::fs::write(
        dir.join("album.yaml"),
        text.replace("\"Piece 5\"", "\"Piece Five\""),
    )
    .unwrap();
    let o = Command::new(crate::util::bin())
        .current_dir(&dir)
        .env("SOURCE_DATE_EPOCH", "1709210096")
        .args(["build", "album.yaml", "-o", "third"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let msg = dir.join("third/streaming/spotify/ddex/NewReleaseMessage.xml");
    validates(&xsd, &msg);
    assert_ne!(std::fs::read(&msg).unwrap(), messages[0]);
    assert_eq!(
        xpath(&msg, "//SoundRecording[5]/DisplayTitle/TitleText"),
        "Piece Five"
    );
    assert_eq!(
        xpath(&msg, "//MessageHeader/MessageCreatedDateTime"),
        "2024-02-29T12:34:56Z"
    );
    let first = dir.join("first/streaming/spotify/ddex/NewReleaseMessage.xml");
    assert_ne!(
        xpath(&msg, "//MessageHeader/MessageId"),
        xpath(&first, "//MessageHeader/MessageId")
    );
}

#[test]
fn a_single_and_an_ep_are_typed_as_the_stores_define_them() {
    let Some(xsd) = tools("a_single_and_an_ep_are_typed_as_the_stores_define_them") else {
        return;
    };
    for (name, tracks, want) in [
        ("single", vec![(1, "Only One", 1.5, true)], "Single"),
        (
            "ep",
            vec![
                (1, "One", 1.0, false),
                (1, "Two", 1.0, false),
                (1, "Three", 1.0, true),
                (1, "Four", 1.0, false),
            ],
            "EP",
        ),
    ] {
        let dir = scratch(&format!("ddex-{name}"));
        release(&dir, &tracks);
        let (report, _) = build_ok(&dir, "album.yaml", "out", &[]);
        let msg = check_bundle(&xsd, &dir.join("out"), &report, "spotify");
        assert_eq!(xpath(&msg, "//ReleaseList/Release/ReleaseType"), want);
        for (i, t) in tracks.iter().enumerate() {
            let warn = xpath(
                &msg,
                &format!("//SoundRecording[{}]/ParentalWarningType", i + 1),
            );
            assert_eq!(
                warn,
                if t.3 { "Explicit" } else { "NotExplicit" },
                "{name} track {}",
                i + 1
            );
        }
        assert_eq!(
            xpath(&msg, "//ReleaseList/Release/ParentalWarningType"),
            "Explicit"
        );
    }
}

#[test]
fn ddex_mistakes_in_the_manifest_are_named_at_their_lines() {
    let dir = scratch("ddex-mistakes");
    release(&dir, &[(1, "One", 1.0, false)]);
    let good = std::fs::read_to_string(dir.join("album.yaml")).unwrap();
    let at = |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;

    // An ill-formed DPID (wrong check character) and a deal without territories.
    let bad = good.replace("PADPIDA2024072201A", "PADPIDA2024072201B")
        + "  deal:\n    - { commercial_models: [SubscriptionModel], use_types: [OnDemandStream] }\n";
    std::fs::write(dir.join("bad.yaml"), &bad).unwrap();
    let o = gm(&dir, &["check", "bad.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("bad.yaml:{}:", at(&bad, "PADPIDA2024072201B")))
            && err.contains("check character A"),
        "{err}"
    );
    assert!(
        err.contains(&format!("bad.yaml:{}:", at(&bad, "commercial_models")))
            && err.contains("no `territories`"),
        "{err}"
    );

    // A bundle asking for a message, no sender.
    let no_sender = good.replace(&format!("  sender: {SENDER}\n"), "");
    std::fs::write(dir.join("nosender.yaml"), &no_sender).unwrap();
    let o = gm(&dir, &["check", "nosender.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("`ddex` needs `sender`"), "{err}");

    // No `ddex:` section at all, but `ddex: true` on the bundle.
    let cut = good.find("ddex:\n  ").unwrap();
    let no_section = good[..cut].to_owned();
    std::fs::write(dir.join("nosection.yaml"), &no_section).unwrap();
    let o = gm(&dir, &["check", "nosection.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "nosection.yaml:{}:",
            at(&no_section, "ddex: true")
        )) && err.contains("no `ddex:` section"),
        "{err}"
    );
    // An ill-formed SOURCE_DATE_EPOCH fails the build before any audio is
    // processed, naming it; nothing is left.
    let o = Command::new(crate::util::bin())
        .current_dir(&dir)
        .env("SOURCE_DATE_EPOCH", "tomorrow")
        .args(["build", "album.yaml", "-o", "out"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("SOURCE_DATE_EPOCH is \"tomorrow\""), "{err}");
    // Nothing was built.
    assert!(!dir.join("out").exists());
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("out"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
