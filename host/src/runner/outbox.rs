//! [`Outbox`]: the plumbing every executor shares: events stamped with the run's clock, records
//! stamped with the node their worker runs on, the records of tasks that were stopped or never
//! started, the retry-or-report rule for a failed attempt, and one policy for how long a main loop
//! may wait.

use std::time::{Duration, Instant};

use super::{
    Event, EventKind, NodeName, Status, Task, TaskRecord,
    pending::Pending,
    record::{Attempt, Retry},
};

/// How long a main loop waits at most before it looks at the cancel flag and its deadlines again,
/// when nothing wakes it earlier.
pub(crate) const TICK: Duration = Duration::from_millis(20);

/// Why an executor stops before its tasks are done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A signal asked the run to stop: running and queued tasks are `cancelled`.
    Interrupted,
    /// A reporter stopped the run (for this reason): running and queued tasks are `cancelled`.
    Stopped(String),
    /// The run cannot go on: running tasks are `cancelled`, tasks that never started are
    /// `not-run`, both with this reason.
    Failed(String),
}

impl Stop {
    /// The record of `task`, stopped by this on `worker`; `started` is when it began running,
    /// `None` if it never did.
    pub(crate) fn record(
        &self,
        task: Task,
        worker: usize,
        started: Option<Instant>,
        origin: Instant,
    ) -> TaskRecord {
        let now = Instant::now();
        let (status, error) = match (self, started) {
            (Stop::Interrupted, Some(_)) => (Status::Cancelled, "the run was interrupted".into()),
            (Stop::Interrupted, None) => (
                Status::Cancelled,
                "the run was interrupted before it started".into(),
            ),
            (Stop::Stopped(reason), Some(_)) => {
                (Status::Cancelled, format!("the run was stopped: {reason}"))
            }
            (Stop::Stopped(reason), None) => (
                Status::Cancelled,
                format!("the run was stopped before this task started: {reason}"),
            ),
            (Stop::Failed(reason), Some(_)) => {
                (Status::Cancelled, format!("the run stopped: {reason}"))
            }
            (Stop::Failed(reason), None) => (Status::NotRun, reason.clone()),
        };
        let started = started.unwrap_or(now);
        TaskRecord::failed(
            task,
            status,
            error,
            worker,
            started.saturating_duration_since(origin),
            now.saturating_duration_since(started),
        )
    }
}

/// Where an executor sends its events.
pub(crate) struct Outbox<'a> {
    origin: Instant,
    sink: &'a mut dyn FnMut(Event),
    /// The time stamp of a batch of events sent at once (one clock read for the batch).
    frozen: Option<std::time::Duration>,
    /// Whether anyone listens to [`EventKind::TaskStarted`] (see [`Reporter::wants_task_started`](super::Reporter::wants_task_started)).
    task_started: bool,
    /// The node each worker process runs on, by worker, as its `WorkerStarted` said (a
    /// replacement's start changes it, after the records of the worker it replaced went out).
    nodes: Vec<Option<NodeName>>,
    /// The node of workers that are not processes (inline, threads): this host.
    local_node: Option<NodeName>,
}

impl<'a> Outbox<'a> {
    /// An outbox stamping events with the time since `origin`; it sends `TaskStarted` events
    /// only when `task_started` says someone listens.
    pub(crate) fn new(origin: Instant, sink: &'a mut dyn FnMut(Event), task_started: bool) -> Self {
        Outbox {
            origin,
            sink,
            frozen: None,
            task_started,
            nodes: Vec::new(),
            local_node: None,
        }
    }

    /// Records of workers that said no node of their own are stamped with `node` (this host,
    /// for inline and thread mode).
    pub(crate) fn local_node(mut self, node: Option<NodeName>) -> Self {
        self.local_node = node;
        self
    }

    /// Stamps `record` with the node its worker runs on, if it ran.
    fn stamp(&self, record: &mut TaskRecord) {
        if record.node.is_some() || !record.ran() {
            return;
        }
        record.node = match self.nodes.get(record.worker) {
            Some(Some(node)) => Some(node.clone()),
            _ => self.local_node.clone(),
        };
    }

    /// Sends `kind` as happened `elapsed` after the start: a record gets its node, a worker's
    /// start says its node.
    fn send(&mut self, elapsed: Duration, mut kind: EventKind) {
        match &mut kind {
            EventKind::TaskFinished(record) => self.stamp(record),
            EventKind::WorkerStarted { worker, node, .. } => {
                if self.nodes.len() <= *worker {
                    self.nodes.resize(*worker + 1, None);
                }
                self.nodes[*worker] = Some(NodeName::new(node));
            }
            _ => {}
        }
        (self.sink)(Event { elapsed, kind });
    }

    /// Whether `TaskStarted` events are wanted: an executor that would have to do work of its
    /// own to make one asks first.
    pub(crate) fn wants_task_started(&self) -> bool {
        self.task_started
    }

    /// Stamps the events sent until [`thaw`](Self::thaw) with this one moment: a batch of
    /// results handled at once needs one clock read, not one per task.
    pub(crate) fn freeze(&mut self) {
        self.frozen = Some(self.origin.elapsed());
    }

    /// Back to a clock read per event.
    pub(crate) fn thaw(&mut self) {
        self.frozen = None;
    }

    /// When the run started.
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// Sends one event.
    pub(crate) fn emit(&mut self, kind: EventKind) {
        let elapsed = self.frozen.unwrap_or_else(|| self.origin.elapsed());
        self.send(elapsed, kind);
    }

    /// Sends one event that happened `elapsed` after the run started (a clock read the caller
    /// already made).
    pub(crate) fn emit_at(&mut self, elapsed: std::time::Duration, kind: EventKind) {
        self.send(elapsed, kind);
    }

    /// A task's final record.
    pub(crate) fn finished(&mut self, record: TaskRecord) {
        self.emit(EventKind::TaskFinished(record));
    }

    /// A task handed to `worker` (if known), when anyone listens.
    pub(crate) fn started(&mut self, task: &Task, worker: Option<usize>) {
        if !self.task_started {
            return;
        }
        self.emit(EventKind::TaskStarted {
            id: task.id,
            worker,
            attempt: task.history.len() as u32 + 1,
        });
    }

    /// "About to wait": reporters flush.
    pub(crate) fn idle(&mut self) {
        self.emit(EventKind::Idle);
    }

    /// A line a worker wrote.
    pub(crate) fn output(&mut self, worker: usize, line: String) {
        self.emit(EventKind::WorkerOutput { worker, line });
    }

    /// The pool's own news (a node left out, a worker place given up).
    pub(crate) fn notice(&mut self, worker: usize, message: String) {
        self.emit(EventKind::PoolNotice { worker, message });
    }

    /// A worker replaced.
    pub(crate) fn replaced(&mut self, worker: usize, reason: String) {
        self.emit(EventKind::WorkerReplaced { worker, reason });
    }

    /// A crashed or timed-out attempt: says so, then puts the task back to run again if
    /// `retries` allows another attempt, or reports the record as final.
    pub(crate) fn attempt_failed(
        &mut self,
        mut record: TaskRecord,
        retries: u32,
        pending: &mut Pending,
    ) {
        self.stamp(&mut record);
        let (id, part) = (record.id, record.part);
        let attempt = Attempt::of(&record);
        let number = u32::try_from(record.attempts.len() + 1).unwrap_or(u32::MAX);
        match record.retry(retries) {
            Retry::RunAgain(again) => {
                self.emit(EventKind::AttemptFailed {
                    id,
                    part,
                    input: again.input.clone(),
                    number,
                    attempt,
                    will_retry: true,
                });
                pending.put_back(std::iter::once(again));
            }
            Retry::Report(record) => {
                self.emit(EventKind::AttemptFailed {
                    id,
                    part,
                    input: record.input.clone(),
                    number,
                    attempt,
                    will_retry: false,
                });
                self.finished(record);
            }
        }
    }

    /// Reports `task` as stopped by `stop` (see [`Stop::record`]).
    pub(crate) fn stopped(
        &mut self,
        stop: &Stop,
        task: Task,
        worker: usize,
        started: Option<Instant>,
    ) {
        let record = stop.record(task, worker, started, self.origin);
        self.finished(record);
    }

    /// Reports every task waiting to run again as never started.
    pub(crate) fn drain_pending(&mut self, stop: &Stop, pending: &mut Pending) {
        for task in pending.take_again() {
            self.stopped(stop, task, 0, None);
        }
    }
}

/// How long a main loop may wait: until `deadline` (a time limit or a kill's grace), but never
/// longer than a [`TICK`].
pub(crate) fn wait_time(deadline: Option<Instant>) -> Duration {
    deadline.map_or(TICK, |at| {
        at.saturating_duration_since(Instant::now()).min(TICK)
    })
}
