//! `glassmaster init`: a first album.yaml for a folder of mixes. Titles,
//! artists, the album and the order (DISCNUMBER, TRACKNUMBER) come from
//! the files' tags where they exist, else from the names; a "feat. X" in
//! a title moves to `featuring`. Every section is written, the ones that
//! need a choice (codes, stores) commented out with an example, and
//! stderr lists what was guessed and what is left to choose.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use lofty::file::TaggedFileExt;
use lofty::tag::Accessor;

use super::{Context, Outcome};
use crate::build::output;

/// How every manifest `init` writes begins: the mark by which `--force`
/// knows it may replace one.
pub(super) const HEADER: &str = "# Written by `glassmaster init";

/// File endings `init` picks up as mixes.
const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "aif", "aiff", "flac", "m4a", "ogg", "oga", "mp3",
];

pub fn run(
    ctx: &Context,
    dir: Option<PathBuf>,
    from_cue: Option<PathBuf>,
    force: bool,
) -> Result<Outcome> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    if let Some(cue) = from_cue {
        return from_cue_sheet(ctx, &dir, &cue, force);
    }
    if !dir.is_dir() {
        bail!("{}: no such folder", dir.display());
    }
    let out = dir.join("album.yaml");
    output::check_file(&out, &[], force, written_by_init)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("{}: cannot list the folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_audio(p))
        .collect();
    // Also look one level down (a `mixes/` folder is common).
    if files.is_empty() {
        for sub in std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())) {
            if sub.is_dir() {
                if let Ok(rd) = std::fs::read_dir(&sub) {
                    files.extend(
                        rd.filter_map(|e| e.ok().map(|e| e.path()))
                            .filter(|p| p.is_file() && is_audio(p)),
                    );
                }
            }
        }
    }
    if files.is_empty() {
        bail!(
            "{}: no audio files found (looked for .{})",
            dir.display(),
            AUDIO_EXTENSIONS.join(", .")
        );
    }
    files.sort();
    output::check_file(&out, &files, force, written_by_init)?;
    let mut tracks: Vec<InitTrack> = files.iter().map(|f| InitTrack::read(f, &dir)).collect();
    let mut guessed: Vec<String> = Vec::new();
    order_tracks(&mut tracks, &mut guessed);
    let album_title = match tracks.iter().find_map(|t| t.album.clone()) {
        Some(a) => a,
        None => {
            let name = folder_name(&dir);
            guessed.push(format!(
                "release title {}: the folder's name (no file has an album tag)",
                quote(&name)
            ));
            name
        }
    };
    let artist = match tracks
        .iter()
        .find_map(|t| t.album_artist.clone())
        .or_else(|| tracks.iter().find_map(|t| t.artist.clone()))
    {
        Some(a) => a,
        None => {
            guessed.push(
                "release artist \"Unknown Artist\": no file has an artist tag; set `release.artist`"
                    .into(),
            );
            "Unknown Artist".to_owned()
        }
    };
    for (i, t) in tracks.iter().enumerate() {
        let n = i + 1;
        if !t.title_tagged {
            guessed.push(format!(
                "track {n} title {}: from the file name {}",
                quote(&t.title),
                quote(&t.file)
            ));
        }
        if !t.featuring.is_empty() {
            guessed.push(format!(
                "track {n}: {} moved from the title into `featuring`",
                t.featuring
                    .iter()
                    .map(|f| quote(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let yaml = render(&album_title, &artist, &tracks);
    write_new(&out, &yaml)?;
    if !ctx.quiet {
        eprintln!(
            "wrote {} with {} track{}",
            out.display(),
            tracks.len(),
            if tracks.len() == 1 { "" } else { "s" },
        );
        if !guessed.is_empty() {
            eprintln!("guessed (check each):");
            for g in &guessed {
                eprintln!("  - {g}");
            }
        }
        eprintln!("to choose (commented out in the file, each optional for `check`):");
        for c in CHOICES {
            eprintln!("  - {c}");
        }
        eprintln!("then run `glassmaster check {}`", out.display());
    }
    Ok(Outcome::Success)
}

/// What a user chooses, in the order the manifest shows it; each is a
/// commented block `init` writes.
pub(super) const CHOICES: &[&str] = &[
    "release: upc, label, catalog_number, release_date, genre, copyright, phonographic_copyright",
    "isrc: your registrant code and year (or an `isrc:` per track)",
    "streaming: the stores to deliver to (an example is commented out; stores also need `release.artwork`)",
];

/// Puts the tracks in disc then track-number order where the files carry
/// those tags (files without a track number follow, by name), and notes
/// how the order was found.
fn order_tracks(tracks: &mut [InitTrack], guessed: &mut Vec<String>) {
    let tagged = tracks.iter().filter(|t| t.track_no.is_some()).count();
    tracks.sort_by(|a, b| {
        (
            a.disc_no.unwrap_or(1),
            a.track_no.unwrap_or(u32::MAX),
            &a.file,
        )
            .cmp(&(
                b.disc_no.unwrap_or(1),
                b.track_no.unwrap_or(u32::MAX),
                &b.file,
            ))
    });
    if tagged == 0 {
        guessed.push("track order: by file name (no file has a track-number tag)".into());
    } else if tagged < tracks.len() {
        guessed.push(format!(
            "track order: by the TRACKNUMBER/DISCNUMBER tags; {} file{} without one follow by name",
            tracks.len() - tagged,
            if tracks.len() - tagged == 1 { "" } else { "s" }
        ));
    }
    for w in tracks.windows(2) {
        if w[0].track_no.is_some() && (w[0].disc_no, w[0].track_no) == (w[1].disc_no, w[1].track_no)
        {
            guessed.push(format!(
                "{} and {} are both tagged track {}: ordered by name",
                quote(&w[0].file),
                quote(&w[1].file),
                w[0].track_no.unwrap_or(0)
            ));
        }
    }
}

#[cfg(feature = "libcue")]
fn from_cue_sheet(ctx: &Context, dir: &Path, cue: &Path, force: bool) -> Result<Outcome> {
    super::cue_import::run(ctx, dir, cue, force)
}

#[cfg(not(feature = "libcue"))]
fn from_cue_sheet(_ctx: &Context, _dir: &Path, cue: &Path, _force: bool) -> Result<Outcome> {
    bail!(
        "{}: --from-cue needs glassmaster built with the `libcue` feature (cargo build --features libcue)",
        cue.display()
    )
}

fn is_audio(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn folder_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Untitled".to_owned())
}

/// What `init` knows of one file.
pub(super) struct InitTrack {
    /// Path relative to the manifest's folder, with `/` separators.
    pub file: String,
    /// Without any "feat. X" (moved to `featuring`).
    pub title: String,
    /// True when the title came from a tag, not the file name.
    pub title_tagged: bool,
    pub artist: Option<String>,
    pub featuring: Vec<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub track_no: Option<u32>,
    pub disc_no: Option<u32>,
}

impl InitTrack {
    fn read(path: &Path, dir: &Path) -> InitTrack {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let file = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let tag = lofty::read_from_path(path)
            .ok()
            .and_then(|f| f.primary_tag().or_else(|| f.first_tag()).cloned());
        let get = |s: Option<std::borrow::Cow<'_, str>>| {
            s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
        };
        let tagged_title = tag.as_ref().and_then(|t| get(t.title()));
        let title_tagged = tagged_title.is_some();
        let (title, mut featuring) =
            split_featuring(&tagged_title.unwrap_or_else(|| title_from_file_name(path)));
        let artist = tag.as_ref().and_then(|t| get(t.artist())).map(|a| {
            let (a, more) = split_featuring(&a);
            featuring.extend(more);
            a
        });
        featuring.dedup();
        let album_artist = tag.as_ref().and_then(|t| {
            get(t
                .get_string(lofty::tag::ItemKey::AlbumArtist)
                .map(std::borrow::Cow::Borrowed))
        });
        InitTrack {
            file,
            title,
            title_tagged,
            artist,
            featuring,
            album: tag.as_ref().and_then(|t| get(t.album())),
            album_artist,
            track_no: tag.as_ref().and_then(|t| t.track()).filter(|&n| n > 0),
            disc_no: tag.as_ref().and_then(|t| t.disk()).filter(|&n| n > 0),
        }
    }
}

/// "Song (feat. A & B)" → ("Song", ["A", "B"]); also `[feat. …]`, `ft.`,
/// `featuring`, and an unbracketed "Song feat. A, B". Names are split on
/// ", ", " & " and " and ".
pub fn split_featuring(text: &str) -> (String, Vec<String>) {
    // ASCII lowercase keeps every byte offset of `text`.
    let lower = text.to_ascii_lowercase();
    for open in ["(", "["] {
        for word in ["feat. ", "feat ", "ft. ", "featuring "] {
            let marker = format!("{open}{word}");
            if let Some(at) = lower.find(&marker) {
                let close = if open == "(" { ')' } else { ']' };
                let inner_start = at + marker.len();
                let inner_end = text[inner_start..]
                    .find(close)
                    .map_or(text.len(), |e| inner_start + e);
                let rest = text.get(inner_end + 1..).unwrap_or("");
                let title = format!("{} {}", text[..at].trim_end(), rest.trim_start());
                return (
                    title.trim().to_owned(),
                    names(&text[inner_start..inner_end]),
                );
            }
        }
    }
    for word in [" feat. ", " feat ", " ft. ", " featuring "] {
        if let Some(at) = lower.find(word) {
            return (
                text[..at].trim().to_owned(),
                names(&text[at + word.len()..]),
            );
        }
    }
    (text.to_owned(), Vec::new())
}

fn names(list: &str) -> Vec<String> {
    list.replace(" & ", ", ")
        .replace(" and ", ", ")
        .split(", ")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// "01 - Night Drive.wav" → "Night Drive"; "03.outro_final.flac" →
/// "outro final".
pub fn title_from_file_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest = stem.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = if rest.len() < stem.len() {
        rest.trim_start_matches([' ', '-', '.', '_'])
    } else {
        rest
    };
    let cleaned = rest.replace('_', " ").trim().to_owned();
    if cleaned.is_empty() {
        stem
    } else {
        cleaned
    }
}

/// YAML text for a double-quoted scalar.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn render(title: &str, artist: &str, tracks: &[InitTrack]) -> String {
    let mut y = String::new();
    let _ = writeln!(
        y,
        "{HEADER}`. Check every title; each commented block is a choice to make."
    );
    y.push_str("glassmaster: 1\n\nrelease:\n");
    let _ = writeln!(y, "  title: {}", quote(title));
    let _ = writeln!(y, "  artist: {}", quote(artist));
    y.push_str(
        "  # upc: \"012345678905\"          # 12-digit UPC-A or 13-digit EAN; also the CD's MCN
  # label: \"Example Records\"
  # catalog_number: \"EX-001\"
  # release_date: 2026-12-04
  # genre: \"Electronic\"
  # copyright: \"2026 Example Records\"
  # phonographic_copyright: \"2026 Example Records\"
  # explicit: false
  # artwork: \"art/cover.jpg\"       # square, 3000 px for most stores

# ISRCs for every track from your registrant code (or give `isrc:` per track).
# isrc:
#   registrant: US-XYZ
#   year: 26
#   first: 1

mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0

",
    );
    let multi_disc = tracks.iter().any(|t| t.disc_no.is_some_and(|d| d > 1));
    y.push_str("tracks:\n");
    for t in tracks {
        let _ = writeln!(y, "  - file: {}", quote(&t.file));
        let _ = writeln!(y, "    title: {}", quote(&t.title));
        if let Some(a) = &t.artist {
            if a != artist {
                let _ = writeln!(y, "    artist: {}", quote(a));
            }
        }
        if !t.featuring.is_empty() {
            let list: Vec<String> = t.featuring.iter().map(|f| quote(f)).collect();
            let _ = writeln!(y, "    featuring: [{}]", list.join(", "));
        }
        if multi_disc {
            let _ = writeln!(y, "    disc: {}", t.disc_no.unwrap_or(1));
        }
    }
    y.push_str(
        "
cd:
  gap_s: 2.0
  formats: [ddp, cue, toc]
  cd_text: true
  dither: shaped

# The stores to deliver to: `glassmaster profiles` lists them. Without a
# `streaming:` section a build makes no bundles.
# streaming:
#   - profile: archive
#   - profile: promo-mp3
#   # - profile: spotify    # a store also needs `release.artwork`, a UPC and ISRCs

# The consistency checks' limits (these are the defaults).
# report:
#   max_loudness_spread_lu: 3.0
#   max_true_peak_dbtp: -1.0
",
    );
    y
}

/// True when a manifest's first bytes are init's ([`HEADER`]).
pub(super) fn written_by_init(head: &[u8]) -> bool {
    head.starts_with(HEADER.as_bytes())
}

/// Writes `text` to `path` through a new temporary file (never through a
/// symlink), so that a failure leaves nothing half-written.
pub(super) fn write_new(path: &Path, text: &str) -> Result<()> {
    output::write_file(path, text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_names() {
        assert_eq!(
            title_from_file_name(Path::new("01 - Night Drive.wav")),
            "Night Drive"
        );
        assert_eq!(
            title_from_file_name(Path::new("03.outro_final.flac")),
            "outro final"
        );
        assert_eq!(title_from_file_name(Path::new("1999.wav")), "1999");
        assert_eq!(title_from_file_name(Path::new("Intro.wav")), "Intro");
        assert_eq!(quote("a \"b\"\\"), "\"a \\\"b\\\"\\\\\"");
    }

    #[test]
    fn featuring_leaves_the_title() {
        let s = |t: &str| split_featuring(t);
        assert_eq!(
            s("Song (feat. A & B)"),
            ("Song".into(), vec!["A".into(), "B".into()])
        );
        assert_eq!(
            s("Song [ft. A] (Remix)"),
            ("Song (Remix)".into(), vec!["A".into()])
        );
        assert_eq!(
            s("Song Featuring A, B and C"),
            ("Song".into(), vec!["A".into(), "B".into(), "C".into()])
        );
        assert_eq!(s("Café Feat. Zoë"), ("Café".into(), vec!["Zoë".into()]));
        assert_eq!(s("Defeat Song"), ("Defeat Song".into(), vec![]));
    }
}
