//! Throughput of the mastering chain: how many seconds of 48 kHz stereo
//! one CPU second processes through EQ (3 bands) + compressor + true-peak
//! limiter, and each stage alone. Run with
//! `cargo run --release --example dsp_bench`.

#[path = "../tests/dsp/signals.rs"]
mod signals;

use std::time::Instant;

use glassmaster::audio::{Block, BLOCK_FRAMES};
use glassmaster::dsp::{
    Chain, Compressor, CompressorParams, Eq, EqBand, EqKind, Limiter, LimiterParams, Resampler,
    Stage,
};

const FS: u32 = 48_000;

fn eq() -> Eq {
    let band = |kind, freq_hz, gain_db, q| EqBand {
        kind,
        freq_hz,
        gain_db,
        q,
    };
    Eq::new(
        FS,
        &[
            band(EqKind::Highpass, 25.0, 0.0, Some(0.707)),
            band(EqKind::Bell, 3000.0, -1.5, Some(1.2)),
            band(EqKind::HighShelf, 10_000.0, 1.0, None),
        ],
    )
    .unwrap()
}

fn comp() -> Compressor {
    Compressor::new(FS, CompressorParams::default()).unwrap()
}

fn lim() -> Limiter {
    Limiter::new(FS, LimiterParams::default()).unwrap()
}

/// Seconds of audio per CPU second for `stages` over `src`, best of 7.
fn bench(name: &str, make: &dyn Fn() -> Vec<Stage>, src: &Block) -> f64 {
    let secs = src.len() as f64 / FS as f64;
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let mut chain = Chain::new(make());
        let mut inb = Block::with_capacity(BLOCK_FRAMES);
        let mut out = chain.output_block();
        let t0 = Instant::now();
        let mut n = 0;
        for start in (0..src.len()).step_by(BLOCK_FRAMES) {
            let end = (start + BLOCK_FRAMES).min(src.len());
            inb.clear();
            inb.left.extend_from_slice(&src.left[start..end]);
            inb.right.extend_from_slice(&src.right[start..end]);
            chain.process(&inb, &mut out);
            n += out.len();
        }
        chain.finish(&mut out);
        n += out.len();
        assert_eq!(n, src.len());
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let x = secs / best;
    println!("{name:<32} {x:>8.0} s of audio per CPU second ({best:.3} s for {secs:.0} s)");
    x
}

fn main() {
    let src = signals::music_like(60.0, FS as f64, 1);
    let quiet = {
        let mut q = src.clone();
        for s in q.left.iter_mut().chain(q.right.iter_mut()) {
            *s *= 0.1;
        }
        q
    };
    println!("60 s of music-like 48 kHz stereo, blocks of {BLOCK_FRAMES} frames");
    bench("eq (3 bands)", &|| vec![Stage::Eq(eq())], &src);
    bench("compressor", &|| vec![Stage::Compressor(comp())], &src);
    bench("limiter (loud input)", &|| vec![Stage::from(lim())], &src);
    bench(
        "limiter (input -20 dB)",
        &|| vec![Stage::from(lim())],
        &quiet,
    );
    let full = bench(
        "eq + compressor + limiter",
        &|| {
            vec![
                Stage::Eq(eq()),
                Stage::Compressor(comp()),
                Stage::from(lim()),
            ]
        },
        &src,
    );
    println!(
        "one hour of 48 kHz stereo through the full chain: {:.1} CPU seconds",
        3600.0 / full
    );
    // Resampler 48 -> 44.1 kHz.
    let t0 = Instant::now();
    let mut rs = Resampler::new(48_000, 44_100).unwrap();
    let mut out = Block::with_capacity(rs.max_output_frames(BLOCK_FRAMES));
    let mut inb = Block::with_capacity(BLOCK_FRAMES);
    for start in (0..src.len()).step_by(BLOCK_FRAMES) {
        let end = (start + BLOCK_FRAMES).min(src.len());
        inb.clear();
        inb.left.extend_from_slice(&src.left[start..end]);
        inb.right.extend_from_slice(&src.right[start..end]);
        rs.process(&inb, &mut out).unwrap();
    }
    rs.finish(&mut out).unwrap();
    let x = 60.0 / t0.elapsed().as_secs_f64();
    println!(
        "{:<32} {x:>8.0} s of audio per CPU second",
        "resample 48 -> 44.1 kHz"
    );
}
