//! Each bundle's `metadata.csv` and `metadata.json`: one row per track
//! with the file, its number and title, every credited artist and role,
//! ISRC, duration, loudness, true peak and the MD5 of the file as written
//! (tags included), and the release's own fields (album title and
//! artist, UPC/EAN, label, catalogue number, release date, genre, © and
//! ℗ lines, explicit) that a store's ingestion sheet asks for: repeated
//! on every CSV row (a spreadsheet filters and sorts rows, so each row
//! stands alone) and once as `release` in the JSON. Rows go in track
//! order; JSON keys are sorted; no clock, no machine-dependent value: the
//! same bundle gives the same bytes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::DeliverError;
use crate::disc::text::{one_line, yes_no};

/// One credited person or group and the role ("artist", "featured",
/// "composer", "lyricist", "arranger", "producer").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub name: String,
    pub role: String,
}

/// The release-level fields of the sheets, as the manifest gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SheetRelease {
    pub title: String,
    pub artist: String,
    /// The 13-digit EAN form of the barcode (a UPC-A with a leading 0).
    pub upc: Option<String>,
    pub label: Option<String>,
    pub catalog_number: Option<String>,
    /// `YYYY-MM-DD`.
    pub release_date: Option<String>,
    pub genre: Option<String>,
    /// The © line.
    pub copyright: Option<String>,
    /// The ℗ line.
    pub phonographic_copyright: Option<String>,
    pub explicit: bool,
}

impl SheetRelease {
    /// The sheet's view of a validated release.
    pub fn of(r: &crate::manifest::model::Release) -> SheetRelease {
        SheetRelease {
            title: r.title.clone(),
            artist: r.artist.clone(),
            upc: r.upc.as_ref().map(|u| u.ean13().to_owned()),
            label: r.label.clone(),
            catalog_number: r.catalog_number.clone(),
            release_date: r.release_date.clone(),
            genre: r.genre.clone(),
            copyright: r.copyright.clone(),
            phonographic_copyright: r.phonographic_copyright.clone(),
            explicit: r.explicit,
        }
    }
}

/// One row of the sheets.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    /// The file's name inside the bundle folder.
    pub file: String,
    pub disc: u32,
    pub number: u32,
    pub title: String,
    pub version: Option<String>,
    /// The display artist ("A feat. B").
    pub artist: String,
    pub credits: Vec<Credit>,
    pub isrc: Option<String>,
    /// The track's or the release's explicit flag.
    pub explicit: bool,
    pub duration_s: f64,
    /// Integrated loudness of the delivered file, LUFS.
    pub integrated_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    /// Lowercase hex MD5 of the file.
    pub md5: String,
}

/// The MD5 of a file as lowercase hex, read in 1 MiB pieces (shared by
/// the sheets and the build's outputs list).
pub fn md5_hex(path: &Path) -> std::io::Result<String> {
    let mut f = crate::fsio::open_regular(path)?;
    let mut ctx = md5::Context::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.consume(&buf[..n]);
    }
    Ok(format!("{:x}", ctx.finalize()))
}

/// The MD5 of a file, read in 1 MiB pieces.
pub fn md5_file(path: &Path) -> Result<String, DeliverError> {
    md5_hex(path).map_err(|e| DeliverError::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn num(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite())
        .map_or(Value::Null, |v| json!(round2(v)))
}

/// Roles joined for the CSV: "Name (role); Name (role)".
fn credits_text(c: &[Credit]) -> String {
    c.iter()
        .map(|c| format!("{} ({})", c.name, c.role))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A CSV field (RFC 4180), the one rule for every CSV we write: control
/// characters become spaces (a NUL stops Python's reader, a line end
/// splits a row in many tools); the field is quoted, `"` doubled, when it
/// holds `,` `"` or `;` (the separator spreadsheets use in many locales)
/// or begins or ends with a space (which some readers trim unquoted).
pub fn csv_field(s: &str) -> String {
    let s = one_line(s);
    if s.contains([',', '"', ';']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn fmt2(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or(String::new(), |v| format!("{v:.2}"))
}

/// The CSV's columns: the track's, then the release's.
pub const CSV_HEADER: &str = "file,disc,number,title,version,artist,credits,isrc,explicit,\
duration_s,integrated_lufs,true_peak_dbtp,md5,album_title,album_artist,upc,label,\
catalog_number,release_date,genre,copyright,phonographic_copyright,album_explicit";

/// The CSV text (header line, then one line per row, `\n` endings).
pub fn csv(release: &SheetRelease, rows: &[SheetRow]) -> String {
    let opt = |x: &Option<String>| csv_field(x.as_deref().unwrap_or(""));
    let album = [
        csv_field(&release.title),
        csv_field(&release.artist),
        opt(&release.upc),
        opt(&release.label),
        opt(&release.catalog_number),
        opt(&release.release_date),
        opt(&release.genre),
        opt(&release.copyright),
        opt(&release.phonographic_copyright),
        yes_no(release.explicit).to_owned(),
    ]
    .join(",");
    let mut s = format!("{CSV_HEADER}\n");
    for r in rows {
        let fields = [
            csv_field(&r.file),
            r.disc.to_string(),
            r.number.to_string(),
            csv_field(&r.title),
            csv_field(r.version.as_deref().unwrap_or("")),
            csv_field(&r.artist),
            csv_field(&credits_text(&r.credits)),
            csv_field(r.isrc.as_deref().unwrap_or("")),
            yes_no(r.explicit).to_owned(),
            format!("{:.3}", r.duration_s),
            fmt2(r.integrated_lufs),
            fmt2(r.true_peak_dbtp),
            csv_field(&r.md5),
            album.clone(),
        ];
        s.push_str(&fields.join(","));
        s.push('\n');
    }
    s
}

/// The JSON document: `{ "bundle": NAME, "profile": P, "release": {...},
/// "tracks": [...] }`, keys sorted, 2-space indent, trailing newline.
pub fn json(bundle: &str, profile: &str, release: &SheetRelease, rows: &[SheetRow]) -> String {
    let tracks: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut m = BTreeMap::new();
            m.insert("file", json!(r.file));
            m.insert("disc", json!(r.disc));
            m.insert("number", json!(r.number));
            m.insert("title", json!(r.title));
            m.insert("version", json!(r.version));
            m.insert("artist", json!(r.artist));
            m.insert(
                "credits",
                Value::Array(
                    r.credits
                        .iter()
                        .map(|c| {
                            let mut m = BTreeMap::new();
                            m.insert("name", json!(c.name));
                            m.insert("role", json!(c.role));
                            json!(m)
                        })
                        .collect(),
                ),
            );
            m.insert("isrc", json!(r.isrc));
            m.insert("explicit", json!(r.explicit));
            m.insert(
                "duration_s",
                json!((r.duration_s * 1000.0).round() / 1000.0),
            );
            m.insert("integrated_lufs", num(r.integrated_lufs));
            m.insert("true_peak_dbtp", num(r.true_peak_dbtp));
            m.insert("md5", json!(r.md5));
            json!(m)
        })
        .collect();
    let mut top = BTreeMap::new();
    top.insert("bundle", json!(bundle));
    top.insert("profile", json!(profile));
    let mut rel = BTreeMap::new();
    rel.insert("title", json!(release.title));
    rel.insert("artist", json!(release.artist));
    rel.insert("upc", json!(release.upc));
    rel.insert("label", json!(release.label));
    rel.insert("catalog_number", json!(release.catalog_number));
    rel.insert("release_date", json!(release.release_date));
    rel.insert("genre", json!(release.genre));
    rel.insert("copyright", json!(release.copyright));
    rel.insert(
        "phonographic_copyright",
        json!(release.phonographic_copyright),
    );
    rel.insert("explicit", json!(release.explicit));
    top.insert("release", json!(rel));
    top.insert("tracks", Value::Array(tracks));
    let mut s = serde_json::to_string_pretty(&top).unwrap_or_default();
    s.push('\n');
    s
}

/// Writes `DIR/metadata.csv` and `DIR/metadata.json`; returns their paths.
pub fn write_sheets(
    dir: &Path,
    bundle: &str,
    profile: &str,
    release: &SheetRelease,
    rows: &[SheetRow],
) -> Result<[PathBuf; 2], DeliverError> {
    let c = dir.join("metadata.csv");
    let j = dir.join("metadata.json");
    for (p, text) in [
        (&c, csv(release, rows)),
        (&j, json(bundle, profile, release, rows)),
    ] {
        std::fs::write(p, text).map_err(|e| DeliverError::Io {
            path: p.clone(),
            source: e,
        })?;
    }
    Ok([c, j])
}
