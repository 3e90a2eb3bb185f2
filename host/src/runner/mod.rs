//! The runner: one [`Executor`] interface over the execution modes, the task and result types
//! they share, and [`choose`], which picks the mode and worker count and says why.
//!
//! Executors emit [`Event`]s and never print; the reporters in `report` turn events into output.

mod choose;
mod events;
mod inline;
mod pending;
mod process;
pub mod protocol;
mod source;
mod split;
mod thread;
pub mod worker;

use std::{
    sync::{Arc, atomic::AtomicBool},
    time::{Duration, Instant},
};

use quack_core::{InstanceBox, PluginError, abi_stable::std_types::RResult};
use serde::Serialize;
use serde_json::Value;

pub use choose::{Choice, Mode, Request, choose};
pub use events::{Event, EventKind};
pub use inline::InlineExecutor;
pub use process::ProcessExecutor;
pub use source::{INPUT_POLL, Polled, TaskSource};
pub use split::{Splitter, worth_splitting};
pub use thread::ThreadExecutor;

use crate::loader::LoadedPlugin;

/// One unit of work: the argument of one `run` call.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The task's position in the input, from 0.
    pub id: u64,
    /// The argument passed to `run`.
    pub input: Value,
    /// Which part of a split task this is, if it is one.
    pub part: Option<Part>,
    /// Earlier attempts that crashed or timed out (for `--retries`).
    pub history: Vec<Attempt>,
}

impl Task {
    /// A fresh task.
    pub fn new(id: u64, input: Value) -> Self {
        Task {
            id,
            input,
            part: None,
            history: Vec::new(),
        }
    }
}

/// The place of a part in the task it was split from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Its index among the parts, from 0.
    pub index: usize,
    /// How many parts the task was cut into.
    pub of: usize,
}

/// One failed attempt at a task that was run again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// `crashed` or `timeout`.
    pub status: Status,
    /// Why it failed.
    pub error: String,
    /// The worker that ran it.
    pub worker: usize,
    /// When it started, in seconds since the run started.
    pub start_seconds: f64,
    /// How long it ran, in seconds.
    pub duration_seconds: f64,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `run` returned a result.
    Ok,
    /// `run` returned an error (or panicked, caught by the SDK).
    Error,
    /// The worker running it died.
    Crashed,
    /// It ran past its time limit.
    Timeout,
    /// The run was stopped before it finished.
    Cancelled,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 5] = [
        Status::Ok,
        Status::Error,
        Status::Crashed,
        Status::Timeout,
        Status::Cancelled,
    ];

    /// The status as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Crashed => "crashed",
            Status::Timeout => "timeout",
            Status::Cancelled => "cancelled",
        }
    }
}

/// What became of one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// The task's id.
    pub id: u64,
    /// Its input.
    pub input: Value,
    /// How it ended.
    pub status: Status,
    /// The result, when `status` is `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The worker that ran it, from 0.
    pub worker: usize,
    /// When it started, in seconds since the run started.
    pub start_seconds: f64,
    /// How long it ran, in seconds.
    pub duration_seconds: f64,
    /// How many parts it was split into, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<usize>,
    /// Earlier attempts that crashed or timed out, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Which part of a split task this is (internal: parts are merged before reporting).
    #[serde(skip)]
    pub part: Option<Part>,
}

impl TaskRecord {
    /// A record for `task` that never ran to an end: cancelled, crashed or timed out.
    pub fn failed(
        task: Task,
        status: Status,
        error: String,
        worker: usize,
        start: Duration,
        duration: Duration,
    ) -> Self {
        TaskRecord {
            id: task.id,
            input: task.input,
            status,
            output: None,
            error: Some(error),
            worker,
            start_seconds: seconds(start),
            duration_seconds: seconds(duration),
            parts: None,
            attempts: task.history,
            part: task.part,
        }
    }

    /// The task to run again, when this attempt crashed or timed out and `retries` allows
    /// another; otherwise the record itself, to report.
    pub fn retry(self, retries: u32) -> Retry {
        let retryable = matches!(self.status, Status::Crashed | Status::Timeout);
        if !retryable || self.attempts.len() as u32 >= retries {
            return Retry::Report(self);
        }
        let attempt = self.as_attempt();
        let mut again = Task::new(self.id, self.input);
        again.part = self.part;
        again.history = self.attempts;
        again.history.push(attempt);
        Retry::RunAgain(again)
    }

    /// This record as an earlier attempt of a task that runs again.
    fn as_attempt(&self) -> Attempt {
        Attempt {
            status: self.status,
            error: self.error.clone().unwrap_or_default(),
            worker: self.worker,
            start_seconds: self.start_seconds,
            duration_seconds: self.duration_seconds,
        }
    }
}

/// What becomes of a failed attempt: see [`TaskRecord::retry`].
#[derive(Debug)]
pub enum Retry {
    /// Run the task again; its history holds the failed attempt.
    RunAgain(Task),
    /// No retry: report this record.
    Report(TaskRecord),
}

/// Limits that apply to every task of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// How long one attempt may run.
    pub timeout: Option<Duration>,
    /// How many times a crashed or timed-out task runs again.
    pub retries: u32,
}

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The plugin refused to make an instance (usually its configuration).
    #[error("the plugin refused its configuration: {}; check --config and --set", .0.message)]
    Instance(#[source] PluginError),
    /// A worker process could not load the plugin.
    #[error("worker {worker} could not start: {reason}")]
    WorkerFailed {
        /// Which worker.
        worker: usize,
        /// What it said, or how it died.
        reason: String,
    },
    /// A worker thread or process could not be started.
    #[error("could not start worker {worker}: {source}")]
    Spawn {
        /// Which worker.
        worker: usize,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// Runs tasks and reports each one as it finishes.
pub trait Executor {
    /// Runs every task `tasks` yields, taking the next one whenever a worker is free, and calls
    /// `on_event` on the calling thread as results arrive, in completion order. Returns when every
    /// task has been reported or the run was cancelled.
    fn execute(
        &mut self,
        tasks: &mut dyn TaskSource,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError>;
}

/// What every executor needs to run a plugin's tasks.
#[derive(Clone)]
pub struct RunContext {
    /// The plugin.
    pub plugin: LoadedPlugin,
    /// Its configuration, a JSON object as text.
    pub config: String,
    /// When the run started; task start offsets count from here.
    pub origin: Instant,
    /// Set to stop handing out tasks.
    pub cancel: Arc<AtomicBool>,
    /// Time limit and retries.
    pub limits: Limits,
}

impl RunContext {
    /// A new instance of the plugin.
    pub fn instance(&self) -> Result<InstanceBox, RunError> {
        self.plugin
            .instantiate(&self.config)
            .map_err(RunError::Instance)
    }
}

/// Builds the executor for `choice`.
pub fn executor(choice: &Choice, context: RunContext) -> Result<Box<dyn Executor>, RunError> {
    Ok(match choice.mode {
        Mode::Inline => Box::new(InlineExecutor::new(context)?),
        Mode::Thread => Box::new(ThreadExecutor::new(context, choice.workers)?),
        Mode::Process => Box::new(ProcessExecutor::new(context, choice.workers)),
    })
}

/// What one `run` call gave, before it is tied to its task.
pub(crate) struct CallOutcome {
    status: Status,
    output: Option<Value>,
    error: Option<String>,
    started: Instant,
    duration: Duration,
}

impl CallOutcome {
    /// The outcome of a call that started at `started`, took `duration` and returned `result`
    /// (the result's JSON, or the plugin's error).
    pub(crate) fn new(result: Result<&str, String>, started: Instant, duration: Duration) -> Self {
        let (status, output, error) = match result {
            Ok(json) => match serde_json::from_str(json) {
                Ok(value) => (Status::Ok, Some(value), None),
                Err(error) => (
                    Status::Error,
                    None,
                    Some(format!("the plugin returned invalid JSON: {error}")),
                ),
            },
            Err(error) => (Status::Error, None, Some(error)),
        };
        CallOutcome {
            status,
            output,
            error,
            started,
            duration,
        }
    }

    /// How long the call took.
    pub(crate) fn duration(&self) -> Duration {
        self.duration
    }

    /// The record of `task`, run by `worker`.
    pub(crate) fn into_record(self, task: Task, worker: usize, origin: Instant) -> TaskRecord {
        TaskRecord {
            id: task.id,
            input: task.input,
            status: self.status,
            output: self.output,
            error: self.error,
            worker,
            start_seconds: seconds(self.started.saturating_duration_since(origin)),
            duration_seconds: seconds(self.duration),
            parts: None,
            attempts: task.history,
            part: task.part,
        }
    }
}

/// Calls `run` on `instance` with `input` (JSON).
pub(crate) fn call_run(instance: &mut InstanceBox, input: &str) -> CallOutcome {
    let started = Instant::now();
    let result = instance.call("run".into(), input.into());
    let duration = started.elapsed();
    match &result {
        RResult::ROk(json) => CallOutcome::new(Ok(json.as_str()), started, duration),
        RResult::RErr(error) => CallOutcome::new(Err(error.to_string()), started, duration),
    }
}

/// Calls `run` on `instance` with the task's input and records the outcome.
pub(crate) fn run_task(
    instance: &mut InstanceBox,
    worker: usize,
    task: Task,
    origin: Instant,
) -> TaskRecord {
    call_run(instance, &task.input.to_string()).into_record(task, worker, origin)
}

/// A duration as seconds, for reports.
pub fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}
