//! [`Pending`]: the tasks not yet handed to a worker: tasks to run again (after a crash or a
//! timeout, or because their worker died before reaching them) come first, then the input, asked
//! without blocking (see [`TaskFeed`]).

use std::collections::VecDeque;

use crossbeam_channel::Receiver;

use super::{
    Task,
    source::{Fed, Incoming, TaskFeed},
};

/// The tasks waiting for a worker.
pub struct Pending<'a> {
    again: VecDeque<Task>,
    source: &'a mut dyn TaskFeed,
    source_done: bool,
    /// Whether the source had no task the last time it was asked.
    waiting_for_input: bool,
}

impl<'a> Pending<'a> {
    /// Waiting tasks drawn from `source`.
    pub fn new(source: &'a mut dyn TaskFeed) -> Self {
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
        match self.source.next_task() {
            Fed::Ready(task) => Some(task),
            Fed::NotYet => {
                self.waiting_for_input = true;
                None
            }
            Fed::Done => {
                self.source_done = true;
                None
            }
        }
    }

    /// Whether a task waits now (drawing it from the input, to be handed out next).
    pub fn has_waiting(&mut self) -> bool {
        match self.next_task() {
            Some(task) => {
                self.again.push_front(task);
                true
            }
            None => false,
        }
    }

    /// The input's readiness channel, when the input had no task ready the last time it was
    /// asked: an executor waits on it beside its workers, so a new task wakes it at once.
    pub fn input_readiness(&self) -> Option<&Receiver<Incoming>> {
        if self.waiting_for_input {
            self.source.readiness()
        } else {
            None
        }
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
