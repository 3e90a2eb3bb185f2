//! The JSON Lines reporter: one JSON object per finished task on stdout as it finishes (flushed
//! whenever the executor waits, so lines stream without a write per task), then one summary
//! object. It keeps nothing per task, so memory stays flat however
//! many tasks run.

use std::io::{self, Write};

use serde::Serialize;

use crate::runner::{Choice, Event, EventKind, Flow, Reporter, Summary, TaskRecord};

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
    fn report(&mut self, event: &Event) -> Flow {
        if self.failure.is_some() {
            return Flow::after_write(self.failure.as_ref());
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
        Flow::after_write(self.failure.as_ref())
    }
}

/// What goes before a task record's first field.
const TASK_TYPE: &[u8] = br#""type":"task","#;

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

    /// Writes one finished task: `{"type": "task", "id": 0, ...}`: the record as the report
    /// writes it, with the type put in front (the same line `Line` makes, without serde's
    /// flattening, which goes through a map and costs a trivial task's run a tenth of its time).
    fn task(&mut self, record: &TaskRecord) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        // A record is a JSON object: `{` then its fields.
        if self.line.first() == Some(&b'{') {
            self.line.splice(1..1, TASK_TYPE.iter().copied());
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Attempt, Json, NodeName, PartRun, Status};

    fn record(output: Option<&str>, attempts: Vec<Attempt>) -> TaskRecord {
        TaskRecord {
            id: 7,
            input: Json::parse(r#"{"n": 12}"#).unwrap(),
            status: if output.is_some() {
                Status::Ok
            } else {
                Status::Error
            },
            output: output.map(|text| Json::parse(text).unwrap()),
            error: output.is_none().then(|| "no \"luck\"".to_owned()),
            worker: 1,
            node: Some(NodeName::new("n1")),
            start_seconds: 0.25,
            duration_seconds: 1.5e-6,
            parts: Some(3),
            part_runs: vec![PartRun {
                part: 0,
                status: Status::Ok,
                error: None,
                worker: 1,
                node: Some(NodeName::new("n1")),
                start_seconds: 0.25,
                duration_seconds: 1.0e-6,
            }],
            attempts,
            part: None,
        }
    }

    /// The task line is the record with `"type": "task"` in front, exactly what serde's
    /// flattening of the two makes.
    #[test]
    fn a_task_line_is_the_flattened_record() {
        let crashed = Attempt {
            status: Status::Crashed,
            error: "worker 1 died".to_owned(),
            part: Some(2),
            worker: 1,
            node: Some(NodeName::new("n2")),
            start_seconds: 0.1,
            duration_seconds: 0.2,
        };
        for record in [
            record(Some("[1, 2, 3]"), Vec::new()),
            record(None, vec![crashed]),
        ] {
            let mut reporter = JsonlReporter::new(Vec::new());
            reporter.task(&record).unwrap();
            let mut expected = serde_json::to_vec(&Line {
                kind: "task",
                body: &record,
            })
            .unwrap();
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8(reporter.out).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
