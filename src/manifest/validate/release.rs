//! The `release:` section: title, artist, UPC, date, language, copyright
//! lines and artwork.

use std::path::{Path, PathBuf};

use super::fields::fields;
use super::Cx;
use crate::manifest::codes::Upc;
use crate::manifest::model::Release;
use crate::manifest::raw::Node;

pub(super) const RELEASE_KEYS: &[&str] = &[
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

pub(super) fn release(cx: &mut Cx, node: &Node, base_dir: &Path) -> Option<Release> {
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

pub(super) fn check_date(d: &str) -> Result<(), &'static str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(check_date("2026-12-04").is_ok());
        assert!(check_date("2024-02-29").is_ok());
        assert!(check_date("2026-02-29").is_err());
        assert!(check_date("2026-13-01").is_err());
        assert!(check_date("26-12-04").is_err());
    }
}
