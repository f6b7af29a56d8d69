//! `glassmaster completions SHELL` and `glassmaster man`: the shell
//! completion script and the roff man page, both generated from the clap
//! definitions in [`super::Cli`], so they always list the flags the binary
//! takes. Both go to stdout (`glassmaster man > glassmaster.1`).

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use super::{Cli, Outcome};

/// The completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<Outcome> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "glassmaster", &mut out);
    out.flush()?;
    Ok(Outcome::Success)
}

/// The man page (section 1, roff) on stdout: glassmaster's own (its
/// commands listed), or with `command` that command's, as
/// `glassmaster-build(1)`, with every flag it takes.
pub fn man(command: Option<&str>) -> Result<Outcome> {
    let top = Cli::command();
    let cmd = match command {
        None => top,
        Some(name) => {
            let Some(sub) = top.find_subcommand(name) else {
                let names: Vec<&str> = top.get_subcommands().map(|s| s.get_name()).collect();
                anyhow::bail!(
                    "`{name}` is not a glassmaster command; the commands are {}",
                    names.join(", ")
                );
            };
            // The synopsis reads `glassmaster build ...`, the title
            // glassmaster-build(1).
            sub.clone()
                .display_name(format!("glassmaster-{name}"))
                .bin_name(format!("glassmaster {name}"))
        }
    };
    let mut page: Vec<u8> = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(Outcome::Success)
}
