//! `glassmaster check` and `glassmaster analyze`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{Context, Outcome};
use crate::manifest::{self, Diagnostic, Loaded};

/// Prints a manifest's diagnostics to stderr, each with its line and caret.
pub fn print_diagnostics(loaded: &Loaded) {
    for d in &loaded.diagnostics {
        eprint!("{}", d.render(loaded.source.as_deref()));
    }
}

/// Loads a manifest with the audio stage's probe.
pub fn load(path: &Path) -> Loaded {
    manifest::load(path, &crate::audio::decode::probe)
}

pub fn run(
    ctx: &Context,
    path: &Path,
    strict: bool,
    json: bool,
    jobs: Option<usize>,
) -> Result<Outcome> {
    let _ = (ctx, jobs);
    let loaded = load(path);
    let failed =
        loaded.has_errors() || (strict && loaded.diagnostics.iter().any(|d| !d.is_error()));
    if json {
        let diags: Vec<_> = loaded.diagnostics.iter().map(Diagnostic::to_json).collect();
        let doc = serde_json::json!({
            "ok": !failed,
            "diagnostics": diags,
            "tracks": [],
            "checks": [],
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_diagnostics(&loaded);
    }
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

pub fn analyze(
    ctx: &Context,
    files: &[PathBuf],
    json: bool,
    jobs: Option<usize>,
) -> Result<Outcome> {
    let _ = (ctx, files, json, jobs);
    anyhow::bail!("analyze is being written")
}
