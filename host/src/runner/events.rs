//! [`Event`]: everything a [`Run`](super::Run) reports while it goes, from [`EventKind::RunStarted`]
//! to [`EventKind::RunFinished`]. Executors never print; the reporters (`report::Reporter`) turn
//! events into the table, the JSON report, the JSON Lines stream and the lines on stderr.

use std::time::Duration;

use super::{Attempt, Choice, Json, Part, Summary, TaskRecord};

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Time since the run started.
    pub elapsed: Duration,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of [`Event`], in the order a run goes through them.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The run chose its mode and workers and is about to start them. Always the first event.
    RunStarted {
        /// Mode, workers and the reason for them.
        choice: Choice,
        /// How many tasks there are, when known (a stream: unknown).
        tasks: Option<usize>,
        /// Whether tasks are cut into parts (the plugin is Splittable).
        split: bool,
    },
    /// A worker process is up and has loaded the plugin (process mode).
    WorkerStarted {
        /// Which worker.
        worker: usize,
        /// Its process id (on its own node).
        pid: u32,
        /// The host name of the node it runs on.
        node: String,
    },
    /// A task was handed to a worker (for a split task: its first part was).
    TaskStarted {
        /// The task's id.
        id: u64,
        /// The worker it went to, when the executor knows at hand-out (process and inline mode;
        /// thread mode shares one queue between its threads).
        worker: Option<usize>,
        /// Which attempt this is, from 1.
        attempt: u32,
    },
    /// An attempt at a task crashed or timed out.
    AttemptFailed {
        /// The task's id.
        id: u64,
        /// Which part of a split task failed, if it was a part.
        part: Option<Part>,
        /// The input of the task (of the part, for a part) that failed.
        input: Json,
        /// Which attempt it was, from 1.
        number: u32,
        /// The failed attempt.
        attempt: Attempt,
        /// Whether the task runs again (`--retries`); if not, its `TaskFinished` follows.
        will_retry: bool,
    },
    /// A task is over, whatever its status: its one final record.
    TaskFinished(TaskRecord),
    /// A worker wrote a line on its stderr (in process mode the plugin's stdout ends up there too).
    WorkerOutput {
        /// Which worker.
        worker: usize,
        /// The line, without its newline (bytes that are not UTF-8 shown as U+FFFD).
        line: String,
    },
    /// A worker died or was stopped, and a new one takes its place.
    WorkerReplaced {
        /// Which worker.
        worker: usize,
        /// Why the old one went away.
        reason: String,
    },
    /// The pool changed course because workers keep failing to start: a node left out of the
    /// next starts, or a worker place given up. One sentence for people.
    PoolNotice {
        /// The worker place it is about.
        worker: usize,
        /// What happened and what the run does now.
        message: String,
    },
    /// The executor is about to wait: a good moment for reporters to flush, so output streams
    /// without a write per task.
    Idle,
    /// The run is over and every task has its final record. Always the last event.
    RunFinished {
        /// Counts and times, counted by the run.
        summary: Summary,
        /// How the run ended.
        end: RunEnd,
    },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// Every task ran.
    Completed,
    /// The run was stopped by a signal (Ctrl-C, SIGTERM, SIGHUP); tasks not finished are
    /// `cancelled`.
    Interrupted,
    /// A reporter stopped the run (its output's reader went away); tasks not finished are
    /// `cancelled`, saying why.
    Stopped(super::run::Quit),
    /// The run could not go on (e.g. workers could not be restarted): the run's error says why,
    /// and tasks not finished are `not-run` with this reason.
    Failed(String),
    /// Enough tasks failed (`--max-fail`): tasks not finished are `not-run` with this reason.
    Halted(String),
}
