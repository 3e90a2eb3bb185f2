//! `host worker` (hidden): the worker process of process mode. The host starts it; people don't.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::runner::worker;

/// Serve tasks for a host over stdin and stdout (started by `host run --mode process`).
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The plugin library.
    plugin: PathBuf,

    /// The plugin's configuration as a JSON object.
    #[arg(long, default_value = "{}")]
    config: String,

    /// This worker's number, for its messages and process listings.
    #[arg(long, default_value_t = 0)]
    worker: usize,

    /// The host's process id: the worker ends when that process does.
    #[arg(long)]
    host_pid: Option<u32>,
}

impl WorkerArgs {
    pub(super) fn exec(self) -> Outcome {
        if let Some(host) = self.host_pid {
            worker::die_with_host(host);
        }
        Outcome::Exit(worker::serve(&self.plugin, &self.config, self.worker))
    }
}
