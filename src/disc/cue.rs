//! The CUE sheet of a disc image: one `FILE "album.wav" WAVE` holding the
//! whole disc from 00:00:00 (track 1's pregap included), so every `INDEX`
//! time is the absolute disc time.
//!
//! Written in CDRWIN's dialect, which libcue, cuetools and shntool read:
//! uppercase commands, `REM GENRE`, `CATALOG`, the disc's `TITLE`/
//! `PERFORMER`/`SONGWRITER`, then per track `FLAGS` (only when DCP or PRE
//! is set), `ISRC` (no dashes), `TITLE`/`PERFORMER`/`SONGWRITER`, then
//! `INDEX 00` when the track has a pause and `INDEX 01`, `02`, ... The
//! other CD-Text fields go into `REM COMPOSER`, `REM ARRANGER` and
//! `REM MESSAGE` lines, as EAC writes them; libcue 2.2 and cuetools skip
//! them as comments (libcue reads only `REM GENRE` of these, and takes the
//! bare `COMPOSER` commands that cuetools rejects). cdrdao's own CUE reader
//! is no judge: it refuses INDEX 02+ in a one-file sheet; use the TOC.
//!
//! Bytes: ISO-8859-1, no BOM, LF line ends. cuebreakpoints, cueprint and
//! shnsplit read the test album's sheet the same with LF or CRLF (checked
//! by hand), so LF wins for being what the TOC, the golden files and Unix
//! tools use.
//!
//! Strings: a CUE sheet has no escape. libcue and cuetools take a string
//! as `"` up to the next `"` not after a `\`, and copy it as it is (no
//! unescaping), so [`quote`] is the one rule for every CUE glassmaster
//! writes (this one and `ddp extract`'s): `"` becomes `'` (the nearest
//! Latin-1 mark), a value ending in `\` gets a space after it (else its
//! closing quote would be read as escaped), a control character becomes
//! a space; everything else, `\` inside a value included, is written and
//! read back as it is. Values are also cut to 80 characters (CDRWIN's
//! limit). Each change comes back as a [`DiscWarning`].

use std::fmt::Write as _;

use super::cdtext::{Fields, TextField};
use super::layout::DiscLayout;
use super::text::{msf, one_line, DiscWarning};

/// Longest value CDRWIN accepts in TITLE, PERFORMER and SONGWRITER.
pub const MAX_VALUE_CHARS: usize = 80;

/// A written sheet: Latin-1 bytes and what had to change to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub bytes: Vec<u8>,
    pub warnings: Vec<DiscWarning>,
}

/// The CUE sheet of `layout` for the image file `wav_name` (the name only,
/// as it sits beside the sheet).
pub fn write(layout: &DiscLayout, wav_name: &str) -> Sheet {
    let mut s = String::new();
    let mut warnings = Vec::new();
    let text = layout.text.as_ref();
    if let Some(g) = text.and_then(|t| t.genre.as_ref()) {
        let v = value(None, "GENRE", &g.text, &mut warnings);
        let _ = writeln!(s, "REM GENRE {v}");
    }
    if let Some(m) = &layout.mcn {
        let _ = writeln!(s, "CATALOG {m}");
    }
    if let Some(t) = text {
        fields(&mut s, "", None, &t.disc, &mut warnings);
    }
    let _ = writeln!(s, "FILE {} WAVE", quote(wav_name).text);
    for (i, t) in layout.tracks.iter().enumerate() {
        let _ = writeln!(s, "  TRACK {:02} AUDIO", t.number);
        let mut flags = Vec::new();
        if t.control.copy_permitted {
            flags.push("DCP");
        }
        if t.control.pre_emphasis {
            flags.push("PRE");
        }
        if t.control.four_channel {
            flags.push("4CH");
        }
        if !flags.is_empty() {
            let _ = writeln!(s, "    FLAGS {}", flags.join(" "));
        }
        if let Some(isrc) = &t.isrc {
            let _ = writeln!(s, "    ISRC {isrc}");
        }
        if let Some(f) = text.and_then(|x| x.tracks.get(i)) {
            fields(&mut s, "    ", Some(t.number), f, &mut warnings);
        }
        for (n, frame) in t.numbered_indexes() {
            let _ = writeln!(s, "    INDEX {n:02} {}", msf(frame));
        }
    }
    Sheet {
        bytes: s.chars().map(latin1_byte).collect(),
        warnings,
    }
}

/// A Latin-1 byte of a character the layout has already made Latin-1.
fn latin1_byte(c: char) -> u8 {
    u8::try_from(u32::from(c)).unwrap_or(b'?')
}

fn fields(
    s: &mut String,
    indent: &str,
    track: Option<u8>,
    f: &Fields,
    warnings: &mut Vec<DiscWarning>,
) {
    for field in [
        TextField::Title,
        TextField::Performer,
        TextField::Songwriter,
        TextField::Composer,
        TextField::Arranger,
        TextField::Message,
    ] {
        let Some(text) = f.text(field) else { continue };
        let v = value(track, field.name(), text, warnings);
        let rem = match field {
            TextField::Title | TextField::Performer | TextField::Songwriter => "",
            _ => "REM ",
        };
        let _ = writeln!(s, "{indent}{rem}{} {v}", field.name());
    }
}

/// A CUE string as [`quote`] writes it, and what it had to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    /// With its quotes.
    pub text: String,
    /// A `"` became `'`.
    pub quote: bool,
    /// A trailing `\` got a space after it.
    pub backslash: bool,
}

/// `text` as a quoted CUE string, the one rule for every CUE sheet
/// glassmaster writes (see the module notes): control characters become
/// spaces, `"` becomes `'`, a trailing `\` gets a space after it.
pub fn quote(text: &str) -> Quoted {
    let mut v = one_line(text).into_owned();
    let quote = v.contains('"');
    if quote {
        v = v.replace('"', "'");
    }
    let backslash = v.ends_with('\\');
    if backslash {
        v.push(' ');
    }
    Quoted {
        text: format!("\"{v}\""),
        quote,
        backslash,
    }
}

/// A value as a CUE sheet can hold it, quoted: at most 80 characters
/// (a trailing `\` at the 80th becomes the space), then [`quote`].
fn value(
    track: Option<u8>,
    field: &'static str,
    text: &str,
    warnings: &mut Vec<DiscWarning>,
) -> String {
    let mut v = text.to_string();
    if v.chars().count() > MAX_VALUE_CHARS {
        let cut: String = v.chars().take(MAX_VALUE_CHARS).collect();
        warnings.push(DiscWarning::Truncated {
            track,
            field,
            from: text.to_string(),
            to: cut.clone(),
        });
        v = cut;
    }
    if v.ends_with('\\') && v.chars().count() == MAX_VALUE_CHARS {
        v.pop();
        v.push(' ');
        warnings.push(DiscWarning::Backslash {
            track,
            field,
            value: text.to_string(),
        });
    }
    let q = quote(&v);
    if q.quote {
        warnings.push(DiscWarning::Quote {
            track,
            field,
            value: text.to_string(),
        });
    }
    if q.backslash {
        warnings.push(DiscWarning::Backslash {
            track,
            field,
            value: text.to_string(),
        });
    }
    q.text
}

// ---------------------------------------------------------------- reading

/// What `verify` reads back from a single-file CUE sheet: the catalogue
/// number, the image file and each track's ISRC and index points (in
/// frames from the start of the file). Lines other than `CATALOG`, `FILE`,
/// `TRACK`, `ISRC` and `INDEX` are passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSheet {
    pub catalog: Option<String>,
    pub files: Vec<String>,
    pub tracks: Vec<ReadTrack>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadTrack {
    pub number: u8,
    pub isrc: Option<String>,
    /// `(index number, frame)` in the order written.
    pub indexes: Vec<(u8, u32)>,
}

/// Reads a CUE sheet's text (Latin-1 bytes). The error names the line.
pub fn read(bytes: &[u8]) -> Result<ReadSheet, String> {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut sheet = ReadSheet::default();
    for (n, line) in text.lines().enumerate() {
        let at = |m: String| format!("line {}: {m}", n + 1);
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        match key {
            "CATALOG" => sheet.catalog = rest.first().map(|s| (*s).to_owned()),
            "FILE" => {
                let quoted = line.split('"').nth(1);
                let name = quoted.or(rest.first().copied()).unwrap_or_default();
                sheet.files.push(name.to_owned());
            }
            "TRACK" => {
                let num = rest
                    .first()
                    .and_then(|s| s.parse::<u8>().ok())
                    .ok_or_else(|| at("TRACK has no track number".into()))?;
                sheet.tracks.push(ReadTrack {
                    number: num,
                    ..ReadTrack::default()
                });
            }
            "ISRC" | "INDEX" => {
                let track = sheet
                    .tracks
                    .last_mut()
                    .ok_or_else(|| at(format!("{key} before the first TRACK")))?;
                if key == "ISRC" {
                    track.isrc = rest.first().map(|s| (*s).to_owned());
                } else {
                    let (Some(i), Some(t)) = (rest.first(), rest.get(1)) else {
                        return Err(at("INDEX is not INDEX NN MM:SS:FF".into()));
                    };
                    let i = i
                        .parse::<u8>()
                        .map_err(|_| at(format!("index number `{i}`")))?;
                    let f =
                        parse_msf(t).ok_or_else(|| at(format!("time `{t}` is not MM:SS:FF")))?;
                    track.indexes.push((i, f));
                }
            }
            _ => {}
        }
    }
    Ok(sheet)
}

/// `MM:SS:FF` → frames.
fn parse_msf(t: &str) -> Option<u32> {
    let mut p = t.split(':').map(|x| x.parse::<u32>().ok());
    let (m, s, f) = (p.next()??, p.next()??, p.next()??);
    (p.next().is_none() && s < 60 && f < 75).then_some((m * 60 + s) * 75 + f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let q = |s| quote(s).text;
        assert_eq!(q(r#"Say "Hi""#), r#""Say 'Hi'""#);
        assert_eq!(q(r"back\"), r#""back\ ""#);
        assert_eq!(q(r"a\b \\"), r#""a\b \\ ""#);
        assert_eq!(q(" it's; a, b "), r#"" it's; a, b ""#);
        assert_eq!(q("tab\tnul\0"), r#""tab nul ""#);
        assert!(quote(r#"x\""#).quote && !quote(r#"x\""#).backslash);
        let mut w = Vec::new();
        let long = format!("{}\\tail", "a".repeat(79));
        assert_eq!(
            value(Some(1), "TITLE", &long, &mut w),
            format!("\"{} \"", "a".repeat(79))
        );
        assert_eq!(w.len(), 2, "{w:?}");
    }

    #[test]
    fn reads_indexes_isrc_and_catalog() {
        let s = read(
            b"REM GENRE \"Pop\"\nCATALOG 5012345678900\nFILE \"album x.wav\" WAVE\n  TRACK 01 AUDIO\n    ISRC GBABC2600001\n    INDEX 00 00:00:00\n    INDEX 01 00:02:00\n  TRACK 02 AUDIO\n    INDEX 01 01:00:74\n",
        )
        .unwrap();
        assert_eq!(s.catalog.as_deref(), Some("5012345678900"));
        assert_eq!(s.files, ["album x.wav"]);
        assert_eq!(s.tracks[0].isrc.as_deref(), Some("GBABC2600001"));
        assert_eq!(s.tracks[0].indexes, [(0, 0), (1, 150)]);
        assert_eq!(s.tracks[1].indexes, [(1, 4574)]);
        assert!(read(b"INDEX 01 00:00:00\n").unwrap_err().contains("line 1"));
        assert!(read(b"TRACK 01 AUDIO\nINDEX 01 00:60:00\n").is_err());
    }
}
