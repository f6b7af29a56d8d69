//! DDEX ERN 4.3: the NewReleaseMessage a label sends a store for one
//! streaming bundle, and the reading of it back for `verify`.
//!
//! One message per bundle that opts in (`ddex: true`), written as
//! `streaming/NAME/ddex/NewReleaseMessage.xml`: a message lists the very
//! files it delivers (name, MD5, codec, rate, bits), and two bundles
//! deliver different files. The message holds the parties (artists with
//! their roles, the label), a SoundRecording per track and the cover as an
//! Image ([`write`]), the album with its ICPN, type ([`release_type`]),
//! genre and a ResourceGroup per disc, a TrackRelease per track, and the
//! deals of the manifest's `ddex:` section. Same inputs, same bytes: the
//! creation time is `SOURCE_DATE_EPOCH` or the release date
//! ([`created_at`]), and the default message id is a hash of the content.
//! [`read`] parses a message back into the fields `verify` compares.

pub mod read;
pub mod write;

use crate::manifest::model::AudioFormat;

pub use read::{read_message, ReadMessage};
pub use write::{message, MESSAGE_FILE};

/// Why a message could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DdexError {
    #[error("SOURCE_DATE_EPOCH is \"{0}\"; it must be whole seconds since 1970-01-01 UTC")]
    BadEpoch(String),
    #[error("DDEX message: {0}")]
    Missing(String),
    #[error("DDEX message: cannot write XML: {0}")]
    Xml(#[from] std::io::Error),
}

/// One delivered audio file, as the message describes it.
#[derive(Debug, Clone)]
pub struct DeliveredFile {
    /// Name in the bundle folder.
    pub name: String,
    pub md5: String,
    pub size: u64,
    /// Seconds of the delivered file, as measured on it.
    pub duration_s: f64,
    pub sample_rate: u32,
    pub channels: u16,
}

/// The bundle's format, common to its files.
#[derive(Debug, Clone, Copy)]
pub struct FileFormat {
    pub format: AudioFormat,
    /// PCM formats' bits per sample.
    pub bit_depth: Option<u16>,
    /// MP3's bit rate.
    pub bitrate_kbps: Option<u32>,
}

/// `cover.jpg` of the bundle.
#[derive(Debug, Clone)]
pub struct CoverFile {
    pub name: String,
    pub md5: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
}

/// What the message says of one bundle's files.
#[derive(Debug, Clone)]
pub struct BundleFiles {
    /// Per track, in manifest order.
    pub files: Vec<DeliveredFile>,
    pub format: FileFormat,
    pub cover: Option<CoverFile>,
    /// `MessageCreatedDateTime`, from [`created_at`].
    pub created: String,
}

/// The store's type of a release, from its track count and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseType {
    Single,
    Ep,
    Album,
}

impl ReleaseType {
    /// The DDEX word (ReleaseType allowed-value set).
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseType::Single => "Single",
            ReleaseType::Ep => "EP",
            ReleaseType::Album => "Album",
        }
    }
}

/// Ten minutes: a track this long makes a 1-3 track release an EP.
const LONG_TRACK_MS: u64 = 10 * 60 * 1000;
/// Thirty minutes: a release this long is an album, whatever its count.
const ALBUM_MS: u64 = 30 * 60 * 1000;

/// The release type as Apple Music and Spotify define it: 1-3 tracks, each
/// under 10 minutes, 30 minutes in all or less: a Single; 1-3 tracks with
/// one of 10 minutes or more, or 4-6 tracks, under 30 minutes in all: an
/// EP; 7 tracks or more, or 30 minutes or more: an Album.
pub fn release_type(track_ms: &[u64]) -> ReleaseType {
    let total: u64 = track_ms.iter().sum();
    let n = track_ms.len();
    if n >= 7 {
        ReleaseType::Album
    } else if n <= 3 && total <= ALBUM_MS && track_ms.iter().all(|&t| t < LONG_TRACK_MS) {
        ReleaseType::Single
    } else if total < ALBUM_MS {
        ReleaseType::Ep
    } else {
        ReleaseType::Album
    }
}

/// Milliseconds of `seconds`, rounded to the nearest.
pub fn millis(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1000.0).round() as u64
}

/// An ISO 8601 duration to the millisecond: `PT3M20.123S`, `PT1H2M3.000S`.
pub fn iso_duration(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, frac) = (rest / 1000, rest % 1000);
    if h > 0 {
        format!("PT{h}H{m}M{s}.{frac:03}S")
    } else {
        format!("PT{m}M{s}.{frac:03}S")
    }
}

/// Milliseconds of an ISO 8601 duration of hours, minutes and seconds
/// (`PT1H2M3.5S`); `None` when it is not one.
pub fn parse_iso_duration(text: &str) -> Option<u64> {
    let mut rest = text.trim().strip_prefix("PT")?;
    if rest.is_empty() {
        return None;
    }
    let mut ms = 0f64;
    for (unit, scale) in [('H', 3_600_000.0), ('M', 60_000.0), ('S', 1000.0)] {
        if let Some(i) = rest.find(unit) {
            let v: f64 = rest[..i].parse().ok()?;
            if !v.is_finite() || v < 0.0 || (unit != 'S' && v.fract() != 0.0) {
                return None;
            }
            ms += v * scale;
            rest = &rest[i + 1..];
        }
    }
    rest.is_empty().then(|| ms.round() as u64)
}

/// `MessageCreatedDateTime`: `SOURCE_DATE_EPOCH` (given as `epoch`) in
/// UTC, else midnight UTC of `date` (the release date): never the clock.
pub fn created_at(epoch: Option<&str>, date: &str) -> Result<String, DdexError> {
    let Some(e) = epoch.filter(|e| !e.trim().is_empty()) else {
        return Ok(format!("{date}T00:00:00Z"));
    };
    let secs: i64 = e
        .trim()
        .parse()
        .ok()
        .filter(|s| (0..253_402_300_800).contains(s))
        .ok_or_else(|| DdexError::BadEpoch(e.to_owned()))?;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    Ok(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A file name as a relative URI reference: RFC 3986 unreserved
/// characters kept, every other byte of its UTF-8 percent-encoded.
pub fn uri_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`uri_encode`]; `None` for a broken escape or bytes that
/// are not UTF-8.
pub fn uri_decode(uri: &str) -> Option<String> {
    let b = uri.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    #[test]
    fn release_types_as_the_stores_define_them() {
        assert_eq!(release_type(&[3 * MIN]), ReleaseType::Single);
        assert_eq!(release_type(&[3 * MIN; 3]), ReleaseType::Single);
        assert_eq!(release_type(&[12 * MIN]), ReleaseType::Ep);
        assert_eq!(release_type(&[3 * MIN, 11 * MIN]), ReleaseType::Ep);
        assert_eq!(release_type(&[4 * MIN; 4]), ReleaseType::Ep);
        assert_eq!(release_type(&[4 * MIN; 6]), ReleaseType::Ep);
        assert_eq!(release_type(&[MIN; 7]), ReleaseType::Album);
        assert_eq!(release_type(&[6 * MIN; 5]), ReleaseType::Album);
        assert_eq!(release_type(&[16 * MIN, 16 * MIN]), ReleaseType::Album);
    }

    #[test]
    fn durations_round_trip_to_the_millisecond() {
        assert_eq!(iso_duration(200_123), "PT3M20.123S");
        assert_eq!(iso_duration(3_723_000), "PT1H2M3.000S");
        assert_eq!(iso_duration(999), "PT0M0.999S");
        for ms in [0, 1, 999, 200_123, 3_723_004, 86_399_999] {
            assert_eq!(parse_iso_duration(&iso_duration(ms)), Some(ms));
        }
        assert_eq!(parse_iso_duration("PT2M28S"), Some(148_000));
        assert_eq!(parse_iso_duration("P1D"), None);
        assert_eq!(parse_iso_duration("PT"), None);
        assert_eq!(parse_iso_duration("PT1.5M"), None);
        assert_eq!(millis(2.0004), 2000);
    }

    #[test]
    fn creation_time_is_the_epoch_or_the_release_date() {
        assert_eq!(
            created_at(None, "2026-12-04").unwrap(),
            "2026-12-04T00:00:00Z"
        );
        assert_eq!(created_at(Some("0"), "x").unwrap(), "1970-01-01T00:00:00Z");
        // 2024-02-29 12:34:56 UTC.
        assert_eq!(
            created_at(Some("1709210096"), "x").unwrap(),
            "2024-02-29T12:34:56Z"
        );
        assert!(created_at(Some("soon"), "x").is_err());
        assert!(created_at(Some("-5"), "x").is_err());
    }

    #[test]
    fn file_names_as_uris() {
        let n = "01 Night Drive (feat. Guest) – é.flac";
        let u = uri_encode(n);
        assert!(!u.contains(' ') && u.is_ascii(), "{u}");
        assert_eq!(uri_decode(&u).as_deref(), Some(n));
        assert_eq!(uri_decode("a%2"), None);
    }
}
