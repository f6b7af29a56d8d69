//! Speed of the repair stages (issue 15) on real audio, one core: each
//! file given is decoded into memory first (not timed), then run through
//! `dehum` (50 Hz and 5 harmonics, Q 20), the denoise learning pass
//! (quietest profile), `denoise` (18 dB), and, on the track hard-clipped
//! 3 and 6 dB below its own peak (in memory, not timed), the declip
//! learning pass (`auto`) and `declip`, each timed alone, in
//! decoder-sized blocks through a [`Chain`] as the render runs them.
//! Prints, per stage, seconds of audio per second of one core ("x real
//! time") over all files. `bench/repair.sh` runs it in a release build.

use std::path::Path;
use std::time::Instant;

use glassmaster::audio::{Block, Decoder, BLOCK_FRAMES};
use glassmaster::dsp::{
    Chain, ClipLearner, Declip, DeclipParams, Dehum, DehumParams, Denoise, DenoiseParams,
    NoiseLearner, ProfileSource, Stage,
};

fn decode(path: &Path) -> (u32, Block) {
    let mut dec = Decoder::open(path).unwrap_or_else(|e| panic!("{e}"));
    let rate = dec.info().sample_rate;
    let mut all = Block::with_capacity(0);
    let mut b = Block::with_capacity(BLOCK_FRAMES);
    while dec.read_block(&mut b).unwrap_or_else(|e| panic!("{e}")) > 0 {
        all.left.extend_from_slice(&b.left);
        all.right.extend_from_slice(&b.right);
    }
    (rate, all)
}

/// Runs `stage` over `src` in decoder-sized blocks; returns the seconds taken.
fn run(stage: Stage, src: &Block) -> f64 {
    let mut chain = Chain::new(vec![stage]);
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
    t0.elapsed().as_secs_f64()
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    assert!(!files.is_empty(), "usage: repair_bench FILE.wav...");
    let (mut audio, mut t_dehum, mut t_learn, mut t_denoise) = (0.0, 0.0, 0.0, 0.0);
    let (mut t_clip_learn, mut t_declip) = ([0.0; 2], [0.0; 2]);
    for f in &files {
        let (rate, src) = decode(Path::new(f));
        audio += src.len() as f64 / f64::from(rate);
        let p = DehumParams {
            freq_hz: 50.0,
            harmonics: 5,
            q: 20.0,
        };
        t_dehum += run(Stage::Dehum(Dehum::new(rate, p).unwrap()), &src);
        let t0 = Instant::now();
        let mut learner = NoiseLearner::new(rate, ProfileSource::Quietest).unwrap();
        let mut inb = Block::with_capacity(BLOCK_FRAMES);
        for start in (0..src.len()).step_by(BLOCK_FRAMES) {
            let end = (start + BLOCK_FRAMES).min(src.len());
            inb.clear();
            inb.left.extend_from_slice(&src.left[start..end]);
            inb.right.extend_from_slice(&src.right[start..end]);
            learner.add(&inb);
        }
        let profile = learner.finish().unwrap();
        t_learn += t0.elapsed().as_secs_f64();
        let p = DenoiseParams {
            reduction_db: 18.0,
            smoothing: 0.9,
        };
        let d = Denoise::new(rate, p, Some(&profile)).unwrap();
        t_denoise += run(Stage::Denoise(Box::new(d)), &src);
        let peak = src
            .left
            .iter()
            .chain(&src.right)
            .fold(0.0f64, |m, v| m.max(v.abs()));
        for (k, db) in [3.0, 6.0].into_iter().enumerate() {
            let level = peak * 10f64.powf(-db / 20.0);
            let clipped = Block {
                left: src.left.iter().map(|v| v.clamp(-level, level)).collect(),
                right: src.right.iter().map(|v| v.clamp(-level, level)).collect(),
            };
            let t0 = Instant::now();
            let mut learner = ClipLearner::new(None, true);
            for start in (0..clipped.len()).step_by(BLOCK_FRAMES) {
                let end = (start + BLOCK_FRAMES).min(clipped.len());
                inb.clear();
                inb.left.extend_from_slice(&clipped.left[start..end]);
                inb.right.extend_from_slice(&clipped.right[start..end]);
                learner.add(&inb);
            }
            let levels = learner.finish();
            t_clip_learn[k] += t0.elapsed().as_secs_f64();
            let d = Declip::new(rate, DeclipParams::default(), &levels).unwrap();
            t_declip[k] += run(Stage::Declip(Box::new(d)), &clipped);
        }
    }
    println!("audio: {} files, {audio:.1} s", files.len());
    for (name, t) in [
        ("dehum (50 Hz + 5 harmonics)", t_dehum),
        ("denoise: learning pass", t_learn),
        ("denoise", t_denoise),
        ("denoise: learning + render", t_learn + t_denoise),
        ("declip 3 dB: learning pass", t_clip_learn[0]),
        ("declip 3 dB", t_declip[0]),
        ("declip 6 dB: learning pass", t_clip_learn[1]),
        ("declip 6 dB", t_declip[1]),
    ] {
        println!(
            "{name:30} {t:8.2} s  {:8.1}x real time (one core)",
            audio / t
        );
    }
}
