//! [`Pending`]: the tasks not yet handed to a worker: tasks to run again (after a crash or a
//! timeout, or because their worker died before reaching them) come first, then the input, asked
//! without blocking (see [`TaskSource`]).

use std::collections::VecDeque;

use super::{
    Task,
    source::{Polled, TaskSource},
};

/// The tasks waiting for a worker.
pub struct Pending<'a> {
    again: VecDeque<Task>,
    source: &'a mut dyn TaskSource,
    source_done: bool,
    /// Whether the source had no task the last time it was asked.
    waiting_for_input: bool,
}

impl<'a> Pending<'a> {
    /// Waiting tasks drawn from `source`.
    pub fn new(source: &'a mut dyn TaskSource) -> Self {
        Pending {
            again: VecDeque::new(),
            source,
            source_done: false,
            waiting_for_input: false,
        }
    }

    /// The next task to hand out, if one is at hand now.
    pub fn next_task(&mut self) -> Option<Task> {
        if let Some(task) = self.again.pop_front() {
            return Some(task);
        }
        if self.source_done {
            return None;
        }
        self.waiting_for_input = false;
        match self.source.poll_task() {
            Polled::Ready(task) => Some(task),
            Polled::NotYet => {
                self.waiting_for_input = true;
                None
            }
            Polled::Done => {
                self.source_done = true;
                None
            }
        }
    }

    /// Whether the input had no task ready the last time it was asked (so the executor should
    /// ask again soon, see [`INPUT_POLL`](super::source::INPUT_POLL)).
    pub fn waiting_for_input(&self) -> bool {
        self.waiting_for_input
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
