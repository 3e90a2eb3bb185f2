//! How `host run` starts its workers when they may run elsewhere: [`Launch`], from `--launcher`
//! (any command prefix) or `--slurm` (Slurm job steps, with `--slurm-args`).

use std::{ffi::OsString, time::Duration};

use crate::{
    cli::error::HostError,
    runner::{DEFAULT_START_TIMEOUT, LAUNCHER_START_TIMEOUT, WorkerCommand, launcher::Slurm},
};

/// A launcher for worker processes.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The words that go before the worker command.
    words: Vec<OsString>,
    /// Where the workers run, for the reason line (`None`: through the words).
    place: Option<String>,
    /// The number of workers when `--workers` is not given (a Slurm allocation's tasks).
    pub default_workers: Option<usize>,
}

impl Launch {
    /// The launcher asked for: `launcher` (the words of `--launcher`), or Slurm with the text of
    /// `--slurm-args`; `None` for neither.
    pub fn from_args(
        launcher: Option<Vec<OsString>>,
        slurm: bool,
        slurm_args: Option<&str>,
    ) -> Result<Option<Self>, HostError> {
        if let Some(words) = launcher {
            return Ok(Some(Launch {
                words,
                place: None,
                default_workers: None,
            }));
        }
        if !slurm {
            return Ok(None);
        }
        let extra = match slurm_args {
            None => Vec::new(),
            Some(text) => shell_words::split(text).map_err(|error| {
                HostError::Usage(format!(
                    "--slurm-args {text:?} cannot be split into words ({error}); close every quote"
                ))
            })?,
        };
        let allocation = Slurm::from_env();
        let words = allocation.words(&extra);
        Ok(Some(Launch {
            place: Some(allocation.place(&words)),
            default_workers: allocation.default_workers(),
            words,
        }))
    }

    /// `command` started through this launcher.
    pub fn command(self, command: WorkerCommand) -> WorkerCommand {
        let command = command.with_launcher(self.words);
        match self.place {
            Some(place) => command.with_place(place),
            None => command,
        }
    }
}

/// The start limit: `--start-timeout` if given, else one suited to how workers start (a batch
/// scheduler may take minutes to find room).
pub fn start_timeout(asked: Option<Duration>, launch: Option<&Launch>) -> Duration {
    asked.unwrap_or(if launch.is_some() {
        LAUNCHER_START_TIMEOUT
    } else {
        DEFAULT_START_TIMEOUT
    })
}
