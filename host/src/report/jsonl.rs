//! The JSON Lines reporter: one JSON object per finished task on stdout as it finishes (flushed
//! whenever the executor waits, so lines stream without a write per task), then one summary
//! object. It keeps nothing per task, so memory stays flat however
//! many tasks run.

use std::io::{self, Write};

use serde::Serialize;

use super::Summary;
use crate::runner::{Choice, TaskRecord};

/// Writes one line per task and a summary line.
pub struct JsonlReporter<W: Write> {
    out: W,
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    runner: &'a Choice,
}

impl<W: Write> JsonlReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W) -> Self {
        JsonlReporter { out }
    }

    fn line(&mut self, kind: &'static str, body: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &Line { kind, body })?;
        self.out.write_all(b"\n")
    }

    /// Sends what was written to the terminal or pipe.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes one finished task: `{"type": "task", "id": 0, ...}`.
    pub fn task(&mut self, record: &TaskRecord) -> io::Result<()> {
        self.line("task", record)
    }

    /// Writes the summary: `{"type": "summary", "tasks": 4, ..., "runner": {...}}`.
    pub fn summary(&mut self, summary: &Summary, choice: &Choice) -> io::Result<()> {
        self.line(
            "summary",
            &SummaryLine {
                summary,
                runner: choice,
            },
        )?;
        self.flush()
    }
}
