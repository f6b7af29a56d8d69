//! Raw tree → checked model, in one pass that collects every problem.
//!
//! Each section has a list of the keys it knows; an unknown key is an error
//! that suggests the nearest known one. Values are typed and range-checked
//! where they stand, so a manifest with ten mistakes gets ten diagnostics.
//! The cross-field rules (ISRC generation and duplicates, Red Book limits,
//! fades and indexes inside their track) run after the fields, on what could
//! be read. Source files are probed through a caller-given function, so that
//! missing, unreadable or surround files are reported at their `file:` line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::codes::{parse_registrant, Isrc, Upc};
use super::diagnostic::Diagnostic;
use super::model::*;
use super::raw::{Key, Node, Pos, Value};
use super::time::{parse_time, CD_FRAMES_PER_SECOND};
use crate::audio::{AudioError, AudioInfo};

/// The format version this glassmaster reads.
pub const FORMAT_VERSION: i64 = 1;

/// The built-in streaming profile names (the profiles themselves are data
/// files in templates/profiles/).
pub const PROFILE_NAMES: &[&str] = &[
    "spotify",
    "apple-digital-masters",
    "amazon",
    "tidal",
    "deezer",
    "youtube",
    "soundcloud",
    "bandcamp",
    "cd-baby",
    "beatport",
    "promo-mp3",
    "archive",
];

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
];
const RELEASE_KEYS: &[&str] = &[
    "title",
    "artist",
    "upc",
    "label",
    "catalog_number",
    "release_date",
    "genre",
    "language",
    "copyright",
    "phonographic_copyright",
    "artwork",
    "explicit",
];
const ISRC_KEYS: &[&str] = &["registrant", "year", "first"];
const MASTERING_KEYS: &[&str] = &["loudness_mode", "target_lufs", "true_peak_dbtp", "chain"];
const STAGE_KEYS: &[&str] = &["eq", "compressor", "limiter", "gain", "stereo"];
const BAND_KEYS: &[&str] = &["type", "freq_hz", "gain_db", "q"];
const COMPRESSOR_KEYS: &[&str] = &[
    "threshold_db",
    "ratio",
    "attack_ms",
    "release_ms",
    "knee_db",
    "makeup_db",
    "stereo_link",
];
const LIMITER_KEYS: &[&str] = &["release_ms", "lookahead_ms"];
const GAIN_KEYS: &[&str] = &["gain_db"];
const STEREO_KEYS: &[&str] = &["width"];
const TRACK_KEYS: &[&str] = &[
    "file",
    "title",
    "artist",
    "featuring",
    "composer",
    "lyricist",
    "arranger",
    "producer",
    "version",
    "isrc",
    "explicit",
    "gain_db",
    "trim",
    "fade",
    "pregap",
    "segue",
    "indexes",
    "chain",
    "lyrics",
    "disc",
];
const TRIM_KEYS: &[&str] = &["start", "end"];
const FADE_KEYS: &[&str] = &["in_s", "out_s", "curve"];
const CD_KEYS: &[&str] = &[
    "gap_s",
    "formats",
    "cd_text",
    "dither",
    "pre_emphasis",
    "copy_permitted",
];
const BUNDLE_KEYS: &[&str] = &[
    "profile",
    "name",
    "format",
    "sample_rate",
    "bit_depth",
    "naming",
    "bitrate_kbps",
    "dither",
    "true_peak_dbtp",
];
const REPORT_KEYS: &[&str] = &[
    "max_loudness_spread_lu",
    "max_true_peak_dbtp",
    "max_head_silence_s",
    "max_tail_silence_s",
    "max_plr_deviation_db",
    "max_dc_offset_dbfs",
    "min_correlation",
    "max_clipped_samples",
    "max_spectral_deviation_db",
];
/// Placeholders a streaming naming template may use.
pub const NAMING_FIELDS: &[&str] = &[
    "disc",
    "track",
    "artist",
    "title",
    "album",
    "isrc",
    "version",
    "album_artist",
];
const SAMPLE_RATES: &[u32] = &[44_100, 48_000, 88_200, 96_000, 176_400, 192_000];

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
    };
    let manifest = top(&mut cx, root, manifest_path, base_dir, probe);
    let mut diags = cx.diags;
    super::diagnostic::sort(&mut diags);
    let ok = !diags.iter().any(Diagnostic::is_error);
    (manifest.filter(|_| ok), diags)
}

/// The diagnostics being collected.
struct Cx {
    file: PathBuf,
    diags: Vec<Diagnostic>,
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

/// The keys of one mapping, after unknown keys were reported.
struct Fields<'n> {
    /// What the mapping is called in messages: `release`, `tracks[2]`, ...
    name: String,
    pos: Pos,
    map: BTreeMap<&'n str, (&'n Key, &'n Node)>,
    /// Known keys suggested for misspelt ones: not reported missing again.
    suggested: Vec<&'static str>,
}

/// Opens a mapping: reports a non-mapping value and every unknown key.
fn fields<'n>(
    cx: &mut Cx,
    node: &'n Node,
    name: &str,
    known: &[&'static str],
) -> Option<Fields<'n>> {
    let Some(entries) = node.as_map() else {
        let what = if name == "the manifest" {
            "the manifest must be a mapping of keys (`glassmaster: 1`, `release:`, `tracks:`, ...)"
                .to_owned()
        } else {
            format!("`{name}` must be a mapping of keys")
        };
        cx.error(node.pos, format!("{what}, found {}", shown(&node.value)));
        return None;
    };
    let mut map = BTreeMap::new();
    let mut suggested = Vec::new();
    for (key, value) in entries {
        if known.contains(&key.name.as_str()) {
            map.insert(key.name.as_str(), (key, value));
        } else {
            let hint = match suggest(&key.name, known) {
                Some(s) => {
                    suggested.push(s);
                    format!("; did you mean `{s}`?")
                }
                None => format!("; known keys: {}", known.join(", ")),
            };
            cx.error(
                key.pos,
                format!("unknown key `{}` in `{name}`{hint}", key.name),
            );
        }
    }
    Some(Fields {
        name: name.to_owned(),
        pos: node.pos,
        map,
        suggested,
    })
}

/// A value for a message: `text "loud"`, `the number 5`, `a list`.
fn shown(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("text \"{s}\""),
        Value::Int(i) => format!("the number {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::Bool(b) => format!("`{b}`"),
        other => other.kind().to_owned(),
    }
}

/// The known key nearest to `word` by edit distance, if near enough.
pub fn suggest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase().replace('-', "_");
    known
        .iter()
        .map(|k| (edit_distance(&w, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl<'n> Fields<'n> {
    fn node(&self, key: &str) -> Option<&'n Node> {
        self.map
            .get(key)
            .map(|(_, n)| *n)
            .filter(|n| n.value != Value::Null)
    }

    fn key_pos(&self, key: &str) -> Pos {
        self.map.get(key).map(|(k, _)| k.pos).unwrap_or(self.pos)
    }

    fn missing(&self, cx: &mut Cx, key: &str) {
        if self.suggested.contains(&key) {
            return;
        }
        cx.error(
            self.pos,
            format!("`{}` needs `{key}`, which is missing", self.name),
        );
    }

    /// A text value; numbers and booleans written unquoted count as text.
    fn text(&self, cx: &mut Cx, key: &str) -> Option<String> {
        let node = self.node(key)?;
        match &node.value {
            Value::Str(s) if s.trim().is_empty() => {
                cx.error(node.pos, format!("`{key}` is empty"));
                None
            }
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be text, found {}", shown(other)),
                );
                None
            }
        }
    }

    fn required_text(&self, cx: &mut Cx, key: &str) -> Option<String> {
        if self.node(key).is_none() {
            self.missing(cx, key);
            return None;
        }
        self.text(cx, key)
    }

    fn number(&self, cx: &mut Cx, key: &str, unit: &str, lo: f64, hi: f64) -> Option<f64> {
        let node = self.node(key)?;
        let v = match &node.value {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be a number, found {}", shown(other)),
                );
                return None;
            }
        };
        if !v.is_finite() || v < lo || v > hi {
            cx.error(
                node.pos,
                format!("`{key}` is {v}{unit}; it must be between {lo} and {hi}{unit}"),
            );
            return None;
        }
        Some(v)
    }

    fn integer(&self, cx: &mut Cx, key: &str, lo: i64, hi: i64) -> Option<i64> {
        let node = self.node(key)?;
        match &node.value {
            Value::Int(i) if (lo..=hi).contains(i) => Some(*i),
            Value::Int(i) => {
                cx.error(
                    node.pos,
                    format!("`{key}` is {i}; it must be between {lo} and {hi}"),
                );
                None
            }
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be a whole number, found {}", shown(other)),
                );
                None
            }
        }
    }

    fn boolean(&self, cx: &mut Cx, key: &str) -> Option<bool> {
        let node = self.node(key)?;
        match &node.value {
            Value::Bool(b) => Some(*b),
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be true or false, found {}", shown(other)),
                );
                None
            }
        }
    }

    /// A time in any of the three notations, in seconds.
    fn time(&self, cx: &mut Cx, key: &str) -> Option<f64> {
        let node = self.node(key)?;
        time_value(cx, node, key)
    }

    /// One of a fixed set of words.
    fn choice<T: Copy>(&self, cx: &mut Cx, key: &str, options: &[(&str, T)]) -> Option<T> {
        let node = self.node(key)?;
        choice_value(cx, node, key, options)
    }

    fn text_list(&self, cx: &mut Cx, key: &str) -> Vec<String> {
        let Some(node) = self.node(key) else {
            return Vec::new();
        };
        match &node.value {
            Value::Str(s) => vec![s.clone()],
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| match &item.value {
                    Value::Str(s) => Some(s.clone()),
                    other => {
                        cx.error(
                            item.pos,
                            format!("`{key}` must list text, found {}", other.kind()),
                        );
                        None
                    }
                })
                .collect(),
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be a list of names, found {}", other.kind()),
                );
                Vec::new()
            }
        }
    }
}

fn time_value(cx: &mut Cx, node: &Node, key: &str) -> Option<f64> {
    let parsed = match &node.value {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        Value::Str(s) => parse_time(s),
        other => Err(format!("found {}", shown(other))),
    };
    match parsed {
        Ok(t) if t.is_finite() && t >= 0.0 => Some(t),
        Ok(t) => {
            cx.error(
                node.pos,
                format!("`{key}` is {t} s; a time cannot be negative"),
            );
            None
        }
        Err(why) => {
            cx.error(
                node.pos,
                format!(
                    "`{key}` is not a time ({why}): write seconds (2.5), minutes and \
                     seconds (\"3:20.250\") or CD frames (\"03:20:18\")"
                ),
            );
            None
        }
    }
}

fn choice_value<T: Copy>(cx: &mut Cx, node: &Node, key: &str, options: &[(&str, T)]) -> Option<T> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    // YAML 1.1 reads a bare `off` as false: take it as the word it was.
    if node.value == Value::Bool(false) {
        if let Some((_, v)) = options.iter().find(|(n, _)| *n == "off") {
            return Some(*v);
        }
    }
    match &node.value {
        Value::Str(s) => {
            if let Some((_, v)) = options.iter().find(|(n, _)| n == s) {
                return Some(*v);
            }
            let hint = suggest(s, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            cx.error(
                node.pos,
                format!(
                    "`{key}` is \"{s}\"; it must be one of {}{hint}",
                    names.join(", ")
                ),
            );
            None
        }
        other => {
            cx.error(
                node.pos,
                format!(
                    "`{key}` must be one of {}, found {}",
                    names.join(", "),
                    shown(other)
                ),
            );
            None
        }
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
    let isrc_gen = f.node("isrc").and_then(|n| isrc_section(cx, n));
    let mastering = f
        .node("mastering")
        .map(|n| mastering(cx, n))
        .unwrap_or_default();
    let cd = f.node("cd").and_then(|n| cd_section(cx, n));
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

    let artist = release
        .as_ref()
        .map(|r| r.artist.clone())
        .unwrap_or_default();
    let mut tracks = Vec::new();
    let mut track_nodes = Vec::new();
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
                if cd.is_some() && items.len() > 99 {
                    cx.error(
                        node.pos,
                        format!(
                            "the release has {} tracks; a CD holds at most 99 (Red Book)",
                            items.len()
                        ),
                    );
                }
            }
            other => cx.error(
                node.pos,
                format!("`tracks` must be a list of tracks, found {}", other.kind()),
            ),
        },
    }

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
    if let Some(cd) = &cd {
        red_book(cx, &tracks, &track_nodes, cd, f.key_pos("tracks"));
    }

    Some(Manifest {
        path: manifest_path.to_owned(),
        base_dir: base_dir.to_owned(),
        release: release?,
        mastering,
        tracks,
        cd,
        streaming,
        report,
    })
}

fn release(cx: &mut Cx, node: &Node, base_dir: &Path) -> Option<Release> {
    let f = fields(cx, node, "release", RELEASE_KEYS)?;
    let title = f.required_text(cx, "title");
    let artist = f.required_text(cx, "artist");
    let upc = f.text(cx, "upc").and_then(|t| match Upc::parse(&t) {
        Ok(u) => Some(u),
        Err(e) => {
            cx.error(f.node("upc").map_or(f.pos, |n| n.pos), e);
            None
        }
    });
    let release_date = f.text(cx, "release_date");
    if let (Some(d), Some(n)) = (&release_date, f.node("release_date")) {
        if let Err(e) = check_date(d) {
            cx.error(n.pos, format!("`release_date` \"{d}\" {e}"));
        }
    }
    let language = f.text(cx, "language");
    if let (Some(l), Some(n)) = (&language, f.node("language")) {
        if l.len() != 2 || !l.bytes().all(|b| b.is_ascii_lowercase()) {
            cx.error(
                n.pos,
                format!("`language` \"{l}\" must be a two-letter ISO 639-1 code, like \"en\""),
            );
        }
    }
    for key in ["copyright", "phonographic_copyright"] {
        if let (Some(line), Some(n)) = (f.text(cx, key), f.node(key)) {
            let year_ok = line.len() >= 4
                && line.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                && line.as_bytes().get(4).is_none_or(|b| !b.is_ascii_digit());
            if !year_ok {
                cx.error(
                    n.pos,
                    format!(
                        "`{key}` \"{line}\" must begin with a four-digit year, like \"2026 Example Records\""
                    ),
                );
            }
        }
    }
    let artwork = f.text(cx, "artwork").map(PathBuf::from);
    if let (Some(a), Some(n)) = (&artwork, f.node("artwork")) {
        let full = base_dir.join(a);
        if let Err(e) = crate::fsio::check_regular(&full) {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            };
            cx.error(n.pos, format!("`artwork` {}: {why}", a.display()));
        }
    }
    Some(Release {
        title: title?,
        artist: artist?,
        upc,
        label: f.text(cx, "label"),
        catalog_number: f.text(cx, "catalog_number"),
        release_date,
        genre: f.text(cx, "genre"),
        language,
        copyright: f.text(cx, "copyright"),
        phonographic_copyright: f.text(cx, "phonographic_copyright"),
        artwork: artwork.map(|a| base_dir.join(a)),
        explicit: f.boolean(cx, "explicit").unwrap_or(false),
    })
}

fn check_date(d: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = d.split('-').collect();
    let ok_shape = parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !ok_shape {
        return Err("is not an ISO 8601 date (YYYY-MM-DD)");
    }
    let (y, m, day): (u32, u32, u32) = (
        parts[0].parse().unwrap_or(0),
        parts[1].parse().unwrap_or(0),
        parts[2].parse().unwrap_or(0),
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err("has no such month"),
    };
    if day == 0 || day > days {
        return Err("has no such day");
    }
    Ok(())
}

/// The `isrc:` generator: registrant prefix, year, first designation.
struct IsrcGen {
    registrant: String,
    year: u32,
    first: u32,
}

fn isrc_section(cx: &mut Cx, node: &Node) -> Option<IsrcGen> {
    let f = fields(cx, node, "isrc", ISRC_KEYS)?;
    let registrant = match f.required_text(cx, "registrant") {
        Some(r) => match parse_registrant(&r) {
            Ok(r) => Some(r),
            Err(e) => {
                cx.error(f.node("registrant").map_or(f.pos, |n| n.pos), e);
                None
            }
        },
        None => None,
    };
    if f.node("year").is_none() {
        f.missing(cx, "year");
    }
    let year = f.integer(cx, "year", 0, 99);
    let first = f.integer(cx, "first", 0, 99_999).unwrap_or(1);
    Some(IsrcGen {
        registrant: registrant?,
        year: year? as u32,
        first: first as u32,
    })
}

fn mastering(cx: &mut Cx, node: &Node) -> Mastering {
    let Some(f) = fields(cx, node, "mastering", MASTERING_KEYS) else {
        return Mastering::default();
    };
    let loudness_mode = f
        .choice(
            cx,
            "loudness_mode",
            &[
                ("album", LoudnessMode::Album),
                ("track", LoudnessMode::Track),
                ("off", LoudnessMode::Off),
            ],
        )
        .unwrap_or(LoudnessMode::Album);
    Mastering {
        loudness_mode,
        target_lufs: f
            .number(cx, "target_lufs", " LUFS", -40.0, -5.0)
            .unwrap_or(DEFAULT_TARGET_LUFS),
        true_peak_dbtp: f
            .number(cx, "true_peak_dbtp", " dBTP", -20.0, 0.0)
            .unwrap_or(DEFAULT_TRUE_PEAK_DBTP),
        chain: f.node("chain").map(|n| chain(cx, n)).unwrap_or_default(),
    }
}

fn chain(cx: &mut Cx, node: &Node) -> Vec<Stage> {
    let Value::Seq(items) = &node.value else {
        cx.error(
            node.pos,
            format!(
                "`chain` must be a list of stages, found {}",
                node.value.kind()
            ),
        );
        return Vec::new();
    };
    let mut stages = Vec::new();
    for item in items {
        let entries = match item.as_map() {
            Some(e) if e.len() == 1 => e,
            _ => {
                cx.error(
                    item.pos,
                    format!(
                        "each chain stage is one of {} with its settings, like `- limiter: {{ release_ms: 50 }}`",
                        STAGE_KEYS.join(", ")
                    ),
                );
                continue;
            }
        };
        let (key, value) = &entries[0];
        let stage = match key.name.as_str() {
            "eq" => eq_stage(cx, value),
            "compressor" => compressor(cx, value),
            "limiter" => limiter(cx, value),
            "gain" => {
                let f = settings(cx, value, "gain", GAIN_KEYS);
                f.and_then(|f| {
                    let g = f.number(cx, "gain_db", " dB", -48.0, 48.0);
                    if g.is_none() && f.node("gain_db").is_none() {
                        f.missing(cx, "gain_db");
                    }
                    g.map(|gain_db| Stage::Gain { gain_db })
                })
            }
            "stereo" => {
                let f = settings(cx, value, "stereo", STEREO_KEYS);
                f.and_then(|f| {
                    let w = f.number(cx, "width", "", 0.0, 2.0);
                    if w.is_none() && f.node("width").is_none() {
                        f.missing(cx, "width");
                    }
                    w.map(|width| Stage::Stereo { width })
                })
            }
            other => {
                let hint = suggest(other, STAGE_KEYS)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; known stages: {}", STAGE_KEYS.join(", ")));
                cx.error(key.pos, format!("unknown chain stage `{other}`{hint}"));
                None
            }
        };
        stages.extend(stage);
    }
    stages
}

/// A stage's settings mapping; `limiter:` with nothing after it is an
/// empty mapping (all defaults).
fn settings<'n>(
    cx: &mut Cx,
    node: &'n Node,
    name: &str,
    known: &[&'static str],
) -> Option<Fields<'n>> {
    if node.value == Value::Null {
        return Some(Fields {
            name: name.to_owned(),
            pos: node.pos,
            map: BTreeMap::new(),
            suggested: Vec::new(),
        });
    }
    fields(cx, node, name, known)
}

fn eq_stage(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let Value::Seq(items) = &node.value else {
        cx.error(
            node.pos,
            format!("`eq` must be a list of bands, found {}", node.value.kind()),
        );
        return None;
    };
    let mut bands = Vec::new();
    for item in items {
        let Some(f) = fields(cx, item, "eq band", BAND_KEYS) else {
            continue;
        };
        let kind = match f.node("type") {
            None => {
                f.missing(cx, "type");
                None
            }
            Some(_) => f.choice(
                cx,
                "type",
                &[
                    ("highpass", EqKind::Highpass),
                    ("lowpass", EqKind::Lowpass),
                    ("lowshelf", EqKind::Lowshelf),
                    ("highshelf", EqKind::Highshelf),
                    ("bell", EqKind::Bell),
                    ("notch", EqKind::Notch),
                ],
            ),
        };
        if f.node("freq_hz").is_none() {
            f.missing(cx, "freq_hz");
        }
        let freq = f.number(cx, "freq_hz", " Hz", 10.0, 30_000.0);
        let gain = f.number(cx, "gain_db", " dB", -24.0, 24.0);
        let q = f.number(cx, "q", "", 0.1, 30.0);
        if let Some(k) = kind {
            let needs_gain = matches!(k, EqKind::Lowshelf | EqKind::Highshelf | EqKind::Bell);
            if needs_gain && f.node("gain_db").is_none() {
                f.missing(cx, "gain_db");
            }
            if !needs_gain && f.node("gain_db").is_some() {
                cx.warn(
                    f.key_pos("gain_db"),
                    "`gain_db` has no effect on a highpass, lowpass or notch band",
                );
            }
            if let Some(freq_hz) = freq {
                bands.push(EqBand {
                    kind: k,
                    freq_hz,
                    gain_db: gain.unwrap_or(0.0),
                    q,
                });
            }
        }
    }
    Some(Stage::Eq(bands))
}

fn compressor(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let f = settings(cx, node, "compressor", COMPRESSOR_KEYS)?;
    Some(Stage::Compressor(Compressor {
        threshold_db: f
            .number(cx, "threshold_db", " dB", -80.0, 0.0)
            .unwrap_or(-18.0),
        ratio: f.number(cx, "ratio", ":1", 1.0, 100.0).unwrap_or(2.0),
        attack_ms: f
            .number(cx, "attack_ms", " ms", 0.01, 1000.0)
            .unwrap_or(10.0),
        release_ms: f
            .number(cx, "release_ms", " ms", 1.0, 10_000.0)
            .unwrap_or(150.0),
        knee_db: f.number(cx, "knee_db", " dB", 0.0, 40.0).unwrap_or(6.0),
        makeup_db: f.number(cx, "makeup_db", " dB", -24.0, 48.0).unwrap_or(0.0),
        stereo_link: f.number(cx, "stereo_link", "", 0.0, 1.0).unwrap_or(1.0),
    }))
}

fn limiter(cx: &mut Cx, node: &Node) -> Option<Stage> {
    let f = settings(cx, node, "limiter", LIMITER_KEYS)?;
    let d = Limiter::default();
    Some(Stage::Limiter(Limiter {
        release_ms: f
            .number(cx, "release_ms", " ms", 1.0, 5000.0)
            .unwrap_or(d.release_ms),
        lookahead_ms: f
            .number(cx, "lookahead_ms", " ms", 0.5, 50.0)
            .unwrap_or(d.lookahead_ms),
    }))
}

fn track(
    cx: &mut Cx,
    node: &Node,
    number: u32,
    release_artist: &str,
    base_dir: &Path,
    probe: Probe<'_>,
) -> Option<Track> {
    let name = format!("tracks[{number}]");
    let f = fields(cx, node, &name, TRACK_KEYS)?;
    let file = f.required_text(cx, "file").map(PathBuf::from);
    let title = f.required_text(cx, "title");
    let mut info = None;
    if let (Some(file), Some(n)) = (&file, f.node("file")) {
        let path = base_dir.join(file);
        if !path.exists() {
            cx.error(n.pos, format!("{}: no such file", file.display()));
        } else {
            match probe(&path) {
                Ok(i) => info = Some(i),
                Err(e) => cx.error(n.pos, probe_message(file, &e)),
            }
        }
    }
    let isrc = f.text(cx, "isrc").and_then(|t| match Isrc::parse(&t) {
        Ok(i) => Some(i),
        Err(e) => {
            cx.error(f.node("isrc").map_or(f.pos, |n| n.pos), e);
            None
        }
    });
    let (trim_start_s, trim_end_s) = match f.node("trim") {
        Some(n) => match fields(cx, n, "trim", TRIM_KEYS) {
            Some(t) => {
                let start = t.time(cx, "start").unwrap_or(0.0);
                let end = t.time(cx, "end");
                if let Some(e) = end {
                    if e <= start {
                        cx.error(
                            t.node("end").map_or(t.pos, |n| n.pos),
                            format!("`trim` ends at {e} s, not after its start at {start} s"),
                        );
                    }
                }
                (start, end)
            }
            None => (0.0, None),
        },
        None => (0.0, None),
    };
    let fade = f.node("fade").and_then(|n| {
        let t = fields(cx, n, "fade", FADE_KEYS)?;
        Some(Fade {
            in_s: t.number(cx, "in_s", " s", 0.0, 600.0).unwrap_or(0.0),
            out_s: t.number(cx, "out_s", " s", 0.0, 600.0).unwrap_or(0.0),
            curve: t
                .choice(
                    cx,
                    "curve",
                    &[
                        ("linear", FadeCurve::Linear),
                        ("log", FadeCurve::Log),
                        ("s-curve", FadeCurve::SCurve),
                    ],
                )
                .unwrap_or(FadeCurve::SCurve),
        })
    });
    let indexes = match f.node("indexes") {
        None => Vec::new(),
        Some(n) => match &n.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| time_value(cx, i, "indexes"))
                .collect(),
            other => {
                cx.error(
                    n.pos,
                    format!("`indexes` must be a list of times, found {}", other.kind()),
                );
                Vec::new()
            }
        },
    };
    let track = Track {
        number,
        path: file.as_ref().map(|p| base_dir.join(p)).unwrap_or_default(),
        file: file.unwrap_or_default(),
        info,
        title: title.unwrap_or_default(),
        artist: f
            .text(cx, "artist")
            .unwrap_or_else(|| release_artist.to_owned()),
        featuring: f.text_list(cx, "featuring"),
        composer: f.text(cx, "composer"),
        lyricist: f.text(cx, "lyricist"),
        arranger: f.text(cx, "arranger"),
        producer: f.text(cx, "producer"),
        version: f.text(cx, "version"),
        isrc,
        isrc_generated: false,
        explicit: f.boolean(cx, "explicit").unwrap_or(false),
        gain_db: f.number(cx, "gain_db", " dB", -48.0, 48.0).unwrap_or(0.0),
        trim_start_s,
        trim_end_s,
        fade,
        pregap_s: f.time(cx, "pregap"),
        segue: f.boolean(cx, "segue").unwrap_or(false),
        indexes,
        chain: f.node("chain").map(|n| chain(cx, n)),
        lyrics: f.text(cx, "lyrics"),
        disc: f.integer(cx, "disc", 1, 99).unwrap_or(1) as u32,
    };
    track_timing(cx, &f, &track);
    Some(track)
}

/// Trim, fades and index points must fall inside the track.
fn track_timing(cx: &mut Cx, f: &Fields<'_>, t: &Track) {
    let source_s = t
        .info
        .as_ref()
        .and_then(|i| Some(i.frames? as f64 / f64::from(i.sample_rate)));
    if let (Some(total), Some(end)) = (source_s, t.trim_end_s) {
        if end > total + 1e-9 {
            cx.error(
                f.key_pos("trim"),
                format!(
                    "`trim` ends at {end} s, past the end of {} ({total:.3} s)",
                    t.file.display()
                ),
            );
        }
    }
    let Some(len) = t.duration_s() else { return };
    if let Some(fade) = &t.fade {
        if fade.in_s + fade.out_s > len + 1e-9 {
            cx.error(
                f.key_pos("fade"),
                format!(
                    "the fades ({} s in, {} s out) are longer than the track ({len:.3} s)",
                    fade.in_s, fade.out_s
                ),
            );
        }
    }
    let mut prev = 0.0;
    for (i, &at) in t.indexes.iter().enumerate() {
        let pos = match f.node("indexes").map(|n| &n.value) {
            Some(Value::Seq(items)) => items.get(i).map_or(f.pos, |n| n.pos),
            _ => f.pos,
        };
        if at <= prev {
            cx.error(
                pos,
                format!(
                    "INDEX {:02} at {at} s must come after {} at {prev} s",
                    i + 2,
                    if i == 0 {
                        "the track start".to_owned()
                    } else {
                        format!("INDEX {:02}", i + 1)
                    }
                ),
            );
        } else if at >= len {
            cx.error(
                pos,
                format!(
                    "INDEX {:02} at {at} s is past the end of the track ({len:.3} s)",
                    i + 2
                ),
            );
        }
        prev = at;
    }
}

fn probe_message(file: &Path, e: &AudioError) -> String {
    let text = e.to_string();
    // The audio errors begin with the resolved path; show the manifest's.
    match text.split_once(": ") {
        Some((_, rest)) => format!("{}: {rest}", file.display()),
        None => format!("{}: {text}", file.display()),
    }
}

fn assign_isrcs(
    cx: &mut Cx,
    tracks: &mut [Track],
    nodes: &[&Node],
    gen: Option<&IsrcGen>,
    isrc_written: bool,
    needs_isrc: bool,
    isrc_pos: Pos,
) {
    let mut seen: HashMap<Isrc, (u32, String)> = HashMap::new();
    for (t, node) in tracks.iter().zip(nodes) {
        let Some(code) = &t.isrc else { continue };
        if let Some((n, title)) = seen.get(code) {
            let pos = isrc_node_pos(node);
            cx.error(
                pos,
                format!("ISRC {code} is already used by track {n} (\"{title}\")"),
            );
        } else {
            seen.insert(code.clone(), (t.number, t.title.clone()));
        }
    }
    let mut next = gen.map(|g| g.first);
    for (t, node) in tracks.iter_mut().zip(nodes) {
        if t.isrc.is_some() {
            continue;
        }
        let (Some(g), Some(n)) = (gen, next.as_mut()) else {
            if isrc_written || !needs_isrc {
                // The `isrc:` section has its own error already, or
                // nothing made from this manifest carries ISRCs.
                continue;
            }
            cx.warn(
                node.pos,
                format!(
                    "track {} (\"{}\") has no ISRC, and there is no `isrc:` section to generate one",
                    t.number, t.title
                ),
            );
            continue;
        };
        loop {
            match Isrc::generate(&g.registrant, g.year, *n) {
                Ok(code) if seen.contains_key(&code) => *n += 1,
                Ok(code) => {
                    seen.insert(code.clone(), (t.number, t.title.clone()));
                    t.isrc = Some(code);
                    t.isrc_generated = true;
                    *n += 1;
                    break;
                }
                Err(e) => {
                    cx.error(isrc_pos, e);
                    next = None;
                    break;
                }
            }
        }
        if next.is_none() {
            break;
        }
    }
}

fn isrc_node_pos(track: &Node) -> Pos {
    track
        .as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.name == "isrc"))
        .map_or(track.pos, |(_, v)| v.pos)
}

fn cd_section(cx: &mut Cx, node: &Node) -> Option<CdOptions> {
    let f = settings(cx, node, "cd", CD_KEYS)?;
    let formats = match f.node("formats") {
        None => vec![CdFormat::Ddp, CdFormat::Cue, CdFormat::Toc],
        Some(n) => match &n.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| {
                    choice_value(
                        cx,
                        i,
                        "formats",
                        &[
                            ("ddp", CdFormat::Ddp),
                            ("cue", CdFormat::Cue),
                            ("toc", CdFormat::Toc),
                        ],
                    )
                })
                .collect(),
            other => {
                cx.error(
                    n.pos,
                    format!(
                        "`formats` must be a list such as [ddp, cue, toc], found {}",
                        other.kind()
                    ),
                );
                Vec::new()
            }
        },
    };
    Some(CdOptions {
        gap_s: f.time(cx, "gap_s").unwrap_or(DEFAULT_GAP_S),
        formats,
        cd_text: f.boolean(cx, "cd_text").unwrap_or(true),
        dither: f
            .choice(
                cx,
                "dither",
                &[
                    ("tpdf", Dither::Tpdf),
                    ("shaped", Dither::Shaped),
                    ("none", Dither::None),
                ],
            )
            .unwrap_or(Dither::Tpdf),
        pre_emphasis: f.boolean(cx, "pre_emphasis").unwrap_or(false),
        copy_permitted: f.boolean(cx, "copy_permitted").unwrap_or(false),
    })
}

/// Red Book limits, on the track lengths the sources give.
fn red_book(cx: &mut Cx, tracks: &[Track], nodes: &[&Node], cd: &CdOptions, tracks_pos: Pos) {
    let mut total_frames: u64 = 0;
    let mut known = true;
    for (i, (t, node)) in tracks.iter().zip(nodes).enumerate() {
        let pregap_s = if t.segue && i > 0 {
            0.0
        } else {
            t.pregap_s.unwrap_or(cd.gap_s)
        };
        if i == 0 {
            if t.segue {
                cx.error(
                    node.pos,
                    "track 1 cannot be a segue: nothing comes before it",
                );
            }
            if pregap_s < 2.0 - 1e-9 {
                cx.error(
                    node.pos,
                    format!(
                        "track 1 has a pause of {pregap_s} s before it; a CD needs at least 2 s (150 frames) there"
                    ),
                );
            }
        }
        total_frames += (pregap_s * CD_FRAMES_PER_SECOND).round() as u64;
        match t.duration_s() {
            Some(len) => {
                let frames = (len * CD_FRAMES_PER_SECOND).round() as u64;
                if frames < MIN_TRACK_FRAMES {
                    cx.error(
                        node.pos,
                        format!(
                            "track {} (\"{}\") is {len:.2} s long; a CD track must be at least 4 s",
                            t.number, t.title
                        ),
                    );
                }
                total_frames += frames;
            }
            None => known = false,
        }
    }
    if !known {
        return;
    }
    let msf = super::time::frames_to_msf(total_frames);
    if total_frames > MAX_DISC_FRAMES {
        cx.error(
            tracks_pos,
            format!("the disc runs {msf} (mm:ss:ff); a CD holds at most 79:57:74"),
        );
    } else if total_frames > WARN_DISC_FRAMES {
        cx.warn(
            tracks_pos,
            format!("the disc runs {msf} (mm:ss:ff), past 74:00: some plants and players refuse discs this long"),
        );
    }
}

fn streaming(cx: &mut Cx, node: &Node) -> Vec<BundleSpec> {
    let Value::Seq(items) = &node.value else {
        cx.error(
            node.pos,
            format!(
                "`streaming` must be a list of bundles, found {}",
                node.value.kind()
            ),
        );
        return Vec::new();
    };
    let mut out: Vec<BundleSpec> = Vec::new();
    let mut names: HashMap<String, Pos> = HashMap::new();
    for item in items {
        let Some(f) = fields(cx, item, "streaming bundle", BUNDLE_KEYS) else {
            continue;
        };
        let Some(profile) = f.required_text(cx, "profile") else {
            continue;
        };
        if profile != "custom" && !PROFILE_NAMES.contains(&profile.as_str()) {
            let hint = suggest(&profile, PROFILE_NAMES)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            cx.error(
                f.node("profile").map_or(f.pos, |n| n.pos),
                format!(
                    "unknown streaming profile `{profile}`; {hint}`glassmaster profiles` lists them: {}, custom",
                    PROFILE_NAMES.join(", ")
                ),
            );
            continue;
        }
        let name = f.text(cx, "name");
        if profile == "custom" && name.is_none() {
            cx.error(
                f.pos,
                "a `custom` bundle needs `name`, the folder it is written to",
            );
            continue;
        }
        let name = name.unwrap_or_else(|| profile.clone());
        if name.contains(['/', '\\']) || name.starts_with('.') {
            cx.error(
                f.key_pos("name"),
                format!("bundle name \"{name}\" must be a plain folder name"),
            );
        }
        if let Some(first) = names.get(&name) {
            cx.error(
                f.pos,
                format!(
                    "a second bundle named \"{name}\" (the first is at line {}); give one a `name`",
                    first.line
                ),
            );
        }
        names.insert(name.clone(), f.pos);
        let format = f.choice(
            cx,
            "format",
            &[
                ("wav", AudioFormat::Wav),
                ("flac", AudioFormat::Flac),
                ("mp3", AudioFormat::Mp3),
            ],
        );
        if profile == "custom" && format.is_none() && f.node("format").is_none() {
            f.missing(cx, "format");
        }
        let sample_rate = f.integer(cx, "sample_rate", 1, 768_000).and_then(|r| {
            let r = r as u32;
            if SAMPLE_RATES.contains(&r) {
                Some(r)
            } else {
                cx.error(
                    f.node("sample_rate").map_or(f.pos, |n| n.pos),
                    format!(
                        "sample rate {r} Hz is not one glassmaster delivers; use one of {}",
                        SAMPLE_RATES
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        });
        let bit_depth = f.integer(cx, "bit_depth", 1, 64).and_then(|b| {
            if b == 16 || b == 24 {
                Some(b as u16)
            } else {
                cx.error(
                    f.node("bit_depth").map_or(f.pos, |n| n.pos),
                    format!("bit depth {b} is not delivered; use 16 or 24"),
                );
                None
            }
        });
        let naming = f.text(cx, "naming");
        if let (Some(t), Some(n)) = (&naming, f.node("naming")) {
            if let Err(e) = check_naming(t) {
                cx.error(n.pos, e);
            }
        }
        out.push(BundleSpec {
            profile,
            name,
            format,
            sample_rate,
            bit_depth,
            naming,
            bitrate_kbps: f.integer(cx, "bitrate_kbps", 32, 320).map(|b| b as u32),
            dither: f.choice(
                cx,
                "dither",
                &[
                    ("tpdf", Dither::Tpdf),
                    ("shaped", Dither::Shaped),
                    ("none", Dither::None),
                ],
            ),
            true_peak_dbtp: f.number(cx, "true_peak_dbtp", " dBTP", -20.0, 0.0),
        });
    }
    out
}

/// A naming template: `{field}` or `{field:0N}` placeholders of
/// [`NAMING_FIELDS`], no path separators.
pub fn check_naming(t: &str) -> Result<(), String> {
    if t.contains(['/', '\\']) {
        return Err(format!("naming template \"{t}\" must not contain / or \\"));
    }
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(format!(
                "naming template \"{t}\" has a `{{` that is never closed"
            ));
        };
        let inner = &rest[open + 1..open + close];
        let (field, fmt) = inner.split_once(':').unwrap_or((inner, ""));
        if !NAMING_FIELDS.contains(&field) {
            let hint = suggest(field, NAMING_FIELDS)
                .map(|s| format!("did you mean `{{{s}}}`? "))
                .unwrap_or_default();
            return Err(format!(
                "naming template \"{t}\" uses `{{{field}}}`; {hint}known fields: {}",
                NAMING_FIELDS.join(", ")
            ));
        }
        let zero_pad = fmt.len() == 2 && fmt.starts_with('0') && fmt.as_bytes()[1].is_ascii_digit();
        if !fmt.is_empty() && !zero_pad {
            return Err(format!(
                "naming template \"{t}\": `{{{inner}}}` has an unknown format; use `{{{field}:02}}` to pad with zeros"
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

fn report_section(cx: &mut Cx, node: &Node) -> ReportThresholds {
    let d = ReportThresholds::default();
    let Some(f) = settings(cx, node, "report", REPORT_KEYS) else {
        return d;
    };
    ReportThresholds {
        max_loudness_spread_lu: f
            .number(cx, "max_loudness_spread_lu", " LU", 0.0, 40.0)
            .unwrap_or(d.max_loudness_spread_lu),
        max_true_peak_dbtp: f
            .number(cx, "max_true_peak_dbtp", " dBTP", -20.0, 3.0)
            .unwrap_or(d.max_true_peak_dbtp),
        max_head_silence_s: f
            .number(cx, "max_head_silence_s", " s", 0.0, 600.0)
            .unwrap_or(d.max_head_silence_s),
        max_tail_silence_s: f
            .number(cx, "max_tail_silence_s", " s", 0.0, 600.0)
            .unwrap_or(d.max_tail_silence_s),
        max_plr_deviation_db: f
            .number(cx, "max_plr_deviation_db", " dB", 0.0, 40.0)
            .unwrap_or(d.max_plr_deviation_db),
        max_dc_offset_dbfs: f
            .number(cx, "max_dc_offset_dbfs", " dBFS", -140.0, 0.0)
            .unwrap_or(d.max_dc_offset_dbfs),
        min_correlation: f
            .number(cx, "min_correlation", "", -1.0, 1.0)
            .unwrap_or(d.min_correlation),
        max_clipped_samples: f
            .integer(cx, "max_clipped_samples", 0, i64::MAX)
            .map_or(d.max_clipped_samples, |v| v as u64),
        max_spectral_deviation_db: f
            .number(cx, "max_spectral_deviation_db", " dB", 0.0, 40.0)
            .unwrap_or(d.max_spectral_deviation_db),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("true_peak_dbt", MASTERING_KEYS),
            Some("true_peak_dbtp")
        );
        assert_eq!(suggest("titel", RELEASE_KEYS), Some("title"));
        assert_eq!(suggest("zzzzzz", RELEASE_KEYS), None);
    }

    #[test]
    fn naming_templates() {
        assert!(check_naming("{disc}-{track:02} {artist} - {title}").is_ok());
        assert!(check_naming("{tilte}")
            .unwrap_err()
            .contains("did you mean `{title}`"));
        assert!(check_naming("a/b").is_err());
        assert!(check_naming("{track:x}").is_err());
        assert!(check_naming("{track").is_err());
    }

    #[test]
    fn bare_off_is_the_word_not_false() {
        let text = "glassmaster: 1\nrelease: {title: T, artist: A}\nmastering:\n  loudness_mode: off\ntracks: []\n";
        let root = super::super::raw::parse(text).unwrap();
        let mut cx = Cx {
            file: PathBuf::from("a.yaml"),
            diags: Vec::new(),
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

    #[test]
    fn dates() {
        assert!(check_date("2026-12-04").is_ok());
        assert!(check_date("2024-02-29").is_ok());
        assert!(check_date("2026-02-29").is_err());
        assert!(check_date("2026-13-01").is_err());
        assert!(check_date("26-12-04").is_err());
    }
}
