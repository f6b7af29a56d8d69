//! iTunes tags (`moov.udta.meta.ilst`) of the AAC bundle files, with
//! MusicBrainz Picard's MP4 mapping, written by lofty into the `ilst` the
//! muxer left (which keeps its `©too` and `iTunSMPB`).
//!
//! | field            | MP4 item                                         |
//! |------------------|--------------------------------------------------|
//! | title            | `©nam`                                           |
//! | version          | `----:com.apple.iTunes:SUBTITLE` (Picard's subtitle, ID3 TIT3) |
//! | display artist   | `©ART` ("A feat. B")                             |
//! | every artist     | `----:com.apple.iTunes:ARTISTS` (one value each) |
//! | album, album artist | `©alb`, `aART`                                |
//! | track n of N, disc n of N | `trkn`, `disk`                          |
//! | date, genre      | `©day`, `©gen`                                   |
//! | ISRC, barcode    | `----:com.apple.iTunes:ISRC`, `:BARCODE`         |
//! | label, catalog number | `----:com.apple.iTunes:LABEL`, `:CATALOGNUMBER` |
//! | composer, lyricist | `©wrt`, `----:com.apple.iTunes:LYRICIST`       |
//! | ©                | `cprt` (the ℗ line when there is no © line)      |
//! | explicit         | `rtng` 1 (explicit) or 0 (none)                  |
//! | language         | `----:com.apple.iTunes:LANGUAGE` (ISO 639-2)     |
//! | lyrics           | `©lyr`                                           |
//! | ReplayGain       | `----:com.apple.iTunes:REPLAYGAIN_TRACK_GAIN` ... (Picard's and rsgain's upper case) |
//! | Sound Check      | `----:com.apple.iTunes:iTunNORM`                 |
//! | front cover      | `covr` (JPEG)                                    |
//!
//! `iTunNORM` is Apple's Sound Check value as foobar2000 and mp3gain derive
//! it from the ReplayGain track gain G: the first four words are
//! `1000·10^(-G/10)` and `2500·10^(-G/10)` (both channels, capped at
//! 65534), the peaks (words 7 and 8) the track peak in 16-bit units, the
//! rest 0. Values go through [`super::tags::tag_text`] as in the other
//! tag sets.

use std::borrow::Cow;
use std::path::Path;

use lofty::config::{ParseOptions, WriteOptions};
use lofty::file::AudioFile;
use lofty::mp4::{AdvisoryRating, Atom, AtomData, AtomIdent, Ilst, Mp4File};
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::{Accessor, TagExt};

use super::tags::{iso639_2, ReplayGain, TrackTags};
use super::DeliverError;

const ITUNES: &str = "com.apple.iTunes";

fn tag_err(path: &Path, e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Tags {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn text(ilst: &mut Ilst, fourcc: &[u8; 4], value: &str) {
    if !value.is_empty() {
        ilst.replace_atom(Atom::new(
            AtomIdent::Fourcc(*fourcc),
            AtomData::UTF8(value.to_owned()),
        ));
    }
}

fn freeform(ilst: &mut Ilst, name: &'static str, values: Vec<String>) {
    let data: Vec<AtomData> = values
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(AtomData::UTF8)
        .collect();
    let ident = AtomIdent::Freeform {
        mean: Cow::Borrowed(ITUNES),
        name: Cow::Borrowed(name),
    };
    if let Some(atom) = Atom::from_collection(ident, data) {
        ilst.replace_atom(atom);
    }
}

/// Apple's Sound Check words from a ReplayGain track gain and peak.
pub fn itunnorm(rg: &ReplayGain) -> String {
    let scale = 10f64.powf(-rg.track_gain_db / 10.0);
    let a = (1000.0 * scale).round().min(65534.0) as u32;
    let b = (2500.0 * scale).round().min(65534.0) as u32;
    let peak = (rg.track_peak * 32768.0).round().min(32767.0) as u32;
    [a, a, b, b, 0, 0, peak, peak, 0, 0]
        .iter()
        .map(|v| format!(" {v:08X}"))
        .collect()
}

/// The `ilst` items of a track laid over `ilst` (what the muxer wrote).
pub fn fill_ilst(ilst: &mut Ilst, t: &TrackTags, cover_jpeg: Option<&[u8]>) {
    let t = &t.cleaned();
    let opt = |x: &Option<String>| x.clone().unwrap_or_default();
    text(ilst, b"\xA9nam", &t.title);
    freeform(ilst, "SUBTITLE", vec![opt(&t.version)]);
    text(ilst, b"\xA9ART", &t.display_artist());
    freeform(ilst, "ARTISTS", t.artists());
    text(ilst, b"\xA9alb", &t.album);
    text(ilst, b"aART", &t.album_artist);
    ilst.set_track(t.track_number);
    ilst.set_track_total(t.track_total);
    ilst.set_disk(t.disc_number);
    ilst.set_disk_total(t.disc_total);
    text(ilst, b"\xA9day", &opt(&t.date));
    text(ilst, b"\xA9gen", &opt(&t.genre));
    freeform(ilst, "ISRC", vec![opt(&t.isrc)]);
    freeform(ilst, "BARCODE", vec![opt(&t.barcode)]);
    freeform(ilst, "LABEL", vec![opt(&t.label)]);
    freeform(ilst, "CATALOGNUMBER", vec![opt(&t.catalog_number)]);
    text(ilst, b"\xA9wrt", &opt(&t.composer));
    freeform(ilst, "LYRICIST", vec![opt(&t.lyricist)]);
    let copyright = t
        .copyright
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| t.phonographic_copyright.clone());
    text(ilst, b"cprt", &copyright.unwrap_or_default());
    ilst.set_advisory_rating(if t.explicit {
        AdvisoryRating::Explicit
    } else {
        AdvisoryRating::Inoffensive
    });
    let lang = t.language.as_deref().and_then(iso639_2);
    freeform(ilst, "LANGUAGE", vec![lang.unwrap_or("").to_owned()]);
    text(ilst, b"\xA9lyr", &opt(&t.lyrics));
    if let Some(rg) = &t.replay_gain {
        for (k, v) in rg.fields() {
            freeform(ilst, k, vec![v]);
        }
        freeform(ilst, "iTunNORM", vec![itunnorm(rg)]);
    }
    if let Some(jpeg) = cover_jpeg {
        ilst.remove_pictures();
        ilst.insert_picture(
            Picture::unchecked(jpeg.to_vec())
                .pic_type(PictureType::CoverFront)
                .mime_type(MimeType::Jpeg)
                .build(),
        );
    }
}

/// Writes the tags (and the cover) of `t` into the `.m4a` at `path`.
pub fn write_mp4_tags(
    path: &Path,
    t: &TrackTags,
    cover_jpeg: Option<&[u8]>,
) -> Result<(), DeliverError> {
    let mut file = std::fs::File::open(path).map_err(|e| tag_err(path, e))?;
    let mp4 = Mp4File::read_from(&mut file, ParseOptions::new()).map_err(|e| tag_err(path, e))?;
    drop(file);
    let mut ilst = mp4.ilst().cloned().unwrap_or_default();
    fill_ilst(&mut ilst, t, cover_jpeg);
    ilst.save_to_path(path, WriteOptions::default())
        .map_err(|e| tag_err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sound_check_follows_the_track_gain() {
        let rg = ReplayGain::from_loudness(-18.0, -1.0, -18.0, -1.0);
        let s = itunnorm(&rg);
        assert!(s.starts_with(" 000003E8 000003E8 000009C4 000009C4 00000000 00000000"));
        assert_eq!(s.len(), 90);
        // 4 dB louder than the reference: 10^0.4 times the value.
        let hot = itunnorm(&ReplayGain::from_loudness(-14.0, -1.0, -14.0, -1.0));
        assert!(hot.starts_with(" 000009D0"), "{hot}");
    }
}
