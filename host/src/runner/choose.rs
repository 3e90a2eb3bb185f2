//! [`choose`]: the execution mode and worker count for a run, and the one-line reason for them.
//!
//! I/O-bound plugins get a thread per task (up to a cap): their tasks wait in the kernel, so more
//! threads than cores is the point. CPU-bound plugins get a thread per core. `--isolate`, or a
//! plugin that asks for isolation or starts a language runtime of its own (a Go runtime), gets
//! worker processes. What the user asked for with `--mode` or
//! `--workers` wins, and the reason says so.

use quack_core::Hint;
use serde::Serialize;

/// The most threads an I/O-bound run starts by itself: a thousand tasks that wait 0.1 s each
/// finish in about 0.1 s.
pub const IO_THREAD_CAP: usize = 1024;
/// The most processes an I/O-bound isolated run starts by itself.
pub const IO_PROCESS_CAP: usize = 32;

/// How tasks are executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// On the calling thread, one after another.
    Inline,
    /// On a pool of threads in this process.
    Thread,
    /// In worker processes, each with its own copy of the plugin.
    Process,
}

impl Mode {
    /// The mode's name as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Inline => "inline",
            Mode::Thread => "thread",
            Mode::Process => "process",
        }
    }
}

/// How the user spelled the option that sets the number of workers, so that the reason quotes
/// what was typed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WorkersFlag {
    /// `--workers N`.
    #[default]
    Workers,
    /// `-j N`.
    J,
    /// `--jobs N`.
    Jobs,
    /// Not a flag: the Slurm allocation's task count (`SLURM_NTASKS`), the default inside one.
    Allocation,
}

impl WorkersFlag {
    /// The flag as typed.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkersFlag::Workers => "--workers",
            WorkersFlag::J => "-j",
            WorkersFlag::Jobs => "--jobs",
            WorkersFlag::Allocation => "SLURM_NTASKS",
        }
    }

    /// How the count `n` was asked for, as the runner's reason quotes it: `--workers 2`, or
    /// `the allocation's SLURM_NTASKS=2`.
    pub fn quoted(self, n: usize) -> String {
        match self {
            WorkersFlag::Allocation => format!("the allocation's SLURM_NTASKS={n}"),
            flag => format!("{} {n}", flag.as_str()),
        }
    }
}

/// `count` followed by the singular or plural of a noun: "1 task", "2 tasks".
pub fn counted(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("1 {singular}")
    } else {
        format!("{count} {plural}")
    }
}

/// What the user and the plugin asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `--mode`, unless auto.
    pub mode: Option<Mode>,
    /// `--workers` (or `-j`, `--jobs`).
    pub workers: Option<usize>,
    /// How the number of workers was asked for, to quote it.
    pub workers_flag: WorkersFlag,
    /// `--isolate`.
    pub isolate: bool,
    /// `--sandbox` (worker processes, each in a sandbox).
    pub sandbox: bool,
    /// Whether the plugin's description asks for isolation.
    pub plugin_isolates: bool,
    /// The language runtime the plugin starts in the process that loads it (`Go 1.19.8`), which
    /// gets worker processes of its own.
    pub plugin_runtime: Option<String>,
    /// Whether the plugin is a program (spoken to over pipes): each worker process runs one.
    pub program: bool,
    /// Whether a time limit is set (inline mode cannot enforce one).
    pub timeout: bool,
    /// Whether worker processes start through a launcher (`--launcher`, `--slurm`), which only
    /// process mode can use.
    pub launcher: bool,
    /// Whether tasks may be cut into parts (a Splittable plugin, splitting not turned off): then
    /// the task count does not bound the workers, since parts keep them busy.
    pub splittable: bool,
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
    /// The launcher worker processes start through (`--launcher`, `--slurm`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launcher: Option<String>,
}

/// Picks mode and workers from the request, the plugin's hint, the number of tasks (when known)
/// and the number of cores.
pub fn choose(request: Request, hint: Option<Hint>, tasks: Option<usize>, cores: usize) -> Choice {
    let cores = cores.max(1);
    let isolated = request.mode == Some(Mode::Process)
        || (request.mode.is_none()
            && (request.isolate
                || request.sandbox
                || request.plugin_isolates
                || request.plugin_runtime.is_some()
                || request.program
                || request.launcher));
    let cap = if isolated {
        IO_PROCESS_CAP
    } else {
        IO_THREAD_CAP
    };
    let (unit, units) = if isolated {
        ("process", "processes")
    } else {
        ("thread", "threads")
    };
    // Parts of a task keep any number of workers busy: the task count bounds nothing.
    let bounding = if request.splittable { None } else { tasks };
    let cores_counted = counted(cores, "core", "cores");
    let (natural, why) = match (hint, tasks) {
        (Some(Hint::Io), Some(count)) => (
            count.clamp(1, cap),
            format!(
                "the plugin is I/O-bound: one {unit} per task ({}, at most {cap})",
                counted(count, "task", "tasks")
            ),
        ),
        (Some(Hint::Io), None) => (
            cap,
            format!(
                "the plugin is I/O-bound: up to {cap} {units} for a stream of tasks, started as tasks wait"
            ),
        ),
        (Some(Hint::Cpu), _) => (
            cores,
            format!("the plugin is CPU-bound: one {unit} per core ({cores_counted})"),
        ),
        (None, _) => (
            cores,
            format!("the plugin gives no workload hint: one {unit} per core ({cores_counted})"),
        ),
    };
    // Never more workers than tasks: an idle worker only costs.
    let natural = bounding.map_or(natural, |count| natural.min(count.max(1)));
    // Not even when asked: workers beyond the task count would start only to stop.
    let capped = match (request.workers, bounding) {
        (Some(asked), Some(count)) if asked > count.max(1) => Some(count.max(1)),
        _ => None,
    };
    let workers = capped.or(request.workers).unwrap_or(natural);
    let noun = if workers == 1 { "worker" } else { "workers" };
    let asked_workers = request.workers.map_or(String::new(), |n| match capped {
        Some(1) => format!(
            " {} (but there is only 1 task)",
            request.workers_flag.quoted(n)
        ),
        Some(count) => format!(
            " {} (but there are only {count} tasks)",
            request.workers_flag.quoted(n)
        ),
        None => format!(" {}", request.workers_flag.quoted(n)),
    });
    let (mode, reason) = match request.mode {
        Some(Mode::Inline) => (
            Mode::Inline,
            "inline, as asked with --mode inline".to_owned(),
        ),
        Some(mode) if request.workers.is_some() => (
            mode,
            format!(
                "{} mode with {workers} {noun}, as asked with --mode {}{asked_workers}",
                mode.as_str(),
                mode.as_str()
            ),
        ),
        Some(mode) => (
            mode,
            format!(
                "{} mode, as asked with --mode {}, with {workers} {noun} because {why}",
                mode.as_str(),
                mode.as_str()
            ),
        ),
        None if isolated => {
            let asker = if request.launcher {
                "workers start through a launcher".to_owned()
            } else if request.sandbox {
                "--sandbox was given".to_owned()
            } else if request.isolate {
                "--isolate was given".to_owned()
            } else if let Some(runtime) = &request.plugin_runtime {
                format!(
                    "the plugin starts its own {runtime} runtime, which gets a process of its own"
                )
            } else if request.program {
                "the plugin is a program (each worker process runs one copy of it)".to_owned()
            } else {
                "the plugin asks for isolation".to_owned()
            };
            let count = if request.workers.is_some() {
                format!("as asked with{asked_workers}")
            } else {
                format!("because {why}")
            };
            (
                Mode::Process,
                format!("process mode because {asker}, with {workers} {noun} {count}"),
            )
        }
        None if workers <= 1 && !request.timeout => {
            let because = match (request.workers, tasks) {
                (Some(asked), Some(count)) if asked > count.max(1) && bounding.is_some() => {
                    format!(
                        "a single task needs no pool ({} asked for more)",
                        request.workers_flag.quoted(asked)
                    )
                }
                (Some(asked), _) => {
                    format!("as asked with {}", request.workers_flag.quoted(asked))
                }
                (None, Some(count)) if count <= 1 && bounding.is_some() => {
                    "a single task needs no pool".to_owned()
                }
                _ => format!("because {why}"),
            };
            (Mode::Inline, format!("inline: {because}"))
        }
        None if request.workers.is_some() => (
            Mode::Thread,
            format!("thread mode with {workers} {noun}, as asked with{asked_workers}"),
        ),
        None => (
            Mode::Thread,
            format!("thread mode with {workers} {noun} because {why}"),
        ),
    };
    let workers = if mode == Mode::Inline { 1 } else { workers };
    Choice {
        mode,
        workers,
        reason,
        launcher: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto() -> Request {
        Request::default()
    }

    #[test]
    fn io_bound_gets_a_thread_per_task() {
        let choice = choose(auto(), Some(Hint::Io), Some(10), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Thread, 10));
        assert!(choice.reason.contains("I/O-bound"), "{}", choice.reason);
    }

    #[test]
    fn a_launcher_means_worker_processes_even_for_one_task() {
        let request = Request {
            launcher: true,
            ..auto()
        };
        let choice = choose(request, Some(Hint::Cpu), Some(1), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Process, 1));
        assert!(
            choice
                .reason
                .starts_with("process mode because workers start through a launcher"),
            "{}",
            choice.reason
        );
    }

    #[test]
    fn a_plugin_with_its_own_runtime_gets_processes_and_says_why() {
        let request = Request {
            plugin_runtime: Some("Go 1.19.8".to_owned()),
            ..auto()
        };
        let choice = choose(request.clone(), Some(Hint::Cpu), Some(4), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Process, 2));
        assert!(
            choice.reason.starts_with(
                "process mode because the plugin starts its own Go 1.19.8 runtime, which gets a process of its own"
            ),
            "{}",
            choice.reason
        );
        // Asked for, another mode still runs it.
        let asked = Request {
            mode: Some(Mode::Thread),
            ..request
        };
        assert_eq!(
            choose(asked, Some(Hint::Cpu), Some(4), 2).mode,
            Mode::Thread
        );
    }

    #[test]
    fn io_bound_threads_are_capped() {
        let choice = choose(auto(), Some(Hint::Io), Some(100_000), 2);
        assert_eq!(choice.workers, IO_THREAD_CAP);
    }

    #[test]
    fn never_more_workers_than_tasks_even_when_asked() {
        let choice = choose(
            Request {
                mode: Some(Mode::Process),
                workers: Some(16),
                ..auto()
            },
            Some(Hint::Cpu),
            Some(1),
            2,
        );
        assert_eq!(choice.workers, 1);
        assert!(
            choice
                .reason
                .contains("--workers 16 (but there is only 1 task)"),
            "{}",
            choice.reason
        );
    }

    #[test]
    fn cpu_bound_gets_a_thread_per_core() {
        let choice = choose(auto(), Some(Hint::Cpu), Some(4), 2);
        assert_eq!((choice.mode, choice.workers), (Mode::Thread, 2));
        assert!(choice.reason.contains("CPU-bound"), "{}", choice.reason);
    }

    #[test]
    fn one_task_runs_inline_unless_it_has_a_time_limit() {
        assert_eq!(
            choose(auto(), Some(Hint::Cpu), Some(1), 2).mode,
            Mode::Inline
        );
        let timed = Request {
            timeout: true,
            ..auto()
        };
        assert_eq!(
            choose(timed, Some(Hint::Cpu), Some(1), 2).mode,
            Mode::Thread
        );
    }

    #[test]
    fn isolation_asked_by_the_user_or_the_plugin_means_processes() {
        let choice = choose(
            Request {
                isolate: true,
                ..auto()
            },
            Some(Hint::Cpu),
            Some(4),
            2,
        );
        assert_eq!((choice.mode, choice.workers), (Mode::Process, 2));
        assert!(choice.reason.contains("--isolate"), "{}", choice.reason);
        let choice = choose(
            Request {
                plugin_isolates: true,
                ..auto()
            },
            Some(Hint::Cpu),
            Some(4),
            2,
        );
        assert!(
            choice.reason.contains("plugin asks for isolation"),
            "{}",
            choice.reason
        );
    }

    #[test]
    fn the_user_wins_and_the_reason_says_so() {
        let choice = choose(
            Request {
                mode: Some(Mode::Thread),
                workers: Some(3),
                ..auto()
            },
            Some(Hint::Io),
            Some(10),
            2,
        );
        assert_eq!((choice.mode, choice.workers), (Mode::Thread, 3));
        assert!(choice.reason.contains("--workers 3"), "{}", choice.reason);
        let choice = choose(
            Request {
                mode: Some(Mode::Inline),
                ..auto()
            },
            Some(Hint::Io),
            Some(10),
            2,
        );
        assert_eq!((choice.mode, choice.workers), (Mode::Inline, 1));
        let choice = choose(
            Request {
                mode: Some(Mode::Process),
                ..auto()
            },
            Some(Hint::Cpu),
            Some(4),
            2,
        );
        assert_eq!((choice.mode, choice.workers), (Mode::Process, 2));
        assert!(
            choice.reason.contains("--mode process"),
            "{}",
            choice.reason
        );
    }

    #[test]
    fn a_splittable_plugins_single_task_gets_a_worker_per_core() {
        let request = Request {
            splittable: true,
            ..auto()
        };
        let choice = choose(request, Some(Hint::Cpu), Some(1), 2);
        assert_eq!(
            (choice.mode, choice.workers),
            (Mode::Thread, 2),
            "{}",
            choice.reason
        );
        let asked = Request {
            workers: Some(4),
            mode: Some(Mode::Thread),
            splittable: true,
            ..auto()
        };
        let choice = choose(asked, Some(Hint::Cpu), Some(1), 2);
        assert_eq!(choice.workers, 4, "{}", choice.reason);
        assert!(!choice.reason.contains("no more than"), "{}", choice.reason);
    }

    #[test]
    fn the_reason_quotes_the_workers_asked_for_and_counts_in_english() {
        let asked = |workers, tasks| {
            choose(
                Request {
                    workers: Some(workers),
                    ..auto()
                },
                Some(Hint::Cpu),
                Some(tasks),
                2,
            )
            .reason
        };
        let one = asked(2, 1);
        assert_eq!(
            one,
            "inline: a single task needs no pool (--workers 2 asked for more)"
        );
        let three = asked(8, 3);
        assert!(
            three.contains("--workers 8 (but there are only 3 tasks)"),
            "{three}"
        );
        assert_eq!(asked(1, 5), "inline: as asked with --workers 1");
    }

    #[test]
    fn counts_of_one_are_singular_and_the_flag_is_quoted_as_typed() {
        let thread = Request {
            mode: Some(Mode::Thread),
            ..auto()
        };
        let io = choose(thread, Some(Hint::Io), Some(1), 1);
        assert!(io.reason.contains("(1 task, at most"), "{}", io.reason);
        let cpu = choose(
            Request {
                mode: Some(Mode::Thread),
                ..auto()
            },
            Some(Hint::Cpu),
            Some(4),
            1,
        );
        assert!(cpu.reason.contains("(1 core)"), "{}", cpu.reason);
        let typed = |workers_flag| {
            choose(
                Request {
                    workers: Some(2),
                    workers_flag,
                    mode: Some(Mode::Thread),
                    ..auto()
                },
                Some(Hint::Cpu),
                Some(4),
                2,
            )
            .reason
        };
        assert!(typed(WorkersFlag::J).ends_with("--mode thread -j 2"));
        assert!(typed(WorkersFlag::Jobs).ends_with("--mode thread --jobs 2"));
        assert!(typed(WorkersFlag::Workers).ends_with("--mode thread --workers 2"));
    }
}
