//! What glassmaster reports about an album: the consistency [`checks`]
//! (shared by `check` and `build`), report.json and report.html.

pub mod checks;

pub use checks::{Check, CheckSeverity};
