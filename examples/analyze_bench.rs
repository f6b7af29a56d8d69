//! Analyses the files given on the command line with
//! `glassmaster::analysis::analyze_files` and prints the JSON that
//! `glassmaster analyze --json` prints, then the wall time on stderr.
//! Used by bench/analyze.sh while the CLI command is being written.
//!
//! Usage: analyze_bench [-j N] FILE...

use std::path::PathBuf;
use std::time::Instant;

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.len() >= 2 && args[0] == "-j" {
        jobs = args[1].parse().unwrap_or(jobs);
        args.drain(..2);
    }
    let paths: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: analyze_bench [-j N] FILE...");
        return std::process::ExitCode::from(2);
    }
    let start = Instant::now();
    let batch = glassmaster::analysis::analyze_files(&paths, jobs, |_| {});
    let secs = start.elapsed().as_secs_f64();
    let mut failed = false;
    let files: Vec<serde_json::Value> = batch
        .files
        .iter()
        .map(|r| match r {
            Ok(f) => serde_json::to_value(f).unwrap_or_default(),
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
                serde_json::Value::Null
            }
        })
        .collect();
    let out = serde_json::json!({ "files": files, "album": batch.album });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    eprintln!(
        "analysed {} files in {secs:.3} s with {jobs} jobs",
        paths.len()
    );
    if failed {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
