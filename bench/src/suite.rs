//! The benchmark run: [`Plan`] (how much to measure), [`Setup`] (what every scenario starts
//! from: the plugins, the `host` binary, the rayon peer, the Python and Go peers), [`run`], which
//! goes through the scenarios in order, and [`Results`], what `--json` writes.
//!
//! A missed target is a figure, not a failure; a run that fails or computes a wrong result is.

use std::{
    env::consts::{DLL_PREFIX, DLL_SUFFIX, EXE_SUFFIX},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use quack_host::{plugin::LoadedPlugin, report::Machine};
use serde::Serialize;
use tempfile::TempDir;

use crate::{
    error::BenchError,
    peers::Peers,
    scenarios,
    table::{self, Section},
};

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
    /// Repetitions of the process start-up measurements.
    pub startup_repetitions: usize,
    /// Tasks streamed through `host run --format jsonl` for the memory figures.
    pub memory_tasks: usize,
    /// Repetitions of the memory runs.
    pub memory_repetitions: usize,
    /// Repetitions of the whole-process races (rayon, input formats, not split).
    pub race_repetitions: usize,
    /// Repetitions inside each Python and Go peer.
    pub peer_repetitions: usize,
    /// Trivial tasks per Python ThreadPoolExecutor measurement.
    pub python_thread_tasks: usize,
    /// Trivial tasks per Python ProcessPoolExecutor measurement.
    pub python_process_tasks: usize,
    /// Whether the Python seed runs on ThreadPoolExecutor(2) too (2 s more).
    pub python_thread_pool_factorize: bool,
}

impl Plan {
    /// The full plan or the quick one.
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
                memory_repetitions: 1,
                race_repetitions: 1,
                peer_repetitions: 1,
                python_thread_tasks: 5_000,
                python_process_tasks: 2_000,
                python_thread_pool_factorize: false,
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
                race_repetitions: 5,
                peer_repetitions: 3,
                python_thread_tasks: 20_000,
                python_process_tasks: 10_000,
                python_thread_pool_factorize: true,
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
    /// The version of the host library that measured.
    pub quack_version: &'static str,
    /// Where it ran.
    pub machine: Machine,
    /// The directory the plugins came from.
    pub plugins: PathBuf,
    /// The `host` binary run for whole-process figures.
    pub host: PathBuf,
    /// The directory the plugins that `host` runs came from, when not [`plugins`](Self::plugins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_plugins: Option<PathBuf>,
    /// The peers in other languages: measured here (with their version) or quoted (and why).
    pub peers: PeerStatus,
    /// How much was measured.
    pub plan: Plan,
    /// One section per scenario.
    pub sections: Vec<Section>,
    /// How long the whole benchmark took, in seconds.
    pub total_seconds: f64,
}

/// Which peers ran in this run.
#[derive(Debug, Clone, Serialize)]
pub struct PeerStatus {
    /// `Python 3.11.7` when measured; otherwise null, with `python_quoted_because`.
    pub python: Option<String>,
    /// Why the Python figures are quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_quoted_because: Option<String>,
    /// Whether the Go peer was measured.
    pub go: bool,
    /// Why the Go figures are quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go_quoted_because: Option<String>,
}

impl Results {
    /// The table for people.
    pub fn table(&self) -> String {
        let machine = &self.machine;
        let plan = if self.plan.quick { "quick" } else { "full" };
        let python = self
            .peers
            .python
            .clone()
            .map_or_else(|| "Python quoted".to_owned(), |v| format!("{v} measured"));
        let go = if self.peers.go {
            "Go measured"
        } else {
            "Go quoted"
        };
        let mut why_quoted = String::new();
        for reason in [
            &self.peers.python_quoted_because,
            &self.peers.go_quoted_because,
        ]
        .into_iter()
        .flatten()
        {
            why_quoted.push_str(reason);
            why_quoted.push('\n');
        }
        let host = match &self.host_plugins {
            Some(dir) => format!(
                "; host run is {} with the plugins of {}",
                self.host.display(),
                dir.display()
            ),
            None => String::new(),
        };
        format!(
            "Quack benchmark ({plan}; {} cores, {} {}; plugins from {}{host}; {python}, {go}; {:.1} s)\n{why_quoted}\n{}",
            machine.cores,
            machine.os,
            machine.arch,
            self.plugins.display(),
            self.total_seconds,
            table::render(&self.sections)
        )
    }
}

/// The directory this program's own binary is in (a cargo build puts `host`, the rayon peer and
/// the plugins there).
pub fn own_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
}

/// The directory a run without `--plugins` looks in: this binary's own directory when it holds
/// the plugins, otherwise `plugins/`.
pub fn default_plugin_dir() -> PathBuf {
    own_dir()
        .filter(|dir| {
            ["factorize", "slow_io"]
                .iter()
                .all(|name| dir.join(library_file(name)).is_file())
        })
        .unwrap_or_else(|| PathBuf::from("plugins"))
}

/// The `host` binary a run without `--host` runs: the one beside this binary.
pub fn default_host() -> PathBuf {
    own_dir()
        .unwrap_or_default()
        .join(format!("host{EXE_SUFFIX}"))
}

/// `libNAME.so` (or the platform's spelling).
fn library_file(name: &str) -> String {
    format!("{DLL_PREFIX}{name}{DLL_SUFFIX}")
}

/// What every scenario starts from.
pub struct Setup {
    /// The factorize plugin, loaded.
    pub factorize: LoadedPlugin,
    /// The slow-io plugin, loaded.
    pub slow_io: LoadedPlugin,
    /// The `host` binary timed as whole processes.
    pub host: PathBuf,
    /// The factorize plugin file that `host` runs (the same as `factorize` unless the benchmark
    /// times another build's host).
    pub host_factorize: PathBuf,
    /// The slow-io plugin file that `host` runs.
    pub host_slow_io: PathBuf,
    /// The rayon peer binary.
    pub rayon_peer: PathBuf,
    /// The Python and Go peers.
    pub peers: Peers,
    /// A directory for input files and reports, removed at the end.
    pub scratch: TempDir,
    /// How many threads this process has when it is quiet.
    quiet_threads: Option<usize>,
}

impl Setup {
    /// Loads the plugins in `dir`, checks that `host` and the plugins in `host_dir` it runs
    /// and the rayon peer exist, and prepares the peers.
    pub fn prepare(dir: &Path, (host, host_dir): (PathBuf, &Path)) -> Result<Self, BenchError> {
        let find = |dir: &Path, name: &str| {
            let file = library_file(name);
            let path = dir.join(&file);
            if path.is_file() {
                Ok(path)
            } else {
                Err(BenchError::MissingPlugin {
                    dir: dir.to_path_buf(),
                    file,
                })
            }
        };
        let load = |name: &str| Ok::<_, BenchError>(LoadedPlugin::load(&find(dir, name)?)?);
        if !host.is_file() {
            return Err(BenchError::MissingProgram {
                path: host,
                hint: "build it beside quack-bench (cargo build --release -p quack-host) or give it with --host PATH",
            });
        }
        let rayon_peer = own_dir()
            .unwrap_or_default()
            .join(format!("rayon-peer{EXE_SUFFIX}"));
        if !rayon_peer.is_file() {
            return Err(BenchError::MissingProgram {
                path: rayon_peer,
                hint: "build it with cargo build --release -p quack-bench",
            });
        }
        let scratch = tempfile::Builder::new()
            .prefix("quack-bench")
            .tempdir()
            .map_err(|source| BenchError::Process {
                what: "could not make a temporary directory".to_owned(),
                source,
            })?;
        // This library's own worker processes are the host of the same build, when it is there.
        let own_host = default_host();
        crate::drive::use_worker_program(if own_host.is_file() { &own_host } else { &host });
        Ok(Setup {
            factorize: load("factorize")?,
            slow_io: load("slow_io")?,
            host_factorize: find(host_dir, "factorize")?,
            host_slow_io: find(host_dir, "slow_io")?,
            host,
            rayon_peer,
            peers: Peers::prepare()?,
            scratch,
            quiet_threads: thread_count(),
        })
    }

    /// Waits (up to a second) until this process has no more threads than when it was quiet:
    /// executors do not join their threads when they return, and threads still exiting slow down
    /// the next run (a thousand of them, by tens of milliseconds on 2 cores). `host run` starts
    /// in a fresh process, so each timed run here starts from a quiet one too. Where the thread
    /// count cannot be read, a short pause instead.
    pub fn settle(&self) {
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

    fn peer_status(&self) -> PeerStatus {
        let python = self.peers.python_version();
        let go = self.peers.go_built();
        PeerStatus {
            python: python.ok().map(str::to_owned),
            python_quoted_because: python.err().map(str::to_owned),
            go: go.is_ok(),
            go_quoted_because: go.err().map(str::to_owned),
        }
    }
}

/// One scenario.
type Step = fn(&Setup, Plan) -> Result<Section, BenchError>;

/// Runs every scenario (or those whose name contains one of `only`) with the plugins in `dir` and the
/// `host` binary `host`, telling `progress` what it is doing.
pub fn run(
    dir: &Path,
    host: (PathBuf, &Path),
    plan: Plan,
    only: &[String],
    progress: &mut dyn FnMut(&str),
) -> Result<Results, BenchError> {
    let started = Instant::now();
    let host_dir = host.1;
    let setup = Setup::prepare(dir, host)?;
    let steps: [(&str, Step); 12] = [
        ("per-task overhead", scenarios::overhead::measure),
        (
            "factorize, the seed's four numbers",
            scenarios::factorize::measure,
        ),
        ("slow-io waits", scenarios::slow_io::measure),
        ("process start-up", scenarios::startup::measure),
        ("memory of a long run", scenarios::memory::measure),
        ("race with rayon", scenarios::rayon_race::measure),
        (
            "JSON Lines or JSON array input",
            scenarios::input_formats::measure,
        ),
        (
            "the seed's numbers not split",
            scenarios::not_split::measure,
        ),
        ("workers as Slurm job steps", scenarios::cluster::measure),
        (
            "the C ABI against Rust, per trial division",
            scenarios::c_abi::measure,
        ),
        (
            "Python plugin against ProcessPoolExecutor",
            scenarios::python_plugin::measure,
        ),
        ("sandbox cost", scenarios::sandbox::measure),
    ];
    let steps: Vec<(&str, Step)> = steps
        .into_iter()
        .filter(|(what, _)| {
            only.is_empty()
                || only
                    .iter()
                    .any(|only| what.to_lowercase().contains(&only.to_lowercase()))
        })
        .collect();
    let total = steps.len();
    let mut sections = Vec::with_capacity(total);
    for (index, (what, step)) in steps.into_iter().enumerate() {
        progress(&format!("bench: {}/{total} {what}...", index + 1));
        let step_started = Instant::now();
        sections.push(step(&setup, plan)?);
        progress(&format!(
            "bench: {}/{total} {what}: {:.1} s",
            index + 1,
            step_started.elapsed().as_secs_f64()
        ));
    }
    Ok(Results {
        format: "quack-bench",
        format_version: 2,
        quack_version: env!("CARGO_PKG_VERSION"),
        machine: Machine::this(),
        plugins: dir.to_path_buf(),
        host: setup.host.clone(),
        host_plugins: (host_dir != dir).then(|| host_dir.to_path_buf()),
        peers: setup.peer_status(),
        plan,
        sections,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// How many threads this process has (Linux: the entries of /proc/self/task).
fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task")
        .ok()
        .map(|entries| entries.count())
}

/// A duration in microseconds.
pub fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// A duration in milliseconds.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The median and minimum of measured values (there is always at least one repetition).
pub fn summarize(values: Vec<f64>) -> table::Samples {
    table::Samples::of(values).unwrap_or_else(|| table::Samples::single(f64::NAN))
}
