//! DSP stages against their promises: EQ magnitudes against the cookbook,
//! the compressor's static curve, the true-peak limiter's ceiling (measured
//! with the ebur128 crate, the project's meter) and distortion, chain
//! transparency and latency, resampler THD+N / aliasing / flatness / length,
//! and dither noise spectra and reproducibility. Each test prints the
//! figures it measured (`cargo test dsp -- --nocapture`).

pub(crate) mod ceiling;
pub(crate) mod declip;
mod repair;
mod signals;

use std::f64::consts::PI;

use ebur128::{EbuR128, Mode};
use glassmaster::audio::{Block, BLOCK_FRAMES};
use glassmaster::dsp::compressor::static_curve_db;
use glassmaster::dsp::eq::band_magnitude_db;
use glassmaster::dsp::{
    Chain, Compressor, CompressorParams, Dither, DitherKind, Eq, EqBand, EqKind, Fade, FadeCurve,
    FadeParams, Gain, Limiter, LimiterParams, Resampler, Stage,
};
use signals::{both, music_like, sine};

// ---------------------------------------------------------------- helpers

/// Least-squares fit of `a sin + b cos + c` at frequency `f` to `x`.
/// Returns (amplitude, phase of the sine, residual power / fitted sine
/// power in dB).
fn fit_sine(x: &[f64], fs: f64, f: f64, t0: usize) -> (f64, f64, f64) {
    let mut m = [[0.0f64; 3]; 3];
    let mut v = [0.0f64; 3];
    let basis = |i: usize| {
        let w = 2.0 * PI * f * (i + t0) as f64 / fs;
        [w.sin(), w.cos(), 1.0]
    };
    for (i, &y) in x.iter().enumerate() {
        let b = basis(i);
        for r in 0..3 {
            v[r] += b[r] * y;
            for c in 0..3 {
                m[r][c] += b[r] * b[c];
            }
        }
    }
    let sol = solve3(m, v);
    let mut res = 0.0;
    for (i, &y) in x.iter().enumerate() {
        let b = basis(i);
        let e = y - (sol[0] * b[0] + sol[1] * b[1] + sol[2] * b[2]);
        res += e * e;
    }
    let amp = (sol[0] * sol[0] + sol[1] * sol[1]).sqrt();
    let sig = amp * amp / 2.0 * x.len() as f64;
    (amp, sol[1].atan2(sol[0]), 10.0 * (res / sig).log10())
}

fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> [f64; 3] {
    for k in 0..3 {
        let p = (k..3)
            .max_by(|&a, &b| m[a][k].abs().total_cmp(&m[b][k].abs()))
            .unwrap();
        m.swap(k, p);
        v.swap(k, p);
        let pivot = m[k];
        for r in k + 1..3 {
            let f = m[r][k] / pivot[k];
            for (a, b) in m[r].iter_mut().zip(pivot).skip(k) {
                *a -= f * b;
            }
            v[r] -= f * v[k];
        }
    }
    let mut x = [0.0; 3];
    for k in (0..3).rev() {
        let s: f64 = (k + 1..3).map(|c| m[k][c] * x[c]).sum();
        x[k] = (v[k] - s) / m[k][k];
    }
    x
}

/// Streams `src` through `chain` in blocks of `block` frames.
fn run_chain(chain: &mut Chain, src: &Block, block: usize) -> Block {
    let mut out = Block::default();
    let mut inb = Block::default();
    let mut part = chain.output_block();
    for start in (0..src.len()).step_by(block) {
        let end = (start + block).min(src.len());
        inb.clear();
        inb.left.extend_from_slice(&src.left[start..end]);
        inb.right.extend_from_slice(&src.right[start..end]);
        chain.process(&inb, &mut part);
        out.left.extend_from_slice(&part.left);
        out.right.extend_from_slice(&part.right);
    }
    chain.finish(&mut part);
    out.left.extend_from_slice(&part.left);
    out.right.extend_from_slice(&part.right);
    out
}

/// Streams `src` through a resampler in blocks of the given sizes (cycled).
fn run_resampler(rs: &mut Resampler, src: &Block, blocks: &[usize]) -> Block {
    let mut out = Block::default();
    let mut inb = Block::default();
    let mut part = Block::default();
    let mut start = 0;
    let mut k = 0;
    while start < src.len() {
        let end = (start + blocks[k % blocks.len()]).min(src.len());
        k += 1;
        inb.clear();
        inb.left.extend_from_slice(&src.left[start..end]);
        inb.right.extend_from_slice(&src.right[start..end]);
        rs.process(&inb, &mut part).unwrap();
        out.left.extend_from_slice(&part.left);
        out.right.extend_from_slice(&part.right);
        start = end;
    }
    rs.finish(&mut part).unwrap();
    out.left.extend_from_slice(&part.left);
    out.right.extend_from_slice(&part.right);
    out
}

/// True peak in dBTP of a stereo block by the ebur128 crate (4x below
/// 96 kHz), the larger of the two channels.
fn true_peak_db(b: &Block, fs: u32) -> f64 {
    let mut m = EbuR128::new(2, fs, Mode::TRUE_PEAK).unwrap();
    m.add_frames_planar_f64(&[&b.left, &b.right]).unwrap();
    let tp = m.true_peak(0).unwrap().max(m.true_peak(1).unwrap());
    20.0 * tp.log10()
}

fn slice(b: &Block, r: std::ops::Range<usize>) -> Block {
    Block {
        left: b.left[r.clone()].to_vec(),
        right: b.right[r].to_vec(),
    }
}

/// Power of bin `k` of a Hann-windowed `x` (Goertzel).
fn bin_power(x: &[f64], k: f64) -> f64 {
    let n = x.len() as f64;
    let w = 2.0 * PI * k / n;
    let coef = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let win = 0.5 - 0.5 * (2.0 * PI * i as f64 / n).cos();
        let s0 = v * win + coef * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coef * s1 * s2
}

/// Noise density over `lo..hi` Hz, averaged over segments of `seg`
/// samples (Welch, Hann window), as the variance of the white noise that
/// would have the same density (so white noise of variance v reads v).
fn band_power(x: &[f64], fs: f64, seg: usize, lo: f64, hi: f64) -> f64 {
    let (k0, k1) = (
        (lo * seg as f64 / fs).ceil() as usize,
        (hi * seg as f64 / fs).floor() as usize,
    );
    let mut total = 0.0;
    let mut count = 0;
    for s in x.chunks_exact(seg) {
        for k in k0..=k1 {
            total += bin_power(s, k as f64);
            count += 1;
        }
    }
    // A Hann-windowed bin of white noise of variance v has mean power
    // v * sum(w^2) = v * 3 seg / 8.
    total / count as f64 / (3.0 * seg as f64 / 8.0)
}

fn db(x: f64) -> f64 {
    10.0 * x.log10()
}

/// Peak in dB of a stereo block at 8x, by a Kaiser-windowed sinc of 64
/// taps per phase in f64: a reference much closer to the continuous
/// waveform than any 4x meter. Only intervals next to a sample above
/// `floor` are evaluated (inter-sample overs sit next to loud samples).
fn peak_8x_db(b: &Block, floor: f64) -> f64 {
    const HALF: usize = 32;
    let i0 = |x: f64| {
        let (mut s, mut t) = (1.0, 1.0);
        for k in 1..60 {
            t *= x * x / 4.0 / (k * k) as f64;
            s += t;
        }
        s
    };
    let taps: Vec<Vec<f64>> = (1..8)
        .map(|p| {
            (0..2 * HALF)
                .map(|k| {
                    let u = k as f64 - (HALF as f64 - 1.0) - p as f64 / 8.0;
                    let r = u / HALF as f64;
                    let sinc = (PI * u).sin() / (PI * u);
                    sinc * i0(10.0 * (1.0 - r * r).max(0.0).sqrt()) / i0(10.0)
                })
                .collect()
        })
        .collect();
    let mut peak: f64 = 0.0;
    for x in [&b.left, &b.right] {
        for c in HALF..x.len() - HALF {
            peak = peak.max(x[c].abs());
            if x[c].abs().max(x[c + 1].abs()) < floor {
                continue;
            }
            let win = &x[c + 1 - HALF..c + 1 + HALF];
            for t in &taps {
                let v: f64 = t.iter().zip(win).map(|(a, b)| a * b).sum();
                peak = peak.max(v.abs());
            }
        }
    }
    20.0 * peak.log10()
}

// ---------------------------------------------------------------- EQ

#[test]
fn eq_measured_magnitude_matches_cookbook() {
    const FS: u32 = 48_000;
    let freqs = [
        31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16_000.0,
    ];
    let bands = [
        (EqKind::Highpass, 80.0, 0.0, Some(0.707)),
        (EqKind::Lowpass, 6000.0, 0.0, Some(1.5)),
        (EqKind::LowShelf, 300.0, 6.0, None),
        (EqKind::HighShelf, 5000.0, -4.0, Some(0.9)),
        (EqKind::Bell, 1200.0, 5.0, Some(1.4)),
        (EqKind::Notch, 2500.0, 0.0, Some(4.0)),
    ];
    let mut worst: f64 = 0.0;
    for (kind, freq_hz, gain_db, q) in bands {
        let band = EqBand {
            kind,
            freq_hz,
            gain_db,
            q,
        };
        let mut line = format!("{kind:?}:");
        for &f in &freqs {
            let mut eq = Eq::new(FS, &[band]).unwrap();
            let settle = FS as usize;
            let mut b = both(sine(settle + 24_000, FS as f64, f, 0.5, 0.3));
            for chunk in 0..b.len().div_ceil(BLOCK_FRAMES) {
                let r = chunk * BLOCK_FRAMES..((chunk + 1) * BLOCK_FRAMES).min(b.len());
                let mut part = slice(&b, r.clone());
                eq.process(&mut part);
                b.left[r.clone()].copy_from_slice(&part.left);
                b.right[r].copy_from_slice(&part.right);
            }
            let (amp, _, _) = fit_sine(&b.left[settle..], FS as f64, f, settle);
            let measured = 20.0 * (amp / 0.5).log10();
            let want = band_magnitude_db(&band, FS as f64, f);
            let err = (measured - want).abs();
            worst = worst.max(err);
            line += &format!(" {f}:{measured:.3}");
            assert!(
                err < 0.05,
                "{kind:?} at {f} Hz: measured {measured:.4} dB, cookbook {want:.4} dB"
            );
        }
        println!("{line}");
    }
    println!("EQ: worst |measured - cookbook| over 6 types x 10 frequencies = {worst:.2e} dB");
}

// ---------------------------------------------------------------- compressor

fn compress(p: CompressorParams, left_db: f64, right_db: f64) -> (f64, f64) {
    const FS: u32 = 48_000;
    let n = 2 * FS as usize;
    let mut c = Compressor::new(FS, p).unwrap();
    let al = 10f64.powf(left_db / 20.0);
    let ar = 10f64.powf(right_db / 20.0);
    let mut b = Block {
        left: sine(n, FS as f64, 1000.0, al, 0.0),
        right: sine(n, FS as f64, 1000.0, ar, 0.0),
    };
    for chunk in b
        .left
        .chunks_mut(BLOCK_FRAMES)
        .zip(b.right.chunks_mut(BLOCK_FRAMES))
    {
        let mut part = Block {
            left: chunk.0.to_vec(),
            right: chunk.1.to_vec(),
        };
        c.process(&mut part);
        chunk.0.copy_from_slice(&part.left);
        chunk.1.copy_from_slice(&part.right);
    }
    let tail = n - FS as usize / 2;
    let (gl, _, _) = fit_sine(&b.left[tail..], FS as f64, 1000.0, tail);
    let (gr, _, _) = fit_sine(&b.right[tail..], FS as f64, 1000.0, tail);
    (20.0 * (gl / al).log10(), 20.0 * (gr / ar).log10())
}

#[test]
fn compressor_static_curve_on_steady_sines() {
    let p = CompressorParams {
        threshold_db: -20.0,
        ratio: 4.0,
        attack_ms: 5.0,
        release_ms: 200.0,
        knee_db: 6.0,
        makeup_db: 0.0,
        stereo_link: 1.0,
    };
    let mut worst: f64 = 0.0;
    for level in [
        -40.0, -30.0, -24.0, -23.0, -21.0, -20.0, -19.0, -17.0, -12.0, -6.0, 0.0,
    ] {
        let (g, _) = compress(p, level, level);
        let want = static_curve_db(level, p.threshold_db, p.ratio, p.knee_db) - level;
        println!("compressor: sine peak {level:>5.1} dBFS: gain {g:>7.3} dB, curve {want:>7.3} dB");
        worst = worst.max((g - want).abs());
        assert!((g - want).abs() < 0.1, "at {level} dBFS: {g} vs {want}");
    }
    println!("compressor: worst |gain - static curve| = {worst:.3} dB");
    // Makeup adds on top.
    let (g, _) = compress(
        CompressorParams {
            makeup_db: 3.0,
            ..p
        },
        -8.0,
        -8.0,
    );
    let want = static_curve_db(-8.0, -20.0, 4.0, 6.0) + 8.0 + 3.0;
    assert!((g - want).abs() < 0.1, "makeup: {g} vs {want}");
    // Stereo link: the loud left channel drives the quiet right one at
    // link 1, and leaves it alone at link 0.
    let (gl, gr) = compress(p, -8.0, -40.0);
    assert!((gl - gr).abs() < 0.01 && gl < -8.0, "linked: {gl} {gr}");
    let (gl, gr) = compress(
        CompressorParams {
            stereo_link: 0.0,
            ..p
        },
        -8.0,
        -40.0,
    );
    assert!(gl < -8.0 && gr.abs() < 0.01, "unlinked: {gl} {gr}");
}

// ---------------------------------------------------------------- limiter

fn limiter_chain(ceiling: f64) -> Chain {
    Chain::new(vec![Stage::from(
        Limiter::new(
            48_000,
            LimiterParams {
                ceiling_dbtp: ceiling,
                ..Default::default()
            },
        )
        .unwrap(),
    )])
}

#[test]
fn limiter_holds_the_ceiling_on_fs4_sine_at_45_degrees() {
    let src = both(sine(5 * 48_000, 48_000.0, 12_000.0, 1.41, PI / 4.0));
    let sample_peak = src.left.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let tp_in = true_peak_db(&src, 48_000);
    println!(
        "fs/4 at 45 deg: input sample peak {:.3} dBFS, true peak {tp_in:.3} dBTP",
        20.0 * sample_peak.log10()
    );
    assert!((tp_in - 3.0).abs() < 0.2, "meter reads {tp_in}");
    for ceiling in [-1.0, -0.1, -2.0] {
        let out = run_chain(&mut limiter_chain(ceiling), &src, BLOCK_FRAMES);
        assert_eq!(out.len(), src.len());
        let tp = true_peak_db(&out, 48_000);
        println!(
            "fs/4 at 45 deg: ceiling {ceiling} dBTP -> output {tp:.3} dBTP (margin {:.3} dB)",
            ceiling - tp
        );
        assert!(tp <= ceiling, "output {tp} dBTP over the ceiling {ceiling}");
    }
}

#[test]
fn limiter_thd_plus_n_six_db_over() {
    const FS: f64 = 48_000.0;
    let ceiling = -1.0;
    let amp = 10f64.powf((ceiling + 6.0) / 20.0);
    for f in [1000.0, 997.0, 50.0] {
        let n = 4 * FS as usize;
        let src = both(sine(n, FS, f, amp, 0.1));
        let out = run_chain(&mut limiter_chain(ceiling), &src, BLOCK_FRAMES);
        let t0 = FS as usize;
        let (a, _, thdn) = fit_sine(&out.left[t0..], FS, f, t0);
        let tp = true_peak_db(&slice(&out, t0..n), FS as u32);
        println!(
            "limiter, {f} Hz sine 6 dB over: THD+N {thdn:.1} dB, level {:.3} dBFS, true peak {tp:.3} dBTP",
            20.0 * a.log10()
        );
        if f >= 997.0 {
            assert!(thdn < -80.0, "{f} Hz: THD+N {thdn} dB");
        }
        assert!(tp <= ceiling);
    }
}

#[test]
fn limiter_on_music_like_material_never_exceeds_the_ceiling() {
    const FS: u32 = 48_000;
    let ceiling = -1.0;
    let src = music_like(60.0, FS as f64, 7);
    let tp_in = true_peak_db(&src, FS);
    // Odd block sizes on purpose: the result must not depend on them.
    let out = run_chain(&mut limiter_chain(ceiling), &src, 1013);
    assert_eq!(out.len(), src.len());
    let tp_out = true_peak_db(&out, FS);
    let tp_8x = peak_8x_db(&out, 0.5 * 10f64.powf(ceiling / 20.0));
    println!(
        "music-like 60 s: input {tp_in:.2} dBTP, output {tp_out:.4} dBTP by ebur128, {tp_8x:.4} dB by an 8x 64-tap reference, ceiling {ceiling}"
    );
    assert!(tp_out <= ceiling, "output {tp_out} dBTP");
    // The 8x reference reads higher only where the material has strong
    // energy above 20 kHz (the differentiated-noise hi-hats peak at
    // Nyquist), which the detector's kernels roll off; the same material
    // low-passed holds the ceiling by the reference too.
    let mut lp = src.clone();
    let band = EqBand {
        kind: EqKind::Lowpass,
        freq_hz: 16_000.0,
        gain_db: 0.0,
        q: None,
    };
    Eq::new(FS, &[band; 6]).unwrap().process(&mut lp);
    let out_lp = run_chain(&mut limiter_chain(ceiling), &lp, 4096);
    let tp_lp = true_peak_db(&out_lp, FS);
    let tp_lp_8x = peak_8x_db(&out_lp, 0.5 * 10f64.powf(ceiling / 20.0));
    println!("music-like low-passed at 16 kHz: output {tp_lp:.4} dBTP by ebur128, {tp_lp_8x:.4} dB by the 8x reference");
    assert!(tp_lp <= ceiling && tp_lp_8x <= ceiling);
    // Headroom left unused where the limiter worked: per 0.5 s window whose
    // input went over the ceiling, how far under it the output peaked.
    let win = FS as usize / 2;
    let mut wasted = Vec::new();
    for start in (0..src.len() - win).step_by(win) {
        let r = start..start + win;
        if true_peak_db(&slice(&src, r.clone()), FS) > ceiling + 0.5 {
            let tp = true_peak_db(&slice(&out, r), FS);
            assert!(tp <= ceiling, "window at {start}: {tp}");
            wasted.push(ceiling - tp);
        }
    }
    wasted.sort_by(f64::total_cmp);
    println!(
        "music-like: {} limited windows, unused headroom min {:.3} / median {:.3} / max {:.3} dB",
        wasted.len(),
        wasted[0],
        wasted[wasted.len() / 2],
        wasted[wasted.len() - 1]
    );
    assert!(
        wasted[wasted.len() / 2] < 0.5,
        "the limiter gives away too much"
    );
}

// ---------------------------------------------------------------- chain

/// A stereo source quantised to the 24-bit grid, peaking at about -3 dBFS.
fn grid24(b: &Block) -> Block {
    let q = |v: &f64| (v * 8_388_608.0).round() / 8_388_608.0;
    Block {
        left: b.left.iter().map(q).collect(),
        right: b.right.iter().map(q).collect(),
    }
}

fn to_i24(b: &Block) -> Vec<i32> {
    let mut d = Dither::new(DitherKind::None, 24, 0).unwrap();
    let mut out = vec![0; 2 * b.len()];
    d.process_interleaved(b, &mut out);
    out
}

#[test]
fn chains_below_the_ceiling_are_transparent_at_24_bits() {
    const FS: u32 = 48_000;
    let mut src = music_like(6.0, FS as f64, 3);
    let peak = src
        .left
        .iter()
        .chain(&src.right)
        .fold(0.0f64, |m, v| m.max(v.abs()));
    // Scale under -1 dBTP with room for inter-sample peaks.
    let k = 10f64.powf(-6.0 / 20.0) / peak;
    for v in src.left.iter_mut().chain(src.right.iter_mut()) {
        *v *= k;
    }
    let src = grid24(&src);
    assert!(true_peak_db(&src, FS) < -1.2);
    let want = to_i24(&src);
    let chains: Vec<(&str, Chain)> = vec![
        ("empty", Chain::new(vec![])),
        (
            "gain 0 dB",
            Chain::new(vec![Stage::Gain(Gain::new(0.0).unwrap())]),
        ),
        ("gain 0 dB + limiter", {
            let lim = Limiter::new(FS, LimiterParams::default()).unwrap();
            Chain::new(vec![Stage::Gain(Gain::new(0.0).unwrap()), Stage::from(lim)])
        }),
    ];
    for (name, mut chain) in chains {
        let out = run_chain(&mut chain, &src, 777);
        assert_eq!(out.len(), src.len(), "{name}");
        let got = to_i24(&out);
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .max()
            .unwrap();
        println!("transparency, {name}: worst difference {worst} LSB at 24 bit");
        assert!(worst <= 1, "{name}: {worst} LSB");
    }
}

#[test]
fn chain_output_does_not_depend_on_block_size() {
    const FS: u32 = 48_000;
    let src = music_like(4.0, FS as f64, 11);
    let make = || {
        let band = |kind, freq_hz, gain_db, q| EqBand {
            kind,
            freq_hz,
            gain_db,
            q,
        };
        let eq = Eq::new(
            FS,
            &[
                band(EqKind::Highpass, 25.0, 0.0, Some(0.707)),
                band(EqKind::Bell, 3000.0, -1.5, Some(1.2)),
                band(EqKind::HighShelf, 10_000.0, 1.0, None),
            ],
        )
        .unwrap();
        let fade = FadeParams {
            in_s: 0.5,
            out_s: 1.0,
            curve: FadeCurve::SCurve,
        };
        Chain::new(vec![
            Stage::Eq(eq),
            Stage::Compressor(Compressor::new(FS, CompressorParams::default()).unwrap()),
            Stage::from(Limiter::new(FS, LimiterParams::default()).unwrap()),
            Stage::Gain(Gain::new(-3.0).unwrap()),
            Stage::from(Limiter::new(FS, LimiterParams::default()).unwrap()),
            Stage::Fade(Fade::new(FS, fade, src.len() as u64).unwrap()),
        ])
    };
    let a = run_chain(&mut make(), &src, BLOCK_FRAMES);
    for block in [1, 7, 1000, 10_000] {
        let b = run_chain(&mut make(), &src, block);
        assert_eq!(b.len(), src.len());
        assert!(
            a.left == b.left && a.right == b.right,
            "block size {block} differs"
        );
    }
    // In place gives the same samples.
    let mut chain = make();
    let mut inplace = Block::default();
    for start in (0..src.len()).step_by(BLOCK_FRAMES) {
        let mut part = slice(&src, start..(start + BLOCK_FRAMES).min(src.len()));
        chain.process_in_place(&mut part);
        inplace.left.extend_from_slice(&part.left);
        inplace.right.extend_from_slice(&part.right);
    }
    let mut tail = chain.output_block();
    chain.finish(&mut tail);
    inplace.left.extend_from_slice(&tail.left);
    inplace.right.extend_from_slice(&tail.right);
    assert!(a.left == inplace.left && a.right == inplace.right);
    // The fade after two limiters still starts and ends on the track.
    assert_eq!(a.left[0], 0.0);
    assert_eq!(*a.left.last().unwrap(), 0.0);
    assert!(a.left[FS as usize..2 * FS as usize]
        .iter()
        .any(|v| v.abs() > 0.1));
    assert!(true_peak_db(&a, FS) <= -1.0);
}

// ---------------------------------------------------------------- resampler

#[test]
fn resampler_48k_to_44k1_sine_thd_plus_n_and_alignment() {
    let (fi, fo) = (48_000.0, 44_100.0);
    let n = 3 * 48_000 + 123;
    let phase = 0.7;
    let src = both(sine(n, fi, 1000.0, 0.5, phase));
    let mut rs = Resampler::new(48_000, 44_100).unwrap();
    let out = run_resampler(&mut rs, &src, &[4096, 1000, 333, 8192]);
    assert_eq!(out.len(), ((n as u64 * 44_100 + 24_000) / 48_000) as usize);
    let t0 = 8820;
    let body = &out.left[t0..out.len() - 8820];
    let (amp, ph, thdn) = fit_sine(body, fo, 1000.0, t0);
    // The fitted phase is the source's phase: no shift, in output samples.
    let shift = (ph - phase).rem_euclid(2.0 * PI);
    let shift = if shift > PI { shift - 2.0 * PI } else { shift };
    let shift_samples = shift / (2.0 * PI * 1000.0) * fo;
    println!(
        "resample 48k->44.1k, 1 kHz: THD+N {thdn:.1} dB, gain {:.5} dB, time shift {shift_samples:.2e} samples",
        20.0 * (amp / 0.5).log10()
    );
    assert!(thdn < -120.0, "THD+N {thdn} dB");
    assert!(shift_samples.abs() < 1e-3);
}

#[test]
fn resampler_48k_to_44k1_aliases_and_passband() {
    let (fi, fo) = (48_000.0, 44_100.0);
    // Stepped stop-band tones: whatever comes out is aliasing.
    let mut worst_alias = f64::NEG_INFINITY;
    for f in [22_100.0, 22_300.0, 22_600.0, 23_000.0, 23_500.0, 23_990.0] {
        let src = both(sine(48_000, fi, f, 0.5, 0.0));
        let out = run_resampler(&mut Resampler::new(48_000, 44_100).unwrap(), &src, &[4096]);
        let body = &out.left[4410..out.len() - 4410];
        let p_out = body.iter().map(|v| v * v).sum::<f64>() / body.len() as f64;
        let rel = db(p_out / 0.125);
        worst_alias = worst_alias.max(rel);
        assert!(rel < -100.0, "{f} Hz comes out at {rel:.1} dB");
    }
    // A linear sweep 20 Hz -> 24 kHz over 4 s, output gated to the stretch
    // where the input is above 22.4 kHz.
    let secs = 4.0;
    let n = (secs * fi) as usize;
    let rate = (24_000.0 - 20.0) / secs;
    let sweep: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / fi;
            0.5 * (2.0 * PI * (20.0 * t + 0.5 * rate * t * t)).sin()
        })
        .collect();
    let out = run_resampler(
        &mut Resampler::new(48_000, 44_100).unwrap(),
        &both(sweep),
        &[4096],
    );
    let g0 = ((22_400.0 - 20.0) / rate * fo) as usize;
    let gated = &out.left[g0..out.len() - 200];
    let p = gated.iter().map(|v| v * v).sum::<f64>() / gated.len() as f64;
    let sweep_alias = db(p / 0.125);
    println!(
        "resample 48k->44.1k aliases: stepped tones 22.1-24 kHz worst {worst_alias:.1} dB; sweep above 22.4 kHz {sweep_alias:.1} dB"
    );
    assert!(sweep_alias < -100.0);
    // Passband.
    let mut worst: f64 = 0.0;
    for f in [
        20.0, 100.0, 1000.0, 5000.0, 10_000.0, 15_000.0, 18_000.0, 19_000.0, 20_000.0,
    ] {
        let src = both(sine(48_000, fi, f, 0.5, 0.0));
        let out = run_resampler(&mut Resampler::new(48_000, 44_100).unwrap(), &src, &[4096]);
        let (amp, _, _) = fit_sine(&out.left[4410..out.len() - 4410], fo, f, 4410);
        let g = 20.0 * (amp / 0.5).log10();
        worst = worst.max(g.abs());
        assert!(g.abs() < 0.1, "{f} Hz: {g:.4} dB");
    }
    println!("resample 48k->44.1k passband 20 Hz-20 kHz: worst deviation {worst:.4} dB");
}

#[test]
fn resampler_lengths_and_alignment_for_common_pairs() {
    for (fi, fo) in [
        (44_100u32, 48_000u32),
        (48_000, 96_000),
        (96_000, 44_100),
        (88_200, 44_100),
        (44_100, 44_100),
    ] {
        for n in [1usize, 999, 48_000 + 17] {
            let src = both(sine(n, fi as f64, 441.0, 0.5, 0.2));
            let out = run_resampler(&mut Resampler::new(fi, fo).unwrap(), &src, &[4096, 517]);
            let want = ((n as u64 * fo as u64 + fi as u64 / 2) / fi as u64) as usize;
            assert_eq!(out.len(), want, "{fi}->{fo}, {n} frames");
            if n > 40_000 {
                let t0 = fo as usize / 10;
                let body = &out.left[t0..out.len() - t0];
                let (amp, ph, thdn) = fit_sine(body, fo as f64, 441.0, t0);
                println!(
                    "resample {fi}->{fo}, 441 Hz: THD+N {thdn:.1} dB, gain {:.6} dB, phase error {:.1e} rad",
                    20.0 * (amp / 0.5).log10(),
                    ph - 0.2
                );
                assert!((ph - 0.2).abs() < 1e-4, "{fi}->{fo}: phase {ph}");
                assert!(
                    (amp - 0.5).abs() < 1e-4 && thdn < -120.0,
                    "{fi}->{fo}: {amp} {thdn}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- dither

fn dither_error(kind: DitherKind, x: &[f64], seed: u64) -> Vec<f64> {
    let mut d = Dither::new(kind, 16, seed).unwrap();
    let b = both(x.to_vec());
    let mut out = vec![0; 2 * x.len()];
    d.process_interleaved(&b, &mut out);
    out.iter()
        .step_by(2)
        .zip(x)
        .map(|(&q, &v)| q as f64 / 32_768.0 - v)
        .collect()
}

#[test]
fn shaped_dither_moves_noise_out_of_1_to_5_khz() {
    let fs = 44_100.0;
    let x = sine(1 << 17, fs, 440.0, 10f64.powf(-80.0 / 20.0), 0.0);
    let lsb2 = (1.0 / 32_768.0f64).powi(2);
    let mut band = [0.0; 2];
    for (i, kind) in [DitherKind::Tpdf, DitherKind::Shaped]
        .into_iter()
        .enumerate()
    {
        let e = dither_error(kind, &x, 5);
        let p = band_power(&e, fs, 8192, 1000.0, 5000.0);
        let total = e.iter().map(|v| v * v).sum::<f64>() / e.len() as f64;
        band[i] = p;
        println!(
            "dither {kind:?}: 1-5 kHz noise density as white-noise power {:.1} dB re LSB² ({:.1} dBFS); total error power {:.1} dB re LSB² ({:.1} dBFS)",
            db(p / lsb2),
            db(p),
            db(total / lsb2),
            db(total)
        );
    }
    println!(
        "dither: shaped puts {:.1} dB less noise in 1-5 kHz than TPDF",
        db(band[0] / band[1])
    );
    assert!(
        band[1] < band[0] / 2.0,
        "shaped {} vs tpdf {}",
        band[1],
        band[0]
    );
}

#[test]
fn low_level_sine_dithered_to_16_bit_shows_no_harmonics() {
    let fs = 44_100.0;
    let seg = 16_384;
    let f = 372.0 * fs / seg as f64; // 1001.3 Hz, on a bin
    let n = 8 * seg;
    let x = sine(n, fs, f, 10f64.powf(-70.0 / 20.0), 0.0);
    let harmonic_excess = |kind: DitherKind| -> f64 {
        let mut d = Dither::new(kind, 16, 9).unwrap();
        let mut out = vec![0; 2 * n];
        d.process_interleaved(&both(x.clone()), &mut out);
        let y: Vec<f64> = out
            .iter()
            .step_by(2)
            .map(|&q| q as f64 / 32_768.0)
            .collect();
        let mut worst = f64::NEG_INFINITY;
        for h in 2..=10 {
            let k = 372 * h;
            let pw = |k: usize| {
                y.chunks_exact(seg)
                    .map(|s| bin_power(s, k as f64))
                    .sum::<f64>()
            };
            let mut floor: Vec<f64> = (k - 40..k - 4).chain(k + 5..k + 41).map(pw).collect();
            floor.sort_by(f64::total_cmp);
            let excess = db(pw(k) / floor[floor.len() / 2]);
            worst = worst.max(excess);
        }
        worst
    };
    let none = harmonic_excess(DitherKind::None);
    let tpdf = harmonic_excess(DitherKind::Tpdf);
    let shaped = harmonic_excess(DitherKind::Shaped);
    println!(
        "-70 dBFS 1 kHz to 16 bit, strongest harmonic 2-10 over the local floor: none {none:.1} dB, tpdf {tpdf:.1} dB, shaped {shaped:.1} dB"
    );
    assert!(none > 20.0, "undithered rounding should show harmonics");
    assert!(tpdf < 6.0 && shaped < 6.0);
}

#[test]
fn dither_is_reproducible() {
    let x = sine(50_000, 44_100.0, 997.0, 0.3, 0.0);
    for kind in [DitherKind::Tpdf, DitherKind::Shaped] {
        let a = dither_error(kind, &x, 42);
        let b = dither_error(kind, &x, 42);
        let c = dither_error(kind, &x, 43);
        assert_eq!(a, b, "{kind:?} with one seed differs between runs");
        assert_ne!(a, c, "{kind:?} ignores the seed");
    }
}

#[test]
fn limiter_holds_the_ceiling_at_extreme_settings() {
    const FS: u32 = 48_000;
    let src = music_like(20.0, FS as f64, 21);
    for (lookahead_ms, release_ms) in [(0.1, 1.0), (0.5, 5.0), (1.0, 10.0), (20.0, 500.0)] {
        let p = LimiterParams {
            ceiling_dbtp: -1.0,
            release_ms,
            lookahead_ms,
        };
        let mut chain = Chain::new(vec![Stage::from(Limiter::new(FS, p).unwrap())]);
        let out = run_chain(&mut chain, &src, BLOCK_FRAMES);
        let tp = true_peak_db(&out, FS);
        println!(
            "limiter lookahead {lookahead_ms} ms, release {release_ms} ms: output {tp:.4} dBTP"
        );
        assert!(tp <= -1.0, "lookahead {lookahead_ms} ms: {tp} dBTP");
    }
}
