//! The records of a run: a [`Task`] (one `run` call's argument, maybe a part of a split task,
//! with its failed attempts), how it ended ([`Status`]) and its final [`TaskRecord`] (with where
//! each attempt and each part ran: [`Attempt`], [`PartRun`], [`NodeName`]), and the retry rule
//! ([`TaskRecord::retry`]) every executor applies to a crashed or timed-out attempt.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use quack_core::InstanceBox;
use serde::{Deserialize, Serialize};

use super::Json;

/// One unit of work: the argument of one `run` call.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The task's position in the input, from 0.
    pub id: u64,
    /// The argument passed to `run`.
    pub input: Json,
    /// Which part of a split task this is, if it is one.
    pub part: Option<Part>,
    /// Earlier attempts that crashed or timed out (for `--retries`).
    pub history: Vec<Attempt>,
}

impl Task {
    /// A fresh task.
    pub fn new(id: u64, input: impl Into<Json>) -> Self {
        Task {
            id,
            input: input.into(),
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

/// The name of the node (host) a worker ran on, shared by every record of that worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeName(Arc<str>);

impl NodeName {
    /// The node called `name`.
    pub fn new(name: &str) -> Self {
        NodeName(Arc::from(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for NodeName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// One failed attempt at a task that was run again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// `crashed` or `timeout`.
    pub status: Status,
    /// Why it failed.
    pub error: String,
    /// Which part of a split task it was an attempt at (its index, from 0), if a part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<usize>,
    /// The worker that ran it.
    pub worker: usize,
    /// The node that worker ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeName>,
    /// When it started, in seconds since the run started.
    pub start_seconds: f64,
    /// How long it ran, in seconds.
    pub duration_seconds: f64,
}

impl Attempt {
    /// A failed attempt as its record tells it.
    pub fn of(record: &TaskRecord) -> Self {
        Attempt {
            status: record.status,
            error: record.error.clone().unwrap_or_default(),
            part: record.part.map(|part| part.index),
            worker: record.worker,
            node: record.node.clone(),
            start_seconds: record.start_seconds,
            duration_seconds: record.duration_seconds,
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The run was stopped (a signal) while it ran or before it started.
    Cancelled,
    /// It never started: the run could not go on (the record's error says why).
    #[serde(rename = "not-run")]
    NotRun,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 6] = [
        Status::Ok,
        Status::Error,
        Status::Crashed,
        Status::Timeout,
        Status::Cancelled,
        Status::NotRun,
    ];

    /// The status as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Crashed => "crashed",
            Status::Timeout => "timeout",
            Status::Cancelled => "cancelled",
            Status::NotRun => "not-run",
        }
    }
}

/// What became of one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// The task's id.
    pub id: u64,
    /// Its input.
    pub input: Json,
    /// How it ended.
    pub status: Status,
    /// The result, when `status` is `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Json>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The worker that ran it, from 0.
    pub worker: usize,
    /// The node that worker ran on; `None` for a task that never started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeName>,
    /// When it started, in seconds since the run started.
    pub start_seconds: f64,
    /// How long it ran, in seconds.
    pub duration_seconds: f64,
    /// How many parts it was split into, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<usize>,
    /// Where and when each part of a split task ran (its last attempt), in part order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub part_runs: Vec<PartRun>,
    /// Earlier attempts that crashed or timed out, oldest first (a split task's: its parts').
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Which part of a split task this is (internal: parts are merged before reporting).
    #[serde(skip)]
    pub part: Option<Part>,
}

/// The last attempt at one part of a split task: where and when it ran, how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartRun {
    /// The part's index, from 0.
    pub part: usize,
    /// How it ended.
    pub status: Status,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The worker that ran it.
    pub worker: usize,
    /// The node that worker ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeName>,
    /// When it started, in seconds since the run started.
    pub start_seconds: f64,
    /// How long it ran, in seconds.
    pub duration_seconds: f64,
}

impl PartRun {
    /// The run of a part as its record tells it.
    pub fn of(record: &TaskRecord) -> Self {
        PartRun {
            part: record.part.map_or(0, |part| part.index),
            status: record.status,
            error: record.error.clone(),
            worker: record.worker,
            node: record.node.clone(),
            start_seconds: record.start_seconds,
            duration_seconds: record.duration_seconds,
        }
    }
}

impl TaskRecord {
    /// Whether this attempt ran at all: a task cancelled before it started or never run did not
    /// (the record of a task stopped before it started takes no time at all).
    pub fn ran(&self) -> bool {
        match self.status {
            Status::NotRun => false,
            Status::Cancelled => self.duration_seconds > 0.0,
            _ => true,
        }
    }

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
            node: None,
            start_seconds: seconds(start),
            duration_seconds: seconds(duration),
            parts: None,
            part_runs: Vec::new(),
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
        let attempt = Attempt::of(&self);
        let mut again = Task::new(self.id, self.input);
        again.part = self.part;
        again.history = self.attempts;
        again.history.push(attempt);
        Retry::RunAgain(again)
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

/// What one `run` call gave, before it is tied to its task.
pub(crate) struct CallOutcome {
    status: Status,
    output: Option<Json>,
    error: Option<String>,
    started: Instant,
    duration: Duration,
}

impl CallOutcome {
    /// The outcome of a call that started at `started`, took `duration` and gave `result` (read
    /// with `answer::read`).
    pub(crate) fn of_json(
        result: Result<Json, String>,
        started: Instant,
        duration: Duration,
    ) -> Self {
        let (status, output, error) = match result {
            Ok(output) => (Status::Ok, Some(output), None),
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
            node: None,
            start_seconds: seconds(self.started.saturating_duration_since(origin)),
            duration_seconds: seconds(self.duration),
            parts: None,
            part_runs: Vec::new(),
            attempts: task.history,
            part: task.part,
        }
    }
}

/// Calls `run` on `instance` with `input` (JSON), a call that starts at `started` (read by the
/// caller, who needs that moment too).
pub(crate) fn call_run_from(
    instance: &mut InstanceBox,
    input: &str,
    started: Instant,
) -> CallOutcome {
    let returned = instance.call("run".into(), input.into());
    let duration = started.elapsed();
    CallOutcome::of_json(
        super::answer::read(&returned, Json::parse),
        started,
        duration,
    )
}

/// A duration as seconds, for reports.
pub fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}
