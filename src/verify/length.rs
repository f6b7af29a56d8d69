//! A delivered file's length against its master's. report.json records
//! what the encoder made, so it cannot tell a file that lost samples: the
//! master can. The master's length is read from its WAV header (decoding
//! it, as `verify` does, proves the header right); the delivered file's is
//! the count of samples its decoder gives (for MP3, after the encoder
//! delay and padding that the LAME tag states, which symphonia trims as
//! ffmpeg does). The two must agree at the delivered rate within one
//! sample, the rounding a resampler's output length may take.

use std::path::Path;

use super::{problem, Problem};

/// A master's length in samples (frames) at its rate, from its header.
pub(super) struct MasterLength {
    pub file: String,
    pub frames: u64,
    pub rate: u32,
}

/// A master's length from its WAV header (decoding it, which the master check does,
/// proves the header right: a shorter data chunk does not decode).
pub(super) fn master_length(path: &Path, rel: &str) -> Option<MasterLength> {
    let h = crate::audio::read_wav_header(path).ok()?;
    let frame = u64::from(h.channels) * u64::from(h.bits / 8);
    (frame > 0).then(|| MasterLength {
        file: rel.to_owned(),
        frames: h.data_len / frame,
        rate: h.sample_rate,
    })
}

/// `got` samples decoded at `rate` against the master's length at that
/// rate: more than one sample apart is a problem.
pub(super) fn length(rel: &str, got: u64, rate: u32, m: &MasterLength) -> Option<Problem> {
    // Exactly: got / rate against frames / m.rate, in units of 1 / (rate · m.rate) s.
    let have = u128::from(got) * u128::from(m.rate);
    let want = u128::from(m.frames) * u128::from(rate);
    if have.abs_diff(want) <= u128::from(m.rate) {
        return None;
    }
    let expected = m.frames as f64 * f64::from(rate) / f64::from(m.rate);
    let off = got as f64 - expected;
    Some(problem(
        rel,
        "length",
        format!(
            "decodes to {got} samples at {rate} Hz, its master {} to {} at {} Hz ({expected:.1} at {rate} Hz): {:.1} samples {} (one allowed)",
            m.file,
            m.frames,
            m.rate,
            off.abs(),
            if off < 0.0 { "short" } else { "long" }
        ),
    ))
}
