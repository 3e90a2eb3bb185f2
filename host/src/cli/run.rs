//! `host run`: load a plugin, find out what it can do, and do it. A Workload runs its tasks (the
//! runner picks the mode and says why); an Animal speaks; anything else is refused with what each
//! interface lacks.

use std::{
    io::{self, Write},
    num::NonZeroUsize,
    path::PathBuf,
    sync::{Arc, atomic::AtomicBool},
    time::Instant,
};

use clap::{Args, ValueEnum};
use quack_core::abi_stable::std_types::RResult;
use serde_json::{Map, Value, json};

use super::Outcome;
use crate::{
    error::HostError,
    input::{TaskInput, lenient_json},
    interfaces::{self, Interface},
    loader::LoadedPlugin,
    report::{
        FORMAT_VERSION, Machine, PluginInfo, Report, Summary, cores, human::HumanReporter,
        write_json_atomically,
    },
    runner::{self, Choice, EventKind, Mode, RunContext, Status, Task, TaskRecord, seconds},
};

const RUN_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so
  host run plugins/libfactorize.so --task 600851475143 --set method=sqrt
  host run plugins/libfactorize.so --mode thread --workers 2 --json report.json
  host run plugins/libslow_io.so --input tasks.jsonl
  host run plugins/libduck.so --set name=Donald";

/// Run a plugin: a Workload's tasks, or make an Animal speak.
#[derive(Debug, Args)]
#[command(after_help = RUN_EXAMPLES)]
pub struct RunArgs {
    /// The plugin library, e.g. plugins/libfactorize.so
    plugin: PathBuf,

    /// Read tasks from FILE ('-' for standard input): a JSON array, or one JSON value per line.
    /// Without --input or --task, the plugin's default input runs.
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

    /// How to run the tasks. auto picks from the plugin's hint and the number of tasks, and says
    /// why.
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    mode: ModeArg,

    /// How many workers (threads); by default chosen with the mode.
    #[arg(long, value_name = "N")]
    workers: Option<NonZeroUsize>,

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
}

impl ModeArg {
    fn requested(self) -> Option<Mode> {
        match self {
            ModeArg::Auto => None,
            ModeArg::Inline => Some(Mode::Inline),
            ModeArg::Thread => Some(Mode::Thread),
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

impl RunArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
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
        let choice = runner::choose(
            self.mode.requested(),
            self.workers.map(NonZeroUsize::get),
            plugin.description.hint,
            input.count,
            cores(),
        );
        eprintln!("runner: {}", choice.reason);
        let origin = Instant::now();
        let context = RunContext {
            plugin: plugin.clone(),
            config: Value::Object(config.clone()).to_string(),
            origin,
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let mut executor = runner::executor(&choice, context)?;

        let mut summary = Summary::default();
        let mut records = Vec::new();
        let mut output = Output::new(io::stdout().lock());
        let mut input_error = None;
        let mut next_id = 0;
        let mut tasks = input.values.map_while(|value| match value {
            Ok(input) => {
                next_id += 1;
                Some(Task {
                    id: next_id - 1,
                    input,
                })
            }
            Err(error) => {
                input_error = Some(error);
                None
            }
        });
        executor.execute(&mut tasks, &mut |event| match event.kind {
            EventKind::TaskFinished(record) => {
                summary.count(record.status);
                output.write(|reporter| reporter.task(&record));
                if self.json.is_some() {
                    records.push(record);
                }
            }
        })?;
        drop(tasks);
        summary.finish(origin.elapsed());
        output.write(|reporter| reporter.summary(&summary, &choice));

        if let Some(path) = &self.json {
            records.sort_by_key(|record| record.id);
            let report = report(&plugin, satisfied, config, choice, records, summary.clone());
            write_json_atomically(path, &report).map_err(|source| HostError::Report {
                path: path.clone(),
                source,
            })?;
            eprintln!("report written to {}", path.display());
        }
        output.finish()?;
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
        let duration = origin.elapsed();
        let mut record = TaskRecord {
            id: 0,
            input: Value::Null,
            status: Status::Ok,
            output: None,
            error: None,
            worker: 0,
            start_seconds: 0.0,
            duration_seconds: seconds(duration),
        };
        match spoken {
            Ok((name, sound)) => {
                let line = format!("{name} said {sound}");
                let mut stdout = io::stdout().lock();
                writeln!(stdout, "{line}")
                    .and_then(|()| stdout.flush())
                    .map_err(HostError::Output)?;
                record.output = Some(json!({"name": name, "sound": sound, "line": line}));
            }
            Err(error) => {
                eprintln!("{}: {error}", plugin.description.name);
                record.status = Status::Error;
                record.error = Some(error);
            }
        }
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
            write_json_atomically(path, &report).map_err(|source| HostError::Report {
                path: path.clone(),
                source,
            })?;
            eprintln!("report written to {}", path.display());
        }
        Ok(if summary.failed() == 0 {
            Outcome::Success
        } else {
            Outcome::TasksFailed
        })
    }
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

fn article(interface: Interface) -> &'static str {
    match interface {
        Interface::Animal => "an",
        Interface::Workload | Interface::Splittable => "a",
    }
}

/// Standard output through the human reporter. A closed pipe (`host run ... | head`) stops the
/// printing but not the run, so the report is still written; any other write error is reported
/// once the run is over.
struct Output<W: Write> {
    reporter: HumanReporter<W>,
    failure: Option<io::Error>,
}

impl<W: Write> Output<W> {
    fn new(out: W) -> Self {
        Output {
            reporter: HumanReporter::new(out),
            failure: None,
        }
    }

    fn write(&mut self, print: impl FnOnce(&mut HumanReporter<W>) -> io::Result<()>) {
        if self.failure.is_none() {
            if let Err(error) = print(&mut self.reporter) {
                self.failure = Some(error);
            }
        }
    }

    fn finish(self) -> Result<(), HostError> {
        match self.failure {
            Some(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                Err(HostError::Output(error))
            }
            _ => Ok(()),
        }
    }
}
