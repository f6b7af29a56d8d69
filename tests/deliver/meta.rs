//! Naming and sanitising, metadata sheets, store lint, the normalisation
//! preview and the `profiles` command; tag text read back by ffprobe and
//! metaflac (a NUL, a tab, a CR LF given to the tag writers never cut a
//! value; quotes, backslashes, edge spaces, 日本 and emoji kept exactly).

use std::path::{Path, PathBuf};
use std::process::Command;

use glassmaster::deliver::lint::{lint, EdgeSilence, LintRule};
use glassmaster::deliver::naming::{file_name, sanitize, NameFields};
use glassmaster::deliver::normalise::{preview, Level};
use glassmaster::deliver::profile::{Charset, Profile};
use glassmaster::deliver::sheet::{self, Credit, SheetRelease, SheetRow};
use glassmaster::deliver::tags::{display_artist, write_tags};
use glassmaster::manifest::codes::{Isrc, Upc};
use glassmaster::manifest::model::{Release, Track};

use super::encode::bundle;
use super::{encode, full_tags, programme, tool};
use crate::util::{bin, scratch};

fn fields(title: &str) -> NameFields {
    NameFields {
        disc: 1,
        track: 3,
        artist: "Björk & The Band".into(),
        title: title.into(),
        album: "Album".into(),
        isrc: "GBABC2600003".into(),
        version: String::new(),
        album_artist: "Björk".into(),
    }
}

#[test]
fn file_names_are_safe() {
    let t = "{disc}-{track:02} {artist} - {title}";
    let n = |title: &str, cs| file_name(t, &fields(title), cs, "flac");
    assert_eq!(
        n("Night Drive", Charset::Any),
        "1-03 Björk & The Band - Night Drive.flac"
    );
    assert_eq!(
        n("AC/DC: Live?", Charset::Any),
        "1-03 Björk & The Band - AC-DC- Live_.flac"
    );
    assert_eq!(
        n("a\\b|c\u{7}d", Charset::Any),
        "1-03 Björk & The Band - a-b-c_d.flac"
    );
    assert_eq!(
        n("Trailing dots...", Charset::Any),
        "1-03 Björk & The Band - Trailing dots.flac"
    );
    assert_eq!(
        n("  spaced   out  ", Charset::Any),
        "1-03 Björk & The Band - spaced out.flac"
    );
    assert_eq!(
        n("Café del Mar (Ñu Mix)", Charset::Strict),
        "1-03_Bjork_The_Band_-_Cafe_del_Mar_Nu_Mix.flac"
    );
    // Reserved device names and hidden files.
    assert_eq!(
        file_name("{title}", &fields("CON"), Charset::Any, "wav"),
        "_CON.wav"
    );
    assert_eq!(
        file_name("{title}", &fields("nul"), Charset::Any, "wav"),
        "_nul.wav"
    );
    assert_eq!(
        file_name("{title}", &fields("..hidden"), Charset::Any, "wav"),
        "hidden.wav"
    );
    assert_eq!(
        file_name("{title}", &fields("../../etc"), Charset::Any, "wav"),
        "-..-etc.wav"
    );
    assert_eq!(
        file_name("{title}", &fields("..."), Charset::Any, "wav"),
        "track-03.wav"
    );
    assert_eq!(
        file_name("{isrc}", &fields("x"), Charset::Strict, "wav"),
        "GBABC2600003.wav"
    );
    let long = "x".repeat(400);
    let name = file_name("{title}", &fields(&long), Charset::Any, "flac");
    assert!(name.len() <= 200 && name.ends_with(".flac"));
    assert_eq!(sanitize("COM1.txt", Charset::Any), "_COM1.txt");
    // CD Baby's profile names files with the strict charset.
    let cdb = Profile::builtin("cd-baby").unwrap();
    assert_eq!(cdb.charset, Charset::Strict);
    let n = file_name(
        &cdb.naming,
        &fields("Ça va? (feat. Zoë)"),
        cdb.charset,
        "wav",
    );
    assert_eq!(n, "03_Ca_va_feat_Zoe.wav");
    assert!(n
        .trim_end_matches(".wav")
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
}

#[test]
fn display_artist_joins_featured_artists() {
    assert_eq!(display_artist("A", &[]), "A");
    assert_eq!(display_artist("A", &["B".into()]), "A feat. B");
    assert_eq!(
        display_artist("A", &["B".into(), "C".into()]),
        "A feat. B & C"
    );
    assert_eq!(
        display_artist("A", &["B".into(), "C".into(), "D".into()]),
        "A feat. B, C & D"
    );
}

fn row(n: u32, title: &str) -> SheetRow {
    SheetRow {
        file: format!("1-0{n} A - {title}.flac"),
        disc: 1,
        number: n,
        title: title.into(),
        version: None,
        artist: "A feat. B".into(),
        credits: vec![
            Credit {
                name: "A".into(),
                role: "artist".into(),
            },
            Credit {
                name: "B".into(),
                role: "featured".into(),
            },
            Credit {
                name: "C, Jr.".into(),
                role: "composer".into(),
            },
        ],
        isrc: Some(format!("GBABC260000{n}")),
        explicit: n == 2,
        duration_s: 183.456_789,
        integrated_lufs: Some(-14.004),
        true_peak_dbtp: Some(-1.126),
        md5: "0123456789abcdef0123456789abcdef".into(),
    }
}

#[test]
fn sheets_are_deterministic_with_sorted_keys() {
    let dir = scratch("deliver-sheet");
    let f = dir.join("x.bin");
    std::fs::write(&f, b"hello").unwrap();
    assert_eq!(
        sheet::md5_file(&f).unwrap(),
        "5d41402abc4b2a76b9719d911017c592"
    );
    let rows = [row(1, "Intro"), row(2, "Say \"Hi\", Now")];
    let release = SheetRelease {
        title: "Album, Vol. 1".into(),
        artist: "A".into(),
        upc: Some("0123456789012".into()),
        label: Some("Label".into()),
        ..SheetRelease::default()
    };
    let [c, j] = sheet::write_sheets(&dir, "spotify", "spotify", &release, &rows).unwrap();
    let csv = std::fs::read_to_string(&c).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "file,disc,number,title,version,artist,credits,isrc,explicit,duration_s,integrated_lufs,true_peak_dbtp,md5,album_title,album_artist,upc,label,catalog_number,release_date,genre,copyright,phonographic_copyright,album_explicit");
    assert_eq!(
        lines[2],
        "1-02 A - Say \"Hi\", Now.flac,1,2,\"Say \"\"Hi\"\", Now\",,A feat. B,\"A (artist); B (featured); C, Jr. (composer)\",GBABC2600002,yes,183.457,-14.00,-1.13,0123456789abcdef0123456789abcdef,\"Album, Vol. 1\",A,0123456789012,Label,,,,,,no"
            .replacen("1-02 A - Say \"Hi\", Now.flac", "\"1-02 A - Say \"\"Hi\"\", Now.flac\"", 1)
    );
    let json = std::fs::read_to_string(&j).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["tracks"][1]["integrated_lufs"], -14.0);
    assert_eq!(v["tracks"][1]["credits"][2]["role"], "composer");
    // Keys sorted at every level.
    let t = v["tracks"][0].as_object().unwrap();
    let keys: Vec<&String> = t.keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(json.find("\"bundle\"").unwrap() < json.find("\"profile\"").unwrap());
    assert_eq!(v["release"]["upc"], "0123456789012");
    assert_eq!(v["release"]["catalog_number"], serde_json::Value::Null);
    assert_eq!(v["tracks"][1]["explicit"], true);
    let again = sheet::json("spotify", "spotify", &release, &rows);
    assert_eq!(json, again);
}

fn track(n: u32, title: &str, isrc: bool) -> Track {
    Track {
        number: n,
        file: PathBuf::from(format!("{n}.wav")),
        path: PathBuf::from(format!("/x/{n}.wav")),
        info: None,
        title: title.into(),
        artist: "A".into(),
        featuring: vec![],
        composer: None,
        lyricist: None,
        arranger: None,
        producer: None,
        version: None,
        isrc: isrc.then(|| Isrc::parse(&format!("GBABC260000{n}")).unwrap()),
        isrc_generated: false,
        explicit: false,
        gain_db: 0.0,
        trim_start_s: 0.0,
        trim_end_s: None,
        fade: None,
        pregap_s: None,
        segue: false,
        indexes: vec![],
        chain: None,
        lyrics: None,
        disc: 1,
        tonal_match: None,
    }
}

#[test]
fn lint_rules() {
    let release = Release {
        title: "Night Drive".into(),
        artist: "A".into(),
        ..Default::default()
    };
    let tracks = vec![
        track(1, "Intro", true),
        track(2, "Night Drive (feat. B)", true),
        track(3, "LOUD NOISES", true),
        track(4, "quiet things", true),
        track(5, "Groove (Original Mix)", true),
        track(6, "Track 6", true),
        track(7, "Untitled", false),
        track(8, "Ft. Nothing", true),
    ];
    let mut silence = vec![None; tracks.len()];
    silence[0] = Some(EdgeSilence {
        head_s: 12.5,
        tail_s: 0.5,
    });
    silence[1] = Some(EdgeSilence {
        head_s: 0.0,
        tail_s: 10.2,
    });
    let f = lint(&release, &tracks, &silence, &[]);
    let has =
        |rule: LintRule, track: Option<u32>| f.iter().any(|x| x.rule == rule && x.track == track);
    assert!(has(LintRule::MissingUpc, None));
    assert!(has(LintRule::HeadSilence, Some(1)));
    assert!(has(LintRule::TailSilence, Some(2)));
    assert!(has(LintRule::FeaturedInTitle, Some(2)));
    assert!(has(LintRule::FeaturedInTitle, Some(8)));
    assert!(has(LintRule::AllCapsTitle, Some(3)));
    assert!(has(LintRule::LowercaseTitle, Some(4)));
    assert!(has(LintRule::RedundantVersion, Some(5)));
    assert!(has(LintRule::GenericTitle, Some(6)));
    assert!(has(LintRule::GenericTitle, Some(7)));
    assert!(has(LintRule::MissingIsrc, Some(7)));
    assert!(!has(LintRule::SingleTitleMismatch, Some(1)), "not a single");
    // Clean titles raise nothing.
    // Track 1 ("Intro") breaks no title rule: only its head silence.
    assert!(
        !f.iter()
            .any(|x| x.track == Some(1) && x.rule != LintRule::HeadSilence),
        "{f:?}"
    );
    let msg = f
        .iter()
        .find(|x| x.rule == LintRule::AllCapsTitle)
        .unwrap()
        .to_string();
    assert!(msg.contains("track 3 \"LOUD NOISES\""), "{msg}");
    // "Feat" inside a word is not a featuring credit.
    let ok = lint(
        &release,
        &[track(1, "Defeat the Aftermath", true)],
        &[None],
        &[],
    );
    assert!(
        !ok.iter().any(|x| x.rule == LintRule::FeaturedInTitle),
        "{ok:?}"
    );

    // A single whose titles differ; with a UPC no UPC warning.
    let single = Release {
        title: "Night Drive".into(),
        artist: "A".into(),
        upc: Some(Upc::parse("5012345678900").unwrap()),
        ..Default::default()
    };
    let f = lint(
        &single,
        &[track(1, "Night Drive (Radio Edit)", true)],
        &[None],
        &[],
    );
    assert!(f
        .iter()
        .any(|x| x.rule == LintRule::SingleTitleMismatch && x.track == Some(1)));
    assert!(!f.iter().any(|x| x.rule == LintRule::MissingUpc));
    let f = lint(&single, &[track(1, "Night Drive", true)], &[None], &[]);
    assert!(f.is_empty(), "{f:?}");

    // Artwork findings come through with their bundle and severity.
    let dir = scratch("deliver-lint-art");
    let wide = dir.join("wide.png");
    super::encode::write_png(&wide, 1000, 800);
    let art = glassmaster::deliver::artwork::process(
        Some(&wide),
        &Profile::builtin("spotify").unwrap().artwork,
    );
    let with: Vec<(String, _)> = art
        .findings
        .into_iter()
        .map(|x| ("spotify".to_string(), x))
        .collect();
    let f = lint(&single, &[track(1, "Night Drive", true)], &[None], &with);
    let a = f.iter().find(|x| x.rule == LintRule::Artwork).unwrap();
    assert_eq!(a.severity, glassmaster::deliver::profile::Severity::Error);
    assert!(
        a.message.contains("spotify")
            && a.message.contains("wide.png")
            && a.message.contains("square")
    );
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn normalisation_preview() {
    let tracks = [
        Level {
            integrated_lufs: -9.0,
            true_peak_dbtp: -0.3,
        },
        Level {
            integrated_lufs: -17.0,
            true_peak_dbtp: -6.0,
        },
        Level {
            integrated_lufs: -20.0,
            true_peak_dbtp: -3.0,
        },
    ];
    let album = Level {
        integrated_lufs: -12.0,
        true_peak_dbtp: -0.3,
    };
    // Spotify: album mode, one gain -14 - (-12) = -2 dB for every track.
    let s = preview(&Profile::builtin("spotify").unwrap(), album, &tracks).unwrap();
    assert!(close(s.album.gain_db, -2.0));
    assert!(s.tracks.iter().all(|t| close(t.gain_db, -2.0)));
    // A quiet album: Spotify turns up only to -1 dBTP.
    let quiet = Level {
        integrated_lufs: -20.0,
        true_peak_dbtp: -3.0,
    };
    let s = preview(&Profile::builtin("spotify").unwrap(), quiet, &tracks).unwrap();
    assert!(
        close(s.album.gain_db, 2.0) && s.album.limited,
        "{:?}",
        s.album
    );
    // Tidal: album mode, never up.
    let t = preview(&Profile::builtin("tidal").unwrap(), quiet, &tracks).unwrap();
    assert!(close(t.album.gain_db, 0.0) && t.album.limited);
    let t = preview(&Profile::builtin("tidal").unwrap(), album, &tracks).unwrap();
    assert!(close(t.album.gain_db, -2.0));
    // Apple: -16 LUFS, album mode, turns up as far as 0 dBTP.
    let a = preview(
        &Profile::builtin("apple-digital-masters").unwrap(),
        album,
        &tracks,
    )
    .unwrap();
    assert!(close(a.album.gain_db, -4.0));
    let a = preview(
        &Profile::builtin("apple-digital-masters").unwrap(),
        quiet,
        &tracks,
    )
    .unwrap();
    assert!(close(a.album.gain_db, 3.0) && a.album.limited);
    // Deezer: track mode at -15, down only.
    let d = preview(&Profile::builtin("deezer").unwrap(), album, &tracks).unwrap();
    let g: Vec<f64> = d.tracks.iter().map(|t| t.gain_db).collect();
    assert!(
        close(g[0], -6.0) && close(g[1], 0.0) && close(g[2], 0.0),
        "{g:?}"
    );
    let line = s.line();
    assert!(
        line.starts_with("spotify (-14 LUFS, album mode): album +2.0 dB (limited)"),
        "{line}"
    );
    // Stores that do not normalise give no preview.
    assert!(preview(&Profile::builtin("bandcamp").unwrap(), album, &tracks).is_none());
}

#[test]
fn profiles_command_lists_and_shows() {
    let o = Command::new(bin()).arg("profiles").output().unwrap();
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for n in glassmaster::manifest::validate::PROFILE_NAMES {
        assert!(out.lines().any(|l| l.starts_with(n)), "{n} missing:\n{out}");
    }
    let o = Command::new(bin())
        .args(["profiles", "cd-baby"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("44100 Hz") && out.contains("16 (tpdf dither)") && out.contains("strict"),
        "{out}"
    );
    let o = Command::new(bin())
        .args(["profiles", "tidal", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["loudness"]["turns_up"], false);
    assert_eq!(v["format"], "flac");
    let o = Command::new(bin())
        .args(["profiles", "spotfy"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown streaming profile `spotfy`"));
}

// ------------------------------------------------- tag text, read back
// A NUL used to cut the MP3 title where it stood (ID3v2.4 takes it for the
// end of one value); now every control character is a space and lyrics
// keep their line ends.

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
