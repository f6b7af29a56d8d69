//! `analog`: the vinyl and cassette premasters. The album's tracks are laid
//! on sides (the manifest's `sides`, or for a cassette a split that
//! balances both sides), spaced by silence exact to the sample; each side
//! is judged against the medium's minutes per side from a data table
//! (`templates/analog.yaml`); the side files are the per-track renders
//! joined byte for byte with their gaps; the cutting (or duplication)
//! sheet lists each side's tracks with their start times; and the vinyl
//! checks measure what a cutting head and a stylus find hard (low end out
//! of phase or wide, strong highs, highs on a side's inner groove).
//!
//! Nothing here decodes a source or runs a mastering chain: the build
//! hands in finished per-track premasters (24-bit PCM WAV at the master
//! rate) and the layout; the manifest's validation uses [`sides`] and
//! [`table`] to find a bad side before any audio is processed.

pub mod checks;
pub mod sheet;
pub mod sides;
pub mod table;
pub mod write;

use std::path::PathBuf;

pub use sides::{balanced_split, lay_out, side_name, Placed, Side};
pub use table::{cassette_side_minutes, vinyl_limits, VinylLimits};

/// Why a premaster could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AnalogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl AnalogError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> AnalogError {
        AnalogError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Which medium a layout is for (names in sheets and messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Vinyl,
    Cassette,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Vinyl => "vinyl",
            Medium::Cassette => "cassette",
        }
    }
}
