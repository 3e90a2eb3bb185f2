//! The human reporter: one line per task as it finishes (input, result or error, time, worker)
//! and a summary line, in the seed's list format (`[1, 5501, 9733, 53541233]`).

use std::io::{self, Write};

use serde_json::Value;

use crate::runner::{Choice, Event, EventKind, Reporter, Status, Summary, TaskRecord};

/// Writes task lines and the summary to a writer (standard output in the CLI).
pub struct HumanReporter<W: Write> {
    out: W,
    header_written: bool,
    choice: Option<Choice>,
    /// The first write error; writing stops there.
    failure: Option<io::Error>,
}

impl<W: Write> Reporter for HumanReporter<W> {
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
            EventKind::RunFinished { summary, .. } => {
                let choice = self.choice.clone();
                match choice {
                    Some(choice) => self.summary(summary, &choice),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        };
        if let Err(error) = written {
            self.failure = Some(error);
        }
    }
}

impl<W: Write> HumanReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W) -> Self {
        HumanReporter {
            out,
            header_written: false,
            choice: None,
            failure: None,
        }
    }

    /// The first error writing the output, if there was one.
    pub fn failure(self) -> Option<io::Error> {
        self.failure
    }

    /// Writes one finished task (shown at the next flush).
    fn task(&mut self, record: &TaskRecord) -> io::Result<()> {
        if !self.header_written {
            writeln!(
                self.out,
                "{:>6}  {:<9} {:>10}  input -> result",
                "task", "status", "time"
            )?;
            self.header_written = true;
        }
        let outcome = match (&record.output, &record.error) {
            (Some(output), _) => display(output),
            (None, Some(error)) => error.clone(),
            (None, None) => String::new(),
        };
        writeln!(
            self.out,
            "{:>6}  {:<9} {:>10}  {} -> {}",
            record.id,
            record.status.as_str(),
            duration(record.duration_seconds),
            compact(&record.input),
            outcome
        )
    }

    /// Writes the summary line.
    fn summary(&mut self, summary: &Summary, choice: &Choice) -> io::Result<()> {
        let mut counts = vec![format!("{} ok", summary.ok)];
        counts.extend(
            Status::ALL[1..]
                .iter()
                .filter(|status| summary.of(**status) > 0)
                .map(|status| format!("{} {}", summary.of(*status), status.as_str())),
        );
        let workers = if choice.workers == 1 {
            "worker"
        } else {
            "workers"
        };
        let tasks = if summary.tasks == 1 { "task" } else { "tasks" };
        writeln!(
            self.out,
            "{} {tasks} ({}), {} failed | mode {}, {} {workers} | wall {}, cpu {}",
            summary.tasks,
            counts.join(", "),
            summary.failed(),
            choice.mode.as_str(),
            choice.workers,
            duration(summary.wall_seconds),
            duration(summary.cpu_seconds),
        )?;
        self.out.flush()
    }
}

/// A value for people: compact JSON with a space after each comma, strings without quotes at
/// the top level.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => compact(other),
    }
}

/// A value as compact JSON with a space after each comma (strings keep their quotes).
pub fn compact(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{}: {}", Value::String(key.clone()), compact(value)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// Seconds for people: milliseconds under one second.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_look_like_the_seed() {
        assert_eq!(
            display(&json!([1, 5501, 9733, 53541233])),
            "[1, 5501, 9733, 53541233]"
        );
        assert_eq!(display(&json!({"a": [1, "x"]})), "{\"a\": [1, \"x\"]}");
        assert_eq!(display(&json!("Quack!")), "Quack!");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(0.0123), "12.3 ms");
        assert_eq!(duration(2.5), "2.50 s");
    }
}
