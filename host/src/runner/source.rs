//! [`TaskSource`]: where an executor draws its tasks from. A source in memory always has the next
//! task at hand; a stream (a pipe on standard input) may have none *yet*. An executor asks without
//! blocking, so that while the input pauses it goes on reporting the results that come in.

use std::time::Duration;

use super::Task;

/// How long an executor waits before asking a source that had nothing yet again; results arriving
/// meanwhile wake it at once.
pub const INPUT_POLL: Duration = Duration::from_millis(5);

/// The answer of [`TaskSource::poll_task`].
#[derive(Debug)]
pub enum Polled {
    /// The next task.
    Ready(Task),
    /// No task yet; ask again later.
    NotYet,
    /// No more tasks.
    Done,
}

/// A source of tasks. Every `Iterator<Item = Task>` is one that is always ready.
pub trait TaskSource {
    /// The next task if it is at hand, without blocking.
    fn poll_task(&mut self) -> Polled;
}

impl<I: Iterator<Item = Task>> TaskSource for I {
    fn poll_task(&mut self) -> Polled {
        match self.next() {
            Some(task) => Polled::Ready(task),
            None => Polled::Done,
        }
    }
}
