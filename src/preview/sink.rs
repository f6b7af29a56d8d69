//! The codec preview's [`Sink`]: one per track and store rate.
//!
//! It takes the master's blocks as every sink does, resamples them once
//! to the rate the stores encode at (when the master is at another), and
//! hands the same `f32` samples to each codec's encoder at that rate, block
//! by block, and to a work spool (`preview-NN-RATE.f32`, 8 bytes a frame).
//! At `finish` each encode is decoded and measured against the spool
//! ([`super::measure`]), and
//! the figures are left in the track's [`PreviewSlot`]; the encodes and
//! the spool are removed (the encodes kept in `GLASSMASTER_PREVIEW_DIR`
//! when it is set). A sink dropped before `finish` (a render that did not
//! land) removes its files and leaves the slot as it was.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::measure::{measure, spool_bytes};
use super::{CodecFigures, PlannedCodec};
use crate::analysis::Meter;
use crate::audio::{Block, BLOCK_FRAMES};
use crate::deliver::encode::preview::{Availability, PreviewEncoder};
use crate::dsp::Resampler;
use crate::master::{MasterError, Sink};

/// Where a track's sinks leave their figures: `(index in the plan, figures)`.
pub type PreviewSlot = Arc<Mutex<Vec<(usize, CodecFigures)>>>;

/// The track's `codecs[]`: every planned codec in the plan's order, the
/// measured ones from the slot, the unavailable ones with their note.
pub fn take(slot: &PreviewSlot, plan: &[PlannedCodec]) -> Vec<CodecFigures> {
    let got = std::mem::take(&mut *slot.lock().unwrap_or_else(|e| e.into_inner()));
    plan.iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.availability {
            Availability::Missing(why) => Some(CodecFigures::unavailable(c, why)),
            Availability::Ready => got.iter().find(|(k, _)| *k == i).map(|(_, f)| f.clone()),
        })
        .collect()
}

/// The sinks of one track whose master is at `master_hz`: one per rate of
/// the available codecs of `plan`.
pub fn sinks(
    plan: &[PlannedCodec],
    master_hz: u32,
    track: u32,
    work: &Path,
    slot: &PreviewSlot,
) -> Result<Vec<Box<dyn Sink>>, MasterError> {
    let mut rates: Vec<u32> = Vec::new();
    for c in plan
        .iter()
        .filter(|c| c.availability == Availability::Ready)
    {
        if !rates.contains(&c.sample_rate) {
            rates.push(c.sample_rate);
        }
    }
    rates
        .into_iter()
        .map(|rate| {
            let codecs = plan
                .iter()
                .enumerate()
                .filter(|(_, c)| c.availability == Availability::Ready && c.sample_rate == rate)
                .map(|(i, c)| (i, c.clone()))
                .collect();
            PreviewSink::create(codecs, master_hz, track, work, slot.clone())
                .map(|s| Box::new(s) as Box<dyn Sink>)
        })
        .collect()
}

struct Encode {
    index: usize,
    plan: PlannedCodec,
    file: PathBuf,
    enc: Option<PreviewEncoder>,
}

/// Encodes a track's master for the codecs at one rate.
pub struct PreviewSink {
    track: u32,
    rate: u32,
    resampler: Option<Resampler>,
    resampled: Block,
    codecs: Vec<Encode>,
    reference: PathBuf,
    spool: Option<BufWriter<File>>,
    bytes: Vec<u8>,
    left: Vec<f32>,
    right: Vec<f32>,
    input: Option<Meter>,
    slot: PreviewSlot,
    keep: bool,
    done: bool,
}

fn track_err(track: u32, what: &str, e: impl std::fmt::Display) -> MasterError {
    MasterError::Track {
        track,
        message: format!("codec preview, {what}: {e}"),
    }
}

impl PreviewSink {
    fn create(
        codecs: Vec<(usize, PlannedCodec)>,
        master_hz: u32,
        track: u32,
        work: &Path,
        slot: PreviewSlot,
    ) -> Result<PreviewSink, MasterError> {
        let rate = codecs.first().map_or(master_hz, |(_, c)| c.sample_rate);
        let err = |what: &str, e: &dyn std::fmt::Display| track_err(track, what, e);
        let resampler = if rate == master_hz {
            None
        } else {
            Some(Resampler::new(master_hz, rate).map_err(|e| err("resampler", &e))?)
        };
        let keep_dir = super::keep_dir();
        let dir = keep_dir.clone().unwrap_or_else(|| work.to_owned());
        std::fs::create_dir_all(&dir).map_err(|e| MasterError::Io {
            path: dir.clone(),
            source: e,
        })?;
        let mut encodes = Vec::new();
        for (index, plan) in codecs {
            let file = dir.join(format!(
                "preview-{track:02}-{}-{}k-{}.{}",
                plan.codec.id(),
                plan.bitrate_kbps,
                plan.sample_rate,
                plan.codec.extension()
            ));
            let enc =
                PreviewEncoder::start(plan.codec, &file, rate, plan.bitrate_kbps, u64::from(track))
                    .map_err(|e| err(&plan.describe(), &e))?;
            encodes.push(Encode {
                index,
                plan,
                file,
                enc: Some(enc),
            });
        }
        let reference = work.join(format!("preview-{track:02}-{rate}.f32"));
        let spool = File::create(&reference).map_err(|e| MasterError::Io {
            path: reference.clone(),
            source: e,
        })?;
        Ok(PreviewSink {
            track,
            rate,
            resampled: Block::with_capacity(
                resampler
                    .as_ref()
                    .map_or(BLOCK_FRAMES, |r| r.max_output_frames(BLOCK_FRAMES)),
            ),
            resampler,
            codecs: encodes,
            reference,
            spool: Some(BufWriter::with_capacity(1 << 18, spool)),
            bytes: Vec::with_capacity(BLOCK_FRAMES * 8),
            left: Vec::with_capacity(BLOCK_FRAMES),
            right: Vec::with_capacity(BLOCK_FRAMES),
            input: Some(Meter::loudness_only(rate).map_err(|e| err("meter", &e))?),
            slot,
            keep: keep_dir.is_some(),
            done: false,
        })
    }

    /// One block at the stores' rate to the encoders, the spool and the
    /// input's loudness meter.
    fn feed(&mut self, b: &Block) -> Result<(), MasterError> {
        if b.is_empty() {
            return Ok(());
        }
        self.left.clear();
        self.right.clear();
        self.left.extend(b.left.iter().map(|&x| x as f32));
        self.right.extend(b.right.iter().map(|&x| x as f32));
        for c in &mut self.codecs {
            let enc = c.enc.as_mut().expect("encoders open until finish");
            enc.encode(&self.left, &self.right)
                .map_err(|e| track_err(self.track, &c.plan.describe(), e))?;
        }
        spool_bytes(b, &mut self.bytes);
        let spool = self.spool.as_mut().expect("spool open until finish");
        spool.write_all(&self.bytes).map_err(|e| MasterError::Io {
            path: self.reference.clone(),
            source: e,
        })?;
        if let Some(m) = self.input.as_mut() {
            m.add(b);
        }
        Ok(())
    }

    /// Feeds `block` through the resampler (when there is one).
    fn write_resampled(&mut self, block: &Block, last: bool) -> Result<(), MasterError> {
        let Some(mut r) = self.resampler.take() else {
            return if last { Ok(()) } else { self.feed(block) };
        };
        let mut out = std::mem::take(&mut self.resampled);
        let res = if last {
            r.finish(&mut out)
        } else {
            r.process(block, &mut out)
        };
        let res = res
            .map_err(|e| track_err(self.track, "resampler", e))
            .and_then(|()| self.feed(&out));
        self.resampled = out;
        self.resampler = Some(r);
        res
    }
}

impl Sink for PreviewSink {
    fn write(&mut self, block: &Block) -> Result<(), MasterError> {
        self.write_resampled(block, false)
    }

    fn finish(&mut self) -> Result<(), MasterError> {
        self.write_resampled(&Block::default(), true)?;
        for c in &mut self.codecs {
            if let Some(enc) = c.enc.take() {
                enc.finish()
                    .map_err(|e| track_err(self.track, &c.plan.describe(), e))?;
            }
        }
        if let Some(s) = self.spool.take() {
            s.into_inner().map_err(|e| MasterError::Io {
                path: self.reference.clone(),
                source: e.into_error(),
            })?;
        }
        let input = self.input.take().and_then(|m| m.finish().0.integrated_lufs);
        let (track, rate, reference) = (self.track, self.rate, &self.reference);
        let jobs: Vec<(usize, &PlannedCodec, &Path)> = self
            .codecs
            .iter()
            .map(|c| (c.index, &c.plan, c.file.as_path()))
            .collect();
        // One after the other, in this sink's task: the pool already runs
        // the other sinks and tracks beside it, and a measure stolen by a
        // thread inside another sink's timing span would count twice.
        let figures: Vec<(usize, CodecFigures)> = jobs
            .into_iter()
            .map(|(index, plan, file)| {
                let m = measure(plan.codec, file, reference, rate)
                    .map_err(|e| track_err(track, &plan.describe(), e))?;
                let less = |a: Option<f64>| a.zip(input).map(|(a, i)| a - i);
                Ok((
                    index,
                    CodecFigures {
                        codec: plan.codec,
                        bitrate_kbps: plan.bitrate_kbps,
                        sample_rate: plan.sample_rate,
                        stores: plan.stores.clone(),
                        available: true,
                        note: None,
                        frames: Some(m.frames),
                        true_peak_dbtp: m.true_peak_dbtp,
                        reconstructed_peak_dbfs: m.reconstructed_peak_dbfs,
                        sample_peak_dbfs: m.sample_peak_dbfs,
                        clipped_on_sample: Some(m.clipped_on_sample),
                        clipped_inter_sample: Some(m.clipped_inter_sample),
                        integrated_lufs: m.integrated_lufs,
                        loudness_change_lu: less(m.integrated_lufs),
                        artefact_lufs: m.artefact_lufs,
                        artefact_lu: less(m.artefact_lufs),
                    },
                ))
            })
            .collect::<Result<_, MasterError>>()?;
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.retain(|(k, _)| !figures.iter().any(|(i, _)| i == k));
        slot.extend(figures);
        drop(slot);
        self.done = true;
        self.remove_files();
        Ok(())
    }

    fn stage(&self) -> &'static str {
        "codec preview"
    }
}

impl PreviewSink {
    fn remove_files(&self) {
        let _ = std::fs::remove_file(&self.reference);
        if !self.keep {
            for c in &self.codecs {
                let _ = std::fs::remove_file(&c.file);
            }
        }
    }
}

impl Drop for PreviewSink {
    fn drop(&mut self) {
        if !self.done {
            self.spool = None;
            self.remove_files();
        }
    }
}
