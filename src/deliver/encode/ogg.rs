//! The Ogg Vorbis codec of [`super::TrackEncoder`]: libvorbis with the
//! aoTuV tuning (`vorbis_rs`, built from its bundled sources), VBR aimed
//! at the bundle's bit rate (what `oggenc -b N` without `--managed`
//! does), stereo at the bundle's rate. The spool and the ceiling are
//! [`super::lossy`]'s; the decoded true peak is read back with symphonia,
//! which trims the stream to the last page's granule position, i.e. to the
//! master's length.
//!
//! The Ogg stream serial is fixed by the track's seed (the track number),
//! not drawn at random, so that the same manifest gives the same bytes.
//! The comment header carries only the vendor string; the tags are
//! written afterwards by [`crate::deliver::tags`] (lofty), as for FLAC.

use std::fs::File;
use std::io::BufWriter;
use std::num::{NonZeroU32, NonZeroU8};
use std::path::{Path, PathBuf};

use vorbis_rs::{VorbisBitrateManagementStrategy, VorbisEncoder, VorbisEncoderBuilder};

use super::io_err;
use super::lossy::{LossyCodec, LossyPass};
use crate::deliver::DeliverError;

/// Bit rates (kbps) an Ogg Vorbis bundle may ask for: libvorbis's stereo
/// modes at 44.1 and 48 kHz span about 45 to 500 kbps.
pub const VORBIS_KBPS: std::ops::RangeInclusive<u32> = 64..=320;

/// What libvorbis added to the true peak at 320 kbps, dB (see the README,
/// "Ogg Vorbis"): the first encode starts this far under the ceiling.
pub const VORBIS_PREDICTED_OVERSHOOT_DB: f64 = 0.15;

pub(super) struct VorbisCodec {
    rate: u32,
    kbps: u32,
    serial: i32,
}

fn err(path: &Path, e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Codec {
        path: path.to_path_buf(),
        codec: "Vorbis encoder",
        reason: e.to_string(),
    }
}

impl VorbisCodec {
    pub(super) fn new(
        path: &Path,
        rate: u32,
        kbps: u32,
        seed: u64,
    ) -> Result<VorbisCodec, DeliverError> {
        if !VORBIS_KBPS.contains(&kbps) {
            return Err(err(
                path,
                format!(
                    "{kbps} kbps is not a Vorbis rate glassmaster encodes ({}-{} kbps)",
                    VORBIS_KBPS.start(),
                    VORBIS_KBPS.end()
                ),
            ));
        }
        let codec = VorbisCodec {
            rate,
            kbps,
            // Any fixed value per track; the seed is the track number.
            serial: (0x676d_0000u64 | (seed & 0xFFFF)) as i32,
        };
        // Settings libvorbis refuses fail here, not at the end of the track.
        codec.encoder(path, std::io::sink())?;
        Ok(codec)
    }

    fn encoder<W: std::io::Write>(
        &self,
        path: &Path,
        sink: W,
    ) -> Result<VorbisEncoder<W>, DeliverError> {
        let rate = NonZeroU32::new(self.rate).ok_or_else(|| err(path, "0 Hz"))?;
        let two = NonZeroU8::new(2).expect("2 is not 0");
        let mut b = VorbisEncoderBuilder::new_with_serial(rate, two, sink, self.serial);
        b.bitrate_management_strategy(VorbisBitrateManagementStrategy::Vbr {
            target_bitrate: NonZeroU32::new(self.kbps * 1000).ok_or_else(|| err(path, "0 kbps"))?,
        });
        b.build().map_err(|e| err(path, e))
    }
}

impl LossyCodec for VorbisCodec {
    fn predicted_overshoot_db(&self) -> f64 {
        VORBIS_PREDICTED_OVERSHOOT_DB
    }

    fn decoded_true_peak(&self, path: &Path, part: &Path) -> Result<Option<f64>, DeliverError> {
        super::lossy::symphonia_true_peak(path, part, true)
    }

    fn start(&self, path: &Path, part: &Path) -> Result<Box<dyn LossyPass>, DeliverError> {
        let file = File::create(part).map_err(|e| io_err(path, e))?;
        let enc = self.encoder(path, BufWriter::with_capacity(1 << 16, file))?;
        Ok(Box::new(VorbisPass {
            path: path.to_path_buf(),
            enc,
        }))
    }
}

struct VorbisPass {
    path: PathBuf,
    enc: VorbisEncoder<BufWriter<File>>,
}

impl LossyPass for VorbisPass {
    fn encode(&mut self, left: &[f32], right: &[f32]) -> Result<(), DeliverError> {
        if left.is_empty() {
            return Ok(());
        }
        self.enc
            .encode_audio_block([left, right])
            .map_err(|e| err(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<(), DeliverError> {
        let VorbisPass { path, enc } = *self;
        let out = enc.finish().map_err(|e| err(&path, e))?;
        out.into_inner()
            .map_err(|e| io_err(&path, e.into_error()))?;
        Ok(())
    }
}
