//! What `check` shows of tonal matching: the correction `build` would
//! apply to each track with `match`, worked out as `build` does (the same
//! analysis pass, the same target), without rendering anything.

use crate::manifest::diagnostic::safe;
use crate::manifest::model::Manifest;
use crate::master::{matching, MasterError, TrackPlan};
use crate::report::matching::MatchReport;

/// Each track's planned correction (`None`: no matching), indexed like
/// the manifest's tracks; empty when no track is matched.
pub fn plan(m: &Manifest, jobs: usize) -> Result<Vec<Option<MatchReport>>, MasterError> {
    if m.tracks
        .iter()
        .all(|t| t.tonal_match(&m.mastering).is_none())
    {
        return Ok(Vec::new());
    }
    let plans: Vec<TrackPlan> = m
        .tracks
        .iter()
        .map(|t| TrackPlan::new(t, &m.mastering))
        .collect::<Result<_, _>>()?;
    let results = matching::tonal_plan(&plans, m.mastering.true_peak_dbtp, jobs)?;
    Ok(m.tracks
        .iter()
        .zip(results)
        .map(|(t, r)| Some(MatchReport::new(t.tonal_match(&m.mastering)?, r.as_ref()?)))
        .collect())
}

/// One line per matched track: the distance to the target before and
/// as expected after, and the largest corrections.
pub fn print(m: &Manifest, plan: &[Option<MatchReport>]) {
    for (t, r) in m.tracks.iter().zip(plan) {
        let Some(r) = r else { continue };
        let mut bands: Vec<_> = r.bands.iter().filter(|b| b.correction_db != 0.0).collect();
        bands.sort_by(|a, b| b.correction_db.abs().total_cmp(&a.correction_db.abs()));
        let most: Vec<String> = bands
            .iter()
            .take(4)
            .map(|b| {
                let hz = if b.hz >= 1000.0 {
                    format!("{:.1} kHz", b.hz / 1000.0)
                } else {
                    format!("{:.0} Hz", b.hz)
                };
                format!("{:+.1} dB at {hz}", b.correction_db)
            })
            .collect();
        let d = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.1} dB"));
        eprintln!(
            "match: track {} (\"{}\") to {} at strength {}: {} from the target, {} after{}",
            t.number,
            safe(&t.title),
            r.to,
            r.strength,
            d(r.distance_before_db),
            d(r.distance_expected_db),
            if most.is_empty() {
                ": no correction".to_owned()
            } else {
                format!("; {}", most.join(", "))
            }
        );
    }
}
