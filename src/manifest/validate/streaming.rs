//! The `streaming:` bundles: a built-in profile (or `custom`) with the
//! keys that override it, unique folder names, and naming templates.

use std::collections::HashMap;

use super::fields::{fields, suggest};
use super::Cx;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::model::*;
use crate::manifest::raw::{Node, Pos, Value};

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
    "promo-ogg",
    "web-opus",
    "podcast",
    "promo-aac",
    "archive",
];

pub(super) const BUNDLE_KEYS: &[&str] = &[
    "profile",
    "name",
    "format",
    "sample_rate",
    "bit_depth",
    "naming",
    "bitrate_kbps",
    "dither",
    "true_peak_dbtp",
    "ddex",
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
pub(super) const SAMPLE_RATES: &[u32] = &[44_100, 48_000, 88_200, 96_000, 176_400, 192_000];

pub(super) fn streaming(cx: &mut Cx, node: &Node) -> Vec<BundleSpec> {
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
        let errors_before = cx.diags.len();
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
                ("ogg", AudioFormat::Ogg),
                ("opus", AudioFormat::Opus),
                ("aac", AudioFormat::Aac),
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
        // The bundle as `build` resolves it over its profile (an MP3 bit
        // rate or sample rate the format does not have, say), unless the
        // bundle's own keys were refused already.
        let fresh = !cx.diags[errors_before..].iter().any(Diagnostic::is_error);
        if let (Some(spec), true) = (out.last(), fresh) {
            if let Err(e) = crate::deliver::resolve_spec(spec) {
                cx.error(f.pos, e.to_string());
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
