//! CPU time of the true-peak limiter and the reconstruction peak meter on
//! one real track (raw little-endian f32 stereo at 48 kHz, e.g. from
//! `sox track.wav -t f32 -c 2 x.f32`), driven `GAIN_DB` hot (default 8)
//! so the limiter works as in a loud master. Prints user CPU seconds and a
//! checksum of the output (to compare variants for bit identity). Run with
//! `cargo run --release --example limiter_bench -- x.f32 [GAIN_DB]`.

use std::time::Instant;

use glassmaster::audio::{Block, BLOCK_FRAMES};
use glassmaster::dsp::{Limiter, LimiterParams, ReconstructedPeak};

fn cpu() -> f64 {
    // utime in clock ticks, field 14 of /proc/self/stat.
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let raw = std::fs::read(&args[1]).expect("raw f32 stereo file");
    let gain = 10f64.powf(args.get(2).map_or(8.0, |g| g.parse().unwrap()) / 20.0);
    let v: Vec<f64> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64 * gain)
        .collect();
    let src = Block {
        left: v.iter().step_by(2).copied().collect(),
        right: v.iter().skip(1).step_by(2).copied().collect(),
    };
    let secs = src.len() as f64 / 48_000.0;
    let (c0, w0) = (cpu(), Instant::now());
    let mut lim = Limiter::new(48_000, LimiterParams::default()).unwrap();
    let mut sum = 0u64;
    let mut out = Vec::with_capacity(src.len());
    for at in (0..src.len()).step_by(BLOCK_FRAMES) {
        let e = (at + BLOCK_FRAMES).min(src.len());
        let mut b = Block {
            left: src.left[at..e].to_vec(),
            right: src.right[at..e].to_vec(),
        };
        lim.process(&mut b);
        for (l, r) in b.left.iter().zip(&b.right) {
            sum = sum
                .wrapping_mul(31)
                .wrapping_add(l.to_bits() ^ r.to_bits().rotate_left(7));
        }
        out.push(b);
    }
    let (c1, w1) = (cpu(), w0.elapsed().as_secs_f64());
    let mut m = ReconstructedPeak::new();
    for b in &out {
        m.add(b);
    }
    let db = m.dbfs();
    let (c2, w2) = (cpu(), w0.elapsed().as_secs_f64());
    println!(
        "{secs:.0} s of audio: limiter {:.2} s user ({w1:.2} wall), reduction {:.2} dB, checksum {sum:016x}; reconstruction meter {:.2} s user ({:.2} wall), peak {db:?}",
        c1 - c0,
        lim.max_reduction_db(),
        c2 - c1,
        w2 - w1
    );
}
