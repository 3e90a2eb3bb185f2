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
}
