//! Issue 14, AAC: `format: aac` files (AAC-LC in .m4a, `promo-aac`) read
//! by tools we did not write: ffprobe (codec `aac`, rate, channels, a
//! duration within one codec frame of the master), ffmpeg's decoder (its
//! length, its samples against the master and against our own decode,
//! its true peak at or under the ceiling on loud bright material and on
//! real-music clips mastered to -1 dBTP), mutagen and exiftool (the iTunes
//! items as Picard maps them, the cover); the same input gives the same
//! bytes; a build with an AAC bundle passes `verify`.

use std::path::Path;
use std::process::Command;

use glassmaster::audio::Block;
use glassmaster::deliver::encode::decode_aac;
use glassmaster::deliver::tags::write_tags;
use glassmaster::deliver::ResolvedBundle;
use glassmaster::manifest::model::AudioFormat;

use super::encode::{bundle, loud_bright, write_png};
use super::lossy::{ffmpeg_true_peak, mastered_clip, probe};
use super::{encode, full_tags, programme, tool};
use crate::util::scratch;

/// One AAC frame.
const FRAME: usize = 1024;

/// ffmpeg's decode of `path` as stereo f32 (planar).
fn ffmpeg_decode(path: &Path) -> Option<Block> {
    let o = tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            path.to_str()?,
            "-f",
            "f32le",
            "-ac",
            "2",
            "-",
        ],
        "ffmpeg aac decode",
    )?;
    assert!(o.status.success(), "ffmpeg {}", path.display());
    let mut b = Block::with_capacity(o.stdout.len() / 8);
    for fr in o.stdout.chunks_exact(8) {
        b.left
            .push(f64::from(f32::from_le_bytes(fr[..4].try_into().unwrap())));
        b.right
            .push(f64::from(f32::from_le_bytes(fr[4..].try_into().unwrap())));
    }
    Some(b)
}

/// Our decode of `path` (rusty_aac through glassmaster's MP4 reader).
fn our_decode(path: &Path) -> Block {
    let mut all = Block::default();
    decode_aac(path, |b| {
        all.left.extend_from_slice(&b.left);
        all.right.extend_from_slice(&b.right);
    })
    .unwrap();
    all
}

/// Encodes `src` for `b` and checks it with ffprobe, ffmpeg's decoder
/// and ffmpeg's true-peak meter; returns the encode and ffmpeg's peak.
fn check_file(
    b: &ResolvedBundle,
    rate: u32,
    src: &Block,
    path: &Path,
) -> (glassmaster::deliver::Encoded, Option<f64>) {
    let e = encode(b, rate, src, path, 1);
    assert_eq!(e.sample_rate, rate);
    let master_s = src.len() as f64 / f64::from(rate);
    if let Some((c, r, ch, dur)) = probe(path) {
        assert_eq!((c.as_str(), r, ch), ("aac", rate, 2), "{}", path.display());
        assert!(
            (dur - master_s).abs() <= FRAME as f64 / f64::from(rate),
            "{}: ffprobe {dur} s, the master {master_s} s",
            path.display()
        );
    }
    let ours = our_decode(path);
    assert_eq!(ours.len(), src.len(), "{}: our decode", path.display());
    if let Some(ff) = ffmpeg_decode(path) {
        let n = ff.len();
        assert!(
            n.abs_diff(src.len()) <= FRAME,
            "{}: ffmpeg decodes {n} frames, the master has {}",
            path.display(),
            src.len()
        );
        // The same samples as ours where ffmpeg starts where we do.
        let m = n.min(ours.len());
        let worst = (0..m)
            .map(|i| {
                (ff.left[i] - ours.left[i])
                    .abs()
                    .max((ff.right[i] - ours.right[i]).abs())
            })
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-3,
            "{}: ffmpeg and ours differ by {worst}",
            path.display()
        );
    }
    let tp = ffmpeg_true_peak(path);
    if let Some(tp) = tp {
        assert!(
            tp <= b.true_peak_dbtp + 0.1,
            "{}: ffmpeg decodes to {tp:.2} dBTP, ceiling {} (ours {:?}, gain {:.2}, {} re-encodes)",
            path.display(),
            b.true_peak_dbtp,
            e.decoded_true_peak_dbtp,
            e.gain_db,
            e.reencodes
        );
    }
    (e, tp)
}

#[test]
fn aac_decodes_to_the_master_s_length_under_the_ceiling() {
    let dir = scratch("deliver-aac");
    let b = bundle("promo-aac");
    assert_eq!(
        (b.format, b.bitrate_kbps, b.true_peak_dbtp, b.extension()),
        (AudioFormat::Aac, 256, -1.0, "m4a")
    );
    for rate in [44_100, 48_000] {
        let loud = loud_bright(rate, 5.0);
        let path = dir.join(format!("loud {rate}.m4a"));
        let (e, tp) = check_file(&b, rate, &loud, &path);
        println!(
            "promo-aac loud bright {rate} Hz: gain {:.2} dB, {} re-encode(s), ours {:.2} dBTP, ffmpeg {tp:?}",
            e.gain_db,
            e.reencodes,
            e.decoded_true_peak_dbtp.unwrap()
        );
        assert!(e.gain_db < 0.0, "the loud input is turned down");
        assert!(!dir.join(format!("loud {rate}.m4a.spool.f32")).exists());
        assert!(!dir.join(format!("loud {rate}.part.m4a")).exists());
    }
    // AAC-LC's highest rate, 96 kHz, at 320 kbps (a custom bundle).
    let hi = glassmaster::deliver::resolve_spec(&glassmaster::manifest::model::BundleSpec {
        profile: "custom".into(),
        name: "aac-96k".into(),
        format: Some(AudioFormat::Aac),
        sample_rate: Some(96_000),
        bit_depth: None,
        naming: None,
        bitrate_kbps: Some(320),
        dither: None,
        true_peak_dbtp: None,
    })
    .unwrap();
    assert_eq!(
        (hi.tags, hi.output_rate(96_000)),
        (glassmaster::deliver::profile::TagSet::Mp4, 96_000)
    );
    check_file(
        &hi,
        96_000,
        &programme(96_000, 2.5, 3),
        &dir.join("96k.m4a"),
    );
    // Digital silence stays digital silence (no peak, every sample 0).
    let zeros = Block {
        left: vec![0.0; 88_200],
        right: vec![0.0; 88_200],
    };
    let (e, _) = check_file(&b, 44_100, &zeros, &dir.join("silence.m4a"));
    assert_eq!((e.gain_db, e.decoded_true_peak_dbtp), (0.0, None));
    let back = our_decode(&dir.join("silence.m4a"));
    assert!(back.left.iter().chain(&back.right).all(|&x| x == 0.0));
    // A quiet programme at 48 kHz: no gain, the same bytes twice; odd
    // lengths (not whole frames).
    for (secs, name) in [(3.0001, "a"), (0.01, "short")] {
        let quiet = programme(48_000, secs, 5);
        let q1 = dir.join(format!("quiet {name}.m4a"));
        let q2 = dir.join(format!("quiet {name} again.m4a"));
        let (e, _) = check_file(&b, 48_000, &quiet, &q1);
        assert_eq!((e.gain_db, e.reencodes), (0.0, 0));
        check_file(&b, 48_000, &quiet, &q2);
        assert_eq!(
            std::fs::read(&q1).unwrap(),
            std::fs::read(&q2).unwrap(),
            "same input, same bytes"
        );
    }
}

/// Power ratio of `a` to `a - b` over `range`, dB.
fn snr_db(a: &Block, b: &Block, range: std::ops::Range<usize>) -> f64 {
    let (mut s, mut e) = (0.0, 0.0);
    for i in range {
        s += a.left[i].powi(2) + a.right[i].powi(2);
        e += (a.left[i] - b.left[i]).powi(2) + (a.right[i] - b.right[i]).powi(2);
    }
    10.0 * (s / e.max(1e-30)).log10()
}

#[test]
fn aac_segments_join_without_a_seam() {
    // 40 s at 44.1 kHz: four encoder segments of 512 frames, joined three
    // times; clicks every 0.3 s make short blocks near the joins.
    let rate = 44_100;
    let mut src = programme(rate, 40.0, 11);
    for i in (0..src.len()).step_by(13_230) {
        for k in 0..40.min(src.len() - i) {
            let v = 0.4 * (-(k as f64) / 8.0).exp();
            src.left[i + k] += v;
            src.right[i + k] -= v;
        }
    }
    let dir = scratch("deliver-aac-seams");
    let path = dir.join("seams.m4a");
    let (e, _) = check_file(&bundle("promo-aac"), rate, &src, &path);
    assert_eq!(e.gain_db, 0.0);
    let Some(ff) = ffmpeg_decode(&path) else {
        return;
    };
    let n = ff.len().min(src.len());
    let whole = snr_db(&src, &ff, FRAME..n - FRAME);
    // The joins lie in the 8 frames before each multiple of 512 frames.
    for k in 1..=3 {
        let at = k * 512 * FRAME;
        let near = snr_db(&src, &ff, at - 16 * FRAME..at + 8 * FRAME);
        println!("join {k}: SNR {near:.1} dB around it, {whole:.1} dB over the file");
        assert!(
            near > whole - 3.0,
            "join {k}: {near:.1} dB against {whole:.1} dB"
        );
    }
}

#[test]
fn real_music_mastered_to_minus_1_dbtp_decodes_under_the_aac_ceiling() {
    let Some(dir) = crate::analysis::real_music() else {
        return;
    };
    let out = scratch("deliver-aac-real");
    let b = bundle("promo-aac");
    for t in [
        "wav48/hr3-hell.wav",
        "wav48/hr3-motion.wav",
        "wav44/hr3-crossroads.wav",
    ] {
        let src = dir.join(t);
        if !src.exists() {
            eprintln!("SKIP {t}: not in the real-music set");
            continue;
        }
        let (rate, m) = mastered_clip(&src, 30.0, 15.0);
        let stem = Path::new(t).file_stem().unwrap().to_string_lossy();
        let path = out.join(format!("{stem}.m4a"));
        let (e, tp) = check_file(&b, rate, &m, &path);
        println!(
            "{t} ({rate} Hz) promo-aac: gain {:.2} dB, {} re-encode(s), ours {:.2} dBTP, ffmpeg {tp:?}",
            e.gain_db,
            e.reencodes,
            e.decoded_true_peak_dbtp.unwrap()
        );
    }
}

/// mutagen's view of an MP4: `KEY=value` per item value, `COVR format
/// bytes` per cover.
const MUTAGEN: &str = r#"
import sys
from mutagen.mp4 import MP4, MP4Cover
f = MP4(sys.argv[1])
print("CODEC=%s %d %d" % (f.info.codec, f.info.sample_rate, f.info.channels))
for k, vs in sorted(f.tags.items()):
    for v in vs:
        if k == "covr":
            fmt = "jpeg" if v.imageformat == MP4Cover.FORMAT_JPEG else "png"
            print("COVR %s %d" % (fmt, len(v)))
        elif isinstance(v, bytes):
            print(k + "=" + v.decode("utf-8"))
        else:
            print(k + "=" + str(v))
"#;

#[test]
fn aac_tags_are_picard_s_itunes_items_with_the_cover() {
    let dir = scratch("deliver-aac-tags");
    let png = dir.join("cover.png");
    write_png(&png, 1400, 1400);
    let b = bundle("promo-aac");
    let art = glassmaster::deliver::artwork::process(Some(&png), &b.artwork);
    let cover = art.cover.unwrap();
    let path = dir.join("02 Night Drive.m4a");
    let src = programme(44_100, 2.0, 9);
    encode(&b, 44_100, &src, &path, 2);
    write_tags(&path, b.tags, &full_tags(), Some(&cover.jpeg)).unwrap();
    // Still plays the master's length after lofty rewrote moov.
    assert_eq!(our_decode(&path).len(), src.len());
    if let Some((c, _, _, dur)) = probe(&path) {
        assert_eq!(c, "aac");
        assert!((dur - 2.0).abs() <= FRAME as f64 / 44_100.0, "{dur}");
    }
    match Command::new("python3")
        .args(["-c", MUTAGEN])
        .arg(&path)
        .output()
    {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            for want in [
                "CODEC=mp4a.40.2 44100 2",
                "©nam=Night Drive",
                "©ART=The Example Band feat. Guest Singer",
                "©alb=Night Drive",
                "aART=The Example Band",
                "trkn=(2, 3)",
                "disk=(1, 1)",
                "©day=2026-12-04",
                "©gen=Electronic",
                "©wrt=A. Writer",
                "cprt=2026 Example Records",
                "rtng=1",
                "©lyr=Headlights on the water",
                "----:com.apple.iTunes:ISRC=GBABC2600002",
                "----:com.apple.iTunes:BARCODE=5012345678900",
                "----:com.apple.iTunes:LABEL=Example Records",
                "----:com.apple.iTunes:CATALOGNUMBER=EXR-042",
                "----:com.apple.iTunes:LYRICIST=B. Poet",
                "----:com.apple.iTunes:SUBTITLE=Radio Edit",
                "----:com.apple.iTunes:ARTISTS=The Example Band",
                "----:com.apple.iTunes:ARTISTS=Guest Singer",
                "----:com.apple.iTunes:LANGUAGE=eng",
                "----:com.apple.iTunes:REPLAYGAIN_TRACK_GAIN=-4.00 dB",
                "----:com.apple.iTunes:REPLAYGAIN_ALBUM_GAIN=-3.50 dB",
                "COVR jpeg",
            ] {
                assert!(
                    text.lines().any(|l| l.starts_with(want)),
                    "mutagen: no {want} in\n{text}"
                );
            }
            assert!(
                text.contains("----:com.apple.iTunes:iTunNORM= 00000"),
                "{text}"
            );
            // Encoder delay 1024 (0x400), the master's 88200 samples.
            assert!(
                text.contains("iTunSMPB= 00000000 00000400 ")
                    && text.contains(" 0000000000015888 "),
                "{text}"
            );
        }
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named 'mutagen'") => {
            eprintln!("SKIP mp4 tags: mutagen is not installed");
        }
        Ok(o) => panic!("mutagen: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => eprintln!("SKIP mp4 tags: python3 is not installed"),
    }
    let Some(o) = tool(
        "exiftool",
        &["-s", "-G1", path.to_str().unwrap()],
        "exiftool mp4",
    ) else {
        return;
    };
    let text = String::from_utf8_lossy(&o.stdout);
    let field = |k: &str| {
        text.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(k))
            .and_then(|l| l.split_once(": ").map(|(_, v)| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("exiftool: no {k} in\n{text}"))
    };
    assert_eq!(field("Title"), "Night Drive");
    assert_eq!(field("Artist"), "The Example Band feat. Guest Singer");
    assert_eq!(field("Album"), "Night Drive");
    assert_eq!(field("AlbumArtist"), "The Example Band");
    assert_eq!(field("TrackNumber"), "2 of 3");
    assert_eq!(field("DiskNumber"), "1 of 1");
    assert_eq!(field("Composer"), "A. Writer");
    assert_eq!(field("Copyright"), "2026 Example Records");
    assert_eq!(field("Rating"), "Explicit");
    assert_eq!(field("ISRC"), "GBABC2600002");
    assert_eq!(field("AudioSampleRate"), "44100");
    assert!(field("CoverArt").starts_with("(Binary data"), "{text}");
}
