//! rusty_aac's own quality by bit rate and setting, without glassmaster's
//! segmenting, MP4 or ceiling: the first 30 s of a 44.1 kHz WAV encoded
//! whole, decoded by rusty_aac, and its SNR against the input (the
//! encoder's one frame of delay taken off). The README's "AAC bundles"
//! quotes it: `cargo run --release --example aac_settings --
//! target/bench-aac-in/wav44-hr3-caves.wav` (after bench/aac.sh). The
//! "2.0.1 shape" arms are the crate as published (noise following the
//! mask, `noise_shaping: 1.0`); the others use vendor/rusty_aac's default,
//! one step size for every band (VENDORED.md).

use rusty_aac::{AacDecoder, AacEncoder, AacEncoderConfig};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: aac_settings FILE.wav (44.1 kHz stereo)");
        std::process::exit(2);
    };
    let (info, b) = glassmaster::audio::read_all(std::path::Path::new(&path)).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let rate = info.sample_rate;
    let n = (30 * rate as usize).min(b.len());
    let l: Vec<f32> = b.left[..n].iter().map(|&x| x as f32).collect();
    let r: Vec<f32> = b.right[..n].iter().map(|&x| x as f32).collect();
    let d = AacEncoderConfig::default;
    let shaped = || AacEncoderConfig {
        noise_shaping: 1.0,
        ..d()
    };
    let arms = [
        ("2.0.1 shape", 128, shaped()),
        ("2.0.1 shape", 256, shaped()),
        ("default", 128, d()),
        ("default", 256, d()),
        ("default", 320, d()),
        (
            "no stereo split",
            256,
            AacEncoderConfig {
                stereo_bit_split: false,
                ..d()
            },
        ),
        (
            "tonality SMR",
            256,
            AacEncoderConfig {
                tonality_smr: true,
                ..d()
            },
        ),
        (
            "TNS + short psy + grouping",
            256,
            AacEncoderConfig {
                tns: true,
                short_block_psy: true,
                window_grouping: true,
                ..d()
            },
        ),
        (
            "absolute transients",
            256,
            AacEncoderConfig {
                relative_transients: false,
                ..d()
            },
        ),
    ];
    for (name, kbps, cfg) in arms {
        let mut enc = AacEncoder::new(AacEncoderConfig {
            bitrate_bps: kbps * 1000,
            ..cfg
        });
        enc.push_pcm_planar(&[&l, &r], rate).expect("encoder input");
        enc.finish();
        let asc = rusty_aac::audio_specific_config_bytes(rate, 2);
        let mut dec = AacDecoder::with_config_bytes(&asc).expect("decoder");
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        while let Ok(p) = enc.next_packet() {
            bytes += p.data.len();
            out.extend(dec.decode(&p.data, None).expect("decode").samples);
        }
        let (mut s, mut e) = (0f64, 0f64);
        for i in 0..n {
            let (a, c) = (f64::from(l[i]), f64::from(r[i]));
            let (x, y) = (
                f64::from(out[2 * (i + 1024)]),
                f64::from(out[2 * (i + 1024) + 1]),
            );
            s += a * a + c * c;
            e += (a - x).powi(2) + (c - y).powi(2);
        }
        let written = bytes as f64 * 8.0 / (n as f64 / f64::from(rate)) / 1000.0;
        println!(
            "{name:28} {kbps} kbps: SNR {:.2} dB, {written:.0} kbps written",
            10.0 * (s / e.max(1e-30)).log10()
        );
    }
}
