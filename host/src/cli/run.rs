//! `host run`: load a plugin, find out what it can do, and do it. A Workload runs its tasks (the
//! runner picks the mode and says why); an Animal speaks; anything else is refused with what each
//! interface lacks.

use std::{
    io::{self, Write},
    num::NonZeroUsize,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use clap::{Args, ValueEnum};
use quack_core::abi_stable::std_types::RResult;
use serde_json::{Map, Value, json};

use super::{
    Outcome,
    sink::{Format, Sink},
};
use crate::{
    error::HostError,
    input::{TaskInput, lenient_json},
    interfaces::{self, Interface},
    loader::LoadedPlugin,
    report::{FORMAT_VERSION, Machine, PluginInfo, Report, Summary, cores, write_json_atomically},
    runner::{
        self, Choice, Limits, Mode, Polled, Request, RunContext, Splitter, Status, TaskRecord,
        TaskSource, seconds,
    },
};

const RUN_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so
  host run plugins/libfactorize.so --task 600851475143 --set method=sqrt
  host run plugins/libfactorize.so --mode process --workers 2 --json report.json
  host run plugins/libslow_io.so --input tasks.jsonl --format jsonl
  host run plugins/libfactorize.so --isolate --timeout 2s --retries 1
  host run plugins/libduck.so --set name=Donald

Ctrl-C stops handing out tasks, stops the workers, reports what finished and marks the rest
cancelled (exit code 130); a second Ctrl-C ends the host at once.";

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

    /// How many workers (threads or processes); by default chosen with the mode.
    #[arg(long, value_name = "N")]
    workers: Option<NonZeroUsize>,

    /// Run the plugin in worker processes, so that a crash fails only the task that caused it.
    #[arg(long)]
    isolate: bool,

    /// Time limit per task attempt, e.g. 500ms, 2s, 1m. In process mode the worker is stopped
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

    /// Never cut tasks into parts, even for a Splittable plugin.
    #[arg(long)]
    no_split: bool,

    /// Also write the full JSON report to PATH (written whole or not at all).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
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

fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
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
        let plugin = LoadedPlugin::load(&self.plugin)?;
        let checks = interfaces::check(&plugin.methods);
        let has = |interface| {
            checks
                .iter()
                .any(|c| c.interface == interface && c.satisfied())
        };
        let config = self.config_object()?;
        if has(Interface::Workload) {
            let satisfied = checks
                .iter()
                .filter(|c| c.satisfied())
                .map(|c| c.interface)
                .collect();
            self.run_workload(plugin, satisfied, config)
        } else if has(Interface::Animal) {
            self.speak(plugin, config)
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
            TaskInput::from_values(self.tasks.iter().map(|task| lenient_json(task)).collect())?
        } else if let Some(path) = &self.input {
            TaskInput::from_path(path)?
        } else {
            TaskInput::from_values(plugin.description.default_input.clone())?
        })
    }

    fn run_workload(
        self,
        plugin: LoadedPlugin,
        satisfied: Vec<Interface>,
        config: Map<String, Value>,
    ) -> Result<Outcome, HostError> {
        let input = self.task_input(&plugin)?;
        let request = Request {
            mode: self.mode.requested(),
            workers: self.workers.map(NonZeroUsize::get),
            isolate: self.isolate,
            plugin_isolates: plugin.description.isolate,
            timeout: self.timeout.is_some(),
        };
        let mut choice = runner::choose(request, plugin.description.hint, input.count, cores());
        let split = !self.no_split
            && runner::worth_splitting(
                satisfied.contains(&Interface::Splittable),
                choice.workers,
                input.count,
            );
        if split {
            choice
                .reason
                .push_str("; tasks are cut into parts for balance (the plugin is Splittable)");
        }
        eprintln!("runner: {}", choice.reason);

        let cancel = interrupt_flag()?;
        let origin = Instant::now();
        let context = RunContext {
            plugin: plugin.clone(),
            config: Value::Object(config.clone()).to_string(),
            origin,
            cancel: Arc::clone(&cancel),
            limits: Limits {
                timeout: self.timeout,
                retries: self.retries,
            },
        };
        let mut executor = runner::executor(&choice, context.clone())?;
        let mut splitter = if split {
            Some(Splitter::new(&context)?)
        } else {
            None
        };
        let keep_records = self.json.is_some() || self.format == Format::Json;
        let mut sink = Sink::new(self.format, keep_records);

        let mut tasks = input;
        let outcome = match splitter.as_mut() {
            Some(splitter) => splitter.execute(executor.as_mut(), &mut tasks, &mut |event| {
                sink.event(event)
            }),
            None => executor.execute(&mut tasks, &mut |event| sink.event(event)),
        };
        let interrupted = cancel.load(Ordering::Relaxed);
        if interrupted && tasks.count.is_some() {
            // The input is in memory: every task that never started is reported cancelled.
            while let Polled::Ready(task) = tasks.poll_task() {
                let record = TaskRecord::failed(
                    task,
                    Status::Cancelled,
                    "the run was interrupted before it started".to_owned(),
                    0,
                    origin.elapsed(),
                    Duration::ZERO,
                );
                sink.record(record);
            }
        }
        let input_error = tasks.take_error();
        outcome?;
        let (mut summary, records) = sink.finish_tasks();
        summary.finish(origin.elapsed());
        let report = |records| {
            report(
                &plugin,
                satisfied.clone(),
                config.clone(),
                choice.clone(),
                records,
                summary.clone(),
            )
        };
        let written = match records {
            Some(mut records) => {
                records.sort_by_key(|record: &TaskRecord| record.id);
                let report = report(records);
                if let Some(path) = &self.json {
                    write_report(path, &report)?;
                }
                sink.summary(&summary, &choice, Some(&report))
            }
            None => sink.summary(&summary, &choice, None),
        };
        written?;
        if interrupted {
            eprintln!(
                "interrupted: {} tasks finished, {} cancelled",
                summary.tasks - summary.cancelled,
                summary.cancelled
            );
            return Ok(Outcome::Interrupted);
        }
        if let Some(error) = input_error {
            return Err(error.into());
        }
        Ok(if summary.failed() == 0 {
            Outcome::Success
        } else {
            Outcome::TasksFailed
        })
    }

    /// An Animal speaks once: "Donald said Quack!".
    fn speak(self, plugin: LoadedPlugin, config: Map<String, Value>) -> Result<Outcome, HostError> {
        let origin = Instant::now();
        let mut instance = plugin
            .instantiate(&Value::Object(config.clone()).to_string())
            .map_err(runner::RunError::Instance)?;
        let mut ask = |method: &str| match instance.call(method.into(), "null".into()) {
            RResult::ROk(json) => serde_json::from_str::<String>(json.as_str())
                .map_err(|error| format!("{method}() did not return a string: {error}")),
            RResult::RErr(error) => Err(format!("{method}() failed: {error}")),
        };
        let spoken = ask("name").and_then(|name| Ok((name, ask("sound")?)));
        let (status, output, error) = match spoken {
            Ok((name, sound)) => {
                let line = format!("{name} said {sound}");
                let mut stdout = io::stdout().lock();
                writeln!(stdout, "{line}")
                    .and_then(|()| stdout.flush())
                    .map_err(HostError::Output)?;
                (
                    Status::Ok,
                    Some(json!({"name": name, "sound": sound, "line": line})),
                    None,
                )
            }
            Err(error) => {
                eprintln!("{}: {error}", plugin.description.name);
                (Status::Error, None, Some(error))
            }
        };
        let record = TaskRecord {
            id: 0,
            input: Value::Null,
            status,
            output,
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
        if let Some(path) = &self.json {
            let choice = Choice {
                mode: Mode::Inline,
                workers: 1,
                reason: "inline: an Animal speaks once".to_owned(),
            };
            let report = report(
                &plugin,
                vec![Interface::Animal],
                config,
                choice,
                vec![record],
                summary.clone(),
            );
            write_report(path, &report)?;
        }
        Ok(if summary.failed() == 0 {
            Outcome::Success
        } else {
            Outcome::TasksFailed
        })
    }
}

/// A flag set by the first Ctrl-C; the second ends the process at once with exit code 130.
fn interrupt_flag() -> Result<Arc<AtomicBool>, HostError> {
    use signal_hook::{consts::SIGINT, flag};
    let cancel = Arc::new(AtomicBool::new(false));
    // Registered first, so it sees the flag as the previous Ctrl-C left it.
    flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&cancel))
        .map_err(HostError::Signal)?;
    flag::register(SIGINT, Arc::clone(&cancel)).map_err(HostError::Signal)?;
    Ok(cancel)
}

fn report(
    plugin: &LoadedPlugin,
    interfaces: Vec<Interface>,
    config: Map<String, Value>,
    runner: Choice,
    tasks: Vec<TaskRecord>,
    summary: Summary,
) -> Report {
    Report {
        format_version: FORMAT_VERSION,
        quack_version: env!("CARGO_PKG_VERSION"),
        plugin: PluginInfo::new(plugin, interfaces),
        config: Value::Object(config),
        runner,
        machine: Machine::this(),
        tasks,
        summary,
    }
}

/// Writes `report` to `path` (whole or not at all) and says so on stderr.
fn write_report(path: &Path, report: &Report) -> Result<(), HostError> {
    write_json_atomically(path, report).map_err(|source| HostError::Report {
        path: path.to_path_buf(),
        source,
    })?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

fn article(interface: Interface) -> &'static str {
    match interface {
        Interface::Animal => "an",
        Interface::Workload | Interface::Splittable => "a",
    }
}
