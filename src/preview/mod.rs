//! The codec preview (issue 14): every master (in `check`, every source)
//! encoded the way each store of the manifest streams it, decoded, and
//! measured: the decoded true peak, the clipped samples after decoding
//! (on-sample and inter-sample, as Apple's `afclip` counts them), the
//! integrated loudness, and the codec's artefact level, the loudness of the
//! time-aligned difference between the decoded stream and what was encoded.
//!
//! What a store streams is profile data, not code: each store profile in
//! `templates/profiles/` lists its lossy streams under `preview:` (codec,
//! bit rate, rate, tier, and where that is documented), parsed into
//! [`PreviewStream`]. [`plan`] gathers the streams of the manifest's
//! bundles into one encode per codec, bit rate and rate ([`PlannedCodec`],
//! naming every store that streams it so), so Spotify's web player and
//! Apple Music share one AAC 256 encode.
//!
//! The encoders and decoders are the bundles' own
//! ([`crate::deliver::encode::preview`]); a codec without an encoder in
//! this build (AAC, for now) is planned all the same and reported as not
//! available, with a note in report.json and a note from `build` and
//! `check`, never silently left out.
//!
//! In `build` the preview is one more [`crate::master::Sink`] per track and
//! rate ([`sink::PreviewSink`]): it reads the master as the other sinks do
//! (replayed from the render's spool, as a task of the worker pool beside
//! the master writer, the CD path and the bundles), resamples it once for
//! the codecs at that rate, feeds their encoders block by block and spools
//! what it encoded to a float work file; at the end of the track each
//! encode is decoded and measured against that spool ([`measure`]).
//! Memory is blocks and the encoders' state, whatever the track's length.
//! `check` runs the same sinks on the decoded sources ([`run_source`]).

pub mod measure;
pub mod passages;
pub mod sink;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::round2_opt;
use crate::audio::{Block, Decoder};
use crate::deliver::encode::preview::{availability, Availability};
use crate::manifest::model::BundleSpec;
use crate::master::MasterError;

/// A codec a store streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreviewCodec {
    Mp3,
    Vorbis,
    Opus,
    Aac,
}

impl PreviewCodec {
    /// Every codec the preview knows.
    pub const ALL: [PreviewCodec; 4] = [
        PreviewCodec::Mp3,
        PreviewCodec::Vorbis,
        PreviewCodec::Opus,
        PreviewCodec::Aac,
    ];

    /// The codec's name in messages and tables.
    pub fn label(self) -> &'static str {
        match self {
            PreviewCodec::Mp3 => "MP3",
            PreviewCodec::Vorbis => "Ogg Vorbis",
            PreviewCodec::Opus => "Opus",
            PreviewCodec::Aac => "AAC",
        }
    }

    /// The extension of its work file.
    pub fn extension(self) -> &'static str {
        match self {
            PreviewCodec::Mp3 => "mp3",
            PreviewCodec::Vorbis => "ogg",
            PreviewCodec::Opus => "opus",
            PreviewCodec::Aac => "m4a",
        }
    }

    /// The word in profiles and report.json.
    pub fn id(self) -> &'static str {
        match self {
            PreviewCodec::Mp3 => "mp3",
            PreviewCodec::Vorbis => "vorbis",
            PreviewCodec::Opus => "opus",
            PreviewCodec::Aac => "aac",
        }
    }
}

/// One lossy stream of a store, as its profile lists it under `preview:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewStream {
    pub codec: PreviewCodec,
    pub bitrate_kbps: u32,
    /// The rate the store encodes at (Hz).
    pub sample_rate: u32,
    /// Which of the store's streams this is, as the store names it
    /// ("Premium, app: Very high").
    pub tier: String,
    /// Where this is documented.
    pub source: String,
}

impl PreviewStream {
    /// Whether the stream is one glassmaster can encode the way it says.
    pub fn check(&self) -> Result<(), String> {
        use crate::deliver::encode::{OPUS_KBPS, VORBIS_KBPS};
        use crate::deliver::profile::MP3_BITRATES;
        let k = self.bitrate_kbps;
        let ok = match self.codec {
            PreviewCodec::Mp3 => MP3_BITRATES.contains(&k),
            PreviewCodec::Vorbis => VORBIS_KBPS.contains(&k),
            PreviewCodec::Opus => OPUS_KBPS.contains(&k),
            PreviewCodec::Aac => crate::deliver::encode::AAC_KBPS.contains(&k),
        };
        if !ok {
            return Err(format!(
                "preview: {} at {k} kbps is not a bit rate glassmaster encodes",
                self.codec.label()
            ));
        }
        let rates: &[u32] = match self.codec {
            PreviewCodec::Opus => &[48_000],
            _ => &[44_100, 48_000],
        };
        if !rates.contains(&self.sample_rate) {
            return Err(format!(
                "preview: {} is streamed at {}, not {} Hz",
                self.codec.label(),
                rates
                    .iter()
                    .map(|r| format!("{r} Hz"))
                    .collect::<Vec<_>>()
                    .join(" or "),
                self.sample_rate
            ));
        }
        if self.source.trim().is_empty() {
            return Err("preview: every stream names its `source`".into());
        }
        Ok(())
    }
}

/// One encode the preview makes of every track.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCodec {
    pub codec: PreviewCodec,
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    /// The stores streaming it so: "spotify (Premium, web player)".
    pub stores: Vec<String>,
    pub availability: Availability,
    /// Encode whole tracks, not passages (`report.codec_preview_passages`
    /// false, the default).
    pub whole: bool,
}

impl PlannedCodec {
    /// "Ogg Vorbis 320 kbps, 44.1 kHz".
    pub fn describe(&self) -> String {
        format!(
            "{} {} kbps, {} kHz",
            self.codec.label(),
            self.bitrate_kbps,
            f64::from(self.sample_rate) / 1000.0
        )
    }
}

/// The encodes of the manifest's bundles' stores, in the order the bundles
/// first name them; a store named by two bundles counts once. `whole`:
/// encode whole tracks rather than passages; streams of codecs not in
/// `codecs` (`report.codec_preview_codecs`) are left out.
pub fn plan(bundles: &[BundleSpec], whole: bool, codecs: &[PreviewCodec]) -> Vec<PlannedCodec> {
    let mut out: Vec<PlannedCodec> = Vec::new();
    let mut seen = Vec::new();
    for b in bundles {
        if b.profile == "custom" || seen.contains(&b.profile) {
            continue;
        }
        seen.push(b.profile.clone());
        let Ok(p) = crate::deliver::Profile::builtin(&b.profile) else {
            continue;
        };
        for s in p.preview.iter().filter(|s| codecs.contains(&s.codec)) {
            let store = format!("{} ({})", p.name, s.tier);
            let same = |c: &&mut PlannedCodec| {
                (c.codec, c.bitrate_kbps, c.sample_rate) == (s.codec, s.bitrate_kbps, s.sample_rate)
            };
            match out.iter_mut().find(same) {
                Some(c) => c.stores.push(store),
                None => out.push(PlannedCodec {
                    codec: s.codec,
                    bitrate_kbps: s.bitrate_kbps,
                    sample_rate: s.sample_rate,
                    stores: vec![store],
                    availability: availability(s.codec),
                    whole,
                }),
            }
        }
    }
    out
}

/// The notes `build` and `check` print: one per codec not available.
pub fn notes(plan: &[PlannedCodec]) -> Vec<String> {
    plan.iter()
        .filter_map(|c| match &c.availability {
            Availability::Ready => None,
            Availability::Missing(why) => Some(format!(
                "codec preview: {} for {}: {why}",
                c.describe(),
                c.stores.join(", ")
            )),
        })
        .collect()
}

/// One track's figures for one encode: report.json's `tracks[].codecs[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecFigures {
    /// `mp3`, `vorbis`, `opus`, `aac`.
    pub codec: PreviewCodec,
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    pub stores: Vec<String>,
    /// False when this build cannot encode the codec (`note` says why);
    /// every figure is then `null`.
    pub available: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Frames measured (at `sample_rate`): the passages' (the whole
    /// track's when it was previewed whole).
    #[serde(default)]
    pub frames: Option<u64>,
    /// What was encoded and measured, in frames at `sample_rate`
    /// ([`passages`]): one passage from 0 to the end when the track was
    /// previewed whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passages: Vec<passages::Passage>,
    /// The decoded stream's true peak: the higher of the BS.1770 meter and
    /// the ideal reconstruction.
    #[serde(default, serialize_with = "round2_opt")]
    pub true_peak_dbtp: Option<f64>,
    /// The decoded stream's peak as an ideal DAC reconstructs it
    /// ([`crate::dsp::ReconstructedPeak`]): what the clip counts read.
    #[serde(default, serialize_with = "round2_opt")]
    pub reconstructed_peak_dbfs: Option<f64>,
    #[serde(default, serialize_with = "round2_opt")]
    pub sample_peak_dbfs: Option<f64>,
    /// Decoded samples over full scale (both channels).
    #[serde(default)]
    pub clipped_on_sample: Option<u64>,
    /// Intervals between samples at or under full scale where the
    /// reconstructed waveform passes it (both channels).
    #[serde(default)]
    pub clipped_inter_sample: Option<u64>,
    /// Integrated loudness of the decoded stream.
    #[serde(default, serialize_with = "round2_opt")]
    pub integrated_lufs: Option<f64>,
    /// Decoded loudness minus that of what was encoded.
    #[serde(default, serialize_with = "round2_opt")]
    pub loudness_change_lu: Option<f64>,
    /// Integrated loudness of decoded minus encoded, sample for sample.
    #[serde(default, serialize_with = "round2_opt")]
    pub artefact_lufs: Option<f64>,
    /// `artefact_lufs` minus the loudness of what was encoded: how far the
    /// codec's error sits under the music.
    #[serde(default, serialize_with = "round2_opt")]
    pub artefact_lu: Option<f64>,
}

impl CodecFigures {
    /// The entry of a codec this build cannot encode.
    pub fn unavailable(c: &PlannedCodec, why: &str) -> CodecFigures {
        CodecFigures {
            codec: c.codec,
            bitrate_kbps: c.bitrate_kbps,
            sample_rate: c.sample_rate,
            stores: c.stores.clone(),
            available: false,
            note: Some(why.to_owned()),
            frames: None,
            passages: Vec::new(),
            true_peak_dbtp: None,
            reconstructed_peak_dbfs: None,
            sample_peak_dbfs: None,
            clipped_on_sample: None,
            clipped_inter_sample: None,
            integrated_lufs: None,
            loudness_change_lu: None,
            artefact_lufs: None,
            artefact_lu: None,
        }
    }

    /// Clipped samples after decoding, on-sample and inter-sample.
    pub fn overs(&self) -> u64 {
        self.clipped_on_sample.unwrap_or(0) + self.clipped_inter_sample.unwrap_or(0)
    }
}

/// Where the preview's encodes go: `GLASSMASTER_PREVIEW_DIR`, when set, keeps
/// them there (for a look with other tools); otherwise the work folder,
/// removed as each is measured.
pub fn keep_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("GLASSMASTER_PREVIEW_DIR")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

/// The codec preview of one source file (`check`): decoded whole, fed to
/// one sink per rate. `work` holds the temporary files.
pub fn run_source(
    path: &Path,
    plan: &[PlannedCodec],
    track: u32,
    work: &Path,
) -> Result<Vec<CodecFigures>, MasterError> {
    let mut dec = Decoder::open(path)?;
    let rate = dec.info().sample_rate;
    let slot = sink::PreviewSlot::default();
    let mut sinks = sink::sinks(plan, rate, track, work, &slot)?;
    let mut b = Block::with_capacity(crate::audio::BLOCK_FRAMES);
    while dec.read_block(&mut b)? > 0 {
        for s in sinks.iter_mut() {
            s.write(&b)?;
        }
    }
    for s in sinks.iter_mut() {
        s.finish()?;
    }
    Ok(sink::take(&slot, plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(profile: &str) -> BundleSpec {
        BundleSpec {
            profile: profile.into(),
            name: profile.into(),
            format: None,
            sample_rate: None,
            bit_depth: None,
            naming: None,
            bitrate_kbps: None,
            dither: None,
            true_peak_dbtp: None,
        }
    }

    #[test]
    fn stores_streaming_the_same_encode_share_it() {
        let plan = plan(
            &[
                spec("spotify"),
                spec("apple-digital-masters"),
                spec("spotify"),
                spec("promo-mp3"),
            ],
            false,
            &PreviewCodec::ALL,
        );
        let got: Vec<_> = plan
            .iter()
            .map(|c| (c.codec, c.bitrate_kbps, c.sample_rate, c.stores.len()))
            .collect();
        assert_eq!(
            got,
            [
                (PreviewCodec::Vorbis, 320, 44_100, 1),
                (PreviewCodec::Aac, 256, 44_100, 2)
            ]
        );
        assert!(plan.iter().all(|c| c.availability == Availability::Ready));
        assert_eq!(
            plan[1].stores,
            [
                "spotify (Premium, web player)",
                "apple-digital-masters (Apple Music, iTunes Store)"
            ]
        );
        assert!(notes(&plan).is_empty());
    }

    #[test]
    fn only_the_codecs_asked_for_are_planned() {
        let bundles = [spec("spotify"), spec("youtube"), spec("soundcloud")];
        let got: Vec<_> = plan(
            &bundles,
            true,
            &[PreviewCodec::Mp3, PreviewCodec::Vorbis, PreviewCodec::Opus],
        )
        .iter()
        .map(|c| (c.codec, c.bitrate_kbps))
        .collect();
        assert_eq!(
            got,
            [
                (PreviewCodec::Vorbis, 320),
                (PreviewCodec::Opus, 160),
                (PreviewCodec::Mp3, 128)
            ]
        );
        assert_eq!(plan(&bundles, true, &PreviewCodec::ALL).len(), 6);
    }

    #[test]
    fn streams_glassmaster_cannot_encode_as_written_are_refused() {
        let s = PreviewStream {
            codec: PreviewCodec::Opus,
            bitrate_kbps: 160,
            sample_rate: 44_100,
            tier: "t".into(),
            source: "s".into(),
        };
        assert!(s.check().unwrap_err().contains("48000 Hz"));
        let mp3 = PreviewStream {
            codec: PreviewCodec::Mp3,
            bitrate_kbps: 56,
            sample_rate: 44_100,
            ..s.clone()
        };
        assert!(mp3.check().unwrap_err().contains("56 kbps"));
        let unsourced = PreviewStream {
            sample_rate: 48_000,
            source: " ".into(),
            ..s
        };
        assert!(unsourced.check().unwrap_err().contains("source"));
    }
}
