//! [`Diagnostics`]: the lines a run writes on stderr for people, whatever `--format` prints on
//! stdout: the runner's choice and why, what each worker printed (marked with its worker), worker
//! replacements, and how an interrupted or failed run ended. With `-q` only the lines about
//! errors stay (worker output, how a run ended). A closed or full stderr never stops the run: what
//! cannot be written is dropped.

use std::io::{self, Write};

use crate::runner::{Event, EventKind, Flow, Reporter, RunEnd};

/// Writes a run's notes for people to a writer (stderr in the CLI).
pub struct Diagnostics<W: Write> {
    out: W,
    quiet: bool,
    /// Whether workers start through a launcher (then each says where it runs).
    remote_workers: bool,
}

impl<W: Write> Diagnostics<W> {
    /// Notes written to `out`.
    pub fn new(out: W) -> Self {
        Diagnostics {
            out,
            quiet: false,
            remote_workers: false,
        }
    }

    /// Drops the notes that are not about errors (`-q`): the runner's choice, replacements.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }
}

/// Standard error, as the CLI writes it.
pub fn stderr() -> Diagnostics<io::Stderr> {
    Diagnostics::new(io::stderr())
}

impl<W: Write> Reporter for Diagnostics<W> {
    fn report(&mut self, event: &Event) -> Flow {
        // Errors are dropped on purpose: see the module docs.
        let _ = match &event.kind {
            EventKind::RunStarted { .. } | EventKind::WorkerReplaced { .. } if self.quiet => Ok(()),
            EventKind::RunStarted { choice, .. } => {
                self.remote_workers = choice.launcher.is_some();
                writeln!(self.out, "runner: {}", choice.reason)
            }
            // Through a launcher, where each worker landed is worth a line.
            EventKind::WorkerStarted { worker, pid, node } if self.remote_workers => {
                writeln!(self.out, "worker {worker} runs on {node} (pid {pid})")
            }
            EventKind::WorkerOutput { worker, line } => {
                writeln!(self.out, "[worker {worker}] {line}")
            }
            EventKind::WorkerReplaced { worker, reason } => {
                writeln!(self.out, "worker {worker} replaced: {reason}")
            }
            EventKind::RunFinished { summary, end } => match end {
                // A closed output ends the run quietly, as SIGPIPE ends a shell tool.
                RunEnd::Completed | RunEnd::Stopped(_) => Ok(()),
                RunEnd::Interrupted => writeln!(
                    self.out,
                    "interrupted: {} finished, {} cancelled",
                    tasks(summary.tasks - summary.cancelled),
                    summary.cancelled
                ),
                RunEnd::Failed(reason) => writeln!(
                    self.out,
                    "the run stopped: {reason}; {} finished, {} not run",
                    tasks(summary.tasks - summary.cancelled - summary.not_run),
                    summary.not_run + summary.cancelled
                ),
            },
            _ => Ok(()),
        };
        Flow::Continue
    }
}

/// "1 task", "2 tasks".
pub fn tasks(count: u64) -> String {
    if count == 1 {
        "1 task".to_owned()
    } else {
        format!("{count} tasks")
    }
}
