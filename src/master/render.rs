//! Streaming one track through its chains, block by block.

use super::plan::TrackPlan;
use super::MasterError;
use crate::analysis::ltas::{Bands, Ltas, LtasMeter};
use crate::analysis::restoration::Params;
use crate::analysis::{LoudnessState, Measurement, Meter};
use crate::audio::{Block, Decoder, BLOCK_FRAMES};
use crate::dsp::Chain;
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
fn read_kept(
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
    pub measurement: Measurement,
    pub state: LoudnessState,
    /// Frames the track has after trimming.
    pub frames: u64,
    /// The gated spectrum at the matching EQ's place, when asked for.
    pub ltas: Option<Ltas>,
}

/// The meters of the measuring pass: after the chain, and of the source.
fn pre_meters(plan: &TrackPlan) -> Result<(Meter, Meter), MasterError> {
    let err = |e: crate::analysis::AnalysisError| MasterError::Track {
        track: plan.number,
        message: e.to_string(),
    };
    Ok((
        Meter::new(plan.info.sample_rate).map_err(err)?,
        Meter::for_source(&plan.info).map_err(err)?,
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
    read_kept(plan, progress, |b| {
        timed("measure: source", track, || source.add(b));
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
    })
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
    read_kept(plan, progress, |b| {
        timed("measure: source", track, || source.add(b));
        timed("chain (measuring pass)", track, || {
            chain.process(b, &mut out)
        });
        timed("measure: after chain", track, || meter.add(&out));
        Ok(())
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
    let mut pre = plan.pre_chain(ceiling_dbtp)?;
    let mut post = plan.post_chain(gain_db, frames)?;
    let mut meter = Meter::new(plan.info.sample_rate)
        .map_err(|e| MasterError::Track {
            track: plan.number,
            message: e.to_string(),
        })?
        .with_reconstruction();
    if let Some(ms) = plan.restoration {
        meter = meter.with_restoration(Params::processed(plan.info.channels, ms));
    }
    let mut mid = pre.output_block();
    let mut out = post.output_block();
    let mut ltas = plan
        .tonal
        .as_ref()
        .map(|m| LtasMeter::new(plan.info.sample_rate, &super::tonal::bands(m.resolution)));
    let track = Some(plan.number);
    let mut emit = |out: &Block, meter: &mut Meter| -> Result<(), MasterError> {
        if out.is_empty() {
            return Ok(());
        }
        timed("measure: master", track, || meter.add(out));
        if let Some(l) = ltas.as_mut() {
            timed("measure: spectrum", track, || l.add(&out.left, &out.right));
        }
        for s in sinks.iter_mut() {
            let _t = span(s.stage(), track);
            s.write(out)?;
        }
        Ok(())
    };
    let step =
        |pre: &mut Chain, post: &mut Chain, input: &Block, mid: &mut Block, out: &mut Block| {
            let _t = span("chain (render)", track);
            pre.process(input, mid);
            post.process(mid, out);
        };
    read_kept(plan, progress, |b| {
        step(&mut pre, &mut post, b, &mut mid, &mut out);
        emit(&out, &mut meter)
    })?;
    pre.finish(&mut mid);
    post.process(&mid, &mut out);
    emit(&out, &mut meter)?;
    post.finish(&mut out);
    emit(&out, &mut meter)?;
    for s in sinks.iter_mut() {
        let _t = span(s.stage(), track);
        s.finish()?;
    }
    let frames_out = meter.frames();
    let (measurement, state) = meter.finish();
    Ok(Rendered {
        measurement,
        state,
        frames: frames_out,
        ltas: ltas.map(|l| l.finish()),
    })
}
