//! `build --only PARTS --force` on an existing build: the parts named are
//! made again, every other part of the previous build is kept as it was,
//! byte for byte, and report.json is merged, so that a tag fix redoes the
//! streaming bundles without touching the DDP sent for approval.
//!
//! The output rule is unchanged ([`super::output`]): the new folder is
//! staged, the kept parts are linked (or copied) into the staging folder
//! from the previous build, which the lock holds still, and the whole
//! replaces the old folder in one swap with a fresh marker. A kept part
//! must still match what the build makes now: a source whose MD5 changed
//! is refused before any work, and masters that measure differently after
//! mastering (a changed chain or target) fail the build, the previous
//! folder left as it was; both say to build every part.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{BuildError, Parts};
use crate::report::Report;

/// Whether a build makes a part.
type Made = fn(&Parts) -> bool;

/// The top-level folder each part writes.
const PART_DIRS: [(&str, Made); 5] = [
    ("cd", |p| p.cd),
    ("masters", |p| p.masters),
    ("streaming", |p| p.streaming),
    ("vinyl", |p| p.vinyl),
    ("cassette", |p| p.cassette),
];

/// What every build writes again, whatever the parts.
const ALWAYS: [&str; 3] = ["report.json", "report.html", super::output::MARKER];

/// The build being partly replaced: its folder and its report.json.
pub struct Previous {
    dir: PathBuf,
    report: Value,
    parts: Parts,
}

fn invalid(dir: &Path, why: impl std::fmt::Display) -> BuildError {
    BuildError::Invalid(format!(
        "{}: {why}; --only keeps the other parts of a build only when it can read them: \
         build every part (no --only)",
        dir.display()
    ))
}

/// The previous build at `target` when only some `parts` are asked for
/// and one is there (the output rule already let `--force` replace it);
/// `None` for a full build or a new folder.
pub fn previous(target: &Path, parts: Parts) -> Result<Option<Previous>, BuildError> {
    if parts == Parts::ALL || !target.join(super::output::MARKER).is_file() {
        return Ok(None);
    }
    let path = target.join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|e| invalid(&path, e))?;
    let report: Value = serde_json::from_str(&text).map_err(|e| invalid(&path, e))?;
    if !report["tracks"].is_array() || !report["outputs"].is_array() {
        return Err(invalid(&path, "it lists no tracks or outputs"));
    }
    Ok(Some(Previous {
        dir: target.to_owned(),
        report,
        parts,
    }))
}

impl Previous {
    /// The top-level entries kept from the previous build.
    fn kept(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut v: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !ALWAYS.contains(&n.as_str()))
            .filter(|n| {
                !PART_DIRS
                    .iter()
                    .any(|(d, made)| n == d && made(&self.parts))
            })
            .collect();
        v.sort();
        v
    }

    /// Refuses, before any work, sources that changed since the previous
    /// build: its kept parts were made from the old mixes.
    pub fn same_sources(&self, md5s: &[String]) -> Result<(), BuildError> {
        let old = self.report["tracks"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        let changed = old.len() != md5s.len()
            || old
                .iter()
                .zip(md5s)
                .any(|(t, m)| t["source"]["md5"].as_str() != Some(m.as_str()));
        if changed && !self.kept().is_empty() {
            return Err(BuildError::Invalid(format!(
                "{}: the tracks or their sources changed since this build, so its {} would no \
                 longer match; build every part (no --only)",
                self.dir.display(),
                self.kept().join(", ")
            )));
        }
        Ok(())
    }

    /// Fails when a master measures otherwise than in the previous build
    /// (the mastering changed): the kept CD and masters would disagree
    /// with the new report.
    pub fn same_masters(&self, report: &Report) -> Result<(), BuildError> {
        let keeps_audio = !self.parts.cd || !self.parts.masters;
        if !keeps_audio || self.kept().is_empty() {
            return Ok(());
        }
        let old = self.report["tracks"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        for (t, o) in report.tracks.iter().zip(old) {
            let near = |new: Option<f64>, old: &Value| match (new, old.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() <= 0.011,
                (None, None) => true,
                _ => false,
            };
            let m = &o["master"];
            if !near(t.master.integrated_lufs, &m["integrated_lufs"])
                || !near(t.master.true_peak_dbtp, &m["true_peak_dbtp"])
                || !near(Some(t.master.duration_s), &m["duration_s"])
            {
                return Err(BuildError::Invalid(format!(
                    "{}: track {} masters otherwise than in this build (the mastering changed), \
                     so its {} would no longer match; build every part (no --only)",
                    self.dir.display(),
                    t.number,
                    self.kept().join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Links (or copies) the kept parts into the staging folder `root`.
    pub fn carry(&self, root: &Path) -> Result<(), BuildError> {
        for name in self.kept() {
            let to = root.join(&name);
            if std::fs::symlink_metadata(&to).is_ok() {
                continue; // made again by this build
            }
            copy_tree(&self.dir.join(&name), &to)?;
        }
        Ok(())
    }

    /// report.json of the new build with the kept parts' entries of the
    /// previous one: their outputs, the CD's layout and peaks, the master
    /// files, the bundles and the store views and checks.
    pub fn merge(&self, report: Report) -> Result<Report, BuildError> {
        let kept = self.kept();
        let mut new = serde_json::to_value(&report)
            .map_err(|e| BuildError::Invalid(format!("report.json: {e}")))?;
        let old = &self.report;
        let top = |p: &str| p.split('/').next().unwrap_or("").to_owned();
        let mut outputs: Vec<Value> = new["outputs"].as_array().cloned().unwrap_or_default();
        for o in old["outputs"].as_array().into_iter().flatten() {
            let path = o["path"].as_str().unwrap_or("");
            let made = outputs.iter().any(|n| n["path"] == o["path"]);
            if kept.contains(&top(path)) && !made {
                outputs.push(o.clone());
            }
        }
        outputs.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        new["outputs"] = Value::Array(outputs);
        let keep = |name: &str| kept.iter().any(|k| k == name);
        let tracks = new["tracks"]
            .as_array_mut()
            .map_or(&mut [][..], |v| v.as_mut_slice());
        for (t, o) in tracks
            .iter_mut()
            .zip(old["tracks"].as_array().into_iter().flatten())
        {
            if keep("cd") {
                t["cd"] = o["cd"].clone();
            }
            if keep("masters") {
                t["master"]["file"] = o["master"]["file"].clone();
            }
        }
        if keep("cd") {
            new["cd"] = old["cd"].clone();
            new["discs"] = old
                .get("discs")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
        }
        for medium in ["vinyl", "cassette"] {
            if keep(medium) {
                new[medium] = old[medium].clone();
            }
        }
        if keep("streaming") {
            for key in ["bundles", "normalisation"] {
                new[key] = old[key].clone();
            }
            let store = |c: &&Value| c["id"].as_str().is_some_and(|i| i.starts_with("store."));
            let mut checks: Vec<Value> = new["checks"].as_array().cloned().unwrap_or_default();
            checks.extend(
                old["checks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(store)
                    .cloned(),
            );
            new["checks"] = Value::Array(checks);
        }
        serde_json::from_value(new).map_err(|e| {
            BuildError::Invalid(format!(
                "{}: its report.json does not merge with this build's ({e}); build every part \
                 (no --only)",
                self.dir.display()
            ))
        })
    }
}

/// `from` (a file or a folder) recreated at `to`: files hard-linked, or
/// copied where the file system links none. Only regular files and
/// folders: anything else in a folder glassmaster wrote is refused.
fn copy_tree(from: &Path, to: &Path) -> Result<(), BuildError> {
    let meta = std::fs::symlink_metadata(from).map_err(|e| BuildError::io(from, e))?;
    if meta.is_dir() {
        std::fs::create_dir(to).map_err(|e| BuildError::io(to, e))?;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(from)
            .map_err(|e| BuildError::io(from, e))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| BuildError::io(from, e))?;
        entries.sort();
        for e in entries {
            let name = e.file_name().unwrap_or_default();
            copy_tree(&e, &to.join(name))?;
        }
        Ok(())
    } else if meta.is_file() {
        if std::fs::hard_link(from, to).is_err() {
            std::fs::copy(from, to).map_err(|e| BuildError::io(from, e))?;
        }
        Ok(())
    } else {
        Err(BuildError::Invalid(format!(
            "{}: {}; --only keeps only the files a build wrote",
            from.display(),
            crate::fsio::irregular_kind(&meta).unwrap_or("not a regular file")
        )))
    }
}
