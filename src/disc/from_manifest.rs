//! The disc as the manifest describes it: the [`LayoutInput`] of a
//! validated [`Manifest`] and each track's mastered length, and its
//! CD-Text (release title and artist; per track title with version,
//! performer with "feat." names, lyricist as songwriter, composer,
//! arranger; the release genre mapped onto the CD-Text genre list).

use super::cdtext::{Fields, Genre};
use super::layout::{DiscText, LayoutError, LayoutInput, TrackInput};
use crate::manifest::model::Manifest;

/// The layout input of a manifest.
pub fn layout_input(m: &Manifest, samples: &[u64]) -> Result<LayoutInput, LayoutError> {
    let cd = m.cd.as_ref().ok_or(LayoutError::NoCd)?;
    if samples.len() != m.tracks.len() {
        return Err(LayoutError::LengthCount {
            tracks: m.tracks.len(),
            lengths: samples.len(),
        });
    }
    let tracks = m
        .tracks
        .iter()
        .zip(samples)
        .map(|(t, &s)| TrackInput {
            title: t.title.clone(),
            samples: s,
            pregap_s: t.pregap_s,
            segue: t.segue,
            indexes_s: t.indexes.clone(),
            isrc: t.isrc.as_ref().map(|i| i.as_str().to_string()),
            pre_emphasis: cd.pre_emphasis,
            copy_permitted: cd.copy_permitted,
        })
        .collect();
    Ok(LayoutInput {
        gap_s: cd.gap_s,
        mcn: m.release.upc.as_ref().map(|u| u.ean13().to_string()),
        tracks,
        text: cd.cd_text.then(|| manifest_text(m)),
    })
}

/// CD-Text from the manifest: disc title and performer from the release,
/// per track title, performer (the track's artist, with "feat." names),
/// songwriter (the lyricist), composer and arranger; the release genre.
pub fn manifest_text(m: &Manifest) -> DiscText {
    let disc = Fields {
        title: Some(m.release.title.clone()),
        performer: Some(m.release.artist.clone()),
        ..Fields::default()
    };
    let tracks = m
        .tracks
        .iter()
        .map(|t| {
            let performer = if t.featuring.is_empty() {
                t.artist.clone()
            } else {
                format!("{} feat. {}", t.artist, t.featuring.join(", "))
            };
            Fields {
                title: Some(match &t.version {
                    Some(v) => format!("{} ({v})", t.title),
                    None => t.title.clone(),
                }),
                performer: Some(performer),
                songwriter: t.lyricist.clone(),
                composer: t.composer.clone(),
                arranger: t.arranger.clone(),
                ..Fields::default()
            }
        })
        .collect();
    DiscText {
        disc,
        tracks,
        genre: m.release.genre.as_deref().map(genre),
    }
}

/// The CD-Text genre list (codes 2..28, in order).
const GENRES: [&str; 27] = [
    "Adult Contemporary",
    "Alternative Rock",
    "Childrens Music",
    "Classical",
    "Contemporary Christian",
    "Country",
    "Dance",
    "Easy Listening",
    "Erotic",
    "Folk",
    "Gospel",
    "Hip Hop",
    "Jazz",
    "Latin",
    "Musical",
    "New Age",
    "Opera",
    "Operetta",
    "Pop Music",
    "Rap",
    "Reggae",
    "Rock Music",
    "Rhythm & Blues",
    "Sound Effects",
    "Soundtrack",
    "Spoken Word",
    "World Music",
];

/// A genre name as CD-Text stores it: the code of the list entry it names
/// (case-insensitive, "Pop" for "Pop Music"), else 1 "not defined", and
/// the name as the free text.
pub fn genre(name: &str) -> Genre {
    let key = name.trim().to_ascii_lowercase();
    let code = GENRES
        .iter()
        .position(|g| {
            let g = g.to_ascii_lowercase();
            g == key || g.strip_suffix(" music") == Some(key.as_str())
        })
        .map_or(1, |i| i as u16 + 2);
    Genre {
        code,
        text: name.to_string(),
    }
}
