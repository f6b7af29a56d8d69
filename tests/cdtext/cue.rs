//! A tiny CUE text reader for the tests: CATALOG, TITLE, PERFORMER,
//! SONGWRITER, ISRC, TRACK, FLAGS and INDEX, read as cdrskin and cue2ddp
//! read them, and the CD-Text block they make from it.

use glassmaster::disc::cdtext::{CdText, CdTextBlock, Fields};

/// A CUE sheet's disc and track text, read the way cdrskin and cue2ddp read
/// it: bytes are Latin-1, a quoted value runs to the last quote on the line,
/// an unquoted one is its first word.
#[derive(Debug, Default, Clone)]
pub struct MiniCue {
    pub catalog: Option<String>,
    pub disc: Fields,
    pub tracks: Vec<MiniTrack>,
}

#[derive(Debug, Default, Clone)]
pub struct MiniTrack {
    pub number: u8,
    pub text: Fields,
    pub flags: Vec<String>,
    /// (index number, frames relative to the file start)
    pub indexes: Vec<(u8, u32)>,
}

fn cue_value(rest: &str) -> String {
    let rest = rest.trim();
    if let Some(body) = rest.strip_prefix('"') {
        match body.rfind('"') {
            Some(end) => body[..end].to_string(),
            None => body.to_string(),
        }
    } else {
        rest.split_whitespace().next().unwrap_or("").to_string()
    }
}

pub fn msf(s: &str) -> u32 {
    let p: Vec<u32> = s.split(':').map(|x| x.parse().unwrap()).collect();
    (p[0] * 60 + p[1]) * 75 + p[2]
}

pub fn read_cue(bytes: &[u8]) -> MiniCue {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut cue = MiniCue::default();
    for line in text.lines() {
        let line = line.trim();
        let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let target = match cue.tracks.last_mut() {
            Some(t) => &mut t.text,
            None => &mut cue.disc,
        };
        match cmd {
            "CATALOG" => cue.catalog = Some(cue_value(rest)),
            "TITLE" => target.title = Some(cue_value(rest)),
            "PERFORMER" => target.performer = Some(cue_value(rest)),
            "SONGWRITER" => target.songwriter = Some(cue_value(rest)),
            "ISRC" => target.code = Some(cue_value(rest)),
            "TRACK" => cue.tracks.push(MiniTrack {
                number: rest.split_whitespace().next().unwrap().parse().unwrap(),
                ..MiniTrack::default()
            }),
            "FLAGS" => {
                let t = cue.tracks.last_mut().unwrap();
                t.flags = rest.split_whitespace().map(str::to_string).collect();
            }
            "INDEX" => {
                let mut it = rest.split_whitespace();
                let n = it.next().unwrap().parse().unwrap();
                let at = msf(it.next().unwrap());
                cue.tracks.last_mut().unwrap().indexes.push((n, at));
            }
            _ => {}
        }
    }
    cue
}

/// One Latin-1 English block from a CUE sheet; with `codes` the CATALOG and
/// ISRCs go in 0x8E as cdrskin writes them (cue2ddp leaves them out).
pub fn cdtext_from_cue(cue: &MiniCue, codes: bool) -> CdText {
    let first = cue.tracks.first().unwrap().number;
    let last = cue.tracks.last().unwrap().number;
    let mut block = CdTextBlock::new(first, last);
    block.disc = cue.disc.clone();
    block.disc.code = if codes { cue.catalog.clone() } else { None };
    for (slot, t) in block.tracks.iter_mut().zip(&cue.tracks) {
        *slot = t.text.clone();
        if !codes {
            slot.code = None;
        }
    }
    CdText {
        blocks: vec![block],
    }
}
