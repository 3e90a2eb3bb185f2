//! [`HostError`]: every way a `host` command can fail, each one sentence for the user, and the
//! `host` binary's exit codes (listed in `host --help`), all named here and mapped from errors only
//! here.

use std::{io, path::PathBuf};

use crate::{
    cli::new::NewError,
    input::InputError,
    loader::LoadError,
    program::ProgramError,
    report::{file::ReportFileError, read::ReadReportError},
    runner::RunError,
    sandbox::SandboxError,
};

/// Exit code when every task ran and at least one did not end `ok`, or when `host compare` found a
/// regression.
pub const EXIT_TASKS_FAILED: u8 = 1;

/// Exit code when the command line is wrong.
pub const EXIT_USAGE: u8 = 2;

/// Exit code when the plugin (or the directory to list) does not exist.
pub const EXIT_NOT_FOUND: u8 = 3;

/// Exit code when the file is not a shared library.
pub const EXIT_NOT_SHARED_LIBRARY: u8 = 4;

/// Exit code when the shared library is not a Quack plugin, or a program plugin's interpreter
/// cannot be started.
pub const EXIT_NOT_A_PLUGIN: u8 = 5;

/// Exit code when the plugin was built for another ABI version, or its ABI types differ, or a
/// program plugin speaks another major version of the program protocol.
pub const EXIT_ABI_MISMATCH: u8 = 6;

/// Exit code when the plugin's `describe` or `methods` failed, or its C table is broken, or a
/// program plugin did not start (it ended, stayed silent or broke the protocol before it said
/// what it is).
pub const EXIT_DESCRIBE_FAILED: u8 = 7;

/// Exit code when the plugin has no interface the host can run.
pub const EXIT_NOT_RUNNABLE: u8 = 8;

/// Exit code when the tasks or the configuration given are invalid.
pub const EXIT_BAD_INPUT: u8 = 9;

/// Exit code when the plugin refused its configuration, or failed to start.
pub const EXIT_PLUGIN_REFUSED: u8 = 10;

/// Exit code when the report or the output could not be written.
pub const EXIT_WRITE_FAILED: u8 = 11;

/// Exit code when the host could not start its workers, or could not keep them going.
pub const EXIT_WORKERS_FAILED: u8 = 12;

/// Exit code when a plugin running in the host's process ended it (it called `exit`).
pub const EXIT_PLUGIN_EXITED: u8 = 13;

/// Exit code when loading a plugin in a probe process crashed it or took too long.
pub const EXIT_PROBE_FAILED: u8 = 14;

/// Exit code when `host new` was given a name that is not a valid crate name or an existing
/// directory, or found no quack-core to depend on.
pub const EXIT_NEW_REFUSED: u8 = 15;

/// Exit code when `host compare` cannot read a report.
pub const EXIT_REPORT_UNREADABLE: u8 = 16;

/// Exit code when a report given to `host compare` is not JSON.
pub const EXIT_REPORT_NOT_JSON: u8 = 17;

/// Exit code when a report given to `host compare` is JSON but not a Quack report.
pub const EXIT_NOT_A_REPORT: u8 = 18;

/// Exit code when a report given to `host compare` has a newer format version.
pub const EXIT_REPORT_FUTURE_FORMAT: u8 = 19;

/// Exit code when `host compare` was given reports of different plugins.
pub const EXIT_DIFFERENT_PLUGINS: u8 = 20;

/// Exit code when the launcher could not be run, or no worker could be started through it.
pub const EXIT_LAUNCHER_FAILED: u8 = 21;

/// Exit code when the `--json` target cannot be written there, found before anything ran: not a
/// regular file, a directory that cannot be written, or a file the user may not replace (another
/// user's file in a sticky directory such as /tmp).
pub const EXIT_REPORT_REFUSED: u8 = 22;

/// Exit code when a report given to `host compare` is larger than it reads.
pub const EXIT_REPORT_TOO_LARGE: u8 = 23;

/// Exit code when `host run --sandbox` cannot set up its sandbox: the kernel (or a container
/// around the host) lacks a feature it needs, named in the sentence.
pub const EXIT_SANDBOX_UNAVAILABLE: u8 = 24;

/// Exit code when a sandbox grant or limit is invalid: a path to `--allow-read` or
/// `--allow-write` that does not exist, a `--memory` too small to start in.
pub const EXIT_SANDBOX_GRANT: u8 = 25;

/// The exit code of a sandbox that could not be set up.
pub fn sandbox_exit_code(error: &SandboxError) -> u8 {
    match error {
        SandboxError::Grant(_) => EXIT_SANDBOX_GRANT,
        SandboxError::Missing(_) | SandboxError::Failed(_) => EXIT_SANDBOX_UNAVAILABLE,
    }
}

/// Exit code when `host report` (or `host compare --html`) cannot write a picture of the report
/// (`--trace`, `--html`).
pub const EXIT_PICTURE_FAILED: u8 = 26;

/// Exit code when the run was stopped by `signal` (SIGINT, SIGTERM or SIGHUP): 128 + the signal's
/// number, as shells do.
pub fn exit_interrupted(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(130)
}

/// Exit code when the reader of stdout went away (`host run ... | head -1`): 128 + SIGPIPE, what a
/// shell shows for a tool that SIGPIPE ended. The run stops quietly; a `--json` file is still
/// written.
pub const EXIT_OUTPUT_CLOSED: u8 = 141;

/// The name of a stopping signal, for sentences.
fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGINT => "Ctrl-C (SIGINT)".to_owned(),
        libc::SIGTERM => "SIGTERM".to_owned(),
        libc::SIGHUP => "SIGHUP".to_owned(),
        other => format!("signal {other}"),
    }
}

/// The exit codes, for `host --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success: every task ended ok
  1  the run finished but some tasks failed (see their status); `host compare`: something
     regressed (a status got worse, an output changed for the same input, a task went missing,
     or a time got worse: significantly and beyond --threshold, see `host compare --help`)
  2  the command line is wrong
  3  the plugin (or the directory to list) does not exist
  4  the file is not a shared library
  5  the shared library is not a Quack plugin, or a program plugin's interpreter (its #! line)
     cannot be started
  6  the plugin was built for another Quack ABI version, or its ABI types differ from the host's,
     or a program plugin speaks another major version of the program protocol
  7  the plugin's describe or methods failed, or its C table is broken (a plugin bug), or a
     program plugin ended, stayed silent or broke the protocol before it said what it is
  8  the plugin has no interface the host can run (neither Workload nor Animal)
  9  the tasks or the configuration given on the command line are invalid
 10  the plugin refused its configuration, or failed to start
 11  the report or the output could not be written (a report written whole but not put in
     place is kept, and named)
 12  the host could not start its workers, or could not keep them going (the tasks left are
     reported not-run, and the report is still written)
 13  the plugin ended the host's process itself (it called exit in inline or thread mode, or
     while loading); its output is incomplete and no report was written
 14  loading the plugin crashed or hung (inspect and list load each file in a child process)
 15  `host new`: the name is not a valid crate name, the directory already exists, or no
     quack-core was found to depend on (see `host new --help`)
 16  `host compare`, `host report`: a report cannot be read (no such file, no permission)
 17  `host compare`, `host report`: a report is not JSON
 18  `host compare`, `host report`: a file is JSON but not a Quack report
 19  `host compare`, `host report`: a report has a newer format version than this host reads
 20  `host compare`: the reports are of different plugins (--force compares them anyway)
 21  the launcher (--launcher, --slurm) could not be run, or no worker could be started through
     it (its own message is quoted)
 22  `host run`: the --json (or --trace, --html) target cannot be written (not a regular
     file, a directory that cannot be written, another user's file in a sticky directory),
     found before anything ran
 23  `host compare`, `host report`: a report is larger than the 256 MiB they read
 24  `host run --sandbox`: the sandbox cannot be set up (the kernel, or a container around the
     host, lacks a feature it needs, named; --sandbox=best-effort runs without it)
 25  `host run --sandbox`: a grant or limit is invalid (--allow-read or --allow-write of a path
     that does not exist, a --memory too small for a worker to start in)
 26  `host report`, `host compare --html`: the --trace or --html file cannot be written
129  stopped by SIGHUP (finished tasks are reported, the rest cancelled)
130  interrupted with Ctrl-C, SIGINT (finished tasks are reported, the rest cancelled)
141  `host run`: the reader of stdout went away (`| head`): the run stopped quietly, as SIGPIPE
     stops a shell tool; a --json file is still written, with the rest cancelled
143  stopped by SIGTERM (finished tasks are reported, the rest cancelled)";

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
    /// The signal handlers (Ctrl-C, SIGTERM, SIGHUP) could not be installed.
    #[error("could not install the signal handlers: {0}")]
    Signal(#[source] io::Error),
    /// A stopping signal came while a child process loaded a plugin (a probe); it was stopped.
    #[error(
        "interrupted by {} while loading {} in a child process, which was stopped",
        signal_name(*.signal),
        .what.display()
    )]
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// The plugin (or the directory of plugins) being loaded.
        what: PathBuf,
    },
    /// The run could not start.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The plugin refused its configuration, with a way out the command line can name.
    #[error("{error} ({hint})")]
    ConfigRefused {
        /// The refusal.
        error: RunError,
        /// What to write instead.
        hint: String,
    },
    /// The JSON report (or, for `host run`, its trace) cannot be (or could not be) written.
    #[error(transparent)]
    Report(#[from] ReportFileError),
    /// `host report` cannot write its picture of the report.
    #[error(transparent)]
    Picture(ReportFileError),
    /// The path of the host binary, which workers run, is unknown.
    #[error(
        "cannot find the host binary to start workers with ({0}); give it with --worker-program"
    )]
    WorkerProgram(#[source] io::Error),
    /// Loading the plugin in a probe process failed (see `host probe`).
    #[error("{message}")]
    Probe {
        /// The sentence.
        message: String,
        /// The exit code it goes with.
        code: u8,
    },
    /// A manual page could not be written (`host man --dir`).
    #[error(
        "could not write the manual page {path}: {source}; give --dir a directory you can write"
    )]
    ManPage {
        /// The page, or the directory that could not be made.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Standard output could not be written.
    #[error("could not write to standard output: {0}")]
    Output(#[source] io::Error),
    /// A file a run writes beside its report (`--joblog`, `--junit`) could not be written.
    #[error(
        "could not write the {flag} file {}: {source}; give a path in a directory you can write",
        .path.display()
    )]
    LogFile {
        /// The flag that named it.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// `host new` wrote nothing.
    #[error(transparent)]
    New(#[from] NewError),
    /// A report given to `host compare` cannot be read.
    #[error(transparent)]
    ReadReport(#[from] ReadReportError),
    /// `host compare` was given reports of different plugins without `--force`.
    #[error(
        "{old} is a report of {old_plugin} but {new} of {new_plugin}; compare reports of the same plugin, or give --force"
    )]
    DifferentPlugins {
        /// The old report.
        old: PathBuf,
        /// Its plugin's name.
        old_plugin: String,
        /// The new report.
        new: PathBuf,
        /// Its plugin's name.
        new_plugin: String,
    },
    /// `host run --sandbox` cannot set up its sandbox, or a grant is invalid.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
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
            HostError::Load(error) => load_exit_code(error),
            HostError::NotRunnable { .. } => EXIT_NOT_RUNNABLE,
            HostError::Usage(_) => EXIT_USAGE,
            HostError::Interrupted { signal, .. } => exit_interrupted(*signal),
            HostError::Input(_) | HostError::Config(_) => EXIT_BAD_INPUT,
            HostError::Signal(_) | HostError::WorkerProgram(_) => EXIT_WORKERS_FAILED,
            HostError::Run(RunError::Instance(_)) | HostError::ConfigRefused { .. } => {
                EXIT_PLUGIN_REFUSED
            }
            HostError::Run(RunError::LauncherMissing { .. } | RunError::Launcher { .. }) => {
                EXIT_LAUNCHER_FAILED
            }
            HostError::Run(_) => EXIT_WORKERS_FAILED,
            HostError::Report(error) if error.before_the_run() => EXIT_REPORT_REFUSED,
            HostError::Report(_)
            | HostError::Output(_)
            | HostError::LogFile { .. }
            | HostError::ManPage { .. } => EXIT_WRITE_FAILED,
            HostError::ListDirectory { .. } => EXIT_NOT_FOUND,
            HostError::New(
                NewError::InvalidName { .. }
                | NewError::Exists { .. }
                | NewError::NoCore
                | NewError::NotCore { .. },
            ) => EXIT_NEW_REFUSED,
            HostError::New(NewError::Write { .. }) => EXIT_WRITE_FAILED,
            HostError::Probe { code, .. } => *code,
            HostError::ReadReport(error) => match error {
                ReadReportError::Unreadable { .. } => EXIT_REPORT_UNREADABLE,
                ReadReportError::NotJson { .. } => EXIT_REPORT_NOT_JSON,
                ReadReportError::NotAReport { .. } => EXIT_NOT_A_REPORT,
                ReadReportError::FutureFormat { .. } => EXIT_REPORT_FUTURE_FORMAT,
                ReadReportError::TooLarge { .. } => EXIT_REPORT_TOO_LARGE,
            },
            HostError::DifferentPlugins { .. } => EXIT_DIFFERENT_PLUGINS,
            HostError::Sandbox(error) => sandbox_exit_code(error),
            HostError::Picture(_) => EXIT_PICTURE_FAILED,
        }
    }
}

/// The exit code for a plugin that could not be loaded.
pub fn load_exit_code(error: &LoadError) -> u8 {
    match error {
        LoadError::NotFound { .. } => EXIT_NOT_FOUND,
        LoadError::NotSharedLibrary { .. } => EXIT_NOT_SHARED_LIBRARY,
        LoadError::NotAPlugin { .. } => EXIT_NOT_A_PLUGIN,
        LoadError::AbiMismatch { .. }
        | LoadError::CAbiMismatch { .. }
        | LoadError::LayoutMismatch { .. } => EXIT_ABI_MISMATCH,
        LoadError::DescribeFailed { .. } => EXIT_DESCRIBE_FAILED,
        LoadError::Program { error, .. } => match error {
            ProgramError::Version { .. } => EXIT_ABI_MISMATCH,
            ProgramError::BadShebang { .. } | ProgramError::Spawn { .. } => EXIT_NOT_A_PLUGIN,
            ProgramError::Ended { .. }
            | ProgramError::Silent { .. }
            | ProgramError::Protocol { .. }
            | ProgramError::Refused { .. } => EXIT_DESCRIBE_FAILED,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_is_listed_in_the_help() {
        let codes = (0..=26).chain([
            exit_interrupted(libc::SIGHUP),
            exit_interrupted(libc::SIGINT),
            exit_interrupted(libc::SIGTERM),
            EXIT_OUTPUT_CLOSED,
        ]);
        for code in codes {
            let listed = EXIT_CODES_HELP
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{code} ")));
            assert!(listed, "exit code {code} is not in the help");
        }
        assert_eq!(exit_interrupted(libc::SIGTERM), 143);
        assert_eq!(exit_interrupted(libc::SIGHUP), 129);
        assert_eq!(exit_interrupted(libc::SIGPIPE), EXIT_OUTPUT_CLOSED);
    }
}
