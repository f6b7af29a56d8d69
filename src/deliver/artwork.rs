//! The cover: checked against a profile's artwork rule, converted and
//! written as the bundle's `cover.jpg`.
//!
//! [`inspect`] reads a PNG's or JPEG's header itself (the container is told
//! by its signature, never by the file name): size, colour model as
//! stored (a JPEG's component count and Adobe transform, a PNG's colour
//! type), and whether an ICC profile or EXIF block is embedded. The image
//! crate's decoders convert CMYK and greyscale silently, so this is where
//! they are caught. [`process`] runs a rule's checks (each a [`Finding`]
//! that names the file and the rule, at the rule's severity), then
//! decodes, flattens alpha onto white, converts to 8-bit RGB, scales a
//! cover larger than the rule's `resize_px` down with Lanczos3, and
//! re-encodes it as a baseline JPEG at quality [`JPEG_QUALITY`]: a JFIF
//! header and the pixels, no ICC, EXIF or orientation. The same source and
//! rule give the same bytes on every run.

use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;

use super::profile::{ArtworkRule, ImageFormat, Severity};
use super::DeliverError;

/// Larger images are not decoded (a guard against decompression bombs).
pub const MAX_DECODE_PIXELS: u64 = 20_000 * 20_000;

/// Larger cover files are not read (counted as read): 100 MiB, past any
/// cover a store takes.
pub const MAX_ARTWORK_BYTES: u64 = 100 << 20;

/// JPEG quality of `cover.jpg`.
pub const JPEG_QUALITY: u8 = 92;

/// How the pixels are stored in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourModel {
    Rgb,
    RgbAlpha,
    Grey,
    GreyAlpha,
    /// A PNG palette (RGB entries).
    Palette,
    /// 4-component JPEG (CMYK or Adobe YCCK).
    Cmyk,
}

impl ColourModel {
    pub fn is_rgb(self) -> bool {
        matches!(
            self,
            ColourModel::Rgb | ColourModel::RgbAlpha | ColourModel::Palette
        )
    }

    fn describe(self) -> &'static str {
        match self {
            ColourModel::Rgb => "RGB",
            ColourModel::RgbAlpha => "RGB with alpha",
            ColourModel::Grey => "greyscale",
            ColourModel::GreyAlpha => "greyscale with alpha",
            ColourModel::Palette => "palette RGB",
            ColourModel::Cmyk => "CMYK",
        }
    }
}

/// What an image file's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub colour: ColourModel,
    pub icc_profile: bool,
    pub exif: bool,
}

/// One failed artwork rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    /// The rule: `required`, `format`, `square`, `min_px`, `max_px`, `rgb`.
    pub rule: &'static str,
    pub file: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: artwork rule `{}`: {}",
            self.file.display(),
            self.rule,
            self.message
        )
    }
}

/// The cover as a bundle writes and embeds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    /// `cover.jpg`'s bytes.
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl Cover {
    /// Writes `DIR/cover.jpg`; returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, DeliverError> {
        let path = dir.join("cover.jpg");
        std::fs::write(&path, &self.jpeg).map_err(|e| DeliverError::Io {
            path: path.clone(),
            source: e,
        })?;
        Ok(path)
    }
}

/// The checks' findings and, when the image could be read, the cover.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArtworkOutcome {
    pub findings: Vec<Finding>,
    pub cover: Option<Cover>,
}

impl ArtworkOutcome {
    /// True when a finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Reads a PNG's or JPEG's header. The error says what the file is not.
pub fn inspect(bytes: &[u8]) -> Result<ImageFacts, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        inspect_png(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        inspect_jpeg(bytes)
    } else {
        Err("not a PNG or JPEG image (its first bytes are neither signature)".into())
    }
}

fn be16(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])))
}

fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn inspect_png(b: &[u8]) -> Result<ImageFacts, String> {
    let trunc = || "truncated PNG header".to_string();
    if b.get(12..16) != Some(b"IHDR") {
        return Err("PNG without an IHDR chunk first".into());
    }
    let width = be32(b, 16).ok_or_else(trunc)?;
    let height = be32(b, 20).ok_or_else(trunc)?;
    let colour = match b.get(25).ok_or_else(trunc)? {
        0 => ColourModel::Grey,
        2 => ColourModel::Rgb,
        3 => ColourModel::Palette,
        4 => ColourModel::GreyAlpha,
        6 => ColourModel::RgbAlpha,
        t => return Err(format!("PNG colour type {t} is not defined")),
    };
    let (mut icc, mut exif) = (false, false);
    let mut pos = 8;
    while let (Some(len), Some(kind)) = (be32(b, pos), b.get(pos + 4..pos + 8)) {
        match kind {
            b"iCCP" => icc = true,
            b"eXIf" => exif = true,
            b"IEND" | b"IDAT" => {}
            _ => {}
        }
        if kind == b"IEND" {
            break;
        }
        pos = pos.saturating_add(12).saturating_add(len as usize);
    }
    Ok(ImageFacts {
        format: ImageFormat::Png,
        width,
        height,
        colour,
        icc_profile: icc,
        exif,
    })
}

fn inspect_jpeg(b: &[u8]) -> Result<ImageFacts, String> {
    let (mut icc, mut exif) = (false, false);
    let mut adobe_transform: Option<u8> = None;
    let mut frame: Option<(u32, u32, u8)> = None;
    let mut pos = 2;
    while pos + 4 <= b.len() {
        if b[pos] != 0xFF {
            return Err(format!("corrupt JPEG: no marker at byte {pos}"));
        }
        let marker = b[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        if marker == 0xD8 || marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            pos += 2;
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            break;
        }
        let len = be16(b, pos + 2).ok_or("truncated JPEG")? as usize;
        let seg = b.get(pos + 4..pos + 2 + len).unwrap_or(&[]);
        match marker {
            0xE1 if seg.starts_with(b"Exif\0") => exif = true,
            0xE2 if seg.starts_with(b"ICC_PROFILE\0") => icc = true,
            0xEE if seg.starts_with(b"Adobe") => adobe_transform = seg.get(11).copied(),
            0xC0..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                let h = be16(seg, 1).ok_or("truncated JPEG frame header")?;
                let w = be16(seg, 3).ok_or("truncated JPEG frame header")?;
                let n = *seg.get(5).ok_or("truncated JPEG frame header")?;
                frame = Some((w, h, n));
            }
            _ => {}
        }
        pos += 2 + len;
    }
    let (width, height, n) = frame.ok_or("JPEG without a frame header (SOF)")?;
    let colour = match n {
        1 => ColourModel::Grey,
        3 => ColourModel::Rgb,
        4 => ColourModel::Cmyk,
        n => return Err(format!("JPEG with {n} colour components")),
    };
    let _ = adobe_transform; // YCCK (2) and CMYK (0/1) are both 4-component: CMYK.
    Ok(ImageFacts {
        format: ImageFormat::Jpeg,
        width,
        height,
        colour,
        icc_profile: icc,
        exif,
    })
}

/// Checks `path` (the release's `artwork`, `None` when the manifest gives
/// none) against `rule` and makes the bundle's cover.
pub fn process(path: Option<&Path>, rule: &ArtworkRule) -> ArtworkOutcome {
    process_with(path, rule, &mut Covers::default())
}

/// The covers already made from one source image, for the bundles that
/// follow: the image is decoded once, and each size is resized and
/// encoded once, however many bundles ask for it (the same bytes as
/// making each anew: the work is a function of the image and the size).
#[derive(Default)]
pub struct Covers {
    source: Option<std::sync::Arc<[u8]>>,
    rgb: Option<image::RgbImage>,
    made: Vec<(Option<u32>, Result<Cover, String>)>,
}

/// [`process`], reusing what `covers` already made from the same file.
pub fn process_with(
    path: Option<&Path>,
    rule: &ArtworkRule,
    covers: &mut Covers,
) -> ArtworkOutcome {
    let mut out = ArtworkOutcome::default();
    let mut find = |severity: Severity, rule: &'static str, file: &Path, message: String| {
        if severity != Severity::Ignore {
            out.findings.push(Finding {
                severity,
                rule,
                file: file.to_path_buf(),
                message,
            });
        }
    };
    let Some(path) = path else {
        find(
            rule.required,
            "required",
            Path::new("release.artwork"),
            "the release has no artwork; this store needs a cover".into(),
        );
        return out;
    };
    let bytes = match crate::fsio::read_capped_io(path, MAX_ARTWORK_BYTES) {
        Ok(b) => b,
        Err(e) => {
            find(
                rule.required,
                "required",
                path,
                format!("cannot read the cover: {e}"),
            );
            return out;
        }
    };
    let facts = match inspect(&bytes) {
        Ok(f) => f,
        Err(e) => {
            find(rule.required, "format", path, e);
            return out;
        }
    };
    if !rule.formats.contains(&facts.format) {
        find(
            Severity::Error,
            "format",
            path,
            format!("{:?} is not a format this store takes", facts.format),
        );
    }
    let (w, h) = (facts.width, facts.height);
    if w != h {
        find(
            rule.square,
            "square",
            path,
            format!("{w}x{h} is not square"),
        );
    }
    if w.min(h) < rule.min_px {
        find(
            Severity::Error,
            "min_px",
            path,
            format!("{w}x{h} is smaller than the {0}x{0} minimum", rule.min_px),
        );
    }
    if w.max(h) > rule.max_px {
        find(
            Severity::Error,
            "max_px",
            path,
            format!("{w}x{h} is larger than the {0}x{0} maximum", rule.max_px),
        );
    }
    if !facts.colour.is_rgb() {
        find(
            rule.rgb,
            "rgb",
            path,
            format!(
                "the image is {}; stores take RGB (sRGB) only",
                facts.colour.describe()
            ),
        );
    }
    if u64::from(w) * u64::from(h) > MAX_DECODE_PIXELS {
        find(
            rule.required,
            "max_px",
            path,
            format!("{w}x{h} is too large to convert (more than {MAX_DECODE_PIXELS} pixels)"),
        );
        return out;
    }
    match make_cover(&bytes, &facts, rule, covers) {
        Ok(c) => out.cover = Some(c),
        Err(e) => find(rule.required, "format", path, e),
    }
    out
}

fn make_cover(
    bytes: &[u8],
    facts: &ImageFacts,
    rule: &ArtworkRule,
    covers: &mut Covers,
) -> Result<Cover, String> {
    let too_big = rule
        .resize_px
        .is_some_and(|r| facts.width.max(facts.height) > r);
    if !rule.strip_metadata
        && !too_big
        && facts.format == ImageFormat::Jpeg
        && facts.colour == ColourModel::Rgb
    {
        return Ok(Cover {
            jpeg: bytes.to_vec(),
            width: facts.width,
            height: facts.height,
        });
    }
    // What was made is kept per source file's bytes: a new file starts anew.
    if covers.source.as_deref() != Some(bytes) {
        *covers = Covers {
            source: Some(bytes.into()),
            ..Covers::default()
        };
    }
    let size = rule.resize_px.filter(|_| too_big);
    if let Some((_, c)) = covers.made.iter().find(|(s, _)| *s == size) {
        return c.clone();
    }
    let made = encode_cover(bytes, facts, size, &mut covers.rgb);
    covers.made.push((size, made.clone()));
    made
}

/// The cover at `size` (the longer side; `None`: as it is), from the
/// image decoded into `rgb` (decoded here the first time).
fn encode_cover(
    bytes: &[u8],
    facts: &ImageFacts,
    size: Option<u32>,
    rgb: &mut Option<image::RgbImage>,
) -> Result<Cover, String> {
    if rgb.is_none() {
        *rgb = Some(decode_rgb(bytes, facts)?);
    }
    let Some(full) = rgb.as_ref() else {
        return Err("cannot decode the image".into());
    };
    let (w, h) = full.dimensions();
    let mut resized = None;
    if let Some(r) = size.filter(|r| w.max(h) > *r) {
        let (nw, nh) = if w >= h {
            (
                r,
                ((u64::from(h) * u64::from(r) + u64::from(w) / 2) / u64::from(w)) as u32,
            )
        } else {
            (
                ((u64::from(w) * u64::from(r) + u64::from(h) / 2) / u64::from(h)) as u32,
                r,
            )
        };
        resized = Some(image::imageops::resize(
            full,
            nw.max(1),
            nh.max(1),
            FilterType::Lanczos3,
        ));
    }
    let rgb = resized.as_ref().unwrap_or(full);
    let (w, h) = rgb.dimensions();
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(rgb)
        .map_err(|e| format!("cannot encode cover.jpg: {e}"))?;
    Ok(Cover {
        jpeg,
        width: w,
        height: h,
    })
}

/// The image as 8-bit RGB, alpha flattened onto white.
fn decode_rgb(bytes: &[u8], facts: &ImageFacts) -> Result<image::RgbImage, String> {
    let format = match facts.format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
    };
    let img = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| format!("cannot decode the image: {e}"))?;
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut rgb = image::RgbImage::new(w, h);
    for (d, s) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(s[3]);
        for c in 0..3 {
            d[c] = ((u32::from(s[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    Ok(rgb)
}
