//! Where `verify` may read. A build folder is data, perhaps from someone
//! else: report.json names files, and a name like `/etc/passwd`,
//! `../../x` or a symbolic link pointing away must not make `verify` open
//! anything outside the two folders it checks — the build folder (its
//! outputs and report.json) and the manifest's folder (the manifest and
//! the sources report.json names relative to it).
//!
//! A name from report.json is accepted only when it is relative and made
//! of plain components (no `..`, no `.`, no root), and when it resolves,
//! symbolic links followed, to a path inside its folder. Anything else is
//! a [`Problem`] naming the report.json field, and the file is not opened
//! (not even looked at beyond resolving the links of its path); nor is
//! anything that is not a regular file or a folder (a FIFO would block).
//! Callers open the resolved path that [`Scope`] returns, never the name.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use super::{problem, Problem};

/// The folders a verification reads, resolved.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    build: PathBuf,
    manifest_dir: PathBuf,
}

/// What kind of folder a name was refused from, for messages.
#[derive(Debug, Clone, Copy)]
enum Root {
    Build,
    Manifest,
}

impl Root {
    fn name(self) -> &'static str {
        match self {
            Root::Build => "the build folder",
            Root::Manifest => "the manifest's folder",
        }
    }
}

impl Scope {
    /// `build` and `manifest_dir` resolved (both must exist).
    pub(super) fn new(build: &Path, manifest_dir: &Path) -> std::io::Result<Scope> {
        Ok(Scope {
            build: build.canonicalize()?,
            manifest_dir: manifest_dir.canonicalize()?,
        })
    }

    /// The build folder, resolved.
    pub(super) fn build_dir(&self) -> &Path {
        &self.build
    }

    /// The manifest's folder, resolved.
    pub(super) fn manifest_dir(&self) -> &Path {
        &self.manifest_dir
    }

    /// `rel` (`/`-separated, as report.json's `field` gives it) inside the
    /// build folder: the resolved path to open, or the problem.
    pub(super) fn build_file(&self, rel: &str, field: &str) -> Result<PathBuf, Problem> {
        confine(&self.build, Root::Build, rel, field)
    }

    /// `rel` (report.json's `field`) inside the manifest's folder.
    pub(super) fn manifest_file(&self, rel: &str, field: &str) -> Result<PathBuf, Problem> {
        confine(&self.manifest_dir, Root::Manifest, rel, field)
    }

    /// Every entry of the build folder's `rel` folder resolves inside the
    /// build folder (none is a link leading out). `Err` names the first
    /// that does not, relative to the build folder.
    pub(super) fn folder_closed(&self, rel: &str) -> Result<(), String> {
        let dir = confine(&self.build, Root::Build, rel, "").map_err(|_| rel.to_owned())?;
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let inside = e
                .path()
                .canonicalize()
                .is_ok_and(|p| p.starts_with(&self.build));
            if !inside {
                return Err(format!("{rel}/{name}"));
            }
        }
        Ok(())
    }
}

/// A plain file name (one component): what report.json gives for a bundle
/// folder, a bundle file or a cover.
pub(super) fn plain_name(name: &str, field: &str) -> Result<(), Problem> {
    let p = Path::new(name);
    let mut parts = p.components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(_)), None) if !name.contains('/') => Ok(()),
        _ => Err(refused(
            field,
            name,
            "is not a plain file name",
            Root::Build,
        )),
    }
}

fn confine(root: &Path, kind: Root, rel: &str, field: &str) -> Result<PathBuf, Problem> {
    if rel.is_empty() {
        return Err(refused(field, rel, "is empty", kind));
    }
    let p = Path::new(rel);
    for c in p.components() {
        let why = match c {
            Component::Normal(_) => continue,
            Component::RootDir | Component::Prefix(_) => "is an absolute path",
            Component::ParentDir => "climbs out with `..`",
            Component::CurDir => "has a `.` component",
        };
        return Err(refused(field, rel, why, kind));
    }
    let joined = root.join(p);
    match resolve(&joined) {
        Some(real) if real.starts_with(root) => match std::fs::metadata(&real) {
            // Opening a FIFO or a device would block or never end; the
            // kind is named as every other reader names it (fsio).
            Ok(m) if !m.is_dir() => match crate::fsio::irregular_kind(&m) {
                Some(kind) => Err(problem(
                    rel,
                    "file",
                    format!("is {kind}, not a regular file: verify did not open it"),
                )),
                None => Ok(real),
            },
            _ => Ok(real),
        },
        Some(_) => Err(refused(
            field,
            rel,
            "leads out through a symbolic link",
            kind,
        )),
        // Nothing there: the caller's open names it missing.
        None => Ok(joined),
    }
}

/// `path` with every symbolic link resolved; for a path that does not
/// exist, its deepest existing ancestor resolved with the rest appended.
/// `None` when nothing of it can be resolved.
fn resolve(path: &Path) -> Option<PathBuf> {
    match path.canonicalize() {
        Ok(p) => Some(p),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let parent = path.parent()?;
            let name = path.file_name()?;
            // A dangling link resolves to where it points.
            if let Ok(target) = std::fs::read_link(path) {
                let to = parent.join(target);
                return Some(resolve(&to).unwrap_or(to));
            }
            Some(resolve(parent)?.join(name))
        }
        Err(_) => None,
    }
}

fn refused(field: &str, value: &str, why: &str, kind: Root) -> Problem {
    problem(
        "report.json",
        field,
        format!(
            "{value:?} {why}: verify reads only inside {}, and did not open it",
            kind.name()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(name: &str) -> (PathBuf, Scope) {
        let base = std::env::temp_dir().join(format!("gm-scope-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let build = base.join("build");
        std::fs::create_dir_all(build.join("masters")).unwrap();
        std::fs::write(build.join("masters/a.wav"), b"x").unwrap();
        std::fs::write(base.join("album.yaml"), b"x").unwrap();
        let s = Scope::new(&build, &base).unwrap();
        (base, s)
    }

    #[test]
    fn plain_relative_names_inside_are_accepted() {
        let (base, s) = scope("plain");
        let p = s.build_file("masters/a.wav", "f").unwrap();
        assert!(p.ends_with("build/masters/a.wav"));
        // Missing but inside: accepted, the open names it missing.
        assert!(s.build_file("masters/b.wav", "f").is_ok());
        assert!(s.manifest_file("album.yaml", "manifest").is_ok());
        std::fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn absolute_parent_and_dot_names_are_refused_with_the_field() {
        let (base, s) = scope("names");
        for bad in ["/etc/passwd", "../album.yaml", "masters/../../x", "./a", ""] {
            let e = s.build_file(bad, "tracks[1].master.file").unwrap_err();
            assert_eq!(e.file, "report.json");
            assert_eq!(e.field, "tracks[1].master.file");
            assert!(e.message.contains("did not open it"), "{e}");
        }
        assert!(plain_name("a/b", "x").is_err());
        assert!(plain_name("..", "x").is_err());
        assert!(plain_name("a.flac", "x").is_ok());
        std::fs::remove_dir_all(base).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn links_out_are_refused_links_inside_are_not() {
        let (base, s) = scope("links");
        let build = base.join("build");
        std::os::unix::fs::symlink(base.join("album.yaml"), build.join("out")).unwrap();
        std::os::unix::fs::symlink(base.join("nowhere"), build.join("dangling")).unwrap();
        std::os::unix::fs::symlink(build.join("masters"), build.join("m")).unwrap();
        std::os::unix::fs::symlink(&base, build.join("up")).unwrap();
        let e = s.build_file("out", "outputs[0].path").unwrap_err();
        assert!(e.message.contains("symbolic link"), "{e}");
        assert!(s.build_file("dangling", "f").is_err());
        assert!(s.build_file("up/album.yaml", "f").is_err());
        assert!(s.build_file("up/build/masters/a.wav", "f").is_ok());
        assert!(s.build_file("m/a.wav", "f").is_ok());
        assert_eq!(s.folder_closed("masters"), Ok(()));
        std::fs::create_dir(build.join("ddp")).unwrap();
        std::os::unix::fs::symlink(base.join("album.yaml"), build.join("ddp/IMAGE.DAT")).unwrap();
        assert_eq!(s.folder_closed("ddp"), Err("ddp/IMAGE.DAT".to_owned()));
        // A FIFO inside: refused without opening (which would block).
        let made = std::process::Command::new("mkfifo")
            .arg(build.join("masters/fifo.wav"))
            .status();
        if made.is_ok_and(|s| s.success()) {
            let e = s.build_file("masters/fifo.wav", "f").unwrap_err();
            assert_eq!(e.file, "masters/fifo.wav");
            assert!(e.message.contains("not a regular file"), "{e}");
        }
        std::fs::remove_dir_all(base).unwrap();
    }
}
