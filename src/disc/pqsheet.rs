//! The PQ sheet a pressing plant asks for: every track and index with its
//! absolute time, its time within the track, the length until the next
//! index, ISRC, the copy and emphasis flags stated on every row ("yes" or
//! "no", never a blank a plant could read as unknown) and CD-Text, then
//! the lead-out; the header carries the MCN, the catalogue number and the
//! DDP checksum (the MD5 of `IMAGE.DAT`), and says that times are
//! `mm:ss:ff` (75 frames a second), not hours:minutes:seconds. As plain text
//! (`pq-sheet.txt`) and as self-contained printable HTML
//! (`pq-sheet.html`, rendered with minijinja from
//! `templates/pq-sheet.html`, compiled into the binary).
//!
//! Text goes through [`one_line`] (a control character becomes a space),
//! so each row stays one line; the HTML is escaped by minijinja (the
//! template's `.html` name turns its HTML auto-escape on).
//!
//! A hidden track (HTOA) is named in the header with where it starts in
//! track 1's pregap and how long it runs to INDEX 01.
//!
//! No clock: the same layout gives the same bytes.

use std::fmt::Write as _;

use minijinja::Environment;
use serde::Serialize;

use super::cdtext::TextField;
use super::layout::DiscLayout;
use super::text::{msf, one_line, yes_no};

const TEMPLATE: &str = include_str!("../../templates/pq-sheet.html");

/// What the times mean, on both sheets.
pub const TIME_NOTE: &str = "Times are mm:ss:ff (minutes:seconds:frames, 75 frames a second) \
from 00:00:00, track 1's pregap included.";
/// What the flag columns mean, on both sheets.
pub const FLAG_NOTE: &str = "COPY: digital copy permitted (DCP flag); \
EMPH: pre-emphasis (PRE flag).";

/// The sheet's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PqSheet {
    pub title: String,
    pub artist: String,
    /// 13 digits or empty.
    pub mcn: String,
    /// The release's catalogue number, or empty.
    pub catalog_number: String,
    /// Lowercase hex MD5 of the DDP's `IMAGE.DAT`; empty when no DDP was
    /// written (set by the author once the DDP is whole).
    pub ddp_md5: String,
    pub track_count: usize,
    /// The lead-out, `mm:ss:ff`.
    pub total: String,
    pub total_frames: u32,
    pub rows: Vec<PqRow>,
    /// Hidden track one audio in track 1's pregap, when there is one.
    pub hidden: Option<PqHidden>,
}

/// The hidden track (HTOA): where it starts in track 1's pregap, and how
/// long it runs to INDEX 01.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PqHidden {
    pub title: String,
    /// `mm:ss:ff` from 00:00:00.
    pub start: String,
    pub start_frame: u32,
    /// To track 1's INDEX 01, `mm:ss:ff`.
    pub length: String,
}

/// One index of one track, or the lead-out (`track` "AA").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PqRow {
    /// "01".."99", "AA" for the lead-out.
    pub track: String,
    /// "00".."99"; "01" for the lead-out.
    pub index: String,
    /// Absolute time from 00:00:00.
    pub absolute: String,
    pub frame: u32,
    /// Time from the track's INDEX 01 ("-00:02:00" for a pause).
    pub relative: String,
    /// Until the next index or the lead-out; empty for the lead-out.
    pub length: String,
    pub isrc: String,
    /// "PRE", "DCP", "PRE DCP" or empty.
    pub flags: String,
    /// "yes" when digital copy is permitted (DCP), else "no"; empty for
    /// the lead-out.
    pub copy: String,
    /// "yes" when the audio has pre-emphasis (PRE), else "no"; empty for
    /// the lead-out.
    pub emphasis: String,
    pub title: String,
    pub performer: String,
    /// True on the track's first row (where title and ISRC are shown).
    pub first: bool,
}

impl PqSheet {
    /// The sheet of `layout`; the disc title and artist come from its
    /// CD-Text, else from `title` and `artist`.
    pub fn new(layout: &DiscLayout, title: &str, artist: &str) -> PqSheet {
        let text = layout.text.as_ref();
        let disc = |f, fallback: &str| {
            one_line(text.and_then(|t| t.disc.text(f)).unwrap_or(fallback)).into_owned()
        };
        let mut points: Vec<(usize, u8, u32)> = Vec::new();
        for (i, t) in layout.tracks.iter().enumerate() {
            for (n, f) in t.numbered_indexes() {
                points.push((i, n, f));
            }
        }
        let mut rows = Vec::with_capacity(points.len() + 1);
        for (k, &(i, n, frame)) in points.iter().enumerate() {
            let t = &layout.tracks[i];
            let next = points.get(k + 1).map_or(layout.total_frames, |p| p.2);
            let fields = text.and_then(|x| x.tracks.get(i));
            let field =
                |f| one_line(fields.and_then(|x| x.text(f)).unwrap_or_default()).into_owned();
            let mut flags = Vec::new();
            if t.control.pre_emphasis {
                flags.push("PRE");
            }
            if t.control.copy_permitted {
                flags.push("DCP");
            }
            let relative = if frame < t.start_frame {
                format!("-{}", msf(t.start_frame - frame))
            } else {
                msf(frame - t.start_frame)
            };
            let first = k == 0 || points[k - 1].0 != i;
            rows.push(PqRow {
                track: format!("{:02}", t.number),
                index: format!("{n:02}"),
                absolute: msf(frame),
                frame,
                relative,
                length: msf(next - frame),
                isrc: t.isrc.clone().unwrap_or_default(),
                flags: flags.join(" "),
                copy: yes_no(t.control.copy_permitted).into(),
                emphasis: yes_no(t.control.pre_emphasis).into(),
                title: field(TextField::Title),
                performer: field(TextField::Performer),
                first,
            });
        }
        rows.push(PqRow {
            track: "AA".into(),
            index: "01".into(),
            absolute: msf(layout.total_frames),
            frame: layout.total_frames,
            relative: String::new(),
            length: String::new(),
            isrc: String::new(),
            flags: String::new(),
            copy: String::new(),
            emphasis: String::new(),
            title: "lead-out".into(),
            performer: String::new(),
            first: true,
        });
        PqSheet {
            title: disc(TextField::Title, title),
            artist: disc(TextField::Performer, artist),
            mcn: layout.mcn.clone().unwrap_or_default(),
            catalog_number: String::new(),
            ddp_md5: String::new(),
            track_count: layout.tracks.len(),
            total: msf(layout.total_frames),
            total_frames: layout.total_frames,
            rows,
            hidden: layout.hidden.as_ref().map(|h| PqHidden {
                title: one_line(&h.title).into_owned(),
                start: msf(h.start_frame),
                start_frame: h.start_frame,
                length: msf(h.frames),
            }),
        }
    }

    /// Plain text: a header and one fixed-width line per row (Latin-1
    /// characters, written by the caller as UTF-8).
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "PQ SHEET");
        let _ = writeln!(s, "Title:     {}", self.title);
        let _ = writeln!(s, "Artist:    {}", self.artist);
        let mcn = if self.mcn.is_empty() {
            "none"
        } else {
            self.mcn.as_str()
        };
        let _ = writeln!(s, "MCN (UPC): {mcn}");
        let or_none = |v: &str, none: &'static str| {
            if v.is_empty() {
                none.to_owned()
            } else {
                v.to_owned()
            }
        };
        let _ = writeln!(s, "Catalog:   {}", or_none(&self.catalog_number, "none"));
        let _ = writeln!(s, "DDP MD5:   {}", or_none(&self.ddp_md5, "no DDP written"));
        let _ = writeln!(s, "Tracks:    {}", self.track_count);
        let _ = writeln!(
            s,
            "Total:     {} mm:ss:ff ({} frames, lead-out)",
            self.total, self.total_frames
        );
        if let Some(h) = &self.hidden {
            let _ = writeln!(
                s,
                "Hidden:    {} (in track 01's pregap, from {} for {}, to INDEX 01)",
                h.title, h.start, h.length
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "{TIME_NOTE}");
        let _ = writeln!(s, "{FLAG_NOTE}");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "TRK IDX  ABSOLUTE  RELATIVE   LENGTH    ISRC          COPY EMPH  TITLE / PERFORMER"
        );
        for r in &self.rows {
            let (isrc, text) = if r.first {
                let who = if r.performer.is_empty() {
                    r.title.clone()
                } else {
                    format!("{} / {}", r.title, r.performer)
                };
                (r.isrc.as_str(), who)
            } else {
                ("", String::new())
            };
            let line = format!(
                "{:<3} {:<3}  {:<8}  {:<9}  {:<8}  {:<12}  {:<4} {:<4}  {}",
                r.track, r.index, r.absolute, r.relative, r.length, isrc, r.copy, r.emphasis, text
            );
            let _ = writeln!(s, "{}", line.trim_end());
        }
        s
    }

    /// Self-contained HTML (inline CSS), printable.
    pub fn html(&self) -> Result<String, minijinja::Error> {
        let mut env = Environment::new();
        env.add_template("pq-sheet.html", TEMPLATE)?;
        env.get_template("pq-sheet.html")?
            .render(minijinja::context! {
                time_note => TIME_NOTE,
                flag_note => FLAG_NOTE,
                ..minijinja::Value::from(minijinja::value::Serde(self))
            })
    }
}
