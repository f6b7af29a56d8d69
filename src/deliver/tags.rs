//! Tags for the bundle files, written with lofty after the audio, with
//! MusicBrainz Picard's mapping (see REFERENCES.md, "Streaming
//! deliverables").
//!
//! | field            | FLAC (Vorbis comment)      | MP3 (ID3v2.4)               |
//! |------------------|----------------------------|-----------------------------|
//! | title            | TITLE                      | TIT2                        |
//! | version          | VERSION                    | TIT3                        |
//! | display artist   | ARTIST ("A feat. B")       | TPE1                        |
//! | every artist     | ARTISTS (one per value)    | TXXX:ARTISTS (null-separated)|
//! | album            | ALBUM                      | TALB                        |
//! | album artist     | ALBUMARTIST                | TPE2                        |
//! | track n of N     | TRACKNUMBER, TRACKTOTAL    | TRCK "n/N"                  |
//! | disc n of N      | DISCNUMBER, DISCTOTAL      | TPOS "n/N"                  |
//! | date             | DATE                       | TDRC                        |
//! | genre            | GENRE                      | TCON                        |
//! | ISRC             | ISRC                       | TSRC                        |
//! | barcode          | BARCODE                    | TXXX:BARCODE                |
//! | label            | LABEL                      | TPUB                        |
//! | catalog number   | CATALOGNUMBER              | TXXX:CATALOGNUMBER          |
//! | composer         | COMPOSER                   | TCOM                        |
//! | lyricist         | LYRICIST                   | TEXT                        |
//! | ©                | COPYRIGHT                  | TCOP                        |
//! | ℗                | PRODUCEDNOTICE             | TPRO                        |
//! | explicit         | ITUNESADVISORY (1 or 0)    | TXXX:ITUNESADVISORY         |
//! | language         | LANGUAGE (ISO 639-2)       | TLAN                        |
//! | ReplayGain       | REPLAYGAIN_TRACK_GAIN/PEAK, REPLAYGAIN_ALBUM_GAIN/PEAK | TXXX:REPLAYGAIN_* |
//! | lyrics           | LYRICS                     | USLT                        |
//! | front cover      | PICTURE block, type 3      | APIC, type 3                |
//!
//! ℗ has no Picard tag; Vorbis `PRODUCEDNOTICE` is the name Mp3tag and
//! foobar2000 give the field that ID3 keeps in TPRO, so players that map
//! one map the other. `ITUNESADVISORY` is the name iTunes-aware taggers
//! (Picard's MP4 mapping `rtng`, Mp3tag) use in Vorbis and TXXX.
//!
//! Every value goes through [`tag_text`] first (control characters, NUL
//! above all, become spaces; nothing else changes).
//!
//! ReplayGain values come from the measured masters: gain = -18 − LUFS,
//! written `"-4.12 dB"`; peak is the true peak as a linear factor
//! (`"0.891251"`), an upper bound on the sample peak a player guards.
//!
//! WAV files carry a LIST/INFO chunk only when the profile says
//! `riff_info` (INAM, IART, IPRD, ICRD, IGNR, ICOP, ITRK, ICMT = ISRC).
//! Nothing written here depends on the clock or the machine: lofty writes
//! no date, the Vorbis vendor string is "glassmaster".

use std::path::Path;

use lofty::config::WriteOptions;
use lofty::id3::v2::{
    AttachedPictureFrame, ExtendedTextFrame, Frame, FrameId, Id3v2Tag, TextInformationFrame,
    UnsynchronizedTextFrame,
};
use lofty::iff::wav::RiffInfoList;
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::OggPictureStorage;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::TagExt;
use lofty::TextEncoding;

use super::profile::TagSet;
use super::DeliverError;
use crate::disc::text::one_line;

/// Everything a bundle file is tagged with, for one track. The `build`
/// command fills it from the model; each field says where from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackTags {
    /// `Track::title`.
    pub title: String,
    /// `Track::version` ("Radio Edit").
    pub version: Option<String>,
    /// `Track::artist` (the release artist unless the track gives one).
    pub artist: String,
    /// `Track::featuring`.
    pub featuring: Vec<String>,
    /// `Release::title`.
    pub album: String,
    /// `Release::artist`.
    pub album_artist: String,
    /// The track's position on its disc (1-based).
    pub track_number: u32,
    /// Tracks on that disc.
    pub track_total: u32,
    /// `Track::disc`.
    pub disc_number: u32,
    /// Highest `Track::disc` of the release.
    pub disc_total: u32,
    /// `Release::release_date` (ISO 8601).
    pub date: Option<String>,
    /// `Release::genre`.
    pub genre: Option<String>,
    /// `Track::isrc`, 12 characters without hyphens.
    pub isrc: Option<String>,
    /// `Release::upc`, as given (12 or 13 digits).
    pub barcode: Option<String>,
    /// `Release::label`.
    pub label: Option<String>,
    /// `Release::catalog_number`.
    pub catalog_number: Option<String>,
    /// `Track::composer`.
    pub composer: Option<String>,
    /// `Track::lyricist`.
    pub lyricist: Option<String>,
    /// `Release::copyright` (the © line).
    pub copyright: Option<String>,
    /// `Release::phonographic_copyright` (the ℗ line).
    pub phonographic_copyright: Option<String>,
    /// `Track::explicit || Release::explicit`.
    pub explicit: bool,
    /// `Track::lyrics`.
    pub lyrics: Option<String>,
    /// `Release::language` (ISO 639-1).
    pub language: Option<String>,
    /// From the measured masters; `None` writes no ReplayGain tags.
    pub replay_gain: Option<ReplayGain>,
}

/// A tag value as every tag writer here stores it, the one rule for
/// ID3v2 text frames, Vorbis comments and RIFF INFO: control characters
/// become spaces (NUL above all: it ends a value in ID3v2 and RIFF, and
/// separates ID3v2.4's multiple values), except, in `multiline` values
/// (lyrics), line ends, which become `\n`, and tabs. Everything else is
/// kept as it is: the frames are UTF-8 (Vorbis, ID3v2.4), quotes,
/// backslashes and spaces at either end need no escape.
pub fn tag_text(s: &str, multiline: bool) -> String {
    if !multiline {
        return one_line(s).into_owned();
    }
    let s = s.replace("\r\n", "\n");
    s.chars()
        .map(|c| match c {
            '\r' => '\n',
            '\n' | '\t' => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

impl TrackTags {
    /// Every text through [`tag_text`] (lyrics as `multiline`): what the
    /// writers store.
    pub fn cleaned(&self) -> TrackTags {
        let one = |s: &String| tag_text(s, false);
        let opt = |s: &Option<String>| s.as_deref().map(|v| tag_text(v, false));
        TrackTags {
            title: one(&self.title),
            version: opt(&self.version),
            artist: one(&self.artist),
            featuring: self.featuring.iter().map(one).collect(),
            album: one(&self.album),
            album_artist: one(&self.album_artist),
            date: opt(&self.date),
            genre: opt(&self.genre),
            isrc: opt(&self.isrc),
            barcode: opt(&self.barcode),
            label: opt(&self.label),
            catalog_number: opt(&self.catalog_number),
            composer: opt(&self.composer),
            lyricist: opt(&self.lyricist),
            copyright: opt(&self.copyright),
            phonographic_copyright: opt(&self.phonographic_copyright),
            lyrics: self.lyrics.as_deref().map(|v| tag_text(v, true)),
            language: opt(&self.language),
            ..self.clone()
        }
    }

    /// "A feat. B", "A feat. B & C", "A feat. B, C & D".
    pub fn display_artist(&self) -> String {
        display_artist(&self.artist, &self.featuring)
    }

    /// The main artist then the featured ones, one value each.
    pub fn artists(&self) -> Vec<String> {
        std::iter::once(self.artist.clone())
            .chain(self.featuring.iter().cloned())
            .collect()
    }
}

/// The display artist of a track with featured artists.
pub fn display_artist(artist: &str, featuring: &[String]) -> String {
    match featuring {
        [] => artist.to_owned(),
        [one] => format!("{artist} feat. {one}"),
        [rest @ .., last] => format!("{artist} feat. {} & {last}", rest.join(", ")),
    }
}

/// ReplayGain 2.0 figures of a track and its album.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayGain {
    pub track_gain_db: f64,
    /// Linear.
    pub track_peak: f64,
    pub album_gain_db: f64,
    /// Linear.
    pub album_peak: f64,
}

/// ReplayGain 2.0's reference loudness, LUFS.
pub const REPLAYGAIN_REFERENCE_LUFS: f64 = -18.0;

impl ReplayGain {
    /// From integrated loudness (LUFS) and true peak (dBTP) of the track
    /// and the album.
    pub fn from_loudness(
        track_lufs: f64,
        track_peak_dbtp: f64,
        album_lufs: f64,
        album_peak_dbtp: f64,
    ) -> ReplayGain {
        ReplayGain {
            track_gain_db: REPLAYGAIN_REFERENCE_LUFS - track_lufs,
            track_peak: 10f64.powf(track_peak_dbtp / 20.0),
            album_gain_db: REPLAYGAIN_REFERENCE_LUFS - album_lufs,
            album_peak: 10f64.powf(album_peak_dbtp / 20.0),
        }
    }

    /// The four tags, `(KEY, value)`, as written.
    pub fn fields(&self) -> [(&'static str, String); 4] {
        [
            ("REPLAYGAIN_TRACK_GAIN", format_gain(self.track_gain_db)),
            ("REPLAYGAIN_TRACK_PEAK", format!("{:.6}", self.track_peak)),
            ("REPLAYGAIN_ALBUM_GAIN", format_gain(self.album_gain_db)),
            ("REPLAYGAIN_ALBUM_PEAK", format!("{:.6}", self.album_peak)),
        ]
    }
}

/// "-4.12 dB" (never "-0.00").
pub fn format_gain(db: f64) -> String {
    let s = format!("{db:.2}");
    if s == "-0.00" {
        "0.00 dB".into()
    } else {
        format!("{s} dB")
    }
}

/// ISO 639-2/B code of an ISO 639-1 code, for the languages most releases
/// use; `None` for the rest.
pub fn iso639_2(code: &str) -> Option<&'static str> {
    Some(match code.to_ascii_lowercase().as_str() {
        "en" => "eng",
        "de" => "ger",
        "fr" => "fre",
        "es" => "spa",
        "it" => "ita",
        "pt" => "por",
        "nl" => "dut",
        "sv" => "swe",
        "no" | "nb" | "nn" => "nor",
        "da" => "dan",
        "fi" => "fin",
        "pl" => "pol",
        "cs" => "cze",
        "ru" => "rus",
        "uk" => "ukr",
        "ja" => "jpn",
        "ko" => "kor",
        "zh" => "chi",
        "ar" => "ara",
        "he" => "heb",
        "hi" => "hin",
        "tr" => "tur",
        "el" => "gre",
        "hu" => "hun",
        "is" => "ice",
        "ga" => "gle",
        "cy" => "wel",
        "la" => "lat",
        _ => return None,
    })
}

/// The Vorbis comments of a track, `(KEY, value)` in writing order.
pub fn vorbis_fields(t: &TrackTags) -> Vec<(&'static str, String)> {
    let t = &t.cleaned();
    let mut v: Vec<(&'static str, String)> = Vec::new();
    let mut opt = |k: &'static str, x: &Option<String>| {
        if let Some(s) = x.as_ref().filter(|s| !s.is_empty()) {
            v.push((k, s.clone()));
        }
    };
    opt("TITLE", &Some(t.title.clone()));
    opt("VERSION", &t.version);
    opt("ARTIST", &Some(t.display_artist()));
    opt("ALBUM", &Some(t.album.clone()));
    opt("ALBUMARTIST", &Some(t.album_artist.clone()));
    opt("TRACKNUMBER", &Some(t.track_number.to_string()));
    opt("TRACKTOTAL", &Some(t.track_total.to_string()));
    opt("DISCNUMBER", &Some(t.disc_number.to_string()));
    opt("DISCTOTAL", &Some(t.disc_total.to_string()));
    opt("DATE", &t.date);
    opt("GENRE", &t.genre);
    opt("ISRC", &t.isrc);
    opt("BARCODE", &t.barcode);
    opt("LABEL", &t.label);
    opt("CATALOGNUMBER", &t.catalog_number);
    opt("COMPOSER", &t.composer);
    opt("LYRICIST", &t.lyricist);
    opt("COPYRIGHT", &t.copyright);
    opt("PRODUCEDNOTICE", &t.phonographic_copyright);
    opt(
        "ITUNESADVISORY",
        &Some(if t.explicit { "1" } else { "0" }.to_string()),
    );
    opt(
        "LANGUAGE",
        &t.language.as_deref().and_then(iso639_2).map(str::to_owned),
    );
    opt("LYRICS", &t.lyrics);
    for a in t.artists() {
        if !a.is_empty() {
            v.push(("ARTISTS", a));
        }
    }
    if let Some(rg) = &t.replay_gain {
        for (k, val) in rg.fields() {
            v.push((k, val));
        }
    }
    v
}

fn tag_err(path: &Path, e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Tags {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn front_cover(jpeg: &[u8]) -> Picture {
    Picture::unchecked(jpeg.to_vec())
        .pic_type(PictureType::CoverFront)
        .mime_type(MimeType::Jpeg)
        .build()
}

/// Writes `tags` (and the cover, a JPEG, where the tag set embeds one)
/// into the finished file at `path`.
pub fn write_tags(
    path: &Path,
    set: TagSet,
    tags: &TrackTags,
    cover_jpeg: Option<&[u8]>,
) -> Result<(), DeliverError> {
    let opts = WriteOptions::default();
    match set {
        TagSet::None => Ok(()),
        TagSet::Mp4 => super::mp4tags::write_mp4_tags(path, tags, cover_jpeg),
        TagSet::Vorbis => {
            let mut vc = VorbisComments::new();
            vc.set_vendor("glassmaster".into());
            for (k, v) in vorbis_fields(tags) {
                vc.push(k.to_string(), v);
            }
            if let Some(jpeg) = cover_jpeg {
                vc.insert_picture(front_cover(jpeg), None)
                    .map_err(|e| tag_err(path, e))?;
            }
            vc.save_to_path(path, opts).map_err(|e| tag_err(path, e))
        }
        TagSet::Id3v24 => {
            let tag = id3_tag(tags, cover_jpeg);
            tag.save_to_path(path, opts).map_err(|e| tag_err(path, e))
        }
        TagSet::RiffInfo => {
            let tags = &tags.cleaned();
            let mut info = RiffInfoList::default();
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v.filter(|s| !s.is_empty()) {
                    info.insert(k.to_string(), v);
                }
            };
            put("INAM", Some(tags.title.clone()));
            put("IART", Some(tags.display_artist()));
            put("IPRD", Some(tags.album.clone()));
            put("ICRD", tags.date.clone());
            put("IGNR", tags.genre.clone());
            put("ICOP", tags.copyright.clone());
            put("ITRK", Some(tags.track_number.to_string()));
            put("ICMT", tags.isrc.as_ref().map(|i| format!("ISRC {i}")));
            info.save_to_path(path, opts).map_err(|e| tag_err(path, e))
        }
    }
}

fn text(id: &'static str, value: impl Into<String>) -> Frame<'static> {
    Frame::Text(TextInformationFrame::new(
        FrameId::Valid(id.into()),
        TextEncoding::UTF8,
        value.into(),
    ))
}

fn user(desc: &'static str, value: impl Into<String>) -> Frame<'static> {
    Frame::UserText(ExtendedTextFrame::new(
        TextEncoding::UTF8,
        desc,
        value.into(),
    ))
}

/// The ID3v2.4 tag of a track.
pub fn id3_tag(t: &TrackTags, cover_jpeg: Option<&[u8]>) -> Id3v2Tag {
    let t = &t.cleaned();
    let mut tag = Id3v2Tag::new();
    let mut put = |f: Frame<'static>| {
        tag.insert(f);
    };
    let some = |x: &Option<String>| x.clone().filter(|s| !s.is_empty());
    put(text("TIT2", t.title.clone()));
    if let Some(v) = some(&t.version) {
        put(text("TIT3", v));
    }
    put(text("TPE1", t.display_artist()));
    put(text("TALB", t.album.clone()));
    put(text("TPE2", t.album_artist.clone()));
    put(text(
        "TRCK",
        format!("{}/{}", t.track_number, t.track_total),
    ));
    put(text("TPOS", format!("{}/{}", t.disc_number, t.disc_total)));
    if let Some(d) = some(&t.date) {
        put(text("TDRC", d));
    }
    if let Some(g) = some(&t.genre) {
        put(text("TCON", g));
    }
    if let Some(i) = some(&t.isrc) {
        put(text("TSRC", i));
    }
    if let Some(l) = some(&t.label) {
        put(text("TPUB", l));
    }
    if let Some(c) = some(&t.composer) {
        put(text("TCOM", c));
    }
    if let Some(l) = some(&t.lyricist) {
        put(text("TEXT", l));
    }
    if let Some(c) = some(&t.copyright) {
        put(text("TCOP", c));
    }
    if let Some(p) = some(&t.phonographic_copyright) {
        put(text("TPRO", p));
    }
    let lang = t.language.as_deref().and_then(iso639_2);
    if let Some(l) = lang {
        put(text("TLAN", l));
    }
    if let Some(b) = some(&t.barcode) {
        put(user("BARCODE", b));
    }
    if let Some(c) = some(&t.catalog_number) {
        put(user("CATALOGNUMBER", c));
    }
    put(user("ITUNESADVISORY", if t.explicit { "1" } else { "0" }));
    put(user("ARTISTS", t.artists().join("\0")));
    if let Some(rg) = &t.replay_gain {
        for (k, v) in rg.fields() {
            put(user(k, v));
        }
    }
    if let Some(l) = some(&t.lyrics) {
        let code = lang.unwrap_or("XXX").as_bytes();
        let lang = [code[0], code[1], code[2]];
        put(Frame::UnsynchronizedText(UnsynchronizedTextFrame::new(
            TextEncoding::UTF8,
            lang,
            String::new(),
            l,
        )));
    }
    if let Some(jpeg) = cover_jpeg {
        put(Frame::Picture(AttachedPictureFrame::new(
            TextEncoding::UTF8,
            front_cover(jpeg),
        )));
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_text_keeps_all_but_controls() {
        let s = " \"Q\" back\\ it's; a, 日本 🎸 ";
        assert_eq!(tag_text(s, false), s);
        assert_eq!(tag_text("a\0b\nc", false), "a b c");
        assert_eq!(tag_text("l1\r\nl2\rl3\0\tx", true), "l1\nl2\nl3 \tx");
    }

    #[test]
    fn a_nul_never_reaches_a_frame() {
        let t = TrackTags {
            title: "cut\0here".into(),
            artist: "A\0B".into(),
            featuring: vec!["C".into()],
            ..TrackTags::default()
        };
        assert!(vorbis_fields(&t).iter().all(|(_, v)| !v.contains('\0')));
        let tag = id3_tag(&t, None);
        assert_eq!(
            tag.get_text(&FrameId::Valid("TIT2".into())),
            Some("cut here")
        );
        // ARTISTS keeps NUL as the separator between whole names only.
        assert_eq!(tag.get_user_text("ARTISTS"), Some("A B\0C"));
    }
}
