//! [`Diagnostics`]: the lines a run writes on stderr for people, whatever `--format` prints on
//! stdout: the runner's choice and why, what each worker printed (marked with its worker), worker
//! replacements, and how an interrupted or halted (`--max-fail`) run ended; a run that failed is
//! said by the command's error sentence, once. With `-q` only the lines about errors stay (worker
//! output, how a run ended). A closed or full stderr never stops the run: what
//! cannot be written is dropped. What workers and plugins said is escaped (see
//! [`safe`](crate::safe)), so it stays on its line.

use std::io::{self, Write};

use crate::runner::{Event, EventKind, Flow, Reporter, RunEnd};
use crate::safe::Safe;

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
                writeln!(self.out, "runner: {}", Safe(&choice.reason))
            }
            // Through a launcher, where each worker landed is worth a line.
            EventKind::WorkerStarted { worker, pid, node } if self.remote_workers => {
                writeln!(
                    self.out,
                    "worker {worker} runs on {} (pid {pid})",
                    Safe(node)
                )
            }
            EventKind::WorkerOutput { worker, line } => {
                writeln!(self.out, "[worker {worker}] {}", Safe(line))
            }
            // Said even when quiet: the run goes on with fewer workers or nodes than asked.
            EventKind::PoolNotice { message, .. } => writeln!(self.out, "{}", Safe(message)),
            EventKind::WorkerReplaced { worker, reason } => {
                writeln!(self.out, "worker {worker} replaced: {}", Safe(reason))
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
                // The run's error is the command's error sentence, said once, by the CLI.
                RunEnd::Failed(_) => Ok(()),
                RunEnd::Halted(reason) => writeln!(
                    self.out,
                    "the run stopped: {}; {} finished, {} not run",
                    Safe(reason),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// What a worker said, with a newline and escape sequences in it, stays on its one line and
    /// drives nothing.
    #[test]
    fn what_workers_say_stays_on_its_line() {
        let mut out = Vec::new();
        let mut diagnostics = Diagnostics::new(&mut out);
        for kind in [
            EventKind::WorkerReplaced {
                worker: 1,
                reason: "it said \u{1b}]0;title\u{7}\nforged line".to_owned(),
            },
            EventKind::WorkerOutput {
                worker: 0,
                line: "\u{1b}[2Jcleared\r".to_owned(),
            },
        ] {
            let flow = diagnostics.report(&Event {
                elapsed: Duration::ZERO,
                kind,
            });
            assert_eq!(flow, Flow::Continue);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "worker 1 replaced: it said \\u{1b}]0;title\\u{7}\\nforged line\n\
             [worker 0] \\u{1b}[2Jcleared\\r\n"
        );
    }
}
