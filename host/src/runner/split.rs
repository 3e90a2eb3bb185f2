//! [`Splitter`]: for a Splittable plugin, cuts each task into parts with the plugin's `split`,
//! runs the parts like any task, and puts their results back together with `merge`, so that
//! workers stay busy when one task dwarfs the rest (the seed's 53541233 is 58% of all the work:
//! per-number scheduling on 2 workers can never beat 1.71x).
//!
//! It wraps any executor: the task feed it hands the executor yields parts ([`Parts`]), and the
//! events of parts are collected ([`SplitState::pass`]) before the run's reporters see them: one
//! `TaskStarted` for a task's first part, one `TaskFinished` for the whole task, whose record keeps
//! where and when each part ran (`part_runs`). `split` and
//! `merge` run on an instance of their own (they are cheap; the parts are the work): in the host's
//! process, or in a worker process of their own when the run is isolated (no plugin code in the
//! host).

use std::{
    cell::RefCell,
    collections::{HashMap, VecDeque},
    time::Instant,
};

use crossbeam_channel::Receiver;
use quack_core::InstanceBox;

use crate::{
    interfaces::{self, MergeForm},
    plugin::Plugin,
};
use serde_json::Value;

use super::{
    Event, EventKind, Json, Part, PartRun, RunContext, RunError, Status, Task, TaskRecord,
    WorkerCommand,
    outbox::Stop,
    remote::{CallFailure, RemoteInstance},
    source::{Fed, Incoming, TaskFeed},
};

/// Tasks are cut into parts only when there are fewer than this many per worker: with more,
/// dynamic scheduling alone keeps the workers busy and splitting would only add calls.
pub const SPLIT_BELOW_TASKS_PER_WORKER: usize = 16;

/// Whether a run of `tasks` tasks on `workers` workers gains from splitting them. A stream of
/// unknown length is split too: its first [`split_budget`] tasks are (so a few tasks streamed
/// split as the same tasks in an array do), those after them run whole.
pub fn worth_splitting(splittable: bool, workers: usize, tasks: Option<usize>) -> bool {
    splittable && workers > 1 && tasks.is_none_or(|count| count < split_budget(workers))
}

/// How many tasks of a run on `workers` workers are split at most.
pub fn split_budget(workers: usize) -> usize {
    workers.saturating_mul(SPLIT_BELOW_TASKS_PER_WORKER)
}

/// Splits tasks into parts and merges the parts' results, on an instance of its own.
pub(crate) struct Splitter {
    instance: Instance,
    /// When the run started, for the records of tasks that could not be split.
    origin: Instant,
    /// Whether `merge` takes the results alone or the task with them.
    merge_form: MergeForm,
}

/// A split task whose parts are running.
struct Parent {
    input: Json,
    parts: Vec<Option<TaskRecord>>,
    remaining: usize,
    started: bool,
}

/// The split tasks of a run: parts waiting to be handed out, and tasks whose parts are out.
pub(crate) struct SplitState {
    queued: VecDeque<Task>,
    parents: HashMap<u64, Parent>,
    /// How many more tasks may be split (see [`split_budget`]).
    budget: usize,
}

/// Where `split` and `merge` run.
enum Instance {
    /// In the host, on an instance of their own.
    Here(InstanceBox),
    /// In a worker process (an isolated run loads no plugin code into the host).
    Worker(Box<RemoteInstance>),
}

impl Splitter {
    /// A splitter with its own plugin instance: in the host when the plugin is loaded here,
    /// otherwise in a worker started with `command`.
    pub(crate) fn new(
        context: &RunContext,
        command: Option<&WorkerCommand>,
    ) -> Result<Self, RunError> {
        let instance = match (&context.plugin, command) {
            (Plugin::Loaded(_), _) | (Plugin::Probed(_), None) => {
                Instance::Here(context.instance()?)
            }
            (Plugin::Probed(_), Some(command)) => {
                Instance::Worker(Box::new(RemoteInstance::start(context, command)?))
            }
        };
        Ok(Splitter {
            instance,
            origin: context.origin,
            merge_form: interfaces::merge_form(&context.plugin.info().methods)
                .unwrap_or(MergeForm::Results),
        })
    }

    fn call(&mut self, method: &str, input: &Value) -> Result<Value, CallFailure> {
        let instance = match &mut self.instance {
            Instance::Here(instance) => instance,
            Instance::Worker(remote) => return remote.call(method, input),
        };
        let input = input.to_string();
        let failed = |message| CallFailure {
            status: Status::Error,
            message,
            stop: None,
        };
        let returned = instance.call(method.into(), input.as_str().into());
        super::answer::read(&returned, serde_json::from_str)
            .map_err(|error| failed(format!("{method} failed: {error}")))
    }

    /// The feed of parts made from `tasks`.
    /// `unsplit` takes the record of a task whose `split` did not answer (its worker crashed,
    /// ran past the time limit or was stopped with the run): such a task does not run.
    pub(crate) fn parts<'a>(
        &self,
        tasks: &'a mut dyn TaskFeed,
        state: &'a RefCell<SplitState>,
        splitter: &'a RefCell<Splitter>,
        unsplit: &'a dyn Fn(TaskRecord),
    ) -> Parts<'a> {
        Parts {
            tasks,
            state,
            splitter,
            unsplit,
        }
    }
}

/// The executor's task feed: the queued parts of the last task split, then the next task,
/// split in turn.
pub(crate) struct Parts<'a> {
    tasks: &'a mut dyn TaskFeed,
    state: &'a RefCell<SplitState>,
    splitter: &'a RefCell<Splitter>,
    unsplit: &'a dyn Fn(TaskRecord),
}

impl TaskFeed for Parts<'_> {
    fn next_task(&mut self) -> Fed {
        loop {
            let mut state = self.state.borrow_mut();
            if let Some(part) = state.queued.pop_front() {
                return Fed::Ready(part);
            }
            let task = match self.tasks.next_task() {
                Fed::Ready(task) => task,
                other => return other,
            };
            match state.split(task, &mut self.splitter.borrow_mut()) {
                Ok(task) => return Fed::Ready(task),
                Err(record) => {
                    drop(state);
                    (self.unsplit)(*record);
                }
            }
        }
    }

    fn readiness(&self) -> Option<&Receiver<Incoming>> {
        self.tasks.readiness()
    }
}

impl SplitState {
    /// The split state of a run on `workers` workers.
    pub(crate) fn new(workers: usize) -> Self {
        SplitState {
            queued: VecDeque::new(),
            parents: HashMap::new(),
            budget: split_budget(workers),
        }
    }

    /// The first part of `task` (queueing the others), or `task` itself if it does not split;
    /// the task's record if `split` gave no answer at all.
    fn split(&mut self, task: Task, splitter: &mut Splitter) -> Result<Task, Box<TaskRecord>> {
        if self.budget == 0 {
            return Ok(task);
        }
        self.budget -= 1;
        let Ok(input) = task.input.to_value() else {
            return Ok(task);
        };
        let started = Instant::now();
        let parts = match splitter.call("split", &input) {
            Ok(Value::Array(parts)) if parts.len() > 1 => parts,
            // The run stopped during the call: the task is one of those it stopped.
            Err(CallFailure {
                stop: Some(stop), ..
            }) => {
                return Err(Box::new(stop.record(
                    task,
                    0,
                    Some(started),
                    splitter.origin,
                )));
            }
            // Its worker crashed or ran out of time: so would the task's, most likely.
            Err(CallFailure {
                status: status @ (Status::Crashed | Status::Timeout | Status::Cancelled),
                message,
                ..
            }) => {
                let start = started.saturating_duration_since(splitter.origin);
                return Err(Box::new(TaskRecord::failed(
                    task,
                    status,
                    message,
                    0,
                    start,
                    started.elapsed(),
                )));
            }
            // One part, or a task split cannot handle: run it whole (run reports any error).
            _ => return Ok(task),
        };
        let of = parts.len();
        self.parents.insert(
            task.id,
            Parent {
                input: task.input,
                parts: vec![None; of],
                remaining: of,
                started: false,
            },
        );
        let mut parts = parts.into_iter().enumerate().map(|(index, input)| Task {
            id: task.id,
            input: input.into(),
            part: Some(Part { index, of }),
            history: Vec::new(),
        });
        let first = parts.next();
        self.queued.extend(parts);
        Ok(first.unwrap_or_else(|| Task::new(task.id, Value::Null)))
    }

    /// The event the run's reporters see for an executor's `event`, if any: a part's start is
    /// its task's start (the first time), a part's end is nothing until the last part is in, and
    /// then the merged task's end.
    pub(crate) fn pass(&mut self, event: Event, splitter: &RefCell<Splitter>) -> Option<Event> {
        let Event { elapsed, kind } = event;
        let kind = match kind {
            EventKind::TaskStarted {
                id,
                worker,
                attempt,
            } => match self.parents.get_mut(&id) {
                Some(parent) if parent.started => return None,
                Some(parent) => {
                    parent.started = true;
                    EventKind::TaskStarted {
                        id,
                        worker,
                        attempt,
                    }
                }
                None => EventKind::TaskStarted {
                    id,
                    worker,
                    attempt,
                },
            },
            EventKind::TaskFinished(record) if record.part.is_some() => {
                let merged = self.collect(record, &mut splitter.borrow_mut())?;
                EventKind::TaskFinished(merged)
            }
            kind => kind,
        };
        Some(Event { elapsed, kind })
    }

    /// The records of split tasks whose parts did not all come back, stopped by `stop`.
    pub(crate) fn unfinished(&mut self, stop: &Stop, origin: Instant) -> Vec<TaskRecord> {
        self.queued.clear();
        let mut unfinished: Vec<(u64, Parent)> = self.parents.drain().collect();
        unfinished.sort_by_key(|(id, _)| *id);
        unfinished
            .into_iter()
            .map(|(id, parent)| {
                let done = parent.parts.iter().flatten().count();
                let of = parent.parts.len();
                let mut record = stop.record(
                    Task::new(id, parent.input),
                    0,
                    parent.started.then(Instant::now),
                    origin,
                );
                record.parts = Some(of);
                if let Some(error) = &mut record.error {
                    error.push_str(&format!(" ({done} of {of} parts had finished)"));
                }
                record
            })
            .collect()
    }

    /// Files a finished part; returns the whole task's record once its last part is in.
    fn collect(&mut self, record: TaskRecord, splitter: &mut Splitter) -> Option<TaskRecord> {
        let (id, part) = (record.id, record.part?);
        let parent = self.parents.get_mut(&id)?;
        if parent.parts[part.index].replace(record).is_none() {
            parent.remaining -= 1;
        }
        if parent.remaining > 0 {
            return None;
        }
        let parent = self.parents.remove(&id)?;
        let parts: Vec<TaskRecord> = parent.parts.into_iter().flatten().collect();
        let start = parts
            .iter()
            .map(|p| p.start_seconds)
            .fold(f64::INFINITY, f64::min);
        let end = parts
            .iter()
            .map(|p| p.start_seconds + p.duration_seconds)
            .fold(0.0, f64::max);
        let mut attempts: Vec<_> = parts.iter().flat_map(|p| p.attempts.clone()).collect();
        attempts.sort_by(|a, b| a.start_seconds.total_cmp(&b.start_seconds));
        let last = parts.last();
        let mut whole = TaskRecord {
            id,
            input: parent.input,
            status: Status::Ok,
            output: None,
            error: None,
            worker: last.map_or(0, |p| p.worker),
            node: last.and_then(|p| p.node.clone()),
            start_seconds: start,
            duration_seconds: (end - start).max(0.0),
            parts: Some(parts.len()),
            part_runs: parts.iter().map(PartRun::of).collect(),
            attempts,
            part: None,
        };
        if let Some(failed) = parts.iter().find(|p| p.status != Status::Ok) {
            let index = failed.part.map_or(0, |p| p.index);
            whole.status = failed.status;
            whole.error = Some(format!(
                "part {} of {}: {}",
                index + 1,
                parts.len(),
                failed.error.as_deref().unwrap_or("failed")
            ));
            whole.worker = failed.worker;
            whole.node.clone_from(&failed.node);
            return Some(whole);
        }
        let outputs = parts
            .into_iter()
            .filter_map(|p| p.output.and_then(|output| output.to_value().ok()))
            .collect();
        let argument = splitter
            .merge_form
            .argument(&whole.input.to_value().unwrap_or(Value::Null), outputs);
        match splitter.call("merge", &argument) {
            Ok(merged) => whole.output = Some(merged.into()),
            Err(failure) => {
                whole.status = failure.status;
                whole.error = Some(failure.message);
            }
        }
        Some(whole)
    }
}
