//! Every sample of the master reaches every deliverable (issue 10): the MP3
//! decodes to the master's length in ffmpeg, mpg123 and sox (libmad), its
//! last 50 ms match the master's at zero offset, and its LAME tag states
//! the encoder delay and padding that make up whole frames; WAV and FLAC
//! bundles, resampled or not, hold exactly `round(n × to / from)` frames,
//! as flac, sox and ffprobe read them.
//!
//! sox 14.4.2 decodes through libmad and does not read the LAME tag: it
//! decodes the Info frame as 1152 samples of silence and never the file's
//! last frame (libmad needs bytes after a frame to decode it). Its length
//! is therefore the master's plus the tag's delay and padding (less what
//! sox's whole-millisecond length may cut, under 1 ms), the master
//! starting 1152 + 576 + 529 samples in (the Info frame, LAME's encoder
//! delay, the decoder's); glassmaster's padding ends with a frame of
//! silence of its own so that the frame sox loses holds nothing of the
//! master.

use std::path::Path;

use glassmaster::audio::Block;
use glassmaster::deliver::profile::resolve_spec;
use glassmaster::deliver::ResolvedBundle;
use glassmaster::dsp::dither::Rng;
use glassmaster::manifest::model::{AudioFormat, BundleSpec};

use super::{encode, tool};
use crate::util::scratch;

/// LAME's encoder delay (ENCDELAY), the layer III decoder's (528 + 1),
/// and one frame.
const ENC_DELAY: usize = 576;
const DEC_DELAY: usize = 529;
const FRAME: usize = 1152;

fn bundle(format: AudioFormat, rate: u32, bits: u16) -> ResolvedBundle {
    resolve_spec(&BundleSpec {
        profile: "custom".into(),
        name: "len".into(),
        format: Some(format),
        sample_rate: Some(rate),
        bit_depth: Some(bits),
        naming: None,
        bitrate_kbps: (format == AudioFormat::Mp3).then_some(320),
        dither: None,
        true_peak_dbtp: None,
    })
    .unwrap()
}

/// `n` frames of tones at about -20 dBFS RMS and white noise of `noise`
/// peak, loud up to the last sample (no fade), the same on both channels
/// when `mono`.
pub fn tail_signal(rate: u32, n: usize, mono: bool, noise: f64, seed: u64) -> Block {
    let mut rng = Rng::new(seed);
    let mut b = Block::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let w = |f: f64, p: f64| (std::f64::consts::TAU * f * t + p).sin();
        let l = 0.12 * w(220.0, 0.0) + 0.08 * w(1_000.0, 0.3) + 0.05 * w(3_100.0, 1.0);
        let l = l + noise * (rng.uniform() - 0.5);
        let r = if mono {
            l
        } else {
            0.1 * w(330.0, 0.5) + 0.07 * w(1_500.0, 2.0) + noise * (rng.uniform() - 0.5)
        };
        b.left.push(l);
        b.right.push(r);
    }
    b
}

/// Runs `cmd` and reads its stdout as interleaved stereo f32 (native
/// endian, as ffmpeg `f32le`, mpg123 `-e f32` and sox `-t f32` write it
/// on this machine). `None` when the tool is not installed.
fn decode_with(cmd: &str, args: &[&str], test: &str) -> Option<Block> {
    let o = tool(cmd, args, test)?;
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.stdout.len() % 8, 0, "{cmd}: not whole stereo f32 frames");
    let mut b = Block::with_capacity(o.stdout.len() / 8);
    for fr in o.stdout.chunks_exact(8) {
        b.left
            .push(f64::from(f32::from_ne_bytes([fr[0], fr[1], fr[2], fr[3]])));
        b.right
            .push(f64::from(f32::from_ne_bytes([fr[4], fr[5], fr[6], fr[7]])));
    }
    Some(b)
}

fn ffmpeg_decode(path: &Path, test: &str) -> Option<Block> {
    let p = path.to_str().unwrap();
    decode_with(
        "ffmpeg",
        &["-v", "error", "-i", p, "-f", "f32le", "-ac", "2", "-"],
        test,
    )
}

/// What the MP3's Info frame says: the LAME tag's delay and padding and
/// the Xing header's frame and byte counts; and the audio frames counted
/// by walking the frame headers after it.
#[derive(Debug)]
pub struct Mp3Layout {
    pub delay: usize,
    pub padding: usize,
    pub tag_frames: usize,
    pub tag_bytes: usize,
    /// MPEG-1 layer III frames after the Info frame, counted in the file.
    pub frames: usize,
    /// Bytes from the Info frame to the end of the last frame.
    pub bytes: usize,
}

/// MPEG-1 layer III frame length from a header, or `None` if `h` is not one.
fn frame_len(h: &[u8]) -> Option<usize> {
    if h.len() < 4 || h[0] != 0xFF || h[1] & 0xFE != 0xFA {
        return None;
    }
    const KBPS: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const RATES: [usize; 3] = [44_100, 48_000, 32_000];
    let kbps = *KBPS.get(usize::from(h[2] >> 4))?;
    let rate = *RATES.get(usize::from((h[2] >> 2) & 3))?;
    let pad = usize::from((h[2] >> 1) & 1);
    (kbps > 0).then(|| 144_000 * kbps / rate + pad)
}

/// Parses the Info frame of an MP3 (after an ID3v2 tag, if any) and counts
/// its frames.
pub fn mp3_layout(path: &Path) -> Mp3Layout {
    let d = std::fs::read(path).unwrap();
    let mut off = 0;
    if d.starts_with(b"ID3") {
        let size = d[6..10]
            .iter()
            .fold(0usize, |a, &b| (a << 7) | usize::from(b & 0x7F));
        off = 10 + size + if d[5] & 0x10 != 0 { 10 } else { 0 };
    }
    let info_len = frame_len(&d[off..]).expect("an MPEG-1 layer III frame after the ID3 tag");
    let mono = d[off + 3] >> 6 == 3;
    let x = off + 4 + if mono { 17 } else { 32 };
    assert_eq!(&d[x..x + 4], b"Info", "a CBR Info frame first");
    let be32 = |i: usize| u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]) as usize;
    assert_eq!(be32(x + 4) & 3, 3, "frames and bytes fields present");
    assert_eq!(&d[x + 120..x + 124], b"LAME", "a LAME extension");
    let trim =
        (usize::from(d[x + 141]) << 16) | (usize::from(d[x + 142]) << 8) | usize::from(d[x + 143]);
    let mut frames = 0;
    let mut pos = off + info_len;
    while let Some(len) = frame_len(&d[pos.min(d.len())..]) {
        assert!(pos + len <= d.len(), "a frame cut short at byte {pos}");
        pos += len;
        frames += 1;
    }
    let rest = &d[pos..];
    assert!(
        rest.is_empty() || rest.starts_with(b"TAG"),
        "{} bytes after the last frame",
        rest.len()
    );
    Mp3Layout {
        delay: trim >> 12,
        padding: trim & 0xFFF,
        tag_frames: be32(x + 8),
        tag_bytes: be32(x + 12),
        frames,
        bytes: pos - off,
    }
}

/// RMS of `a`, and of `a - gain × b[offset..]`, over `range` of `a`.
fn rms_and_error(
    a: &Block,
    b: &Block,
    offset: isize,
    gain: f64,
    range: std::ops::Range<usize>,
) -> (f64, f64) {
    let (mut s, mut e, mut n) = (0.0, 0.0, 0.0);
    for i in range {
        let j = i as isize + offset;
        let (bl, br) = if j >= 0 && (j as usize) < b.len() {
            (b.left[j as usize], b.right[j as usize])
        } else {
            (0.0, 0.0)
        };
        s += a.left[i] * a.left[i] + a.right[i] * a.right[i];
        e += (a.left[i] - gain * bl).powi(2) + (a.right[i] - gain * br).powi(2);
        n += 2.0;
    }
    ((s / n).sqrt(), (e / n).sqrt())
}

/// How a decoded file matches the master (scaled by the encode's gain)
/// over its last 50 ms, at zero offset.
#[derive(Debug)]
struct TailMatch {
    /// Error under the signal in the last 50 ms, dB.
    err_db: f64,
    /// The offset in -24..=24 where that error is least (must be 0).
    best_offset: isize,
    /// The same error over 50 ms in the middle (the codec's error
    /// elsewhere), when the file is long enough.
    mid_err_db: Option<f64>,
}

fn tail_match(decoded: &Block, master: &Block, rate: u32, gain_db: f64) -> TailMatch {
    let n = master.len();
    let w = ((f64::from(rate) * 0.05) as usize).min(n);
    let gain = 10f64.powf(gain_db / 20.0);
    let err_at = |off: isize, range: std::ops::Range<usize>| {
        let (s, e) = rms_and_error(decoded, master, -off, gain, range);
        20.0 * (e / s).log10()
    };
    let tail = n - w..n;
    let best_offset = (-24..=24isize)
        .min_by(|&a, &b| err_at(a, tail.clone()).total_cmp(&err_at(b, tail.clone())))
        .unwrap();
    TailMatch {
        err_db: err_at(0, tail.clone()),
        best_offset,
        mid_err_db: (n >= 3 * w).then(|| err_at(0, n / 2 - w / 2..n / 2 + w / 2)),
    }
}

/// The tail matches at zero offset, `limit_db` under the signal and
/// within 3 dB of the error in the middle.
fn assert_tail(m: &TailMatch, limit_db: f64, what: &str) {
    assert_eq!(m.best_offset, 0, "{what}: offset {m:?}");
    assert!(m.err_db < limit_db, "{what}: tail error {m:?}");
    if let Some(mid) = m.mid_err_db {
        assert!(
            m.err_db < mid + 3.0,
            "{what}: tail worse than the middle {m:?}"
        );
    }
}

#[test]
fn mp3_decodes_to_the_masters_length_in_ffmpeg_mpg123_and_sox() {
    let test = "mp3_decodes_to_the_masters_length_in_ffmpeg_mpg123_and_sox";
    let dir = scratch("deliver-mp3-length");
    for rate in [44_100u32, 48_000] {
        let b = bundle(AudioFormat::Mp3, rate, 16);
        for mono in [false, true] {
            for n in [1152 * 40, 1152 * 40 + 317, rate as usize * 3 / 2 + 1, 700] {
                let what = format!(
                    "{rate} Hz {} {n} frames",
                    if mono { "mono" } else { "stereo" }
                );
                let master = tail_signal(rate, n, mono, 0.02, u64::from(rate) + n as u64);
                let path = dir.join(format!("{rate}-{mono}-{n}.mp3"));
                let e = encode(&b, rate, &master, &path, 1);
                assert_eq!((e.sample_rate, e.frames), (rate, n as u64), "{what}");
                assert_eq!(e.gain_db, 0.0, "{what}: quiet enough for gain 0");

                // The tag: LAME's delay, padding to whole frames, and the
                // frames and bytes that are really in the file.
                let l = mp3_layout(&path);
                assert_eq!(l.delay, ENC_DELAY, "{what}: {l:?}");
                assert_eq!(l.frames * 1152, ENC_DELAY + n + l.padding, "{what}: {l:?}");
                assert!(
                    l.padding >= DEC_DELAY,
                    "{what}: padding covers the decoder delay {l:?}"
                );
                assert_eq!((l.tag_frames, l.tag_bytes), (l.frames, l.bytes), "{what}");

                let p = path.to_str().unwrap();
                let Some(ff) = ffmpeg_decode(&path, test) else {
                    return;
                };
                assert_eq!(ff.len(), n, "{what}: ffmpeg decoded length");
                let t = tail_match(&ff, &master, rate, e.gain_db);
                eprintln!(
                    "{what}: padding {}; ffmpeg {} frames, {t:?}",
                    l.padding,
                    ff.len()
                );
                assert_tail(&t, -25.0, &format!("{what}: ffmpeg"));

                if let Some(m) = decode_with("mpg123", &["-q", "-e", "f32", "-s", p], test) {
                    assert_eq!(m.len(), n, "{what}: mpg123 decoded length");
                    let t = tail_match(&m, &master, rate, e.gain_db);
                    assert_tail(&t, -25.0, &format!("{what}: mpg123"));
                }

                if let Some(s) = decode_with("sox", &[p, "-t", "f32", "-"], test) {
                    // libmad: the Info frame as silence, then every audio
                    // frame but the last; delay and padding kept.
                    // sox keeps lengths in whole milliseconds: at most
                    // one short of the frames' length.
                    let full = ENC_DELAY + n + l.padding;
                    let ms = rate as usize / 1000 + 1;
                    assert!(
                        s.len() <= full && s.len() + ms > full,
                        "{what}: sox length {} for {full}",
                        s.len()
                    );
                    let head = FRAME + ENC_DELAY + DEC_DELAY;
                    assert!(s.len() >= head + n, "{what}: sox gives all the master");
                    let trimmed = Block {
                        left: s.left[head..].to_vec(),
                        right: s.right[head..].to_vec(),
                    };
                    let t = tail_match(&trimmed, &master, rate, e.gain_db);
                    eprintln!("{what}: sox {} frames, from {head}: {t:?}", s.len());
                    assert_tail(&t, -25.0, &format!("{what}: sox after {head}"));
                }

                if let Some(o) = tool(
                    "ffprobe",
                    &[
                        "-v",
                        "error",
                        "-show_entries",
                        "stream=duration_ts,time_base",
                        "-of",
                        "csv=p=0",
                        p,
                    ],
                    test,
                ) {
                    // ffprobe's stream duration is the Xing frame count
                    // (whole frames, delay and padding included).
                    let out = String::from_utf8_lossy(&o.stdout);
                    let (tb, ts) = out.trim().split_once(',').unwrap();
                    let den: u64 = tb.trim_start_matches("1/").parse().unwrap();
                    let ts: u64 = ts.parse().unwrap();
                    assert_eq!(
                        ts * u64::from(rate),
                        (l.frames as u64 * 1152) * den,
                        "{what}: ffprobe {out}"
                    );
                }
            }
        }
    }
}

/// `round(n × to / from)`, computed here.
fn resampled_len(n: usize, from: u32, to: u32) -> usize {
    ((n as u128 * u128::from(to) * 2 + u128::from(from)) / (2 * u128::from(from))) as usize
}

/// Writes `b` as a 32-bit float WAV (for sox to resample).
fn write_f32_wav(path: &Path, rate: u32, b: &Block) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (&l, &r) in b.left.iter().zip(&b.right) {
        w.write_sample(l as f32).unwrap();
        w.write_sample(r as f32).unwrap();
    }
    w.finalize().unwrap();
}

fn sox_decode(path: &Path, effects: &[&str], test: &str) -> Option<Block> {
    let mut args = vec![path.to_str().unwrap(), "-t", "f32", "-"];
    args.extend_from_slice(effects);
    decode_with("sox", &args, test)
}

/// A promo MP3 from a loud 48 kHz master: resampled to 44.1 kHz, encoded
/// at less gain (and again when the decoded peak passes the ceiling), and
/// still every sample there: the decoded length is the resampled master's
/// and its last 50 ms are the master's as `sox rate -v` resamples it, at
/// the encode's gain, at zero offset.
#[test]
fn promo_mp3_encoded_at_less_gain_keeps_every_resampled_sample() {
    let test = "promo_mp3_encoded_at_less_gain_keeps_every_resampled_sample";
    let dir = scratch("deliver-mp3-promo-length");
    let promo = super::encode::bundle("promo-mp3");
    let master = super::encode::loud_bright(48_000, 2.1);
    let master = Block {
        left: master.left[..96_123].to_vec(),
        right: master.right[..96_123].to_vec(),
    };
    let want = resampled_len(96_123, 48_000, 44_100);
    assert_eq!(want, 88_313);
    let mp3 = dir.join("loud.mp3");
    let e = encode(&promo, 48_000, &master, &mp3, 1);
    eprintln!(
        "promo: gain {:.2} dB, {} re-encode(s), decoded true peak {:?}",
        e.gain_db, e.reencodes, e.decoded_true_peak_dbtp
    );
    assert!(e.gain_db < 0.0, "a loud master is encoded at less gain");
    assert_eq!((e.sample_rate, e.frames), (44_100, want as u64));
    let l = mp3_layout(&mp3);
    assert_eq!(l.delay, ENC_DELAY);
    assert_eq!(l.frames * 1152, ENC_DELAY + want + l.padding, "{l:?}");
    // The tags go in front; the audio stays.
    glassmaster::deliver::tags::write_tags(&mp3, promo.tags, &super::full_tags(), None).unwrap();
    let l2 = mp3_layout(&mp3);
    assert_eq!((l2.frames, l2.padding), (l.frames, l.padding));

    // The reference: the master as a 48 kHz 24-bit WAV, resampled by sox
    // (a 44.1 kHz PCM bundle would be limited again after our resampler,
    // which the MP3 path leaves to its gain).
    let wav = dir.join("ref.wav");
    encode(
        &bundle(AudioFormat::Wav, 48_000, 24),
        48_000,
        &master,
        &wav,
        1,
    );
    let Some(reference) = sox_decode(&wav, &["rate", "-v", "44100"], test) else {
        return;
    };
    assert_eq!(reference.len(), want, "sox: the resampled master's length");
    let Some(ff) = ffmpeg_decode(&mp3, test) else {
        return;
    };
    assert_eq!(ff.len(), want, "ffmpeg: MP3 length");
    let t = tail_match(&ff, &reference, 44_100, e.gain_db);
    eprintln!("promo: ffmpeg {t:?}");
    // Loud full-band noise: the codec's error is larger than on music.
    assert_tail(&t, -15.0, "promo: ffmpeg");
    if let Some(m) = decode_with(
        "mpg123",
        &["-q", "-e", "f32", "-s", mp3.to_str().unwrap()],
        test,
    ) {
        assert_eq!(m.len(), want, "mpg123: MP3 length");
    }
}

/// WAV and FLAC bundles, at the master's rate and resampled up and down:
/// `round(n × to / from)` frames as sox, flac and ffprobe count them, and
/// the resampled tail the same as `sox rate -v` makes of the master, at
/// zero offset.
#[test]
fn pcm_bundles_hold_every_sample_resampled_or_not() {
    let test = "pcm_bundles_hold_every_sample_resampled_or_not";
    let dir = scratch("deliver-pcm-length");
    for (from, to, n) in [
        (48_000u32, 44_100u32, 96_123usize),
        (44_100, 48_000, 88_211),
        (96_000, 44_100, 96_001),
        (44_100, 44_100, 12_345),
        (48_000, 48_000, 1),
    ] {
        // No noise: the two resamplers' transition bands differ, the
        // passband does not.
        let master = tail_signal(from, n, false, 0.0, 0);
        let want = resampled_len(n, from, to);
        let src = dir.join(format!("src-{from}-{n}.wav"));
        write_f32_wav(&src, from, &master);
        let rate_arg = to.to_string();
        let sox_ref = if from == to {
            sox_decode(&src, &[], test)
        } else {
            sox_decode(&src, &["rate", "-v", &rate_arg], test)
        };
        for (format, bits) in [
            (AudioFormat::Wav, 24u16),
            (AudioFormat::Flac, 24),
            (AudioFormat::Flac, 16),
        ] {
            let what = format!("{format:?} {bits}-bit {from} -> {to} Hz, {n} frames");
            let ext = if format == AudioFormat::Wav {
                "wav"
            } else {
                "flac"
            };
            let path = dir.join(format!("{from}-{to}-{n}-{bits}.{ext}"));
            let e = encode(&bundle(format, to, bits), from, &master, &path, 3);
            assert_eq!((e.sample_rate, e.frames), (to, want as u64), "{what}");
            let Some(decoded) = sox_decode(&path, &[], test) else {
                return;
            };
            assert_eq!(decoded.len(), want, "{what}: sox decoded length");
            if let Some(o) = tool(
                "ffprobe",
                &[
                    "-v",
                    "error",
                    "-show_entries",
                    "stream=duration_ts",
                    "-of",
                    "csv=p=0",
                    path.to_str().unwrap(),
                ],
                test,
            ) {
                let ts = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                assert_eq!(ts, want.to_string(), "{what}: ffprobe duration_ts");
            }
            if format == AudioFormat::Flac {
                if let Some(o) = tool(
                    "flac",
                    &[
                        "-d",
                        "-s",
                        "-c",
                        "--force-raw-format",
                        "--endian=little",
                        "--sign=signed",
                        path.to_str().unwrap(),
                    ],
                    test,
                ) {
                    assert!(o.status.success(), "{what}: flac -d");
                    let bytes = 2 * usize::from(bits / 8);
                    assert_eq!(o.stdout.len(), want * bytes, "{what}: flac -d length");
                }
            }
            if let Some(r) = &sox_ref {
                let t = tail_match(&decoded, r, to, 0.0);
                eprintln!("{what}: {} frames; against sox: {t:?}", decoded.len());
                if n > 1 {
                    assert_eq!(r.len(), want, "{what}: sox rate -v length");
                    // Not the middle's -120 dB: the master stops dead at
                    // full level, and two different anti-alias filters ring
                    // differently on that step.
                    assert_eq!(t.best_offset, 0, "{what}: offset against sox {t:?}");
                    assert!(t.err_db < -55.0, "{what}: tail against sox {t:?}");
                }
            }
        }
    }
}
