//! What glassmaster reports about an album: the consistency [`checks`]
//! (shared by `check` and `build`), report.json ([`model`]) and
//! report.html ([`html`], drawing its plots with [`svg`]).

pub mod checks;
pub mod codecs;
pub mod html;
pub mod matching;
pub mod model;
pub mod svg;
pub mod svg_match;
pub mod translation;

pub use checks::{Check, CheckSeverity};
pub use html::{render_html, HtmlError};
pub use model::Report;
