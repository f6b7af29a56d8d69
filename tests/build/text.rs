//! Issue 10, text: an album whose titles and names hold `"`, `\` at the
//! end and inside, `'`, `;`, `,`, spaces at either end, é, ß, 日本 and an
//! emoji, built once with every CD format and a FLAC and an MP3 bundle;
//! every output is read back by a reader we did not write: cueprint and
//! cuebreakpoints, libcue (feature `libcue`), cdrdao (show-toc, toc2cddb),
//! metaflac and ffprobe, Python's csv (strict) and html.parser, serde_json;
//! then `ddp extract` of the DDP, whose CUE libcue and cueprint read.
//!
//! The expected values are computed here from the documented rules: the
//! CD-Text is Latin-1 (outside it `?`), keeping `"` and `\`; a CUE string
//! turns `"` into `'` and gets a space after a trailing `\`; the TOC, the
//! tags, the CSV and the JSON keep the text exactly.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::ddp::DdpFileset;

use super::music::{self, Style};
use super::streaming::files;
use super::{build_ok, gm};
use crate::disc::checkers::{cue_value, latin1, run};
use crate::util::{have_tool, scratch};

const ALBUM: &str = r#"Disc "Q" \"#;
const BAND: &str = " Spaced Band ";
/// (title, artist) of each track; `None`: the release artist.
const TRACKS: [(&str, Option<&str>); 4] = [
    (r#"Say "Hello""#, Some(r"Back\slash; Co, Ltd")),
    (r"Ends in \", Some("It's Café ß")),
    (" Lead and trail ", Some("日本 Band")),
    ("Emoji 🎸 日本", None),
];
const PYTHON: &str = "/usr/bin/python3";

fn artist(i: usize) -> &'static str {
    TRACKS[i].1.unwrap_or(BAND)
}

/// CD-Text as the layout stores it: Latin-1, anything past it `?`.
fn cdtext(s: &str) -> String {
    s.chars()
        .map(|c| if u32::from(c) < 0x100 { c } else { '?' })
        .collect()
}

/// A CUE value as glassmaster documents writing it (unquoted).
fn cue(s: &str) -> String {
    cue_value(&cdtext(s))
}

/// YAML double-quoted scalar (a JSON string is one).
fn y(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The album, built once: the out folder.
fn album() -> &'static PathBuf {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let dir = scratch("build-text");
        let mixes = dir.join("mixes");
        std::fs::create_dir_all(&mixes).unwrap();
        let mut yaml = format!(
            "glassmaster: 1
release:
  title: {}
  artist: {}
  upc: \"036000291452\"
  label: \"Label, Ltd; \\\"Q\\\"\"
  catalog_number: GM-0011
  release_date: 2026-12-02
  genre: Ambient
  copyright: \"2026 Label, Ltd\"
  phonographic_copyright: \"2026 Spaced Band\"
  explicit: true
mastering:
  target_lufs: -14.0
  true_peak_dbtp: -1.0
cd:
  gap_s: 2.0
  formats: [ddp, cue, toc]
  cd_text: true
streaming:
  - profile: archive
  - profile: promo-mp3
tracks:
",
            y(ALBUM),
            y(BAND)
        );
        for (i, (title, artist)) in TRACKS.iter().enumerate() {
            let file = format!("{:02}.wav", i + 1);
            music::make(
                &mixes,
                &file,
                title,
                44_100,
                2,
                4.5,
                900 + i as u64,
                Style::BAND,
                -14.0,
                -1.0,
            );
            yaml.push_str(&format!(
                "  - file: mixes/{file}\n    title: {}\n",
                y(title)
            ));
            if let Some(a) = artist {
                yaml.push_str(&format!("    artist: {}\n", y(a)));
            }
        }
        std::fs::write(dir.join("album.yaml"), yaml).unwrap();
        build_ok(&dir, "album.yaml", "out", &[]);
        dir.join("out")
    })
}

/// cueprint's `disc|tracks` lines of a CUE sheet, with no stderr.
fn cueprint(dir: &Path, name: &str) -> Vec<String> {
    let o = run(
        dir,
        "cueprint",
        &["-i", "cue", "-d", "[%T][%P]\n", "-t", "%n[%t][%p]\n", name],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.is_empty(),
        "cueprint {name}: {err}"
    );
    latin1(&o.stdout).lines().map(str::to_owned).collect()
}

/// What cueprint must print for our sheets.
fn cueprint_want() -> Vec<String> {
    let mut want = vec![format!("[{}][{}]", cue(ALBUM), cue(BAND))];
    for (i, (title, _)) in TRACKS.iter().enumerate() {
        want.push(format!("{}[{}][{}]", i + 1, cue(title), cue(artist(i))));
    }
    want
}

#[cfg(feature = "libcue")]
fn libcue_reads(sheet_bytes: &[u8], what: &str) {
    let sheet = latin1(sheet_bytes);
    let disc = glassmaster::disc::libcue::parse(&sheet)
        .unwrap_or_else(|e| panic!("libcue refuses {what}: {e}\n{sheet}"));
    assert_eq!(
        disc.text.title.as_deref(),
        Some(cue(ALBUM).as_str()),
        "{what}"
    );
    assert_eq!(disc.text.performer.as_deref(), Some(cue(BAND).as_str()));
    assert_eq!(disc.tracks.len(), TRACKS.len(), "{what}");
    for (i, t) in disc.tracks.iter().enumerate() {
        let want = cue(TRACKS[i].0);
        assert_eq!(t.text.title.as_deref(), Some(want.as_str()), "{what} {i}");
        let want = cue(artist(i));
        assert_eq!(t.text.performer.as_deref(), Some(want.as_str()), "{what}");
    }
    eprintln!("libcue reads {what}: {} titles as documented", TRACKS.len());
}

#[cfg(not(feature = "libcue"))]
fn libcue_reads(_: &[u8], what: &str) {
    eprintln!("SKIP libcue on {what}: built without the `libcue` feature");
}

#[test]
fn cue_sheet_reads_back_in_cuetools_and_libcue() {
    let cd = album().join("cd");
    let bytes = std::fs::read(cd.join("album.cue")).unwrap();
    libcue_reads(&bytes, "album.cue");
    if !have_tool("cueprint", "cue_sheet_reads_back_in_cuetools_and_libcue") {
        return;
    }
    assert_eq!(cueprint(&cd, "album.cue"), cueprint_want());
    let o = run(&cd, "cuebreakpoints", &["album.cue"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.is_empty(),
        "cuebreakpoints: {err}"
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
    eprintln!("cueprint, cuebreakpoints: no error, 5 titles as documented");
}

#[test]
fn toc_reads_back_in_cdrdao() {
    let t = "toc_reads_back_in_cdrdao";
    if !have_tool("cdrdao", t) {
        return;
    }
    let cd = album().join("cd");
    let o = run(&cd, "cdrdao", &["show-toc", "album.toc"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "cdrdao show-toc: {err}");
    assert!(!err.contains("ERROR") && !err.contains("WARNING"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).matches("TRACK ").count(),
        4
    );
    if !have_tool("toc2cddb", t) {
        return;
    }
    // toc2cddb prints the TOC's CD-Text as cdrdao parsed it (Latin-1).
    let o = run(&cd, "toc2cddb", &["album.toc"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cddb = latin1(&o.stdout);
    let want = format!("DTITLE={} / {}\n", cdtext(BAND), cdtext(ALBUM));
    assert!(cddb.contains(&want), "{want:?} in\n{cddb}");
    for (i, (title, _)) in TRACKS.iter().enumerate() {
        let want = format!("TTITLE{i}={}\n", cdtext(title));
        assert!(cddb.contains(&want), "{want:?} in\n{cddb}");
    }
    eprintln!("cdrdao show-toc: exit 0; toc2cddb: 5 titles exactly as written");
}

#[test]
fn ddp_keeps_the_text_and_its_extracted_cue_reads_back() {
    let cd = album().join("cd");
    let set = DdpFileset::open(cd.join("ddp")).unwrap();
    let block = &set.cdtext().expect("CDTEXT.BIN").blocks[0];
    assert_eq!(
        block.disc.text(TextField::Title),
        Some(cdtext(ALBUM).as_str())
    );
    assert_eq!(
        block.disc.text(TextField::Performer),
        Some(cdtext(BAND).as_str())
    );
    for (i, (title, _)) in TRACKS.iter().enumerate() {
        let f = block.track(i as u8 + 1).unwrap();
        assert_eq!(f.text(TextField::Title), Some(cdtext(title).as_str()));
        assert_eq!(
            f.text(TextField::Performer),
            Some(cdtext(artist(i)).as_str())
        );
    }
    let x = scratch("build-text-extract");
    let o = gm(
        &x,
        &[
            "ddp",
            "extract",
            cd.join("ddp").to_str().unwrap(),
            "-o",
            "x",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(x.join("x/album.cue")).unwrap();
    libcue_reads(&bytes, "ddp extract's album.cue");
    if have_tool("cueprint", "ddp_keeps_the_text (cueprint)") {
        assert_eq!(cueprint(&x.join("x"), "album.cue"), cueprint_want());
        eprintln!("cueprint reads ddp extract's album.cue: 5 titles as documented");
    }
}

/// ffprobe's format tags of a file, keys lowercased.
fn ffprobe_tags(f: &Path) -> serde_json::Map<String, serde_json::Value> {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format_tags", "-of", "json"])
        .arg(f)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["format"]["tags"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect()
}

#[test]
fn tags_read_back_exactly_in_metaflac_and_ffprobe() {
    let out = album();
    let flacs = files(&out.join("streaming/archive"), "flac");
    let mp3s = files(&out.join("streaming/promo-mp3"), "mp3");
    assert_eq!((flacs.len(), mp3s.len()), (4, 4));
    if have_tool("metaflac", "tags_read_back (metaflac)") {
        for (i, f) in flacs.iter().enumerate() {
            let o = Command::new("metaflac")
                .arg("--export-tags-to=-")
                .arg(f)
                .output()
                .unwrap();
            assert!(o.status.success());
            let tags = String::from_utf8(o.stdout).unwrap();
            let lines: Vec<&str> = tags.lines().collect();
            for want in [
                format!("TITLE={}", TRACKS[i].0),
                format!("ARTIST={}", artist(i)),
                format!("ALBUM={ALBUM}"),
                format!("ALBUMARTIST={BAND}"),
            ] {
                assert!(lines.contains(&want.as_str()), "{want:?} in\n{tags}");
            }
        }
        eprintln!("metaflac: 4 FLAC files, every title and name exact");
    }
    if !have_tool("ffprobe", "tags_read_back (ffprobe)") {
        return;
    }
    for (i, f) in flacs.iter().chain(&mp3s).enumerate() {
        let k = i % 4;
        let tags = ffprobe_tags(f);
        let get = |key: &str| tags.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        assert_eq!(
            get("title").as_deref(),
            Some(TRACKS[k].0),
            "{}",
            f.display()
        );
        assert_eq!(get("artist").as_deref(), Some(artist(k)), "{}", f.display());
        assert_eq!(get("album").as_deref(), Some(ALBUM), "{}", f.display());
        let aa = get("album_artist").or_else(|| get("albumartist"));
        assert_eq!(aa.as_deref(), Some(BAND), "{}", f.display());
    }
    eprintln!("ffprobe: 4 FLAC and 4 MP3 files, every title and name exact");
}

/// Runs a Python 3 script on `arg`; its stdout as JSON.
fn python_json(script: &str, arg: &Path) -> serde_json::Value {
    let o = Command::new(PYTHON)
        .args(["-c", script])
        .arg(arg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

const CSV_PY: &str = "import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    print(json.dumps(list(csv.DictReader(f, strict=True))))";

const JSON_PY: &str = "import json, sys
print(json.dumps(json.load(open(sys.argv[1], encoding='utf-8'))))";

/// The release fields the sheets carry, as the manifest above gives them
/// (the UPC-A in its 13-digit EAN form).
const RELEASE_FIELDS: [(&str, &str); 10] = [
    ("title", ALBUM),
    ("artist", BAND),
    ("upc", "0036000291452"),
    ("label", "Label, Ltd; \"Q\""),
    ("catalog_number", "GM-0011"),
    ("release_date", "2026-12-02"),
    ("genre", "Ambient"),
    ("copyright", "2026 Label, Ltd"),
    ("phonographic_copyright", "2026 Spaced Band"),
    ("explicit", "true"),
];

const HTML_PY: &str = "import html.parser, json, sys
class P(html.parser.HTMLParser):
    cells, cell = [], None
    def handle_starttag(self, tag, attrs):
        if tag == 'td': self.cell = ''
    def handle_endtag(self, tag):
        if tag == 'td': self.cells.append(self.cell); self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
p = P(convert_charrefs=True)
p.feed(open(sys.argv[1], encoding='utf-8').read())
print(json.dumps(p.cells))";

#[test]
fn sheets_read_back_in_python_csv_and_serde_json() {
    let out = album();
    for bundle in ["archive", "promo-mp3"] {
        let dir = out.join("streaming").join(bundle);
        let text = std::fs::read_to_string(dir.join("metadata.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (i, (title, _)) in TRACKS.iter().enumerate() {
            let t = &json["tracks"][i];
            assert_eq!(t["title"], *title, "{bundle} metadata.json");
            assert_eq!(t["artist"], artist(i), "{bundle} metadata.json");
        }
        if !have_tool(PYTHON, "sheets_read_back (python3)") {
            continue;
        }
        let rows = python_json(CSV_PY, &dir.join("metadata.csv"));
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), TRACKS.len(), "{bundle} metadata.csv");
        for (i, (title, _)) in TRACKS.iter().enumerate() {
            assert_eq!(rows[i]["title"], *title, "{bundle} metadata.csv");
            assert_eq!(rows[i]["artist"], artist(i), "{bundle} metadata.csv");
            assert_eq!(rows[i]["number"], (i + 1).to_string());
            for (col, want) in RELEASE_FIELDS {
                let col = if col == "title" || col == "artist" || col == "explicit" {
                    format!("album_{col}")
                } else {
                    col.to_owned()
                };
                let want = match want {
                    "true" => "yes",
                    w => w,
                };
                assert_eq!(rows[i][&col], want, "{bundle} metadata.csv {col}");
            }
            assert_eq!(rows[i]["explicit"], "yes", "{bundle} metadata.csv");
        }
        let sheet = python_json(JSON_PY, &dir.join("metadata.json"));
        for (key, want) in RELEASE_FIELDS {
            let got = &sheet["release"][key];
            let got = got.as_str().map_or_else(|| got.to_string(), str::to_owned);
            assert_eq!(got, want, "{bundle} metadata.json release.{key}");
        }
    }
    let report = super::report(out);
    for (i, (title, _)) in TRACKS.iter().enumerate() {
        assert_eq!(report["tracks"][i]["title"], *title, "report.json");
    }
    if have_tool(PYTHON, "sheets_read_back (html)") {
        let cells = python_json(HTML_PY, &out.join("cd/pq-sheet.html"));
        let cells: Vec<&str> = cells
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for want in [cdtext(ALBUM), cdtext(BAND)]
            .into_iter()
            .chain(TRACKS.iter().map(|t| cdtext(t.0)))
        {
            assert!(cells.contains(&want.as_str()), "{want:?} in {cells:?}");
        }
    }
    let pq = std::fs::read_to_string(out.join("cd/pq-sheet.txt")).unwrap();
    for (i, (title, _)) in TRACKS.iter().enumerate() {
        let want = format!("{} / {}", cdtext(title), cdtext(artist(i)));
        assert!(pq.contains(want.trim_end()), "{want:?} in\n{pq}");
    }
    eprintln!("metadata.csv (Python csv, strict), metadata.json (with the release's fields), report.json, pq-sheet: exact");
}
