//! A mastering chain: block stages run in order, with the limiters'
//! latency hidden so a track streams through with output length equal to
//! input length and no shift.
//!
//! The per-track order of the whole job (see manifest.md, section
//! mastering) is: decode → trim → chain → loudness gain → final true-peak
//! limiter → fades → (per output) resample → dither. The user's `chain`
//! is one [`Chain`]; "loudness gain → final limiter → fades" is a second
//! one built from [`Stage::Gain`], [`Stage::Limiter`] and [`Stage::Fade`].
//! Resampling and dither change the block length or type and run outside.
//!
//! Latency: every stage runs on the delayed stream in place; the chain
//! drops the first `latency_frames()` frames of the result and
//! [`Chain::finish`] pushes as many frames of silence through to bring the
//! tail out (the denoiser's STFT frame and the declipper's look-ahead are
//! latencies of the same kind).
//! A [`Stage::Fade`] placed after a limiter is told the delay, so
//! it still lands on the track's own frames.

use super::{Compressor, Declip, Dehum, Denoise, Eq, Fade, Gain, Limiter, MatchEq, StereoWidth};
use crate::audio::{Block, BLOCK_FRAMES};

/// One stage of a chain.
#[derive(Debug, Clone)]
pub enum Stage {
    Eq(Eq),
    Compressor(Compressor),
    /// Boxed: the limiter's state is several times larger than the others'.
    Limiter(Box<Limiter>),
    Gain(Gain),
    Stereo(StereoWidth),
    Fade(Fade),
    /// Boxed: the FIR's buffers are large.
    MatchEq(Box<MatchEq>),
    Dehum(Dehum),
    /// Boxed: the STFT's buffers are large.
    Denoise(Box<Denoise>),
    /// Boxed: the AR fit's and the solver's buffers are large.
    Declip(Box<Declip>),
}

impl From<Limiter> for Stage {
    fn from(l: Limiter) -> Self {
        Stage::Limiter(Box::new(l))
    }
}

impl Stage {
    /// Frames by which this stage delays its output.
    pub fn latency_frames(&self) -> usize {
        match self {
            Stage::Limiter(l) => l.latency_frames(),
            Stage::MatchEq(m) => m.latency_frames(),
            Stage::Denoise(d) => d.latency_frames(),
            Stage::Declip(d) => d.latency_frames(),
            _ => 0,
        }
    }

    /// Runs the stage on a block in place.
    pub fn process(&mut self, block: &mut Block) {
        match self {
            Stage::Eq(s) => s.process(block),
            Stage::Compressor(s) => s.process(block),
            Stage::Limiter(s) => s.process(block),
            Stage::Gain(s) => s.process(block),
            Stage::Stereo(s) => s.process(block),
            Stage::Fade(s) => s.process(block),
            Stage::MatchEq(s) => s.process(block),
            Stage::Dehum(s) => s.process(block),
            Stage::Denoise(s) => s.process(block),
            Stage::Declip(s) => s.process(block),
        }
    }
}

/// Stages in order, with latency compensation.
#[derive(Debug, Clone)]
pub struct Chain {
    stages: Vec<Stage>,
    latency: usize,
    /// Head frames still to drop.
    skip: usize,
    finished: bool,
}

impl Chain {
    /// A chain of `stages`, run in the order given. An empty chain passes
    /// samples through bit-identical.
    pub fn new(mut stages: Vec<Stage>) -> Self {
        let mut latency = 0;
        for s in &mut stages {
            if let Stage::Fade(f) = s {
                f.delay_by(latency);
            }
            latency += s.latency_frames();
        }
        Chain {
            stages,
            latency,
            skip: latency,
            finished: false,
        }
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Mutable access to the stages (e.g. to read a limiter's reduction).
    pub fn stages_mut(&mut self) -> &mut [Stage] {
        &mut self.stages
    }

    /// Total delay the chain hides, in frames.
    pub fn latency_frames(&self) -> usize {
        self.latency
    }

    /// A block with room for one decoder block plus the chain's latency,
    /// so that neither `process` nor `finish` ever grows it.
    pub fn output_block(&self) -> Block {
        Block::with_capacity(BLOCK_FRAMES.max(self.latency) + self.latency)
    }

    /// Processes `input`; `output` is cleared and receives the frames that
    /// are ready, in step with the input (fewer at the very start while the
    /// latency fills).
    pub fn process(&mut self, input: &Block, output: &mut Block) {
        output.clear();
        output.left.extend_from_slice(&input.left);
        output.right.extend_from_slice(&input.right);
        self.run(output);
    }

    /// Like [`Chain::process`] on the caller's block itself, saving a copy:
    /// the block is processed and loses its first frames while the latency
    /// fills, so it may come back shorter (never longer).
    pub fn process_in_place(&mut self, block: &mut Block) {
        self.run(block);
    }

    /// Ends the track: `output` is cleared and receives the last frames,
    /// so the chain's total output is exactly as long as its total input.
    /// Calling it again yields nothing.
    pub fn finish(&mut self, output: &mut Block) {
        output.clear();
        if self.finished {
            return;
        }
        self.finished = true;
        output.left.resize(self.latency, 0.0);
        output.right.resize(self.latency, 0.0);
        self.run(output);
    }

    fn run(&mut self, block: &mut Block) {
        for s in &mut self.stages {
            s.process(block);
        }
        if self.skip > 0 {
            let k = self.skip.min(block.len());
            block.left.drain(..k);
            block.right.drain(..k);
            self.skip -= k;
        }
    }
}
