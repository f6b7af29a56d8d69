//! What the 1/3-octave spectrum costs the meter: meters 10 minutes of
//! generated 48 kHz stereo noise in 4096-frame blocks with and without
//! it, seven times each, and prints the best times; with files, meters
//! each file (decoded into memory first, so decoding is not timed) the
//! same way.
//!
//! Usage: cargo run --release --example spectrum_bench [FILE...]

use std::time::Instant;

use glassmaster::analysis::Meter;
use glassmaster::audio::{Block, BLOCK_FRAMES};

fn main() {
    let rate = 48_000u32;
    let seconds = 600usize;
    // Seeded noise, one block reused (the meter does not care).
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let blocks: Vec<Block> = (0..64)
        .map(|_| Block {
            left: (0..BLOCK_FRAMES).map(|_| next()).collect(),
            right: (0..BLOCK_FRAMES).map(|_| next()).collect(),
        })
        .collect();
    let n_blocks = seconds * rate as usize / BLOCK_FRAMES;
    let run = |spectrum: bool| {
        let mut best = f64::INFINITY;
        for _ in 0..7 {
            let mut m = Meter::new(rate).expect("48 kHz is meterable");
            if !spectrum {
                m = m.without_spectrum();
            }
            let t = Instant::now();
            for i in 0..n_blocks {
                m.add(&blocks[i % blocks.len()]);
            }
            let (meas, _) = m.finish();
            std::hint::black_box(meas);
            best = best.min(t.elapsed().as_secs_f64());
        }
        best
    };
    let without = run(false);
    let with = run(true);
    println!(
        "{seconds} s of 48 kHz stereo noise: meter {without:.3} s, with spectrum {with:.3} s (+{:.1}%)",
        (with / without - 1.0) * 100.0
    );
    let (mut all_without, mut all_with) = (0.0, 0.0);
    for path in std::env::args().skip(1) {
        let mut decoder = match glassmaster::audio::Decoder::open(path.as_ref()) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{e}");
                continue;
            }
        };
        let rate = decoder.info().sample_rate;
        let mut blocks = Vec::new();
        loop {
            let mut b = Block::with_capacity(BLOCK_FRAMES);
            match decoder.read_block(&mut b) {
                Ok(0) => break,
                Ok(_) => blocks.push(b),
                Err(e) => {
                    eprintln!("{e}");
                    break;
                }
            }
        }
        let time = |spectrum: bool| {
            let mut best = f64::INFINITY;
            for _ in 0..7 {
                let mut m = Meter::new(rate).expect("a decodable rate is meterable");
                if !spectrum {
                    m = m.without_spectrum();
                }
                let t = Instant::now();
                for b in &blocks {
                    m.add(b);
                }
                std::hint::black_box(m.finish());
                best = best.min(t.elapsed().as_secs_f64());
            }
            best
        };
        let (a, b) = (time(false), time(true));
        all_without += a;
        all_with += b;
        println!(
            "{path}: meter {a:.3} s, with spectrum {b:.3} s (+{:.1}%)",
            (b / a - 1.0) * 100.0
        );
    }
    if all_without > 0.0 {
        println!(
            "files: meter {all_without:.3} s, with spectrum {all_with:.3} s (+{:.1}%)",
            (all_with / all_without - 1.0) * 100.0
        );
    }
}
