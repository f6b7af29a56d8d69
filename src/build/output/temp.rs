//! Single files written in place (init's album.yaml) and temporary files:
//! a temporary file is always new, made with `create_new` (`O_EXCL`, which
//! never opens an existing file nor follows a symlink) under a name no one
//! else uses; a name taken (say, by a planted symlink) is passed over.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{resolve, OutputError};

/// Names tried before giving up.
const ATTEMPTS: u32 = 64;

/// A new, empty file beside `path` (`.NAME.glassmaster-PID-N.tmp`), open
/// for writing, and its path.
pub fn create_temp(path: &Path) -> Result<(File, PathBuf), OutputError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let pid = std::process::id();
    for n in 0..ATTEMPTS {
        let tmp = dir.join(format!(".{name}.glassmaster-{pid}-{n}.tmp"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(OutputError::io(&tmp, e)),
        }
    }
    Err(OutputError::Refused {
        path: path.to_owned(),
        why: format!("{ATTEMPTS} temporary names beside it are all taken"),
    })
}

/// Writes `bytes` to `path` whole or not at all: into a new temporary
/// file, synced, then renamed over `path`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let (mut f, tmp) = create_temp(path)?;
    let written = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| OutputError::io(&tmp, e))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| OutputError::io(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The rule for one output file: not an input, not a symlink nor anything
/// but a regular file, replaced only with `force` and only when `ours`
/// recognises its first bytes as glassmaster's.
pub fn check_file(
    path: &Path,
    inputs: &[PathBuf],
    force: bool,
    ours: impl Fn(&[u8]) -> bool,
) -> Result<(), OutputError> {
    // Followed to the end for comparing with the inputs; the file itself
    // is looked at without following it.
    let followed = resolve(path)?;
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(OutputError::Refused {
            path: path.to_owned(),
            why: "it names no file".into(),
        });
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let target = resolve(parent)?.join(name);
    for input in inputs {
        if resolve(input)? == followed {
            return Err(OutputError::Refused {
                path: path.to_owned(),
                why: format!("it is {}, an input of this run", input.display()),
            });
        }
    }
    let not_ours = |why: &str| OutputError::NotOurs {
        path: path.to_owned(),
        why: why.to_owned(),
    };
    let meta = match std::fs::symlink_metadata(&target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OutputError::io(path, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(not_ours(
            "is a symbolic link; glassmaster never writes through one",
        ));
    }
    if !meta.is_file() {
        return Err(not_ours("is not a regular file"));
    }
    if !force {
        return Err(OutputError::Exists {
            path: path.to_owned(),
            what: "file",
        });
    }
    let mut head = Vec::new();
    File::open(&target)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| OutputError::io(path, e))?;
    if !ours(&head) {
        return Err(not_ours("was not written by glassmaster"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_at_the_temporary_name_is_passed_over() {
        let dir = std::env::temp_dir().join(format!("gm-temp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, "precious\n").unwrap();
        let pid = std::process::id();
        let planted = dir.join(format!(".album.yaml.glassmaster-{pid}-0.tmp"));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let out = dir.join("album.yaml");
        write_file(&out, b"glassmaster: 1\n").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"glassmaster: 1\n");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(std::fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
