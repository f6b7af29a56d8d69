//! Issue 6: `glassmaster verify` on the demo album: a fresh build passes;
//! each of the four changes the issue names (a byte of IMAGE.DAT, a FLAC's
//! ISRC tag, a master's gain by 0.5 dB, a deleted MP3) fails with exit 1
//! and names the file and the field; so do a stray file and a manifest
//! edited after the build.

use std::path::{Path, PathBuf};

use glassmaster::audio::{read_all, WavFormat, WavWriter};
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::tag::ItemKey;

use super::gm;
use crate::util::scratch;

pub(super) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(super) fn manifest() -> PathBuf {
    root().join("examples/demo/album.yaml")
}

/// The demo album, built once for the tests of this binary.
pub(super) fn demo() -> &'static Path {
    &super::demo_build().0
}

/// A copy of the demo build to change.
pub(super) fn copy_of_demo(name: &str) -> PathBuf {
    let to = scratch(&format!("verify-{name}")).join("build");
    copy_dir(demo(), &to);
    to
}

pub(super) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// `verify DIR --manifest demo --json`: exit code and the document.
pub(super) fn verify(dir: &Path, manifest: &Path) -> (Option<i32>, serde_json::Value, String) {
    let o = gm(
        &root(),
        &[
            "verify",
            dir.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--json",
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("verify --json printed no JSON ({e}):\n{stdout}"));
    (
        o.status.code(),
        doc,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The (file, field) pairs of the problems found.
pub(super) fn problems(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_owned(),
                p["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(super) fn assert_flags(doc: &serde_json::Value, code: Option<i32>, file: &str, field: &str) {
    let found = problems(doc);
    assert_eq!(code, Some(1), "verify should fail: {doc:#}");
    assert_eq!(doc["ok"], false);
    assert!(
        found.iter().any(|(f, x)| f == file && x == field),
        "no problem with {file} / {field} in {found:?}"
    );
}

/// The one file in `dir` whose name ends with `ext`, first by name.
pub(super) fn first_with(dir: &Path, ext: &str) -> PathBuf {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v.remove(0)
}

pub(super) fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn verify_passes_on_a_fresh_demo_build() {
    let (code, doc, stderr) = verify(demo(), &manifest());
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
    assert_eq!(doc["ok"], true);
    assert!(problems(&doc).is_empty());
    // 3 masters + 4 bundles of 3 tracks, each decoded and measured again.
    assert_eq!(doc["audio_checked"], 15, "{doc:#}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(
        doc["files_checked"].as_u64().unwrap() as usize,
        report["outputs"].as_array().unwrap().len()
    );
    assert!(doc["manifest"].as_str().unwrap().ends_with("album.yaml"));

    // Without --manifest and with the manifest not beside the folder, the
    // files are still checked and a note says what was not.
    let o = gm(&root(), &["verify", demo().to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("note: the manifest `album.yaml` is not beside the folder"),
        "{out}"
    );
}

#[test]
fn verify_names_a_changed_byte_of_image_dat() {
    let dir = copy_of_demo("image-byte");
    let image = dir.join("cd/ddp/IMAGE.DAT");
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[1_000_001] ^= 0x01;
    std::fs::write(&image, bytes).unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    assert_flags(&doc, code, "cd/ddp/IMAGE.DAT", "md5");
    // Against album.wav, at the byte changed: 1_000_001 / 2352 = frame 425.
    assert_flags(&doc, code, "cd/ddp/IMAGE.DAT", "audio");
    let msg = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == "audio")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("byte 1000001") && msg.contains("frame 425"),
        "{msg}"
    );
    // And the fileset's own CHECKSUM.MD5.
    assert_flags(&doc, code, "cd/ddp", "checksum");
}

#[test]
fn verify_names_a_changed_isrc_tag_of_a_flac() {
    let dir = copy_of_demo("flac-isrc");
    let flac = first_with(&dir.join("streaming/spotify"), ".flac");
    let mut file = lofty::read_from_path(&flac).unwrap();
    let tag = file.primary_tag_mut().unwrap();
    assert_eq!(tag.get_string(ItemKey::Isrc), Some("GBABC2600001"));
    tag.insert_text(ItemKey::Isrc, "GBABC2699999".into());
    file.save_to_path(&flac, lofty::config::WriteOptions::default())
        .unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    let name = rel(&dir, &flac);
    assert_flags(&doc, code, &name, "ISRC tag");
    assert_flags(&doc, code, &name, "md5");
    let msg = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == "ISRC tag")
        .unwrap()["message"]
        .to_string();
    assert!(
        msg.contains("GBABC2699999") && msg.contains("GBABC2600001"),
        "{msg}"
    );
}

#[test]
fn verify_names_a_master_half_a_decibel_louder() {
    let dir = copy_of_demo("master-gain");
    let master = dir.join("masters/02 Night Drive.wav");
    let (info, mut block) = read_all(&master).unwrap();
    let g = 10f64.powf(0.5 / 20.0);
    for x in block.left.iter_mut().chain(block.right.iter_mut()) {
        *x *= g;
    }
    // Written as the build writes masters (plain PCM, 24-bit), so only the
    // level differs.
    let mut w = WavWriter::create(&master, info.sample_rate, 2, WavFormat::Int24).unwrap();
    w.write_block(&block).unwrap();
    w.finalize().unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    let name = "masters/02 Night Drive.wav";
    assert_flags(&doc, code, name, "integrated_lufs");
    assert_flags(&doc, code, name, "true_peak_dbtp");
    assert_flags(&doc, code, name, "md5");
    assert!(
        !problems(&doc)
            .iter()
            .any(|(_, f)| f == "format tag" || f == "sample rate"),
        "{doc:#}"
    );
}

#[test]
fn verify_names_a_deleted_mp3() {
    let dir = copy_of_demo("deleted-mp3");
    let mp3 = first_with(&dir.join("streaming/promo-mp3"), ".mp3");
    std::fs::remove_file(&mp3).unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    assert_flags(&doc, code, &rel(&dir, &mp3), "file");
    // The human form names it too.
    let o = gm(
        &root(),
        &[
            "verify",
            dir.to_str().unwrap(),
            "--manifest",
            manifest().to_str().unwrap(),
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.contains(&format!("error: {}: file: is missing", rel(&dir, &mp3))),
        "{out}"
    );
}

#[test]
fn verify_names_a_stray_file_and_a_stale_manifest() {
    let dir = copy_of_demo("stray");
    std::fs::write(dir.join("streaming/spotify/notes.txt"), "added later\n").unwrap();
    let edited = dir.parent().unwrap().join("album.yaml");
    let text = std::fs::read_to_string(manifest())
        .unwrap()
        .replace("    title: Night Drive", "    title: Night Ride");
    assert!(text.contains("Night Ride"));
    // The edited manifest must still find the demo's mixes and cover.
    let text = text
        .replace(
            "mixes/",
            &format!("{}/", root().join("examples/demo/mixes").display()),
        )
        .replace(
            "art/",
            &format!("{}/", root().join("examples/demo/art").display()),
        );
    std::fs::write(&edited, text).unwrap();
    // The manifest beside the folder is found without --manifest.
    let o = gm(&root(), &["verify", dir.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_flags(&doc, o.status.code(), "streaming/spotify/notes.txt", "file");
    assert_flags(&doc, o.status.code(), "report.json", "tracks[2].title");
}

#[test]
fn verify_refuses_a_folder_without_a_report() {
    let dir = scratch("verify-empty");
    let o = gm(&root(), &["verify", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("report.json") && err.contains("cannot be read"),
        "{err}"
    );
    // A report.json that is not ours: refused, named, nothing else said.
    std::fs::write(dir.join("report.json"), "{\"tracks\": 3}\n").unwrap();
    let o = gm(&root(), &["verify", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("report.json") && err.contains("is not a glassmaster report"),
        "{err}"
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn verify_names_a_cd_layout_that_differs_from_the_disc() {
    let dir = copy_of_demo("layout");
    let path = dir.join("report.json");
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Track 2 one frame later in report.json than on the disc.
    let cd = &mut report["tracks"][1]["cd"];
    let start = cd["start_frame"].as_u64().unwrap();
    cd["start_frame"] = (start + 1).into();
    cd["indexes"][0] = (start + 1).into();
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let (code, doc, _) = verify(&dir, &manifest());
    assert_flags(&doc, code, "cd/album.cue", "track 02 indexes");
    assert_flags(&doc, code, "cd/ddp/PQDESCR", "track 02 indexes");
    assert_flags(&doc, code, "report.json", "tracks[2].cd.pregap_frames");
}
