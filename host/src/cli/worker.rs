//! `host worker` (hidden): the worker process of process mode. The host starts it; people don't.
//! This file also builds the [`WorkerCommand`] that starts it, so the subcommand's spelling lives
//! in one place.

use std::{ffi::OsString, path::PathBuf};

use clap::Args;

use super::Outcome;
use crate::runner::{WorkerCommand, worker};

/// The hidden subcommand's name.
const SUBCOMMAND: &str = "worker";

/// Serve tasks for a host over stdin and stdout (started by `host run --mode process`); what to
/// load and how comes from the host's first message.
#[derive(Debug, Args)]
pub struct WorkerArgs {}

/// `host worker` exactly (how every worker process is started): served without building the
/// whole command line first, which takes a few hundred microseconds of every worker's start.
/// Anything else (`host worker --help`, a mistake) goes through the parser as usual.
pub(super) fn is_bare_worker_command() -> bool {
    let mut args = std::env::args_os().skip(1);
    matches!((args.next(), args.next()), (Some(first), None) if first == SUBCOMMAND)
}

impl WorkerArgs {
    pub(super) fn exec(self) -> Outcome {
        worker::die_with_parent();
        Outcome::Exit(worker::serve())
    }
}

/// The command that starts a worker: `program worker` (the `host` binary itself unless another
/// is given), behind `launcher` if there is one.
pub fn worker_command(program: PathBuf, launcher: Vec<OsString>) -> WorkerCommand {
    WorkerCommand::new(program, [SUBCOMMAND]).with_launcher(launcher)
}
