//! The output folder as a transaction: everything is written into a
//! staging folder beside the target and moved into place only when the
//! whole build succeeded, so that a failed build leaves the output folder
//! as it was.

use std::path::{Path, PathBuf};

use super::BuildError;

/// A staging folder; removed on drop unless committed.
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Prepares a staging folder for `target`. An existing target is an
    /// error unless `force` (checked now, before any work is done).
    pub fn new(target: &Path, force: bool) -> Result<Staging, BuildError> {
        if target.exists() && !force {
            return Err(BuildError::Exists(target.to_owned()));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "build".into());
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
        let dir = parent.join(format!(".{name}.glassmaster-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| BuildError::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| BuildError::io(&dir, e))?;
        Ok(Staging {
            target: target.to_owned(),
            dir,
            committed: false,
        })
    }

    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Moves the staged outputs into place, replacing an existing target.
    pub fn commit(mut self) -> Result<(), BuildError> {
        let old = self.dir.with_extension("old");
        if self.target.exists() {
            std::fs::rename(&self.target, &old).map_err(|e| BuildError::io(&self.target, e))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            // Put the old folder back before reporting.
            if old.exists() {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(BuildError::io(&self.target, e));
        }
        self.committed = true;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| BuildError::io(&old, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// MD5 of a file (the deliver stage's reader), errors naming the file.
pub fn md5_file(path: &Path) -> Result<String, BuildError> {
    crate::deliver::sheet::md5_hex(path).map_err(|e| BuildError::io(path, e))
}
