//! The one integration test binary. Each stage has a module; shared helpers
//! (signal generators, the binary's path, tool detection) are in `util`.

mod analog;
mod analysis;
mod build;
mod cdtext;
mod checks;
mod cli;
mod ddp;
mod deliver;
mod disc;
mod dsp;
mod init;
mod inputs;
mod manifest;
mod preview;
mod reconstruct;
mod report;
mod restoration;
mod safety;
mod translation;
mod util;
