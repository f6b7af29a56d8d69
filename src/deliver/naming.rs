//! File names from a bundle's naming template, made safe for every file
//! system a store or a distributor's uploader may put them on.
//!
//! A template holds `{field}` or `{field:0N}` placeholders (the fields of
//! [`crate::manifest::validate::NAMING_FIELDS`]); each value is made safe
//! on its own before it goes in, and the whole name once more after, so a
//! title can never add a folder level. Safe means: no path separators or
//! characters Windows forbids (`<>:"/\|?*`), no control characters, no
//! leading dots, no trailing dots or spaces, no Windows reserved device
//! name (`CON`, `NUL`, `COM1`, ...) as the stem, at most 200 bytes. With
//! [`Charset::Strict`] (CD Baby) only ASCII letters, digits, `-` and `_`
//! remain: accented Latin letters lose their accents, spaces and anything
//! else become `_`, runs of `_` fold to one.

use super::profile::Charset;

/// The values a template can use, for one track.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameFields {
    pub disc: u32,
    pub track: u32,
    /// The display artist ("A feat. B").
    pub artist: String,
    pub title: String,
    pub album: String,
    pub isrc: String,
    pub version: String,
    pub album_artist: String,
}

/// Longest name we write, in bytes, extension included.
pub const MAX_NAME_BYTES: usize = 200;

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Checks a template's syntax (the manifest validator's rules).
pub fn check_template(t: &str) -> Result<(), String> {
    crate::manifest::validate::check_naming(t)
}

/// Fills `template` with `fields` and adds `.ext`; the result is a safe
/// single file name. An empty result becomes `track-NN`.
pub fn file_name(template: &str, fields: &NameFields, charset: Charset, ext: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &rest[open + 1..open + close];
        let (field, fmt) = inner.split_once(':').unwrap_or((inner, ""));
        let width = fmt
            .strip_prefix('0')
            .and_then(|w| w.parse::<usize>().ok())
            .unwrap_or(0);
        let value = match field {
            "disc" => format!("{:0width$}", fields.disc),
            "track" => format!("{:0width$}", fields.track),
            "artist" => fields.artist.clone(),
            "title" => fields.title.clone(),
            "album" => fields.album.clone(),
            "isrc" => fields.isrc.clone(),
            "version" => fields.version.clone(),
            "album_artist" => fields.album_artist.clone(),
            _ => String::new(),
        };
        out.push_str(&sanitize_part(&value, charset));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let mut stem = sanitize(&out, charset);
    if stem.is_empty() {
        stem = format!("track-{:02}", fields.track);
    }
    let max = MAX_NAME_BYTES.saturating_sub(ext.len() + 1).max(16);
    if stem.len() > max {
        let mut cut = max;
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        stem.truncate(cut);
        stem = sanitize(&stem, charset);
    }
    format!("{stem}.{ext}")
}

/// One value: separators and forbidden characters replaced, nothing else
/// trimmed (the whole name is trimmed once filled).
fn sanitize_part(s: &str, charset: Charset) -> String {
    s.chars().map(|c| map_char(c, charset)).collect()
}

fn map_char(c: char, charset: Charset) -> char {
    match charset {
        Charset::Any => {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*') {
                if c == ':' || c == '/' || c == '\\' || c == '|' {
                    '-'
                } else {
                    '_'
                }
            } else {
                c
            }
        }
        Charset::Strict => {
            let c = fold_accent(c);
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        }
    }
}

/// Makes a whole file name (without extension) safe.
pub fn sanitize(s: &str, charset: Charset) -> String {
    let mapped: String = s.chars().map(|c| map_char(c, charset)).collect();
    let mut out = String::with_capacity(mapped.len());
    if charset == Charset::Strict {
        for c in mapped.chars() {
            if c == '_' && (out.ends_with('_') || out.is_empty()) {
                continue;
            }
            out.push(c);
        }
        while out.ends_with('_') {
            out.pop();
        }
    } else {
        // Fold runs of white space, drop leading dots and spaces, trailing
        // dots and spaces.
        let mut last_space = false;
        for c in mapped.chars() {
            let space = c.is_whitespace();
            if space && (last_space || out.is_empty()) {
                continue;
            }
            if c == '.' && out.is_empty() {
                continue;
            }
            out.push(if space { ' ' } else { c });
            last_space = space;
        }
        while out.ends_with([' ', '.']) {
            out.pop();
        }
    }
    let stem_upper = out.split('.').next().unwrap_or("").to_ascii_uppercase();
    if RESERVED.contains(&stem_upper.trim_end()) {
        out.insert(0, '_');
    }
    out
}

/// The unaccented ASCII letter of a Latin-1 or Latin Extended-A letter.
fn fold_accent(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    match c {
        'À'..='Å' | 'Ā' | 'Ă' | 'Ą' => 'A',
        'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
        'Ç' | 'Ć' | 'Č' => 'C',
        'ç' | 'ć' | 'č' => 'c',
        'Ď' | 'Đ' => 'D',
        'ď' | 'đ' => 'd',
        'È'..='Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => 'E',
        'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'Ì'..='Ï' | 'Ī' | 'Į' | 'İ' => 'I',
        'ì'..='ï' | 'ī' | 'į' | 'ı' => 'i',
        'Ł' => 'L',
        'ł' => 'l',
        'Ñ' | 'Ń' | 'Ň' => 'N',
        'ñ' | 'ń' | 'ň' => 'n',
        'Ò'..='Ö' | 'Ø' | 'Ō' | 'Ő' => 'O',
        'ò'..='ö' | 'ø' | 'ō' | 'ő' => 'o',
        'Ř' => 'R',
        'ř' => 'r',
        'Ś' | 'Š' | 'Ş' => 'S',
        'ś' | 'š' | 'ş' | 'ß' => 's',
        'Ť' => 'T',
        'ť' => 't',
        'Ù'..='Ü' | 'Ū' | 'Ů' | 'Ű' | 'Ų' => 'U',
        'ù'..='ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'Ý' | 'Ÿ' => 'Y',
        'ý' | 'ÿ' => 'y',
        'Ź' | 'Ż' | 'Ž' => 'Z',
        'ź' | 'ż' | 'ž' => 'z',
        _ => '_',
    }
}
