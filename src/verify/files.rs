//! The build folder against report.json's `outputs`: every listed file is
//! there with the same MD5, and no file is there that the list leaves out
//! (report.json and report.html aside, which the list cannot hold). A
//! listed name that leads out of the folder is named and not read
//! ([`Scope`]).
//!
//! And the sources against the MD5s the build recorded of them
//! (`tracks[].source.md5`): a mix changed since the build is a problem
//! naming it. A source that cannot be reached — the build folder moved or
//! archived without its mixes, the usual case for a delivered folder, or a
//! source outside the manifest's folder, which `verify` does not read — is
//! a warning: nothing says it changed, and the outputs were still checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::scope::Scope;
use super::{problem, Problem, Verification};
use crate::deliver::sheet::md5_hex;
use crate::report::model::Report;

/// Files `build` writes that `outputs` does not list.
const UNLISTED: [&str; 3] = ["report.json", "report.html", crate::build::output::MARKER];

pub(super) fn check(scope: &Scope, report: &Report, v: &mut Verification) {
    let found: Vec<Option<Problem>> = report
        .outputs
        .par_iter()
        .enumerate()
        .map(|(i, o)| {
            let path = match scope.build_file(&o.path, &format!("outputs[{i}].path")) {
                Ok(p) => p,
                Err(p) => return Some(p),
            };
            match md5_hex(&path) {
                Ok(md5) if md5 == o.md5 => None,
                Ok(md5) => Some(problem(
                    &o.path,
                    "md5",
                    format!("is {md5}, report.json says {}", o.md5),
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Some(problem(&o.path, "file", "is missing: report.json lists it"))
                }
                Err(e) => Some(problem(&o.path, "file", format!("cannot be read: {e}"))),
            }
        })
        .collect();
    v.problems.extend(found.into_iter().flatten());
    v.files_checked += report.outputs.len();

    let listed: BTreeSet<&str> = report.outputs.iter().map(|o| o.path.as_str()).collect();
    for rel in walk(scope.build_dir()) {
        if !listed.contains(rel.as_str()) && !UNLISTED.contains(&rel.as_str()) {
            v.problems.push(problem(
                rel,
                "file",
                "is not in report.json's outputs: written after the build?",
            ));
        }
    }
}

/// Each source with a recorded MD5 hashed again, on the global pool.
pub(super) fn sources(scope: &Scope, report: &Report, v: &mut Verification) {
    let recorded: Vec<_> = report
        .tracks
        .iter()
        .filter_map(|t| t.source.md5.as_deref().map(|m| (t, m)))
        .collect();
    if recorded.is_empty() {
        if !report.tracks.is_empty() {
            v.notes.push(
                "report.json records no MD5 of the sources (an older build): they were not checked"
                    .into(),
            );
        }
        return;
    }
    enum Found {
        Same,
        Changed(Problem),
        Away(String),
    }
    let found: Vec<Found> = recorded
        .par_iter()
        .map(|(t, want)| {
            let rel = &t.source.path;
            let path = match scope.manifest_file(rel, &format!("tracks[{}].source.path", t.number)) {
                Ok(p) => p,
                Err(p) => return Found::Away(format!("{}: {}", p.field, p.message)),
            };
            let shown = path.display().to_string();
            match md5_hex(&path) {
                Ok(md5) if md5 == *want => Found::Same,
                Ok(md5) => Found::Changed(problem(
                    shown,
                    "md5",
                    format!(
                        "is {md5}, report.json's tracks[{}].source.md5 says {want}: the source changed after the build",
                        t.number
                    ),
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Found::Away(format!("{rel} is not in {}", scope.manifest_dir().display()))
                }
                Err(e) => Found::Away(format!("{shown} cannot be read: {e}")),
            }
        })
        .collect();
    let mut away = Vec::new();
    for f in found {
        match f {
            Found::Same => {}
            Found::Changed(p) => v.problems.push(p),
            Found::Away(w) => away.push(w),
        }
    }
    if !away.is_empty() {
        v.warnings.push(format!(
            "{} of {} sources not checked against report.json's MD5s (a build folder moved without its mixes?): {}",
            away.len(),
            recorded.len(),
            away.join("; ")
        ));
    }
}

/// Every file below `dir`, relative and `/`-separated, sorted.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let r = rel.join(e.file_name());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(r);
            } else {
                let parts: Vec<String> = r
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    out
}
