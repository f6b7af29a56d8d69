//! The limiter against an ideal reconstruction and on low tones (issue 10).
//!
//! Ceiling: bright generated material (white noise high-passed at 12 and
//! 15 kHz, sines at 0.45-0.47 fs, naive square waves, the music-like
//! generator) and excerpts of the real-music tracks, driven over a -1 dBTP
//! ceiling at 44.1, 48 and 96 kHz, must come out at or under -1.0 dB by the
//! test's own reconstruction ([`crate::reconstruct`], 16x/128x, 128-tap
//! Kaiser sinc) and by the ebur128 crate; so must the CD path after it
//! (resampled to 44.1 kHz, limited again, dithered to 16 bit).
//!
//! Low end: sines 6 dB over the ceiling at 30, 50, 80 Hz and 1 kHz must
//! come out with THD+N under -80 dB once settled (a least-squares fit of
//! the fundamental and DC, the residual against it), and repeated decaying
//! 50 Hz bursts (kick drums) must show no gain ripple within a cycle: the
//! gain, read as output / input, follows a straight line through each 20
//! ms cycle within 0.05 dB.

use std::f64::consts::PI;
use std::path::PathBuf;

use glassmaster::audio::{Block, BLOCK_FRAMES};
use glassmaster::dsp::dither::Rng;
use glassmaster::dsp::{Chain, Dither, DitherKind, Limiter, LimiterParams, Resampler, Stage};

use super::signals::{both, music_like, sine};
use super::{fit_sine, run_chain, run_resampler, true_peak_db};
use crate::reconstruct;

const CEILING: f64 = -1.0;

fn limiter(fs: u32) -> Chain {
    let p = LimiterParams {
        ceiling_dbtp: CEILING,
        release_ms: 50.0,
        lookahead_ms: 5.0,
    };
    Chain::new(vec![Stage::from(Limiter::new(fs, p).unwrap())])
}

/// An 8th-order Butterworth high-pass (four RBJ biquads), in place.
fn highpass(x: &mut [f64], fs: f64, fc: f64) {
    for q in [0.5098, 0.6013, 0.9000, 2.5629] {
        let w = 2.0 * PI * fc / fs;
        let alpha = w.sin() / (2.0 * q);
        let c = w.cos();
        let a0 = 1.0 + alpha;
        let b = [(1.0 + c) / 2.0 / a0, -(1.0 + c) / a0, (1.0 + c) / 2.0 / a0];
        let a = [-2.0 * c / a0, (1.0 - alpha) / a0];
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let y = b[0] * *v + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
            (x2, x1, y2, y1) = (x1, *v, y1, y);
            *v = y;
        }
    }
}

fn scale_to_peak(b: &mut Block, peak: f64) {
    let m = b
        .left
        .iter()
        .chain(&b.right)
        .fold(0.0f64, |m, v| m.max(v.abs()));
    for v in b.left.iter_mut().chain(b.right.iter_mut()) {
        *v *= peak / m;
    }
}

/// The generated bright material, `secs` long at `fs`, its sample peak
/// about +3 dBFS (4 dB over the ceiling).
pub fn bright(kind: &str, fs: f64, secs: f64, seed: u64) -> Block {
    let n = (secs * fs) as usize;
    let mut rng = Rng::new(seed);
    let mut b = match kind {
        "noise-hp12k" | "noise-hp15k" => {
            let fc = if kind == "noise-hp12k" {
                12_000.0
            } else {
                15_000.0
            };
            let mut ch = || {
                let mut x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
                highpass(&mut x, fs, fc);
                x
            };
            Block {
                left: ch(),
                right: ch(),
            }
        }
        "near-nyquist" => {
            let l: Vec<f64> = sine(n, fs, 0.45 * fs, 0.7, 0.3)
                .iter()
                .zip(sine(n, fs, 0.465 * fs, 0.7, 1.9))
                .map(|(a, b)| a + b)
                .collect();
            Block {
                left: l,
                right: sine(n, fs, 0.47 * fs, 1.0, PI / 4.0),
            }
        }
        "square" => {
            let sq = |f: f64| -> Vec<f64> {
                (0..n)
                    .map(|i| {
                        if (i as f64 * f / fs).fract() < 0.5 {
                            1.0
                        } else {
                            -1.0
                        }
                    })
                    .collect()
            };
            Block {
                left: sq(997.0),
                right: sq(3_100.0),
            }
        }
        "music-like" => music_like(secs, fs, seed),
        _ => panic!("no signal {kind}"),
    };
    scale_to_peak(&mut b, 1.41);
    b
}

/// `secs` seconds from `from_s` of a real-music track (48 kHz or 44.1 kHz
/// 24/16-bit WAV in target/real-music), `gain_db` louder; `None` (with a
/// SKIP line) when the tracks are not there.
pub fn real_music(dir: &str, name: &str, from_s: f64, secs: f64, gain_db: f64) -> Option<Block> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/real-music");
    let path = root.join(dir).join(name);
    let Ok(mut r) = hound::WavReader::open(&path) else {
        eprintln!(
            "SKIP real music {}: not found (shared/testdata/real-music.sh)",
            path.display()
        );
        return None;
    };
    let spec = r.spec();
    let scale = 10f64.powf(gain_db / 20.0) / f64::from(1u32 << (spec.bits_per_sample - 1));
    let skip = (from_s * f64::from(spec.sample_rate)) as usize * usize::from(spec.channels);
    let take = (secs * f64::from(spec.sample_rate)) as usize * usize::from(spec.channels);
    let v: Vec<f64> = r
        .samples::<i32>()
        .skip(skip)
        .take(take)
        .map(|s| f64::from(s.unwrap()) * scale)
        .collect();
    let ch = usize::from(spec.channels);
    Some(Block {
        left: v.iter().step_by(ch).copied().collect(),
        right: v.iter().skip(ch - 1).step_by(ch).copied().collect(),
    })
}

/// The CD path after the master: resampled to 44.1 kHz, limited again at
/// that rate, shaped dither to 16 bit (as build/sinks.rs does), as f64.
fn cd_path(master: &Block, fs: u32) -> (Block, Block) {
    let at_cd = if fs == 44_100 {
        master.clone()
    } else {
        run_resampler(
            &mut Resampler::new(fs, 44_100).unwrap(),
            master,
            &[BLOCK_FRAMES],
        )
    };
    let limited = run_chain(&mut limiter(44_100), &at_cd, BLOCK_FRAMES);
    let mut d = Dither::new(DitherKind::Shaped, 16, 7).unwrap();
    let (mut l, mut r) = (vec![0; limited.len()], vec![0; limited.len()]);
    d.process_planar(&limited, &mut l, &mut r);
    let cd = Block {
        left: l.iter().map(|v| f64::from(*v) / 32768.0).collect(),
        right: r.iter().map(|v| f64::from(*v) / 32768.0).collect(),
    };
    (at_cd, cd)
}

fn ideal_db(b: &Block) -> f64 {
    reconstruct::peak_db(&[&b.left, &b.right])
}

/// Limits `src` at `fs`, checks the master and its CD image against the
/// reference and the meter, prints the figures; returns the worst
/// reference reading.
fn check_ceiling(name: &str, src: &Block, fs: u32, failures: &mut Vec<String>) -> f64 {
    let master = run_chain(&mut limiter(fs), src, 1013);
    let (m_ideal, m_meter) = (ideal_db(&master), true_peak_db(&master, fs));
    let (resampled, cd) = cd_path(&master, fs);
    let (cd_ideal, cd_meter) = (ideal_db(&cd), true_peak_db(&cd, 44_100));
    let rs_ideal = ideal_db(&resampled);
    println!(
        "{name:>13} {fs:>6} Hz: input {:6.2} dB ideal; master {m_ideal:.3} ideal / {m_meter:.3} dBTP; \
         resampled before the CD limiter {rs_ideal:.3}; CD {cd_ideal:.3} ideal / {cd_meter:.3} dBTP",
        ideal_db(src)
    );
    for (what, v) in [
        ("master, ideal", m_ideal),
        ("master, meter", m_meter),
        ("CD, ideal", cd_ideal),
        ("CD, meter", cd_meter),
    ] {
        if v > CEILING {
            failures.push(format!("{name} at {fs} Hz: {what} reads {v:.4} dB"));
        }
    }
    m_ideal.max(cd_ideal)
}

#[test]
fn limiter_holds_the_ceiling_by_an_ideal_reconstruction() {
    let mut worst = f64::NEG_INFINITY;
    let mut failures = Vec::new();
    for fs in [44_100u32, 48_000, 96_000] {
        for (i, kind) in [
            "noise-hp12k",
            "noise-hp15k",
            "near-nyquist",
            "square",
            "music-like",
        ]
        .iter()
        .enumerate()
        {
            let secs = if *kind == "music-like" { 6.0 } else { 1.0 };
            let src = bright(kind, f64::from(fs), secs, 40 + i as u64);
            worst = worst.max(check_ceiling(kind, &src, fs, &mut failures));
        }
    }
    for (dir, fs) in [("wav48", 48_000), ("wav44", 44_100)] {
        for (name, from) in [("hr3-hell.wav", 40.0), ("hr3-laboratory.wav", 20.0)] {
            if let Some(src) = real_music(dir, name, from, 3.0, 6.0) {
                let short = &name[4..name.len() - 4];
                worst = worst.max(check_ceiling(short, &src, fs, &mut failures));
            }
        }
    }
    println!("worst reading by the reference: {worst:.3} dB (ceiling {CEILING})");
    assert!(
        failures.is_empty(),
        "over the ceiling:\n{}",
        failures.join("\n")
    );
}

#[test]
fn limiter_keeps_low_tones_clean_six_db_over() {
    const FS: f64 = 48_000.0;
    let amp = 10f64.powf((CEILING + 6.0) / 20.0);
    for f in [30.0, 50.0, 80.0, 1000.0] {
        let n = 5 * FS as usize;
        let src = both(sine(n, FS, f, amp, 0.1));
        let out = run_chain(&mut limiter(FS as u32), &src, BLOCK_FRAMES);
        // Settled: the last 3 s.
        let t0 = 2 * FS as usize;
        let (a, _, thdn) = fit_sine(&out.left[t0..], FS, f, t0);
        let gain: Vec<f64> = (t0..n)
            .filter(|&i| src.left[i].abs() > 0.3 * amp)
            .map(|i| 20.0 * (out.left[i] / src.left[i]).log10())
            .collect();
        let (lo, hi) = gain
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), g| (l.min(*g), h.max(*g)));
        println!(
            "{f:>6} Hz, 6 dB over: THD+N {thdn:.1} dB, level {:.3} dBFS, gain {lo:.4}..{hi:.4} dB",
            20.0 * a.log10()
        );
        assert!(thdn < -80.0, "{f} Hz: THD+N {thdn:.1} dB");
    }
}

#[test]
fn kick_bursts_show_no_gain_ripple_within_a_cycle() {
    const FS: f64 = 48_000.0;
    let amp = 10f64.powf((CEILING + 6.0) / 20.0);
    let ceiling = 10f64.powf(CEILING / 20.0);
    let (period, tau, len) = (0.5, 0.25, 0.45);
    let n = (4.0 * FS) as usize;
    let env = |t: f64| -> f64 {
        if t >= len {
            0.0
        } else {
            amp * (t / 0.001).min(1.0) * (-t / tau).exp()
        }
    };
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = (i as f64 / FS) % period;
            env(t) * (2.0 * PI * 50.0 * t).sin()
        })
        .collect();
    let src = both(x);
    let out = run_chain(&mut limiter(FS as u32), &src, BLOCK_FRAMES);
    let cycle = (FS / 50.0) as usize;
    let mut worst: f64 = 0.0;
    let mut widest: f64 = 0.0;
    let mut cycles = 0;
    for burst in 0..(n as f64 / FS / period) as usize {
        let start = (burst as f64 * period * FS) as usize;
        // From the second cycle (the 5 ms attack is done) while the burst
        // is over the ceiling.
        let mut c0 = start + cycle;
        while c0 + cycle < n && env((c0 + cycle - start) as f64 / FS) > ceiling {
            let pts: Vec<(f64, f64)> = (c0..c0 + cycle)
                .filter(|&i| src.left[i].abs() > 0.1 * amp)
                .map(|i| (i as f64, 20.0 * (out.left[i] / src.left[i]).log10()))
                .collect();
            // Least-squares line through the cycle's gain, and the largest
            // distance from it.
            let m = pts.len() as f64;
            let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
            let (mx, my) = (sx / m, sy / m);
            let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
            let slope = sxy / sxx;
            let dev = pts
                .iter()
                .map(|p| (p.1 - my - slope * (p.0 - mx)).abs())
                .fold(0.0, f64::max);
            let (lo, hi) = pts
                .iter()
                .fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.1), h.max(p.1)));
            worst = worst.max(dev);
            widest = widest.max(hi - lo);
            cycles += 1;
            c0 += cycle;
        }
    }
    println!(
        "kick bursts: {cycles} held cycles, gain off its straight line by at most {worst:.4} dB \
         within a cycle (the line itself moves up to {widest:.3} dB per cycle as the kick decays)"
    );
    assert!(cycles >= 40, "only {cycles} cycles over the ceiling");
    assert!(worst < 0.05, "gain ripple {worst:.4} dB within a cycle");
    let tp = true_peak_db(&out, FS as u32);
    assert!(tp <= CEILING, "kicks: {tp} dBTP");
}
