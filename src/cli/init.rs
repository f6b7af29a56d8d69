//! `glassmaster init`: a first album.yaml for a folder of mixes, with
//! titles from the files' tags or, failing that, their names.

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
    let tracks: Vec<InitTrack> = files.iter().map(|f| InitTrack::read(f, &dir)).collect();
    let album_title = tracks
        .iter()
        .find_map(|t| t.album.clone())
        .unwrap_or_else(|| folder_name(&dir));
    let artist = tracks
        .iter()
        .find_map(|t| t.artist.clone())
        .unwrap_or_else(|| "Unknown Artist".to_owned());
    let yaml = render(&album_title, &artist, &tracks);
    write_new(&out, &yaml)?;
    if !ctx.quiet {
        eprintln!(
            "wrote {} with {} track{}: check the titles, then run `glassmaster check {}`",
            out.display(),
            tracks.len(),
            if tracks.len() == 1 { "" } else { "s" },
            out.display()
        );
    }
    Ok(Outcome::Success)
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
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
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
        let title = tag.as_ref().and_then(|t| get(t.title()));
        InitTrack {
            file,
            title: title.unwrap_or_else(|| title_from_file_name(path)),
            artist: tag.as_ref().and_then(|t| get(t.artist())),
            album: tag.as_ref().and_then(|t| get(t.album())),
        }
    }
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
    let _ = writeln!(y, "{HEADER}`. Check every title, then fill in the codes.");
    y.push_str("glassmaster: 1\n\nrelease:\n");
    let _ = writeln!(y, "  title: {}", quote(title));
    let _ = writeln!(y, "  artist: {}", quote(artist));
    y.push_str("  # upc: \"012345678905\"\n  # label: \n  # release_date: 2026-12-04\n\n");
    y.push_str("# isrc:\n#   registrant: US-XYZ\n#   year: 26\n#   first: 1\n\n");
    y.push_str(
        "mastering:\n  loudness_mode: album\n  target_lufs: -14.0\n  true_peak_dbtp: -1.0\n\n",
    );
    y.push_str("tracks:\n");
    for t in tracks {
        let _ = writeln!(y, "  - file: {}", quote(&t.file));
        let _ = writeln!(y, "    title: {}", quote(&t.title));
        if let Some(a) = &t.artist {
            if a != artist {
                let _ = writeln!(y, "    artist: {}", quote(a));
            }
        }
    }
    y.push_str(
        "\ncd:\n  gap_s: 2.0\n  formats: [ddp, cue, toc]\n  cd_text: true\n  dither: shaped\n",
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
}
