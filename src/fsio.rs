//! Opening the user's input files: every reader of a source, the manifest,
//! the artwork, a CUE sheet or a DDP file goes through [`open_regular`].
//!
//! Promises:
//! - only a regular file (or a symlink to one) is opened; a FIFO, a
//!   device, a socket or a directory is refused by name ("... is a FIFO,
//!   not a regular file") before a byte is read, so that no input can
//!   block a command forever or feed it without end (`/dev/zero`);
//! - no race: the path is looked at first, then opened without blocking
//!   (`O_NONBLOCK`, which a FIFO would otherwise need a writer to pass)
//!   and the opened file itself is looked at again;
//! - [`read_capped`] reads a whole small file through `take(limit + 1)`,
//!   so the cap holds whatever size the file claims.
//!
//! The errors are [`std::io::Error`]s (kind `InvalidInput`) whose message
//! names the kind of file, so that every caller's own error type, which
//! already names the path, carries them unchanged.

use std::fs::{File, Metadata};
use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// What kind of file `meta` describes, in words, when it is not a regular
/// file; `None` for a regular file.
pub fn irregular_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a file")
}

/// The error for a path that is not a regular file. The message leaves
/// the path to the caller's error, which names it.
fn refuse(kind: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("is {kind}, not a regular file"),
    )
}

/// `Ok` when `path` (following symlinks) is a regular file, else the
/// error [`open_regular`] would give, without opening anything.
pub fn check_regular(path: &Path) -> std::io::Result<Metadata> {
    let meta = std::fs::metadata(path)?;
    match irregular_kind(&meta) {
        None => Ok(meta),
        Some(kind) => Err(refuse(kind)),
    }
}

/// Opens `path` for reading when it is a regular file; refuses anything
/// else by kind before reading (see the module's promises).
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    check_regular(path)?;
    let file = open_nonblocking(path)?;
    // The path may have been swapped between the look and the open.
    if let Some(kind) = irregular_kind(&file.metadata()?) {
        return Err(refuse(kind));
    }
    Ok(file)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK only changes how a FIFO or a device opens and reads; on a
    // regular file (all that gets past the check after opening) reads
    // block as usual.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Why [`read_capped`] gave up.
#[derive(Debug, thiserror::Error)]
pub enum CappedError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file holds more than `limit` bytes (counted as read, not as
    /// the file claims).
    #[error("larger than {limit} bytes, the largest accepted")]
    TooLarge { limit: u64 },
}

/// Reads all of the regular file `path` when it holds at most `limit`
/// bytes: at most `limit + 1` bytes are ever read.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, CappedError> {
    let file = open_regular(path)?;
    let hint = file.metadata().map_or(0, |m| m.len()).min(limit) as usize;
    let mut bytes = Vec::with_capacity(hint);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(CappedError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_capped`] with the cap folded into an [`std::io::Error`]
/// (`InvalidData`), for callers whose errors carry one.
pub fn read_capped_io(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    read_capped(path, limit).map_err(|e| match e {
        CappedError::Io(e) => e,
        other => Error::new(ErrorKind::InvalidData, other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("glassmaster-fsio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn regular_files_open_and_others_are_named() {
        let d = scratch("kinds");
        let f = d.join("a.txt");
        std::fs::write(&f, b"hello").unwrap();
        assert!(open_regular(&f).is_ok());
        let e = open_regular(&d).unwrap_err();
        assert_eq!(e.to_string(), "is a directory, not a regular file");
        #[cfg(unix)]
        {
            let e = open_regular(Path::new("/dev/null")).unwrap_err();
            assert_eq!(e.to_string(), "is a character device, not a regular file");
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_cap_counts_bytes_read() {
        let d = scratch("cap");
        let f = d.join("a.txt");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_capped(&f, 10).unwrap(), b"0123456789");
        let e = read_capped(&f, 9).unwrap_err();
        assert!(matches!(e, CappedError::TooLarge { limit: 9 }), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
