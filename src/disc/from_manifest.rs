//! The disc as the manifest describes it: the [`LayoutInput`] of a
//! validated [`Manifest`] (of each of its discs, with the hidden track
//! on disc 1) and each track's mastered length, and its
//! CD-Text (release title and artist; per track title with version,
//! performer with "feat." names, lyricist as songwriter, composer,
//! arranger; the release genre mapped onto the CD-Text genre list).

use super::cdtext::{Fields, Genre};
use super::layout::{DiscText, HiddenInput, LayoutError, LayoutInput, TrackInput};
use crate::manifest::model::{Manifest, Track};

/// The layout input of a one-disc manifest: every track, no hidden track.
pub fn layout_input(m: &Manifest, samples: &[u64]) -> Result<LayoutInput, LayoutError> {
    let tracks: Vec<&Track> = m.tracks.iter().collect();
    input_of(m, &tracks, samples, None, None)
}

/// The layout input of disc `disc` of the manifest: its tracks (in
/// manifest order, numbered from 1), their mastered lengths in `samples`,
/// and on disc 1 the hidden track's length (`hidden`, when `cd.hidden_track`
/// is given). On a set of several discs the disc's CD-Text title is
/// "<release title> (Disc N)".
pub fn disc_input(
    m: &Manifest,
    disc: u32,
    samples: &[u64],
    hidden: Option<u64>,
) -> Result<LayoutInput, LayoutError> {
    let tracks: Vec<&Track> = m.tracks.iter().filter(|t| t.disc == disc).collect();
    let hidden_track = m.cd.as_ref().and_then(|c| c.hidden_track.as_ref());
    let hidden = match (disc, hidden_track, hidden) {
        (1, Some(h), Some(samples)) => Some(HiddenInput {
            title: h.title.clone(),
            samples,
        }),
        _ => None,
    };
    let label = (m.discs().len() > 1).then_some(disc);
    input_of(m, &tracks, samples, hidden, label)
}

fn input_of(
    m: &Manifest,
    on_disc: &[&Track],
    samples: &[u64],
    hidden: Option<HiddenInput>,
    label: Option<u32>,
) -> Result<LayoutInput, LayoutError> {
    let cd = m.cd.as_ref().ok_or(LayoutError::NoCd)?;
    if samples.len() != on_disc.len() {
        return Err(LayoutError::LengthCount {
            tracks: on_disc.len(),
            lengths: samples.len(),
        });
    }
    let tracks = on_disc
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
        text: cd.cd_text.then(|| disc_text(m, on_disc, label)),
        hidden,
    })
}

/// CD-Text from the manifest: disc title and performer from the release,
/// per track title, performer (the track's artist, with "feat." names),
/// songwriter (the lyricist), composer and arranger; the release genre.
pub fn manifest_text(m: &Manifest) -> DiscText {
    let tracks: Vec<&Track> = m.tracks.iter().collect();
    disc_text(m, &tracks, None)
}

/// [`manifest_text`] for the tracks of one disc; `label`: the disc's
/// number on a set of several discs, added to the disc title as
/// " (Disc N)".
fn disc_text(m: &Manifest, on_disc: &[&Track], label: Option<u32>) -> DiscText {
    let title = match label {
        Some(n) => format!("{} (Disc {n})", m.release.title),
        None => m.release.title.clone(),
    };
    let disc = Fields {
        title: Some(title),
        performer: Some(m.release.artist.clone()),
        ..Fields::default()
    };
    let tracks = on_disc
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
