//! [`Sink`]: where `host run` sends the executor's events: the summary counts, the chosen
//! reporter on stdout (table, JSON Lines, or the JSON report at the end), the records kept for a
//! report, and worker output on stderr, marked with its worker.

use std::io::{self, BufWriter, Stdout};

use clap::ValueEnum;

use crate::{
    error::HostError,
    report::{Report, Summary, human::HumanReporter, jsonl::JsonlReporter},
    runner::{Choice, Event, EventKind, TaskRecord},
};

/// The values of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A line per task as it finishes, then a summary line.
    Human,
    /// The JSON report, printed once the run is over.
    Json,
    /// One JSON object per task as it finishes, then a summary object (JSON Lines).
    Jsonl,
}

enum Reporter {
    Human(HumanReporter<BufWriter<Stdout>>),
    Jsonl(JsonlReporter<BufWriter<Stdout>>),
    Json,
}

/// Receives a run's events.
pub struct Sink {
    reporter: Reporter,
    summary: Summary,
    records: Option<Vec<TaskRecord>>,
    /// The first error writing stdout; printing stops there but the run goes on.
    failure: Option<io::Error>,
}

impl Sink {
    /// A sink printing in `format`, keeping every record if `keep_records`.
    pub fn new(format: Format, keep_records: bool) -> Self {
        let stdout = || BufWriter::with_capacity(1 << 16, io::stdout());
        let reporter = match format {
            Format::Human => Reporter::Human(HumanReporter::new(stdout())),
            Format::Jsonl => Reporter::Jsonl(JsonlReporter::new(stdout())),
            Format::Json => Reporter::Json,
        };
        Sink {
            reporter,
            summary: Summary::default(),
            records: keep_records.then(Vec::new),
            failure: None,
        }
    }

    /// Handles one event.
    pub fn event(&mut self, event: Event) {
        match event.kind {
            EventKind::TaskFinished(record) => self.record(record),
            EventKind::WorkerOutput { worker, line } => eprintln!("[worker {worker}] {line}"),
            EventKind::WorkerReplaced { worker, reason } => {
                eprintln!("worker {worker} replaced: {reason}")
            }
            EventKind::Idle => self.print(|reporter| match reporter {
                Reporter::Human(human) => human.flush(),
                Reporter::Jsonl(jsonl) => jsonl.flush(),
                Reporter::Json => Ok(()),
            }),
        }
    }

    /// Counts, prints and (if asked) keeps one finished task.
    pub fn record(&mut self, record: TaskRecord) {
        self.summary.count(record.status);
        self.print(|reporter| match reporter {
            Reporter::Human(human) => human.task(&record),
            Reporter::Jsonl(jsonl) => jsonl.task(&record),
            Reporter::Json => Ok(()),
        });
        if let Some(records) = &mut self.records {
            records.push(record);
        }
    }

    /// The counts so far and the kept records.
    pub fn finish_tasks(&mut self) -> (Summary, Option<Vec<TaskRecord>>) {
        (self.summary.clone(), self.records.take())
    }

    /// Prints the summary (or, for `--format json`, the report) and reports a stdout failure.
    /// A closed pipe (`host run ... | head`) is not an error.
    pub fn summary(
        mut self,
        summary: &Summary,
        choice: &Choice,
        report: Option<&Report>,
    ) -> Result<(), HostError> {
        self.print(|reporter| match reporter {
            Reporter::Human(human) => human.summary(summary, choice),
            Reporter::Jsonl(jsonl) => jsonl.summary(summary, choice),
            Reporter::Json => {
                let mut out = io::stdout().lock();
                serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
                io::Write::write_all(&mut out, b"\n")
            }
        });
        match self.failure {
            Some(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                Err(HostError::Output(error))
            }
            _ => Ok(()),
        }
    }

    fn print(&mut self, print: impl FnOnce(&mut Reporter) -> io::Result<()>) {
        if self.failure.is_none() {
            if let Err(error) = print(&mut self.reporter) {
                self.failure = Some(error);
            }
        }
    }
}
