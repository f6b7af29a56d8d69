//! The command line: clap arguments, one file per command, terminal
//! rendering and progress. This is the only part of glassmaster that
//! prints; the library returns typed results and errors.
//!
//! Exit status: 0 success; 1 the input or the result is wrong (manifest
//! errors, unreadable audio, a failed `--strict` check, a failed `verify`); 2 the command
//! line itself is wrong.

mod build;
mod check;
#[cfg(feature = "libcue")]
mod cue_import;
mod ddp;
mod init;
mod profiles;
mod progress;
mod verify;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Album mastering, CD authoring (DDP 2.00, CUE, TOC) and streaming
/// deliverables from one YAML release manifest.
#[derive(Debug, Parser)]
#[command(name = "glassmaster", version, about, long_about = None)]
pub struct Cli {
    /// No progress bars or chatter on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything the manifest asks for: masters, CD, streaming bundles, report.
    Build {
        /// The release manifest (album.yaml).
        manifest: PathBuf,
        /// The output folder (default: build/ beside the manifest).
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
        /// Only these parts (report.json is always written): cd, streaming, masters, report.
        #[arg(long, value_parser = build::parse_only)]
        only: Option<crate::build::Parts>,
        /// Tracks processed at once (default: one per core).
        #[arg(short = 'j', long = "jobs")]
        jobs: Option<usize>,
        /// Replace an output folder that glassmaster wrote (never anything else).
        #[arg(long)]
        force: bool,
    },
    /// Validate a manifest, measure every source and run the consistency checks; writes nothing.
    Check {
        /// The release manifest (album.yaml).
        manifest: PathBuf,
        /// Warnings and failed consistency checks are errors (exit 1).
        #[arg(long)]
        strict: bool,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
        /// Files measured at once (default: one per core).
        #[arg(short = 'j', long = "jobs")]
        jobs: Option<usize>,
    },
    /// Loudness and peak figures of audio files.
    Analyze {
        /// Audio files (WAV, AIFF, FLAC, ALAC, Ogg Vorbis, MP3).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
        /// Files measured at once (default: one per core).
        #[arg(short = 'j', long = "jobs")]
        jobs: Option<usize>,
    },
    /// Re-read a build folder: checksums, the DDP against the CUE image, formats, tags, loudness and peaks against report.json.
    Verify {
        /// The build folder (with report.json).
        dir: PathBuf,
        /// The manifest to compare with (default: the one report.json names, beside DIR).
        #[arg(long, value_name = "FILE")]
        manifest: Option<PathBuf>,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
        /// Files measured at once (default: one per core).
        #[arg(short = 'j', long = "jobs")]
        jobs: Option<usize>,
    },
    /// Write an album.yaml for the audio files in DIR.
    Init {
        /// The folder with the mixes (default: the current folder).
        dir: Option<PathBuf>,
        /// Build the manifest from an existing CUE sheet and its audio (needs the `libcue` feature).
        #[arg(long = "from-cue", value_name = "FILE")]
        from_cue: Option<PathBuf>,
        /// Replace an album.yaml that init wrote (its first line says so).
        #[arg(long)]
        force: bool,
    },
    /// Read any DDP 2.00 audio fileset: info, verify, extract to WAV + CUE.
    Ddp {
        #[command(subcommand)]
        command: ddp::DdpCommand,
    },
    /// List the built-in streaming profiles, or show one.
    Profiles {
        /// A profile to show in full.
        name: Option<String>,
        /// JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// What a command reports back to `main`.
pub enum Outcome {
    Success,
    /// The input or the result is wrong; the message was already printed.
    Failed,
}

/// Parses the command line, runs the command, maps the result to an exit
/// status and prints an error chain (`error: ...: ...`) when there is one.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let ctx = Context {
        quiet: cli.quiet,
        progress: !cli.quiet && std::io::stderr().is_terminal(),
    };
    let result = match cli.command {
        Command::Build {
            manifest,
            out,
            only,
            jobs,
            force,
        } => build::run(&ctx, &manifest, out, only, jobs, force),
        Command::Check {
            manifest,
            strict,
            json,
            jobs,
        } => check::run(&ctx, &manifest, strict, json, jobs),
        Command::Analyze { files, json, jobs } => check::analyze(&ctx, &files, json, jobs),
        Command::Verify {
            dir,
            manifest,
            json,
            jobs,
        } => verify::run(&ctx, &dir, manifest.as_deref(), json, jobs),
        Command::Init {
            dir,
            from_cue,
            force,
        } => init::run(&ctx, dir, from_cue, force),
        Command::Ddp { command } => ddp::run(&ctx, command),
        Command::Profiles { name, json } => profiles::run(name.as_deref(), json),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::from(1)
        }
    }
}

/// Settings every command shares.
pub struct Context {
    pub quiet: bool,
    /// Draw progress bars (stderr is a terminal and not `--quiet`).
    pub progress: bool,
}

/// Threads for parallel work: `-j N`, or one per core.
pub(crate) fn jobs(j: Option<usize>) -> usize {
    j.filter(|n| *n > 0).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}
