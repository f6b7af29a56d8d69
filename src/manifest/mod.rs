//! The release manifest (format version 1): one YAML file that describes a
//! release. [`raw`] reads the text into a tree that keeps every line and
//! column; [`validate`] turns it into the checked [`model`] in one pass that
//! collects every problem as a [`diagnostic::Diagnostic`]; [`codes`] holds
//! the ISRC and UPC rules; [`time`] the three time notations.

pub mod codes;
pub mod diagnostic;
pub mod model;
pub mod raw;
pub mod time;
pub mod validate;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity};
pub use model::Manifest;
pub use validate::Probe;

/// A manifest read from disk: the model when it is valid, every
/// diagnostic, and the text (for showing the offending lines).
#[derive(Debug)]
pub struct Loaded {
    pub manifest: Option<Manifest>,
    pub diagnostics: Vec<Diagnostic>,
    pub source: Option<String>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads, parses and validates the manifest at `path`, probing every source
/// with `probe`. Never fails: problems are diagnostics.
pub fn load(path: &Path, probe: Probe<'_>) -> Loaded {
    let fail = |msg: String, pos| Loaded {
        manifest: None,
        diagnostics: vec![Diagnostic::error(path, pos, msg)],
        source: None,
    };
    // Capped by the bytes read, not by the size the file claims (a FIFO or
    // /dev/zero is refused before reading; see crate::fsio).
    let bytes = match crate::fsio::read_capped(path, raw::MAX_MANIFEST_BYTES as u64) {
        Ok(b) => b,
        Err(crate::fsio::CappedError::TooLarge { limit }) => {
            return fail(
                format!("the manifest is larger than {limit} bytes, the largest accepted"),
                None,
            )
        }
        Err(crate::fsio::CappedError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return fail(format!("the manifest {e}"), None)
        }
        Err(crate::fsio::CappedError::Io(e)) => {
            return fail(format!("cannot read the manifest: {e}"), None)
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = upto.iter().filter(|b| **b == b'\n').count() as u32 + 1;
            let column = (upto.len() - upto.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1))
                as u32
                + 1;
            return fail(
                "the manifest is not UTF-8 text".to_owned(),
                Some(raw::Pos { line, column }),
            );
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text);
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    match raw::parse(&text) {
        Err(e) => Loaded {
            manifest: None,
            diagnostics: vec![Diagnostic::error(path, e.pos, e.message)],
            source: Some(text),
        },
        Ok(root) => {
            let (manifest, diagnostics) = validate::validate(&root, path, &base_dir, probe);
            Loaded {
                manifest,
                diagnostics,
                source: Some(text),
            }
        }
    }
}
