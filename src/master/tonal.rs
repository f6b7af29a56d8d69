//! Tonal matching: the target spectrum a track is brought toward and the
//! bounded correction curve that gets it there.
//!
//! Spectra are the gated long-term averages of [`crate::analysis::ltas`],
//! each band relative to the programme's own loudness, so that tracks and
//! references of any level compare.
//! - `to: album`: a track's target is the other tracks' spectrum
//!   (leave-one-out), band by band the *median* of their levels: the mean
//!   is dragged by one altered track by its offset over n − 1 (1.25 dB for
//!   5 dB in a 5-track album), the median is not, and with one or two
//!   other tracks it is their mean.
//! - `to: reference`: the mean of the reference files' levels, each
//!   normalised to its own loudness; a band above a reference's Nyquist
//!   counts only the references that have it.
//!
//! The correction per band is (target − track) × `strength`, bounded to
//! ±`max_db`, and zero for bands centred outside `low_hz..high_hz` and for
//! bands where the track has nothing to lift (more than 60 dB under its
//! loudness). The bands themselves (1/3 octave or 1 ERB) are the
//! smoothing: the long-term average over a band's width evens out single
//! partials, and the FIR interpolates between centres on log frequency.
//! With `width: true` the side/mid ratio of each band is matched the same
//! way (bounded by `max_db` too) where both the track and the target have
//! side content (over -30 dB re mid: a mono reference gives no width
//! target), keeping the band's total power at the tonal correction.

use std::path::Path;

use super::MasterError;
use crate::analysis::ltas::{Bands, Ltas, LtasMeter, FINE};
use crate::audio::{Block, Decoder, BLOCK_FRAMES};
use crate::dsp::MatchCurve;
use crate::manifest::model::{Match, MatchResolution};

/// A band this far under the track's loudness has nothing to lift.
const EMPTY_BAND_DB: f64 = -60.0;
/// Width is matched only where side is above this, re mid.
const NO_SIDE_DB: f64 = -30.0;

/// The bands a resolution names.
pub fn bands(resolution: MatchResolution) -> Bands {
    match resolution {
        MatchResolution::ThirdOctave => Bands::third_octave(),
        MatchResolution::Erb => Bands::erb(),
    }
}

/// What a track is matched toward: each band's level (re loudness) and
/// side/mid ratio, dB; `None` where nothing gives one.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub tonal_db: Vec<Option<f64>>,
    pub width_db: Vec<Option<f64>>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Band by band, `combine` over the values the programmes have.
fn per_band(
    values: &[Vec<Option<f64>>],
    n: usize,
    combine: impl Fn(Vec<f64>) -> Option<f64>,
) -> Vec<Option<f64>> {
    (0..n)
        .map(|b| combine(values.iter().filter_map(|v| v[b]).collect()))
        .collect()
}

/// The leave-one-out target of track `i` among `spectra` (all the
/// album's tracks, `None` for one that gave none).
pub fn album_target(spectra: &[Option<&Ltas>], i: usize) -> Option<Target> {
    let others: Vec<&Ltas> = spectra
        .iter()
        .enumerate()
        .filter(|&(j, s)| j != i && s.is_some_and(|s| s.loudness_lufs.is_some()))
        .filter_map(|(_, s)| *s)
        .collect();
    let n = others.first()?.bands.len();
    let tonal: Vec<_> = others.iter().map(|s| s.tonal_db()).collect();
    let width: Vec<_> = others.iter().map(|s| s.width_db()).collect();
    Some(Target {
        tonal_db: per_band(&tonal, n, median),
        width_db: per_band(&width, n, median),
    })
}

/// The mean of the references' spectra.
pub fn reference_target(refs: &[Ltas]) -> Option<Target> {
    let n = refs.first()?.bands.len();
    let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let tonal: Vec<_> = refs.iter().map(|s| s.tonal_db()).collect();
    let width: Vec<_> = refs.iter().map(|s| s.width_db()).collect();
    Some(Target {
        tonal_db: per_band(&tonal, n, mean),
        width_db: per_band(&width, n, mean),
    })
}

/// A track's correction and what it is expected to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// The tonal correction per band, dB (mid and side together).
    pub gain_db: Vec<f64>,
    /// The side/mid change per band, dB (zero without `width`).
    pub width_db: Vec<f64>,
    /// The EQ the correction is realised by.
    pub curve: MatchCurve,
    /// The track's and the target's level per band (re loudness), dB.
    pub before_db: Vec<Option<f64>>,
    pub target_db: Vec<Option<f64>>,
    /// RMS over the bands in range of (target − track), dB, and of what
    /// the correction leaves of it.
    pub distance_before_db: Option<f64>,
    pub distance_expected_db: Option<f64>,
}

/// RMS of `a − b` over the bands centred in `low..=high` where both are
/// given, dB.
pub fn distance_db(
    bands: &Bands,
    a: &[Option<f64>],
    b: &[Option<f64>],
    low: f64,
    high: f64,
) -> Option<f64> {
    let d: Vec<f64> = bands
        .centres_hz
        .iter()
        .zip(a.iter().zip(b))
        .filter(|(c, _)| (low..=high).contains(*c))
        .filter_map(|(_, (a, b))| Some(a.as_ref()? - b.as_ref()?))
        .collect();
    (!d.is_empty()).then(|| (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt())
}

/// The correction that brings `own` toward `target` under `m`'s bounds.
pub fn correction(own: &Ltas, target: &Target, m: &Match) -> Correction {
    let bands = &own.bands;
    let n = bands.len();
    let before = own.tonal_db();
    let own_width = own.width_db();
    let mut gain_db = vec![0.0; n];
    let mut width_db = vec![0.0; n];
    let mut mid_db = vec![0.0; n];
    let mut side_db = vec![0.0; n];
    for b in 0..n {
        let c = bands.centres_hz[b];
        if !(m.low_hz..=m.high_hz).contains(&c) {
            continue;
        }
        let (Some(x), Some(t)) = (before[b], target.tonal_db[b]) else {
            continue;
        };
        if x < EMPTY_BAND_DB {
            continue;
        }
        let g = ((t - x) * m.strength).clamp(-m.max_db, m.max_db);
        gain_db[b] = g;
        mid_db[b] = g;
        side_db[b] = g;
        if !m.width {
            continue;
        }
        let (Some(ow), Some(tw)) = (own_width[b], target.width_db[b]) else {
            continue;
        };
        if ow < NO_SIDE_DB || tw < NO_SIDE_DB {
            continue;
        }
        let w = ((tw - ow) * m.strength).clamp(-m.max_db, m.max_db);
        width_db[b] = w;
        // Keep the band's power at the tonal gain: gM²·m + gS²·s =
        // G·(m + s) with gS²/gM² = ρ.
        let (pm, ps) = (own.mid[b], own.side[b]);
        let (big_g, rho) = (10f64.powf(g / 10.0), 10f64.powf(w / 10.0));
        let gm2 = big_g * (pm + ps) / (pm + rho * ps);
        mid_db[b] = 10.0 * gm2.log10();
        side_db[b] = 10.0 * (rho * gm2).log10();
    }
    let free: Vec<bool> = gain_db
        .iter()
        .zip(&width_db)
        .map(|(g, w)| *g != 0.0 || *w != 0.0)
        .collect();
    let mid_nodes = realise(own, &own.fine_mid, &mid_db, &free, m.max_db);
    let side_nodes = realise(own, &own.fine_side, &side_db, &free, m.max_db);
    let after: Vec<Option<f64>> = before
        .iter()
        .zip(&gain_db)
        .map(|(x, g)| x.map(|x| x + g))
        .collect();
    let (lo, hi) = (m.low_hz, m.high_hz);
    Correction {
        distance_before_db: distance_db(bands, &before, &target.tonal_db, lo, hi),
        distance_expected_db: distance_db(bands, &after, &target.tonal_db, lo, hi),
        curve: MatchCurve {
            centres_hz: bands.centres_hz.clone(),
            mid_db: mid_nodes,
            side_db: side_nodes,
        },
        gain_db,
        width_db,
        before_db: before,
        target_db: target.tonal_db.clone(),
    }
}

/// Iterations of [`realise`]'s fixed point, and the error it stops at.
const REALISE_ITERATIONS: usize = 30;
const REALISE_TOLERANCE_DB: f64 = 0.02;

/// The EQ's node gains (one per band centre, interpolated between them
/// by [`MatchCurve::gain_db_at`]) that give each band the `wanted` change
/// of power, predicted from the band's sub-band powers (`fine`, of mid or
/// side). Wanting `g` dB at a band's centre is not getting `g` dB in the
/// band when its neighbours want something else and its power sits near
/// one edge (a bass note in the 63 Hz band): the prediction corrects the
/// nodes until each band gets what it wants (Jacobi steps, damped, the
/// best kept), nodes bounded by `max_db`, and nodes not `free` (out of
/// range, empty) held at 0 dB.
fn realise(own: &Ltas, fine: &[f64], wanted: &[f64], free: &[bool], max_db: f64) -> Vec<f64> {
    let n = wanted.len();
    let mut nodes = wanted.to_vec();
    if fine.len() != n * FINE || !free.iter().any(|&f| f) {
        return nodes;
    }
    let centres = &own.bands.centres_hz;
    // The curve under trial: its mid gains are the nodes (the side curve
    // is not read).
    let mut curve = MatchCurve {
        centres_hz: centres.clone(),
        mid_db: nodes.clone(),
        side_db: Vec::new(),
    };
    let band_gain = |curve: &MatchCurve, b: usize| -> f64 {
        let (mut p, mut pg) = (0.0, 0.0);
        let range = b * FINE..(b + 1) * FINE;
        for (&power, &hz) in fine[range.clone()].iter().zip(&own.fine_hz[range]) {
            p += power;
            pg += power * 10f64.powf(curve.gain_db_at(hz, false) / 10.0);
        }
        if p > 0.0 {
            10.0 * (pg / p).log10()
        } else {
            curve.gain_db_at(centres[b], false)
        }
    };
    let error = |curve: &MatchCurve| -> (f64, Vec<f64>) {
        let e: Vec<f64> = (0..n)
            .map(|b| {
                if free[b] {
                    wanted[b] - band_gain(curve, b)
                } else {
                    0.0
                }
            })
            .collect();
        (e.iter().fold(0.0, |a, x| a.max(x.abs())), e)
    };
    let (mut best_err, mut e) = error(&curve);
    let mut best = nodes.clone();
    for _ in 0..REALISE_ITERATIONS {
        if best_err < REALISE_TOLERANCE_DB {
            break;
        }
        for b in 0..n {
            if free[b] {
                nodes[b] = (nodes[b] + 0.8 * e[b]).clamp(-max_db, max_db);
            }
        }
        curve.mid_db.clone_from(&nodes);
        let (err, next) = error(&curve);
        e = next;
        if err < best_err {
            best_err = err;
            best.clone_from(&nodes);
        }
    }
    best
}

/// The gated spectrum of a reference file, decoded at its own rate; a
/// reference with nothing above the gate is refused.
pub fn analyze_reference(path: &Path, bands: &Bands) -> Result<Ltas, MasterError> {
    let mut dec = Decoder::open(path)?;
    let mut meter = LtasMeter::new(dec.info().sample_rate, bands);
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    while dec.read_block(&mut block)? > 0 {
        meter.add(&block.left, &block.right);
    }
    let ltas = meter.finish();
    if ltas.loudness_lufs.is_none() {
        return Err(MasterError::Reference {
            path: path.to_path_buf(),
            message:
                "it is silent (nothing above the -70 LUFS gate), so it has no spectrum to match to"
                    .into(),
        });
    }
    Ok(ltas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ltas_of(f: impl Fn(usize) -> f64) -> Ltas {
        // A made-up spectrum: band powers, no side.
        let bands = Bands::third_octave();
        let mut m = LtasMeter::new(48_000, &bands);
        // A programme's real spectrum is needed for k_power: use noise
        // shaped per band is overkill; a sum of band-centre sines does.
        let n = 48_000 * 3;
        let x: Vec<f64> = (0..n)
            .map(|i| {
                bands
                    .centres_hz
                    .iter()
                    .enumerate()
                    .take(29)
                    .map(|(b, c)| {
                        0.01 * 10f64.powf(f(b) / 20.0)
                            * (std::f64::consts::TAU * c * i as f64 / 48_000.0 + b as f64).sin()
                    })
                    .sum()
            })
            .collect();
        m.add(&x, &x);
        m.finish()
    }

    #[test]
    fn the_median_target_ignores_one_outlier_and_the_curve_is_bounded() {
        let flat = ltas_of(|_| 0.0);
        let boosted = ltas_of(|b| if b == 10 { 12.0 } else { 0.0 });
        let all = [Some(&flat), Some(&flat), Some(&boosted)];
        let m = Match {
            strength: 1.0,
            max_db: 6.0,
            ..Match::default()
        };
        // A flat track's target is the median of a flat and the boosted
        // one: with two others it is their mean.
        let t0 = album_target(&all, 0).unwrap();
        let c0 = correction(&flat, &t0, &m);
        assert!(c0.gain_db[10] > 1.0);
        // With three flat others the outlier does not move the target.
        let all4 = [Some(&flat), Some(&flat), Some(&flat), Some(&boosted)];
        let c = correction(&flat, &album_target(&all4, 0).unwrap(), &m);
        assert!(c.gain_db.iter().all(|g| g.abs() < 0.2), "{:?}", c.gain_db);
        // The boosted one is cut, by no more than max_db.
        let c = correction(&boosted, &album_target(&all4, 3).unwrap(), &m);
        assert!((c.gain_db[10] + 6.0).abs() < 1e-9, "{}", c.gain_db[10]);
        assert!(c.distance_expected_db < c.distance_before_db);
        // Strength 0: flat.
        let m0 = Match {
            strength: 0.0,
            ..m.clone()
        };
        assert!(correction(&boosted, &album_target(&all4, 3).unwrap(), &m0)
            .curve
            .is_flat());
    }
}
