//! Segued runs on the CD: a track that segues from the one before it (at
//! the same sample rate) is part of one continuous programme with it, and
//! the CD must be that programme resampled and dithered as one stream, not
//! each track on its own (which leaves a click at the cut, where each
//! resampler's filter ran into silence, and moves the later track by a
//! fraction of a sample).
//!
//! How, with the tracks mastered in parallel and memory bounded: the
//! render of a track in a run writes its float master to a spool in
//! `.work` (32-bit float, at the source rate) instead of feeding a
//! [`CdSink`]; once every track is mastered, each track of the run is
//! rendered for the CD on its own thread from the spools: the stream fed
//! to its sink starts [`warm_s`] before the track (on the resampler's
//! phase grid of the run, so the output samples fall where the continuous
//! programme's do) and ends [`AFTER_S`] after it, and the sink's
//! [`CdWindow`] keeps exactly the output frames `round(start × 44100 /
//! rate) ..round(end × 44100 / rate)` counted from the start of the run.
//! The resampler's output at the cut is then the continuous programme's
//! (its filter spans far less than the context); the limiter at 44.1 kHz
//! and the dither enter the track in the state the stream left them in
//! (the limiter's release has settled within the warm-up), and the
//! `none` dither is stateless. The layout puts INDEX 01 of the segue track
//! on the frame nearest to where it begins.
//!
//! A segue between sources of different rates cannot be one stream; each
//! side is then rendered as a track on its own.

use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::sinks::{CdSink, CdSlot, CdWindow, CD_RATE};
use crate::audio::{Block, BLOCK_FRAMES};
use crate::dsp::{DitherKind, LimiterParams, Resampler};
use crate::master::render::Progress;
use crate::master::{MasterError, Sink, TrackPlan};

/// Context after a track, in seconds of the source: the resampler's filter
/// (under 0.1 s at any rate) and the limiter's lookahead (at most 50 ms)
/// read that far past the cut.
pub const AFTER_S: f64 = 0.5;

/// Bytes per stereo frame in a spool (two little-endian `f32`).
const SPOOL_FRAME: usize = 8;

/// Context before a track, in seconds: long enough for the resampler's
/// filter and for the CD limiter's release (`release_ms`) to settle from
/// any state to the continuous stream's (ten time constants, e^-10), at
/// least 2 s and at most a minute.
pub fn warm_s(limiter: &LimiterParams) -> f64 {
    (limiter.release_ms * 1e-2).clamp(2.0, 60.0)
}

/// The runs of two or more tracks whose CD audio is one stream: each
/// track after the first segues from the one before it, at its rate.
pub fn runs(tracks: &[(bool, u32)]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=tracks.len() {
        let joined = i < tracks.len() && tracks[i].0 && tracks[i].1 == tracks[i - 1].1;
        if !joined {
            if i - start >= 2 {
                out.push(start..i);
            }
            start = i;
        }
    }
    out
}

/// A spooled master: its file and length in frames.
#[derive(Debug, Clone)]
pub struct Spool {
    pub path: PathBuf,
    pub frames: u64,
}

/// Filled when a spool is finished (the last render wins).
pub type SpoolSlot = Arc<Mutex<Option<Spool>>>;

/// Writes the float master of a track in a run to its spool.
pub struct SpoolSink {
    track: u32,
    path: PathBuf,
    file: Option<BufWriter<std::fs::File>>,
    bytes: Vec<u8>,
    frames: u64,
    slot: SpoolSlot,
}

impl SpoolSink {
    pub fn create(path: &Path, track: u32, slot: SpoolSlot) -> Result<SpoolSink, MasterError> {
        let file = std::fs::File::create(path).map_err(|e| io(path, e))?;
        Ok(SpoolSink {
            track,
            path: path.to_owned(),
            file: Some(BufWriter::with_capacity(1 << 18, file)),
            bytes: Vec::with_capacity(BLOCK_FRAMES * SPOOL_FRAME),
            frames: 0,
            slot,
        })
    }
}

fn io(path: &Path, source: std::io::Error) -> MasterError {
    MasterError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Sink for SpoolSink {
    fn stage(&self) -> &'static str {
        "CD: segue spool"
    }

    fn write(&mut self, block: &Block) -> Result<(), MasterError> {
        self.bytes.clear();
        for (l, r) in block.left.iter().zip(&block.right) {
            self.bytes.extend_from_slice(&(*l as f32).to_le_bytes());
            self.bytes.extend_from_slice(&(*r as f32).to_le_bytes());
        }
        let f = self.file.as_mut().ok_or_else(|| MasterError::Track {
            track: self.track,
            message: "the CD spool was written after it was finished".into(),
        })?;
        f.write_all(&self.bytes).map_err(|e| io(&self.path, e))?;
        self.frames += block.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), MasterError> {
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| io(&self.path, e))?;
            *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Spool {
                path: self.path.clone(),
                frames: self.frames,
            });
        }
        Ok(())
    }
}

/// What the CD pass of the runs needs besides the plans.
pub struct RunJob<'a> {
    pub plans: &'a [TrackPlan],
    pub runs: &'a [Range<usize>],
    pub spools: &'a [SpoolSlot],
    pub cd_slots: &'a [CdSlot],
    /// Where the CD segments go (`cd-NN.pcm`, as the other tracks').
    pub work: &'a Path,
    pub dither: DitherKind,
    pub jobs: usize,
}

/// Where one track of a run is read from and what its sink keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Run frames (source rate) fed to the sink.
    pub feed: (u64, u64),
    pub window: CdWindow,
}

/// The feed and window of the track at run frames `start..end` of a run
/// of `run_len` frames at `rate`, with `warm` frames of context before.
pub fn span(rate: u32, start: u64, end: u64, run_len: u64, warm: u64) -> Span {
    let (p_in, p_out) = Resampler::period(rate, CD_RATE);
    // The feed starts on the phase grid: its first output frame is an
    // output frame of the whole run.
    let from = start.saturating_sub(warm) / p_in * p_in;
    let after = (f64::from(rate) * AFTER_S).ceil() as u64;
    let to = end.saturating_add(after).min(run_len);
    let at = |frames: u64| crate::dsp::resample::resampled_len(frames, rate, CD_RATE);
    let origin = from / p_in * p_out;
    Span {
        feed: (from, to),
        window: CdWindow {
            skip: at(start) - origin,
            keep: Some(at(end) - at(start)),
        },
    }
}

/// Renders the CD audio of every track in `job.runs` from the spools,
/// `job.jobs` tracks at once; each track's segment lands in its CD slot.
pub fn render_runs(job: &RunJob<'_>, progress: Progress<'_>) -> Result<(), MasterError> {
    let mut work: Vec<(usize, Vec<Spool>, usize)> = Vec::new();
    for run in job.runs {
        let spools: Vec<Spool> = run
            .clone()
            .map(|i| {
                job.spools[i]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .ok_or_else(|| MasterError::Track {
                        track: job.plans[i].number,
                        message: "the master for the CD was not made".into(),
                    })
            })
            .collect::<Result<_, _>>()?;
        for i in run.clone() {
            work.push((i, spools.clone(), run.start));
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(job.jobs.max(1))
        .build()
        .map_err(|e| MasterError::Track {
            track: 0,
            message: format!("cannot start {} worker threads: {e}", job.jobs),
        })?;
    pool.install(|| {
        work.par_iter()
            .map(|(i, spools, first)| render_one(job, *i, spools, *first, progress))
            .collect::<Result<Vec<()>, _>>()
    })?;
    Ok(())
}

/// One track of a run: its context and itself from the spools into a
/// windowed [`CdSink`].
fn render_one(
    job: &RunJob<'_>,
    i: usize,
    spools: &[Spool],
    first: usize,
    progress: Progress<'_>,
) -> Result<(), MasterError> {
    let plan = &job.plans[i];
    let rate = plan.info.sample_rate;
    let mut starts = vec![0u64];
    for s in spools {
        starts.push(starts.last().copied().unwrap_or(0) + s.frames);
    }
    let k = i - first;
    let warm = (warm_s(&plan.limiter) * f64::from(rate)).ceil() as u64;
    let run_len = *starts.last().unwrap_or(&0);
    let sp = span(rate, starts[k], starts[k + 1], run_len, warm);
    let mut sink = CdSink::create(
        &job.work.join(format!("cd-{:02}.pcm", plan.number)),
        plan.number,
        rate,
        plan.limiter,
        job.dither,
        sp.window,
        job.cd_slots[i].clone(),
    )?;
    // Progress counts the track's own frames, not its context.
    let (start, end) = (starts[k], starts[k + 1]);
    let mut pos = sp.feed.0;
    read_run(spools, &starts, sp.feed, |b| {
        let next = pos + b.len() as u64;
        progress(next.clamp(start, end) - pos.clamp(start, end));
        pos = next;
        sink.write(b)
    })?;
    sink.finish()
}

/// Hands run frames `feed.0..feed.1` to `f` in blocks, reading across the
/// spools (`starts`: each spool's first run frame, and the run's end).
fn read_run(
    spools: &[Spool],
    starts: &[u64],
    feed: (u64, u64),
    mut f: impl FnMut(&Block) -> Result<(), MasterError>,
) -> Result<(), MasterError> {
    let mut bytes = vec![0u8; BLOCK_FRAMES * SPOOL_FRAME];
    let mut block = Block::with_capacity(BLOCK_FRAMES);
    for (s, (&a, &b)) in spools.iter().zip(starts.iter().zip(&starts[1..])) {
        let (lo, hi) = (feed.0.clamp(a, b), feed.1.clamp(a, b));
        if lo >= hi {
            continue;
        }
        let file = std::fs::File::open(&s.path).map_err(|e| io(&s.path, e))?;
        let mut r = BufReader::with_capacity(1 << 18, file);
        r.seek(SeekFrom::Start((lo - a) * SPOOL_FRAME as u64))
            .map_err(|e| io(&s.path, e))?;
        let mut left = hi - lo;
        while left > 0 {
            let n = (left as usize).min(BLOCK_FRAMES);
            let buf = &mut bytes[..n * SPOOL_FRAME];
            r.read_exact(buf).map_err(|e| io(&s.path, e))?;
            block.clear();
            for fr in buf.chunks_exact(SPOOL_FRAME) {
                let l = f32::from_le_bytes([fr[0], fr[1], fr[2], fr[3]]);
                let r = f32::from_le_bytes([fr[4], fr[5], fr[6], fr[7]]);
                block.left.push(f64::from(l));
                block.right.push(f64::from(r));
            }
            f(&block)?;
            left -= n as u64;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_segues_at_one_rate() {
        let t = |s, r| (s, r);
        let tracks = [
            t(false, 48_000),
            t(true, 48_000),
            t(true, 48_000),
            t(false, 48_000),
            t(true, 44_100),
            t(false, 44_100),
            t(true, 44_100),
        ];
        assert_eq!(runs(&tracks), vec![0..3, 5..7]);
        assert_eq!(runs(&[t(false, 48_000)]), Vec::<Range<usize>>::new());
    }

    #[test]
    fn spans_fall_on_the_runs_output_grid() {
        // 48 kHz: 160 source frames are 147 output frames.
        let s = span(48_000, 252_345, 600_000, 700_000, 96_000);
        assert_eq!(s.feed.0 % 160, 0);
        assert!(s.feed.0 <= 252_345 - 96_000);
        assert_eq!(s.feed.1, 624_000);
        let at = |x: u64| (x * 44_100 + 24_000) / 48_000;
        assert_eq!(s.window.skip, at(252_345) - s.feed.0 / 160 * 147);
        assert_eq!(s.window.keep, Some(at(600_000) - at(252_345)));
        // The first track: no context before; the last: none after.
        let s = span(48_000, 0, 252_345, 600_000, 96_000);
        assert_eq!((s.feed.0, s.window.skip), (0, 0));
        let s = span(44_100, 10, 20, 20, 5);
        assert_eq!(s.feed, (5, 20));
        assert_eq!(s.window.skip, 5);
    }
}
