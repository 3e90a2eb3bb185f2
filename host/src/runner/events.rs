//! [`Event`]: what executors report while they run. They never print; one reporter turns events
//! into the table, the JSON report or the JSON Lines stream.

use std::time::Duration;

use super::TaskRecord;

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Time since the run started.
    pub elapsed: Duration,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of [`Event`].
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A task finished, whatever its status.
    TaskFinished(TaskRecord),
    /// A worker process wrote a line to its stderr (the plugin's stdout ends up there too).
    WorkerOutput {
        /// Which worker.
        worker: usize,
        /// The line, without its newline.
        line: String,
    },
    /// The executor is about to wait for workers (or, inline, some time has passed): a good
    /// moment for reporters to flush, so output streams without a write per task.
    Idle,
    /// A worker died or was stopped, and a new one took its place.
    WorkerReplaced {
        /// Which worker.
        worker: usize,
        /// Why the old one went away.
        reason: String,
    },
}
