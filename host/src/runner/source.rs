//! [`TaskSource`]: where a run's tasks come from. A source in memory always has the next task at
//! hand; a stream (a pipe on standard input) may have none *yet*. An executor asks without
//! blocking, so that while the input pauses it goes on reporting the results that come in, and it
//! waits on the source's [`readiness`](TaskSource::readiness) channel together with its workers',
//! so that a task arriving wakes it at once (no polling interval on the hot path).

use super::{Json, Task};
use crossbeam_channel::{Receiver, Select};

/// What a streaming source's reader sends at once: the entries it read since its last message
/// (one message per entry would cost a channel operation on both sides for every task).
pub type Incoming = Vec<Entry>;

/// One entry of a streamed input: a task's value, or an entry that is not one.
#[derive(Debug)]
pub enum Entry {
    /// The next task's input.
    Task(Json),
    /// An entry of the input that is not a task (a line that is not JSON): it becomes a failed
    /// task of its own, and the input goes on.
    Invalid {
        /// What the entry held, as text (cut short if long).
        text: String,
        /// Why it is not a task, e.g. `line 501 is not JSON: expected value at column 1`.
        error: String,
    },
    /// The input could not be read any further (an I/O error): it ends here.
    Broken(String),
}

/// The answer of [`TaskSource::poll_task`].
#[derive(Debug)]
pub enum Polled {
    /// The next task.
    Ready(Task),
    /// An entry that is not a task: the run reports it as a failed task with this error.
    Invalid(Task, String),
    /// No task yet; ask again when [`TaskSource::readiness`] is ready.
    NotYet,
    /// No more tasks.
    Done,
}

/// A source of tasks. Every `Iterator<Item = Task>` is one that is always ready.
pub trait TaskSource {
    /// The next task if it is at hand, without blocking.
    fn poll_task(&mut self) -> Polled;

    /// How many tasks there are in all, when that is known before running.
    fn len_hint(&self) -> Option<usize> {
        None
    }

    /// A channel that has something to receive when [`poll_task`](Self::poll_task) may have a
    /// new answer; `None` for a source that never answers [`Polled::NotYet`].
    fn readiness(&self) -> Option<&Receiver<Incoming>> {
        None
    }
}

impl<I: Iterator<Item = Task>> TaskSource for I {
    fn poll_task(&mut self) -> Polled {
        match self.next() {
            Some(task) => Polled::Ready(task),
            None => Polled::Done,
        }
    }

    fn len_hint(&self) -> Option<usize> {
        match self.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        }
    }
}

/// What an executor draws its tasks from: a [`TaskSource`] whose invalid entries the run has
/// already reported (see `run.rs`), so an executor only ever sees tasks to run.
pub(crate) trait TaskFeed {
    /// The next task if it is at hand, without blocking.
    fn next_task(&mut self) -> Fed;
    /// See [`TaskSource::readiness`].
    fn readiness(&self) -> Option<&Receiver<Incoming>>;
}

/// The answer of [`TaskFeed::next_task`].
#[derive(Debug)]
pub(crate) enum Fed {
    /// The next task.
    Ready(Task),
    /// No task yet.
    NotYet,
    /// No more tasks.
    Done,
}

/// Waits until one of `receivers` (or the source's readiness channel, if `source` has one) has
/// something to receive, or `timeout` passes. Returns the index in `receivers` that is ready, or
/// `None` when the source is ready or the time is up. Nothing is received.
pub fn wait_ready<T>(
    receivers: &[&Receiver<T>],
    source: Option<&Receiver<Incoming>>,
    timeout: std::time::Duration,
) -> Option<usize> {
    let mut select = Select::new();
    for receiver in receivers {
        select.recv(receiver);
    }
    if let Some(source) = source {
        select.recv(source);
    }
    match select.ready_timeout(timeout) {
        Ok(index) if index < receivers.len() => Some(index),
        _ => None,
    }
}
