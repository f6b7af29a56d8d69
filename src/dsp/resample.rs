//! Sample-rate conversion for the deliverables, streamed block by block.
//!
//! Built on rubato's synchronous FFT resampler (`rubato::Fft`): the
//! conversion ratio is fixed, and for a fixed ratio it is both the fastest
//! and the cleanest choice rubato offers. The anti-aliasing filter is a
//! windowed sinc (BlackmanHarris², rubato's default) as long as one FFT
//! block on the input side; the block is chosen as the smallest even number
//! of rubato's minimum blocks that covers at least [`FIR_LEN`] input frames,
//! which keeps the passband flat to 20 kHz and aliases far down (the figures
//! are in the test suite).
//!
//! Promises:
//! - the output starts with the first input frame: rubato's delay
//!   (half an FFT block, a whole number of output frames because the block
//!   is even) is dropped from the head;
//! - after [`Resampler::finish`] the output holds exactly
//!   `round(input_frames × to / from)` frames, the tail flushed with
//!   silence;
//! - equal rates pass samples through untouched.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler as _, WindowFunction};

use super::DspError;
use crate::audio::Block;

/// Minimum length of the anti-aliasing filter, in input frames.
pub const FIR_LEN: usize = 4096;

/// A streaming stereo resampler from `from_hz` to `to_hz`.
pub struct Resampler {
    from_hz: u32,
    to_hz: u32,
    inner: Option<Fft<f64>>,
    in_buf: Vec<Vec<f64>>,
    in_fill: usize,
    out_buf: Vec<Vec<f64>>,
    /// Output frames still to drop from the head (rubato's delay).
    skip: usize,
    frames_in: u64,
    frames_out: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from_hz", &self.from_hz)
            .field("to_hz", &self.to_hz)
            .field("chunk_in", &self.in_buf[0].len())
            .finish()
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Resampler {
    /// A stereo resampler. Rates from 8 kHz to 768 kHz.
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, DspError> {
        super::check_rate(from_hz)?;
        super::check_rate(to_hz)?;
        let err = |reason: String| DspError::Resampler {
            from_hz,
            to_hz,
            reason,
        };
        if from_hz == to_hz {
            return Ok(Resampler {
                from_hz,
                to_hz,
                inner: None,
                in_buf: vec![Vec::new(); 2],
                in_fill: 0,
                out_buf: vec![Vec::new(); 2],
                skip: 0,
                frames_in: 0,
                frames_out: 0,
            });
        }
        let g = gcd(from_hz as u64, to_hz as u64) as usize;
        let min_in = from_hz as usize / g;
        let mut blocks = FIR_LEN.div_ceil(min_in);
        blocks += blocks % 2;
        let chunk = blocks * min_in;
        let fft = Fft::<f64>::new_custom(
            from_hz as usize,
            to_hz as usize,
            chunk,
            1,
            2,
            WindowFunction::BlackmanHarris2,
            FixedSync::Both,
        )
        .map_err(|e| err(e.to_string()))?;
        let chunk_in = fft.input_frames_max();
        let chunk_out = fft.output_frames_max();
        if chunk_in != chunk || fft.fft_size_out() % 2 != 0 {
            return Err(err(format!(
                "unexpected block sizes {chunk_in} -> {chunk_out}"
            )));
        }
        let skip = fft.output_delay();
        Ok(Resampler {
            from_hz,
            to_hz,
            inner: Some(fft),
            in_buf: vec![vec![0.0; chunk_in]; 2],
            in_fill: 0,
            out_buf: vec![vec![0.0; chunk_out]; 2],
            skip,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Input and output frames of one period of the conversion from
    /// `from_hz` to `to_hz` (160 and 147 for 48 kHz to 44.1 kHz): a stream
    /// resampled from a multiple of the input period on gives the output
    /// frames of the whole stream from that multiple of the output period.
    pub fn period(from_hz: u32, to_hz: u32) -> (u64, u64) {
        let g = gcd(u64::from(from_hz), u64::from(to_hz)).max(1);
        (u64::from(from_hz) / g, u64::from(to_hz) / g)
    }

    /// Input and output rates.
    pub fn rates(&self) -> (u32, u32) {
        (self.from_hz, self.to_hz)
    }

    /// Output frames a track of `frames_in` input frames yields in total.
    pub fn output_len(&self, frames_in: u64) -> u64 {
        resampled_len(frames_in, self.from_hz, self.to_hz)
    }

    /// Most frames one `process` call can write for `frames_in` input
    /// frames; size the output block's capacity with it to avoid growth.
    pub fn max_output_frames(&self, frames_in: usize) -> usize {
        let out_chunk = self.out_buf[0].len().max(1);
        let in_chunk = self.in_buf[0].len().max(1);
        (frames_in / in_chunk + 1) * out_chunk + frames_in
    }

    /// Resamples `input`; `output` is cleared and receives the frames that
    /// are ready (possibly none, possibly more than one rubato block).
    pub fn process(&mut self, input: &Block, output: &mut Block) -> Result<(), DspError> {
        output.clear();
        self.frames_in += input.len() as u64;
        if self.inner.is_none() {
            output.left.extend_from_slice(&input.left);
            output.right.extend_from_slice(&input.right);
            self.frames_out += input.len() as u64;
            return Ok(());
        }
        let chunk_in = self.in_buf[0].len();
        let mut pos = 0;
        while pos < input.len() {
            let take = (chunk_in - self.in_fill).min(input.len() - pos);
            let dst = self.in_fill..self.in_fill + take;
            self.in_buf[0][dst.clone()].copy_from_slice(&input.left[pos..pos + take]);
            self.in_buf[1][dst].copy_from_slice(&input.right[pos..pos + take]);
            self.in_fill += take;
            pos += take;
            if self.in_fill == chunk_in {
                self.run(None, output)?;
            }
        }
        Ok(())
    }

    /// Flushes the tail: `output` is cleared and receives the last frames,
    /// so that the whole output is exactly [`Resampler::output_len`] long.
    pub fn finish(&mut self, output: &mut Block) -> Result<(), DspError> {
        output.clear();
        let want = self.output_len(self.frames_in);
        if self.inner.is_some() {
            let mut partial = Some(self.in_fill);
            while self.frames_out + (output.len() as u64) < want {
                self.run(partial, output)?;
                partial = Some(0);
            }
        }
        let extra = (self.frames_out + output.len() as u64).saturating_sub(want) as usize;
        let keep = output.len() - extra.min(output.len());
        output.left.truncate(keep);
        output.right.truncate(keep);
        self.frames_out += keep as u64;
        self.in_fill = 0;
        Ok(())
    }

    /// Runs one rubato block from `in_buf` and appends it to `output`.
    fn run(&mut self, partial: Option<usize>, output: &mut Block) -> Result<(), DspError> {
        let (from_hz, to_hz) = (self.from_hz, self.to_hz);
        let err = |reason: String| DspError::Resampler {
            from_hz,
            to_hz,
            reason,
        };
        let fft = self.inner.as_mut().expect("resampler present");
        let chunk_in = self.in_buf[0].len();
        let chunk_out = self.out_buf[0].len();
        let input = SequentialSliceOfVecs::new(&self.in_buf[..], 2, chunk_in)
            .map_err(|e| err(e.to_string()))?;
        let mut out = SequentialSliceOfVecs::new_mut(&mut self.out_buf[..], 2, chunk_out)
            .map_err(|e| err(e.to_string()))?;
        let indexing = partial.map(|n| Indexing {
            partial_len: Some(n),
            ..Indexing::default()
        });
        let (_, produced) = fft
            .process_into_buffer(&input, &mut out, indexing.as_ref())
            .map_err(|e| err(e.to_string()))?;
        let drop = self.skip.min(produced);
        self.skip -= drop;
        if partial.is_none() {
            // Frames pushed by `finish` are counted there.
            self.frames_out += (produced - drop) as u64;
        }
        output
            .left
            .extend_from_slice(&self.out_buf[0][drop..produced]);
        output
            .right
            .extend_from_slice(&self.out_buf[1][drop..produced]);
        self.in_fill = 0;
        Ok(())
    }
}

/// Frames a stream of `frames_in` frames at `from_hz` has at `to_hz`:
/// `round(frames_in x to / from)`, what a [`Resampler`] gives in all. For
/// those who must know the length before any resampler exists (the
/// manifest's disc layout).
pub fn resampled_len(frames_in: u64, from_hz: u32, to_hz: u32) -> u64 {
    let (f, t) = (u128::from(from_hz), u128::from(to_hz));
    ((u128::from(frames_in) * t + f / 2) / f) as u64
}
