//! [`VerboseReporter`]: what `-v` and `-vv` add on stderr, as `tracing` events (so `QUACK_LOG` or
//! `RUST_LOG` can pick them too): at info level (`-v`) each worker start with its pid and node,
//! each failed attempt and whether it runs again; at debug level (`-vv`) the inputs of the mode
//! choice (the plugin's hint, the number of tasks, the cores); at trace level (`-vvv`) every
//! task handed out. What a worker says (its node, an attempt's error) is escaped (see
//! [`safe`](crate::safe)).

use quack_core::Hint;

use crate::runner::{Event, EventKind, Flow, Reporter};
use crate::safe::Safe;

/// Turns a run's events into `tracing` events.
pub struct VerboseReporter {
    hint: Option<Hint>,
    cores: usize,
}

impl VerboseReporter {
    /// A reporter for a plugin with `hint` on a machine with `cores` cores.
    pub fn new(hint: Option<Hint>, cores: usize) -> Self {
        VerboseReporter { hint, cores }
    }
}

impl Reporter for VerboseReporter {
    fn report(&mut self, event: &Event) -> Flow {
        match &event.kind {
            EventKind::RunStarted {
                choice,
                tasks,
                split,
            } => {
                let hint = self.hint.map_or("none", |hint| match hint {
                    Hint::Cpu => "cpu",
                    Hint::Io => "io",
                });
                let tasks =
                    tasks.map_or_else(|| "unknown (a stream)".to_owned(), |n| n.to_string());
                let workers = if choice.workers == 1 {
                    "1 worker".to_owned()
                } else {
                    format!("{} workers", choice.workers)
                };
                tracing::debug!(
                    "choice inputs: hint {hint}, tasks {tasks}, cores {}, split {split} -> mode {}, {workers}",
                    self.cores,
                    choice.mode.as_str(),
                );
            }
            EventKind::WorkerStarted { worker, pid, node } => {
                tracing::info!("worker {worker} started (pid {pid} on {})", Safe(node));
            }
            EventKind::TaskStarted {
                id,
                worker,
                attempt,
            } => match worker {
                Some(worker) => {
                    tracing::trace!("task {id} started on worker {worker} (attempt {attempt})")
                }
                None => tracing::trace!("task {id} started (attempt {attempt})"),
            },
            EventKind::AttemptFailed {
                id,
                part,
                attempt,
                will_retry,
                ..
            } => {
                let part = part.map_or_else(String::new, |part| {
                    format!(" (part {} of {})", part.index + 1, part.of)
                });
                let then = if *will_retry {
                    "it runs again"
                } else {
                    "no retries left"
                };
                tracing::info!(
                    "task {id}{part}: attempt {} on worker {} after {:.3} s ({}); {then}",
                    attempt.status.as_str(),
                    attempt.worker,
                    attempt.duration_seconds,
                    Safe(&attempt.error)
                );
            }
            EventKind::RunFinished { summary, .. } => {
                tracing::debug!(
                    "run: {} in {:.3} s wall, {:.3} s cpu ({:.1} tasks/s)",
                    super::diagnostics::tasks(summary.tasks),
                    summary.wall_seconds,
                    summary.cpu_seconds,
                    summary.tasks_per_second
                );
            }
            _ => {}
        }
        Flow::Continue
    }

    /// Task starts are trace events: made only when trace is on (`-vvv`).
    fn wants_task_started(&self) -> bool {
        tracing::enabled!(tracing::Level::TRACE)
    }
}
