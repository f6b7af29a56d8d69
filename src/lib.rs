//! glassmaster turns an album's final mixes into everything a release needs.
//!
//! Data flows one way, one folder per stage:
//! [`manifest`] (the YAML release manifest, parsed then validated into a
//! model) → [`audio`] (decoding every input format in blocks) →
//! [`analysis`] (BS.1770 loudness, true peak and the consistency figures) →
//! [`dsp`] (the mastering chain: EQ, compression, true-peak limiting, fades,
//! resampling, dither) → [`disc`] (Red Book layout, CUE, TOC, CD-Text, DDP)
//! and [`deliver`] (streaming bundles) and [`analog`] (vinyl and cassette
//! premasters, their sides and sheets) → [`report`] (report.json and
//! report.html). [`verify`] reads a finished build back and checks it
//! against its report. [`cli`] is the command line on top; it is the only
//! place that prints. [`fsio`] opens every input file (regular files only);
//! [`timings`] says where a build's time went (`build --timings`).

pub mod analog;
pub mod analysis;
pub mod audio;
pub mod build;
pub mod cli;
pub mod deliver;
pub mod disc;
pub mod dsp;
pub mod fsio;
pub mod manifest;
pub mod master;
pub mod preview;
pub mod report;
pub mod timings;
pub mod verify;
