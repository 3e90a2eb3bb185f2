//! `host run`: load a plugin, find out what it can do, and do it. A Workload runs its tasks (the
//! runner picks the mode and says why); an Animal speaks; anything else is refused with what each
//! interface lacks.

use std::{
    ffi::OsString,
    fs::File,
    io::{self, BufWriter, Write},
    num::NonZeroUsize,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use clap::{Args, ValueEnum};
use quack_core::abi_stable::std_types::RResult;
use serde_json::{Map, Value, json};

use super::{
    Outcome, exit_guard,
    launch::{self, Launch},
    signals::StopSignals,
    stdio::{self, PluginStdout},
    verbosity::{self, ui},
    worker::worker_command,
};
use crate::{
    cli::error::HostError,
    input::{TaskInput, lenient_json, lenient_task},
    interfaces::{self, Interface},
    loader::LoadedPlugin,
    report::{
        ReportHead, ReportWriter,
        diagnostics::Diagnostics,
        file::{ReportFile, ReportFileError},
        human::{HumanReporter, TableOptions},
        jsonl::JsonlReporter,
        progress::{AroundProgress, ProgressReporter, StderrLines},
        timed::TimedFlush,
        verbose::VerboseReporter,
    },
    runner::{
        Choice, DEFAULT_START_TIMEOUT, Event, EventKind, Flow, Json, Limits, Mode, Quit, Reporter,
        Run, RunEnd, RunError, SplitPolicy, Status, Summary, TaskRecord, seconds,
    },
};

const RUN_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so
  host run plugins/libfactorize.so --task 600851475143 --set method=sqrt
  host run plugins/libfactorize.so --mode process --workers 2 --json report.json
  host run plugins/libslow_io.so --input tasks.jsonl --format jsonl
  host run plugins/libfactorize.so --isolate --timeout 2s --retries 1
  host run plugins/libfactorize.so --launcher 'ssh node1' --workers 4
  host run plugins/libfactorize.so --slurm --workers 2 --slurm-args '-p debug -t 10'
  host run plugins/libduck.so --set name=Donald
  host -q run plugins/libslow_io.so --keep-order      (or -v, -vv; --color never)

On a terminal, a progress line on stderr shows tasks done, failures, mode, workers, elapsed
time and ETA while results print above it; on a pipe it is never drawn, and the table is cut
to the terminal's width only on a terminal.

Ctrl-C (SIGINT), SIGTERM and SIGHUP stop handing out tasks, stop the workers, report what
finished and mark the rest cancelled (exit code 130, 143 or 129: 128 + the signal's number); a
second one ends the host at once.

What a plugin sees: in inline and thread mode the plugin runs inside the host. Whatever it
writes to its stdout goes to stderr as `[plugin NAME] line`, so the host's stdout holds only
Quack's output. Its stdin is /dev/null, except with --input -, where stdin holds the tasks and
plugins must not read it. A plugin that calls exit() ends the run with exit code 13 and a
sentence naming it. In process mode each worker has its own stdin (/dev/null) and stdout (the
protocol's); what a plugin prints there reaches stderr as `[worker N] line`.";

/// The most workers `--workers` accepts: far more than any machine has cores, and a ceiling on
/// threads and processes a typing mistake could otherwise start.
pub const MAX_WORKERS: usize = 1024;

/// The longest time limit `--timeout` accepts (a year); longer limits are a mistake, and would
/// overflow the runner's clock arithmetic.
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Run a plugin: a Workload's tasks, or make an Animal speak.
#[derive(Debug, Args)]
#[command(after_help = RUN_EXAMPLES)]
pub struct RunArgs {
    /// The plugin library, e.g. plugins/libfactorize.so
    plugin: PathBuf,

    /// Read tasks from FILE ('-' for standard input): a JSON array, or one JSON value per line
    /// (streamed). Without --input or --task, the plugin's default input runs.
    #[arg(long, value_name = "FILE", conflicts_with = "tasks")]
    input: Option<PathBuf>,

    /// One task as JSON (a bare word is taken as a string); repeat for more tasks.
    #[arg(long = "task", value_name = "JSON", allow_hyphen_values = true)]
    tasks: Vec<String>,

    /// Set one configuration key (VALUE is JSON, or a string); repeat for more. Applied after
    /// --config.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    sets: Vec<(String, Value)>,

    /// The plugin's configuration as a JSON object.
    #[arg(long, value_name = "JSON")]
    config: Option<String>,

    /// How to run the tasks. auto picks from the plugin's hint, its wish for isolation and the
    /// number of tasks, and says why on stderr.
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    mode: ModeArg,

    /// How many workers (threads or processes), 1 to 1024; by default chosen with the mode.
    #[arg(long, value_name = "N", value_parser = parse_workers)]
    workers: Option<NonZeroUsize>,

    /// Run the plugin in worker processes only, so that a crash fails only the task that caused
    /// it: no plugin code runs in the host, not even its loading (split and merge run in a worker
    /// too). Without it, a segfault or stack overflow in thread or inline mode ends the host.
    #[arg(long)]
    isolate: bool,

    /// Time limit per task attempt, e.g. 500ms, 2s, 1m (at most a year). In process mode the worker is stopped
    /// (SIGTERM, then SIGKILL) and replaced; a thread cannot be stopped, so in thread mode the
    /// task is reported `timeout`, its thread is abandoned and a new one takes its place.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,

    /// Run a task that crashed or timed out again, up to N more times; the report keeps every
    /// attempt.
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,

    /// What to print on stdout: a table, the JSON report at the end, or one JSON object per task
    /// as it finishes and a summary (JSON Lines; memory stays flat however many tasks run).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Stop handing out tasks once N tasks have failed (like nextest's --max-fail); the tasks
    /// left are reported `not-run`. Worker processes then take one task at a time.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_fail: Option<u64>,

    /// Never cut tasks into parts, even for a Splittable plugin.
    #[arg(long)]
    no_split: bool,

    /// Run a plugin that is several things as this one (a plugin with `run` and with `name` and
    /// `sound` is a Workload and an Animal; without --as it runs as a Workload, and says so).
    #[arg(long = "as", value_enum, value_name = "INTERFACE")]
    role: Option<Role>,

    /// Also write the full JSON report to PATH (written whole or not at all, renamed into place
    /// at the end; a symbolic link is written through; '-' means standard output).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,

    /// Start every worker process through this launcher: its words go before the worker command
    /// (`host worker`), e.g. 'ssh node1'. COMMAND is split as a shell splits words: quote a word
    /// with spaces inside COMMAND ('ssh -o "ProxyJump gw" node1'); no variables, globs or pipes
    /// are expanded. The plugin is sent to workers that do not have it. Implies process mode.
    #[arg(long, value_name = "COMMAND", allow_hyphen_values = true)]
    launcher: Option<String>,

    /// Start every worker as a Slurm job step (srun, one task each). Inside an allocation
    /// (sbatch, salloc) the steps use it and --workers defaults to its task count; outside one,
    /// each srun asks for a job. Implies process mode.
    #[arg(long, conflicts_with = "launcher")]
    slurm: bool,

    /// More srun flags for --slurm, as shell words, e.g. '-p debug -t 60 -A myproject'.
    #[arg(
        long,
        value_name = "ARGS",
        requires = "slurm",
        allow_hyphen_values = true
    )]
    slurm_args: Option<String>,

    /// How long each worker may take to start, e.g. 30s or 10m: to load the plugin and say hello.
    /// Default 30s, and 300s with --launcher or --slurm, where a batch queue may be slow.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    start_timeout: Option<Duration>,

    /// The program workers run (default: this host binary); it must be a Quack host of the same
    /// version. Useful with --launcher when the host lives elsewhere on the other machine.
    #[arg(long, value_name = "PATH")]
    worker_program: Option<PathBuf>,

    // The table's look (logic in report/human.rs and cli/verbosity.rs).
    /// Print the table in task order (as GNU parallel -k does), not as tasks finish.
    #[arg(long)]
    keep_order: bool,

    /// Cut table lines to N columns (0: never). By default: the terminal's width (or COLUMNS)
    /// when stdout is a terminal, else never.
    #[arg(long, value_name = "N", hide = true)]
    width: Option<usize>,
}

/// The values of `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    /// Let the runner choose from the plugin's hint and the tasks.
    Auto,
    /// One task after another on the main thread.
    Inline,
    /// A pool of threads, one plugin instance each.
    Thread,
    /// Worker processes (the host re-run), one plugin instance each; crashes stay contained.
    Process,
}

/// The values of `--as`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    /// Run its tasks (it has `run`).
    Workload,
    /// Make it speak (it has `name` and `sound`).
    Animal,
}

/// The values of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A line per task as it finishes, then a summary line.
    Human,
    /// The JSON report (written as the run goes, whole at the end).
    Json,
    /// One JSON object per task as it finishes, then a summary object (JSON Lines).
    Jsonl,
}

impl ModeArg {
    fn requested(self) -> Option<Mode> {
        match self {
            ModeArg::Auto => None,
            ModeArg::Inline => Some(Mode::Inline),
            ModeArg::Thread => Some(Mode::Thread),
            ModeArg::Process => Some(Mode::Process),
        }
    }
}

fn parse_key_value(text: &str) -> Result<(String, Value), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), lenient_json(value))),
        _ => Err(format!(
            "`{text}` is not KEY=VALUE (e.g. --set name=Donald)"
        )),
    }
}

fn parse_workers(text: &str) -> Result<NonZeroUsize, String> {
    match text.parse::<NonZeroUsize>() {
        Ok(count) if count.get() <= MAX_WORKERS => Ok(count),
        Ok(_) => Err(format!(
            "{text} workers is more than the {MAX_WORKERS} the host starts at most; give a number from 1 to {MAX_WORKERS}"
        )),
        Err(_) => Err(format!(
            "`{text}` is not a number of workers; give a number from 1 to {MAX_WORKERS}"
        )),
    }
}

/// A duration as `--timeout` takes it: more than zero, at most a year.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if duration > MAX_TIMEOUT => Err(format!(
            "`{text}` is longer than a year, the longest time limit the host accepts; give a shorter one, or no --timeout"
        )),
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => Err("the time limit must be more than zero".to_owned()),
        Err(error) => Err(format!(
            "`{text}` is not a duration ({error}); write e.g. 500ms, 2s or 1m"
        )),
    }
}

impl RunArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        if self.timeout.is_some() && self.mode == ModeArg::Inline {
            return Err(HostError::Usage("--timeout cannot be kept in inline mode, which cannot stop a running task; use --mode thread or --mode process".to_owned()));
        }
        if self.isolate && matches!(self.mode, ModeArg::Inline | ModeArg::Thread) {
            return Err(HostError::Usage(
                "--isolate runs the plugin in worker processes, so it goes with --mode process (or no --mode)"
                    .to_owned(),
            ));
        }
        let launcher = Launch::from_args(
            self.launcher_words()?,
            self.slurm,
            self.slurm_args.as_deref(),
        )?;
        if launcher.is_some() && !matches!(self.mode, ModeArg::Auto | ModeArg::Process) {
            return Err(HostError::Usage(
                "--launcher and --slurm start worker processes, so they go with --mode process (or no --mode)"
                    .to_owned(),
            ));
        }
        // Before any thread starts, so that every thread inherits the blocked signals.
        StopSignals::install()?;
        // Before the plugin is loaded: its stdin, its stdout and its exit are taken care of.
        if self.input.as_deref() != Some(Path::new("-")) {
            stdio::stdin_from_null();
        }
        let file_name = self.plugin.file_name().map_or_else(
            || self.plugin.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        let captured = PluginStdout::capture(&file_name).map_err(HostError::Output)?;
        let quack_stdout = captured.quack_stdout().map_err(HostError::Output)?;
        exit_guard::arm(&self.plugin.display().to_string());
        let result = self.load_and_run(launcher, &captured, quack_stdout);
        captured.finish();
        result
    }

    fn load_and_run(
        self,
        launcher: Option<Launch>,
        captured: &PluginStdout,
        quack_stdout: File,
    ) -> Result<Outcome, HostError> {
        let loading = Instant::now();
        // Isolated (worker processes only): no plugin code runs in the host, not even its
        // loading; a probe in a child process says what the plugin is.
        let isolated = self.isolate || launcher.is_some();
        let plugin = if isolated {
            let probed = super::probe::probe(&self.plugin, DEFAULT_START_TIMEOUT)?;
            LoadedPlugin::described(
                &self.plugin,
                probed.abi_version,
                probed.description,
                probed.methods,
            )
        } else {
            LoadedPlugin::load(&self.plugin)?
        };
        tracing::debug!("phase load: {:.3} s", loading.elapsed().as_secs_f64());
        captured.set_name(&plugin.description.name);
        exit_guard::name(&format!(
            "{} ({})",
            plugin.description.name,
            plugin.path.display()
        ));
        let checks = interfaces::check(&plugin.methods);
        let has = |interface| {
            checks
                .iter()
                .any(|c| c.interface == interface && c.satisfied())
        };
        let config = self.config_object()?;
        let role = match self.role {
            Some(Role::Workload) if !has(Interface::Workload) => {
                return Err(self.not_as(&plugin, &checks, Interface::Workload));
            }
            Some(Role::Animal) if !has(Interface::Animal) => {
                return Err(self.not_as(&plugin, &checks, Interface::Animal));
            }
            Some(role) => Some(role),
            None if has(Interface::Workload) && has(Interface::Animal) => {
                stdio::note(format_args!(
                    "{} is a Workload and an Animal: it runs as a Workload (--as animal makes it speak)",
                    plugin.description.name
                ));
                Some(Role::Workload)
            }
            None if has(Interface::Workload) => Some(Role::Workload),
            None if has(Interface::Animal) => Some(Role::Animal),
            None => None,
        };
        if role == Some(Role::Workload) {
            let satisfied = checks
                .iter()
                .filter(|c| c.satisfied())
                .map(|c| c.interface)
                .collect();
            self.run_workload(plugin, satisfied, config, launcher, quack_stdout)
        } else if role == Some(Role::Animal) {
            self.refuse_workload_options(&plugin)?;
            self.speak(plugin, config, quack_stdout)
        } else {
            let details = checks
                .iter()
                .filter(|check| check.interface != Interface::Splittable)
                .map(|check| {
                    format!(
                        "it is not {} {} (missing {})",
                        article(check.interface),
                        check.interface,
                        check.missing.join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join(" and ");
            Err(HostError::NotRunnable {
                path: plugin.path.clone(),
                name: plugin.description.name.clone(),
                details,
            })
        }
    }

    /// The sentence for `--as INTERFACE` on a plugin that is not one.
    fn not_as(
        &self,
        plugin: &LoadedPlugin,
        checks: &[interfaces::InterfaceCheck],
        interface: Interface,
    ) -> HostError {
        let missing = checks
            .iter()
            .find(|check| check.interface == interface)
            .map(|check| check.missing.join(", "))
            .unwrap_or_default();
        HostError::NotRunnable {
            path: plugin.path.clone(),
            name: plugin.description.name.clone(),
            details: format!(
                "--as {} asks for {} {interface}, and it is not one (missing {missing})",
                interface.name().to_lowercase(),
                article(interface)
            ),
        }
    }

    /// An Animal speaks once: the options about tasks, workers and limits mean nothing for it,
    /// and are refused rather than ignored.
    fn refuse_workload_options(&self, plugin: &LoadedPlugin) -> Result<(), HostError> {
        let given = [
            ("--task", !self.tasks.is_empty()),
            ("--input", self.input.is_some()),
            ("--mode", self.mode != ModeArg::Auto),
            ("--workers", self.workers.is_some()),
            ("--isolate", self.isolate),
            ("--timeout", self.timeout.is_some()),
            ("--retries", self.retries > 0),
            ("--max-fail", self.max_fail.is_some()),
            ("--no-split", self.no_split),
            ("--launcher", self.launcher.is_some()),
            ("--worker-program", self.worker_program.is_some()),
        ];
        match given.iter().find(|(_, present)| *present) {
            Some((flag, _)) => Err(HostError::Usage(format!(
                "{flag} means nothing for an Animal: {} speaks once, with no tasks or workers; leave it out",
                plugin.description.name
            ))),
            None => Ok(()),
        }
    }

    /// The words of `--launcher`, split as a shell would.
    fn launcher_words(&self) -> Result<Option<Vec<OsString>>, HostError> {
        let Some(text) = &self.launcher else {
            return Ok(None);
        };
        let words = shell_words::split(text).map_err(|error| {
            HostError::Usage(format!(
                "--launcher {text:?} cannot be split into words ({error}); close every quote"
            ))
        })?;
        if words.is_empty() {
            return Err(HostError::Usage(
                "--launcher is empty; give a command such as 'ssh node1'".to_owned(),
            ));
        }
        Ok(Some(words.into_iter().map(OsString::from).collect()))
    }

    /// `--config` merged with every `--set`, as a JSON object.
    fn config_object(&self) -> Result<Map<String, Value>, HostError> {
        let mut config = match &self.config {
            None => Map::new(),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(HostError::Config(format!(
                        "--config must be a JSON object such as '{{\"method\": \"sqrt\"}}', not {text}"
                    )));
                }
                Err(error) => {
                    return Err(HostError::Config(format!(
                        "--config is not valid JSON ({error}); give an object such as '{{\"method\": \"sqrt\"}}'"
                    )));
                }
            },
        };
        for (key, value) in &self.sets {
            config.insert(key.clone(), value.clone());
        }
        Ok(config)
    }

    fn task_input(&self, plugin: &LoadedPlugin) -> Result<TaskInput, HostError> {
        Ok(if !self.tasks.is_empty() {
            TaskInput::from_json(self.tasks.iter().map(|task| lenient_task(task)).collect())?
        } else if let Some(path) = &self.input {
            super::signals::read_input(path)?
        } else {
            TaskInput::from_values(plugin.description.default_input.clone())?
        })
    }

    /// Where the report goes, checked before anything runs.
    fn report_target(&self, quack_stdout: &File) -> Result<Option<ReportTarget>, HostError> {
        let quack_stdout = quack_stdout.try_clone().map_err(HostError::Output)?;
        Ok(match &self.json {
            None => None,
            Some(path) if path.as_os_str() == "-" => {
                if self.format == Format::Jsonl {
                    return Err(HostError::Usage(
                        "--json - prints the report on stdout, where --format jsonl prints its lines too; use --format json, or give --json a file".to_owned(),
                    ));
                }
                Some(ReportTarget::Stdout(quack_stdout))
            }
            Some(path) => {
                // The report replaces its file: never the plugin's, never the tasks'.
                let same = |other: &Path| {
                    let (Ok(a), Ok(b)) =
                        (std::fs::canonicalize(path), std::fs::canonicalize(other))
                    else {
                        return false;
                    };
                    a == b
                };
                for (other, what) in [
                    (Some(self.plugin.as_path()), "the plugin"),
                    (self.input.as_deref(), "the --input file"),
                ] {
                    if other.is_some_and(same) {
                        return Err(HostError::Usage(format!(
                            "--json {} is {what} itself, which the report would replace; give the report another path",
                            path.display()
                        )));
                    }
                }
                Some(ReportTarget::File(ReportFile::create(path)?))
            }
        })
    }

    fn run_workload(
        self,
        plugin: LoadedPlugin,
        satisfied: Vec<Interface>,
        config: Map<String, Value>,
        launcher: Option<Launch>,
        quack_stdout: File,
    ) -> Result<Outcome, HostError> {
        let mut input = self.task_input(&plugin)?;
        let target = self.report_target(&quack_stdout)?;
        let program = match &self.worker_program {
            Some(program) => program.clone(),
            None => std::env::current_exe().map_err(HostError::WorkerProgram)?,
        };
        // A launcher makes it process mode (the runner says so in its reason).
        let mode = self.mode.requested();
        let signals = StopSignals::install()?;
        // Daemons a task starts (a session of their own) become the host's, and go with the run.
        crate::runner::orphans::adopt();
        let run = Run::new(plugin.clone())
            .config(config.clone())
            .mode(mode)
            .workers(
                self.workers
                    .map(NonZeroUsize::get)
                    .or(launcher.as_ref().and_then(|launch| launch.default_workers)),
            )
            .isolate(self.isolate)
            .limits(Limits {
                timeout: self.timeout,
                retries: self.retries,
                max_fail: self.max_fail,
                start_timeout: launch::start_timeout(self.start_timeout, launcher.as_ref()),
            })
            .split(if self.no_split {
                SplitPolicy::Never
            } else {
                SplitPolicy::Auto
            })
            .worker_command(match launcher {
                Some(launch) => launch.command(worker_command(program, Vec::new())),
                None => worker_command(program, Vec::new()),
            })
            .cancel_flag(signals.cancel_flag());
        // Made only for a report: its plugin part reads and hashes the plugin file.
        let head = || ReportHead::new(&plugin, satisfied.clone(), config.clone());
        let mut look = Look::new(&self, &plugin, &quack_stdout);
        let (choice, split) = run.plan(input.count);
        look.background_flush = split || (choice.mode == Mode::Inline && input.count != Some(1));
        let mut outputs = Outputs::new(self.format, target, head, &quack_stdout, look)?;
        let stopper = run.stopper();
        stdio::watch_reader(&quack_stdout, move || stopper.stop(Quit::OutputClosed));
        let running = Instant::now();
        let outcome = run.execute(&mut input, &mut outputs);
        tracing::debug!("phase run: {:.3} s", running.elapsed().as_secs_f64());
        let finishing = Instant::now();
        // Stopped by it, or found closed by the last write: either way the host ends as a shell
        // tool ends on SIGPIPE.
        let output_closed =
            outputs.stdout_closed || matches!(outcome.end, RunEnd::Stopped(Quit::OutputClosed));
        outputs.finish(output_closed)?;
        tracing::debug!("phase report: {:.3} s", finishing.elapsed().as_secs_f64());
        if let Some(error) = outcome.error {
            return Err(error.into());
        }
        if let Some(error) = input.take_error() {
            return Err(error.into());
        }
        Ok(match outcome.end {
            RunEnd::Interrupted => Outcome::Interrupted(signals.received()),
            _ if output_closed => Outcome::OutputClosed,
            _ if outcome.summary.failed() == 0 => Outcome::Success,
            _ => Outcome::TasksFailed,
        })
    }

    /// An Animal speaks once: "Donald said Quack!".
    fn speak(
        self,
        plugin: LoadedPlugin,
        config: Map<String, Value>,
        quack_stdout: File,
    ) -> Result<Outcome, HostError> {
        let origin = Instant::now();
        let target = self.report_target(&quack_stdout)?;
        let mut instance = plugin
            .instantiate(&Value::Object(config.clone()).to_string())
            .map_err(RunError::Instance)?;
        let mut ask = |method: &str| match instance.call(method.into(), "null".into()) {
            RResult::ROk(json) => serde_json::from_str::<String>(json.as_str())
                .map_err(|error| format!("{method}() did not return a string: {error}")),
            RResult::RErr(error) => Err(format!("{method}() failed: {error}")),
        };
        let spoken = ask("name").and_then(|name| Ok((name, ask("sound")?)));
        let (status, output, error) = match spoken {
            Ok((name, sound)) => {
                let line = format!("{name} said {sound}");
                let speech = json!({"type": "speech", "name": name, "sound": sound, "line": line});
                let printed = match (self.format, &target) {
                    // The report itself goes to stdout below.
                    (Format::Json, _) | (_, Some(ReportTarget::Stdout(_))) => String::new(),
                    (Format::Jsonl, _) => format!("{speech}\n"),
                    (Format::Human, _) => format!("{line}\n"),
                };
                let mut stdout = &quack_stdout;
                match stdout
                    .write_all(printed.as_bytes())
                    .and_then(|()| stdout.flush())
                {
                    Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                        return Err(HostError::Output(error));
                    }
                    _ => {}
                }
                (
                    Status::Ok,
                    Some(json!({"name": name, "sound": sound, "line": line})),
                    None,
                )
            }
            Err(error) => {
                stdio::note(format_args!("{}: {error}", plugin.description.name));
                (Status::Error, None, Some(error))
            }
        };
        let record = TaskRecord {
            id: 0,
            input: Value::Null.into(),
            status,
            output: output.map(Json::from),
            error,
            worker: 0,
            start_seconds: 0.0,
            duration_seconds: seconds(origin.elapsed()),
            parts: None,
            attempts: Vec::new(),
            part: None,
        };
        let mut summary = Summary::default();
        summary.count(record.status);
        summary.finish(origin.elapsed());
        let target = match (target, self.format) {
            (None, Format::Json) => Some(ReportTarget::Stdout(
                quack_stdout.try_clone().map_err(HostError::Output)?,
            )),
            (target, _) => target,
        };
        if let Some(target) = target {
            let choice = Choice {
                mode: Mode::Inline,
                workers: 1,
                reason: "inline: an Animal speaks once".to_owned(),
                launcher: None,
            };
            let head = ReportHead::new(&plugin, vec![Interface::Animal], config);
            // The animal has spoken: nothing runs between writing the report and flushing it.
            let mut writer = ReportOutput::new(target, head, false)?;
            let events = [
                EventKind::RunStarted {
                    choice,
                    tasks: Some(1),
                    split: false,
                },
                EventKind::TaskFinished(record),
                EventKind::RunFinished {
                    summary: summary.clone(),
                    end: RunEnd::Completed,
                },
            ];
            for kind in events {
                let _ = writer.report(&Event {
                    elapsed: origin.elapsed(),
                    kind,
                });
            }
            writer.finish(false)?;
        }
        Ok(if summary.failed() == 0 {
            Outcome::Success
        } else {
            Outcome::TasksFailed
        })
    }
}

/// Where `--json` writes the report.
enum ReportTarget {
    /// `--json -`: Quack's stdout.
    Stdout(File),
    /// A file, renamed into place at the end.
    File(ReportFile),
}

/// The JSON report being written to its target.
enum ReportOutput {
    Stdout(ReportWriter<QuackOut>),
    File(ReportFile, ReportWriter<BufWriter<File>>),
}

impl ReportOutput {
    fn new(
        target: ReportTarget,
        head: ReportHead,
        background_flush: bool,
    ) -> Result<Self, HostError> {
        Ok(match target {
            ReportTarget::Stdout(out) => {
                ReportOutput::Stdout(ReportWriter::new(buffered(out, background_flush), head))
            }
            ReportTarget::File(file) => {
                let writer = file.writer()?;
                ReportOutput::File(file, ReportWriter::new(writer, head))
            }
        })
    }

    /// Ends the report: renames the file into place and says so (unless `quietly`: the output
    /// was closed, and the host ends as quietly as a shell tool on SIGPIPE), or reports what
    /// failed.
    fn finish(self, quietly: bool) -> Result<(), HostError> {
        match self {
            ReportOutput::Stdout(writer) => match writer.finish() {
                Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                    Err(HostError::Output(error))
                }
                _ => Ok(()),
            },
            ReportOutput::File(file, writer) => {
                let path = file.path().to_path_buf();
                let written = writer.finish().map_err(|source| ReportFileError::Write {
                    path: path.clone(),
                    source,
                })?;
                file.persist(written)?;
                if !ui().quiet && !quietly {
                    stdio::note(format_args!("report written to {}", path.display()));
                }
                Ok(())
            }
        }
    }
}

impl Reporter for ReportOutput {
    fn report(&mut self, event: &Event) -> Flow {
        match self {
            ReportOutput::Stdout(writer) => writer.report(event),
            ReportOutput::File(_, writer) => writer.report(event),
        }
    }
}

/// What `--format` prints on stdout.
enum StdoutReporter {
    Human(HumanReporter<QuackOut>),
    Jsonl(JsonlReporter<QuackOut>),
    /// `--format json`: the report itself.
    Report(Box<ReportOutput>),
    /// `--json -` already prints the report on stdout.
    Nothing,
}

/// Every reporter of a `host run`: notes on stderr, the chosen format on stdout, the report.
struct Outputs {
    stderr: Diagnostics<StderrLines>,
    stdout: StdoutReporter,
    report: Option<ReportOutput>,
    // The progress line and -v.
    progress: Option<ProgressReporter>,
    verbose: VerboseReporter,
    /// Whether a write to stdout found its reader gone (up to the last one, the summary's).
    stdout_closed: bool,
}

/// Quack's stdout, buffered (and flushed within 50 ms whatever the plugin does), written around
/// the progress line when it shares its terminal.
type QuackOut = TimedFlush<AroundProgress<File>>;

/// Quack's stdout (never fd 1, which is the plugin's: see [`PluginStdout`]), buffered; flushed
/// by a thread of its own too when `background_flush` (see [`Look::background_flush`]).
fn buffered(out: File, background_flush: bool) -> QuackOut {
    use std::io::IsTerminal;
    let on_terminal = out.is_terminal();
    let out = AroundProgress::new(out, on_terminal);
    if background_flush {
        TimedFlush::new(out, 1 << 16)
    } else {
        TimedFlush::without_flusher(out, 1 << 16)
    }
}

/// How a run's output looks: the global flags and the table's options (issue 11).
struct Look {
    ui: verbosity::Ui,
    table: TableOptions,
    hint: Option<quack_core::Hint>,
    /// Whether stdout needs a thread that flushes it: when the thread that writes it also runs
    /// plugin code (inline mode; `split` and `merge` of a split run), a finished task's line
    /// would otherwise wait behind a long task. Not for a run of one task: its line is flushed
    /// when the run ends, right after it.
    background_flush: bool,
}

impl Look {
    fn new(args: &RunArgs, plugin: &LoadedPlugin, quack_stdout: &File) -> Self {
        use std::io::IsTerminal;
        let ui = ui();
        let on_terminal = quack_stdout.is_terminal();
        Look {
            ui,
            table: TableOptions {
                width: crate::report::human::table_width(args.width, quack_stdout),
                keep_order: args.keep_order,
                retries: args.retries,
                colors: ui.colors(on_terminal),
            },
            hint: plugin.description.hint,
            background_flush: true,
        }
    }

    /// The progress line, when stderr is a terminal and `-q` is not given.
    fn progress(&self) -> Option<ProgressReporter> {
        use std::io::IsTerminal;
        (!self.ui.quiet && io::stderr().is_terminal())
            .then(|| ProgressReporter::new(self.ui.stderr_colors()))
    }
}

impl Outputs {
    fn new(
        format: Format,
        target: Option<ReportTarget>,
        head: impl Fn() -> ReportHead,
        quack_stdout: &File,
        look: Look,
    ) -> Result<Self, HostError> {
        let report_on_stdout = matches!(target, Some(ReportTarget::Stdout(_)));
        let out = || quack_stdout.try_clone().map_err(HostError::Output);
        let stdout = match format {
            _ if report_on_stdout => StdoutReporter::Nothing,
            Format::Human => StdoutReporter::Human(HumanReporter::with_options(
                buffered(out()?, look.background_flush),
                look.table,
            )),
            Format::Jsonl => {
                StdoutReporter::Jsonl(JsonlReporter::new(buffered(out()?, look.background_flush)))
            }
            Format::Json => StdoutReporter::Report(Box::new(ReportOutput::new(
                ReportTarget::Stdout(out()?),
                head(),
                look.background_flush,
            )?)),
        };
        let report = target
            .map(|target| ReportOutput::new(target, head(), look.background_flush))
            .transpose()?;
        Ok(Outputs {
            stderr: Diagnostics::new(StderrLines::default()).quiet(look.ui.quiet),
            stdout,
            report,
            progress: look.progress(),
            verbose: VerboseReporter::new(look.hint, crate::runner::sys::cores()),
            stdout_closed: false,
        })
    }

    /// Ends every output; the report's failure first (a lost report is the worst), then
    /// stdout's. A closed pipe on stdout (`host run ... | head`) is not an error; `quietly` (it
    /// stopped the run) leaves out the note that the report was written.
    fn finish(self, quietly: bool) -> Result<(), HostError> {
        if let Some(report) = self.report {
            report.finish(quietly)?;
        }
        let failure = match self.stdout {
            StdoutReporter::Human(human) => human.failure(),
            StdoutReporter::Jsonl(jsonl) => jsonl.failure(),
            StdoutReporter::Report(report) => return report.finish(quietly),
            StdoutReporter::Nothing => None,
        };
        match failure {
            Some(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                Err(HostError::Output(error))
            }
            _ => Ok(()),
        }
    }
}

impl Reporter for Outputs {
    fn report(&mut self, event: &Event) -> Flow {
        // The progress line goes away before the last lines, and starts after the first.
        let last = matches!(event.kind, EventKind::RunFinished { .. });
        if let Some(progress) = self.progress.as_mut().filter(|_| last) {
            let _ = progress.report(event);
        }
        let _ = self.stderr.report(event);
        let _ = self.verbose.report(event);
        let flow = match &mut self.stdout {
            StdoutReporter::Human(human) => human.report(event),
            StdoutReporter::Jsonl(jsonl) => jsonl.report(event),
            StdoutReporter::Report(report) => report.report(event),
            StdoutReporter::Nothing => Flow::Continue,
        };
        // The report stops the run only on stdout (`--json -`): a full disk is reported at the
        // end.
        let flow = match &mut self.report {
            Some(report) => flow.and(report.report(event)),
            None => flow,
        };
        self.stdout_closed |= flow == Flow::Stop(Quit::OutputClosed);
        if let Some(progress) = self.progress.as_mut().filter(|_| !last) {
            let _ = progress.report(event);
        }
        flow
    }

    /// Only `-vvv` shows tasks as they start.
    fn wants_task_started(&self) -> bool {
        self.verbose.wants_task_started()
    }
}

fn article(interface: Interface) -> &'static str {
    match interface {
        Interface::Animal => "an",
        Interface::Workload | Interface::Splittable => "a",
    }
}
