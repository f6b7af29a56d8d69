//! A track's processing, worked out from the manifest model: the trim in
//! frames, the chain before the final limiter, the final limiter, the fade,
//! and what the repair stages learned before the render (see [`super::repair`]).

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use super::MasterError;
use crate::audio::AudioInfo;
use crate::dsp::{self, Chain, FadeParams, LimiterParams};
use crate::manifest::model::{self, Mastering, Track};

/// How one track is mastered, independent of its loudness gain.
#[derive(Debug, Clone)]
pub struct TrackPlan {
    pub number: u32,
    pub title: String,
    pub path: PathBuf,
    pub info: AudioInfo,
    /// Source frames kept by the trim (the end is known once the source
    /// has been read through: `None` = to the end).
    pub trim_start: u64,
    pub trim_end: Option<u64>,
    /// The chain's stages up to (not including) the final limiter.
    pub pre: Vec<model::Stage>,
    /// The track's `gain_db`, applied at the end of `pre`.
    pub offset_db: f64,
    pub limiter: LimiterParams,
    pub fade: Option<FadeParams>,
    /// The track's tonal matching (`None`: off, or strength 0).
    pub tonal: Option<model::Match>,
    /// The matching EQ, once the analysis pass has worked it out; at the
    /// chain's `match` stage, or at its head.
    pub correction: Option<Arc<dsp::MatchCurve>>,
    /// Run the restoration detectors on the master, reporting dropouts
    /// of this many ms or more (`report.restoration`; `None`: off).
    pub restoration: Option<f64>,
    /// Where loudness matching keeps the rendered master between its
    /// probes and the sinks ([`super::spool`]); `None`: every render
    /// feeds the sinks.
    pub spool: Option<PathBuf>,
    /// Measure the master's playback translation (`report.translation`).
    pub translation: bool,
    /// Run a pass's side meters on a thread of their own
    /// ([`super::side`]): set when the pool has more threads than the
    /// album has tracks.
    pub side_thread: bool,
    /// Per stage of `pre`, what it learned in the learning pass (`None`:
    /// nothing to learn, or not learned yet).
    pub learned: Vec<Option<Learned>>,
}

/// What a repair stage learned from the track before the render.
#[derive(Debug, Clone, PartialEq)]
pub enum Learned {
    /// A `dehum` with `freq_hz: auto`: the fundamental the hum detector
    /// found (`None`: no hum, the stage passes audio through).
    Hum(Option<f64>),
    /// A `denoise`: its noise profile.
    Noise(Arc<dsp::NoiseProfile>),
    /// A `declip` with `threshold: auto`: the clip levels found (none:
    /// the stage passes audio through).
    Clip(dsp::ClipLevels),
}

impl TrackPlan {
    pub fn new(track: &Track, mastering: &Mastering) -> Result<TrackPlan, MasterError> {
        let info = track.info.clone().ok_or_else(|| MasterError::Track {
            track: track.number,
            message: format!("{}: the source was not probed", track.file.display()),
        })?;
        let rate = f64::from(info.sample_rate);
        let stages = track.chain(mastering);
        let (pre, last) = match stages.split_last() {
            Some((model::Stage::Limiter(l), rest)) => (rest.to_vec(), l.clone()),
            _ => (stages.to_vec(), model::Limiter::default()),
        };
        let limiter = LimiterParams {
            ceiling_dbtp: mastering.true_peak_dbtp,
            release_ms: last.release_ms,
            lookahead_ms: last.lookahead_ms,
        };
        let fade = track.fade.as_ref().map(|f| FadeParams {
            in_s: f.in_s,
            out_s: f.out_s,
            curve: match f.curve {
                model::FadeCurve::Linear => dsp::FadeCurve::Linear,
                model::FadeCurve::Log => dsp::FadeCurve::Log,
                model::FadeCurve::SCurve => dsp::FadeCurve::SCurve,
            },
        });
        Ok(TrackPlan {
            number: track.number,
            title: track.title.clone(),
            path: track.path.clone(),
            trim_start: (track.trim_start_s * rate).round() as u64,
            trim_end: track.trim_end_s.map(|e| (e * rate).round() as u64),
            info,
            offset_db: track.gain_db,
            limiter,
            fade,
            tonal: track
                .tonal_match(mastering)
                .filter(|m| m.strength > 0.0)
                .cloned(),
            correction: None,
            restoration: None,
            spool: None,
            translation: false,
            side_thread: false,
            learned: vec![None; pre.len()],
            pre,
        })
    }

    pub(super) fn dsp_err(&self, e: dsp::DspError) -> MasterError {
        MasterError::Dsp {
            track: self.number,
            source: e,
        }
    }

    /// The chain before the loudness gain: the manifest's stages (their
    /// limiters at the ceiling) and the track's `gain_db`.
    pub fn pre_chain(&self, ceiling_dbtp: f64) -> Result<Chain, MasterError> {
        let (mut head, tail) = self.pre_stages(ceiling_dbtp)?;
        if let Some(c) = &self.correction {
            head.push(dsp::Stage::MatchEq(Box::new(
                dsp::MatchEq::new(self.info.sample_rate, c).map_err(|e| self.dsp_err(e))?,
            )));
        }
        head.extend(tail);
        Ok(Chain::new(head))
    }

    /// The chain before the loudness gain in two: up to the matching EQ's
    /// place (the `match` stage, or the head) and after it, without the
    /// EQ: the analysis pass measures the spectrum between the two.
    pub fn pre_chain_split(&self, ceiling_dbtp: f64) -> Result<(Chain, Chain), MasterError> {
        let (head, tail) = self.pre_stages(ceiling_dbtp)?;
        Ok((Chain::new(head), Chain::new(tail)))
    }

    fn pre_stages(
        &self,
        ceiling_dbtp: f64,
    ) -> Result<(Vec<dsp::Stage>, Vec<dsp::Stage>), MasterError> {
        // The matching EQ's place: `- match:`, or after the last repair
        // stage (which learned without it), or the head.
        let at = self
            .pre
            .iter()
            .position(|s| matches!(s, model::Stage::Match))
            .or_else(|| self.pre.iter().rposition(|s| s.is_repair()).map(|i| i + 1))
            .unwrap_or(0);
        let mut head = Vec::with_capacity(at + 1);
        let mut tail = Vec::with_capacity(self.pre.len() + 1);
        for (i, s) in self.pre.iter().enumerate() {
            if matches!(s, model::Stage::Match) {
                continue;
            }
            let stage = self.stage(i, ceiling_dbtp)?;
            if i < at {
                head.push(stage);
            } else {
                tail.push(stage);
            }
        }
        if self.offset_db != 0.0 {
            tail.push(dsp::Stage::Gain(
                dsp::Gain::new(self.offset_db).map_err(|e| self.dsp_err(e))?,
            ));
        }
        Ok((head, tail))
    }

    /// Stage `i` of `pre` as a DSP stage, with what it learned.
    pub(super) fn stage(&self, i: usize, ceiling_dbtp: f64) -> Result<dsp::Stage, MasterError> {
        let learned = self.learned.get(i).and_then(Option::as_ref);
        dsp_stage(&self.pre[i], learned, self.info.sample_rate, ceiling_dbtp)
            .map_err(|e| self.dsp_err(e))
    }

    /// The chain after it: loudness gain, final limiter, fades over a
    /// track of `frames` frames.
    pub fn post_chain(&self, gain_db: f64, frames: u64) -> Result<Chain, MasterError> {
        let rate = self.info.sample_rate;
        let mut stages = vec![
            dsp::Stage::Gain(dsp::Gain::new(gain_db).map_err(|e| self.dsp_err(e))?),
            dsp::Stage::from(dsp::Limiter::new(rate, self.limiter).map_err(|e| self.dsp_err(e))?),
        ];
        if let Some(f) = self.fade {
            stages.push(dsp::Stage::Fade(
                dsp::Fade::new(rate, f, frames).map_err(|e| self.dsp_err(e))?,
            ));
        }
        Ok(Chain::new(stages))
    }

    /// The frames of the source this track keeps, once its length is known.
    pub fn kept(&self, source_frames: u64) -> Range<u64> {
        let end = self.trim_end.unwrap_or(source_frames).min(source_frames);
        self.trim_start.min(end)..end
    }
}

/// One manifest stage as a DSP stage. A repair stage that has not
/// learned yet (validation builds the chain to check its settings) is
/// built as it would be on silence: a dehum `auto` with no notches, a
/// denoise with a profile of no noise (it still has its latency), a
/// declip `auto` with no clip levels (a bypass).
fn dsp_stage(
    s: &model::Stage,
    learned: Option<&Learned>,
    rate: u32,
    ceiling: f64,
) -> Result<dsp::Stage, dsp::DspError> {
    Ok(match s {
        model::Stage::Eq(bands) => {
            let bands: Vec<dsp::EqBand> = bands
                .iter()
                .map(|b| dsp::EqBand {
                    kind: match b.kind {
                        model::EqKind::Highpass => dsp::EqKind::Highpass,
                        model::EqKind::Lowpass => dsp::EqKind::Lowpass,
                        model::EqKind::Lowshelf => dsp::EqKind::LowShelf,
                        model::EqKind::Highshelf => dsp::EqKind::HighShelf,
                        model::EqKind::Bell => dsp::EqKind::Bell,
                        model::EqKind::Notch => dsp::EqKind::Notch,
                    },
                    freq_hz: b.freq_hz,
                    gain_db: b.gain_db,
                    q: b.q,
                })
                .collect();
            dsp::Stage::Eq(dsp::Eq::new(rate, &bands)?)
        }
        model::Stage::Compressor(c) => dsp::Stage::Compressor(dsp::Compressor::new(
            rate,
            dsp::CompressorParams {
                threshold_db: c.threshold_db,
                ratio: c.ratio,
                attack_ms: c.attack_ms,
                release_ms: c.release_ms,
                knee_db: c.knee_db,
                makeup_db: c.makeup_db,
                stereo_link: c.stereo_link,
            },
        )?),
        model::Stage::Limiter(l) => dsp::Stage::from(dsp::Limiter::new(
            rate,
            LimiterParams {
                ceiling_dbtp: ceiling,
                release_ms: l.release_ms,
                lookahead_ms: l.lookahead_ms,
            },
        )?),
        model::Stage::Gain { gain_db } => dsp::Stage::Gain(dsp::Gain::new(*gain_db)?),
        model::Stage::Stereo { width } => dsp::Stage::Stereo(dsp::StereoWidth::new(*width)?),
        // Only a place: [`TrackPlan::pre_chain`] puts the EQ there.
        model::Stage::Match => dsp::Stage::Gain(dsp::Gain::new(0.0)?),
        model::Stage::Dehum(d) => {
            let freq = match (d.freq, learned) {
                (model::HumFreq::Hz(f), _) => Some(f),
                (model::HumFreq::Auto, Some(Learned::Hum(f))) => *f,
                (model::HumFreq::Auto, _) => None,
            };
            dsp::Stage::Dehum(match freq {
                Some(freq_hz) => dsp::Dehum::new(
                    rate,
                    dsp::DehumParams {
                        freq_hz,
                        harmonics: d.harmonics,
                        q: d.q,
                    },
                )?,
                None => dsp::Dehum::bypass(),
            })
        }
        model::Stage::Denoise(d) => {
            let profile = match learned {
                Some(Learned::Noise(p)) => Some(&**p),
                _ => None,
            };
            let p = dsp::DenoiseParams {
                reduction_db: d.reduction_db,
                smoothing: d.smoothing,
            };
            dsp::Stage::Denoise(Box::new(dsp::Denoise::new(rate, p, profile)?))
        }
        model::Stage::Declip(d) => {
            let levels = match (d.threshold, learned) {
                (model::ClipThreshold::Dbfs(db), _) => dsp::ClipLevels::both(db),
                (model::ClipThreshold::Auto, Some(Learned::Clip(l))) => *l,
                (model::ClipThreshold::Auto, _) => dsp::ClipLevels::none(),
            };
            let p = dsp::DeclipParams {
                max_run_ms: d.max_run_ms,
            };
            dsp::Stage::Declip(Box::new(dsp::Declip::new(rate, p, &levels)?))
        }
    })
}
