//! Streaming profiles: what a store accepts, as data. The built-in
//! profiles are YAML files in `templates/profiles/`, compiled in with
//! `include_str!` and parsed with serde; nothing about a store lives in
//! code. [`Profile::resolve`] lays a manifest bundle's overrides over a
//! profile and gives the [`ResolvedBundle`] the encoders work from.

use serde::{Deserialize, Serialize};

use super::encode::AAC_RATES;
use super::DeliverError;
use crate::manifest::model::{AudioFormat, BundleSpec, Dither};

/// The built-in profiles, `(name, YAML)`, in the order `profiles` lists them.
const BUILTIN: &[(&str, &str)] = &[
    (
        "spotify",
        include_str!("../../templates/profiles/spotify.yaml"),
    ),
    (
        "apple-digital-masters",
        include_str!("../../templates/profiles/apple-digital-masters.yaml"),
    ),
    (
        "amazon",
        include_str!("../../templates/profiles/amazon.yaml"),
    ),
    ("tidal", include_str!("../../templates/profiles/tidal.yaml")),
    (
        "deezer",
        include_str!("../../templates/profiles/deezer.yaml"),
    ),
    (
        "youtube",
        include_str!("../../templates/profiles/youtube.yaml"),
    ),
    (
        "soundcloud",
        include_str!("../../templates/profiles/soundcloud.yaml"),
    ),
    (
        "bandcamp",
        include_str!("../../templates/profiles/bandcamp.yaml"),
    ),
    (
        "cd-baby",
        include_str!("../../templates/profiles/cd-baby.yaml"),
    ),
    (
        "beatport",
        include_str!("../../templates/profiles/beatport.yaml"),
    ),
    (
        "promo-mp3",
        include_str!("../../templates/profiles/promo-mp3.yaml"),
    ),
    (
        "promo-ogg",
        include_str!("../../templates/profiles/promo-ogg.yaml"),
    ),
    (
        "web-opus",
        include_str!("../../templates/profiles/web-opus.yaml"),
    ),
    (
        "podcast",
        include_str!("../../templates/profiles/podcast.yaml"),
    ),
    (
        "promo-aac",
        include_str!("../../templates/profiles/promo-aac.yaml"),
    ),
    (
        "archive",
        include_str!("../../templates/profiles/archive.yaml"),
    ),
];

/// Names of the built-in profiles.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// The output sample rate a profile asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RateRule {
    /// A fixed rate in Hz.
    Fixed(u32),
    /// `source`: the master's own rate, clamped to the allowed rates;
    /// `uniform`: one rate for the whole bundle, the album's highest
    /// master rate clamped to the allowed rates.
    Source(SourceRate),
}

/// The word in a profile's `sample_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceRate {
    /// Each track at its master's rate (a bundle may mix 44.1 and 48 kHz).
    Source,
    /// Every track at the album's highest master rate.
    Uniform,
}

/// Which characters a file name may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Charset {
    /// Any printable character except path separators and those Windows
    /// forbids (`<>:"/\|?*`).
    #[default]
    Any,
    /// Letters, digits, `-` and `_` only (accents folded, the rest `_`).
    Strict,
}

/// Which tags the audio files carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSet {
    /// No tags (the store takes metadata from the delivery feed).
    None,
    /// FLAC Vorbis comments and a PICTURE block.
    Vorbis,
    /// MP3 ID3v2.4.
    Id3v24,
    /// WAV LIST/INFO chunk (title, artist, album, date, genre, ©, track).
    RiffInfo,
    /// MP4 (AAC) iTunes `ilst` items and `covr`.
    Mp4,
}

/// How a failed artwork rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ignore,
    Warning,
    Error,
}

/// An image container the store takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
}

/// What a store asks of the cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtworkRule {
    /// A release without artwork (or whose file cannot be read).
    pub required: Severity,
    /// Smallest side in pixels.
    pub min_px: u32,
    /// Largest side in pixels.
    pub max_px: u32,
    /// Larger covers are scaled down (Lanczos3) to this side; `None` keeps
    /// the size.
    #[serde(default)]
    pub resize_px: Option<u32>,
    pub square: Severity,
    /// CMYK or greyscale artwork.
    pub rgb: Severity,
    /// Source formats accepted.
    pub formats: Vec<ImageFormat>,
    /// Re-encode without ICC profile, EXIF or other metadata.
    pub strip_metadata: bool,
}

/// Whether a store plays albums with one gain or each track on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormaliseMode {
    Album,
    Track,
}

/// A store's loudness normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Loudness {
    pub target_lufs: f64,
    pub mode: NormaliseMode,
    /// Whether quiet material is turned up at all.
    pub turns_up: bool,
    /// Positive gain stops where the true peak would pass this (dBTP);
    /// `None`: no limit.
    #[serde(default)]
    pub up_limit_dbtp: Option<f64>,
}

/// One built-in streaming profile, as its YAML file describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub format: AudioFormat,
    pub sample_rate: RateRule,
    /// Rates the store takes; `source` picks the nearest at or above the
    /// master's (or the highest, when the master is above them all).
    pub allowed_rates: Vec<u32>,
    /// 16 or 24 for WAV and FLAC; none for MP3.
    #[serde(default)]
    pub bit_depth: Option<u16>,
    #[serde(default)]
    pub bitrate_kbps: Option<u32>,
    /// Quantiser to 16 bit; 24-bit output is rounded whatever this says
    /// unless a manifest asks otherwise.
    #[serde(default = "default_dither")]
    pub dither: Dither,
    pub naming: String,
    #[serde(default)]
    pub charset: Charset,
    pub tags: TagSet,
    /// Ceiling of the decoded true peak of lossy files, dBTP.
    #[serde(default)]
    pub true_peak_dbtp: Option<f64>,
    pub artwork: ArtworkRule,
    #[serde(default)]
    pub loudness: Option<Loudness>,
    pub notes: String,
    /// The lossy streams the store makes of what it is given, for the
    /// codec preview ([`crate::preview`]); none for a store that streams
    /// only losslessly or documents no codec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<crate::preview::PreviewStream>,
}

fn default_dither() -> Dither {
    Dither::Tpdf
}

/// A bundle with everything decided: what the encoders, the tagger and
/// the artwork stage work from.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedBundle {
    /// Folder under `streaming/`.
    pub name: String,
    /// The profile it came from (`custom` for a custom bundle).
    pub profile: String,
    pub format: AudioFormat,
    /// `None`: the master's rate, clamped to `allowed_rates` by
    /// [`ResolvedBundle::output_rate`].
    pub sample_rate: Option<u32>,
    /// The profile asks for one rate across the bundle: [`Self::make_uniform`]
    /// fixes `sample_rate` from the album's master rates.
    pub uniform: bool,
    pub allowed_rates: Vec<u32>,
    /// 16 or 24 (MP3: 16, unused).
    pub bit_depth: u16,
    pub bitrate_kbps: u32,
    pub dither: Dither,
    pub naming: String,
    pub charset: Charset,
    pub tags: TagSet,
    /// Ceiling for the decoded lossy file (dBTP).
    pub true_peak_dbtp: f64,
    pub artwork: ArtworkRule,
    pub loudness: Option<Loudness>,
}

/// Every rate glassmaster delivers.
pub const DELIVERY_RATES: &[u32] = &[44_100, 48_000, 88_200, 96_000, 176_400, 192_000];

impl ResolvedBundle {
    /// The rate a master at `master_hz` is delivered at.
    pub fn output_rate(&self, master_hz: u32) -> u32 {
        if let Some(r) = self.sample_rate {
            return r;
        }
        pick_rate(master_hz, &self.allowed_rates)
    }

    /// For a `uniform` bundle without a fixed rate: every track at the
    /// highest of `master_rates` (clamped to the allowed rates), so that
    /// the bundle does not mix 44.1 and 48 kHz files.
    pub fn make_uniform(&mut self, master_rates: impl IntoIterator<Item = u32>) {
        if !self.uniform || self.sample_rate.is_some() {
            return;
        }
        if let Some(top) = master_rates.into_iter().max() {
            self.sample_rate = Some(pick_rate(top, &self.allowed_rates));
        }
    }

    /// File extension of the audio files.
    pub fn extension(&self) -> &'static str {
        match self.format {
            AudioFormat::Wav => "wav",
            AudioFormat::Flac => "flac",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Ogg => "ogg",
            AudioFormat::Opus => "opus",
            AudioFormat::Aac => "m4a",
        }
    }
}

/// The allowed rate for a master at `hz`: the master's own if allowed, else
/// the lowest allowed rate above it of the same family (44.1 or 48 kHz
/// multiples) or any above it, else the highest allowed rate.
pub fn pick_rate(hz: u32, allowed: &[u32]) -> u32 {
    if allowed.is_empty() || allowed.contains(&hz) {
        return hz;
    }
    let mut sorted = allowed.to_vec();
    sorted.sort_unstable();
    let family = |r: u32| r.is_multiple_of(11_025);
    sorted
        .iter()
        .find(|&&r| r > hz && family(r) == family(hz))
        .or_else(|| sorted.iter().find(|&&r| r > hz))
        .copied()
        .unwrap_or_else(|| {
            // Above every allowed rate: the highest of the same family, or the highest.
            sorted
                .iter()
                .rev()
                .find(|&&r| family(r) == family(hz))
                .copied()
                .unwrap_or(sorted[sorted.len() - 1])
        })
}

impl Profile {
    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Result<Profile, DeliverError> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            return Err(DeliverError::UnknownProfile {
                name: name.to_owned(),
                known: builtin_names().collect::<Vec<_>>().join(", "),
            });
        };
        Profile::parse(name, text)
    }

    /// Every built-in profile, in listing order.
    pub fn all() -> Result<Vec<Profile>, DeliverError> {
        BUILTIN.iter().map(|(n, t)| Profile::parse(n, t)).collect()
    }

    /// Parses and checks one profile's YAML; `name` is where it came from.
    pub fn parse(name: &str, text: &str) -> Result<Profile, DeliverError> {
        let p: Profile = serde_saphyr::from_str(text).map_err(|e| DeliverError::BadProfile {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        let bad = |reason: String| DeliverError::BadProfile {
            name: name.to_owned(),
            reason,
        };
        if p.name != name {
            return Err(bad(format!("its `name` is \"{}\"", p.name)));
        }
        for r in p.allowed_rates.iter().chain(
            match p.sample_rate {
                RateRule::Fixed(r) => Some(r),
                RateRule::Source(_) => None,
            }
            .iter(),
        ) {
            if !DELIVERY_RATES.contains(r) {
                return Err(bad(format!("sample rate {r} Hz is not a delivery rate")));
            }
        }
        match (p.format, p.bit_depth) {
            (f, _) if f.is_lossy() => {
                if p.bitrate_kbps.is_none() {
                    return Err(bad("a lossy profile needs `bitrate_kbps`".into()));
                }
            }
            (_, Some(16 | 24)) => {}
            (_, b) => return Err(bad(format!("bit depth {b:?} is not 16 or 24"))),
        }
        super::naming::check_template(&p.naming).map_err(bad)?;
        for s in &p.preview {
            s.check().map_err(bad)?;
        }
        Ok(p)
    }

    /// The bundle a manifest entry asks for: this profile with every key
    /// the entry gives laid over it.
    pub fn resolve(&self, spec: &BundleSpec) -> Result<ResolvedBundle, DeliverError> {
        let format = spec.format.unwrap_or(self.format);
        let bit_depth = spec.bit_depth.or(self.bit_depth).unwrap_or(16);
        // A profile's bit rate is for its own format: a format override
        // without a bit rate takes that format's default.
        let profile_kbps = self.bitrate_kbps.filter(|_| format == self.format);
        let bitrate_kbps = spec.bitrate_kbps.or(profile_kbps).unwrap_or(match format {
            AudioFormat::Opus => 160,
            AudioFormat::Aac => 256,
            _ => 320,
        });
        let bad = |reason: String| DeliverError::BadBundle {
            name: spec.name.clone(),
            reason,
        };
        check_bitrate(format, bitrate_kbps).map_err(bad)?;
        let sample_rate = match (spec.sample_rate, self.sample_rate) {
            (Some(r), _) => Some(r),
            (None, RateRule::Fixed(r)) => Some(r),
            (None, RateRule::Source(_)) => None,
        };
        let uniform =
            sample_rate.is_none() && self.sample_rate == RateRule::Source(SourceRate::Uniform);
        if format == AudioFormat::Mp3 && sample_rate.is_some_and(|r| r != 44_100 && r != 48_000) {
            return Err(bad(format!(
                "MP3 is delivered at 44100 or 48000 Hz, not {} Hz",
                sample_rate.unwrap_or(0)
            )));
        }
        if format == AudioFormat::Ogg && sample_rate.is_some_and(|r| r != 44_100 && r != 48_000) {
            return Err(bad(format!(
                "Ogg Vorbis is delivered at 44100 or 48000 Hz, not {} Hz",
                sample_rate.unwrap_or(0)
            )));
        }
        if format == AudioFormat::Opus && sample_rate.is_some_and(|r| r != 48_000) {
            return Err(bad(format!(
                "Opus is delivered at 48000 Hz (its only decoding rate), not {} Hz",
                sample_rate.unwrap_or(0)
            )));
        }
        if let Some(r) =
            sample_rate.filter(|r| format == AudioFormat::Aac && !AAC_RATES.contains(r))
        {
            return Err(bad(format!(
                "AAC-LC is delivered at 44100, 48000, 88200 or 96000 Hz, not {r} Hz{}",
                if r > 96_000 {
                    " (AAC-LC has no rate above 96000 Hz)"
                } else {
                    ""
                }
            )));
        }
        if bit_depth != 16 && bit_depth != 24 {
            return Err(bad(format!("bit depth {bit_depth} is not 16 or 24")));
        }
        let naming = spec.naming.clone().unwrap_or_else(|| self.naming.clone());
        super::naming::check_template(&naming).map_err(bad)?;
        // A format override changes which tags fit: keep the profile's
        // choice where it matches, else the format's own.
        let tags = match (format, self.tags) {
            (
                AudioFormat::Flac | AudioFormat::Ogg | AudioFormat::Opus,
                TagSet::Vorbis | TagSet::None,
            ) => self.tags,
            (AudioFormat::Mp3, TagSet::Id3v24 | TagSet::None) => self.tags,
            (AudioFormat::Wav, TagSet::RiffInfo | TagSet::None) => self.tags,
            (AudioFormat::Aac, TagSet::Mp4 | TagSet::None) => self.tags,
            (AudioFormat::Aac, _) => TagSet::Mp4,
            (AudioFormat::Flac | AudioFormat::Ogg | AudioFormat::Opus, _) => TagSet::Vorbis,
            (AudioFormat::Mp3, _) => TagSet::Id3v24,
            (AudioFormat::Wav, _) => TagSet::None,
        };
        // 16-bit output is dithered (TPDF unless asked otherwise); 24-bit is
        // rounded unless the manifest asks for dither.
        let dither = spec.dither.unwrap_or(if bit_depth == 24 {
            Dither::None
        } else if self.dither == Dither::None {
            Dither::Tpdf
        } else {
            self.dither
        });
        // MP3 exists at 44.1 and 48 kHz only (MPEG-1 layer III rates a
        // store takes): a bundle that keeps the master's rate picks between
        // those two.
        // Vorbis likewise (libvorbis's tuned modes); Opus decodes at
        // 48 kHz only, so everything is resampled to it.
        let allowed_rates = match format {
            AudioFormat::Mp3 | AudioFormat::Ogg => vec![44_100, 48_000],
            AudioFormat::Opus => vec![48_000],
            // AAC-LC: the profile's rates when it is an AAC profile (a
            // store's 44.1 kHz), else 44.1 or 48 kHz; never above 96 kHz.
            AudioFormat::Aac if self.format == AudioFormat::Aac => self
                .allowed_rates
                .iter()
                .copied()
                .filter(|r| AAC_RATES.contains(r))
                .collect(),
            AudioFormat::Aac => vec![44_100, 48_000],
            _ => self.allowed_rates.clone(),
        };
        let sample_rate = if format == AudioFormat::Opus {
            Some(48_000)
        } else {
            sample_rate
        };
        Ok(ResolvedBundle {
            name: spec.name.clone(),
            profile: spec.profile.clone(),
            format,
            sample_rate,
            uniform,
            allowed_rates,
            bit_depth,
            bitrate_kbps,
            dither,
            naming,
            charset: self.charset,
            tags,
            true_peak_dbtp: spec.true_peak_dbtp.or(self.true_peak_dbtp).unwrap_or(-1.0),
            artwork: self.artwork.clone(),
            loudness: self.loudness.clone(),
        })
    }
}

/// MPEG-1 layer III bit rates (kbps) the encoder can be asked for: all
/// but 56, which mp3lame-encoder 0.2's `Bitrate` has no value for (a
/// bundle at 56 passed `check` and failed when its first track was
/// rendered).
pub const MP3_BITRATES: [u32; 13] = [32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];

/// Whether `kbps` is a bit rate `format` is encoded at (lossless formats
/// ignore it).
pub fn check_bitrate(format: AudioFormat, kbps: u32) -> Result<(), String> {
    let (name, ok, allowed) = match format {
        AudioFormat::Mp3 => (
            "MP3",
            MP3_BITRATES.contains(&kbps),
            MP3_BITRATES.map(|b| b.to_string()).join(", "),
        ),
        AudioFormat::Ogg => {
            let r = super::encode::VORBIS_KBPS;
            (
                "Ogg Vorbis",
                r.contains(&kbps),
                format!("{} to {}", r.start(), r.end()),
            )
        }
        AudioFormat::Opus => {
            let r = super::encode::OPUS_KBPS;
            (
                "Opus",
                r.contains(&kbps),
                format!("{} to {}", r.start(), r.end()),
            )
        }
        AudioFormat::Aac => {
            let r = super::encode::AAC_KBPS;
            (
                "AAC",
                r.contains(&kbps),
                format!("{} to {}", r.start(), r.end()),
            )
        }
        AudioFormat::Wav | AudioFormat::Flac => return Ok(()),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name} bit rate {kbps} kbps is not one glassmaster encodes; use {}{allowed}",
            if format == AudioFormat::Mp3 {
                "one of "
            } else {
                ""
            }
        ))
    }
}

/// The base profile of a bundle spec: its built-in profile, or for `custom`
/// the `archive` profile (24-bit FLAC, full tags, artwork kept) whose
/// format, rate, depth and naming the spec overrides.
pub fn resolve_spec(spec: &BundleSpec) -> Result<ResolvedBundle, DeliverError> {
    let base = if spec.profile == "custom" {
        "archive"
    } else {
        spec.profile.as_str()
    };
    let mut r = Profile::builtin(base)?.resolve(spec)?;
    if spec.profile == "custom" {
        r.profile = "custom".into();
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_matches_the_manifest_list() {
        let all = Profile::all().unwrap();
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, crate::manifest::validate::PROFILE_NAMES);
    }

    #[test]
    fn source_rate_is_clamped_to_the_allowed_rates() {
        let allowed = [44_100, 48_000, 88_200, 96_000];
        assert_eq!(pick_rate(48_000, &allowed), 48_000);
        assert_eq!(pick_rate(176_400, &allowed), 88_200);
        assert_eq!(pick_rate(192_000, &allowed), 96_000);
        assert_eq!(pick_rate(32_000, &allowed), 48_000);
        assert_eq!(pick_rate(22_050, &allowed), 44_100);
        assert_eq!(pick_rate(96_000, &[44_100]), 44_100);
    }

    #[test]
    fn uniform_takes_the_album_s_highest_allowed_rate() {
        let spec = BundleSpec {
            profile: "tidal".into(),
            name: "tidal".into(),
            format: None,
            sample_rate: None,
            bit_depth: None,
            naming: None,
            bitrate_kbps: None,
            dither: None,
            true_peak_dbtp: None,
        };
        let mut b = Profile::builtin("tidal").unwrap().resolve(&spec).unwrap();
        assert!(b.uniform);
        b.make_uniform([44_100, 48_000, 44_100]);
        assert_eq!(b.output_rate(44_100), 48_000);
        let mut fixed = Profile::builtin("tidal")
            .unwrap()
            .resolve(&BundleSpec {
                sample_rate: Some(96_000),
                ..spec.clone()
            })
            .unwrap();
        assert!(!fixed.uniform);
        fixed.make_uniform([44_100]);
        assert_eq!(fixed.output_rate(44_100), 96_000);
    }
}
