//! The benchmark's one door into quack-host's runner: [`run`] runs a list of task inputs on a
//! plugin in a given mode with a given number of workers (or as the runner chooses), split into
//! parts or not, and gives back what became of the tasks and the wall time. Every scenario that
//! drives the library goes through here, so a change of the runner's API changes this file alone.
//! (Scenarios that run whole `host run` processes use [`crate::process`] instead.)
//!
//! Everything goes through the runner's one entry point, `Run`. Process mode starts the `host`
//! binary beside the benchmark as its workers ([`use_worker_program`]).

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
    time::{Duration, Instant},
};

use quack_host::{
    plugin::LoadedPlugin,
    runner::{Event, EventKind, Flow, Reporter, Run, SplitPolicy, Status, Task, WorkerCommand},
};
use serde_json::{Map, Value};

pub use quack_host::runner::RunError;

/// How tasks are run: the runner's own modes.
pub use quack_host::runner::Mode;

/// Which mode and how many workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// What `host run` picks without `--mode` and `--workers`, from the plugin's hint and the
    /// task count.
    Auto,
    /// This mode with this many workers (inline always has one).
    Fixed(Mode, usize),
}

/// Whether tasks are cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// As `host run` does: when the plugin is Splittable and there are few tasks per worker.
    AsHostRunDoes,
    /// Never (`host run --no-split`).
    Never,
}

/// Whether the outcome keeps a record per task or only counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Counts only: nothing per task is kept while the clock runs.
    Counts,
    /// A [`Record`] per task, in completion order.
    Records,
}

/// One run to make.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The plugin.
    pub plugin: &'a LoadedPlugin,
    /// Its configuration, a JSON object as text.
    pub config: &'a str,
    /// One task per input, with ids from 0.
    pub inputs: &'a [Value],
    /// Mode and workers.
    pub workers: Workers,
    /// Whether to split.
    pub split: Split,
    /// What to keep.
    pub keep: Keep,
}

/// What became of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its position among the inputs.
    pub id: u64,
    /// Whether it ended `ok`.
    pub ok: bool,
    /// Its result, when ok.
    pub output: Option<Value>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// From making the executor (threads, instances, worker processes) to its return.
    pub wall: Duration,
    /// From making the executor to the first finished task.
    pub first_result: Option<Duration>,
    /// Tasks reported.
    pub finished: usize,
    /// Tasks reported `ok`.
    pub ok: usize,
    /// Tasks the executor ran: parts, when tasks were split.
    pub parts: usize,
    /// The mode it ran in.
    pub mode: Mode,
    /// With how many workers.
    pub workers: usize,
    /// Why that mode and that many workers.
    pub reason: String,
    /// The tasks, when asked for ([`Keep::Records`]).
    pub records: Vec<Record>,
}

/// The `host` binary that process-mode runs start as their workers (`host worker`), set once by
/// the suite when it has found the binary.
static WORKER_PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Makes process-mode runs start `host` as their workers.
pub fn use_worker_program(host: &Path) {
    let _ = WORKER_PROGRAM.set(host.to_path_buf());
}

/// Runs `job` and reports what became of its tasks; no time limit, no retries, never cancelled.
pub fn run(job: Job<'_>) -> Result<Outcome, RunError> {
    let config = match serde_json::from_str::<Value>(job.config) {
        Ok(Value::Object(config)) => config,
        _ => Map::new(),
    };
    let (mode, workers) = match job.workers {
        Workers::Auto => (None, None),
        Workers::Fixed(mode, workers) => (Some(mode), Some(workers)),
    };
    let program = WORKER_PROGRAM
        .get()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("host"));
    let run = Run::new(job.plugin.clone())
        .config(config)
        .mode(mode)
        .workers(workers)
        .split(match job.split {
            Split::AsHostRunDoes => SplitPolicy::Auto,
            Split::Never => SplitPolicy::Never,
        })
        .worker_command(WorkerCommand::new(program, ["worker"]));
    let mut tasks = job
        .inputs
        .iter()
        .enumerate()
        .map(|(id, input)| Task::new(id as u64, input.clone()));
    let mut first_result = None;
    let (mut finished, mut ok, mut parts) = (0, 0, 0);
    let mut records = Vec::new();
    let started = Instant::now();
    let outcome = run.execute(
        &mut tasks,
        &mut Finished(|event: &Event| {
            if let EventKind::TaskFinished(record) = &event.kind {
                first_result.get_or_insert_with(|| started.elapsed());
                finished += 1;
                parts += record.parts.unwrap_or(1);
                let record_ok = record.status == Status::Ok;
                ok += usize::from(record_ok);
                if job.keep == Keep::Records {
                    records.push(Record {
                        id: record.id,
                        ok: record_ok,
                        output: record
                            .output
                            .as_ref()
                            .and_then(|output| output.to_value().ok()),
                        error: record.error.clone(),
                    });
                }
            }
        }),
    );
    let wall = started.elapsed();
    if let Some(error) = outcome.error {
        return Err(error);
    }
    Ok(Outcome {
        wall,
        first_result,
        finished,
        ok,
        parts,
        mode: outcome.choice.mode,
        workers: outcome.choice.workers,
        reason: outcome.choice.reason,
        records,
    })
}

/// A reporter that looks only at finished tasks, as `host run`'s reporters do unless `-vvv`
/// asks for task starts: the run makes no `TaskStarted` events for it.
struct Finished<F: FnMut(&Event)>(F);

impl<F: FnMut(&Event)> Reporter for Finished<F> {
    fn report(&mut self, event: &Event) -> Flow {
        (self.0)(event);
        Flow::Continue
    }

    fn wants_task_started(&self) -> bool {
        false
    }
}
