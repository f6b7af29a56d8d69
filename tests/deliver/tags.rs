//! Tag text read back by ffprobe and metaflac: the tag writers are given
//! what the manifest refuses too (a NUL, a tab, a CR LF) and must still
//! write every value whole. A NUL used to cut the MP3 title at that point
//! (ID3v2.4 takes it for the end of one value); now every control
//! character is a space, lyrics keep their line ends, and quotes,
//! backslashes, spaces at either end, 日本 and emoji are kept exactly.

use std::path::Path;

use glassmaster::deliver::tags::write_tags;

use super::encode::bundle;
use super::{encode, full_tags, programme, tool};
use crate::util::scratch;

/// ffprobe's format tags of `f`, keys lowercased.
fn ffprobe_tags(f: &Path) -> Option<Vec<(String, String)>> {
    let o = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "format_tags",
            "-of",
            "json",
            f.to_str().unwrap(),
        ],
        "tag_values_survive_nul_and_controls (ffprobe)",
    )?;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tags = v["format"]["tags"].as_object().unwrap();
    Some(
        tags.iter()
            .map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
    )
}

#[test]
fn tag_values_survive_nul_and_controls() {
    let dir = scratch("deliver-tags-text");
    let title_in = "cut\0here \"Q\" back\\";
    let title = "cut here \"Q\" back\\";
    let artist = " Edge Band  feat. 日本 🎸";
    for (profile, ext) in [("promo-mp3", "mp3"), ("archive", "flac")] {
        let b = bundle(profile);
        let path = dir.join(format!("t.{ext}"));
        encode(&b, 44_100, &programme(44_100, 1.0, 3), &path, 2);
        let mut tags = full_tags();
        tags.title = title_in.into();
        tags.artist = " Edge\tBand ".into();
        tags.featuring = vec!["日本 🎸".into()];
        tags.lyrics = Some("line one\r\nline\0two".into());
        write_tags(&path, b.tags, &tags, None).unwrap();

        if let Some(got) = ffprobe_tags(&path) {
            let get = |k: &str| got.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            assert_eq!(get("title"), Some(title), "{profile}: {got:?}");
            assert_eq!(get("artist"), Some(artist), "{profile}");
            let lyrics = got.iter().find(|(n, _)| n.starts_with("lyrics"));
            assert_eq!(
                lyrics.map(|(_, v)| v.as_str()),
                Some("line one\nline two"),
                "{profile}: {got:?}"
            );
            eprintln!("ffprobe reads the {ext} title, artist and lyrics whole");
        }
        if ext == "flac" {
            let Some(o) = tool(
                "metaflac",
                &["--export-tags-to=-", path.to_str().unwrap()],
                "tag_values_survive_nul_and_controls (metaflac)",
            ) else {
                continue;
            };
            let text = String::from_utf8(o.stdout).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for want in [format!("TITLE={title}"), format!("ARTIST={artist}")] {
                assert!(lines.contains(&want.as_str()), "{want:?} in\n{text}");
            }
            assert!(lines.contains(&"ARTISTS= Edge Band "), "{text}");
            assert!(lines.contains(&"ARTISTS=日本 🎸"), "{text}");
            eprintln!("metaflac reads TITLE, ARTIST and both ARTISTS whole");
        }
    }
}
