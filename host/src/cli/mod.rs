//! The `host` command line: [`Cli`] and its subcommands, one file each, and [`main`], which maps
//! every error to one sentence on stderr and its exit code.

mod compare;
mod duration;
pub mod error;
mod exit_guard;
mod inspect;
mod launch;
mod list;
pub(crate) mod new;
mod probe;
mod report;
mod run;
mod sandbox;
mod shell;
mod signals;
mod stdio;
mod verbosity;
mod worker;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::cli::error::{
    EXIT_CODES_HELP, EXIT_OUTPUT_CLOSED, EXIT_TASKS_FAILED, EXIT_USAGE, HostError, exit_interrupted,
};

/// Quack: loads plugins through a stable ABI, finds out what they can do from the methods they
/// have, and runs their tasks inline, on threads or in worker processes.
#[derive(Debug, Parser)]
#[command(name = "host", after_help = EXIT_CODES_HELP)]
#[command(version = crate::version::short(), long_version = crate::version::long())]
#[command(about = "Load Quack plugins, see what they can do, and run their tasks")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,

    #[command(flatten)]
    ui: verbosity::UiArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    Run(Box<run::RunArgs>),
    Inspect(inspect::InspectArgs),
    List(list::ListArgs),
    New(new::NewArgs),
    Compare(compare::CompareArgs),
    Report(report::ReportArgs),
    Completions(shell::CompletionsArgs),
    Man(shell::ManArgs),
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
    #[command(hide = true)]
    Probe(probe::ProbeArgs),
}

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything went well.
    Success,
    /// The run finished, but some tasks did not end `ok`; or `host compare` found a regression.
    TasksFailed,
    /// The run was stopped by this signal (SIGINT, SIGTERM or SIGHUP).
    Interrupted(i32),
    /// The reader of stdout went away and the run stopped (`host run ... | head -1`).
    OutputClosed,
    /// A worker process ends with this code.
    Exit(u8),
}

impl Cli {
    /// Runs the parsed command.
    pub fn exec(self) -> Result<Outcome, HostError> {
        match self.command {
            Command::Run(args) => run::exec(*args),
            Command::Inspect(args) => args.exec(),
            Command::List(args) => args.exec(),
            Command::New(args) => args.exec(),
            Command::Compare(args) => args.exec(),
            Command::Report(args) => args.exec(),
            Command::Completions(args) => args.exec(),
            Command::Man(args) => args.exec(),
            Command::Worker(args) => Ok(args.exec()),
            Command::Probe(args) => args.exec(),
        }
    }
}

/// Parses the command line, runs it and turns the result into an exit code. Nothing printed on
/// stderr or stdout can make it panic: a closed or full stream loses the text, not the exit code.
pub fn main() -> ExitCode {
    signals::unblock_inherited();
    if worker::is_bare_worker_command() {
        // What the parser would give: no options, plain lines on stderr, no tracing.
        let _disarm = exit_guard::DisarmOnDrop;
        return match worker::WorkerArgs::default().exec() {
            Outcome::Exit(code) => ExitCode::from(code),
            _ => ExitCode::SUCCESS,
        };
    }
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout, mistakes to stderr; a closed stream is ignored.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_USAGE));
        }
    };
    if let Command::Run(args) = &mut cli.command {
        // What clap does not keep: which spelling of --workers was typed, for the runner's line.
        let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
        args.workers_flag = run::workers_flag(&Cli::command(), &argv);
    }
    // A worker process's stderr is read by its host; its lines stay plain.
    cli.ui.install(!matches!(
        cli.command,
        Command::Worker(_) | Command::Probe(_)
    ));
    let result = {
        // Disarmed when the command returns, and also if a bug of the host's own panics out of
        // it: from then on, an exit is the host's.
        let _disarm = exit_guard::DisarmOnDrop;
        cli.exec()
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::TasksFailed) => ExitCode::from(EXIT_TASKS_FAILED),
        Ok(Outcome::Interrupted(signal)) => ExitCode::from(exit_interrupted(signal)),
        Ok(Outcome::OutputClosed) => ExitCode::from(EXIT_OUTPUT_CLOSED),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(error) => {
            stdio::note(format_args!("error: {error}"));
            ExitCode::from(error.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            // --task values run before --input's tasks.
            (
                &["host", "run", "p.so", "--task", "1", "--input", "f.json"],
                true,
            ),
            (&["host", "run", "p.so", "--input-format", "csv"], false),
            (
                &[
                    "host",
                    "run",
                    "p.so",
                    "--input",
                    "-",
                    "--input-format",
                    "xml",
                ],
                false,
            ),
            (
                &["host", "run", "p.so", "--dry-run", "--json", "r.json"],
                false,
            ),
            (&["host", "inspect", "p.so", "--json"], true),
            (&["host", "list"], true),
            (&["host", "list", "some/dir"], true),
            (&["host", "run", "p.so", "--as", "animal"], true),
            (&["host", "run", "p.so", "--as", "workload"], true),
            (&["host", "run", "p.so", "--as", "robot"], false),
            (&["host", "run", "p.so", "--max-fail", "3"], true),
            (&["host", "run", "p.so", "--max-fail", "0"], false),
            (&["host", "run", "p.so", "--launcher", "ssh node1"], true),
            (
                &["host", "run", "p.so", "--worker-program", "/opt/host"],
                true,
            ),
            (&["host", "frobnicate"], false),
            // The benchmark is its own program, quack-bench.
            (&["host", "bench"], false),
            (&["host", "compare", "old.json", "new.json"], true),
            (
                &[
                    "host",
                    "compare",
                    "old.json",
                    "new.json",
                    "--threshold",
                    "5%",
                    "--noise-floor",
                    "500us",
                    "--force",
                    "--format",
                    "json",
                ],
                true,
            ),
            (
                &["host", "compare", "a.json", "b.json", "--threshold", "7.5"],
                true,
            ),
            (
                &["host", "compare", "a.json", "b.json", "--noise-floor", "0"],
                true,
            ),
            (&["host", "compare", "old.json"], false),
            (
                &["host", "compare", "a.json", "b.json", "--threshold", "ten"],
                false,
            ),
            (
                &["host", "compare", "a.json", "b.json", "--threshold", "-5%"],
                false,
            ),
            (
                &[
                    "host",
                    "compare",
                    "a.json",
                    "b.json",
                    "--noise-floor",
                    "soon",
                ],
                false,
            ),
            (
                &["host", "compare", "a.json", "b.json", "--format", "xml"],
                false,
            ),
            (&["host", "completions", "bash"], true),
            (&["host", "completions", "zsh"], true),
            (&["host", "completions", "fish"], true),
            (&["host", "completions", "tcsh"], false),
            (&["host", "completions"], false),
            (&["host", "man"], true),
            (&["host", "man", "extra"], false),
            (&["host", "man", "run"], true),
            (&["host", "man", "--dir", "pages"], true),
            (&["host", "man", "run", "--dir", "pages"], false),
            // Global flags: before or after the subcommand.
            (&["host", "-q", "run", "p.so"], true),
            (&["host", "run", "p.so", "--quiet"], true),
            (&["host", "-v", "run", "p.so"], true),
            (&["host", "run", "p.so", "-vv"], true),
            (&["host", "-v", "inspect", "p.so"], true),
            (&["host", "run", "p.so", "-q", "-v"], false),
            (&["host", "--color", "always", "run", "p.so"], true),
            (&["host", "run", "p.so", "--color", "never"], true),
            (&["host", "list", "--color", "auto"], true),
            (&["host", "run", "p.so", "--color", "sometimes"], false),
            (&["host", "run", "p.so", "--keep-order"], true),
            (&["host", "run", "p.so", "--width", "80"], true),
            (&["host", "run", "p.so", "--width", "wide"], false),
            (&["host", "run", "p.so", "-j", "2"], true),
            (&["host", "run", "p.so", "-j2", "--jobs", "3"], false),
            (&["host", "run", "p.so", "--jobs=4"], true),
            (&["host", "run", "p.so", "-j", "0"], false),
        ];
        for (line, valid) in cases {
            assert_eq!(Cli::try_parse_from(*line).is_ok(), *valid, "{line:?}");
        }
    }

    #[test]
    fn the_spelling_of_workers_is_the_last_one_typed() {
        use crate::runner::WorkersFlag;
        let typed = |line: &[&str]| {
            let argv: Vec<std::ffi::OsString> = line.iter().map(Into::into).collect();
            assert!(Cli::try_parse_from(&argv).is_ok(), "{line:?}");
            run::workers_flag(&Cli::command(), &argv)
        };
        assert_eq!(typed(&["host", "run", "p.so", "-j", "2"]), WorkersFlag::J);
        assert_eq!(typed(&["host", "run", "p.so", "-qj2"]), WorkersFlag::J);
        assert_eq!(
            typed(&["host", "run", "p.so", "--jobs=2"]),
            WorkersFlag::Jobs
        );
        assert_eq!(
            typed(&["host", "-q", "run", "p.so", "--jobs", "2"]),
            WorkersFlag::Jobs
        );
        assert_eq!(
            typed(&["host", "run", "p.so", "--workers", "2"]),
            WorkersFlag::Workers
        );
        assert_eq!(typed(&["host", "run", "p.so"]), WorkersFlag::Workers);
        // Values that look like the flag are values.
        assert_eq!(
            typed(&[
                "host",
                "run",
                "p.so",
                "--task",
                "-j",
                "--workers",
                "2",
                "--set",
                "x=-j"
            ]),
            WorkersFlag::Workers
        );
        assert_eq!(
            typed(&[
                "host",
                "--color",
                "never",
                "run",
                "p.so",
                "--launcher",
                "-j",
                "-j",
                "3"
            ]),
            WorkersFlag::J
        );
    }
}
