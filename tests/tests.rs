//! The one integration test binary. Each stage has a module; shared helpers
//! (signal generators, the binary's path, tool detection) are in `util`.

mod cdtext;
mod ddp;
mod disc;
mod init;
mod manifest;
mod util;
