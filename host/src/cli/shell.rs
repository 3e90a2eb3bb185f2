//! Shell integration: `host completions SHELL` prints a completion script, `host man` the manual
//! page (roff), both generated from the command line's own definition so they never drift.

use std::io::{self, Write};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Outcome};
use crate::cli::error::HostError;

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  host completions bash > ~/.local/share/bash-completion/completions/host
  host completions zsh > ~/.zfunc/_host
  host completions fish > ~/.config/fish/completions/host.fish";

/// Print a completion script for a shell on standard output.
#[derive(Debug, Args)]
#[command(after_help = COMPLETIONS_EXAMPLES)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: Shell,
}

impl CompletionsArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let mut command = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "host", &mut script);
        print(&script)
    }
}

/// Print the manual page (roff) on standard output, e.g. `host man | man -l -`.
#[derive(Debug, Args)]
pub struct ManArgs {}

impl ManArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .map_err(HostError::Output)?;
        print(&page)
    }
}

/// Writes `bytes` to standard output; a closed pipe (`host man | head`) is not an error.
fn print(bytes: &[u8]) -> Result<Outcome, HostError> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(HostError::Output(error)),
        _ => Ok(Outcome::Success),
    }
}
