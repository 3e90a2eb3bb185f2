//! `--joblog FILE`: [`JobLog`], one line per finished attempt, written and flushed as each one
//! finishes, so `tail -f FILE` follows a long run while stdout stays human.
//!
//! The format is GNU parallel's `--joblog` (tab-separated, a header line first), with Quack's
//! columns after parallel's nine, so scripts written for parallel's log read this one:
//!
//! | column | holds |
//! | --- | --- |
//! | `Seq` | the task's id + 1 (parallel's job number, from 1; a retry keeps it) |
//! | `Host` | the node the worker ran on (this machine's name in inline and thread mode) |
//! | `Starttime` | when the attempt started, Unix seconds with 3 decimals |
//! | `JobRuntime` | how long it ran, seconds with 3 decimals |
//! | `Send` | bytes of the task's input (its JSON) |
//! | `Receive` | bytes of its result (its JSON; 0 without one) |
//! | `Exitval` | 0 `ok`, 1 `error`, -1 when the plugin never answered (crashed, timeout, cancelled) |
//! | `Signal` | the signal that ended a crashed worker, else 0 |
//! | `Command` | the task's input, as JSON |
//! | `Task` | the task's id |
//! | `Attempt` | which attempt this was, from 1 |
//! | `Worker` | the worker that ran it |
//! | `Status` | `ok`, `error`, `crashed`, `timeout` or `cancelled` |
//! | `Error` | why it failed (empty when it did not) |
//!
//! A task that never started (`not-run`) had no attempt and has no line. Every field is one
//! line and one column whatever a plugin or an input holds: a backslash, a tab, a newline and
//! every other character a terminal would act on (see [`crate::safe`]) are written as escapes
//! (`\\`, `\t`, `\n`, `\u{1b}`), so a line is always one attempt and `tail -f` on a terminal
//! shows text, never obeys it.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::{self, Write},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::runner::{
    Event, EventKind, Flow, Json, Reporter, Status,
    sys::{host_name, signal_named},
};

/// The header line: parallel's columns, then Quack's.
pub const HEADER: &str = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\tTask\tAttempt\tWorker\tStatus\tError";

/// One attempt, as a line needs it.
struct Line<'a> {
    id: u64,
    attempt: u64,
    worker: usize,
    status: Status,
    start_seconds: f64,
    duration_seconds: f64,
    input: &'a str,
    output: Option<&'a str>,
    error: Option<&'a str>,
}

/// The job log of a run, written to its file as attempts finish.
pub struct JobLog<W: Write> {
    out: W,
    /// When the run started, as Unix seconds (set by `RunStarted`).
    origin: f64,
    /// The node of each worker that said where it runs.
    nodes: BTreeMap<usize, String>,
    /// This machine's name, for workers that said nothing (inline and thread mode).
    here: String,
    /// The first write that failed; nothing more is written after it.
    failure: Option<io::Error>,
    line: String,
}

impl<W: Write> JobLog<W> {
    /// A log writing to `out`, its header first.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(HEADER.as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(JobLog {
            out,
            origin: unix_seconds(SystemTime::now()),
            nodes: BTreeMap::new(),
            here: host_name().unwrap_or_else(|| "localhost".to_owned()),
            failure: None,
            line: String::new(),
        })
    }

    /// Why a write failed, if one did.
    pub fn failure(self) -> Option<io::Error> {
        self.failure
    }

    /// Writes and flushes the line of one attempt.
    fn write(&mut self, attempt: &Line<'_>) {
        if self.failure.is_some() {
            return;
        }
        let (exit, signal) = match attempt.status {
            Status::Ok => (0, 0),
            Status::Error => (1, 0),
            Status::Crashed => (-1, attempt.error.and_then(signal_named).unwrap_or(0)),
            _ => (-1, 0),
        };
        let host = self.nodes.get(&attempt.worker).unwrap_or(&self.here);
        let line = &mut self.line;
        line.clear();
        // Writing to a String cannot fail.
        let _ = write!(
            line,
            "{}\t{}\t{:.3}\t{:.3}\t{}\t{}\t{exit}\t{signal}\t",
            attempt.id + 1,
            Field(host),
            self.origin + attempt.start_seconds,
            attempt.duration_seconds,
            attempt.input.len(),
            attempt.output.map_or(0, str::len),
        );
        let _ = writeln!(
            line,
            "{}\t{}\t{}\t{}\t{}\t{}",
            Field(attempt.input),
            attempt.id,
            attempt.attempt,
            attempt.worker,
            attempt.status.as_str(),
            Field(attempt.error.unwrap_or_default()),
        );
        let written = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.flush());
        self.failure = written.err();
    }
}

impl<W: Write> Reporter for JobLog<W> {
    fn report(&mut self, event: &Event) -> Flow {
        match &event.kind {
            EventKind::RunStarted { .. } => {
                let now = unix_seconds(SystemTime::now());
                self.origin = now - event.elapsed.as_secs_f64();
            }
            EventKind::WorkerStarted { worker, node, .. } => {
                self.nodes.insert(*worker, node.clone());
            }
            // A failed attempt that runs again; the last one is its task's record.
            EventKind::AttemptFailed {
                id,
                input,
                number,
                attempt,
                will_retry: true,
                ..
            } => {
                let line = Line {
                    id: *id,
                    attempt: u64::from(*number),
                    worker: attempt.worker,
                    status: attempt.status,
                    start_seconds: attempt.start_seconds,
                    duration_seconds: attempt.duration_seconds,
                    input: input.as_str(),
                    output: None,
                    error: Some(&attempt.error),
                };
                self.write(&line);
            }
            EventKind::TaskFinished(record) if record.status != Status::NotRun => {
                let line = Line {
                    id: record.id,
                    attempt: record.attempts.len() as u64 + 1,
                    worker: record.worker,
                    status: record.status,
                    start_seconds: record.start_seconds,
                    duration_seconds: record.duration_seconds,
                    input: record.input.as_str(),
                    output: record.output.as_ref().map(Json::as_str),
                    error: record.error.as_deref(),
                };
                self.write(&line);
            }
            _ => {}
        }
        Flow::Continue
    }

    fn wants_task_started(&self) -> bool {
        false
    }
}

/// `time` as Unix seconds.
fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

/// A field of a line: escaped so that it stays one field of one line (see the module docs).
struct Field<'a>(&'a str);

impl std::fmt::Display for Field<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for character in self.0.chars() {
            match character {
                '\\' => formatter.write_str("\\\\")?,
                '\t' => formatter.write_str("\\t")?,
                '\n' => formatter.write_str("\\n")?,
                '\r' => formatter.write_str("\\r")?,
                other if crate::safe::is_unsafe(other) => {
                    write!(formatter, "\\u{{{:x}}}", u32::from(other))?;
                }
                other => formatter.write_char(other)?,
            }
        }
        Ok(())
    }
}
