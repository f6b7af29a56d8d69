//! `glassmaster init --from-cue`: a manifest from an existing CUE sheet
//! (feature `libcue`). One-file images become tracks that share the file,
//! cut with `trim` at the INDEX points; pauses become `pregap` (0 → a
//! segue); INDEX 02 and later become `indexes`; CATALOG, ISRC, FLAGS and
//! CD-Text are carried over. Audio inside a pause (between INDEX 00 and 01)
//! is not kept: glassmaster writes pauses as digital silence.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use super::init::{quote, write_new, written_by_init, HEADER};
use super::{Context, Outcome};
use crate::build::output;
use crate::disc::libcue::{self, CueTrack};
use crate::manifest::time::frames_to_msf;

pub fn run(ctx: &Context, dir: &Path, cue: &Path, force: bool) -> Result<Outcome> {
    let bytes = std::fs::read(cue).with_context(|| format!("{}: cannot read", cue.display()))?;
    let text = String::from_utf8(bytes.clone())
        .unwrap_or_else(|_| bytes.iter().map(|&b| b as char).collect()); // Latin-1
    let text = text.trim_start_matches('\u{feff}');
    let disc = libcue::parse(text).map_err(|e| anyhow::anyhow!("{}: {e}", cue.display()))?;
    let tracks: Vec<&CueTrack> = disc.tracks.iter().filter(|t| t.audio).collect();
    if tracks.is_empty() {
        bail!("{}: the CUE sheet has no audio tracks", cue.display());
    }
    let out = dir.join("album.yaml");
    let cue_dir = cue.parent().unwrap_or(Path::new("."));
    let mut inputs = vec![cue.to_owned()];
    inputs.extend(tracks.iter().map(|t| cue_dir.join(&t.filename)));
    output::check_file(&out, &inputs, force, written_by_init)?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let disc_artist = disc
        .text
        .performer
        .clone()
        .unwrap_or_else(|| "Unknown Artist".into());
    let mut y = String::new();
    let _ = writeln!(y, "{HEADER} --from-cue {}`.", cue.display());
    y.push_str("glassmaster: 1\n\nrelease:\n");
    let title = disc.text.title.clone().unwrap_or_else(|| "Untitled".into());
    let _ = writeln!(y, "  title: {}", quote(&title));
    let _ = writeln!(y, "  artist: {}", quote(&disc_artist));
    if let Some(c) = disc
        .catalog
        .as_deref()
        .filter(|c| !c.trim_matches('0').is_empty())
    {
        let _ = writeln!(y, "  upc: {}", quote(c));
    }
    if let Some(g) = &disc.text.genre {
        let _ = writeln!(y, "  genre: {}", quote(g));
    }
    y.push_str("\ntracks:\n");
    let mut pre = false;
    let mut copy = false;
    for (i, t) in tracks.iter().enumerate() {
        let path = rel_path(dir, &cue_dir.join(&t.filename));
        let _ = writeln!(y, "  - file: {}", quote(&path));
        let title = t
            .text
            .title
            .clone()
            .unwrap_or_else(|| format!("Track {}", t.number));
        let _ = writeln!(y, "    title: {}", quote(&title));
        if let Some(p) = t.text.performer.as_ref().filter(|p| **p != disc_artist) {
            let _ = writeln!(y, "    artist: {}", quote(p));
        }
        if let Some(c) = t.text.composer.as_ref().or(t.text.songwriter.as_ref()) {
            let _ = writeln!(y, "    composer: {}", quote(c));
        }
        if let Some(a) = &t.text.arranger {
            let _ = writeln!(y, "    arranger: {}", quote(a));
        }
        if let Some(isrc) = &t.isrc {
            let _ = writeln!(y, "    isrc: {}", quote(isrc));
        }
        // Where the track's audio ends: the next track's pause in the same
        // file, or its INDEX 01.
        let next = tracks.get(i + 1).filter(|n| n.filename == t.filename);
        let end = next.map(|n| index(n, 0).unwrap_or(n.start));
        if t.start > 0 || end.is_some() {
            let mut trim = format!("{{ start: \"{}\"", frames_to_msf(t.start as u64));
            if let Some(e) = end {
                let _ = write!(trim, ", end: \"{}\"", frames_to_msf(e as u64));
            }
            trim.push_str(" }");
            let _ = writeln!(y, "    trim: {trim}");
        }
        let pause = pause_frames(t);
        if i > 0 && pause == Some(0) {
            y.push_str("    segue: true\n");
        } else if let Some(p) = pause.filter(|p| *p != 150 && (i > 0 || *p > 150)) {
            let _ = writeln!(y, "    pregap: \"{}\"", frames_to_msf(p as u64));
        }
        let extra: Vec<String> = t
            .indexes
            .iter()
            .filter(|(k, _)| *k >= 2)
            .map(|(_, f)| format!("\"{}\"", frames_to_msf((f - t.start).max(0) as u64)))
            .collect();
        if !extra.is_empty() {
            let _ = writeln!(y, "    indexes: [{}]", extra.join(", "));
        }
        pre |= t.pre_emphasis;
        copy |= t.copy_permitted;
    }
    y.push_str("\ncd:\n  gap_s: 2.0\n  formats: [ddp, cue, toc]\n  cd_text: true\n");
    let _ = writeln!(y, "  pre_emphasis: {pre}\n  copy_permitted: {copy}");
    write_new(&out, &y)?;
    if !ctx.quiet {
        eprintln!(
            "wrote {} with {} tracks from {}",
            out.display(),
            tracks.len(),
            cue.display()
        );
    }
    Ok(Outcome::Success)
}

fn index(t: &CueTrack, n: u32) -> Option<i64> {
    t.indexes.iter().find(|(k, _)| *k == n).map(|(_, f)| *f)
}

/// The pause before a track in frames: INDEX 01 − INDEX 00, or PREGAP;
/// `None` when the sheet says nothing (the default gap applies).
fn pause_frames(t: &CueTrack) -> Option<i64> {
    match (index(t, 0), t.pregap) {
        (Some(i0), _) => Some(t.start - i0),
        (None, Some(p)) => Some(p),
        (None, None) => {
            if t.number > 1 {
                Some(0)
            } else {
                None
            }
        }
    }
}

/// `target` relative to `dir` when it lies below it, else absolute.
fn rel_path(dir: &Path, target: &Path) -> String {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let d = canon(dir);
    // The audio may not be there yet: resolve its folder, keep its name.
    let t = match (target.parent(), target.file_name()) {
        (Some(p), Some(n)) => canon(if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        })
        .join(n),
        _ => canon(target),
    };
    let shown: PathBuf = t.strip_prefix(&d).map(Path::to_path_buf).unwrap_or(t);
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .replace("//", "/")
}
