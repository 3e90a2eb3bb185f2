//! [`Pending`]: the tasks not yet handed to a worker: tasks to run again (after a crash or a
//! timeout, or because their worker died before reaching them) come first, then the input.

use std::collections::VecDeque;

use super::Task;

/// The tasks waiting for a worker.
pub struct Pending<'a> {
    again: VecDeque<Task>,
    source: &'a mut dyn Iterator<Item = Task>,
    source_done: bool,
}

impl<'a> Pending<'a> {
    /// Waiting tasks drawn from `source`.
    pub fn new(source: &'a mut dyn Iterator<Item = Task>) -> Self {
        Pending {
            again: VecDeque::new(),
            source,
            source_done: false,
        }
    }

    /// The next task to hand out.
    pub fn next_task(&mut self) -> Option<Task> {
        if let Some(task) = self.again.pop_front() {
            return Some(task);
        }
        if self.source_done {
            return None;
        }
        let task = self.source.next();
        self.source_done = task.is_none();
        task
    }

    /// Puts tasks back at the front, to be handed out next, in the order given.
    pub fn put_back(&mut self, tasks: impl DoubleEndedIterator<Item = Task>) {
        for task in tasks.rev() {
            self.again.push_front(task);
        }
    }

    /// Whether no task is left, as far as is known without reading more input.
    pub fn is_exhausted(&self) -> bool {
        self.again.is_empty() && self.source_done
    }

    /// Takes every task to be run again, leaving the input unread.
    pub fn take_again(&mut self) -> Vec<Task> {
        self.again.drain(..).collect()
    }
}
