//! report.json's `tracks[].match`: what tonal matching did to a track —
//! its settings, the correction per band, the track's, the target's and
//! the master's level per band (each relative to its own loudness), and
//! the spectral distance to the target (RMS over the bands in range)
//! before, as the correction expects it, and as the master measures.

use serde::{Deserialize, Serialize};

use crate::analysis::{round2, round2_opt};
use crate::manifest::model::{Match, MatchTo};
use crate::master::matching::TonalResult;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchReport {
    /// `album` or `reference`.
    pub to: String,
    /// The reference files as written (empty for `album`).
    pub reference: Vec<String>,
    #[serde(serialize_with = "round2")]
    pub strength: f64,
    #[serde(serialize_with = "round2")]
    pub max_db: f64,
    /// `third_octave` or `erb`.
    pub resolution: String,
    pub width: bool,
    /// False when the correction came out flat and no EQ was inserted.
    pub applied: bool,
    #[serde(serialize_with = "round2_opt")]
    pub distance_before_db: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub distance_expected_db: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub distance_after_db: Option<f64>,
    pub bands: Vec<MatchBand>,
}

/// One band of the correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchBand {
    #[serde(serialize_with = "round2")]
    pub hz: f64,
    #[serde(serialize_with = "round2")]
    pub correction_db: f64,
    /// The side/mid change (0 without `width`).
    #[serde(serialize_with = "round2")]
    pub width_db: f64,
    #[serde(serialize_with = "round2_opt")]
    pub before_db: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub target_db: Option<f64>,
    #[serde(serialize_with = "round2_opt")]
    pub after_db: Option<f64>,
}

impl MatchReport {
    pub fn new(m: &Match, r: &TonalResult) -> MatchReport {
        let c = &r.correction;
        let bands = r
            .centres_hz
            .iter()
            .enumerate()
            .map(|(b, &hz)| MatchBand {
                hz,
                correction_db: c.gain_db[b],
                width_db: c.width_db[b],
                before_db: c.before_db[b],
                target_db: c.target_db[b],
                after_db: r.after_db.get(b).copied().flatten(),
            })
            .collect();
        MatchReport {
            to: match m.to {
                MatchTo::Album => "album",
                MatchTo::Reference => "reference",
            }
            .into(),
            reference: m
                .reference_files
                .iter()
                .map(|p| p.display().to_string().replace('\\', "/"))
                .collect(),
            strength: m.strength,
            max_db: m.max_db,
            resolution: m.resolution.name().into(),
            width: m.width,
            applied: r.applied,
            distance_before_db: c.distance_before_db,
            distance_expected_db: c.distance_expected_db,
            distance_after_db: r.distance_after_db,
            bands,
        }
    }
}
