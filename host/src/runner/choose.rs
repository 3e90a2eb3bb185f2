//! [`choose`]: the execution mode and worker count for a run, and the one-line reason for them.
//!
//! I/O-bound plugins get a thread per task (up to a cap): their tasks wait in the kernel, so more
//! threads than cores is the point. CPU-bound plugins get a thread per core. What the user asked
//! for with `--mode` or `--workers` wins, and the reason says so.

use quack_core::Hint;
use serde::Serialize;

/// The most threads an I/O-bound run starts by itself.
pub const IO_THREAD_CAP: usize = 256;

/// How tasks are executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// On the calling thread, one after another.
    Inline,
    /// On a pool of threads in this process.
    Thread,
}

impl Mode {
    /// The mode's name as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Inline => "inline",
            Mode::Thread => "thread",
        }
    }
}

/// The runner's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// The mode.
    pub mode: Mode,
    /// How many workers.
    pub workers: usize,
    /// Why, in one sentence.
    pub reason: String,
}

/// Picks mode and workers from what the user asked, the plugin's hint, the number of tasks (when
/// known) and the number of cores.
pub fn choose(
    mode: Option<Mode>,
    workers: Option<usize>,
    hint: Option<Hint>,
    tasks: Option<usize>,
    cores: usize,
) -> Choice {
    let cores = cores.max(1);
    let (natural, why) = match (hint, tasks) {
        (Some(Hint::Io), Some(count)) => (
            count.clamp(1, IO_THREAD_CAP),
            format!(
                "the plugin is I/O-bound: one thread per task ({count} tasks, at most {IO_THREAD_CAP})"
            ),
        ),
        (Some(Hint::Io), None) => (
            IO_THREAD_CAP,
            format!("the plugin is I/O-bound: {IO_THREAD_CAP} threads for a stream of tasks"),
        ),
        (Some(Hint::Cpu), _) => (
            cores,
            format!("the plugin is CPU-bound: one thread per core ({cores} cores)"),
        ),
        (None, _) => (
            cores,
            format!("the plugin gives no workload hint: one thread per core ({cores} cores)"),
        ),
    };
    // Never more workers than tasks: an idle worker only costs.
    let natural = tasks.map_or(natural, |count| natural.min(count.max(1)));
    match (mode, workers) {
        (Some(Mode::Inline), _) => Choice {
            mode: Mode::Inline,
            workers: 1,
            reason: "inline, as asked with --mode inline".to_owned(),
        },
        (Some(Mode::Thread), Some(count)) => Choice {
            mode: Mode::Thread,
            workers: count,
            reason: format!(
                "thread mode with {count} workers, as asked with --mode thread --workers {count}"
            ),
        },
        (Some(Mode::Thread), None) => Choice {
            mode: Mode::Thread,
            workers: natural,
            reason: format!(
                "thread mode, as asked with --mode thread, with {natural} workers because {why}"
            ),
        },
        (None, Some(count)) => Choice {
            mode: if count == 1 {
                Mode::Inline
            } else {
                Mode::Thread
            },
            workers: count,
            reason: if count == 1 {
                "inline, as asked with --workers 1".to_owned()
            } else {
                format!("thread mode with {count} workers, as asked with --workers {count}")
            },
        },
        (None, None) if natural <= 1 => Choice {
            mode: Mode::Inline,
            workers: 1,
            reason: match tasks {
                Some(count) if count <= 1 => "inline: a single task needs no pool".to_owned(),
                _ => format!("inline because {why}"),
            },
        },
        (None, None) => Choice {
            mode: Mode::Thread,
            workers: natural,
            reason: format!("thread mode with {natural} workers because {why}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_bound_gets_a_thread_per_task() {
        let choice = choose(None, None, Some(Hint::Io), Some(10), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Thread, 10));
        assert!(choice.reason.contains("I/O-bound"), "{}", choice.reason);
    }

    #[test]
    fn io_bound_threads_are_capped() {
        let choice = choose(None, None, Some(Hint::Io), Some(100_000), 2);
        assert_eq!(choice.workers, IO_THREAD_CAP);
    }

    #[test]
    fn cpu_bound_gets_a_thread_per_core() {
        let choice = choose(None, None, Some(Hint::Cpu), Some(4), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Thread, 2));
        assert!(choice.reason.contains("CPU-bound"), "{}", choice.reason);
    }

    #[test]
    fn one_task_runs_inline() {
        let choice = choose(None, None, Some(Hint::Cpu), Some(1), 2);
        assert_eq!(choice.mode, Mode::Inline);
    }

    #[test]
    fn the_user_wins_and_the_reason_says_so() {
        let choice = choose(Some(Mode::Thread), Some(3), Some(Hint::Io), Some(10), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Thread, 3));
        assert!(choice.reason.contains("--workers 3"), "{}", choice.reason);
        let choice = choose(Some(Mode::Inline), None, Some(Hint::Io), Some(10), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Inline, 1));
    }
}
