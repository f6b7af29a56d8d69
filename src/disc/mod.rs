//! CD authoring: the Red Book layout in frames ([`layout`]), the CUE sheet
//! ([`cue`]), the cdrdao TOC ([`toc`]), the PQ sheet ([`pqsheet`]), CD-Text
//! ([`cdtext`]) and the DDP 2.00 fileset ([`ddp`]). [`author()`] writes them
//! all into a build's `cd/` folder around the image the caller rendered.
//!
//! Nothing here decodes audio: the layout works on frame counts, the
//! writers on text and metadata.

pub mod author;
pub mod cdtext;
pub mod cue;
pub mod ddp;
pub mod from_manifest;
pub mod layout;
#[cfg(feature = "libcue")]
pub mod libcue;
pub mod pqsheet;
pub mod text;
pub mod toc;

pub use author::{author, AuthorOptions, Authored};
pub use layout::{DiscLayout, ImageSpan, LaidTrack, LayoutError, LayoutInput, TrackInput};
pub use text::DiscWarning;
