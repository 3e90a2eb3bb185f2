//! The `host` command line: [`Cli`] and its subcommands, one file each, and [`main`], which maps
//! every error to one sentence on stderr and its exit code.

mod inspect;
mod launch;
mod list;
pub(crate) mod new;
mod run;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{EXIT_CODES_HELP, EXIT_INTERRUPTED, EXIT_TASKS_FAILED, HostError};

/// Quack: loads plugins through a stable ABI, finds out what they can do from the methods they
/// have, and runs their tasks inline, on threads or in worker processes.
#[derive(Debug, Parser)]
#[command(name = "host", version, after_help = EXIT_CODES_HELP)]
#[command(about = "Load Quack plugins, see what they can do, and run their tasks")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Run(Box<run::RunArgs>),
    Inspect(inspect::InspectArgs),
    List(list::ListArgs),
    New(new::NewArgs),
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
}

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything went well.
    Success,
    /// The run finished, but some tasks did not end `ok`.
    TasksFailed,
    /// The run was interrupted with Ctrl-C.
    Interrupted,
    /// A worker process ends with this code.
    Exit(u8),
}

impl Cli {
    /// Runs the parsed command.
    pub fn exec(self) -> Result<Outcome, HostError> {
        match self.command {
            Command::Run(args) => (*args).exec(),
            Command::Inspect(args) => args.exec(),
            Command::List(args) => args.exec(),
            Command::New(args) => args.exec(),
            Command::Worker(args) => Ok(args.exec()),
        }
    }
}

/// Parses the command line, runs it and turns the result into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.exec() {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::TasksFailed) => ExitCode::from(EXIT_TASKS_FAILED),
        Ok(Outcome::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn valid_and_invalid_command_lines() {
        let cases: &[(&[&str], bool)] = &[
            (&["host", "run", "plugins/libfactorize.so"], true),
            (
                &[
                    "host",
                    "run",
                    "p.so",
                    "--task",
                    "6",
                    "--task",
                    "7",
                    "--mode",
                    "thread",
                    "--workers",
                    "2",
                ],
                true,
            ),
            (
                &[
                    "host",
                    "run",
                    "p.so",
                    "--input",
                    "-",
                    "--set",
                    "name=Donald",
                    "--json",
                    "out.json",
                ],
                true,
            ),
            (
                &[
                    "host",
                    "run",
                    "p.so",
                    "--config",
                    "{\"method\": \"sqrt\"}",
                    "--mode",
                    "inline",
                ],
                true,
            ),
            (&["host", "run"], false),
            (&["host", "run", "p.so", "--mode", "fast"], false),
            (&["host", "run", "p.so", "--workers", "0"], false),
            (&["host", "run", "p.so", "--set", "novalue"], false),
            (
                &["host", "run", "p.so", "--task", "1", "--input", "f.json"],
                false,
            ),
            (&["host", "inspect", "p.so", "--json"], true),
            (&["host", "list"], true),
            (&["host", "list", "some/dir"], true),
            (&["host", "frobnicate"], false),
            // The benchmark is its own program, quack-bench.
            (&["host", "bench"], false),
        ];
        for (line, valid) in cases {
            assert_eq!(Cli::try_parse_from(*line).is_ok(), *valid, "{line:?}");
        }
    }
}
