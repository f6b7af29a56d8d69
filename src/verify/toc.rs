//! Reads back a cdrdao TOC (`cd/album.toc`) for `verify`: the catalog
//! number and, per track, its ISRC, its span of the image and its index
//! points, in frames from the start of the disc — so that the TOC can be
//! compared with report.json's layout as the CUE sheet and the PQ table
//! are.
//!
//! The syntax is cdrdao's (`man cdrdao`, "TOC files"), the subset a disc
//! image needs and [`crate::disc::toc`] writes: `CATALOG`, the disc and
//! track `CD_TEXT { ... }` blocks (skipped), `TRACK AUDIO`, the flags,
//! `ISRC`, `FILE`/`AUDIOFILE "name" START [LENGTH]`, `START [MSF]` and
//! `INDEX MSF`, times as `MM:SS:FF` or a count of samples. A TOC that
//! inserts audio the image does not hold (`PREGAP`, `SILENCE`, `ZERO`, a
//! second file, a slice that skips or repeats part of the image) does not
//! describe the disc in album.wav and is refused. Errors name the line
//! and the word at fault, never more of the file.

use crate::disc::cue::ReadTrack;

/// Samples in one CD frame.
const FRAME_SAMPLES: u64 = 588;

/// A TOC as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ReadToc {
    pub catalog: Option<String>,
    /// The image file every `FILE` names (one, or the first that differs).
    pub file: Option<String>,
    /// Each track: number, ISRC and `(index, frame)` with index 00 first
    /// when it has a pause, as [`crate::disc::cue::read`] gives them.
    pub tracks: Vec<ReadTrack>,
    /// Each track's end (the next track's start), in frames.
    pub ends: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
}

/// Tokens with their line numbers; `//` comments dropped.
fn lex(text: &str) -> Result<Vec<(usize, Tok)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let c: Vec<char> = line.chars().collect();
        let comment = |i: usize| c[i] == '/' && c.get(i + 1) == Some(&'/');
        let mut i = 0;
        while i < c.len() {
            match c[i] {
                x if x.is_whitespace() || x == ',' => i += 1,
                _ if comment(i) => break,
                '{' => {
                    out.push((n, Tok::Open));
                    i += 1;
                }
                '}' => {
                    out.push((n, Tok::Close));
                    i += 1;
                }
                '"' => {
                    i += 1;
                    let mut s = String::new();
                    loop {
                        let Some(&x) = c.get(i) else {
                            return Err(format!("line {n}: a string is not closed"));
                        };
                        i += 1;
                        match x {
                            '"' => break,
                            '\\' => {
                                let digits: String = c[i..]
                                    .iter()
                                    .take(3)
                                    .take_while(|d| d.is_digit(8))
                                    .collect();
                                if digits.is_empty() {
                                    s.extend(c.get(i));
                                    i += 1;
                                } else {
                                    i += digits.len();
                                    s.extend(u8::from_str_radix(&digits, 8).ok().map(char::from));
                                }
                            }
                            x => s.push(x),
                        }
                    }
                    out.push((n, Tok::Str(s)));
                }
                _ => {
                    let from = i;
                    while i < c.len()
                        && !(c[i].is_whitespace() || matches!(c[i], '{' | '}' | '"' | ','))
                        && !comment(i)
                    {
                        i += 1;
                    }
                    out.push((n, Tok::Word(c[from..i].iter().collect())));
                }
            }
        }
    }
    Ok(out)
}

/// `MM:SS:FF` or a count of samples (a whole number of frames), in frames.
fn time(w: &str) -> Option<u32> {
    if !w.contains(':') {
        let samples: u64 = w.parse().ok()?;
        return samples
            .is_multiple_of(FRAME_SAMPLES)
            .then(|| u32::try_from(samples / FRAME_SAMPLES).ok())
            .flatten();
    }
    let mut p = w.split(':').map(|x| x.parse::<u32>().ok());
    let (m, s, f) = (p.next()??, p.next()??, p.next()??);
    (p.next().is_none() && s < 60 && f < 75).then_some((m * 60 + s) * 75 + f)
}

/// A track being read.
struct Open {
    number: u8,
    isrc: Option<String>,
    /// Disc frame of the track's first sample.
    start: u32,
    /// Frames of audio so far.
    length: u32,
    /// INDEX 01, from the track's start.
    index1: Option<u32>,
    /// Further indexes, from INDEX 01.
    more: Vec<u32>,
}

impl Open {
    fn close(self) -> (ReadTrack, u32) {
        let one = self.index1.unwrap_or(0);
        let mut indexes = Vec::new();
        if one > 0 {
            indexes.push((0, self.start));
        }
        indexes.push((1, self.start + one));
        for (k, f) in self.more.iter().enumerate() {
            indexes.push((k as u8 + 2, self.start + one + f));
        }
        let track = ReadTrack {
            number: self.number,
            isrc: self.isrc,
            indexes,
        };
        (track, self.start + self.length)
    }
}

/// Reads a TOC's text (Latin-1 bytes). `image_frames`: the image's length,
/// for a `FILE` without one.
pub(super) fn read(bytes: &[u8], image_frames: u32) -> Result<ReadToc, String> {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let toks = lex(&text)?;
    let mut toc = ReadToc::default();
    let mut at = 0usize;
    let mut track: Option<Open> = None;
    // The disc frame the next audio comes from.
    let mut pos = 0u32;
    let word = |i: usize| match toks.get(i) {
        Some((_, Tok::Word(w))) => Some(w.as_str()),
        _ => None,
    };
    let string = |i: usize| match toks.get(i) {
        Some((_, Tok::Str(s))) => Some(s.clone()),
        _ => None,
    };
    while at < toks.len() {
        let (line, tok) = &toks[at];
        let err = |m: &str| format!("line {line}: {m}");
        let key = match tok {
            Tok::Word(w) => w.as_str(),
            Tok::Str(_) => return Err(err("a string where a keyword belongs")),
            Tok::Open | Tok::Close => return Err(err("a brace outside CD_TEXT")),
        };
        at += 1;
        match key {
            "CD_DA" | "CD_ROM" | "CD_ROM_XA" | "CD_I" | "COPY" | "PRE_EMPHASIS"
            | "TWO_CHANNEL_AUDIO" | "FOUR_CHANNEL_AUDIO" => {}
            "NO" => at += 1,
            "CATALOG" => {
                toc.catalog = Some(string(at).ok_or_else(|| err("CATALOG without its number"))?);
                at += 1;
            }
            "CD_TEXT" => {
                if !matches!(toks.get(at), Some((_, Tok::Open))) {
                    return Err(err("CD_TEXT without its block"));
                }
                let mut depth = 0usize;
                loop {
                    match toks.get(at) {
                        None => return Err(err("a CD_TEXT block is not closed")),
                        Some((_, Tok::Open)) => depth += 1,
                        Some((_, Tok::Close)) => depth -= 1,
                        _ => {}
                    }
                    at += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            "TRACK" => {
                if word(at) != Some("AUDIO") {
                    return Err(err("a TRACK that is not AUDIO"));
                }
                at += 1;
                if let Some(t) = track.take() {
                    let (t, end) = t.close();
                    toc.tracks.push(t);
                    toc.ends.push(end);
                }
                let number =
                    u8::try_from(toc.tracks.len() + 1).map_err(|_| err("more than 99 tracks"))?;
                track = Some(Open {
                    number,
                    isrc: None,
                    start: pos,
                    length: 0,
                    index1: None,
                    more: Vec::new(),
                });
            }
            _ => {
                let t = track
                    .as_mut()
                    .ok_or_else(|| err(&format!("{} before the first TRACK", shown(key))))?;
                match key {
                    "ISRC" => {
                        t.isrc = Some(string(at).ok_or_else(|| err("ISRC without its code"))?);
                        at += 1;
                    }
                    "FILE" | "AUDIOFILE" => {
                        let name = string(at).ok_or_else(|| err("FILE without its name"))?;
                        at += 1;
                        match &toc.file {
                            None => toc.file = Some(name),
                            Some(f) if *f == name => {}
                            Some(_) => return Err(err("a second image file")),
                        }
                        let from = word(at)
                            .and_then(time)
                            .ok_or_else(|| err("FILE without a start time in frames"))?;
                        at += 1;
                        let len = match word(at).and_then(time) {
                            Some(l) => {
                                at += 1;
                                l
                            }
                            None => image_frames.saturating_sub(from),
                        };
                        if from != pos {
                            return Err(err(&format!(
                                "track {} takes the image from frame {from}, where the disc is at frame {pos}: the TOC skips or repeats part of album.wav",
                                t.number
                            )));
                        }
                        pos += len;
                        t.length += len;
                    }
                    "START" => {
                        let v = match word(at).and_then(time) {
                            Some(v) => {
                                at += 1;
                                v
                            }
                            None => t.length,
                        };
                        t.index1 = Some(v);
                    }
                    "INDEX" => {
                        let v = word(at)
                            .and_then(time)
                            .ok_or_else(|| err("INDEX without a time"))?;
                        at += 1;
                        t.more.push(v);
                    }
                    "PREGAP" | "SILENCE" | "ZERO" => {
                        return Err(err(&format!(
                            "{key} inserts silence that album.wav does not hold"
                        )))
                    }
                    _ => {
                        return Err(err(&format!(
                            "{} is not a TOC keyword of an audio disc",
                            shown(key)
                        )))
                    }
                }
            }
        }
    }
    if let Some(t) = track.take() {
        let (t, end) = t.close();
        toc.tracks.push(t);
        toc.ends.push(end);
    }
    Ok(toc)
}

/// A word for a message: the first few characters of it, escaped.
fn shown(w: &str) -> String {
    let cut: String = w.chars().take(24).collect();
    let more = if cut.len() < w.len() { "..." } else { "" };
    format!("`{}{more}`", cut.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOC: &str = r#"// album.wav holds the whole disc
CD_DA
CATALOG "5012345678900"
CD_TEXT {
  LANGUAGE_MAP {
    0 : EN
  }
  LANGUAGE 0 {
    TITLE "A \"b\" {c} // d"
  }
}

// Track 1
TRACK AUDIO
NO COPY
NO PRE_EMPHASIS
ISRC "GBABC2600001"
CD_TEXT {
  LANGUAGE 0 {
    TITLE "x"
  }
}
FILE "album.wav" 00:00:00 01:02:00
START 00:02:00
INDEX 00:30:00

// Track 2
TRACK AUDIO
NO COPY
NO PRE_EMPHASIS
FILE "album.wav" 01:02:00 00:10:00
"#;

    #[test]
    fn reads_the_layout_as_the_writer_writes_it() {
        let t = read(TOC.as_bytes(), 5100).unwrap();
        assert_eq!(t.catalog.as_deref(), Some("5012345678900"));
        assert_eq!(t.file.as_deref(), Some("album.wav"));
        assert_eq!(t.tracks.len(), 2);
        assert_eq!(t.tracks[0].isrc.as_deref(), Some("GBABC2600001"));
        assert_eq!(t.tracks[0].indexes, [(0, 0), (1, 150), (2, 150 + 2250)]);
        assert_eq!(t.tracks[1].indexes, [(1, 4650)]);
        assert_eq!(t.ends, [4650, 5400]);
    }

    #[test]
    fn reads_the_golden_album_toc() {
        // The 12-track golden TOC (CD-Text with escapes, GENRE bytes,
        // pauses, indexes): every track read, one after another.
        let text = include_str!("../../tests/fixtures/disc/album.toc");
        let t = read(text.as_bytes(), u32::MAX).unwrap();
        assert_eq!(t.tracks.len(), 12);
        assert_eq!(t.catalog.as_deref(), Some("5012345678900"));
        assert_eq!(t.tracks[0].indexes, [(0, 0), (1, 150)]);
        for (k, w) in t.ends.windows(2).enumerate() {
            let next = t.tracks[k + 1].indexes[0].1;
            assert_eq!(w[0], next, "track {} ends where {} starts", k + 1, k + 2);
            assert!(w[1] > w[0]);
        }
    }

    #[test]
    fn refuses_what_album_wav_does_not_hold_naming_the_line() {
        let gap = TOC.replace("NO COPY\nNO PRE_EMPHASIS\nFILE", "PREGAP 00:02:00\nFILE");
        assert!(read(gap.as_bytes(), 5100)
            .unwrap_err()
            .starts_with("line 29:"));
        let skip = TOC.replace("01:02:00 00:10:00", "01:03:00 00:10:00");
        assert!(read(skip.as_bytes(), 5100)
            .unwrap_err()
            .contains("skips or repeats"));
        let e = read(b"TRACK AUDIO\nroot:x:0:0:root:/root:/bin/bash\n", 0).unwrap_err();
        assert!(e.starts_with("line 2:") && !e.contains("/bin/bash"), "{e}");
        assert!(read(b"ISRC \"X\"\n", 0).is_err());
    }
}
