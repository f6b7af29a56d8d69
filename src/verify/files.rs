//! The build folder against report.json's `outputs`: every listed file is
//! there with the same MD5, and no file is there that the list leaves out
//! (report.json and report.html aside, which the list cannot hold).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use super::{problem, Problem, Verification};
use crate::deliver::sheet::md5_hex;
use crate::report::model::Report;

/// Files `build` writes that `outputs` does not list.
const UNLISTED: [&str; 3] = ["report.json", "report.html", crate::build::output::MARKER];

pub(super) fn check(dir: &Path, report: &Report, v: &mut Verification) {
    let found: Vec<Option<Problem>> = report
        .outputs
        .par_iter()
        .map(|o| {
            let Some(path) = inside(dir, &o.path) else {
                return Some(problem(
                    &o.path,
                    "path",
                    "leaves the build folder; report.json lists only files inside it",
                ));
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
    for rel in walk(dir) {
        if !listed.contains(rel.as_str()) && !UNLISTED.contains(&rel.as_str()) {
            v.problems.push(problem(
                rel,
                "file",
                "is not in report.json's outputs: written after the build?",
            ));
        }
    }
}

/// `rel` (`/`-separated) under `dir`, refusing absolute paths and `..`.
pub(super) fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    p.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| dir.join(p))
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
