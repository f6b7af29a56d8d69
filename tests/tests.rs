//! The one integration test binary. Each stage has a module; shared helpers
//! (signal generators, the binary's path, tool detection) are in `util`.

mod analysis;
mod cdtext;
mod cli;
mod ddp;
mod deliver;
mod dsp;
mod init;
mod manifest;
mod util;
