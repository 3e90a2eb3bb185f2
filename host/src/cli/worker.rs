//! `host worker` (hidden): the worker process of process mode. The host starts it; people don't,
//! and one who does (stdin a terminal, or bytes that are not a host's start message) is told so
//! in one sentence on stderr, with the usage exit code.
//! This file also builds the [`WorkerCommand`] that starts it, so the subcommand's spelling lives
//! in one place.

use std::{ffi::OsString, io::IsTerminal as _, path::PathBuf};

use clap::Args;

use super::{Outcome, error::EXIT_USAGE, sandbox::SandboxArgs, stdio};
use crate::{
    runner::{WorkerCommand, worker},
    sandbox::Policy,
};

/// The hidden subcommand's name.
const SUBCOMMAND: &str = "worker";

/// Serve tasks for a host over stdin and stdout (started by `host run --mode process`); what to
/// load and how comes from the host's first message, the sandbox (if any) from the flags.
#[derive(Debug, Default, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// `host worker` exactly (how every worker process is started): served without building the
/// whole command line first, which takes a few hundred microseconds of every worker's start.
/// Anything else (`host worker --help`, a mistake) goes through the parser as usual.
pub(super) fn is_bare_worker_command() -> bool {
    let mut args = std::env::args_os().skip(1);
    matches!((args.next(), args.next()), (Some(first), None) if first == SUBCOMMAND)
}

/// What `host worker` says to someone who runs it by hand.
const NOT_BY_HAND: &str = "host worker is started by host run (process mode) and speaks a binary protocol on stdin and stdout, so it is not run by hand; run a plugin with `host run PLUGIN --mode process` instead";

impl WorkerArgs {
    pub(super) fn exec(self) -> Outcome {
        // A terminal on stdin is a person, never a host: say so before waiting for a frame.
        if std::io::stdin().is_terminal() {
            stdio::note(format_args!("error: {NOT_BY_HAND}"));
            return Outcome::Exit(EXIT_USAGE);
        }
        worker::die_with_parent();
        match worker::serve(self.sandbox.policy().as_ref()) {
            Ok(code) => Outcome::Exit(code),
            Err(worker::NotStartedByHost) => {
                stdio::note(format_args!(
                    "error: what came on stdin is not a start message from a host; {NOT_BY_HAND}"
                ));
                Outcome::Exit(EXIT_USAGE)
            }
        }
    }
}

/// The command that starts a worker: `program worker` (the `host` binary itself unless another
/// is given), with the sandbox's flags when there is one, behind `launcher` if there is one.
pub fn worker_command(
    program: PathBuf,
    launcher: Vec<OsString>,
    sandbox: Option<&Policy>,
) -> WorkerCommand {
    let flags = sandbox.map(Policy::words).unwrap_or_default();
    WorkerCommand::new(
        program,
        std::iter::once(OsString::from(SUBCOMMAND)).chain(flags),
    )
    .with_launcher(launcher)
}
