//! The runner: [`Run`], the one entry point that owns a whole run (choose the mode, split, execute,
//! report what never started, count the summary), the [`Event`]s it reports, and the executors
//! behind it, one file per mode, sharing their plumbing (`outbox.rs`, `pending.rs`).
//!
//! Executors emit events and never print; reporters (`crate::report`) turn events into output.

mod answer;
mod choose;
mod client;
mod events;
mod inline;
mod json;
pub mod launcher;
pub mod orphans;
mod outbox;
mod pending;
pub mod plugin_cache;
mod process;
pub mod protocol;
mod record;
mod remote;
mod run;
mod running_slot;
mod ship;
mod source;
mod speech;
mod split;
mod summary;
pub mod sys;
mod thread;
pub mod worker;
mod worker_command;

use std::{
    sync::{Arc, atomic::AtomicBool},
    time::{Duration, Instant},
};

use quack_core::{InstanceBox, PluginError};

pub use choose::{Choice, Mode, Request, WorkersFlag, choose, counted};
pub use events::{Event, EventKind, RunEnd};
pub use json::Json;
pub use record::{Attempt, NodeName, Part, PartRun, Retry, Status, Task, TaskRecord, seconds};
pub use run::{Flow, Quit, Reporter, Run, RunOutcome, SplitPolicy, Stopper};
pub use source::{Entry, Incoming, Polled, TaskSource};
pub use speech::Speech;
pub use split::{SPLIT_BELOW_TASKS_PER_WORKER, worth_splitting};
pub use summary::Summary;
pub use worker_command::{SandboxNote, WorkerCommand, with_no_blocked_signals};

use crate::plugin::Plugin;

/// How long a worker may take to start (load the plugin, make its instance, say hello) unless
/// the run says otherwise.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);

/// The same through a launcher, which may wait for a batch scheduler to find room.
pub const LAUNCHER_START_TIMEOUT: Duration = Duration::from_secs(300);

/// Limits that apply to every task of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long one attempt may run.
    pub timeout: Option<Duration>,
    /// How many times a crashed or timed-out task runs again.
    pub retries: u32,
    /// How long a worker (the first or a replacement; a thread's constructor too) may take to
    /// start.
    pub start_timeout: Duration,
    /// Stop handing out tasks once this many have failed (`--max-fail`); the rest are `not-run`.
    pub max_fail: Option<u64>,
    /// A worker process that sends nothing for this long, not even the heartbeat it sends
    /// several times in that span, is lost (its node died or was cut off): stopped, its task
    /// crashed. `None`: never.
    pub lost_after: Option<Duration>,
}

/// How long a worker process may be silent before it is lost (`--heartbeat-timeout`).
pub const DEFAULT_LOST_AFTER: Duration = Duration::from_secs(30);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: None,
            retries: 0,
            start_timeout: DEFAULT_START_TIMEOUT,
            max_fail: None,
            lost_after: Some(DEFAULT_LOST_AFTER),
        }
    }
}

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The plugin refused to make an instance: its configuration (an `invalid input` error), or
    /// its constructor failed or panicked. Worded the same in every mode.
    #[error("{}", instance_error(.0))]
    Instance(#[source] PluginError),
    /// A worker process could not load the plugin.
    #[error("worker {worker} could not start: {reason}")]
    WorkerFailed {
        /// Which worker.
        worker: usize,
        /// What it said, or how it died.
        reason: String,
    },
    /// A worker that died or was stopped could not be replaced.
    #[error("worker {worker} could not be replaced: {reason}")]
    Replacement {
        /// Which worker.
        worker: usize,
        /// Why.
        reason: String,
    },
    /// A worker loaded another plugin than the host did.
    #[error(
        "worker {worker} (on {node}) loaded {theirs}, not the host's {ours}; make the same plugin file available to the workers"
    )]
    WrongPlugin {
        /// Which worker.
        worker: usize,
        /// Where it runs.
        node: String,
        /// What it loaded.
        theirs: String,
        /// What the host loaded.
        ours: String,
    },
    /// A worker thread or process could not be started.
    #[error("could not start worker {worker} ({program}): {source}")]
    Spawn {
        /// Which worker.
        worker: usize,
        /// The command that was to start it.
        program: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The worker process for `split` and `merge` of an isolated run could not start.
    #[error("the worker for split and merge could not start: {0}")]
    Splitter(String),
    /// The launcher could not be run at all (not installed, not executable).
    #[error(
        "the launcher {launcher} could not be run ({source}); install it on this machine, or fix --launcher"
    )]
    LauncherMissing {
        /// Its program, the first word of the launcher.
        launcher: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The launcher ran but no worker came up through it.
    #[error("worker {worker} could not be started through {launcher}: {reason}; {advice}")]
    Launcher {
        /// Which worker.
        worker: usize,
        /// The launcher's program.
        launcher: String,
        /// How it ended, with the launcher's own message.
        reason: String,
        /// What to do about it.
        advice: &'static str,
    },
    /// A worker asked for the plugin's bytes, and the file is no longer what the host loaded.
    #[error(
        "the plugin {path} cannot be sent to a worker: {reason}; leave the file alone while it runs"
    )]
    PluginChanged {
        /// The plugin's path on the host.
        path: std::path::PathBuf,
        /// What happened to it.
        reason: String,
    },
    /// Process mode was asked for without a way to start worker processes.
    #[error("process mode needs a worker command, and this run has none")]
    NoWorkerCommand,
}

/// Why a run stopped at `--max-fail`.
pub(crate) fn max_fail_reason(failed: u64, most: u64) -> String {
    let failed = usize::try_from(failed).map_or_else(
        |_| format!("{failed} tasks"),
        |count| counted(count, "task", "tasks"),
    );
    format!("{failed} failed, and --max-fail {most} stops the run there")
}

/// The sentence for a plugin that would not make an instance.
fn instance_error(error: &PluginError) -> String {
    match error.kind {
        quack_core::ErrorKind::InvalidInput => format!(
            "the plugin refused its configuration: {}; check --config and --set",
            error.message
        ),
        _ => format!("the plugin failed to start: {error}"),
    }
}

/// Runs tasks and reports each one as it finishes.
///
/// The contract: `execute` returns once every task it took from `tasks` has its final record
/// sent (`TaskFinished`): when the feed is done, when the run is interrupted (the cancel flag),
/// or with an error when it cannot go on, having reported what it held as stopped.
pub(crate) trait Executor {
    /// Runs every task `tasks` yields, taking the next one whenever a worker is free, and sends
    /// events to `outbox` on the calling thread as results arrive, in completion order.
    fn execute(
        &mut self,
        tasks: &mut dyn source::TaskFeed,
        outbox: &mut outbox::Outbox<'_>,
    ) -> Result<(), RunError>;
}

/// What every executor needs to run a plugin's tasks.
#[derive(Clone)]
pub(crate) struct RunContext {
    /// The plugin.
    pub plugin: Plugin,
    /// Its configuration, a JSON object as text.
    pub config: String,
    /// When the run started; task start offsets count from here.
    pub origin: Instant,
    /// Set by a signal (or a reporter) to stop the run.
    pub cancel: Arc<AtomicBool>,
    /// Why a reporter stopped the run, when the cancel flag is its and not a signal's.
    pub quit: Arc<std::sync::OnceLock<Quit>>,
    /// Set, with the reason, when the run stops itself (`--max-fail`).
    pub halt: Arc<std::sync::OnceLock<String>>,
    /// Tasks failed on worker threads, counted as they fail (before the main thread hears of
    /// them), so that `--max-fail` stops threads at once.
    pub thread_failures: Arc<std::sync::atomic::AtomicU64>,
    /// Time limit and retries.
    pub limits: Limits,
}

impl RunContext {
    /// Why the run should stop now, if it should: a signal, or the run's own limit.
    pub fn stop_requested(&self) -> Option<outbox::Stop> {
        if self.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Some(match self.quit.get() {
                Some(quit) => outbox::Stop::Stopped(quit.to_string()),
                None => outbox::Stop::Interrupted,
            });
        }
        if let Some(reason) = self.halt.get() {
            return Some(outbox::Stop::Failed(reason.clone()));
        }
        let most = self.limits.max_fail?;
        let failed = self
            .thread_failures
            .load(std::sync::atomic::Ordering::Relaxed);
        (failed >= most).then(|| outbox::Stop::Failed(max_fail_reason(failed, most)))
    }

    /// A new instance of the plugin, made in this process.
    pub fn instance(&self) -> Result<InstanceBox, RunError> {
        self.plugin
            .instantiate(&self.config)
            .map_err(RunError::Instance)
    }
}
