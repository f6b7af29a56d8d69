//! The per-track encoders: FLAC (lossless, STREAMINFO symphonia accepts,
//! `flac -t`, every tag through `metaflac`), plain-PCM 24-bit WAV at the
//! source rate, and promo MP3s kept under the ceiling after decoding.

use std::process::Command;

use glassmaster::audio::{read_all, Block};
use glassmaster::deliver::artwork;
use glassmaster::deliver::profile::{resolve_spec, Profile, TagSet};
use glassmaster::deliver::tags::write_tags;
use glassmaster::deliver::ResolvedBundle;
use glassmaster::manifest::model::{AudioFormat, BundleSpec};

use super::{encode, full_tags, programme, tool};
use crate::util::scratch;

/// The resolved bundle of a built-in profile.
pub(super) fn bundle(profile: &str) -> ResolvedBundle {
    resolve_spec(&BundleSpec {
        profile: profile.into(),
        name: profile.into(),
        format: None,
        sample_rate: None,
        bit_depth: None,
        naming: None,
        bitrate_kbps: None,
        dither: None,
        true_peak_dbtp: None,
    })
    .unwrap()
}

/// A 1000x1000 RGB PNG, a gradient, written to `path`.
pub fn write_png(path: &std::path::Path, w: u32, h: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    });
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

#[test]
fn flac_bundle_is_lossless_tagged_and_passes_flac_t() {
    let dir = scratch("deliver-flac");
    let b = bundle("spotify");
    assert_eq!(b.format, AudioFormat::Flac);
    let src = programme(48_000, 3.3, 1);
    let path = dir.join("02 Night Drive.flac");
    let enc = encode(&b, 48_000, &src, &path, 2);
    assert_eq!((enc.sample_rate, enc.bit_depth), (48_000, Some(24)));
    assert_eq!(enc.frames, src.len() as u64);

    // Lossless: our decoder (symphonia) gives back the 24-bit rounding.
    let (info, back) = read_all(&path).unwrap();
    assert_eq!((info.sample_rate, info.bit_depth), (48_000, Some(24)));
    assert_eq!(back.len(), src.len());
    let q = |x: f64| (x * 8_388_608.0).round().clamp(-8_388_608.0, 8_388_607.0);
    for i in (0..src.len()).step_by(97) {
        assert_eq!(
            q(src.left[i]),
            (back.left[i] * 8_388_608.0).round(),
            "L[{i}]"
        );
        assert_eq!(
            q(src.right[i]),
            (back.right[i] * 8_388_608.0).round(),
            "R[{i}]"
        );
    }

    let cover_png = dir.join("cover.png");
    write_png(&cover_png, 1000, 1000);
    let art = artwork::process(Some(&cover_png), &b.artwork);
    assert!(art.findings.is_empty(), "{:?}", art.findings);
    let cover = art.cover.unwrap();
    let tags = full_tags();
    write_tags(&path, b.tags, &tags, Some(&cover.jpeg)).unwrap();

    let Some(t) = tool("flac", &["-t", "-s", path.to_str().unwrap()], "flac -t") else {
        return;
    };
    assert!(
        t.status.success(),
        "flac -t failed: {}",
        String::from_utf8_lossy(&t.stderr)
    );
    let Some(m) = tool(
        "metaflac",
        &["--export-tags-to=-", path.to_str().unwrap()],
        "metaflac",
    ) else {
        return;
    };
    let text = String::from_utf8(m.stdout).unwrap();
    let expect = [
        "TITLE=Night Drive",
        "VERSION=Radio Edit",
        "ARTIST=The Example Band feat. Guest Singer",
        "ARTISTS=The Example Band",
        "ARTISTS=Guest Singer",
        "ALBUM=Night Drive",
        "ALBUMARTIST=The Example Band",
        "TRACKNUMBER=2",
        "TRACKTOTAL=3",
        "DISCNUMBER=1",
        "DISCTOTAL=1",
        "DATE=2026-12-04",
        "GENRE=Electronic",
        "ISRC=GBABC2600002",
        "BARCODE=5012345678900",
        "LABEL=Example Records",
        "CATALOGNUMBER=EXR-042",
        "COMPOSER=A. Writer",
        "LYRICIST=B. Poet",
        "COPYRIGHT=2026 Example Records",
        "PRODUCEDNOTICE=2026 Example Records",
        "ITUNESADVISORY=1",
        "LANGUAGE=eng",
        "LYRICS=Headlights on the water",
        "REPLAYGAIN_TRACK_GAIN=-4.00 dB",
        "REPLAYGAIN_TRACK_PEAK=0.870964",
        "REPLAYGAIN_ALBUM_GAIN=-3.50 dB",
        "REPLAYGAIN_ALBUM_PEAK=0.891251",
    ];
    let lines: Vec<&str> = text.lines().collect();
    for e in expect {
        assert!(lines.contains(&e), "missing `{e}` in:\n{text}");
    }
    let pic = Command::new("metaflac")
        .args(["--list", "--block-type=PICTURE", path.to_str().unwrap()])
        .output()
        .unwrap();
    let pic = String::from_utf8_lossy(&pic.stdout);
    assert!(pic.contains("type: 3 (Cover (front))"), "{pic}");
    assert!(pic.contains("MIME type: image/jpeg"), "{pic}");
    assert!(pic.contains("width: 1000"), "{pic}");
    // STREAMINFO as the FLAC format wants it: min block = max block.
    let si = Command::new("metaflac")
        .args([
            "--show-min-blocksize",
            "--show-max-blocksize",
            "--show-total-samples",
            "--show-md5sum",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let si = String::from_utf8_lossy(&si.stdout);
    let v: Vec<&str> = si.lines().collect();
    assert_eq!(&v[..3], &["4096", "4096", &src.len().to_string()]);
    assert_ne!(v[3], "00000000000000000000000000000000");
}

#[test]
fn flac_and_wav_bytes_are_deterministic_and_16_bit_is_dithered_by_seed() {
    let dir = scratch("deliver-determinism");
    let src = programme(96_000, 1.0, 3);
    let deezer = bundle("deezer"); // 16-bit 44.1 kHz FLAC: resampled and dithered
    let a = dir.join("a.flac");
    let b = dir.join("b.flac");
    let c = dir.join("c.flac");
    let ea = encode(&deezer, 96_000, &src, &a, 7);
    encode(&deezer, 96_000, &src, &b, 7);
    encode(&deezer, 96_000, &src, &c, 8);
    assert_eq!((ea.sample_rate, ea.bit_depth), (44_100, Some(16)));
    assert_eq!(ea.frames, 44_100);
    let (ba, bb, bc) = (
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        std::fs::read(&c).unwrap(),
    );
    assert_eq!(ba, bb, "same seed, same bytes");
    assert_ne!(ba, bc, "the seed drives the dither");
    let (info, back) = read_all(&a).unwrap();
    assert_eq!((info.sample_rate, info.bit_depth), (44_100, Some(16)));
    assert_eq!(back.len(), 44_100);
    if let Some(t) = tool("flac", &["-t", "-s", a.to_str().unwrap()], "flac -t 16-bit") {
        assert!(t.status.success());
    }
}

fn wav_header(path: &std::path::Path) -> (u16, u16, u32, u16) {
    let h = std::fs::read(path).unwrap();
    assert_eq!(&h[0..4], b"RIFF");
    assert_eq!(&h[8..12], b"WAVE");
    assert_eq!(&h[12..16], b"fmt ");
    let u16at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
    let rate = u32::from_le_bytes([h[24], h[25], h[26], h[27]]);
    (u16at(20), u16at(22), rate, u16at(34))
}

#[test]
fn apple_digital_masters_are_24_bit_plain_pcm_at_the_source_rate() {
    let dir = scratch("deliver-wav");
    let b = bundle("apple-digital-masters");
    for (master, want) in [
        (44_100, 44_100),
        (48_000, 48_000),
        (88_200, 88_200),
        (96_000, 96_000),
        (192_000, 96_000),
        (176_400, 88_200),
    ] {
        let src = programme(master, 0.5, 4);
        let path = dir.join(format!("{master}.wav"));
        let e = encode(&b, master, &src, &path, 1);
        assert_eq!(e.sample_rate, want);
        let (tag, ch, rate, bits) = wav_header(&path);
        assert_eq!((tag, ch, rate, bits), (1, 2, want, 24), "master {master}");
        let (_, back) = read_all(&path).unwrap();
        assert_eq!(back.len() as u64, (0.5 * f64::from(want)) as u64);
        if master == want {
            // Rounded, not dithered: the exact 24-bit codes come back.
            for i in (0..src.len()).step_by(101) {
                let q = (src.left[i] * 8_388_608.0).round();
                assert_eq!(q, (back.left[i] * 8_388_608.0).round());
            }
        }
    }
    if let Some(o) = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,bits_per_sample",
            "-of",
            "csv=p=0",
            dir.join("96000.wav").to_str().unwrap(),
        ],
        "ffprobe wav",
    ) {
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "pcm_s24le,96000,24"
        );
    }
}

#[test]
fn riff_info_tags_when_the_profile_asks() {
    let dir = scratch("deliver-riff");
    let b = bundle("beatport");
    assert_eq!(b.tags, TagSet::RiffInfo);
    let path = dir.join("t.wav");
    encode(&b, 44_100, &programme(44_100, 0.3, 5), &path, 1);
    write_tags(&path, b.tags, &full_tags(), None).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let has = |s: &[u8]| bytes.windows(s.len()).any(|w| w == s);
    assert!(has(b"LIST") && has(b"INFO") && has(b"INAM") && has(b"Night Drive"));
    assert_eq!(wav_header(&path).0, 1);
    let (_, back) = read_all(&path).unwrap();
    assert_eq!(back.len(), 13_230);
}

/// Loud and bright: a 2.5 kHz square with noise, clipped at -1.2 dBFS
/// sample peak. The MP3's lowpass and quantisation ring well above the
/// ceiling, so it is encoded with less gain (see `MAX_REENCODES` and
/// `PREDICTED_OVERSHOOT_DB`; the re-encode loop has a unit test).
pub(super) fn loud_bright(rate: u32, secs: f64) -> Block {
    let n = (secs * f64::from(rate)) as usize;
    let mut rng = glassmaster::dsp::dither::Rng::new(99);
    let lim = 10f64.powf(-1.2 / 20.0);
    let mut b = Block::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let sq = if (t * 2500.0).fract() < 0.5 {
            1.0
        } else {
            -1.0
        };
        let x = (sq * 0.9 + (rng.uniform() - 0.5) * 0.6).clamp(-lim, lim);
        let y = (-sq * 0.9 + (rng.uniform() - 0.5) * 0.6).clamp(-lim, lim);
        b.left.push(x);
        b.right.push(y);
    }
    b
}

fn ffmpeg_true_peak(path: &std::path::Path) -> Option<f64> {
    let o = tool(
        "ffmpeg",
        &[
            "-nostats",
            "-hide_banner",
            "-i",
            path.to_str().unwrap(),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        "ffmpeg true peak",
    )?;
    let err = String::from_utf8_lossy(&o.stderr);
    let tail = &err[err.rfind("True peak:")?..];
    let line = tail.lines().find(|l| l.trim_start().starts_with("Peak:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn promo_mp3_is_320k_cbr_id3v24_and_under_the_ceiling_after_decoding() {
    let dir = scratch("deliver-mp3");
    let b = bundle("promo-mp3");
    assert_eq!(
        (b.format, b.bitrate_kbps, b.true_peak_dbtp),
        (AudioFormat::Mp3, 320, -1.0)
    );
    let src = loud_bright(48_000, 6.0);
    let path = dir.join("01 Loud.mp3");
    let e = encode(&b, 48_000, &src, &path, 1);
    println!(
        "promo-mp3 loud bright input: {} re-encode(s), gain {:.2} dB, decoded true peak {:.2} dBTP",
        e.reencodes,
        e.gain_db,
        e.decoded_true_peak_dbtp.unwrap()
    );
    assert_eq!(e.sample_rate, 44_100);
    assert!(e.gain_db < 0.0 && e.gain_db > -6.0, "gain {}", e.gain_db);
    assert!(e.decoded_true_peak_dbtp.unwrap() <= -1.0);
    assert!(!dir.join("01 Loud.mp3.spool.f32").exists(), "spool removed");

    // A quiet programme needs no re-encode and keeps its gain.
    let quiet = dir.join("02 Quiet.mp3");
    let q = encode(&b, 44_100, &programme(44_100, 2.0, 6), &quiet, 2);
    assert_eq!((q.reencodes, q.gain_db), (0, 0.0));
    let again = dir.join("02 Quiet again.mp3");
    encode(&b, 44_100, &programme(44_100, 2.0, 6), &again, 2);
    assert_eq!(
        std::fs::read(&quiet).unwrap(),
        std::fs::read(&again).unwrap(),
        "LAME output is the same on every run"
    );

    let art = artwork::process(
        Some(&{
            let p = dir.join("cover.png");
            write_png(&p, 1400, 1400);
            p
        }),
        &b.artwork,
    );
    let cover = art.cover.unwrap();
    assert_eq!((cover.width, cover.height), (1000, 1000));
    write_tags(&path, b.tags, &full_tags(), Some(&cover.jpeg)).unwrap();
    // Decodes (symphonia) after tagging.
    // Every sample: 6 s at 44.1 kHz, the LAME tag's delay and padding
    // trimmed (issue 10: it was 2041 short).
    let (_, back) = read_all(&path).unwrap();
    assert_eq!(back.len(), 6 * 44_100);

    if let Some(tp) = ffmpeg_true_peak(&path) {
        println!("ffmpeg decoded true peak {tp:.2} dBTP (ceiling -1.0)");
        assert!(tp <= -1.0 + 0.1, "ffmpeg true peak {tp}");
    }
    if let Some(o) = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name,sample_rate,bit_rate",
            "-of",
            "csv=p=0",
            path.to_str().unwrap(),
        ],
        "ffprobe mp3",
    ) {
        assert_eq!(
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .trim_end_matches(','),
            "mp3,44100,320000"
        );
    }
    if let Some(o) = tool(
        "exiftool",
        &["-j", "-G1", path.to_str().unwrap()],
        "exiftool mp3",
    ) {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let t = &v[0];
        assert_eq!(t["ID3v2_4:ISRC"], "GBABC2600002", "{t:#}");
        assert_eq!(t["ID3v2_4:Title"], "Night Drive");
        assert_eq!(t["ID3v2_4:Artist"], "The Example Band feat. Guest Singer");
        assert_eq!(t["ID3v2_4:Album"], "Night Drive");
        assert_eq!(t["ID3v2_4:Publisher"], "Example Records");
        assert_eq!(t["ID3v2_4:Track"], "2/3");
        assert_eq!(t["ID3v2_4:PictureType"], "Front Cover");
        assert_eq!(t["ID3v2_4:PictureMIMEType"], "image/jpeg");
        assert!(t["ID3v2_4:Picture"]
            .as_str()
            .unwrap()
            .contains("Binary data"));
        assert_eq!(t["MPEG:AudioBitrate"], "320 kbps");
        assert_eq!(t["MPEG:ChannelMode"], "Joint Stereo");
    }
}

#[test]
fn profile_overrides_apply() {
    let p = Profile::builtin("spotify").unwrap();
    let r = p
        .resolve(&BundleSpec {
            profile: "spotify".into(),
            name: "spotify-wav".into(),
            format: Some(AudioFormat::Wav),
            sample_rate: Some(44_100),
            bit_depth: Some(16),
            naming: Some("{track:02} {title}".into()),
            bitrate_kbps: None,
            dither: None,
            true_peak_dbtp: None,
        })
        .unwrap();
    assert_eq!(r.format, AudioFormat::Wav);
    assert_eq!(r.output_rate(96_000), 44_100);
    assert_eq!(r.bit_depth, 16);
    assert_eq!(r.dither, glassmaster::manifest::model::Dither::Tpdf);
    assert_eq!(r.tags, TagSet::None);
    assert_eq!(r.naming, "{track:02} {title}");
    assert_eq!(r.name, "spotify-wav");
    let bad = p.resolve(&BundleSpec {
        profile: "spotify".into(),
        name: "x".into(),
        format: Some(AudioFormat::Mp3),
        sample_rate: None,
        bit_depth: None,
        naming: None,
        bitrate_kbps: Some(100),
        dither: None,
        true_peak_dbtp: None,
    });
    let msg = bad.unwrap_err().to_string();
    assert!(
        msg.contains("bundle `x`") && msg.contains("100 kbps"),
        "{msg}"
    );
    let custom = resolve_spec(&BundleSpec {
        profile: "custom".into(),
        name: "archive96".into(),
        format: Some(AudioFormat::Flac),
        sample_rate: Some(96_000),
        bit_depth: Some(24),
        naming: Some("{disc}-{track:02} {artist} - {title}".into()),
        bitrate_kbps: None,
        dither: None,
        true_peak_dbtp: None,
    })
    .unwrap();
    assert_eq!(
        (custom.profile.as_str(), custom.output_rate(44_100)),
        ("custom", 96_000)
    );
}

/// Hard material for a FLAC encoder, `secs` long at `rate`: music-like
/// tones, digital silence, a constant, full-scale square waves (left and
/// right opposite), white noise at full scale (verbatim territory), a
/// quiet passage a few LSB high, and a mono section.
fn torture(rate: u32, secs: f64) -> Block {
    let n = (secs * f64::from(rate)) as usize;
    let mut seed = 0x9e37_79b9u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        f64::from(seed) / f64::from(u32::MAX) * 2.0 - 1.0
    };
    let music = programme(rate, secs, 11);
    let mut b = Block::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let (l, r) = match (i * 7 / n.max(1)) as u32 {
            0 => (music.left[i], music.right[i]),
            1 => (0.0, 0.0),
            2 => (0.25, -0.125),
            3 => {
                let s = if (i / 37) % 2 == 0 { 1.0 } else { -1.0 };
                (s, -s)
            }
            4 => (noise(), noise()),
            5 => (
                noise() * 4e-5,
                (2.0 * std::f64::consts::PI * 50.0 * t).sin() * 3e-5,
            ),
            _ => (music.left[i], music.left[i]),
        };
        b.left.push(l);
        b.right.push(r);
    }
    b
}

/// libFLAC's decoder (`flac -d`) reads back exactly the samples our WAV
/// writer stores for the same blocks, at 16 and 24 bit and 44.1 to 192 kHz,
/// for lengths that end mid-frame.
#[test]
fn reference_flac_decodes_our_flacs_to_the_exact_samples() {
    let dir = scratch("deliver-flac-reference");
    for (bits, rate, secs) in [
        (24u16, 48_000u32, 3.3),
        (16, 44_100, 2.71),
        (24, 192_000, 1.01),
    ] {
        let spec = |format| {
            resolve_spec(&BundleSpec {
                profile: "archive".into(),
                name: "archive".into(),
                format: Some(format),
                sample_rate: None,
                bit_depth: Some(bits),
                naming: None,
                bitrate_kbps: None,
                dither: None,
                true_peak_dbtp: None,
            })
            .unwrap()
        };
        let block = torture(rate, secs);
        let flac = dir.join(format!("t{bits}-{rate}.flac"));
        let wav = dir.join(format!("t{bits}-{rate}.wav"));
        // The same seed: 16-bit gets the same dither in both.
        encode(&spec(AudioFormat::Flac), rate, &block, &flac, 5);
        encode(&spec(AudioFormat::Wav), rate, &block, &wav, 5);
        let decoded = dir.join(format!("t{bits}-{rate}.decoded.wav"));
        let Some(o) = tool(
            "flac",
            &[
                "-d",
                "-s",
                "-f",
                "-o",
                decoded.to_str().unwrap(),
                flac.to_str().unwrap(),
            ],
            "reference_flac_decodes_our_flacs_to_the_exact_samples",
        ) else {
            return;
        };
        assert!(
            o.status.success(),
            "flac -d: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let data = |p: &std::path::Path| {
            let h = glassmaster::audio::read_wav_header(p).unwrap();
            let bytes = std::fs::read(p).unwrap();
            (
                h,
                bytes[h.data_offset as usize..(h.data_offset + h.data_len) as usize].to_vec(),
            )
        };
        let (hw, ours) = data(&wav);
        let (hd, theirs) = data(&decoded);
        assert_eq!((hd.sample_rate, hd.bits, hd.channels), (rate, bits, 2));
        assert_eq!((hw.sample_rate, hw.bits), (rate, bits));
        assert_eq!(theirs.len(), ours.len(), "{bits}-bit {rate} Hz: length");
        let first = theirs.iter().zip(&ours).position(|(a, b)| a != b);
        assert_eq!(first, None, "{bits}-bit {rate} Hz: first differing byte");
        let ratio = std::fs::metadata(&flac).unwrap().len() as f64 / ours.len() as f64;
        eprintln!(
            "{bits}-bit {rate} Hz, {} frames: flac -d matches our WAV byte for byte; FLAC is {:.1} % of PCM",
            ours.len() / (2 * usize::from(bits / 8)),
            ratio * 100.0
        );
    }
}
