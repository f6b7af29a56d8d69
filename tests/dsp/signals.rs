//! Deterministic test signals for the DSP tests and the DSP benchmark
//! (examples/dsp_bench.rs includes this file by path).

#![allow(dead_code)] // each user takes a different subset

use std::f64::consts::PI;

use glassmaster::audio::Block;
use glassmaster::dsp::dither::Rng;

/// `n` samples of `amp * sin(2 pi f t + phase)` at `fs`.
pub fn sine(n: usize, fs: f64, f: f64, amp: f64, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| amp * (2.0 * PI * f * i as f64 / fs + phase).sin())
        .collect()
}

/// The same samples on both channels.
pub fn both(x: Vec<f64>) -> Block {
    Block {
        left: x.clone(),
        right: x,
    }
}

/// Music-like stereo material: 2-second sections cycling through chords,
/// noise bursts, drums, clicks and edges, high tones at awkward phases and
/// a full mix, each at its own level from about -12 to +9 dB relative to
/// full scale, so that some sections stay under a -1 dBTP ceiling and most
/// go well over it.
pub fn music_like(seconds: f64, fs: f64, seed: u64) -> Block {
    let n = (seconds * fs) as usize;
    let mut rng = Rng::new(seed);
    let mut left = vec![0.0; n];
    let mut right = vec![0.0; n];
    let section = (2.0 * fs) as usize;
    let levels_db = [-12.0, 3.0, 6.0, -4.0, 9.0, 0.5, 7.0, -1.5, 4.0, 8.0];
    let mut hp_prev = 0.0;
    for (s_idx, start) in (0..n).step_by(section).enumerate() {
        let end = (start + section).min(n);
        let level = 10f64.powf(levels_db[s_idx % levels_db.len()] / 20.0);
        let kind = s_idx % 6;
        let phase_l = rng.uniform() * 2.0 * PI;
        let phase_r = rng.uniform() * 2.0 * PI;
        let mut burst_left = 0usize;
        let mut burst_amp = 0.0;
        let mut burst_decay = 1.0;
        for i in start..end {
            let t = (i - start) as f64 / fs;
            let (mut l, mut r);
            match kind {
                0 => {
                    // A minor chord with harmonics, slightly detuned in R.
                    l = 0.0;
                    r = 0.0;
                    for (k, f) in [220.0, 261.63, 329.63, 440.0].iter().enumerate() {
                        for h in 1..=5 {
                            let a = 0.09 / h as f64;
                            let ph = k as f64 + h as f64;
                            l += a * (2.0 * PI * f * h as f64 * t + ph).sin();
                            r += a * (2.0 * PI * f * 1.002 * h as f64 * t + ph).sin();
                        }
                    }
                    let env = (t * 20.0).min(1.0);
                    l *= env;
                    r *= env;
                }
                1 => {
                    // White-noise bursts with exponential decays.
                    if burst_left == 0 {
                        burst_left = (fs * (0.05 + 0.25 * (rng.uniform() + 0.5))) as usize;
                        burst_amp = 0.3 + 0.6 * (rng.uniform() + 0.5);
                        burst_decay = (-1.0 / (0.03 * fs)).exp();
                    }
                    burst_left -= 1;
                    burst_amp *= burst_decay;
                    l = burst_amp * 2.0 * rng.uniform();
                    r = burst_amp * 2.0 * rng.uniform();
                }
                2 | 5 => {
                    // Kick every 0.5 s, snare on the off-beat, hi-hat 8ths.
                    let tb = t % 0.5;
                    let kick = 0.8
                        * (-tb * 25.0).exp()
                        * (2.0 * PI * (50.0 * tb + 140.0 * tb.min(0.05))).sin();
                    let ts = (t + 0.25) % 0.5;
                    let noise = 2.0 * rng.uniform();
                    let snare =
                        (-ts * 30.0).exp() * (0.4 * noise + 0.3 * (2.0 * PI * 200.0 * ts).sin());
                    let th = t % 0.125;
                    let hp = noise - hp_prev;
                    hp_prev = noise;
                    let hat = 0.25 * (-th * 120.0).exp() * hp;
                    l = kick + snare + hat;
                    r = kick + 0.8 * snare + 1.2 * hat;
                    if kind == 5 {
                        for (k, f) in [110.0, 164.8, 220.0, 277.2].iter().enumerate() {
                            l += 0.08 * (2.0 * PI * f * t + k as f64).sin();
                            r += 0.08 * (2.0 * PI * f * 1.003 * t + k as f64).sin();
                        }
                    }
                }
                3 => {
                    // Clicks (single samples), steps and a 7 kHz square-ish edge train.
                    let j = i - start;
                    l = if j % 4801 == 0 { 0.9 } else { 0.0 };
                    r = if j % 3203 == 0 { -0.9 } else { 0.0 };
                    let sq = (2.0 * PI * 7000.0 * t).sin();
                    let sq = sq + (2.0 * PI * 21000.0 * t).sin() / 3.0;
                    if (j / 4800) % 2 == 1 {
                        l += 0.4 * sq;
                        r -= 0.4 * sq;
                    }
                }
                _ => {
                    // High tones at random phases, and fs/4 at 45 degrees.
                    l = 0.5 * (2.0 * PI * 12_000.0 * t + phase_l).sin()
                        + 0.3 * (2.0 * PI * 17_500.0 * t + phase_r).sin();
                    r = 0.7 * (2.0 * PI * (fs / 4.0) * t + PI / 4.0).sin()
                        + 0.2 * (2.0 * PI * 19_000.0 * t).sin();
                }
            }
            left[i] = l * level;
            right[i] = r * level;
        }
    }
    Block { left, right }
}
