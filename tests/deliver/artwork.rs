//! Artwork rules: a CMYK JPEG, a greyscale JPEG, a 1000x800 PNG, a text file
//! named cover.png and a missing file each get the finding their profile
//! calls for, naming the file and the rule; a good cover is converted,
//! scaled and stripped deterministically.

use std::path::Path;

use glassmaster::deliver::artwork::{inspect, process, ColourModel};
use glassmaster::deliver::profile::{Profile, Severity};

use super::encode::write_png;
use crate::util::scratch;

/// A real baseline CMYK JPEG (4 components, Adobe APP14 marker), `px`
/// square, every block flat: one Huffman code "0" for DC category 0 and
/// for EOB, so each 8x8 block of each component is two bits and an MCU of
/// four components is one zero byte.
fn cmyk_jpeg(px: u16) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    // APP14 Adobe, transform 0 (CMYK).
    j.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
    j.extend_from_slice(b"Adobe");
    j.extend_from_slice(&[0, 100, 0, 0, 0, 0, 0]);
    // DQT: table 0, all ones.
    j.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
    j.extend_from_slice(&[1u8; 64]);
    // SOF0: 8-bit, px x px, 4 components, no subsampling, table 0.
    j.extend_from_slice(&[0xFF, 0xC0, 0, 20, 8]);
    j.extend_from_slice(&px.to_be_bytes());
    j.extend_from_slice(&px.to_be_bytes());
    j.push(4);
    for id in 1..=4u8 {
        j.extend_from_slice(&[id, 0x11, 0]);
    }
    // DHT: DC table 0 and AC table 0, one code of length 1 for symbol 0.
    for class in [0x00u8, 0x10] {
        j.extend_from_slice(&[0xFF, 0xC4, 0, 20, class, 1]);
        j.extend_from_slice(&[0u8; 15]);
        j.push(0);
    }
    // SOS: 4 components, tables 0/0, full spectral range.
    j.extend_from_slice(&[0xFF, 0xDA, 0, 14, 4]);
    for id in 1..=4u8 {
        j.extend_from_slice(&[id, 0x00]);
    }
    j.extend_from_slice(&[0, 63, 0]);
    let mcus = (usize::from(px) / 8).pow(2);
    j.extend(std::iter::repeat_n(0u8, mcus));
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

fn grey_jpeg(path: &Path, px: u32) {
    let img = image::GrayImage::from_fn(px, px, |x, _| image::Luma([(x % 256) as u8]));
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

fn rule(profile: &str) -> glassmaster::deliver::profile::ArtworkRule {
    Profile::builtin(profile).unwrap().artwork
}

fn find<'a>(
    o: &'a glassmaster::deliver::artwork::ArtworkOutcome,
    rule: &str,
) -> Option<&'a glassmaster::deliver::artwork::Finding> {
    o.findings.iter().find(|f| f.rule == rule)
}

#[test]
fn cmyk_jpeg_is_an_error_for_spotify_and_a_warning_for_promo() {
    let dir = scratch("deliver-art-cmyk");
    let path = dir.join("cover-cmyk.jpg");
    std::fs::write(&path, cmyk_jpeg(1400)).unwrap();
    let facts = inspect(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(facts.colour, ColourModel::Cmyk);
    assert_eq!((facts.width, facts.height), (1400, 1400));

    let o = process(Some(&path), &rule("spotify"));
    let f = find(&o, "rgb").expect("an rgb finding");
    assert_eq!(f.severity, Severity::Error);
    let text = f.to_string();
    assert!(
        text.contains("cover-cmyk.jpg") && text.contains("`rgb`") && text.contains("CMYK"),
        "{text}"
    );
    assert!(o.has_errors());
    // The image crate decodes it (converting silently): a cover is still made, as RGB.
    let c = o.cover.as_ref().expect("decodable");
    assert_eq!(inspect(&c.jpeg).unwrap().colour, ColourModel::Rgb);

    let o = process(Some(&path), &rule("promo-mp3"));
    assert_eq!(find(&o, "rgb").unwrap().severity, Severity::Warning);
    assert!(!o.has_errors());
}

#[test]
fn greyscale_jpeg_is_caught() {
    let dir = scratch("deliver-art-grey");
    let path = dir.join("grey.jpg");
    grey_jpeg(&path, 800);
    let o = process(Some(&path), &rule("cd-baby"));
    let f = find(&o, "rgb").unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("greyscale"), "{}", f.message);
    // 800 < 1400: too small for CD Baby as well.
    assert!(find(&o, "min_px").unwrap().message.contains("800x800"));
}

#[test]
fn a_1000x800_png_is_not_square() {
    let dir = scratch("deliver-art-rect");
    let path = dir.join("wide.png");
    write_png(&path, 1000, 800);
    let o = process(Some(&path), &rule("spotify"));
    let f = find(&o, "square").unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert!(f.to_string().contains("wide.png") && f.message.contains("1000x800"));
    let o = process(Some(&path), &rule("bandcamp"));
    assert_eq!(find(&o, "square").unwrap().severity, Severity::Warning);
    // Bandcamp also wants 1400 px.
    assert_eq!(find(&o, "min_px").unwrap().severity, Severity::Error);
    // Archive checks neither.
    let o = process(Some(&path), &rule("archive"));
    assert!(o.findings.is_empty(), "{:?}", o.findings);
}

#[test]
fn a_text_file_named_cover_png_and_a_missing_file() {
    let dir = scratch("deliver-art-bad");
    let text = dir.join("cover.png");
    std::fs::write(&text, "this is not an image\n").unwrap();
    let o = process(Some(&text), &rule("apple-digital-masters"));
    let f = find(&o, "format").unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.to_string().contains("cover.png") && f.message.contains("not a PNG or JPEG"),
        "{f}"
    );
    assert!(o.cover.is_none());
    let o = process(Some(&text), &rule("soundcloud"));
    assert_eq!(find(&o, "format").unwrap().severity, Severity::Warning);

    let missing = dir.join("nope.jpg");
    let o = process(Some(&missing), &rule("spotify"));
    let f = find(&o, "required").unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert!(f.to_string().contains("nope.jpg"), "{f}");
    let o = process(None, &rule("promo-mp3"));
    assert_eq!(find(&o, "required").unwrap().severity, Severity::Warning);
}

#[test]
fn covers_are_scaled_stripped_and_deterministic() {
    let dir = scratch("deliver-art-good");
    let path = dir.join("big.png");
    write_png(&path, 3600, 3600);
    let r = rule("apple-digital-masters");
    let a = process(Some(&path), &r);
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    let c = a.cover.unwrap();
    assert_eq!((c.width, c.height), (3000, 3000));
    let facts = inspect(&c.jpeg).unwrap();
    assert_eq!(
        (facts.width, facts.colour, facts.icc_profile, facts.exif),
        (3000, ColourModel::Rgb, false, false)
    );
    let b = process(Some(&path), &r).cover.unwrap();
    assert_eq!(c.jpeg, b.jpeg, "same cover, same bytes");
    let written = c.write(&dir).unwrap();
    assert_eq!(written.file_name().unwrap(), "cover.jpg");
    // A 3000 px Apple cover read back by the image crate.
    let back = image::open(&written).unwrap();
    assert_eq!((back.width(), back.height()), (3000, 3000));
    // Apple needs 3000: a 1400 px cover is an error there.
    let small = dir.join("small.png");
    write_png(&small, 1400, 1400);
    let o = process(Some(&small), &r);
    assert!(find(&o, "min_px")
        .unwrap()
        .message
        .contains("3000x3000 minimum"));
}
