//! Decoding with symphonia (being written; this stand-in reads WAV headers).

use std::path::Path;

use super::{AudioError, AudioInfo};

/// Streaming decoder (to be written).
pub struct Decoder;

/// Reads a file's header.
pub fn probe(path: &Path) -> Result<AudioInfo, AudioError> {
    let r = hound::WavReader::open(path).map_err(|e| AudioError::Unsupported {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let s = r.spec();
    if s.channels > 2 {
        return Err(AudioError::TooManyChannels {
            path: path.to_owned(),
            channels: s.channels as usize,
        });
    }
    Ok(AudioInfo {
        sample_rate: s.sample_rate,
        channels: s.channels,
        bit_depth: Some(s.bits_per_sample),
        float: s.sample_format == hound::SampleFormat::Float,
        frames: Some(u64::from(r.duration())),
        codec: "pcm".into(),
    })
}
