//! The learning pass of the repair stages: before a track is measured or
//! rendered, each stage that needs to know the track first (a `denoise`,
//! its noise profile; a `dehum` with `freq_hz: auto`, its fundamental)
//! hears the whole track as it arrives at that stage (a `declip` with
//! `threshold: auto`, its clip levels, too), and what it learned
//! goes into the plan ([`TrackPlan::learned`]) for every later pass.
//!
//! Why a pass of its own rather than a bounded look-ahead inside the
//! stage: the profile comes from the quietest passages of the *whole*
//! track (or a range the user names, anywhere in it), which a stage that
//! streams cannot see before it has to put out its first frame; and the
//! measuring pass cannot gather it either, because the loudness it
//! measures must already be that of the denoised track. So one decode of
//! the track per learning stage runs first: the stages before the
//! learner, as they will run in the render (earlier learners with what
//! they learned), then the learner. Only tracks whose chain has a
//! learning stage pay for it. It runs before tonal matching; the matching
//! EQ goes after the repair stages (see [`TrackPlan::pre_chain`]), so it
//! cannot change what they hear.
//!
//! `auto` uses the hum detector of the restoration report
//! ([`crate::analysis::restoration::HumDetector`]: a family of steady
//! lines at 50 or 60 Hz and harmonics); when it finds none, the stage
//! passes the audio through unchanged.

use std::sync::Arc;

use rayon::prelude::*;

use super::plan::{Learned, TrackPlan};
use super::render::{read_kept, Progress, Step, Steps};
use super::MasterError;
use crate::analysis::restoration::{Detector, HumDetector, Restoration};
use crate::audio::Block;
use crate::dsp::{Chain, ClipLearner, NoiseLearner, ProfileSource};
use crate::manifest::model::{NoiseFrom, Stage};

/// True when some stage of the plan still has to learn.
pub fn needs_learning(plan: &TrackPlan) -> bool {
    plan.pre
        .iter()
        .zip(&plan.learned)
        .any(|(s, l)| s.learns() && l.is_none())
}

/// Every plan with its learning stages learned (the tracks in parallel,
/// on the caller's thread pool); plans with nothing to learn are copied.
pub fn learn_all(
    plans: &[TrackPlan],
    ceiling_dbtp: f64,
    progress: Progress<'_>,
    steps: Steps<'_>,
) -> Result<Vec<TrackPlan>, MasterError> {
    plans
        .par_iter()
        .map(|p| {
            if needs_learning(p) {
                steps(p, Step::Learn);
                learn(p, ceiling_dbtp, progress)
            } else {
                Ok(p.clone())
            }
        })
        .collect()
}

/// What the learner of one stage listens with.
enum Ear {
    Hum(Box<HumDetector>),
    Noise(Box<NoiseLearner>),
    Clip(Box<ClipLearner>),
}

impl Ear {
    fn add(&mut self, b: &Block) {
        match self {
            Ear::Hum(h) => h.add(b),
            Ear::Noise(n) => n.add(b),
            Ear::Clip(c) => c.add(b),
        }
    }
}

/// The plan with every learning stage learned, one pass each.
pub fn learn(
    plan: &TrackPlan,
    ceiling_dbtp: f64,
    progress: Progress<'_>,
) -> Result<TrackPlan, MasterError> {
    let mut plan = plan.clone();
    let rate = plan.info.sample_rate;
    for i in 0..plan.pre.len() {
        if !plan.pre[i].learns() || plan.learned[i].is_some() {
            continue;
        }
        let mut stages = Vec::with_capacity(i);
        for j in 0..i {
            if plan.pre[j] != Stage::Match {
                stages.push(plan.stage(j, ceiling_dbtp)?);
            }
        }
        let mut chain = Chain::new(stages);
        let mut ear = match &plan.pre[i] {
            Stage::Denoise(d) => {
                let source = match d.profile {
                    NoiseFrom::Quietest => ProfileSource::Quietest,
                    NoiseFrom::Range { start_s, end_s } => ProfileSource::Range {
                        start: (start_s * f64::from(rate)).round() as u64,
                        end: (end_s * f64::from(rate)).round() as u64,
                    },
                };
                Ear::Noise(Box::new(
                    NoiseLearner::new(rate, source).map_err(|e| plan.dsp_err(e))?,
                ))
            }
            // The source's bit depth sets how close to the peak a held
            // sample is at it (the stages before may change the audio,
            // but a plateau they keep keeps its codes).
            Stage::Declip(_) => Ear::Clip(Box::new(ClipLearner::new(
                plan.info.bit_depth,
                plan.info.float,
            ))),
            _ => Ear::Hum(Box::new(HumDetector::new(rate))),
        };
        let mut out = chain.output_block();
        read_kept(&plan, progress, |b| {
            chain.process(b, &mut out);
            ear.add(&out);
            Ok(())
        })?;
        chain.finish(&mut out);
        ear.add(&out);
        plan.learned[i] = Some(match ear {
            Ear::Hum(h) => {
                let mut found = Restoration::default();
                h.finish(&mut found);
                Learned::Hum(found.hum.map(|h| h.fundamental_hz))
            }
            Ear::Clip(c) => Learned::Clip(c.finish()),
            Ear::Noise(n) => {
                let profile = n.finish().map_err(|message| MasterError::Track {
                    track: plan.number,
                    message: format!("denoise: {message}"),
                })?;
                Learned::Noise(Arc::new(profile))
            }
        });
    }
    Ok(plan)
}
