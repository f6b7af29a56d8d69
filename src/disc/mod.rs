//! CD authoring: the Red Book layout in frames, CUE sheet, cdrdao TOC,
//! CD-Text and the DDP 2.00 fileset.

pub mod cdtext;
pub mod ddp;
#[cfg(feature = "libcue")]
pub mod libcue;
