//! The cdrdao TOC of a disc image: `CD_DA`, `CATALOG`, the disc's
//! `CD_TEXT` block with its `LANGUAGE_MAP { 0 : EN }`, then per track
//! `TRACK AUDIO`, the copy and pre-emphasis flags (always both, so the
//! file says what it means), `ISRC`, the track's `CD_TEXT`, and the slice
//! of the one image that the track covers:
//!
//! ```text
//! FILE "album.wav" 00:00:00 04:12:30   // INDEX 00 .. the next track's INDEX 00
//! START 00:02:00                       // the pause, from the slice's start
//! INDEX 03:10:00                       // INDEX 02, from INDEX 01
//! ```
//!
//! Positions and lengths are `mm:ss:ff` (frames of 588 samples), the form
//! cdrdao's own `read-toc` writes; minutes may pass 59. cdrdao measures
//! `INDEX` from the track start (INDEX 01), not counting the pregap, and
//! `START` from the beginning of the track's data.
//!
//! Strings: [`quote`], the one rule for every TOC string. cdrdao's lexer
//! reads `\"` as `"` and `\` plus three octal digits as that byte (`\351`
//! for é, read back as Latin-1), in every version; `\\` means one
//! backslash only since cdrdao 1.2.6 (1.2.4 keeps both, and a value ending
//! in `\\"` never ends), so `\` is written `\134`, which all of them read
//! as `\`. Bytes past ASCII are octal too; a control character becomes a
//! space.
//!
//! Where a CD-Text item is given for the disc or any track, it is written
//! for all of them (an empty string where missing), as cdrdao requires;
//! the disc's `UPC_EAN` goes with the tracks' `ISRC` items.

use std::fmt::Write as _;

use super::cdtext::{Fields, TextField};
use super::layout::DiscLayout;
use super::text::{msf, one_line};

const ITEMS: [(TextField, &str); 6] = [
    (TextField::Title, "TITLE"),
    (TextField::Performer, "PERFORMER"),
    (TextField::Songwriter, "SONGWRITER"),
    (TextField::Composer, "COMPOSER"),
    (TextField::Arranger, "ARRANGER"),
    (TextField::Message, "MESSAGE"),
];

/// The TOC of `layout` for the image file `wav_name` (as it sits beside
/// the TOC), as ASCII bytes.
pub fn write(layout: &DiscLayout, wav_name: &str) -> Vec<u8> {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// {wav_name} holds the whole disc from 00:00:00, track 1's pregap included."
    );
    let _ = writeln!(s, "CD_DA");
    if let Some(m) = &layout.mcn {
        let _ = writeln!(s, "CATALOG {}", quote(m));
    }
    let cdtext = layout.cdtext();
    let block = cdtext.as_ref().map(|c| &c.blocks[0]);
    // Items written: any entry (disc or track) has them.
    let used: Vec<(TextField, &str)> = match block {
        Some(b) => ITEMS
            .into_iter()
            .filter(|(f, _)| {
                b.disc.text(*f).is_some() || b.tracks.iter().any(|t| t.text(*f).is_some())
            })
            .collect(),
        None => Vec::new(),
    };
    let codes = block.is_some_and(|b| b.tracks.iter().any(|t| t.text(TextField::Code).is_some()));
    if let Some(b) = block {
        let _ = writeln!(s, "CD_TEXT {{");
        let _ = writeln!(s, "  LANGUAGE_MAP {{\n    0 : EN\n  }}");
        let _ = writeln!(s, "  LANGUAGE 0 {{");
        items(&mut s, "    ", &used, &b.disc);
        if codes {
            let _ = writeln!(
                s,
                "    UPC_EAN {}",
                quote(b.disc.text(TextField::Code).unwrap_or(""))
            );
        }
        if let Some(g) = &b.genre {
            let mut bytes = vec![(g.code >> 8) as u8, g.code as u8];
            bytes.extend(
                one_line(&g.text)
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
            );
            bytes.push(0);
            let list: Vec<String> = bytes.iter().map(u8::to_string).collect();
            let _ = writeln!(s, "    GENRE {{ {} }}", list.join(", "));
        }
        let _ = writeln!(s, "  }}\n}}");
    }
    for (i, t) in layout.tracks.iter().enumerate() {
        let _ = writeln!(s, "\n// Track {}", t.number);
        if let (0, Some(h)) = (i, &layout.hidden) {
            let _ = writeln!(
                s,
                "// Its pregap holds the hidden track {} from {} for {} frames.",
                quote(&h.title),
                msf(h.start_frame),
                h.frames
            );
        }
        let _ = writeln!(s, "TRACK AUDIO");
        let _ = writeln!(
            s,
            "{}COPY",
            if t.control.copy_permitted { "" } else { "NO " }
        );
        let _ = writeln!(
            s,
            "{}PRE_EMPHASIS",
            if t.control.pre_emphasis { "" } else { "NO " }
        );
        if let Some(isrc) = &t.isrc {
            let _ = writeln!(s, "ISRC {}", quote(isrc));
        }
        if let Some(b) = block {
            let f = &b.tracks[i];
            let _ = writeln!(s, "CD_TEXT {{\n  LANGUAGE 0 {{");
            items(&mut s, "    ", &used, f);
            if codes {
                let _ = writeln!(
                    s,
                    "    ISRC {}",
                    quote(f.text(TextField::Code).unwrap_or(""))
                );
            }
            let _ = writeln!(s, "  }}\n}}");
        }
        let _ = writeln!(
            s,
            "FILE {} {} {}",
            quote(wav_name),
            msf(t.pregap_frame()),
            msf(t.pregap_frames + t.length_frames)
        );
        if t.pregap_frames > 0 {
            let _ = writeln!(s, "START {}", msf(t.pregap_frames));
        }
        for &f in &t.indexes[1..] {
            let _ = writeln!(s, "INDEX {}", msf(f - t.start_frame));
        }
    }
    s.into_bytes()
}

fn items(s: &mut String, indent: &str, used: &[(TextField, &str)], f: &Fields) {
    for (field, name) in used {
        let _ = writeln!(s, "{indent}{name} {}", quote(f.text(*field).unwrap_or("")));
    }
}

/// A cdrdao string: quoted, `"` as `\"`, `\` and every byte past ASCII as
/// three-digit octal (`\134`, `\351`), control characters as spaces,
/// characters past Latin-1 (which the layout has already replaced) as `?`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in one_line(text).chars() {
        match c {
            '"' => out.push_str("\\\""),
            ' '..='~' if c != '\\' => out.push(c),
            _ => match u8::try_from(u32::from(c)) {
                Ok(b) => {
                    let _ = write!(out, "\\{b:03o}");
                }
                Err(_) => out.push('?'),
            },
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting() {
        assert_eq!(quote(r#"A "b" \ café"#), r#""A \"b\" \134 caf\351""#);
        assert_eq!(quote("end\\"), r#""end\134""#);
        assert_eq!(quote("nul\0\n 日"), r#""nul   ?""#);
    }
}
