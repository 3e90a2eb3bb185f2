//! The JSON report ([`Report`]) and the run's [`Summary`], and how a report reaches the disk:
//! written to a temporary file beside the target and renamed into place, so that a reader never
//! sees half a report.

pub mod human;
pub mod jsonl;

use std::{
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use quack_core::Hint;
use serde::Serialize;
use serde_json::Value;

use crate::{
    interfaces::Interface,
    loader::{LoadedPlugin, Signature},
    runner::{Choice, Status, TaskRecord, seconds},
};

/// The version of the report's format; it changes when a field changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;

/// Everything a run produced, as written by `--json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// See [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The version of the host that wrote it.
    pub quack_version: &'static str,
    /// The plugin that ran.
    pub plugin: PluginInfo,
    /// The configuration its instances were made with.
    pub config: Value,
    /// How the tasks were run and why.
    pub runner: Choice,
    /// Where they ran.
    pub machine: Machine,
    /// Every task, in id order.
    pub tasks: Vec<TaskRecord>,
    /// Counts and times.
    pub summary: Summary,
}

/// The plugin part of a report.
#[derive(Debug, Serialize)]
pub struct PluginInfo {
    /// The path it was loaded from.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The ABI version it was built for.
    pub abi_version: String,
    /// Its workload hint.
    pub hint: Option<Hint>,
    /// Its methods.
    pub methods: Vec<Signature>,
    /// The interfaces it satisfies.
    pub interfaces: Vec<Interface>,
}

impl PluginInfo {
    /// The report's view of a loaded plugin.
    pub fn new(plugin: &LoadedPlugin, interfaces: Vec<Interface>) -> Self {
        PluginInfo {
            path: plugin.path.clone(),
            name: plugin.description.name.clone(),
            version: plugin.description.version.clone(),
            abi_version: plugin.abi_version.clone(),
            hint: plugin.description.hint,
            methods: plugin.methods.clone(),
            interfaces,
        }
    }
}

/// The machine part of a report.
#[derive(Debug, Serialize)]
pub struct Machine {
    /// Logical cores available to this process.
    pub cores: usize,
    /// The operating system, e.g. `linux`.
    pub os: &'static str,
    /// The processor architecture, e.g. `x86_64`.
    pub arch: &'static str,
}

impl Machine {
    /// This machine.
    pub fn this() -> Self {
        Machine {
            cores: cores(),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        }
    }
}

/// The number of cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |count| count.get())
}

/// Counts and times of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Tasks reported.
    pub tasks: u64,
    /// Tasks with status `ok`.
    pub ok: u64,
    /// Tasks with status `error`.
    pub error: u64,
    /// Tasks with status `crashed`.
    pub crashed: u64,
    /// Tasks with status `timeout`.
    pub timeout: u64,
    /// Tasks with status `cancelled`.
    pub cancelled: u64,
    /// Wall-clock time of the run, in seconds.
    pub wall_seconds: f64,
    /// CPU time (user and system) of the host and its worker processes, in seconds.
    pub cpu_seconds: f64,
    /// Tasks per second of wall time.
    pub tasks_per_second: f64,
}

impl Summary {
    /// Counts one finished task.
    pub fn count(&mut self, status: Status) {
        self.tasks += 1;
        *match status {
            Status::Ok => &mut self.ok,
            Status::Error => &mut self.error,
            Status::Crashed => &mut self.crashed,
            Status::Timeout => &mut self.timeout,
            Status::Cancelled => &mut self.cancelled,
        } += 1;
    }

    /// How many tasks did not end `ok`.
    pub fn failed(&self) -> u64 {
        self.tasks - self.ok
    }

    /// The count for one status.
    pub fn of(&self, status: Status) -> u64 {
        match status {
            Status::Ok => self.ok,
            Status::Error => self.error,
            Status::Crashed => self.crashed,
            Status::Timeout => self.timeout,
            Status::Cancelled => self.cancelled,
        }
    }

    /// Fills in the times once the run is over.
    pub fn finish(&mut self, wall: Duration) {
        self.wall_seconds = seconds(wall);
        self.cpu_seconds = cpu_time().map_or(0.0, seconds);
        self.tasks_per_second = if self.wall_seconds > 0.0 {
            self.tasks as f64 / self.wall_seconds
        } else {
            0.0
        };
    }
}

/// User and system CPU time of this process and its waited-for children.
fn cpu_time() -> Option<Duration> {
    let used = |who| {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a whole rusage into the pointer it is given.
        let status = unsafe { libc::getrusage(who, usage.as_mut_ptr()) };
        if status != 0 {
            return None;
        }
        // SAFETY: getrusage succeeded, so the struct is initialised.
        let usage = unsafe { usage.assume_init() };
        let time = |tv: libc::timeval| {
            Duration::from_secs(tv.tv_sec.max(0) as u64)
                + Duration::from_micros(tv.tv_usec.max(0) as u64)
        };
        Some(time(usage.ru_utime) + time(usage.ru_stime))
    };
    Some(used(libc::RUSAGE_SELF)? + used(libc::RUSAGE_CHILDREN)?)
}

/// Writes `value` as pretty JSON to `path` through a temporary file in the same directory and a
/// rename, so the file at `path` is always either the old one or the whole new one.
pub fn write_json_atomically(path: &Path, value: &impl Serialize) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file = tempfile::NamedTempFile::new_in(directory)?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut writer, value)?;
    writer.write_all(b"\n")?;
    let file = writer.into_inner().map_err(|error| error.into_error())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
