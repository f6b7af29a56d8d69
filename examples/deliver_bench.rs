//! Encodes audio files into one streaming bundle with the deliver library,
//! as the `build` command will: `cargo run --release --example
//! deliver_bench -- [-j N] PROFILE OUT_DIR FILE...`. Each file is decoded
//! into float blocks (standing in for the mastering engine's output) and
//! fed to a [`TrackEncoder`]; files run `N` at a time (default: one per
//! core). Prints one line per file: name, frames, re-encodes, decoded true
//! peak, gain of the kept encode.

use std::path::PathBuf;

use glassmaster::audio::{Block, Decoder, BLOCK_FRAMES};
use glassmaster::deliver::naming::{file_name, NameFields};
use glassmaster::deliver::{resolve_spec, TrackEncoder};
use glassmaster::manifest::model::BundleSpec;
use rayon::prelude::*;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.first().map(String::as_str) == Some("-j") && args.len() > 1 {
        jobs = args[1].parse().unwrap_or(jobs);
        args.drain(..2);
    }
    if args.len() < 3 {
        eprintln!("usage: deliver_bench [-j N] PROFILE OUT_DIR FILE...");
        std::process::exit(2);
    }
    let profile = args[0].clone();
    let out = PathBuf::from(&args[1]);
    let files: Vec<PathBuf> = args[2..].iter().map(PathBuf::from).collect();
    std::fs::create_dir_all(&out).expect("output folder");
    let bundle = resolve_spec(&BundleSpec {
        profile: profile.clone(),
        name: profile.clone(),
        format: None,
        sample_rate: None,
        bit_depth: None,
        naming: None,
        bitrate_kbps: None,
        dither: None,
        true_peak_dbtp: None,
    })
    .unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("thread pool");
    let lines: Vec<Result<String, String>> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                let mut dec = Decoder::open(f).map_err(|e| e.to_string())?;
                let rate = dec.info().sample_rate;
                let fields = NameFields {
                    disc: 1,
                    track: i as u32 + 1,
                    artist: "Bench".into(),
                    title: f.file_stem().unwrap_or_default().to_string_lossy().into(),
                    ..Default::default()
                };
                let name = file_name(&bundle.naming, &fields, bundle.charset, bundle.extension());
                let mut enc = TrackEncoder::create(&bundle, rate, &out.join(name), i as u64 + 1)
                    .map_err(|e| e.to_string())?;
                let mut b = Block::with_capacity(BLOCK_FRAMES);
                while dec.read_block(&mut b).map_err(|e| e.to_string())? > 0 {
                    enc.write_block(&b).map_err(|e| e.to_string())?;
                }
                let e = enc.finish().map_err(|e| e.to_string())?;
                Ok(format!(
                    "{}  {} frames at {} Hz  re-encodes {}  decoded true peak {}  gain {:.2} dB",
                    e.path.file_name().unwrap_or_default().to_string_lossy(),
                    e.frames,
                    e.sample_rate,
                    e.reencodes,
                    e.decoded_true_peak_dbtp
                        .map_or("-".into(), |p| format!("{p:.2} dBTP")),
                    e.gain_db
                ))
            })
            .collect()
    });
    let mut failed = false;
    for l in lines {
        match l {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
