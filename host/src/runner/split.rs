//! [`Splitter`]: for a Splittable plugin, cuts each task into parts with the plugin's `split`,
//! runs the parts like any task, and puts their results back together with `merge`, so that
//! workers stay busy when one task dwarfs the rest (the seed's 53541233 is 58% of all the work:
//! per-number scheduling on 2 workers can never beat 1.71x).
//!
//! It wraps any executor: the task source it hands the executor yields parts, and the event sink
//! it hands the executor collects them. `split` and `merge` run on the host's main thread, in the
//! host process, on an instance of their own (they are cheap; the parts are the work).

use std::{
    cell::RefCell,
    collections::{HashMap, VecDeque},
};

use quack_core::{InstanceBox, abi_stable::std_types::RResult};
use serde_json::Value;

use super::{
    Event, EventKind, Executor, Part, Polled, RunContext, RunError, Status, Task, TaskRecord,
    TaskSource,
};

/// Tasks are cut into parts only when there are fewer than this many per worker: with more,
/// dynamic scheduling alone keeps the workers busy and splitting would only add calls.
pub const SPLIT_BELOW_TASKS_PER_WORKER: usize = 16;

/// Whether a run of `tasks` tasks (if known) on `workers` workers gains from splitting them.
pub fn worth_splitting(splittable: bool, workers: usize, tasks: Option<usize>) -> bool {
    splittable
        && workers > 1
        && tasks.is_some_and(|count| count < workers * SPLIT_BELOW_TASKS_PER_WORKER)
}

/// Splits tasks into parts and merges the parts' results.
pub struct Splitter {
    instance: InstanceBox,
}

/// A split task whose parts are running.
struct Parent {
    input: Value,
    parts: Vec<Option<TaskRecord>>,
    remaining: usize,
}

struct State<'a> {
    splitter: &'a mut Splitter,
    queued: VecDeque<Task>,
    parents: HashMap<u64, Parent>,
}

impl Splitter {
    /// A splitter with its own plugin instance.
    pub fn new(context: &RunContext) -> Result<Self, RunError> {
        Ok(Splitter {
            instance: context.instance()?,
        })
    }

    fn call(&mut self, method: &str, input: &Value) -> Result<Value, String> {
        let input = input.to_string();
        match self.instance.call(method.into(), input.as_str().into()) {
            RResult::ROk(json) => serde_json::from_str(json.as_str())
                .map_err(|error| format!("{method} returned invalid JSON: {error}")),
            RResult::RErr(error) => Err(format!("{method} failed: {error}")),
        }
    }

    /// Runs `tasks` on `executor`, splitting each into parts and merging the parts' results
    /// before `on_event` sees them.
    pub fn execute(
        &mut self,
        executor: &mut dyn Executor,
        tasks: &mut dyn TaskSource,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let state = RefCell::new(State {
            splitter: self,
            queued: VecDeque::new(),
            parents: HashMap::new(),
        });
        let mut parts = Parts {
            state: &state,
            tasks,
        };
        let outcome = executor.execute(&mut parts, &mut |event| match event.kind {
            EventKind::TaskFinished(record) if record.part.is_some() => {
                let merged = state.borrow_mut().collect(record);
                if let Some(record) = merged {
                    on_event(Event {
                        elapsed: event.elapsed,
                        kind: EventKind::TaskFinished(record),
                    });
                }
            }
            kind => on_event(Event {
                elapsed: event.elapsed,
                kind,
            }),
        });
        // Parts that never ran (the run was cancelled or failed) leave their task cancelled.
        let mut state = state.into_inner();
        let mut unfinished: Vec<(u64, Parent)> = state.parents.drain().collect();
        unfinished.sort_by_key(|(id, _)| *id);
        for (id, parent) in unfinished {
            let task = Task::new(id, parent.input);
            let record = TaskRecord::failed(
                task,
                Status::Cancelled,
                "the run was interrupted before every part ran".to_owned(),
                0,
                Default::default(),
                Default::default(),
            );
            on_event(Event {
                elapsed: Default::default(),
                kind: EventKind::TaskFinished(record),
            });
        }
        outcome
    }
}

/// The executor's task source: the queued parts of the last task split, then the next task,
/// split in turn.
struct Parts<'s, 'a> {
    state: &'s RefCell<State<'a>>,
    tasks: &'s mut dyn TaskSource,
}

impl TaskSource for Parts<'_, '_> {
    fn poll_task(&mut self) -> Polled {
        let mut state = self.state.borrow_mut();
        if let Some(part) = state.queued.pop_front() {
            return Polled::Ready(part);
        }
        match self.tasks.poll_task() {
            Polled::Ready(task) => Polled::Ready(state.split(task)),
            other => other,
        }
    }
}

impl State<'_> {
    /// The first part of `task` (queueing the others), or `task` itself if it does not split.
    fn split(&mut self, task: Task) -> Task {
        let parts = match self.splitter.call("split", &task.input) {
            Ok(Value::Array(parts)) if parts.len() > 1 => parts,
            // One part, or a task split cannot handle: run it whole (run reports any error).
            _ => return task,
        };
        let of = parts.len();
        self.parents.insert(
            task.id,
            Parent {
                input: task.input,
                parts: vec![None; of],
                remaining: of,
            },
        );
        let mut parts = parts.into_iter().enumerate().map(|(index, input)| Task {
            id: task.id,
            input,
            part: Some(Part { index, of }),
            history: Vec::new(),
        });
        let first = parts.next();
        self.queued.extend(parts);
        first.unwrap_or_else(|| Task::new(task.id, Value::Null))
    }

    /// Files a finished part; returns the whole task's record once its last part is in.
    fn collect(&mut self, record: TaskRecord) -> Option<TaskRecord> {
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
        let attempts = parts.iter().flat_map(|p| p.attempts.clone()).collect();
        let mut whole = TaskRecord {
            id,
            input: parent.input,
            status: Status::Ok,
            output: None,
            error: None,
            worker: parts.last().map_or(0, |p| p.worker),
            start_seconds: start,
            duration_seconds: (end - start).max(0.0),
            parts: Some(parts.len()),
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
            return Some(whole);
        }
        let outputs = Value::Array(parts.into_iter().filter_map(|p| p.output).collect());
        match self.splitter.call("merge", &outputs) {
            Ok(merged) => whole.output = Some(merged),
            Err(error) => {
                whole.status = Status::Error;
                whole.error = Some(error);
            }
        }
        Some(whole)
    }
}
