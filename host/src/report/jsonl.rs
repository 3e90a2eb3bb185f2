//! The JSON Lines reporter: one JSON object per finished task on stdout as it finishes (flushed
//! whenever the executor waits, so lines stream without a write per task), then one summary
//! object. It keeps nothing per task, so memory stays flat however
//! many tasks run.

use std::io::{self, Write};

use serde::Serialize;

use crate::runner::{Choice, Event, EventKind, Reporter, Summary, TaskRecord};

/// Writes one line per task and a summary line.
pub struct JsonlReporter<W: Write> {
    out: W,
    /// One line, made whole before it is written (one write per line, not one per field).
    line: Vec<u8>,
    choice: Option<Choice>,
    /// The first write error; writing stops there.
    failure: Option<io::Error>,
}

impl<W: Write> Reporter for JsonlReporter<W> {
    fn report(&mut self, event: &Event) {
        if self.failure.is_some() {
            return;
        }
        let written = match &event.kind {
            EventKind::RunStarted { choice, .. } => {
                self.choice = Some(choice.clone());
                Ok(())
            }
            EventKind::TaskFinished(record) => self.task(record),
            EventKind::Idle => self.out.flush(),
            EventKind::RunFinished { summary, .. } => match self.choice.clone() {
                Some(choice) => self.summary(summary, &choice),
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(error) = written {
            self.failure = Some(error);
        }
    }
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
        JsonlReporter {
            out,
            line: Vec::with_capacity(256),
            choice: None,
            failure: None,
        }
    }

    /// The first error writing the output, if there was one.
    pub fn failure(self) -> Option<io::Error> {
        self.failure
    }

    fn line(&mut self, kind: &'static str, body: &impl Serialize) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, &Line { kind, body })?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    /// Writes one finished task: `{"type": "task", "id": 0, ...}`.
    fn task(&mut self, record: &TaskRecord) -> io::Result<()> {
        self.line("task", record)
    }

    /// Writes the summary: `{"type": "summary", "tasks": 4, ..., "runner": {...}}`.
    fn summary(&mut self, summary: &Summary, choice: &Choice) -> io::Result<()> {
        self.line(
            "summary",
            &SummaryLine {
                summary,
                runner: choice,
            },
        )?;
        self.out.flush()
    }
}
