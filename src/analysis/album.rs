//! Album figures: all tracks' 400 ms and 3 s blocks gated together as one
//! programme, by adding up the gating histograms each track's meter kept
//! (what `EbuR128::loudness_global_multiple` does with ebur128's own), so
//! an album needs no second decode.

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
    let mut blocks = super::gating::GateHistogram::default();
    let mut short_term = super::gating::GateHistogram::default();
    for t in &tracks {
        blocks.merge(&t.blocks);
        short_term.merge(&t.short_term);
    }
    let integrated = blocks.integrated();
    let range = short_term.range();
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
