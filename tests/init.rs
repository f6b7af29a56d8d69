//! `glassmaster init` and the demo album's sources.

use std::process::Command;

use crate::util::{bin, scratch, write_wav_i16};

#[path = "../examples/make_demo.rs"]
mod make_demo;

#[test]
fn demo_mixes_are_what_the_generator_makes() {
    let dir = scratch("demo-regenerated").join("mixes");
    make_demo::write_demo(&dir);
    let committed =
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/mixes"));
    let mut total = 0;
    for name in [
        "01 Intro.wav",
        "02 Night Drive.flac",
        "03 Outro.flac",
        "../art/cover.png",
    ] {
        let a = std::fs::read(committed.join(name)).unwrap();
        let b = std::fs::read(dir.join(name)).unwrap();
        assert!(
            a == b,
            "{name}: the committed file is not what examples/make_demo.rs makes"
        );
        total += a.len();
    }
    assert!(
        total <= 2 << 20,
        "the demo mixes take {total} bytes, over 2 MiB"
    );
}

#[test]
fn init_writes_a_manifest_that_checks() {
    let dir = scratch("init-folder");
    let mixes = dir.join("mixes");
    std::fs::create_dir_all(&mixes).unwrap();
    write_wav_i16(&mixes.join("02 - Night_Drive.wav"), 44_100, 2, 5.0, 330.0);
    write_wav_i16(&mixes.join("01 Intro.wav"), 48_000, 1, 4.5, 440.0);
    std::fs::write(mixes.join("notes.txt"), "not audio").unwrap();
    let out = Command::new(bin()).arg("init").arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = std::fs::read_to_string(dir.join("album.yaml")).unwrap();
    let intro = yaml.find("title: \"Intro\"").expect(&yaml);
    let drive = yaml.find("title: \"Night Drive\"").expect(&yaml);
    assert!(intro < drive, "tracks out of order:\n{yaml}");
    assert!(yaml.contains("file: \"mixes/01 Intro.wav\""), "{yaml}");
    assert!(!yaml.contains("notes.txt"));

    let check = Command::new(bin())
        .arg("check")
        .arg(dir.join("album.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{stderr}");

    // A second init refuses to replace the manifest without --force.
    let again = Command::new(bin()).arg("init").arg(&dir).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = Command::new(bin())
        .args(["init", "--force"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(forced.status.success());
}

#[test]
fn init_takes_titles_from_tags() {
    use lofty::config::WriteOptions;
    use lofty::file::TaggedFileExt;
    use lofty::tag::{Accessor, Tag, TagExt, TagType};

    let dir = scratch("init-tags");
    make_demo::write_demo(&dir);
    for name in ["02 Night Drive.flac", "03 Outro.flac"] {
        let path = dir.join(name);
        let mut tag = Tag::new(TagType::VorbisComments);
        tag.set_title(format!("Tagged {}", &name[3..name.len() - 5]));
        tag.set_artist("Tag Artist".into());
        tag.set_album("Tag Album".into());
        tag.save_to_path(&path, WriteOptions::default()).unwrap();
        let back = lofty::read_from_path(&path).unwrap();
        assert!(back.primary_tag().is_some());
    }
    let out = Command::new(bin()).arg("init").arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = std::fs::read_to_string(dir.join("album.yaml")).unwrap();
    assert!(yaml.contains("title: \"Tagged Night Drive\""), "{yaml}");
    assert!(yaml.contains("title: \"Tagged Outro\""), "{yaml}");
    assert!(yaml.contains("title: \"Intro\""), "{yaml}");
    assert!(yaml.contains("title: \"Tag Album\""), "{yaml}");
    assert!(yaml.contains("artist: \"Tag Artist\""), "{yaml}");
}

#[test]
fn init_errors_name_the_folder() {
    let dir = scratch("init-empty");
    let out = Command::new(bin()).arg("init").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no audio files found") && stderr.contains("init-empty"),
        "{stderr}"
    );
    let out = Command::new(bin())
        .arg("init")
        .arg(dir.join("nope"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = Command::new(bin())
        .args(["init", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_from_cue() {
    let dir = scratch("init-from-cue");
    // 30 s image: track 1 from 0 s, a 2 s pause, track 2 at 12 s with
    // INDEX 02, track 3 a segue at 22 s.
    write_wav_i16(&dir.join("image.wav"), 44_100, 2, 30.0, 440.0);
    let sheet = "CATALOG 5012345678900\r\nPERFORMER \"The Band\"\r\nTITLE \"Imported\"\r\n\
FILE \"image.wav\" WAVE\r\n  TRACK 01 AUDIO\r\n    TITLE \"One\"\r\n    ISRC GBABC2600001\r\n\
    INDEX 01 00:00:00\r\n  TRACK 02 AUDIO\r\n    TITLE \"Two\"\r\n    PERFORMER \"Guest\"\r\n\
    FLAGS DCP\r\n    INDEX 00 00:10:00\r\n    INDEX 01 00:12:00\r\n    INDEX 02 00:15:30\r\n\
  TRACK 03 AUDIO\r\n    TITLE \"Three\"\r\n    INDEX 01 00:22:00\r\n";
    std::fs::write(dir.join("image.cue"), sheet).unwrap();
    let out = Command::new(bin())
        .current_dir(&dir)
        .args(["init", "--from-cue", "image.cue"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !cfg!(feature = "libcue") {
        eprintln!("SKIP init_from_cue: built without the `libcue` feature");
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr.contains("libcue") && stderr.contains("image.cue"),
            "{stderr}"
        );
        return;
    }
    assert!(out.status.success(), "{stderr}");
    let yaml = std::fs::read_to_string(dir.join("album.yaml")).unwrap();
    for want in [
        "title: \"Imported\"",
        "artist: \"The Band\"",
        "upc: \"5012345678900\"",
        "isrc: \"GBABC2600001\"",
        "trim: { start: \"00:00:00\", end: \"00:10:00\" }",
        "trim: { start: \"00:12:00\", end: \"00:22:00\" }",
        "indexes: [\"00:03:30\"]",
        "artist: \"Guest\"",
        "trim: { start: \"00:22:00\" }",
        "segue: true",
        "copy_permitted: true",
    ] {
        assert!(yaml.contains(want), "missing {want}:\n{yaml}");
    }
    let check = Command::new(bin())
        .current_dir(&dir)
        .args(["check", "album.yaml"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// Issue 11 (6): four WAVs whose names are in another order than their
/// TRACKNUMBER tags (ID3v2 in the WAV, read back with lofty here), one
/// with "feat." in its title and one with no title tag, no album tag:
/// `init` orders by the tags, moves the featured artist into
/// `featuring`, says on stderr what it guessed (the title from the
/// folder, the untagged title from the file name), writes every section,
/// and the manifest passes `check` as written and again after the one
/// choice the example shows is taken (the commented `streaming:` block).
#[test]
fn init_orders_by_tags_and_says_what_it_guessed() {
    use lofty::config::WriteOptions;
    use lofty::tag::{Accessor, Tag, TagExt, TagType};

    let dir = scratch("init-order").join("Late Set");
    std::fs::create_dir_all(&dir).unwrap();
    // (file, track tag, title tag)
    let files: [(&str, u32, Option<&str>); 4] = [
        ("a.wav", 3, Some("Third (feat. Guest Singer & MC Two)")),
        ("b.wav", 1, Some("First")),
        ("c.wav", 4, None),
        ("d.wav", 2, Some("Second")),
    ];
    for (i, (name, n, title)) in files.iter().enumerate() {
        let path = dir.join(name);
        write_wav_i16(&path, 44_100, 2, 4.5, 220.0 + 110.0 * i as f64);
        let mut tag = Tag::new(TagType::Id3v2);
        tag.set_track(*n);
        tag.set_disk(1);
        tag.set_artist("Tag Band".into());
        if let Some(t) = title {
            tag.set_title((*t).into());
        }
        tag.save_to_path(&path, WriteOptions::default()).unwrap();
        let back = lofty::read_from_path(&path).unwrap();
        let got = lofty::file::TaggedFileExt::primary_tag(&back)
            .or_else(|| lofty::file::TaggedFileExt::first_tag(&back))
            .and_then(|t| t.track());
        assert_eq!(got, Some(*n), "{name}: lofty reads back its track tag");
    }
    let out = Command::new(bin()).arg("init").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let yaml = std::fs::read_to_string(dir.join("album.yaml")).unwrap();
    let at = |s: &str| yaml.find(s).unwrap_or_else(|| panic!("no {s} in\n{yaml}"));
    let order = [
        at("title: \"First\""),
        at("title: \"Second\""),
        at("title: \"Third\""),
        at("title: \"c\""),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "order by tag:\n{yaml}"
    );
    assert!(
        yaml.contains("featuring: [\"Guest Singer\", \"MC Two\"]"),
        "{yaml}"
    );
    assert!(yaml.contains("title: \"Late Set\""), "{yaml}");
    assert!(yaml.contains("artist: \"Tag Band\""), "{yaml}");
    for section in [
        "release:",
        "# isrc:",
        "mastering:",
        "tracks:",
        "cd:",
        "# streaming:",
        "# report:",
        "# upc:",
    ] {
        assert!(yaml.contains(section), "no {section} in\n{yaml}");
    }
    for said in [
        "release title \"Late Set\": the folder's name",
        "track 4 title \"c\": from the file name \"c.wav\"",
        "track 3: \"Guest Singer\", \"MC Two\" moved from the title into `featuring`",
        "streaming:",
    ] {
        assert!(stderr.contains(said), "stderr lacks {said:?}:\n{stderr}");
    }
    let check = |what: &str| {
        let o = Command::new(bin())
            .arg("check")
            .arg(dir.join("album.yaml"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{what}: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(dir.join("album.yaml")).unwrap()
        );
    };
    check("as written");
    // The choice: uncomment the `streaming:` example as it stands.
    let mut taken = String::new();
    let mut inside = false;
    for line in yaml.lines() {
        inside = line == "# streaming:" || (inside && line.starts_with("#   "));
        taken.push_str(if inside { &line[2..] } else { line });
        taken.push('\n');
    }
    assert!(
        taken.contains("\nstreaming:\n  - profile: archive\n"),
        "{taken}"
    );
    std::fs::write(dir.join("album.yaml"), taken).unwrap();
    check("with the streaming example");
}
