//! The detectors of one track, run together: [`detectors`] makes them for
//! a source (the click detector joins the list here), and
//! [`RestorationPass`] feeds them the blocks the [`crate::analysis::Meter`]
//! sees, in the same streamed pass, and gathers their findings into one
//! [`Restoration`].

use super::{
    Clipping, Detector, Dropouts, HumDetector, NoiseDetector, PolarityDetector, Restoration,
};
use crate::audio::Block;

/// What the detectors need to know of a source and of the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Shortest dropout reported, ms (`report.min_dropout_ms`).
    pub min_dropout_ms: f64,
    /// Bits per sample of integer PCM (`None` for float, lossy or
    /// processed audio): clipped runs are equal within 1 LSB of it.
    pub bit_depth: Option<u16>,
    /// Float samples: clipped runs are exactly equal.
    pub float: bool,
    /// 1 for a mono source (never inverted), 2 for stereo.
    pub channels: u16,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_dropout_ms: 5.0,
            bit_depth: None,
            float: true,
            channels: 2,
        }
    }
}

impl Params {
    /// The parameters for a decoded source.
    pub fn for_source(info: &crate::audio::AudioInfo, min_dropout_ms: f64) -> Params {
        Params {
            min_dropout_ms,
            bit_depth: info.bit_depth,
            float: info.float,
            channels: info.channels,
        }
    }

    /// The parameters for processed audio (a master): float samples.
    pub fn processed(channels: u16, min_dropout_ms: f64) -> Params {
        Params {
            min_dropout_ms,
            bit_depth: None,
            float: true,
            channels,
        }
    }
}

/// Every detector for a track at `rate`. The click detector is added here.
pub fn detectors(rate: u32, params: &Params) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(Dropouts::new(rate, params.min_dropout_ms)),
        Box::new(PolarityDetector::new(rate, params.channels < 2)),
        Box::new(Clipping::new(rate, params.bit_depth, params.float)),
        Box::new(HumDetector::new(rate)),
        Box::new(NoiseDetector::new(rate)),
    ]
}

/// The detectors of one track, fed block by block.
pub struct RestorationPass {
    detectors: Vec<Box<dyn Detector>>,
}

impl std::fmt::Debug for RestorationPass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestorationPass")
            .field("detectors", &self.detectors.len())
            .finish()
    }
}

impl RestorationPass {
    /// All of [`detectors`] for a track at `rate`.
    pub fn new(rate: u32, params: &Params) -> RestorationPass {
        RestorationPass {
            detectors: detectors(rate, params),
        }
    }

    /// Feeds one block to every detector.
    pub fn add(&mut self, block: &Block) {
        for d in &mut self.detectors {
            d.add(block);
        }
    }

    /// Ends the track: what every detector found.
    pub fn finish(self) -> Restoration {
        let mut out = Restoration::default();
        for d in self.detectors {
            d.finish(&mut out);
        }
        out
    }
}
