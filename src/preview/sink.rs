//! The codec preview's [`Sink`]: one per track and store rate.
//!
//! It takes the master's blocks as every sink does, resamples them once
//! to the rate the stores encode at (when the master is at another), and
//! spools the `f32` samples at that rate to a work file
//! (`preview-NN-RATE.f32`, 8 bytes a frame). When passages are wanted
//! it keeps each half second's peak, RMS and brightness ([`WindowStats`]),
//! and a master at another rate is spooled as it is
//! (`preview-NN-RATE-master.f32`): only the passages are resampled, at
//! `finish`, into the spool at the stores' rate (each from a period of the
//! conversion, [`Resampler::period`], with a run-in before it, so its
//! frames are those of the whole track's conversion but for rounding). At
//! `finish` it chooses the passages
//! (the whole track, or with `codec_preview_passages` [`super::passages`]),
//! reads each from the spool once into every codec's encoder at that rate
//! (one file per codec and passage), decodes each encode and measures the
//! passages against the spool ([`super::measure`]), and leaves the
//! figures in the track's [`PreviewSlot`]; the encodes and the spool are
//! removed (the encodes kept in `GLASSMASTER_PREVIEW_DIR` when it is set).
//! A sink dropped before `finish` (a render that did not land) removes its
//! files and leaves the slot as it was.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::measure::{measure, spool_bytes, SpoolFrames};
use super::passages::{Passage, WindowStats};
use super::{CodecFigures, PlannedCodec};
use crate::analysis::Meter;
use crate::audio::{Block, BLOCK_FRAMES};
use crate::deliver::encode::preview::{Availability, PreviewEncoder};
use crate::dsp::resample::resampled_len;
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
    /// The encodes written so far, one per passage.
    files: Vec<PathBuf>,
}

/// Encodes a track's master for the codecs at one rate.
pub struct PreviewSink {
    track: u32,
    rate: u32,
    master_hz: u32,
    /// The master's own spool when only the passages are resampled (a
    /// master at another rate than `rate`, passages wanted); `reference`
    /// is then written at `finish`.
    master_spool: Option<PathBuf>,
    resampler: Option<Resampler>,
    resampled: Block,
    codecs: Vec<Encode>,
    reference: PathBuf,
    spool: Option<BufWriter<File>>,
    bytes: Vec<u8>,
    /// Frames spooled (at the master's rate when `master_spool` is set).
    frames: u64,
    /// The windows' figures for choosing passages; `None` when the whole
    /// track is previewed (not `report.codec_preview_passages`).
    stats: Option<WindowStats>,
    /// The loudness of what was encoded and measured: the passages, fed
    /// as they are read from the spool for the encoders.
    input: Option<Meter>,
    dir: PathBuf,
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
        let whole = codecs.iter().any(|(_, c)| c.whole);
        // Passages of a master at another rate: resampled at `finish`.
        let deferred = !whole && rate != master_hz;
        let resampler = if rate == master_hz || deferred {
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
        let encodes = codecs
            .into_iter()
            .map(|(index, plan)| Encode {
                index,
                plan,
                files: Vec::new(),
            })
            .collect();
        let reference = work.join(format!("preview-{track:02}-{rate}.f32"));
        let master_spool =
            deferred.then(|| work.join(format!("preview-{track:02}-{rate}-master.f32")));
        let spooled = master_spool.as_ref().unwrap_or(&reference);
        let spool = File::create(spooled).map_err(|e| MasterError::Io {
            path: spooled.clone(),
            source: e,
        })?;
        Ok(PreviewSink {
            track,
            rate,
            master_hz,
            master_spool,
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
            frames: 0,
            stats: (!whole).then(|| WindowStats::new(if deferred { master_hz } else { rate })),
            input: Some(Meter::loudness_only(rate).map_err(|e| err("meter", &e))?),
            dir,
            slot,
            keep: keep_dir.is_some(),
            done: false,
        })
    }

    /// One block at the stores' rate to the spool and the statistics.
    fn feed(&mut self, b: &Block) -> Result<(), MasterError> {
        if b.is_empty() {
            return Ok(());
        }
        spool_bytes(b, &mut self.bytes);
        let spool = self.spool.as_mut().expect("spool open until finish");
        spool.write_all(&self.bytes).map_err(|e| MasterError::Io {
            path: self
                .master_spool
                .as_ref()
                .unwrap_or(&self.reference)
                .clone(),
            source: e,
        })?;
        self.frames += b.len() as u64;
        if let Some(w) = self.stats.as_mut() {
            w.add(b);
        }
        Ok(())
    }

    /// The file of `c`'s encode of passage `k` (of `n`).
    fn file(&self, c: &PlannedCodec, k: usize, n: usize) -> PathBuf {
        let part = if n == 1 {
            String::new()
        } else {
            format!("-p{:02}", k + 1)
        };
        self.dir.join(format!(
            "preview-{:02}-{}-{}k-{}{part}.{}",
            self.track,
            c.codec.id(),
            c.bitrate_kbps,
            c.sample_rate,
            c.codec.extension()
        ))
    }

    /// Encodes passage `k` of `n`, `p`, from the spool, for every codec.
    fn encode(&mut self, p: &Passage, k: usize, n: usize) -> Result<(), MasterError> {
        let track = self.track;
        let mut encoders = Vec::with_capacity(self.codecs.len());
        for i in 0..self.codecs.len() {
            let file = self.file(&self.codecs[i].plan, k, n);
            let c = &mut self.codecs[i];
            let enc = PreviewEncoder::start(
                c.plan.codec,
                &file,
                self.rate,
                c.plan.bitrate_kbps,
                u64::from(track),
            )
            .map_err(|e| track_err(track, &c.plan.describe(), e))?;
            c.files.push(file);
            encoders.push(enc);
        }
        let io = |e| MasterError::Io {
            path: self.reference.clone(),
            source: e,
        };
        let mut spool =
            SpoolFrames::open(&self.reference).map_err(|e| track_err(track, "spool", e))?;
        spool.seek(p.encoded_from).map_err(io)?;
        let mut block = Block::with_capacity(BLOCK_FRAMES);
        let (mut left, mut right) = (Vec::new(), Vec::new());
        let mut part = Block::with_capacity(BLOCK_FRAMES);
        let mut at = p.encoded_from;
        while at < p.encoded_to {
            let want = (p.encoded_to - at).min(BLOCK_FRAMES as u64) as usize;
            let got = spool.read(want, &mut block).map_err(io)?;
            if got == 0 {
                break;
            }
            // The measured frames of it to the input's meter.
            let (lo, hi) = (p.from.max(at), p.to.min(at + got as u64));
            if lo < hi {
                let (a, z) = ((lo - at) as usize, (hi - at) as usize);
                part.clear();
                part.left.extend_from_slice(&block.left[a..z]);
                part.right.extend_from_slice(&block.right[a..z]);
                if let Some(m) = self.input.as_mut() {
                    m.add(&part);
                }
            }
            at += got as u64;
            left.clear();
            right.clear();
            left.extend(block.left.iter().map(|&x| x as f32));
            right.extend(block.right.iter().map(|&x| x as f32));
            for (enc, c) in encoders.iter_mut().zip(&self.codecs) {
                enc.encode(&left, &right)
                    .map_err(|e| track_err(track, &c.plan.describe(), e))?;
            }
        }
        for (enc, c) in encoders.into_iter().zip(&self.codecs) {
            enc.finish()
                .map_err(|e| track_err(track, &c.plan.describe(), e))?;
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
        if let Some(s) = self.spool.take() {
            s.into_inner().map_err(|e| MasterError::Io {
                path: self
                    .master_spool
                    .as_ref()
                    .unwrap_or(&self.reference)
                    .clone(),
                source: e.into_error(),
            })?;
        }
        let passages = match self.stats.take() {
            Some(w) if self.master_spool.is_some() => {
                let chosen = w.select(self.master_hz);
                self.resample_passages(&chosen)?
            }
            Some(w) => w.select(self.rate),
            None if self.frames > 0 => vec![Passage::whole(self.frames)],
            None => Vec::new(),
        };
        for (k, p) in passages.iter().enumerate() {
            self.encode(p, k, passages.len())?;
        }
        let input = self.input.take().and_then(|m| m.finish().0.integrated_lufs);
        let (track, rate, reference) = (self.track, self.rate, &self.reference);
        // One after the other, in this sink's task: the pool already runs
        // the other sinks and tracks beside it, and a measure stolen by a
        // thread inside another sink's timing span would count twice.
        let figures: Vec<(usize, CodecFigures)> = self
            .codecs
            .iter()
            .map(|c| {
                let plan = &c.plan;
                let files: Vec<(&Path, Passage)> = c
                    .files
                    .iter()
                    .map(PathBuf::as_path)
                    .zip(passages.iter().copied())
                    .collect();
                let m = measure(plan.codec, &files, reference, rate)
                    .map_err(|e| track_err(track, &plan.describe(), e))?;
                let less = |a: Option<f64>| a.zip(input).map(|(a, i)| a - i);
                Ok((
                    c.index,
                    CodecFigures {
                        codec: plan.codec,
                        bitrate_kbps: plan.bitrate_kbps,
                        sample_rate: plan.sample_rate,
                        stores: plan.stores.clone(),
                        available: true,
                        note: None,
                        frames: Some(m.frames),
                        passages: passages.clone(),
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
    /// Resamples the passages `chosen` (frames of the master) from the
    /// master's spool into the spool at the stores' rate, each at its
    /// place; returns them in frames at that rate.
    fn resample_passages(&mut self, chosen: &[Passage]) -> Result<Vec<Passage>, MasterError> {
        let (track, from_hz, to_hz) = (self.track, self.master_hz, self.rate);
        let source = self.master_spool.clone().expect("deferred sink");
        let total = self.frames;
        let out_total = resampled_len(total, from_hz, to_hz);
        let at_rate = |f: u64| {
            if f >= total {
                out_total
            } else {
                resampled_len(f, from_hz, to_hz)
            }
        };
        let (p_in, p_out) = Resampler::period(from_hz, to_hz);
        let run_in = crate::dsp::resample::FIR_LEN as u64;
        let io_in = |e| MasterError::Io {
            path: source.clone(),
            source: e,
        };
        let io_out = |e| MasterError::Io {
            path: self.reference.clone(),
            source: e,
        };
        let mut rd = SpoolFrames::open(&source).map_err(|e| track_err(track, "spool", e))?;
        let mut wr = File::create(&self.reference).map_err(io_out)?;
        let mut block = Block::with_capacity(BLOCK_FRAMES);
        let new = || Resampler::new(from_hz, to_hz).map_err(|e| track_err(track, "resampler", e));
        let mut out = Block::with_capacity(new()?.max_output_frames(BLOCK_FRAMES));
        let mut passages = Vec::with_capacity(chosen.len());
        for p in chosen {
            let q = Passage {
                encoded_from: at_rate(p.encoded_from),
                from: at_rate(p.from),
                to: at_rate(p.to),
                encoded_to: at_rate(p.encoded_to),
            };
            // From a whole period, a run-in before the encoded frames, to
            // a run-out after them (or the track's end, flushed as the
            // whole track's conversion is).
            let start = p.encoded_from.saturating_sub(run_in) / p_in;
            let (start_in, start_out) = (start * p_in, start * p_out);
            let end_in = (p.encoded_to + run_in).min(total);
            let mut skip = (q.encoded_from - start_out) as usize;
            let mut left = (q.encoded_to - q.encoded_from) as usize;
            let mut r = new()?;
            rd.seek(start_in).map_err(io_in)?;
            wr.seek(SeekFrom::Start(q.encoded_from * 8))
                .map_err(io_out)?;
            let mut wbuf = BufWriter::with_capacity(1 << 18, &mut wr);
            let mut at = start_in;
            loop {
                let last = at >= end_in;
                if last {
                    r.finish(&mut out)
                } else {
                    let want = (end_in - at).min(BLOCK_FRAMES as u64) as usize;
                    let got = rd.read(want, &mut block).map_err(io_in)?;
                    if got == 0 {
                        at = end_in;
                        continue;
                    }
                    at += got as u64;
                    r.process(&block, &mut out)
                }
                .map_err(|e| track_err(track, "resampler", e))?;
                let drop = skip.min(out.len());
                skip -= drop;
                let take = (out.len() - drop).min(left);
                if take > 0 {
                    block.clear();
                    block.left.extend_from_slice(&out.left[drop..drop + take]);
                    block.right.extend_from_slice(&out.right[drop..drop + take]);
                    spool_bytes(&block, &mut self.bytes);
                    wbuf.write_all(&self.bytes).map_err(io_out)?;
                    left -= take;
                }
                if last || left == 0 {
                    break;
                }
            }
            wbuf.flush().map_err(io_out)?;
            drop(wbuf);
            if left > 0 {
                return Err(track_err(
                    track,
                    "resampler",
                    format!("{left} frames short of a passage's end"),
                ));
            }
            passages.push(q);
        }
        let _ = std::fs::remove_file(&source);
        Ok(passages)
    }

    fn remove_files(&self) {
        let _ = std::fs::remove_file(&self.reference);
        if let Some(m) = &self.master_spool {
            let _ = std::fs::remove_file(m);
        }
        if !self.keep {
            for f in self.codecs.iter().flat_map(|c| &c.files) {
                let _ = std::fs::remove_file(f);
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
