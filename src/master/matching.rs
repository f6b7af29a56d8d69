//! Album and track loudness matching under the true-peak ceiling.
//!
//! The chain before the loudness gain does not depend on that gain, so
//! one measuring pass of every track after its chain gives what the gains
//! are computed from:
//! - `album`: one gain G brings the album, gated over all tracks' blocks
//!   together, to the target; each track is then *wanted* at its own
//!   loudness + G, which keeps the distances between tracks.
//! - `track`: each track is wanted at the target.
//! - `off`: no loudness gain (only `gain_db` and the chain).
//!
//! The final limiter takes loudness from hot tracks, so the gains are
//! checked by rendering: a track that lands further than [`TOLERANCE_LU`]
//! from where it is wanted is rendered again with a corrected gain (a
//! secant step on gain → loudness). Usually one render pass is enough and
//! limited tracks take one or two more; each pass renders only the tracks
//! still off. Where the ceiling leaves no room to reach the wanted
//! loudness, the track is left as close as it gets and a warning names it.

use rayon::prelude::*;

use super::plan::TrackPlan;
use super::render::{
    measure_loudness, measure_pre, measure_pre_tapped, probe, render, replay, PreMeasure, Progress,
    Rendered, Sink, Step, Steps,
};
use super::tonal::{self, Correction, Target};
use super::MasterError;
use crate::analysis::{album_loudness, AlbumFigures, LoudnessState, Measurement};
use crate::manifest::model::{LoudnessMode, Mastering};

/// How far a rendered track may land from its wanted loudness before it
/// is rendered again (the promise is ±0.2 LU; this leaves room).
pub const TOLERANCE_LU: f64 = 0.1;
/// Render passes at most per track.
pub const MAX_RENDERS: usize = 5;
/// A step that moves the loudness by less than this fraction of the gain
/// step means the limiter is saturated.
const MIN_SLOPE: f64 = 0.05;

/// One mastered track.
pub struct TrackResult {
    pub number: u32,
    /// The loudness gain applied before the final limiter (the track's own
    /// `gain_db` is inside its chain and not counted here).
    pub gain_db: f64,
    /// The source as decoded and trimmed.
    pub source: Measurement,
    /// The track after its chain, before the loudness gain: its loudness
    /// alone (the other figures are empty).
    pub pre: Measurement,
    /// The master as rendered.
    pub master: Measurement,
    pub state: LoudnessState,
    /// Where matching wanted it, LUFS (`None` with `off` or for silence).
    pub wanted_lufs: Option<f64>,
    /// Frames of the master.
    pub frames: u64,
    /// Render passes this track took.
    pub renders: usize,
    /// Tonal matching: the correction applied and what it did.
    pub tonal: Option<TonalResult>,
}

/// What tonal matching did to one track.
#[derive(Debug, Clone)]
pub struct TonalResult {
    pub correction: Correction,
    /// The bands' centres, Hz.
    pub centres_hz: Vec<f64>,
    /// The master's level per band (re its loudness), dB, and its
    /// distance to the target (RMS over the bands in range), dB.
    pub after_db: Vec<Option<f64>>,
    pub distance_after_db: Option<f64>,
    /// True when an EQ was applied (false: the correction was flat).
    pub applied: bool,
}

pub struct AlbumResult {
    pub tracks: Vec<TrackResult>,
    pub album: AlbumFigures,
    pub warnings: Vec<String>,
    /// Passes over the album: the measuring pass and the most renders any
    /// track took.
    pub passes: usize,
}

/// Makes the sinks for one render of a track (a render may be repeated:
/// each attempt gets fresh sinks, which replace the earlier outputs).
pub type MakeSinks<'a> = &'a (dyn Fn(&TrackPlan) -> Result<Vec<Box<dyn Sink>>, MasterError> + Sync);

/// Masters every track; `jobs` tracks at once (never more threads than
/// tracks).
pub fn master_album(
    plans: &[TrackPlan],
    mastering: &Mastering,
    jobs: usize,
    make_sinks: MakeSinks<'_>,
    progress: Progress<'_>,
) -> Result<AlbumResult, MasterError> {
    master_album_steps(plans, mastering, jobs, make_sinks, progress, &|_, _| {})
}

/// [`master_album`], telling `steps` as each track starts its measuring
/// pass and each render, so that a progress display can name the track.
pub fn master_album_steps(
    plans: &[TrackPlan],
    mastering: &Mastering,
    jobs: usize,
    make_sinks: MakeSinks<'_>,
    progress: Progress<'_>,
    steps: Steps<'_>,
) -> Result<AlbumResult, MasterError> {
    // As many threads as asked even for fewer tracks: the last renders'
    // meters and encoders take the cores no track is left to start
    // (render::replay).
    let jobs = jobs.max(1);
    if rayon::current_thread_index().is_some() && rayon::current_num_threads() == jobs {
        // Already on a pool of that size (build's): no second pool.
        return run(plans, mastering, make_sinks, progress, steps);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| MasterError::Track {
            track: 0,
            message: format!("cannot start {jobs} worker threads: {e}"),
        })?;
    pool.install(|| run(plans, mastering, make_sinks, progress, steps))
}

/// Renders one track from its first gain until it lands within
/// [`TOLERANCE_LU`] of `wanted` (or cannot get closer), telling `steps`
/// as each render starts: the last render, its gain, the number of
/// renders and a warning when it could not get there. With a spool
/// ([`TrackPlan::spool`]) and a loudness to reach, the renders are probes
/// and the sinks get the one that landed, read back from the spool.
fn settle(
    plan: &TrackPlan,
    pre: &PreMeasure,
    (first_gain, wanted): (f64, Option<f64>),
    ceiling: f64,
    make_sinks: MakeSinks<'_>,
    progress: Progress<'_>,
    steps: Steps<'_>,
) -> Result<(Rendered, f64, usize, Option<String>), MasterError> {
    let spool = plan.spool.as_deref().filter(|_| wanted.is_some());
    let mut gain = first_gain;
    let mut history: Vec<(f64, f64)> = Vec::new();
    let mut renders = 0;
    loop {
        steps(plan, Step::Render(renders + 1));
        let (loudness, rendered) = match spool {
            Some(path) => {
                let chained = pre.chained.as_deref();
                let l = probe(plan, ceiling, (gain, pre.frames), (chained, path), progress)?;
                (l, None)
            }
            None => {
                let mut sinks = make_sinks(plan)?;
                let r = render(plan, ceiling, gain, pre.frames, &mut sinks, progress)?;
                (r.measurement.integrated_lufs, Some(r))
            }
        };
        renders += 1;
        let mut warning = None;
        if let (Some(w), Some(l)) = (wanted, loudness) {
            if (l - w).abs() > TOLERANCE_LU {
                history.push((gain, l));
                match next_gain(&history, w) {
                    Some(g) if renders < MAX_RENDERS => {
                        gain = g;
                        continue;
                    }
                    _ => {
                        warning = ((l - w).abs() > 0.2).then(|| {
                            format!(
                                "track {} (\"{}\") lands at {l:.2} LUFS, {:.2} LU from the {w:.2} LUFS that loudness matching wants: the {ceiling:.1} dBTP ceiling leaves no more room",
                                plan.number,
                                plan.title,
                                l - w
                            )
                        });
                    }
                }
            }
        }
        let r = match (rendered, spool) {
            (Some(r), _) => r,
            (None, Some(path)) => replay(plan, path, &mut make_sinks(plan)?)?,
            (None, None) => unreachable!("a render without a spool keeps its result"),
        };
        if let Some(c) = &pre.chained {
            std::fs::remove_file(c).map_err(|e| MasterError::Io {
                path: c.clone(),
                source: e,
            })?;
        }
        return Ok((r, gain, renders, warning));
    }
}

fn run(
    plans: &[TrackPlan],
    mastering: &Mastering,
    make_sinks: MakeSinks<'_>,
    progress: Progress<'_>,
    steps: Steps<'_>,
) -> Result<AlbumResult, MasterError> {
    let ceiling = mastering.true_peak_dbtp;
    let mut learned = super::repair::learn_all(plans, ceiling, progress, steps)?;
    // Fewer tracks than threads: each pass's side meters get a thread.
    let spare = rayon::current_num_threads() > learned.len();
    for p in &mut learned {
        p.side_thread = spare;
    }
    let plans = &learned[..];
    let (plans, pre, targets) = if plans.iter().any(|p| p.tonal.is_some()) {
        tonal_pass(plans, ceiling, progress, steps)?
    } else {
        let pre: Vec<_> = plans
            .par_iter()
            .map(|p| {
                steps(p, Step::Measure);
                measure_pre(p, ceiling, progress)
            })
            .collect::<Result<_, _>>()?;
        (plans.to_vec(), pre, vec![None; plans.len()])
    };
    let plans = &plans[..];
    let album_pre = album_loudness(pre.iter().map(|p| &p.state)).integrated_lufs;
    let wanted: Vec<Option<f64>> = pre
        .iter()
        .map(|p| {
            let l = p.measurement.integrated_lufs?;
            match mastering.loudness_mode {
                LoudnessMode::Album => Some(l + mastering.target_lufs - album_pre?),
                LoudnessMode::Track => Some(mastering.target_lufs),
                LoudnessMode::Off => None,
            }
        })
        .collect();
    let gains: Vec<f64> = pre
        .iter()
        .zip(&wanted)
        .map(|(p, w)| match (w, p.measurement.integrated_lufs) {
            (Some(w), Some(l)) => w - l,
            _ => 0.0,
        })
        .collect();
    // From here each track goes its own way: render, check, render again
    // while it is off, so that no core waits for the slowest track.
    let settled: Vec<(Rendered, f64, usize, Option<String>)> = (0..plans.len())
        .into_par_iter()
        .map(|i| {
            settle(
                &plans[i],
                &pre[i],
                (gains[i], wanted[i]),
                ceiling,
                make_sinks,
                progress,
                steps,
            )
        })
        .collect::<Result<_, _>>()?;
    let renders_max = settled.iter().map(|s| s.2).max().unwrap_or(0);
    // Tonal matching measures the corrected tracks once more.
    let remeasured = targets.iter().flatten().any(|(_, applied)| *applied);
    let warnings: Vec<String> = settled.iter().filter_map(|s| s.3.clone()).collect();
    let tracks: Vec<TrackResult> = plans
        .iter()
        .zip(pre)
        .zip(settled)
        .zip(&wanted)
        .zip(targets)
        .map(
            |((((plan, pre), (r, gain, renders, _)), w), target)| TrackResult {
                tonal: target.map(|(c, applied)| tonal_result(plan, c, applied, r.ltas.as_ref())),
                number: plan.number,
                gain_db: gain,
                source: pre.source,
                pre: pre.measurement,
                master: r.measurement,
                state: r.state,
                wanted_lufs: *w,
                frames: r.frames,
                renders,
            },
        )
        .collect();
    let passes = 1 + usize::from(remeasured) + renders_max;
    let album = album_loudness(tracks.iter().map(|t| &t.state));
    Ok(AlbumResult {
        tracks,
        album,
        warnings,
        passes,
    })
}

/// The analysis pass with tonal matching: every track measured with its
/// spectrum gathered at the matching EQ's place, the targets and
/// corrections worked out, and the tracks that get an EQ measured again
/// with it (their loudness changes). Returns the plans with their
/// corrections, the measurements and each matched track's correction.
fn tonal_pass(
    plans: &[TrackPlan],
    ceiling: f64,
    progress: Progress<'_>,
    steps: Steps<'_>,
) -> Result<Analysed, MasterError> {
    let (plans, mut pre, out) = corrections(plans, ceiling, progress, steps)?;
    type Again = (
        usize,
        ((Measurement, LoudnessState), Option<std::path::PathBuf>),
    );
    let again: Vec<Again> = plans
        .par_iter()
        .enumerate()
        .filter(|(_, p)| p.correction.is_some())
        .map(|(i, p)| {
            steps(p, Step::Measure);
            // The chain with its FIR is kept for the probes (spool.rs).
            let keep = p.spool.as_ref().map(|s| s.with_extension("chain.f64"));
            measure_loudness(p, ceiling, keep.as_deref(), progress).map(|m| (i, (m, keep)))
        })
        .collect::<Result<_, _>>()?;
    for (i, ((measurement, state), keep)) in again {
        pre[i].measurement = measurement;
        pre[i].state = state;
        pre[i].chained = keep;
    }
    Ok((plans, pre, out))
}

/// The plans with their corrections, the measurements, and each matched
/// track's correction (and whether an EQ is applied).
type Analysed = (
    Vec<TrackPlan>,
    Vec<PreMeasure>,
    Vec<Option<(Correction, bool)>>,
);

/// What `build` would apply, for `check`: each track's correction (`None`
/// for a track without matching), worked out on `jobs` threads.
pub fn tonal_plan(
    plans: &[TrackPlan],
    ceiling: f64,
    jobs: usize,
) -> Result<Vec<Option<TonalResult>>, MasterError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.min(plans.len()).max(1))
        .build()
        .map_err(|e| MasterError::Track {
            track: 0,
            message: format!("cannot start {jobs} worker threads: {e}"),
        })?;
    let (plans, _, out) = pool.install(|| {
        let plans = super::repair::learn_all(plans, ceiling, &|_| {}, &|_, _| {})?;
        corrections(&plans, ceiling, &|_| {}, &|_, _| {})
    })?;
    Ok(plans
        .iter()
        .zip(out)
        .map(|(p, c)| c.map(|(c, applied)| tonal_result(p, c, applied, None)))
        .collect())
}

fn corrections(
    plans: &[TrackPlan],
    ceiling: f64,
    progress: Progress<'_>,
    steps: Steps<'_>,
) -> Result<Analysed, MasterError> {
    let settings = plans.iter().find_map(|p| p.tonal.as_ref());
    let bands = tonal::bands(
        settings.map_or(crate::manifest::model::MatchResolution::ThirdOctave, |m| {
            m.resolution
        }),
    );
    // References first: a bad one fails before the long work.
    let mut refs: Vec<(Vec<std::path::PathBuf>, Option<Target>)> = Vec::new();
    for m in plans.iter().filter_map(|p| p.tonal.as_ref()) {
        if m.to != crate::manifest::model::MatchTo::Reference
            || refs.iter().any(|(r, _)| *r == m.references)
        {
            continue;
        }
        let spectra: Vec<_> = m
            .references
            .par_iter()
            .map(|r| tonal::analyze_reference(r, &bands))
            .collect::<Result<_, _>>()?;
        refs.push((m.references.clone(), tonal::reference_target(&spectra)));
    }
    let pre: Vec<PreMeasure> = plans
        .par_iter()
        .map(|p| {
            steps(p, Step::Measure);
            measure_pre_tapped(p, ceiling, &bands, progress)
        })
        .collect::<Result<_, _>>()?;
    let spectra: Vec<Option<&crate::analysis::ltas::Ltas>> =
        pre.iter().map(|p| p.ltas.as_ref()).collect();
    let mut plans = plans.to_vec();
    let mut out = Vec::with_capacity(plans.len());
    for (i, plan) in plans.iter_mut().enumerate() {
        let (Some(m), Some(own)) = (plan.tonal.as_ref(), spectra[i]) else {
            out.push(None);
            continue;
        };
        let target = match m.to {
            crate::manifest::model::MatchTo::Album => tonal::album_target(&spectra, i),
            crate::manifest::model::MatchTo::Reference => refs
                .iter()
                .find(|(r, _)| *r == m.references)
                .and_then(|(_, t)| t.clone()),
        };
        let Some(target) = target else {
            out.push(None);
            continue;
        };
        let c = tonal::correction(own, &target, m);
        let applied = !c.curve.is_flat() && own.loudness_lufs.is_some();
        if applied {
            plan.correction = Some(std::sync::Arc::new(c.curve.clone()));
        }
        out.push(Some((c, applied)));
    }
    Ok((plans, pre, out))
}

fn tonal_result(
    plan: &TrackPlan,
    correction: Correction,
    applied: bool,
    master: Option<&crate::analysis::ltas::Ltas>,
) -> TonalResult {
    let after_db = master.map(|l| l.tonal_db()).unwrap_or_default();
    let m = plan.tonal.as_ref();
    let distance_after_db = match (master, m) {
        (Some(l), Some(m)) => tonal::distance_db(
            &l.bands,
            &after_db,
            &correction.target_db,
            m.low_hz,
            m.high_hz,
        ),
        _ => None,
    };
    TonalResult {
        centres_hz: correction.curve.centres_hz.clone(),
        correction,
        after_db,
        distance_after_db,
        applied,
    }
}

/// The next gain to try: one step of the secant method on the renders so
/// far (the first step assumes loudness follows gain one to one). `None`
/// when the limiter no longer lets the loudness move.
fn next_gain(history: &[(f64, f64)], wanted: f64) -> Option<f64> {
    let &(g1, l1) = history.last()?;
    let slope = match history.len() {
        1 => 1.0,
        n => {
            let (g0, l0) = history[n - 2];
            if (g1 - g0).abs() < 1e-9 {
                return None;
            }
            (l1 - l0) / (g1 - g0)
        }
    };
    if slope < MIN_SLOPE {
        return None;
    }
    let step = ((wanted - l1) / slope).clamp(-12.0, 12.0);
    Some(g1 + step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secant_steps() {
        assert_eq!(next_gain(&[(0.0, -10.0)], -9.0), Some(1.0));
        // Half a dB of loudness per dB of gain: the next step is doubled.
        let g = next_gain(&[(0.0, -10.0), (1.0, -9.5)], -9.0).unwrap();
        assert!((g - 2.0).abs() < 1e-12);
        // A saturated limiter: no step.
        assert_eq!(next_gain(&[(0.0, -10.0), (1.0, -9.99)], -9.0), None);
    }
}
