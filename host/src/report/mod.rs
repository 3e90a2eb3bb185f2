//! The reporters that turn a run's events into output, each a [`Reporter`]: the human table
//! ([`human`]), JSON Lines ([`jsonl`]), the JSON report ([`ReportWriter`], streamed as tasks
//! finish, to stdout or through [`file::ReportFile`] to a file renamed into place), the lines
//! on stderr ([`diagnostics`]), the progress line on a terminal ([`progress`]), what `-v`
//! adds ([`verbose`], through `tracing`), the lines for slow attempts ([`slow`]), and the files for other tools: the job log of GNU
//! parallel's habit ([`joblog`]) and JUnit XML for CI ([`junit`]).

pub mod compare;
pub mod compare_text;
pub mod diagnostics;
pub mod file;
pub mod html;
pub mod human;
pub mod joblog;
pub mod jsonl;
pub mod junit;
pub mod plugin;
pub mod progress;
pub mod read;
pub mod slow;
pub mod stats;
pub mod timed;
pub mod trace;
pub mod units;
pub mod verbose;

use std::{
    collections::BTreeMap,
    io::{self, Write},
    sync::Arc,
    time::SystemTime,
};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{
    plugin::PluginInfo,
    runner::{
        Choice, Event, EventKind, Flow, Reporter, Summary, TaskRecord,
        sys::{cores, host_name},
    },
};

/// The version of the report's format; it changes when a field changes meaning or goes away.
/// Fields added later are optional (`quack_commit`, `started_at`, `command_line`, the plugin's
/// `size` and `sha256`, the machine's `host_name`, the summary's `not_run`), so reports written
/// before them still read, and readers that predate them ignore them.
pub const FORMAT_VERSION: u32 = 1;

/// What a report says before its tasks: everything known when the run starts. The report
/// written by `--json` is this, then `tasks` (every task, in id order), then `summary`.
#[derive(Debug, Clone, Serialize)]
pub struct ReportHead {
    /// See [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The version of the host that wrote it.
    pub quack_version: &'static str,
    /// The git commit the host was built from, when built from a checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quack_commit: Option<&'static str>,
    /// When the run started (the origin of the tasks' `start_seconds`), in RFC 3339, UTC.
    pub started_at: String,
    /// The command line of the process that wrote the report, program first.
    pub command_line: Vec<String>,
    /// The plugin that ran.
    #[serde(serialize_with = "plugin::write")]
    pub plugin: Arc<PluginInfo>,
    /// The configuration its instances were made with.
    pub config: Value,
    /// How the tasks were run and why (known once the run starts).
    pub runner: Option<Choice>,
    /// Where they ran.
    pub machine: Machine,
}

impl ReportHead {
    /// The head of a report on `plugin` run with `config`; the runner part is filled in when
    /// the run starts. The plugin file is read and hashed now, if it was not yet.
    pub fn new(plugin: &Arc<PluginInfo>, config: Map<String, Value>) -> Self {
        plugin.content();
        ReportHead {
            format_version: FORMAT_VERSION,
            quack_version: crate::version::VERSION,
            quack_commit: crate::version::COMMIT,
            started_at: rfc3339(SystemTime::now()),
            command_line: std::env::args_os()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect(),
            plugin: Arc::clone(plugin),
            config: Value::Object(config),
            runner: None,
            machine: Machine::this(),
        }
    }
}

/// `time` in RFC 3339, UTC, to the millisecond: `2026-11-25T14:31:33.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// The machine part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical cores available to this process.
    pub cores: usize,
    /// The operating system, e.g. `linux`.
    pub os: &'static str,
    /// The processor architecture, e.g. `x86_64`.
    pub arch: &'static str,
    /// The machine's host name, when the system tells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
}

impl Machine {
    /// This machine.
    pub fn this() -> Self {
        Machine {
            cores: cores(),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            host_name: host_name(),
        }
    }
}

/// Writes the JSON report as the run goes: the head when the run starts, each task as soon as
/// every task before it is written (so the tasks are in id order, and only those finished ahead
/// of an earlier one wait in memory), the summary at the end. Memory stays flat however many
/// tasks run.
pub struct ReportWriter<W: Write> {
    out: W,
    /// One task's JSON, made whole before it is written.
    line: Vec<u8>,
    head: ReportHead,
    /// Tasks finished before an earlier one, by id.
    waiting: BTreeMap<u64, TaskRecord>,
    /// The id of the next task to write.
    next_id: u64,
    /// Whether a task has been written (for the commas).
    wrote_task: bool,
    /// The first write error; writing stops there.
    failure: Option<io::Error>,
    finished: bool,
    /// Every worker process that started (process mode), in order: written at the end.
    workers: Vec<WorkerInfo>,
    /// Every worker that was replaced, in order: written at the end.
    replacements: Vec<Replacement>,
}

/// A worker that died or was stopped, and was replaced, in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Replacement {
    /// The worker's number (its replacement keeps it).
    pub worker: usize,
    /// When the old one was found gone, in seconds since the run started.
    pub at_seconds: f64,
    /// Why it went away.
    pub reason: String,
}

/// One worker process in the report: where it ran.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerInfo {
    /// The worker's number (a replacement keeps the number of the worker it replaces).
    pub worker: usize,
    /// The node it ran on (Slurm's node name inside a job step, else the host name).
    pub node: String,
    /// Its process id on that node.
    pub pid: u32,
    /// When it was ready for tasks (it had loaded the plugin), in seconds since the run started.
    pub start_seconds: f64,
}

impl<W: Write> ReportWriter<W> {
    /// A writer of the report with `head` to `out`.
    pub fn new(out: W, head: ReportHead) -> Self {
        ReportWriter {
            out,
            line: Vec::with_capacity(256),
            head,
            waiting: BTreeMap::new(),
            next_id: 0,
            wrote_task: false,
            failure: None,
            finished: false,
            workers: Vec::new(),
            replacements: Vec::new(),
        }
    }

    /// Whether the report was written to its end, and the writer with the first error if not.
    pub fn finish(mut self) -> Result<W, io::Error> {
        if !self.finished && self.failure.is_none() {
            self.failure = Some(io::Error::other("the run ended without its summary"));
        }
        match self.failure.take() {
            Some(error) => Err(error),
            None => Ok(self.out),
        }
    }

    fn write(&mut self, write: impl FnOnce(&mut Self) -> io::Result<()>) {
        if self.failure.is_none() {
            if let Err(error) = write(self) {
                self.failure = Some(error);
            }
        }
    }

    fn write_head(&mut self) -> io::Result<()> {
        let head = serde_json::to_value(&self.head)?;
        self.out.write_all(b"{\n")?;
        if let Value::Object(fields) = head {
            for (key, value) in fields {
                let pretty = serde_json::to_string_pretty(&value)?.replace('\n', "\n  ");
                writeln!(self.out, "  {}: {pretty},", Value::String(key))?;
            }
        }
        self.out.write_all(b"  \"tasks\": [")
    }

    fn write_task(&mut self, record: &TaskRecord) -> io::Result<()> {
        self.out.write_all(if self.wrote_task {
            b",\n    "
        } else {
            b"\n    "
        })?;
        self.wrote_task = true;
        // Made whole first: one write per task, not one per field.
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.out.write_all(&self.line)
    }

    fn file_task(&mut self, record: &TaskRecord) -> io::Result<()> {
        if record.id != self.next_id {
            self.waiting.insert(record.id, record.clone());
            return Ok(());
        }
        self.write_task(record)?;
        self.next_id += 1;
        while let Some(record) = self.waiting.remove(&self.next_id) {
            self.write_task(&record)?;
            self.next_id += 1;
        }
        Ok(())
    }

    fn write_end(&mut self, summary: &Summary) -> io::Result<()> {
        // Whatever still waits (a task whose predecessor never came) goes out in order.
        for record in std::mem::take(&mut self.waiting).into_values() {
            self.write_task(&record)?;
        }
        let summary = serde_json::to_string_pretty(summary)?.replace('\n', "\n  ");
        let close = if self.wrote_task { "\n  ]" } else { "]" };
        write!(self.out, "{close},")?;
        if !self.workers.is_empty() {
            let workers = serde_json::to_string_pretty(&self.workers)?.replace('\n', "\n  ");
            write!(self.out, "\n  \"workers\": {workers},")?;
        }
        if !self.replacements.is_empty() {
            let replacements =
                serde_json::to_string_pretty(&self.replacements)?.replace('\n', "\n  ");
            write!(self.out, "\n  \"replacements\": {replacements},")?;
        }
        writeln!(self.out, "\n  \"summary\": {summary}\n}}")?;
        self.out.flush()
    }
}

impl<W: Write> Reporter for ReportWriter<W> {
    fn report(&mut self, event: &Event) -> Flow {
        match &event.kind {
            EventKind::RunStarted { choice, .. } => {
                self.head.runner = Some(choice.clone());
                // The run's origin, which the tasks' start_seconds count from.
                let now = SystemTime::now();
                self.head.started_at = rfc3339(now.checked_sub(event.elapsed).unwrap_or(now));
                self.write(Self::write_head);
            }
            EventKind::TaskFinished(record) => self.write(|writer| writer.file_task(record)),
            EventKind::WorkerStarted { worker, pid, node } => self.workers.push(WorkerInfo {
                worker: *worker,
                node: node.clone(),
                pid: *pid,
                start_seconds: event.elapsed.as_secs_f64(),
            }),
            EventKind::WorkerReplaced { worker, reason } => self.replacements.push(Replacement {
                worker: *worker,
                at_seconds: event.elapsed.as_secs_f64(),
                reason: reason.clone(),
            }),
            EventKind::RunFinished { summary, .. } => {
                self.write(|writer| writer.write_end(summary));
                self.finished = true;
            }
            _ => {}
        }
        Flow::after_write(self.failure.as_ref())
    }
}
