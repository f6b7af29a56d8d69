//! Streaming one track through its chains, block by block.

use std::path::Path;

use super::plan::TrackPlan;
use super::side::with_side;
use super::spool::{SpoolReader, SpoolWriter};
use super::MasterError;
use crate::analysis::ltas::{Bands, Ltas, LtasMeter};
use crate::analysis::restoration::{Params, RestorationPass};
use crate::analysis::translation::TranslationMeter;
use crate::analysis::{LoudnessState, Measurement, Meter};
use crate::audio::{Block, Decoder, BLOCK_FRAMES};
use crate::dsp::ReconstructedPeak;
use crate::timings::{span, time as timed};

/// Where the float master goes: a 24-bit writer, the CD path, an encoder.
/// Blocks arrive in order; `finish` comes once, after the last block.
pub trait Sink: Send {
    fn write(&mut self, block: &Block) -> Result<(), MasterError>;
    fn finish(&mut self) -> Result<(), MasterError>;
    /// The stage `build --timings` charges this sink's work to.
    fn stage(&self) -> &'static str {
        "write: other"
    }
}

/// Progress in source frames, from any thread.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// What a track starts, for a progress display that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The repair stages' learning pass (noise profile, hum frequency).
    Learn,
    /// Decoding and measuring the source (the analysis pass).
    Measure,
    /// Rendering through the chain, the Nth time (loudness matching may
    /// render a track again).
    Render(usize),
}

/// Told, from any thread, as each track starts a [`Step`].
pub type Steps<'a> = &'a (dyn Fn(&super::TrackPlan, Step) + Sync);

/// Decodes the source and hands the frames the trim keeps to `f`, in
/// blocks. Returns the source's length in frames.
pub(super) fn read_kept(
    plan: &TrackPlan,
    progress: Progress<'_>,
    mut f: impl FnMut(&Block) -> Result<(), MasterError>,
) -> Result<u64, MasterError> {
    let mut dec = Decoder::open(&plan.path)?;
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    let mut part = Block::with_capacity(BLOCK_FRAMES);
    let mut pos: u64 = 0;
    let end = plan.trim_end.unwrap_or(u64::MAX);
    let track = Some(plan.number);
    loop {
        let n = {
            let _t = span("decode", track);
            dec.read_block(&mut block)? as u64
        };
        if n == 0 {
            break;
        }
        progress(n);
        let (a, b) = (pos, pos + n);
        pos = b;
        let lo = plan.trim_start.clamp(a, b);
        let hi = end.clamp(a, b);
        if lo >= hi {
            if a >= end {
                break;
            }
            continue;
        }
        if lo == a && hi == b {
            f(&block)?;
        } else {
            let (i, j) = ((lo - a) as usize, (hi - a) as usize);
            part.clear();
            part.left.extend_from_slice(&block.left[i..j]);
            part.right.extend_from_slice(&block.right[i..j]);
            f(&part)?;
        }
    }
    Ok(pos)
}

/// A track after its chain, before the loudness gain: what the gains are
/// computed from.
pub struct PreMeasure {
    /// The source as decoded (after the trim), before anything else.
    pub source: Measurement,
    /// After the chain: the loudness alone ([`Meter::loudness_only`]).
    pub measurement: Measurement,
    pub state: LoudnessState,
    /// Frames the track has after trimming.
    pub frames: u64,
    /// The gated spectrum at the matching EQ's place, when asked for.
    pub ltas: Option<Ltas>,
    /// The chain's output kept by [`measure_loudness`] for the probes.
    pub chained: Option<std::path::PathBuf>,
}

/// A meter that cannot be made for the track's rate, as its error.
fn meter_err(plan: &TrackPlan) -> impl Fn(crate::analysis::AnalysisError) -> MasterError {
    let track = plan.number;
    move |e| MasterError::Track {
        track,
        message: e.to_string(),
    }
}

/// The meters of the measuring pass: after the chain (its loudness is
/// all the gains need), and of the source (everything, for the report).
fn pre_meters(plan: &TrackPlan) -> Result<(Meter, Meter), MasterError> {
    Ok((
        Meter::loudness_only(plan.info.sample_rate).map_err(meter_err(plan))?,
        Meter::for_source(&plan.info).map_err(meter_err(plan))?,
    ))
}

/// Measures the track after its chain (and `gain_db`); with `tap`, also
/// the gated spectrum in those bands where the matching EQ goes (before
/// any EQ: the plan's correction is not applied here).
pub fn measure_pre_tapped(
    plan: &TrackPlan,
    ceiling_dbtp: f64,
    tap: &Bands,
    progress: Progress<'_>,
) -> Result<PreMeasure, MasterError> {
    let (mut head, mut tail) = plan.pre_chain_split(ceiling_dbtp)?;
    let mut ltas = LtasMeter::new(plan.info.sample_rate, tap);
    let (mut meter, mut source) = pre_meters(plan)?;
    let mut mid = head.output_block();
    let mut out = tail.output_block();
    let track = Some(plan.number);
    let side = |b: &Block| {
        timed("measure: source", track, || source.add(b));
        Ok(())
    };
    with_side(plan.side_thread, side, |send| {
        read_kept(plan, progress, |b| {
            send(b)?;
            timed("chain (measuring pass)", track, || {
                head.process(b, &mut mid)
            });
            timed("measure: spectrum", track, || {
                ltas.add(&mid.left, &mid.right)
            });
            timed("chain (measuring pass)", track, || {
                tail.process(&mid, &mut out)
            });
            timed("measure: after chain", track, || meter.add(&out));
            Ok(())
        })
    })?;
    head.finish(&mut mid);
    ltas.add(&mid.left, &mid.right);
    tail.process(&mid, &mut out);
    meter.add(&out);
    tail.finish(&mut out);
    meter.add(&out);
    let frames = meter.frames();
    let (measurement, state) = meter.finish();
    Ok(PreMeasure {
        source: source.finish().0,
        measurement,
        state,
        frames,
        ltas: Some(ltas.finish()),
        chained: None,
    })
}

/// The integrated loudness (and the album's gating state) of the track
/// after its chain, metered alone: what a track measured once more with
/// its matching EQ needs (its source was measured by the first pass).
///
/// With `keep`, the chain's output also goes to that file (every block,
/// empty ones too), for [`probe`] to start from.
pub fn measure_loudness(
    plan: &TrackPlan,
    ceiling_dbtp: f64,
    keep: Option<&Path>,
    progress: Progress<'_>,
) -> Result<(Measurement, LoudnessState), MasterError> {
    let mut chain = plan.pre_chain(ceiling_dbtp)?;
    let mut meter = Meter::loudness_only(plan.info.sample_rate).map_err(meter_err(plan))?;
    let mut file = keep.map(SpoolWriter::create_keeping_empty).transpose()?;
    let mut out = chain.output_block();
    let track = Some(plan.number);
    let side = |out: &Block| {
        timed("measure: after chain", track, || meter.add(out));
        match file.as_mut() {
            Some(f) => {
                let _t = span("spool: write", track);
                f.write(out)
            }
            None => Ok(()),
        }
    };
    with_side(plan.side_thread, side, |send| {
        read_kept(plan, progress, |b| {
            timed("chain (measuring pass)", track, || {
                chain.process(b, &mut out)
            });
            send(&out)
        })?;
        chain.finish(&mut out);
        send(&out)
    })?;
    if let Some(f) = file {
        f.finish()?;
    }
    Ok(meter.finish())
}

/// Measures the track after its chain (and `gain_db`).
pub fn measure_pre(
    plan: &TrackPlan,
    ceiling_dbtp: f64,
    progress: Progress<'_>,
) -> Result<PreMeasure, MasterError> {
    let mut chain = plan.pre_chain(ceiling_dbtp)?;
    let (mut meter, mut source) = pre_meters(plan)?;
    let mut out = chain.output_block();
    let track = Some(plan.number);
    let side = |b: &Block| {
        timed("measure: source", track, || source.add(b));
        Ok(())
    };
    with_side(plan.side_thread, side, |send| {
        read_kept(plan, progress, |b| {
            send(b)?;
            timed("chain (measuring pass)", track, || {
                chain.process(b, &mut out)
            });
            timed("measure: after chain", track, || meter.add(&out));
            Ok(())
        })
    })?;
    chain.finish(&mut out);
    meter.add(&out);
    let frames = meter.frames();
    let (measurement, state) = meter.finish();
    Ok(PreMeasure {
        source: source.finish().0,
        measurement,
        state,
        frames,
        ltas: None,
        chained: None,
    })
}

/// A rendered master: its figures as the meter reads them.
pub struct Rendered {
    pub measurement: Measurement,
    pub state: LoudnessState,
    pub frames: u64,
    /// The master's gated spectrum, for a track with tonal matching.
    pub ltas: Option<Ltas>,
}

/// The meters of a master as the sinks get it: the full meter, the peak
/// of an ideal reconstruction, the restoration detectors when the plan
/// asks, and the gated spectrum of a tonally matched track. They are kept
/// apart (not inside the [`Meter`], which can hold the two middle ones) so
/// that [`replay`] can run each on its own thread; the figures are the
/// same either way.
struct MasterMeters {
    meter: Meter,
    /// Playback translation, fed apart from `meter` (which keeps the
    /// short-term energies it needs).
    translation: Option<Box<TranslationMeter>>,
    recon: ReconstructedPeak,
    restoration: Option<RestorationPass>,
    ltas: Option<LtasMeter>,
    track: Option<u32>,
}

impl MasterMeters {
    fn new(plan: &TrackPlan) -> Result<MasterMeters, MasterError> {
        let rate = plan.info.sample_rate;
        let mut meter = Meter::new(rate).map_err(meter_err(plan))?;
        let mut translation = None;
        if plan.translation {
            translation = Some(Box::new(
                meter.detached_translation().map_err(meter_err(plan))?,
            ));
            meter = meter.keeping_short_terms();
        }
        let restoration = plan
            .restoration
            .map(|ms| RestorationPass::new(rate, &Params::processed(plan.info.channels, ms)));
        let ltas = plan
            .tonal
            .as_ref()
            .map(|m| LtasMeter::new(rate, &super::tonal::bands(m.resolution)));
        Ok(MasterMeters {
            meter,
            translation,
            recon: ReconstructedPeak::new(),
            restoration,
            ltas,
            track: Some(plan.number),
        })
    }

    /// Meters one block of the master and hands it to every sink.
    fn emit(&mut self, out: &Block, sinks: &mut [Box<dyn Sink>]) -> Result<(), MasterError> {
        if out.is_empty() {
            return Ok(());
        }
        let track = self.track;
        timed("measure: master", track, || {
            self.meter.add(out);
            if let Some(t) = self.translation.as_mut() {
                t.feed(&out.left, &out.right);
            }
            self.recon.add(out);
            if let Some(p) = self.restoration.as_mut() {
                p.add(out);
            }
        });
        if let Some(l) = self.ltas.as_mut() {
            timed("measure: spectrum", track, || l.add(&out.left, &out.right));
        }
        for s in sinks.iter_mut() {
            let _t = span(s.stage(), track);
            s.write(out)?;
        }
        Ok(())
    }

    /// Finishes the sinks and the meters.
    fn finish(self, sinks: &mut [Box<dyn Sink>]) -> Result<Rendered, MasterError> {
        for s in sinks.iter_mut() {
            let _t = span(s.stage(), self.track);
            s.finish()?;
        }
        Ok(self.rendered())
    }

    /// The figures, once everything is metered.
    fn rendered(mut self) -> Rendered {
        let frames = self.meter.frames();
        let short_terms = self.meter.take_short_terms();
        let (mut measurement, state) = self.meter.finish();
        measurement.translation = self
            .translation
            .map(|t| t.figures_with(measurement.integrated_lufs, &short_terms));
        measurement.reconstructed_peak_dbfs = self.recon.dbfs();
        measurement.restoration = self.restoration.map(RestorationPass::finish);
        Rendered {
            measurement,
            state,
            frames,
            ltas: self.ltas.map(|l| l.finish()),
        }
    }
}

/// Runs the source through the chain before the gain, the gain, the
/// final limiter and the fade, handing each block of the master to `f`
/// (the flushes of the chains' latency included).
fn run_chain(
    plan: &TrackPlan,
    ceiling_dbtp: f64,
    gain_db: f64,
    frames: u64,
    progress: Progress<'_>,
    mut f: impl FnMut(&Block) -> Result<(), MasterError>,
) -> Result<(), MasterError> {
    let mut pre = plan.pre_chain(ceiling_dbtp)?;
    let mut post = plan.post_chain(gain_db, frames)?;
    let mut mid = pre.output_block();
    let mut out = post.output_block();
    let track = Some(plan.number);
    read_kept(plan, progress, |b| {
        timed("chain (render)", track, || {
            pre.process(b, &mut mid);
            post.process(&mid, &mut out);
        });
        f(&out)
    })?;
    pre.finish(&mut mid);
    post.process(&mid, &mut out);
    f(&out)?;
    post.finish(&mut out);
    f(&out)
}

/// Renders the track with loudness gain `gain_db` into `sinks`, metering
/// the result. `frames` is the track's length after trimming (from
/// [`measure_pre`]), which places the fade-out.
pub fn render(
    plan: &TrackPlan,
    ceiling_dbtp: f64,
    gain_db: f64,
    frames: u64,
    sinks: &mut [Box<dyn Sink>],
    progress: Progress<'_>,
) -> Result<Rendered, MasterError> {
    let mut meters = MasterMeters::new(plan)?;
    run_chain(plan, ceiling_dbtp, gain_db, frames, progress, |out| {
        meters.emit(out, sinks)
    })?;
    meters.finish(sinks)
}

/// A loudness probe ([`super::spool`]): renders the track at `gain_db`
/// as [`render`] does, into the spool file at `spool` instead of the
/// sinks, metering only its integrated loudness (LUFS; `None`: silence).
///
/// With `chained`, the file [`measure_loudness`] kept of the chain before
/// the gain, the probe starts from it instead of decoding the source and
/// running that chain again: the same blocks, so the same master.
pub fn probe(
    plan: &TrackPlan,
    ceiling_dbtp: f64,
    (gain_db, frames): (f64, u64),
    (chained, spool): (Option<&Path>, &Path),
    progress: Progress<'_>,
) -> Result<Option<f64>, MasterError> {
    let mut meter = Meter::loudness_only(plan.info.sample_rate).map_err(meter_err(plan))?;
    let mut file = SpoolWriter::create(spool)?;
    let track = Some(plan.number);
    let side = |out: &Block| {
        timed("measure: loudness (probe)", track, || meter.add(out));
        let _t = span("spool: write", track);
        file.write(out)
    };
    with_side(plan.side_thread, side, |f| match chained {
        Some(path) => {
            let mut post = plan.post_chain(gain_db, frames)?;
            let mut out = post.output_block();
            let mut mid = Block::with_capacity(BLOCK_FRAMES);
            let mut reader = SpoolReader::open(path)?;
            while timed("spool: read", track, || reader.read(&mut mid))? {
                progress(mid.len() as u64);
                timed("chain (render)", track, || post.process(&mid, &mut out));
                f(&out)?;
            }
            post.finish(&mut out);
            f(&out)
        }
        None => run_chain(plan, ceiling_dbtp, gain_db, frames, progress, f),
    })?;
    file.finish()?;
    Ok(meter.finish().0.integrated_lufs)
}

/// The master a [`probe`] left in `spool`, read back into the meters and
/// the sinks: what [`render`] at the probe's gain gives, byte for byte.
/// Each meter and each sink reads the file itself, as a task of the
/// worker pool, so that a core with no track left to start (the end of
/// the album, an album of fewer tracks than cores) takes an encoder or a
/// meter of a track still running. The spool file is removed afterwards.
pub fn replay(
    plan: &TrackPlan,
    spool: &Path,
    sinks: &mut [Box<dyn Sink>],
) -> Result<Rendered, MasterError> {
    use rayon::prelude::*;
    type Task<'a> = Box<dyn FnOnce() -> Result<(), MasterError> + Send + 'a>;
    let mut meters = MasterMeters::new(plan)?;
    let track = meters.track;
    let feed = |f: &mut dyn FnMut(&Block) -> Result<(), MasterError>| {
        let mut reader = SpoolReader::open(spool)?;
        let mut block = Block::with_capacity(BLOCK_FRAMES);
        while timed("spool: read", track, || reader.read(&mut block))? {
            f(&block)?;
        }
        Ok(())
    };
    let feed = &feed;
    {
        let MasterMeters {
            meter,
            translation,
            recon,
            restoration,
            ltas,
            ..
        } = &mut meters;
        let mut tasks: Vec<Task<'_>> = vec![
            Box::new(move || {
                feed(&mut |b| {
                    timed("measure: master", track, || meter.add(b));
                    Ok(())
                })
            }),
            Box::new(move || {
                feed(&mut |b| {
                    timed("measure: master", track, || recon.add(b));
                    Ok(())
                })
            }),
        ];
        if let Some(t) = translation.as_mut() {
            tasks.push(Box::new(move || {
                feed(&mut |b| {
                    timed("measure: translation", track, || t.feed(&b.left, &b.right));
                    Ok(())
                })
            }));
        }
        if let Some(p) = restoration.as_mut() {
            tasks.push(Box::new(move || {
                feed(&mut |b| {
                    timed("measure: master", track, || p.add(b));
                    Ok(())
                })
            }));
        }
        if let Some(l) = ltas.as_mut() {
            tasks.push(Box::new(move || {
                feed(&mut |b| {
                    timed("measure: spectrum", track, || l.add(&b.left, &b.right));
                    Ok(())
                })
            }));
        }
        for s in sinks.iter_mut() {
            tasks.push(Box::new(move || {
                let stage = s.stage();
                feed(&mut |b| {
                    let _t = span(stage, track);
                    s.write(b)
                })?;
                let _t = span(stage, track);
                s.finish()
            }));
        }
        tasks
            .into_par_iter()
            .with_max_len(1)
            .map(|t| t())
            .collect::<Result<(), MasterError>>()?;
    }
    std::fs::remove_file(spool).map_err(|e| MasterError::Io {
        path: spool.to_owned(),
        source: e,
    })?;
    Ok(meters.rendered())
}
