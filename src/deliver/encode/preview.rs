//! The codecs of the codec preview ([`crate::preview`]): one encode of a
//! stream into a work file, with the bundles' own encoders, and the file
//! decoded back with the decoders the bundles' ceiling uses.
//!
//! A store's stream is encoded as the store encodes what it is given: at
//! unity gain, no ceiling loop (that is what the preview is there to show),
//! at the store's bit rate and rate. The encoders are those of
//! [`super::TrackEncoder`] (LAME with its LAME tag, libvorbis with aoTuV,
//! libopus in glassmaster's Ogg writer, rusty_aac in glassmaster's MP4
//! writer) through their [`LossyCodec`]; the decoders are symphonia for
//! MP3 (gapless, trimmed by the LAME tag) and Vorbis (trimmed to the last
//! granule), glassmaster's own Ogg reader with libopus for Opus (pre-skip
//! dropped, end cut at the last granule) and its MP4 reader with
//! rusty_aac's decoder for AAC (trimmed by the edit list), so every decoded
//! stream starts at the first sample of what was encoded and is exactly as
//! long.
//!
//! A codec glassmaster had no encoder for would be
//! [`Availability::Missing`] (AAC was, until its encoder landed): adding
//! one is one arm of [`codec`] (and, if symphonia cannot decode it, one arm
//! of [`decode`]).

use std::path::Path;

use super::lossy::{LossyCodec, LossyPass};
use crate::audio::{Block, Decoder};
use crate::deliver::DeliverError;
use crate::preview::PreviewCodec;

/// Whether the preview can encode a codec in this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Ready,
    /// Why not, in a sentence for the report.
    Missing(String),
}

/// Whether `kind` can be previewed.
pub fn availability(kind: PreviewCodec) -> Availability {
    match kind {
        PreviewCodec::Mp3 | PreviewCodec::Vorbis | PreviewCodec::Opus | PreviewCodec::Aac => {
            Availability::Ready
        }
    }
}

/// The bundle encoder for `kind` at `rate` and `kbps`; `seed` fixes the
/// Ogg serials (the track number).
fn codec(
    kind: PreviewCodec,
    path: &Path,
    rate: u32,
    kbps: u32,
    seed: u64,
) -> Result<Box<dyn LossyCodec>, DeliverError> {
    Ok(match kind {
        PreviewCodec::Mp3 => Box::new(super::mp3::Mp3Codec::new(path, rate, kbps)?),
        PreviewCodec::Vorbis => Box::new(super::ogg::VorbisCodec::new(path, rate, kbps, seed)?),
        PreviewCodec::Opus => Box::new(super::opus::OpusCodec::new(path, rate, rate, kbps, seed)?),
        PreviewCodec::Aac => Box::new(super::aac::AacCodec::new(path, rate, kbps)?),
    })
}

/// One encode of a stream into a file, fed planar `f32` blocks.
pub struct PreviewEncoder {
    pass: Box<dyn LossyPass>,
}

// SAFETY: a pass is LAME's encoder or libopus's (both `Send` in their
// crates) or vorbis_rs's `VorbisEncoder`, which is not `Send` only because
// it holds raw pointers to libvorbis's state: plain heap memory with no
// thread-local or thread-affine part. A `PreviewEncoder` is owned by one
// sink, which the pool may move to another thread between calls but never
// shares (`PreviewEncoder` is not `Sync`), so the state is only ever
// touched by one thread at a time.
unsafe impl Send for PreviewEncoder {}

impl std::fmt::Debug for PreviewEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviewEncoder").finish_non_exhaustive()
    }
}

impl PreviewEncoder {
    /// Starts encoding into `file` (created or truncated).
    pub fn start(
        kind: PreviewCodec,
        file: &Path,
        rate: u32,
        kbps: u32,
        seed: u64,
    ) -> Result<PreviewEncoder, DeliverError> {
        let c = codec(kind, file, rate, kbps, seed)?;
        let pass = c.start(file, file)?;
        Ok(PreviewEncoder { pass })
    }

    /// The next samples (planar stereo, full scale 1.0).
    pub fn encode(&mut self, left: &[f32], right: &[f32]) -> Result<(), DeliverError> {
        if left.is_empty() {
            return Ok(());
        }
        self.pass.encode(left, right)
    }

    /// Ends the stream and closes the file.
    pub fn finish(self) -> Result<(), DeliverError> {
        self.pass.finish()
    }
}

/// A decoder that hands blocks to a plain callback (`(frames, rate)` or a
/// reason): `f`'s first error stops the handing and is returned.
type CallbackDecoder = fn(&Path, &mut dyn FnMut(&Block)) -> Result<(u64, u32), String>;

fn through_callback(
    file: &Path,
    codec: &'static str,
    decoder: CallbackDecoder,
    f: &mut dyn FnMut(&Block) -> Result<(), DeliverError>,
) -> Result<u64, DeliverError> {
    let mut failed = None;
    let (n, _) = decoder(file, &mut |b| {
        if failed.is_none() {
            if let Err(e) = f(b) {
                failed = Some(e);
            }
        }
    })
    .map_err(|reason| DeliverError::Codec {
        path: file.to_path_buf(),
        codec,
        reason,
    })?;
    failed.map_or(Ok(n), Err)
}

/// Decodes the `kind` file at `file`, handing its blocks to `f` in order;
/// returns the frames decoded.
pub fn decode(
    kind: PreviewCodec,
    file: &Path,
    f: &mut dyn FnMut(&Block) -> Result<(), DeliverError>,
) -> Result<u64, DeliverError> {
    match kind {
        PreviewCodec::Opus => {
            through_callback(file, "Opus decoder", |p, g| super::decode_opus(p, g), f)
        }
        PreviewCodec::Aac => {
            through_callback(file, "AAC decoder", |p, g| super::aac::decode_file(p, g), f)
        }
        PreviewCodec::Mp3 | PreviewCodec::Vorbis => {
            let audio = |e| DeliverError::Audio {
                source: Box::new(e),
            };
            let mut dec = Decoder::open(file).map_err(audio)?;
            let mut b = Block::with_capacity(crate::audio::BLOCK_FRAMES);
            let mut n = 0u64;
            while dec.read_block(&mut b).map_err(audio)? > 0 {
                n += b.len() as u64;
                f(&b)?;
            }
            Ok(n)
        }
    }
}
