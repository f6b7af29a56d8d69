//! The one output-safety rule every command that writes goes through
//! (`build`, `ddp extract`, `init`): glassmaster writes only where it can
//! never destroy a user's file.
//!
//! An output folder is refused, before any work, when it is or contains
//! the manifest, a source, the artwork or any other input, when it is the
//! current folder or one of its ancestors, `/`, or a home folder (or an
//! ancestor of one); an existing *file* is never taken for the folder.
//! Paths are compared resolved (symlinks followed; for an output that does
//! not exist yet, its nearest existing ancestor is resolved).
//!
//! The folder is written as a transaction: under an exclusive lock on
//! `.NAME.glassmaster.lock` beside it (a second writer into the same folder
//! fails at once), into a staging folder `.NAME.glassmaster-PID` that
//! replaces the target only when everything succeeded. Staging and `.old`
//! folders left by interrupted runs are cleaned by the next one, which
//! says so. Every folder glassmaster writes holds a [`MARKER`] listing what
//! it wrote; `--force` replaces only such a folder, and only while it holds
//! nothing else: a file the user put there is named and the run refused.

mod lock;
mod marker;
mod temp;

use std::path::{Component, Path, PathBuf};

pub use marker::MARKER;
pub use temp::{check_file, create_temp, write_file};

/// Why an output was refused or could not be written. Nothing of the
/// user's was touched.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{}: refusing to write output there: {why}", path.display())]
    Refused { path: PathBuf, why: String },
    #[error("{}: the output {what} exists; pass --force to replace it", path.display())]
    Exists { path: PathBuf, what: &'static str },
    #[error(
        "{}: {why}; --force replaces only what glassmaster wrote, so nothing was touched: \
         choose another output or move it away",
        path.display()
    )]
    NotOurs { path: PathBuf, why: String },
    #[error(
        "{}: another glassmaster run is writing this folder (it holds {}); \
         wait for it to finish or choose another folder",
        path.display(),
        lock.display()
    )]
    Busy { path: PathBuf, lock: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl OutputError {
    fn io(path: &Path, source: std::io::Error) -> OutputError {
        OutputError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// What lies at the output path now.
enum State {
    Missing,
    Empty,
    /// A folder glassmaster wrote, holding nothing else (`--force` given).
    Ours,
}

/// Checks the rule for an output folder without writing anything: the
/// place (see the module doc) and what is there now. [`Output::begin`]
/// checks it again under the lock; this is for commands that want to
/// refuse before a long read (`ddp extract` verifies the fileset first).
pub fn check(target: &Path, inputs: &[PathBuf], force: bool) -> Result<(), OutputError> {
    let resolved = resolve(target)?;
    refuse_place(target, &resolved, inputs)?;
    examine(target, &resolved, force).map(|_| ())
}

/// An output folder being written: the staging folder, held under the
/// lock; dropped without [`commit`](Output::commit), it is removed and
/// the target left as it was.
pub struct Output {
    shown: PathBuf,
    target: PathBuf,
    staging: PathBuf,
    old: PathBuf,
    writer: &'static str,
    committed: bool,
    // Declared last: released after `Drop` removed the staging folder.
    _lock: lock::Lock,
}

impl Output {
    /// Checks the rule for `target` (refusing before any work), takes the
    /// lock, cleans what interrupted runs left (each told to `say` at once,
    /// one sentence) and makes the staging folder. `inputs` are every file
    /// the command reads; `writer` names the command in the marker.
    pub fn begin(
        target: &Path,
        inputs: &[PathBuf],
        force: bool,
        writer: &'static str,
        say: &dyn Fn(&str),
    ) -> Result<Output, OutputError> {
        let resolved = resolve(target)?;
        refuse_place(target, &resolved, inputs)?;
        // Refuse what is there before making any folder.
        examine(target, &resolved, force)?;
        let (parent, name) = split(target, &resolved)?;
        std::fs::create_dir_all(&parent).map_err(|e| OutputError::io(&parent, e))?;
        let lock = lock::Lock::take(&parent.join(format!(".{name}.glassmaster.lock")), target)?;
        clean_stale(&parent, &name, &resolved, say)?;
        examine(target, &resolved, force)?;
        let pid = std::process::id();
        let staging = parent.join(format!(".{name}.glassmaster-{pid}"));
        // create_dir, not create_dir_all: fails on anything already there,
        // a planted symlink included.
        std::fs::create_dir(&staging).map_err(|e| OutputError::io(&staging, e))?;
        Ok(Output {
            shown: target.to_owned(),
            target: resolved,
            old: parent.join(format!(".{name}.glassmaster-{pid}.old")),
            staging,
            writer,
            committed: false,
            _lock: lock,
        })
    }

    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// Writes the marker and moves the staged folder into place, replacing
    /// the target when it is glassmaster's (checked again: the user may
    /// have put a file there meanwhile). Returns notes to say (a previous
    /// output that could not be removed; the next run removes it).
    pub fn commit(mut self) -> Result<Vec<String>, OutputError> {
        marker::write(&self.staging, self.writer)?;
        let mut notes = Vec::new();
        match examine(&self.shown, &self.target, true)? {
            State::Missing | State::Empty => {
                // rename(2) replaces an empty folder and fails on a full one.
                std::fs::rename(&self.staging, &self.target)
                    .map_err(|e| OutputError::io(&self.target, e))?;
                self.committed = true;
            }
            State::Ours => {
                std::fs::rename(&self.target, &self.old)
                    .map_err(|e| OutputError::io(&self.target, e))?;
                if let Err(e) = std::fs::rename(&self.staging, &self.target) {
                    let _ = std::fs::rename(&self.old, &self.target);
                    return Err(OutputError::io(&self.target, e));
                }
                self.committed = true;
                if let Err(e) = std::fs::remove_dir_all(&self.old) {
                    notes.push(format!(
                        "could not remove the previous output, now {}: {e}; the next run removes it",
                        self.old.display()
                    ));
                }
            }
        }
        Ok(notes)
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// MD5 of a file (the deliver stage's reader), errors naming the file.
pub fn md5_file(path: &Path) -> Result<String, super::BuildError> {
    let _t = crate::timings::span("hash (md5)", None);
    crate::deliver::sheet::md5_hex(path).map_err(|e| super::BuildError::io(path, e))
}

/// `path` made absolute and resolved: the nearest existing ancestor
/// canonicalised (symlinks followed), the rest appended (it does not
/// exist, so it holds no link; `.` and `..` there are taken lexically).
pub(crate) fn resolve(path: &Path) -> Result<PathBuf, OutputError> {
    let cwd = std::env::current_dir().map_err(|e| OutputError::io(Path::new("."), e))?;
    let abs = cwd.join(path);
    let mut base = abs.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let canon = loop {
        match std::fs::canonicalize(&base) {
            Ok(c) => break c,
            Err(e) => {
                let (Some(parent), Some(name)) = (base.parent(), base.file_name()) else {
                    return Err(OutputError::io(path, e));
                };
                rest.push(name.to_owned());
                base = parent.to_owned();
            }
        }
    };
    let mut out = canon;
    for part in rest.iter().rev() {
        match Path::new(part).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) | None => {}
            _ => out.push(part),
        }
    }
    Ok(out)
}

/// The place rule: the output may not hold an input, the current folder,
/// a home folder or be `/`.
fn refuse_place(shown: &Path, target: &Path, inputs: &[PathBuf]) -> Result<(), OutputError> {
    let refuse = |why: String| {
        Err(OutputError::Refused {
            path: shown.to_owned(),
            why,
        })
    };
    if target.parent().is_none() {
        return refuse("it is the root folder `/`".into());
    }
    for input in inputs {
        let r = resolve(input)?;
        if r.starts_with(target) {
            let what = if r == target {
                "it is".to_owned()
            } else {
                "it holds".to_owned()
            };
            return refuse(format!(
                "{what} {}, an input of this run (resolved {})",
                input.display(),
                r.display()
            ));
        }
    }
    if let Ok(cwd) = std::env::current_dir().and_then(std::fs::canonicalize) {
        if cwd.starts_with(target) {
            return refuse(format!(
                "it is the current folder or holds it ({})",
                cwd.display()
            ));
        }
    }
    // Home folders: $HOME, /root, every /home/NAME (and macOS's /Users/NAME).
    let mut homes: Vec<PathBuf> = vec!["/root".into(), "/home".into(), "/Users".into()];
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        homes.push(std::fs::canonicalize(&h).unwrap_or_else(|_| h.into()));
    }
    let a_home = target
        .parent()
        .is_some_and(|p| p == Path::new("/home") || p == Path::new("/Users"));
    if let Some(home) = homes.iter().find(|h| a_home || h.starts_with(target)) {
        let home = if a_home { target } else { home };
        return refuse(format!(
            "it is a home folder or holds one ({})",
            home.display()
        ));
    }
    Ok(())
}

/// What is at the output now, refusing what `--force` may not replace.
fn examine(shown: &Path, target: &Path, force: bool) -> Result<State, OutputError> {
    let not_ours = |why: String| {
        Err(OutputError::NotOurs {
            path: shown.to_owned(),
            why,
        })
    };
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::Missing),
        Err(e) => return Err(OutputError::io(shown, e)),
    };
    if meta.file_type().is_symlink() {
        return not_ours("is a symbolic link that leads nowhere".into());
    }
    if !meta.is_dir() {
        return not_ours("is a file, not a folder; glassmaster never replaces a file".into());
    }
    let mut entries = std::fs::read_dir(target).map_err(|e| OutputError::io(shown, e))?;
    if entries.next().is_none() {
        return Ok(State::Empty);
    }
    match marker::ownership(target)? {
        marker::Ownership::Unmarked => not_ours(format!(
            "the folder exists and glassmaster did not write it (it has no {MARKER} marker)"
        )),
        marker::Ownership::Foreign(entry) => not_ours(format!(
            "the folder holds {entry}, which glassmaster did not write"
        )),
        marker::Ownership::Ours if force => Ok(State::Ours),
        marker::Ownership::Ours => Err(OutputError::Exists {
            path: shown.to_owned(),
            what: "folder",
        }),
    }
}

/// The resolved target's parent and file name.
fn split(shown: &Path, target: &Path) -> Result<(PathBuf, String), OutputError> {
    match (target.parent(), target.file_name()) {
        (Some(p), Some(n)) => Ok((p.to_owned(), n.to_string_lossy().into_owned())),
        _ => Err(OutputError::Refused {
            path: shown.to_owned(),
            why: "it names no folder".into(),
        }),
    }
}

/// Removes the staging folders `.NAME.glassmaster-PID` and `.old` folders
/// that interrupted runs left beside `target`. Called under the lock, so
/// no live run owns them. An `.old` folder is the previous output of a run
/// stopped while replacing it: when the target is missing it is put back.
fn clean_stale(
    parent: &Path,
    name: &str,
    target: &Path,
    say: &dyn Fn(&str),
) -> Result<(), OutputError> {
    let prefix = format!(".{name}.glassmaster-");
    let entries = std::fs::read_dir(parent).map_err(|e| OutputError::io(parent, e))?;
    let mut stale: Vec<(PathBuf, String, bool)> = entries
        .flatten()
        .filter_map(|e| {
            let file_name = e.file_name().to_str()?.to_owned();
            let rest = file_name.strip_prefix(&prefix)?;
            let (pid, old) = match rest.strip_suffix(".old") {
                Some(p) => (p, true),
                None => (rest, false),
            };
            let is_pid = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
            // Only folders: a link or a file of that name is never ours.
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (is_pid && is_dir).then(|| (e.path(), pid.to_owned(), old))
        })
        .collect();
    // Staging folders first, so that an `.old` folder put back is not
    // then mistaken for anything else.
    stale.sort_by_key(|(p, _, old)| (*old, p.clone()));
    for (path, pid, old) in stale {
        let missing = matches!(std::fs::symlink_metadata(target),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        if old && missing {
            std::fs::rename(&path, target).map_err(|e| OutputError::io(&path, e))?;
            say(&format!(
                "put back the previous output {} from {}, left by a run (process {pid}) \
                 stopped while replacing it",
                target.display(),
                path.display()
            ));
            continue;
        }
        std::fs::remove_dir_all(&path).map_err(|e| OutputError::io(&path, e))?;
        say(&format!(
            "removed {}, left by an interrupted glassmaster run (process {pid})",
            path.display()
        ));
    }
    Ok(())
}
