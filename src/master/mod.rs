//! Mastering: each track through its chain, the album brought to its
//! loudness target under the true-peak ceiling.
//!
//! Per track, in the order of manifest.md: decode → trim → chain (with the
//! track's `gain_db` at its end) → loudness gain → final true-peak limiter
//! → fades, then whatever the caller's [`Sink`]s do with the float master
//! (write the 24-bit master, resample for the CD, encode a bundle). When
//! the chain ends in a `limiter`, that limiter is the final one and the
//! loudness gain goes just before it; otherwise a limiter with the default
//! settings is appended. Every limiter's ceiling is `true_peak_dbtp`.
//!
//! [`matching`] finds the loudness gains: one pass measures each track
//! after its chain (the chain does not depend on the gain that follows
//! it), the gains are computed from that, and a render pass measures what
//! the limiter really left; tracks that landed further than
//! [`matching::TOLERANCE_LU`] from where they belong are corrected and
//! rendered again. Tracks run in parallel; memory does not grow with a
//! track's length. With a work folder for it ([`TrackPlan::spool`]),
//! those renders are probes that meter the loudness alone and keep the
//! master in a file, and only the one that lands is metered in full and
//! given to the sinks ([`spool`]).
//!
//! With tonal matching ([`tonal`]) the measuring pass also gathers each
//! track's gated spectrum at the matching EQ's place; the corrections are
//! worked out from those, and the tracks that get one are measured once
//! more with their EQ before the gains are computed.
//!
//! Before all that, a track whose chain has a repair stage that learns
//! from the track (a `denoise`'s noise profile, a `dehum: auto`'s
//! fundamental) is read once per such stage ([`repair`]).

pub mod matching;
pub mod plan;
pub mod render;
pub mod repair;
mod side;
pub mod spool;
pub mod tonal;

use std::path::PathBuf;

pub use matching::{master_album, master_album_steps, AlbumResult, TrackResult};
pub use plan::TrackPlan;
pub use render::{Sink, Step};

use crate::audio::{AudioError, Block};
use crate::dsp::DspError;

/// Why a track could not be mastered. Every variant names the track.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("track {track}: {source}")]
    Dsp { track: u32, source: DspError },
    #[error("track {track}: {message}")]
    Track { track: u32, message: String },
    /// A tonal-matching reference that cannot be matched to.
    #[error("reference {path}: {message}")]
    Reference { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A sink that discards everything (measuring passes).
pub struct NullSink;

impl Sink for NullSink {
    fn write(&mut self, _block: &Block) -> Result<(), MasterError> {
        Ok(())
    }
    fn finish(&mut self) -> Result<(), MasterError> {
        Ok(())
    }
}
