//! Raw tree → checked model, in one pass that collects every problem.
//!
//! Each section has a list of the keys it knows; an unknown key is an error
//! that suggests the nearest known one. Values are typed and range-checked
//! where they stand, so a manifest with ten mistakes gets ten diagnostics.
//! The cross-field rules (ISRC generation and duplicates, Red Book limits,
//! fades and indexes inside their track) run after the fields, on what could
//! be read. Source files are probed through a caller-given function, so that
//! missing, unreadable or surround files are reported at their `file:` line.
//!
//! One file per section: `fields.rs` holds the typed readers every section
//! uses; `release.rs`, `isrc.rs`, `mastering.rs`, `tracks.rs`, `cd.rs`,
//! `streaming.rs`, `report.rs` and `vinyl.rs` (vinyl and cassette) read
//! their sections; this file reads the top level and runs the
//! cross-section rules in order.

mod cd;
mod ddex;
mod discs;
mod fields;
mod isrc;
mod mastering;
mod release;
mod repair;
mod report;
mod streaming;
mod tonal;
mod tracks;
mod vinyl;

use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;
use super::model::*;
use super::raw::{Node, Pos, Value};
use crate::audio::{AudioError, AudioInfo};
use cd::{cd_section, disc_layout, Places};
pub use ddex::{COMMERCIAL_MODELS, USE_TYPES};
use fields::fields;
pub use fields::suggest;
use isrc::{assign_isrcs, isrc_section};
use mastering::mastering;
use release::release;
use report::report_section;
use streaming::streaming;
pub use streaming::{check_naming, NAMING_FIELDS, PROFILE_NAMES};
use tracks::{processing_fits, track};

/// The format version this glassmaster reads.
pub const FORMAT_VERSION: i64 = 1;

/// Red Book: the longest programme, 79:57:74, in frames.
pub const MAX_DISC_FRAMES: u64 = (79 * 60 + 57) * 75 + 74;
/// Past 74:00 some plants and players have trouble.
pub const WARN_DISC_FRAMES: u64 = 74 * 60 * 75;
/// Red Book: the shortest track, 4 seconds, in frames.
pub const MIN_TRACK_FRAMES: u64 = 4 * 75;

const TOP_KEYS: &[&str] = &[
    "glassmaster",
    "release",
    "isrc",
    "mastering",
    "tracks",
    "cd",
    "streaming",
    "report",
    "ddex",
    "vinyl",
    "cassette",
];
/// Reads a source file's header (the audio stage's probe in the program,
/// a stand-in in tests).
pub type Probe<'a> = &'a (dyn Fn(&Path) -> Result<AudioInfo, AudioError> + Sync);

/// Validates a parsed manifest. Returns the model when there is no error,
/// and every diagnostic (warnings included) either way.
pub fn validate(
    root: &Node,
    manifest_path: &Path,
    base_dir: &Path,
    probe: Probe<'_>,
) -> (Option<Manifest>, Vec<Diagnostic>) {
    let mut cx = Cx {
        file: manifest_path.to_owned(),
        diags: Vec::new(),
        lengths_unsure: false,
    };
    let manifest = top(&mut cx, root, manifest_path, base_dir, probe);
    let mut diags = cx.diags;
    super::diagnostic::sort(&mut diags);
    let ok = !diags.iter().any(Diagnostic::is_error);
    (manifest.filter(|_| ok), diags)
}

/// The diagnostics being collected.
pub(super) struct Cx {
    file: PathBuf,
    diags: Vec<Diagnostic>,
    /// A track's trim was refused: its length is not what the manifest
    /// meant, and the disc is not laid out from it.
    lengths_unsure: bool,
}

impl Cx {
    fn error(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(&self.file, Some(pos), msg));
    }
    fn warn(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(&self.file, Some(pos), msg));
    }
}

fn top(
    cx: &mut Cx,
    root: &Node,
    manifest_path: &Path,
    base_dir: &Path,
    probe: Probe<'_>,
) -> Option<Manifest> {
    if root.value == Value::Null {
        cx.error(
            root.pos,
            "the manifest is empty: it needs at least `glassmaster: 1`, `release` and `tracks`",
        );
        return None;
    }
    let f = fields(cx, root, "the manifest", TOP_KEYS)?;
    match f.map.get("glassmaster") {
        None => cx.error(
            Pos { line: 1, column: 1 },
            "the manifest must start with `glassmaster: 1`, the format version",
        ),
        Some((_, node)) => match node.value {
            Value::Int(FORMAT_VERSION) => {}
            Value::Int(v) => cx.error(
                node.pos,
                format!(
                    "format version {v} is not supported; this glassmaster reads version {FORMAT_VERSION}"
                ),
            ),
            ref other => cx.error(
                node.pos,
                format!("`glassmaster` must be the format version 1, found {}", other.kind()),
            ),
        },
    }

    let release = match f.node("release") {
        Some(n) => release(cx, n, base_dir),
        None => {
            f.missing(cx, "release");
            None
        }
    };
    let has_release = release.is_some();
    let isrc_gen = f.node("isrc").and_then(|n| isrc_section(cx, n));
    let mastering = f
        .node("mastering")
        .map(|n| mastering(cx, n))
        .unwrap_or_default();
    let cd = f
        .node("cd")
        .and_then(|n| cd_section(cx, n, base_dir, probe));
    let streaming = f
        .node("streaming")
        .map(|n| streaming(cx, n))
        .unwrap_or_default();
    let report = f
        .node("report")
        .map(|n| report_section(cx, n))
        .unwrap_or_default();
    // A ceiling above the report's limit lets masters through that the
    // report then flags: say so now, so that `check --strict` catches it.
    let ceiling_node = f.node("mastering").and_then(|m| match &m.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.name == "true_peak_dbtp")
            .map(|(_, n)| n.pos),
        _ => None,
    });
    if let Some(pos) = ceiling_node {
        if mastering.true_peak_dbtp > report.max_true_peak_dbtp + 1e-9 {
            cx.warn(
                pos,
                format!(
                    "`mastering.true_peak_dbtp` is {} dBTP, above `report.max_true_peak_dbtp` ({} dBTP): masters may peak over the report's limit and be flagged",
                    mastering.true_peak_dbtp, report.max_true_peak_dbtp
                ),
            );
        }
    }

    let ddex_bundles = f
        .node("streaming")
        .map(|n| ddex::opted_in(cx, n))
        .unwrap_or_default();
    let ddex = ddex::ddex_section(
        cx,
        f.node("ddex"),
        f.key_pos("ddex"),
        release.as_ref(),
        ddex_bundles,
    );

    let artist = release
        .as_ref()
        .map(|r| r.artist.clone())
        .unwrap_or_default();
    let mut tracks = Vec::new();
    let mut track_nodes = Vec::new();
    let mut all_read = false;
    let mut tracks_list = f.key_pos("tracks");
    let mut listed = 0;
    match f.node("tracks") {
        None => f.missing(cx, "tracks"),
        Some(node) => match &node.value {
            Value::Seq(items) if items.is_empty() => cx.error(
                node.pos,
                "`tracks` is empty: a release needs at least one track",
            ),
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(t) = track(cx, item, i as u32 + 1, &artist, base_dir, probe) {
                        tracks.push(t);
                        track_nodes.push(item);
                    }
                }
                all_read = tracks.len() == items.len();
                listed = items.len();
                tracks_list = node.pos;
            }
            other => cx.error(
                node.pos,
                format!("`tracks` must be a list of tracks, found {}", other.kind()),
            ),
        },
    }

    let mut mastering = mastering;
    tonal_matching(
        cx,
        &f,
        &mut mastering,
        &mut tracks,
        &track_nodes,
        base_dir,
        probe,
    );
    for (t, node) in tracks.iter().zip(&track_nodes) {
        processing_fits(cx, t, node, &mastering);
    }
    discs::disc_numbers(cx, &tracks, &track_nodes);
    let isrc_written = f.map.contains_key("isrc");
    let needs_isrc = cd.is_some() || !streaming.is_empty();
    assign_isrcs(
        cx,
        &mut tracks,
        &track_nodes,
        isrc_gen.as_ref(),
        isrc_written,
        needs_isrc,
        f.key_pos("isrc"),
    );

    let vinyl = f
        .node("vinyl")
        .and_then(|n| vinyl::vinyl_section(cx, n, &tracks, listed));
    let cassette = f
        .node("cassette")
        .and_then(|n| vinyl::cassette_section(cx, n, &tracks, listed));
    let manifest = Manifest {
        path: manifest_path.to_owned(),
        base_dir: base_dir.to_owned(),
        release: release.unwrap_or_default(),
        mastering,
        tracks,
        cd,
        streaming,
        report,
        ddex,
        vinyl,
        cassette,
    };
    if all_read && !cx.lengths_unsure {
        let places = Places {
            tracks_key: f.key_pos("tracks"),
            tracks_list,
            tracks: &track_nodes,
            cd_key: f.key_pos("cd"),
            cd: f.node("cd"),
            release: f.node("release"),
        };
        disc_layout(cx, &manifest, &places);
    }
    has_release.then_some(manifest)
}

/// `mastering.match` and each track's `match` (read here, once the
/// tracks are known: a track's settings go over the album's).
fn tonal_matching(
    cx: &mut Cx,
    f: &fields::Fields<'_>,
    mastering: &mut Mastering,
    tracks: &mut [Track],
    track_nodes: &[&Node],
    base_dir: &Path,
    probe: Probe<'_>,
) {
    use fields::child;
    let album_node = f.node("mastering").and_then(|n| child(n, "match"));
    if let Some(n) = album_node.filter(|n| n.value != Value::Null) {
        mastering.tonal_match = tonal::album_match(cx, n, base_dir, probe);
        if let Some(m) = &mastering.tonal_match {
            tonal::album_needs_tracks(cx, n, m, track_nodes.len());
        }
    }
    for (t, node) in tracks.iter_mut().zip(track_nodes) {
        if let Some(n) = child(node, "match").filter(|n| n.value != Value::Null) {
            t.tonal_match = tonal::track_match(
                cx,
                n,
                t.number,
                mastering.tonal_match.as_ref(),
                base_dir,
                probe,
            );
            if let Some(TrackMatch::Own(m)) = &t.tonal_match {
                tonal::album_needs_tracks(cx, n, m, track_nodes.len());
            }
        }
    }
    one_resolution(cx, mastering, tracks, track_nodes);
}

/// Every matched track of an album is measured in the same bands: the
/// album target is a median band by band, and the spectra are gathered
/// in one measuring pass. A track whose `resolution` differs from the
/// first matched track's is refused at its line (it would otherwise be
/// matched in the other track's bands without a word).
fn one_resolution(cx: &mut Cx, mastering: &Mastering, tracks: &[Track], track_nodes: &[&Node]) {
    use fields::child;
    let album = mastering.tonal_match.as_ref();
    let mut first: Option<(MatchResolution, String)> =
        album.map(|m| (m.resolution, "`mastering.match`".to_string()));
    for (t, node) in tracks.iter().zip(track_nodes) {
        let own = match &t.tonal_match {
            Some(TrackMatch::Off) => continue,
            Some(TrackMatch::Own(m)) => m,
            None => match album {
                Some(m) => m,
                None => continue,
            },
        };
        match &first {
            None => first = Some((own.resolution, format!("track {}", t.number))),
            Some((r, whose)) if *r != own.resolution => {
                let pos = child(node, "match")
                    .and_then(|n| child(n, "resolution"))
                    .or_else(|| child(node, "match"))
                    .map_or(node.pos, |n| n.pos);
                cx.error(
                    pos,
                    format!(
                        "`tracks[{}].match.resolution` is {} but {whose} is matched in {} bands: \
                         an album's tracks are compared band by band, so every matched track \
                         uses one resolution (set it once in `mastering.match`)",
                        t.number,
                        own.resolution.name(),
                        r.name()
                    ),
                );
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_off_is_the_word_not_false() {
        let text = "glassmaster: 1\nrelease: {title: T, artist: A}\nmastering:\n  loudness_mode: off\ntracks: []\n";
        let root = super::super::raw::parse(text).unwrap();
        let mut cx = Cx {
            file: PathBuf::from("a.yaml"),
            diags: Vec::new(),
            lengths_unsure: false,
        };
        let m = top(&mut cx, &root, Path::new("a.yaml"), Path::new("."), &|_| {
            unreachable!("no tracks to probe")
        });
        assert!(
            !cx.diags.iter().any(|d| d.message.contains("loudness_mode")),
            "{:?}",
            cx.diags
        );
        assert_eq!(m.unwrap().mastering.loudness_mode, LoudnessMode::Off);
    }
}
