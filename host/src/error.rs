//! [`HostError`]: every way a `host` command can fail, each one sentence for the user with its own
//! exit code (listed in `host --help`).

use std::{io, path::PathBuf};

use crate::{
    cli::new::NewError, input::InputError, loader::LoadError, report::file::ReportFileError,
    runner::RunError,
};

/// Exit code when every task ran and at least one did not end `ok`.
pub const EXIT_TASKS_FAILED: u8 = 1;

/// Exit code when the run was interrupted with Ctrl-C (128 + SIGINT, as shells do).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The exit codes, for `host --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success: every task ended ok
  1  the run finished but some tasks failed (see their status)
  2  the command line is wrong
  3  the plugin (or the directory to list) does not exist
  4  the file is not a shared library
  5  the shared library is not a Quack plugin
  6  the plugin was built for another Quack ABI version, or its ABI types differ from the host's
  7  the plugin's describe or methods failed (a plugin bug)
  8  the plugin has no interface the host can run (neither Workload nor Animal)
  9  the tasks or the configuration given on the command line are invalid
 10  the plugin refused its configuration, or failed to start
 11  the report or the output could not be written
 12  the host could not start its workers, or could not keep them going (the tasks left are
     reported not-run, and the report is still written)
 13  `host new`: the name is not a valid crate name, or the directory already exists
 14  the launcher (--launcher, --slurm) could not be run, or no worker could be started through
     it (its own message is quoted)
130  interrupted with Ctrl-C (finished tasks are reported, the rest cancelled)";

/// A failed `host` command.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The plugin has neither `run` nor `name` and `sound`.
    #[error("{path} ({name}) cannot be run: {details}")]
    NotRunnable {
        /// The plugin's path.
        path: PathBuf,
        /// The plugin's name.
        name: String,
        /// What each interface lacks.
        details: String,
    },
    /// The tasks could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// `--config` or `--set` is not usable.
    #[error("{0}")]
    Config(String),
    /// Options that cannot go together.
    #[error("{0}")]
    Usage(String),
    /// The Ctrl-C handler could not be installed.
    #[error("could not install the Ctrl-C handler: {0}")]
    Signal(#[source] io::Error),
    /// The run could not start.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The JSON report cannot be (or could not be) written.
    #[error(transparent)]
    Report(#[from] ReportFileError),
    /// The path of the host binary, which workers run, is unknown.
    #[error(
        "cannot find the host binary to start workers with ({0}); give it with --worker-program"
    )]
    WorkerProgram(#[source] io::Error),
    /// Standard output could not be written.
    #[error("could not write to standard output: {0}")]
    Output(#[source] io::Error),
    /// `host new` wrote nothing.
    #[error(transparent)]
    New(#[from] NewError),
    /// A directory to list could not be read.
    #[error("could not read the directory {path}: {source}; give an existing directory of plugins")]
    ListDirectory {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

impl HostError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            HostError::Load(error) => error.exit_code(),
            HostError::NotRunnable { .. } => 8,
            HostError::Usage(_) => 2,
            HostError::Input(_) | HostError::Config(_) => 9,
            HostError::Signal(_) | HostError::WorkerProgram(_) => 12,
            HostError::Run(RunError::Instance(_)) => 10,
            HostError::Run(RunError::LauncherMissing { .. } | RunError::Launcher { .. }) => 14,
            HostError::Run(_) => 12,
            HostError::Report(_) | HostError::Output(_) => 11,
            HostError::ListDirectory { .. } => 3,
            HostError::New(error) => error.exit_code(),
        }
    }
}
