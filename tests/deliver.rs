//! Streaming deliverables: profiles, naming, the per-track encoders (checked
//! with `flac`, `metaflac`, `ffprobe`, `ffmpeg` and `exiftool` where they are
//! installed), tags, artwork rules, metadata sheets, store lint and the
//! normalisation preview. Every signal and image is made here in code.

mod aac;
mod aac_build;
mod artwork;
mod encode;
mod length;
mod lossy;
mod meta;

use std::path::Path;
use std::process::Command;

use glassmaster::audio::{Block, BLOCK_FRAMES};
use glassmaster::deliver::tags::{ReplayGain, TrackTags};
use glassmaster::deliver::{Encoded, ResolvedBundle, TrackEncoder};
use glassmaster::dsp::dither::Rng;

/// A stereo test programme at `rate`: a chord with some noise, about
/// -14 dBFS RMS, `secs` long; the same seed gives the same samples.
pub fn programme(rate: u32, secs: f64, seed: u64) -> Block {
    let n = (secs * f64::from(rate)) as usize;
    let mut rng = Rng::new(seed);
    let mut b = Block::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let tone = [220.0, 277.2, 329.6, 1760.0]
            .iter()
            .map(|f| (std::f64::consts::TAU * f * t).sin())
            .sum::<f64>()
            * 0.08;
        let env = (t * 4.0).min(1.0);
        b.left.push((tone + 0.02 * (rng.uniform() - 0.5)) * env);
        b.right
            .push((tone * 0.9 + 0.02 * (rng.uniform() - 0.5)) * env);
    }
    b
}

/// Feeds `b` through a new encoder for `bundle` in BLOCK_FRAMES pieces.
pub fn encode(bundle: &ResolvedBundle, rate: u32, b: &Block, path: &Path, seed: u64) -> Encoded {
    let mut enc = TrackEncoder::create(bundle, rate, path, seed).expect("encoder");
    for start in (0..b.len()).step_by(BLOCK_FRAMES) {
        let end = (start + BLOCK_FRAMES).min(b.len());
        let part = Block {
            left: b.left[start..end].to_vec(),
            right: b.right[start..end].to_vec(),
        };
        enc.write_block(&part).expect("write block");
    }
    enc.finish().expect("finish")
}

/// Tags with every field set.
pub fn full_tags() -> TrackTags {
    TrackTags {
        title: "Night Drive".into(),
        version: Some("Radio Edit".into()),
        artist: "The Example Band".into(),
        featuring: vec!["Guest Singer".into()],
        album: "Night Drive".into(),
        album_artist: "The Example Band".into(),
        track_number: 2,
        track_total: 3,
        disc_number: 1,
        disc_total: 1,
        date: Some("2026-12-04".into()),
        genre: Some("Electronic".into()),
        isrc: Some("GBABC2600002".into()),
        barcode: Some("5012345678900".into()),
        label: Some("Example Records".into()),
        catalog_number: Some("EXR-042".into()),
        composer: Some("A. Writer".into()),
        lyricist: Some("B. Poet".into()),
        copyright: Some("2026 Example Records".into()),
        phonographic_copyright: Some("2026 Example Records".into()),
        explicit: true,
        lyrics: Some("Headlights on the water".into()),
        language: Some("en".into()),
        replay_gain: Some(ReplayGain::from_loudness(-14.0, -1.2, -14.5, -1.0)),
    }
}

/// Runs a tool; `None` (with a SKIP line) when it is not installed.
pub fn tool(name: &str, args: &[&str], test: &str) -> Option<std::process::Output> {
    match Command::new(name).args(args).output() {
        Ok(o) => Some(o),
        Err(_) => {
            eprintln!("SKIP {test}: `{name}` is not installed");
            None
        }
    }
}
