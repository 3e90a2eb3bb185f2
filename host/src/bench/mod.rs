//! `host bench`: measures Quack against its performance targets in one run, each figure beside
//! what it is compared with (a baseline measured in the same run where there is one, and the
//! Python peers of SEED-NOTES.md), and lays them out as a table ([`table`]) or JSON ([`Results`]).
//!
//! The scenarios, one file each: per-task [`overhead`], the seed's [`factorize`] numbers,
//! [`slow_io`] waits, process [`startup`] and the [`memory`] of a long JSON Lines stream.
//! A missed target is a figure, not a failure; a run that fails or computes a wrong result is.

mod factorize;
mod memory;
mod overhead;
mod slow_io;
mod startup;
pub mod table;

use std::{
    env::consts::{DLL_PREFIX, DLL_SUFFIX},
    io,
    path::{Path, PathBuf},
    process::ExitStatus,
    sync::{Arc, atomic::AtomicBool},
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::{
    loader::{LoadError, LoadedPlugin},
    report::Machine,
    runner::{Choice, Limits, Mode, RunContext, RunError},
};
pub use memory::launch_measured;
use table::Section;

/// The Python peers' figures, quoted from SEED-NOTES.md (2 cores, Python 3.11.7).
mod python {
    /// ThreadPoolExecutor(2), a trivial task, per task (submit).
    pub const THREAD_POOL_US: f64 = 22.0;
    /// ProcessPoolExecutor(2), a trivial task, per task: map with chunksize 1 (the faster).
    pub const PROCESS_POOL_MAP_US: f64 = 123.0;
    /// The four seed numbers, one after another.
    pub const FACTORIZE_SEQUENTIAL_S: f64 = 2.949;
    /// The four seed numbers on ProcessPoolExecutor(max_workers=2).
    pub const FACTORIZE_PROCESS_POOL_S: f64 = 1.841;
    /// Ten waits of 0.1 s, one after another.
    pub const SLOW_SEQUENTIAL_S: f64 = 1.004;
    /// Ten waits of 0.1 s on ten threads.
    pub const SLOW_TEN_THREADS_S: f64 = 0.103;
}

/// Why the benchmark could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A plugin library the benchmark needs is not in the plugin directory.
    #[error(
        "{dir} has no {file}; build the plugins (cargo build --release -p quack-plugin-factorize -p quack-plugin-slow-io) and give their directory with --plugins target/release, or run scripts/setup"
    )]
    MissingPlugin {
        /// The directory looked in.
        dir: PathBuf,
        /// The library's file name.
        file: String,
    },
    /// A plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An executor could not start or go on.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A run computed something other than the known answer, or fewer answers than tasks.
    #[error("{scenario}: wrong result: {detail}")]
    WrongResult {
        /// The scenario.
        scenario: &'static str,
        /// What was expected and what came.
        detail: String,
    },
    /// A process the benchmark starts could not be started or waited for.
    #[error("{what}: {source}")]
    Process {
        /// What was being done.
        what: String,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A `host` process the benchmark started ended badly.
    #[error("{what} ended with {status}{stderr}")]
    ChildFailed {
        /// What it was.
        what: String,
        /// How it ended.
        status: ExitStatus,
        /// Its last words, prefixed with a colon, or nothing.
        stderr: String,
    },
    /// The JSON figures could not be written.
    #[error(
        "could not write the figures to {path}: {source}; check that its directory exists and is writable"
    )]
    Report {
        /// Where they were to go.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Standard output could not be written.
    #[error("could not write to standard output: {0}")]
    Output(#[source] io::Error),
}

impl BenchError {
    /// The process exit code, in line with the rest of `host` (see `host bench --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::WrongResult { .. } | BenchError::ChildFailed { .. } => 1,
            BenchError::MissingPlugin { .. } => 3,
            BenchError::Load(error) => error.exit_code(),
            BenchError::Run(RunError::Instance(_)) => 10,
            BenchError::Report { .. } | BenchError::Output(_) => 11,
            BenchError::Run(_) | BenchError::Process { .. } => 12,
        }
    }
}

/// How much to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Whether this is the quick plan (a CI smoke run).
    pub quick: bool,
    /// Trivial tasks per overhead measurement.
    pub overhead_tasks: usize,
    /// Repetitions of the overhead measurements.
    pub overhead_repetitions: usize,
    /// Repetitions of the factorize runs.
    pub factorize_repetitions: usize,
    /// Repetitions of the slow-io runs.
    pub slow_io_repetitions: usize,
    /// Repetitions of the process start-up measurement.
    pub startup_repetitions: usize,
    /// Tasks streamed through `host run --format jsonl`.
    pub memory_tasks: usize,
    /// Repetitions of the memory run.
    pub memory_repetitions: usize,
}

impl Plan {
    /// The full plan (about 15 s on 2 cores) or the quick one (about 3 s).
    pub fn new(quick: bool) -> Self {
        if quick {
            Plan {
                quick,
                overhead_tasks: 20_000,
                overhead_repetitions: 3,
                factorize_repetitions: 3,
                slow_io_repetitions: 3,
                startup_repetitions: 5,
                memory_tasks: 100_000,
                memory_repetitions: 2,
            }
        } else {
            Plan {
                quick,
                overhead_tasks: 200_000,
                overhead_repetitions: 7,
                factorize_repetitions: 9,
                slow_io_repetitions: 7,
                startup_repetitions: 30,
                memory_tasks: 1_000_000,
                memory_repetitions: 3,
            }
        }
    }
}

/// Everything one benchmark run measured, as written by `--json`.
#[derive(Debug, Serialize)]
pub struct Results {
    /// What this file is.
    pub format: &'static str,
    /// Changes when a field changes meaning or goes away.
    pub format_version: u32,
    /// The version of the host that measured.
    pub quack_version: &'static str,
    /// Where it ran.
    pub machine: Machine,
    /// The directory the plugins came from.
    pub plugins: PathBuf,
    /// How much was measured.
    pub plan: Plan,
    /// One section per scenario.
    pub sections: Vec<Section>,
    /// How long the whole benchmark took, in seconds.
    pub total_seconds: f64,
}

impl Results {
    /// The table for people.
    pub fn table(&self) -> String {
        let machine = &self.machine;
        let plan = if self.plan.quick { "quick" } else { "full" };
        format!(
            "Quack benchmark ({plan}; {} cores, {} {}; plugins from {}; {:.1} s)\n\n{}",
            machine.cores,
            machine.os,
            machine.arch,
            self.plugins.display(),
            self.total_seconds,
            table::render(&self.sections)
        )
    }
}

/// The directory a `host bench` without `--plugins` looks in: the running binary's own directory
/// when it holds the plugins (a cargo build puts them side by side), otherwise `plugins/`.
pub fn default_plugin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .filter(|dir| {
            ["factorize", "slow_io"]
                .iter()
                .all(|name| dir.join(library_file(name)).is_file())
        })
        .unwrap_or_else(|| PathBuf::from("plugins"))
}

/// `libNAME.so` (or the platform's spelling).
fn library_file(name: &str) -> String {
    format!("{DLL_PREFIX}{name}{DLL_SUFFIX}")
}

/// What every scenario starts from: the two plugins it needs, loaded, and how many threads this
/// process has when it is quiet.
pub(crate) struct Setup {
    factorize: LoadedPlugin,
    slow_io: LoadedPlugin,
    quiet_threads: Option<usize>,
}

impl Setup {
    fn load(dir: &Path) -> Result<Self, BenchError> {
        let load = |name: &str| {
            let file = library_file(name);
            let path = dir.join(&file);
            if !path.is_file() {
                return Err(BenchError::MissingPlugin {
                    dir: dir.to_path_buf(),
                    file,
                });
            }
            Ok(LoadedPlugin::load(&path)?)
        };
        Ok(Setup {
            factorize: load("factorize")?,
            slow_io: load("slow_io")?,
            quiet_threads: thread_count(),
        })
    }

    /// Waits (up to a second) until this process has no more threads than when it was quiet:
    /// executors do not join their threads when they return, and threads still exiting slow down
    /// the next run (a thousand of them, by tens of milliseconds on 2 cores). `host run` starts
    /// in a fresh process, so each timed run here starts from a quiet one too. Where the thread
    /// count cannot be read, a short pause instead.
    fn settle(&self) {
        const LIMIT: Duration = Duration::from_secs(1);
        const POLL: Duration = Duration::from_millis(2);
        let Some(quiet) = self.quiet_threads else {
            std::thread::sleep(Duration::from_millis(50));
            return;
        };
        let started = Instant::now();
        while thread_count().is_some_and(|count| count > quiet) && started.elapsed() < LIMIT {
            std::thread::sleep(POLL);
        }
    }
}

/// What every executor in the benchmark runs with: `config`, no time limit, no retries, never
/// cancelled.
pub(crate) fn context(plugin: &LoadedPlugin, config: &str) -> RunContext {
    RunContext {
        plugin: plugin.clone(),
        config: config.to_owned(),
        origin: Instant::now(),
        cancel: Arc::new(AtomicBool::new(false)),
        limits: Limits::default(),
    }
}

/// Runs every scenario with the plugins in `dir`, telling `progress` what it is doing.
pub fn run(dir: &Path, plan: Plan, progress: &mut dyn FnMut(&str)) -> Result<Results, BenchError> {
    let started = Instant::now();
    let setup = Setup::load(dir)?;
    let steps: [(&str, Step); 5] = [
        ("per-task overhead", overhead::measure),
        ("factorize, the seed's four numbers", factorize::measure),
        ("slow-io waits", slow_io::measure),
        ("process start-up", startup::measure),
        ("memory of a JSON Lines stream", memory::measure),
    ];
    let mut sections = Vec::with_capacity(steps.len());
    for (index, (what, step)) in steps.into_iter().enumerate() {
        progress(&format!("bench: {}/{} {what}...", index + 1, steps.len()));
        let step_started = Instant::now();
        sections.push(step(&setup, plan)?);
        progress(&format!(
            "bench: {}/{} {what}: {:.1} s",
            index + 1,
            steps.len(),
            step_started.elapsed().as_secs_f64()
        ));
    }
    Ok(Results {
        format: "quack-bench",
        format_version: 1,
        quack_version: env!("CARGO_PKG_VERSION"),
        machine: Machine::this(),
        plugins: dir.to_path_buf(),
        plan,
        sections,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// One scenario.
type Step = fn(&Setup, Plan) -> Result<Section, BenchError>;

/// How many threads this process has (Linux: the entries of /proc/self/task).
fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task")
        .ok()
        .map(|entries| entries.count())
}

/// A duration in microseconds.
fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// A duration in milliseconds.
fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The median and minimum of measured values (there is always at least one repetition).
fn summarize(values: Vec<f64>) -> table::Samples {
    table::Samples::of(values).unwrap_or_else(|| table::Samples::single(f64::NAN))
}

/// The runner's choice of `mode` with `workers`, as a user would ask for it.
fn choice(mode: Mode, workers: usize) -> Choice {
    Choice {
        mode,
        workers: if mode == Mode::Inline { 1 } else { workers },
        reason: format!("host bench: {} mode, {workers} workers", mode.as_str()),
    }
}
