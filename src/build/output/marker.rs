//! The marker glassmaster leaves in every folder it writes: `.glassmaster`,
//! a JSON document with the version, the command that wrote the folder and
//! every entry it wrote (folders end in `/`). It is how `--force` tells a
//! folder glassmaster may replace from one it may not: marked, and holding
//! nothing the marker does not list. A build folder from before the marker
//! is recognised by its report.json (our `glassmaster_version` signature
//! and its `outputs` list).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;

use super::OutputError;

/// The marker's file name, at the top of every folder glassmaster writes.
pub const MARKER: &str = ".glassmaster";

/// Markers and legacy reports larger than this are not ours.
const MAX_BYTES: u64 = 64 << 20;

#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    glassmaster_version: String,
    written_by: String,
    entries: Vec<String>,
}

/// Whose an existing, non-empty folder is.
pub(super) enum Ownership {
    /// No marker (nor a report.json of ours).
    Unmarked,
    /// Marked, but it holds this entry, which the marker does not list.
    Foreign(String),
    /// Marked, and everything in it is listed.
    Ours,
}

/// Writes the marker into the staged folder `dir`, listing what is there.
pub(super) fn write(dir: &Path, writer: &str) -> Result<(), OutputError> {
    let marker = Marker {
        glassmaster_version: env!("CARGO_PKG_VERSION").to_owned(),
        written_by: writer.to_owned(),
        entries: walk(dir)?,
    };
    let text = serde_json::to_string_pretty(&marker).map_err(|e| {
        OutputError::io(
            &dir.join(MARKER),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    let path = dir.join(MARKER);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| OutputError::io(&path, e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .map_err(|e| OutputError::io(&path, e))
}

/// Reads the marker (or a legacy report.json) of `dir` and compares what
/// `dir` holds with it.
pub(super) fn ownership(dir: &Path) -> Result<Ownership, OutputError> {
    let listed: BTreeSet<String> = if let Some(text) = read_small(&dir.join(MARKER)) {
        match serde_json::from_slice::<Marker>(&text) {
            Ok(m) => m.entries.into_iter().collect(),
            Err(_) => return Ok(Ownership::Unmarked),
        }
    } else if let Some(listed) = read_small(&dir.join("report.json")).and_then(|t| legacy(&t)) {
        listed
    } else {
        return Ok(Ownership::Unmarked);
    };
    for entry in walk(dir)? {
        if entry != MARKER && !listed.contains(&entry) {
            return Ok(Ownership::Foreign(entry));
        }
    }
    Ok(Ownership::Ours)
}

/// The entries a report.json of ours vouches for: its outputs, itself,
/// report.html, and the folders on the way.
fn legacy(text: &[u8]) -> Option<BTreeSet<String>> {
    let v: serde_json::Value = serde_json::from_slice(text).ok()?;
    v.get("glassmaster_version")?.as_str()?;
    let mut set = BTreeSet::new();
    for o in v.get("outputs")?.as_array()? {
        let path = o.get("path")?.as_str()?;
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            at += i + 1;
            set.insert(path[..at].to_owned());
        }
        set.insert(path.to_owned());
    }
    set.insert("report.json".to_owned());
    set.insert("report.html".to_owned());
    Some(set)
}

/// A regular file's bytes (never through a symlink), when small enough.
fn read_small(path: &Path) -> Option<Vec<u8>> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Every entry below `dir`, relative and `/`-separated, folders with a
/// trailing `/`, sorted; symlinks are entries, never followed.
fn walk(dir: &Path) -> Result<Vec<String>, OutputError> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_owned(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| OutputError::io(&d, e))?;
        for e in entries {
            let e = e.map_err(|e| OutputError::io(&d, e))?;
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                out.push(format!("{name}/"));
                stack.push((e.path(), format!("{name}/")));
            } else {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marked_folder_is_ours_until_something_is_added() {
        let dir = std::env::temp_dir().join(format!("gm-marker-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("cd")).unwrap();
        std::fs::write(dir.join("cd/album.wav"), b"x").unwrap();
        assert!(matches!(ownership(&dir).unwrap(), Ownership::Unmarked));
        write(&dir, "test").unwrap();
        assert!(matches!(ownership(&dir).unwrap(), Ownership::Ours));
        std::fs::write(dir.join("cd/notes.txt"), b"mine").unwrap();
        match ownership(&dir).unwrap() {
            Ownership::Foreign(e) => assert_eq!(e, "cd/notes.txt"),
            _ => panic!("an added file was not noticed"),
        }
        // A legacy report.json vouches for its outputs only.
        let old = dir.join("old");
        std::fs::create_dir_all(old.join("masters")).unwrap();
        std::fs::write(old.join("masters/01 A.wav"), b"x").unwrap();
        std::fs::write(
            old.join("report.json"),
            r#"{"glassmaster_version": "0.1.0", "outputs": [{"path": "masters/01 A.wav", "md5": "-"}]}"#,
        )
        .unwrap();
        assert!(matches!(ownership(&old).unwrap(), Ownership::Ours));
        std::fs::write(old.join("mix.wav"), b"mine").unwrap();
        assert!(matches!(ownership(&old).unwrap(), Ownership::Foreign(_)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
