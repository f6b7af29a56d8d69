//! Issue 14, the encoders: Ogg Vorbis (`promo-ogg`) and Ogg Opus
//! (`web-opus`, `podcast`) files read by tools we did not write: ffprobe
//! (codec, rate, channels, duration within one codec frame of the master),
//! ffmpeg's true-peak meter (at or under the ceiling on loud bright
//! generated material and on real-music clips mastered to -1 dBTP),
//! mutagen (Vorbis comments as Picard writes them, the cover as a
//! METADATA_BLOCK_PICTURE); the same input gives the same bytes.

use std::path::Path;
use std::process::Command;

use glassmaster::analysis::TruePeak;
use glassmaster::audio::{read_all, Block};
use glassmaster::deliver::tags::write_tags;
use glassmaster::deliver::{Encoded, ResolvedBundle};
use glassmaster::dsp::{Chain, Limiter, LimiterParams, Stage};
use glassmaster::manifest::model::AudioFormat;

use super::encode::{bundle, loud_bright};
use super::{encode, full_tags, programme, tool};
use crate::util::scratch;

/// ffprobe's codec name, rate, channels and duration (s) of `path`.
pub(super) fn probe(path: &Path) -> Option<(String, u32, u32, f64)> {
    let o = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name,sample_rate,channels:format=duration",
            "-of",
            "default=noprint_wrappers=1",
            path.to_str().unwrap(),
        ],
        "ffprobe lossy",
    )?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("no {k} in {text}"))
            .to_string()
    };
    Some((
        get("codec_name"),
        get("sample_rate").parse().unwrap(),
        get("channels").parse().unwrap(),
        get("duration").parse().unwrap(),
    ))
}

/// ffmpeg's decoded true peak (ebur128=peak=true), dBTP.
pub(super) fn ffmpeg_true_peak(path: &Path) -> Option<f64> {
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

/// The frames of one codec frame: Vorbis's long block, Opus's 20 ms.
fn codec_frame_s(format: AudioFormat, rate: u32) -> f64 {
    match format {
        AudioFormat::Opus => 960.0 / 48_000.0,
        _ => 2048.0 / f64::from(rate),
    }
}

/// Encodes `src` (at `rate`) for `b`, checks it with ffprobe and ffmpeg,
/// and returns what the encoder said and ffmpeg's true peak.
fn check_file(
    b: &ResolvedBundle,
    rate: u32,
    src: &Block,
    path: &Path,
    seed: u64,
) -> (Encoded, Option<f64>) {
    let e = encode(b, rate, src, path, seed);
    let (codec, out_rate) = match b.format {
        AudioFormat::Ogg => ("vorbis", rate),
        AudioFormat::Opus => ("opus", 48_000),
        f => panic!("{f:?}"),
    };
    assert_eq!(e.sample_rate, out_rate);
    let master_s = src.len() as f64 / f64::from(rate);
    if let Some((c, r, ch, dur)) = probe(path) {
        assert_eq!(
            (c.as_str(), r, ch),
            (codec, out_rate, 2),
            "{}",
            path.display()
        );
        assert!(
            (dur - master_s).abs() <= codec_frame_s(b.format, out_rate),
            "{}: {dur} s, the master {master_s} s",
            path.display()
        );
    }
    let tp = ffmpeg_true_peak(path);
    if let Some(tp) = tp {
        // ffmpeg prints 0.1 dB steps, and its 4x kernel reads a little
        // over the ideal reconstruction on bright material (see lossy.rs).
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
fn ogg_and_opus_decode_to_the_master_s_length_under_the_ceiling() {
    let dir = scratch("deliver-lossy");
    for (profile, format, kbps) in [
        ("promo-ogg", AudioFormat::Ogg, 320),
        ("web-opus", AudioFormat::Opus, 160),
        ("podcast", AudioFormat::Opus, 96),
    ] {
        let b = bundle(profile);
        assert_eq!(
            (b.format, b.bitrate_kbps, b.true_peak_dbtp),
            (format, kbps, -1.0)
        );
        // Loud and bright, at 44.1 kHz (Opus resamples to 48 kHz).
        let loud = loud_bright(44_100, 5.0);
        let path = dir.join(format!("{profile} loud.{}", b.extension()));
        let (e, tp) = check_file(&b, 44_100, &loud, &path, 1);
        println!(
            "{profile} loud bright: gain {:.2} dB, {} re-encode(s), ours {:.2} dBTP, ffmpeg {tp:?}",
            e.gain_db,
            e.reencodes,
            e.decoded_true_peak_dbtp.unwrap()
        );
        assert!(e.gain_db < 0.0, "{profile}: the loud input is turned down");
        assert!(!dir
            .join(format!("{profile} loud.{}.spool.f32", b.extension()))
            .exists());
        // A quiet programme at 48 kHz: no gain, the same bytes twice.
        let quiet = programme(48_000, 3.0, 5);
        let q1 = dir.join(format!("{profile} quiet.{}", b.extension()));
        let q2 = dir.join(format!("{profile} quiet again.{}", b.extension()));
        let (e, _) = check_file(&b, 48_000, &quiet, &q1, 2);
        assert_eq!((e.gain_db, e.reencodes), (0.0, 0));
        check_file(&b, 48_000, &quiet, &q2, 2);
        assert_eq!(
            std::fs::read(&q1).unwrap(),
            std::fs::read(&q2).unwrap(),
            "{profile}: same input, same bytes"
        );
        // Vorbis through symphonia: every sample of the master.
        if format == AudioFormat::Ogg {
            let (_, back) = read_all(&q1).unwrap();
            assert_eq!(back.len(), quiet.len());
        } else {
            let (n, input_hz) = glassmaster::deliver::encode::decode_opus(&q1, |_| {}).unwrap();
            assert_eq!((n, input_hz), (quiet.len() as u64, 48_000));
        }
    }
}

/// The first `secs` seconds after `from_s` of a real-music WAV, turned up
/// 4 dB and limited to -1 dBTP by glassmaster's limiter: a master.
pub(super) fn mastered_clip(path: &Path, from_s: f64, secs: f64) -> (u32, Block) {
    let (info, all) = read_all(path).unwrap();
    let rate = info.sample_rate;
    let a = ((from_s * f64::from(rate)) as usize).min(all.len());
    let z = (a + (secs * f64::from(rate)) as usize).min(all.len());
    let g = 10f64.powf(4.0 / 20.0);
    let clip = Block {
        left: all.left[a..z].iter().map(|x| x * g).collect(),
        right: all.right[a..z].iter().map(|x| x * g).collect(),
    };
    let params = LimiterParams {
        ceiling_dbtp: -1.0,
        ..LimiterParams::default()
    };
    let mut chain = Chain::new(vec![Stage::from(Limiter::new(rate, params).unwrap())]);
    let mut out = chain.output_block();
    let mut mastered = Block::with_capacity(clip.len());
    chain.process(&clip, &mut out);
    mastered.left.extend_from_slice(&out.left);
    mastered.right.extend_from_slice(&out.right);
    chain.finish(&mut out);
    mastered.left.extend_from_slice(&out.left);
    mastered.right.extend_from_slice(&out.right);
    (rate, mastered)
}

#[test]
fn real_music_mastered_to_minus_1_dbtp_decodes_under_the_ceiling() {
    let Some(dir) = crate::analysis::real_music() else {
        return;
    };
    let out = scratch("deliver-lossy-real");
    let tracks = [
        "wav48/hr3-hell.wav",
        "wav48/hr3-motion.wav",
        "wav44/hr3-crossroads.wav",
    ];
    for t in tracks {
        let src = dir.join(t);
        if !src.exists() {
            eprintln!("SKIP {t}: not in the real-music set");
            continue;
        }
        let (rate, m) = mastered_clip(&src, 30.0, 12.0);
        let mut meter = TruePeak::new(rate).unwrap();
        meter.add(&m);
        let input = meter.dbtp().unwrap();
        for profile in ["promo-ogg", "web-opus"] {
            let b = bundle(profile);
            let stem = Path::new(t).file_stem().unwrap().to_string_lossy();
            let path = out.join(format!("{stem}.{}", b.extension()));
            let (e, tp) = check_file(&b, rate, &m, &path, 3);
            println!(
                "{t} ({rate} Hz, input {input:.2} dBTP) {profile}: gain {:.2} dB, {} re-encode(s), ours {:.2} dBTP, ffmpeg {tp:?}",
                e.gain_db,
                e.reencodes,
                e.decoded_true_peak_dbtp.unwrap()
            );
        }
    }
}

/// mutagen's view of an Ogg file: the comments as KEY=value lines, then
/// the pictures as `PICTURE type mime WxH`.
const MUTAGEN: &str = r#"
import sys, base64, mutagen
from mutagen.flac import Picture
f = mutagen.File(sys.argv[1])
print("CLASS=" + type(f).__name__)
for k, v in f.tags:
    if k.lower() == "metadata_block_picture":
        continue
    print(k.upper() + "=" + v)
for b in f.tags.get("metadata_block_picture", []):
    p = Picture(base64.b64decode(b))
    print("PICTURE %d %s %dx%d" % (p.type, p.mime, p.width, p.height))
"#;

#[test]
fn ogg_and_opus_tags_are_picard_s_vorbis_comments_with_the_cover() {
    let dir = scratch("deliver-lossy-tags");
    let png = dir.join("cover.png");
    super::encode::write_png(&png, 1400, 1400);
    for (profile, class) in [("promo-ogg", "OggVorbis"), ("web-opus", "OggOpus")] {
        let b = bundle(profile);
        let art = glassmaster::deliver::artwork::process(Some(&png), &b.artwork);
        let cover = art.cover.unwrap();
        let path = dir.join(format!("02 Night Drive.{}", b.extension()));
        let src = programme(48_000, 2.0, 9);
        encode(&b, 48_000, &src, &path, 2);
        write_tags(&path, b.tags, &full_tags(), Some(&cover.jpeg)).unwrap();
        // Still plays the master's length after lofty rewrote the headers.
        if let Some((_, _, _, dur)) = probe(&path) {
            assert!(
                (dur - 2.0).abs() <= codec_frame_s(b.format, 48_000),
                "{dur}"
            );
        }
        let Ok(o) = Command::new("python3")
            .args(["-c", MUTAGEN])
            .arg(&path)
            .output()
        else {
            eprintln!("SKIP tags: python3 is not installed");
            return;
        };
        if !o.status.success() {
            let err = String::from_utf8_lossy(&o.stderr);
            if err.contains("No module named 'mutagen'") {
                eprintln!("SKIP tags: mutagen is not installed");
                return;
            }
            panic!("mutagen: {err}");
        }
        let text = String::from_utf8_lossy(&o.stdout);
        for want in [
            format!("CLASS={class}"),
            "TITLE=Night Drive".into(),
            "ARTIST=The Example Band feat. Guest Singer".into(),
            "ALBUM=Night Drive".into(),
            "ALBUMARTIST=The Example Band".into(),
            "TRACKNUMBER=2".into(),
            "TRACKTOTAL=3".into(),
            "DISCNUMBER=1".into(),
            "DATE=2026-12-04".into(),
            "ISRC=GBABC2600002".into(),
            "BARCODE=5012345678900".into(),
            "LABEL=Example Records".into(),
            "COPYRIGHT=2026 Example Records".into(),
            "COMPOSER=A. Writer".into(),
            "ITUNESADVISORY=1".into(),
            "PICTURE 3 image/jpeg 1000x1000".into(),
        ] {
            assert!(
                text.lines().any(|l| l == want),
                "{profile}: no {want} in\n{text}"
            );
        }
        assert!(text.contains("REPLAYGAIN_TRACK_GAIN="), "{text}");
    }
}
