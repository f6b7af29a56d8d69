//! Album figures: all tracks' 400 ms and 3 s blocks gated together as one
//! programme (`EbuR128::loudness_global_multiple` over the tracks' kept
//! ebur128 histograms, and the tracks' loudness range histograms added
//! up), so an album needs no second decode.

use ebur128::EbuR128;
use serde::Serialize;

use super::{round2_opt, LoudnessState};

/// The loudness of an album as one programme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlbumFigures {
    /// All tracks' blocks gated together, LUFS.
    #[serde(serialize_with = "round2_opt")]
    pub integrated_lufs: Option<f64>,
    /// All tracks' short-term blocks together, LU.
    #[serde(serialize_with = "round2_opt")]
    pub loudness_range_lu: Option<f64>,
    /// Loudest minus quietest track's integrated loudness, LU (tracks
    /// without one, i.e. silent, are left out).
    #[serde(serialize_with = "round2_opt")]
    pub loudness_spread_lu: Option<f64>,
    /// Highest true peak of any track, dBTP.
    #[serde(serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
}

/// Gates the given tracks together. Tracks may differ in sample rate.
pub fn album_loudness<'a>(tracks: impl IntoIterator<Item = &'a LoudnessState>) -> AlbumFigures {
    let tracks: Vec<&LoudnessState> = tracks.into_iter().collect();
    let finite = |x: f64| x.is_finite().then_some(x);
    let integrated = EbuR128::loudness_global_multiple(tracks.iter().map(|t| &t.ebu))
        .ok()
        .and_then(finite);
    let mut lra = super::lra::LraHistogram::default();
    for t in &tracks {
        lra.merge(&t.lra);
    }
    let range = lra.range();
    let loudness: Vec<f64> = tracks.iter().filter_map(|t| t.integrated_lufs).collect();
    let spread = if loudness.is_empty() {
        None
    } else {
        let max = loudness.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = loudness.iter().copied().fold(f64::INFINITY, f64::min);
        Some(max - min)
    };
    let true_peak = tracks
        .iter()
        .filter_map(|t| t.true_peak_dbtp)
        .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))));
    AlbumFigures {
        integrated_lufs: integrated,
        loudness_range_lu: range,
        loudness_spread_lu: spread,
        true_peak_dbtp: true_peak,
    }
}
