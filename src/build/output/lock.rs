//! The lock beside an output folder: an exclusive `flock` on
//! `.NAME.glassmaster.lock`, taken without waiting, so that of two runs
//! writing one folder the second fails at once. The file is opened without
//! following a symlink; the holder unlinks it before releasing, and a
//! taker checks that the path it locked is still the file it opened (else
//! it was unlinked meanwhile, and it tries again), so no lock file is left
//! behind and no two runs can both hold one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use super::OutputError;

/// A held lock; released (and its file removed) on drop.
pub(super) struct Lock {
    path: PathBuf,
    // Closed after `Drop` unlinked the path: the unlink happens locked.
    _file: File,
}

impl Lock {
    /// Takes the lock at `path` for the output folder `folder` (named in
    /// the error when another run holds it).
    pub(super) fn take(path: &Path, folder: &Path) -> Result<Lock, OutputError> {
        let busy = || OutputError::Busy {
            path: folder.to_owned(),
            lock: path.to_owned(),
        };
        for _ in 0..16 {
            let file = open(path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(busy()),
                Err(TryLockError::Error(e)) => return Err(OutputError::io(path, e)),
            }
            if same_file(&file, path) {
                return Ok(Lock {
                    path: path.to_owned(),
                    _file: file,
                });
            }
            // The holder we raced with unlinked it: lock the new one.
        }
        Err(busy())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Opens (creating) the lock file, never through a symlink, and only a
/// regular file.
fn open(path: &Path) -> Result<File, OutputError> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let refused = |why: &str| OutputError::Refused {
        path: path.to_owned(),
        why: why.to_owned(),
    };
    let file = match o.open(path) {
        Ok(f) => f,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refused(
                "the lock file is a symbolic link; glassmaster never writes through one",
            ))
        }
        Err(e) => return Err(OutputError::io(path, e)),
    };
    let meta = file.metadata().map_err(|e| OutputError::io(path, e))?;
    if !meta.is_file() {
        return Err(refused("the lock file is not a regular file"));
    }
    Ok(file)
}

/// True when `path` still names the file `file` is open on.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_fails_and_the_file_goes_with_the_holder() {
        let dir = std::env::temp_dir().join(format!("gm-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".out.glassmaster.lock");
        let held = Lock::take(&path, &dir.join("out")).unwrap();
        let second = Lock::take(&path, &dir.join("out"));
        assert!(
            matches!(second, Err(OutputError::Busy { .. })),
            "the second taker got the lock"
        );
        drop(held);
        assert!(!path.exists(), "the lock file was left");
        let again = Lock::take(&path, &dir.join("out")).unwrap();
        drop(again);

        // A planted symlink is refused and its target left alone.
        #[cfg(unix)]
        {
            let victim = dir.join("victim");
            std::fs::write(&victim, "precious\n").unwrap();
            std::os::unix::fs::symlink(&victim, &path).unwrap();
            let r = Lock::take(&path, &dir.join("out"));
            assert!(matches!(r, Err(OutputError::Refused { .. })));
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
