//! [`BenchError`]: why a benchmark run could not go to the end, and the exit code for each case.

use std::{io, path::PathBuf, process::ExitStatus};

use quack_host::loader::LoadError;

use crate::drive::RunError;

/// Why the benchmark could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A plugin library the benchmark needs is not in the plugin directory.
    #[error(
        "{dir} has no {file}; build the plugins (cargo build --release -p quack-plugin-factorize -p quack-plugin-slow-io) and give their directory with --plugins target/release, or run scripts/setup"
    )]
    MissingPlugin {
        /// The directory looked in.
        dir: PathBuf,
        /// The library's file name.
        file: String,
    },
    /// A program the benchmark runs (the `host` binary or the rayon peer) is not there.
    #[error("{path} does not exist; {hint}")]
    MissingProgram {
        /// Where it was looked for.
        path: PathBuf,
        /// How to get it.
        hint: &'static str,
    },
    /// A plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An executor could not start or go on.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A run computed something other than the known answer, or fewer answers than tasks.
    #[error("{scenario}: wrong result: {detail}")]
    WrongResult {
        /// The scenario.
        scenario: &'static str,
        /// What was expected and what came.
        detail: String,
    },
    /// A process the benchmark starts could not be started or waited for.
    #[error("{what}: {source}")]
    Process {
        /// What was being done.
        what: String,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A process the benchmark started ended badly.
    #[error("{what} ended with {status}{stderr}")]
    ChildFailed {
        /// What it was.
        what: String,
        /// How it ended.
        status: ExitStatus,
        /// Its last words, prefixed with a colon, or nothing.
        stderr: String,
    },
    /// A peer program (Python, Go) printed something other than its figures.
    #[error("{peer}: {detail}")]
    Peer {
        /// Which peer.
        peer: String,
        /// What was wrong.
        detail: String,
    },
    /// The JSON figures could not be written.
    #[error(
        "could not write the figures to {path}: {source}; check that its directory exists and is writable"
    )]
    Report {
        /// Where they were to go.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Standard output could not be written.
    #[error("could not write to standard output: {0}")]
    Output(#[source] io::Error),
}

impl BenchError {
    /// The process exit code (see `quack-bench --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::WrongResult { .. }
            | BenchError::ChildFailed { .. }
            | BenchError::Peer { .. } => 1,
            BenchError::MissingPlugin { .. } | BenchError::MissingProgram { .. } => 3,
            BenchError::Load(error) => quack_host::cli::error::load_exit_code(error),
            BenchError::Run(RunError::Instance(_)) => 10,
            BenchError::Report { .. } | BenchError::Output(_) => 11,
            BenchError::Run(_) | BenchError::Process { .. } => 12,
        }
    }
}
