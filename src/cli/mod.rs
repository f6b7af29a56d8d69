//! The command line: clap arguments, one file per command, terminal
//! rendering and progress. This is the only part of glassmaster that
//! prints; the library returns typed results and errors.
//!
//! Exit status: 0 success; 1 the input or the result is wrong (manifest
//! errors, unreadable audio, a failed `--strict` check, a failed `verify`); 2 the command
//! line itself is wrong.

mod build;
mod check;
mod check_match;
mod check_preview;
#[cfg(feature = "libcue")]
mod cue_import;
mod ddp;
mod generate;
mod init;
mod profiles;
mod progress;
mod restoration;
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
        /// Only these parts (report.json is always written): cd, streaming, masters, vinyl, cassette, report.
        #[arg(long, value_parser = build::parse_only)]
        only: Option<crate::build::Parts>,
        /// Tracks processed at once (default: one per core).
        #[arg(short = 'j', long = "jobs")]
        jobs: Option<usize>,
        /// Replace an output folder that glassmaster wrote (never anything else).
        #[arg(long)]
        force: bool,
        /// Print the plan (files to write, matching gains, the disc layout) and write nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
        /// One JSON document on stdout (the outputs, or with --dry-run the plan).
        #[arg(long)]
        json: bool,
        /// Print where the time went (wall and CPU per phase and stage, per track, idle per thread) and put it into report.json.
        #[arg(long)]
        timings: bool,
        /// Skip the codec preview (the masters encoded, decoded and measured as each store streams them).
        #[arg(long = "no-preview")]
        no_preview: bool,
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
        /// Skip the codec preview (the sources encoded, decoded and measured as each store streams them).
        #[arg(long = "no-preview")]
        no_preview: bool,
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
    /// Print the shell completion script (`glassmaster completions bash > /etc/bash_completion.d/glassmaster`).
    Completions {
        /// The shell: bash, elvish, fish, powershell, zsh.
        shell: clap_complete::Shell,
    },
    /// Print the man page, roff (`glassmaster man > glassmaster.1`; `man build` for one command's).
    Man {
        /// A command whose own page to print (build, check, ...).
        command: Option<String>,
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
    default_sigpipe();
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
            dry_run,
            json,
            timings,
            no_preview,
        } => build::run(
            &ctx,
            &manifest,
            build::Flags {
                out,
                only,
                jobs,
                force,
                dry_run,
                json,
                timings,
                preview: !no_preview,
            },
        ),
        Command::Check {
            manifest,
            strict,
            json,
            jobs,
            no_preview,
        } => check::run(&ctx, &manifest, strict, json, jobs, !no_preview),
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
        Command::Completions { shell } => generate::completions(shell),
        Command::Man { command } => generate::man(command.as_deref()),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            // A typed error that shows its source (`{path}: {source}`) is
            // followed by that source in the chain: print it once.
            let mut chain: Vec<String> = Vec::new();
            for s in e.chain().map(ToString::to_string) {
                if !chain.last().is_some_and(|l| l.ends_with(&s)) {
                    chain.push(s);
                }
            }
            // Messages carry file names and values: escape what would
            // drive the terminal.
            eprintln!(
                "error: {}",
                crate::manifest::diagnostic::safe(&chain.join(": "))
            );
            ExitCode::from(1)
        }
    }
}

/// A reader that closes early (`glassmaster ddp info --json DIR | head`)
/// ends the process as it ends sox or cat: by SIGPIPE's default action
/// (status 141 in a shell), quietly. Rust starts programs with SIGPIPE
/// ignored, so that every `println!` after the reader left would panic
/// ("failed printing to stdout: Broken pipe", status 101); restoring the
/// default here covers every command and every print at once, stdout and
/// stderr alike. An interrupted build leaves only its staging folder,
/// which the next run removes (build/output.rs).
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: signal(2) with SIG_DFL has no precondition; it runs first
    // in main, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Settings every command shares.
pub struct Context {
    pub quiet: bool,
    /// Draw progress bars (stderr is a terminal and not `--quiet`).
    pub progress: bool,
}

/// Threads for parallel work on `items` files or tracks (`None` when the
/// count is not known here): `-j N`, or one per core, and never more than
/// the cores or the items, since a thread more than either only waits. A
/// `-j` reduced so is said on stderr (unless `--quiet`).
pub(crate) fn jobs(ctx: &Context, j: Option<usize>, items: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (n, why) = jobs_cap(j, cores, items);
    if let (Some(asked), Some(why)) = (j, why) {
        if !ctx.quiet {
            eprintln!("note: -j {asked} reduced to {n} ({why})");
        }
    }
    n
}

/// The thread count for `-j asked` on `cores` cores and `items` items,
/// and, when it is less than asked, why.
fn jobs_cap(asked: Option<usize>, cores: usize, items: Option<usize>) -> (usize, Option<String>) {
    let cores = cores.max(1);
    let items = items.map(|i| i.max(1));
    let cap = items.map_or(cores, |i| i.min(cores));
    let n = asked.filter(|n| *n > 0).unwrap_or(cores).min(cap);
    let why = asked.filter(|a| *a > n).map(|_| match items {
        Some(i) if i < cores => format!("{i} to process"),
        _ => format!("{cores} cores"),
    });
    (n, why)
}

#[cfg(test)]
mod tests {
    use super::jobs_cap;

    #[test]
    fn jobs_are_capped_by_cores_and_items() {
        assert_eq!(jobs_cap(Some(100_000), 2, Some(11)).0, 2);
        assert_eq!(
            jobs_cap(Some(100_000), 2, Some(11)).1.as_deref(),
            Some("2 cores")
        );
        assert_eq!(
            jobs_cap(Some(8), 16, Some(3)),
            (3, Some("3 to process".into()))
        );
        assert_eq!(jobs_cap(None, 16, Some(3)), (3, None));
        assert_eq!(jobs_cap(None, 4, None), (4, None));
        assert_eq!(jobs_cap(Some(1), 4, Some(10)), (1, None));
        assert_eq!(jobs_cap(Some(0), 4, Some(10)), (4, None));
        assert_eq!(
            jobs_cap(Some(5), 4, Some(0)),
            (1, Some("1 to process".into()))
        );
    }
}
