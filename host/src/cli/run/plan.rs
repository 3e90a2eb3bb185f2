//! `host run`'s arguments resolved into what the run needs: [`RunPlan::resolve`] refuses options
//! that cannot go together, splits the launcher's words, builds the configuration object and makes
//! the `--json`, `--trace` and `--html` files (absolute, checked, their temporary files beside them). All of it happens before
//! the plugin is loaded, so nothing a plugin does to the process (its current directory, its
//! umask) changes what the command line meant.

use std::{
    ffi::OsString,
    num::NonZeroUsize,
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::{Map, Value};

use super::{
    args::{Format, ModeArg, RunArgs},
    output::{JunitFile, LogFiles, ReportTarget, TableRequest},
    pictures::Pictures,
};
use crate::{
    cli::{error::HostError, launch::Launch, signals::read_input},
    input::{InputFormat, TaskInput, lenient_task},
    interfaces::Role,
    plugin::PluginInfo,
    runner::{Limits, Mode, RunError, SplitPolicy, WorkersFlag},
    sandbox::{InForce, Policy, SandboxError},
};

/// Everything `host run` was asked to do, checked.
pub struct RunPlan {
    /// The plugin library, as given.
    pub plugin: PathBuf,
    /// Where the tasks come from.
    pub tasks: TaskSpec,
    /// `--config` merged with every `--set`.
    pub config: Map<String, Value>,
    /// The `--set` values written as bare words that read as JSON other than a string (`123`,
    /// `true`, `null`), by key: a plugin that wanted the text refuses them.
    pub scalar_sets: Vec<(String, Value)>,
    /// The mode asked for; `None` lets the runner choose.
    pub mode: Option<Mode>,
    /// `--workers` (`-j`, `--jobs`).
    pub workers: Option<NonZeroUsize>,
    /// How `--workers` was spelled.
    pub workers_flag: WorkersFlag,
    /// `--isolate`.
    pub isolate: bool,
    /// `--timeout`, `--retries`, `--max-fail`.
    pub timeout: Option<Duration>,
    /// How many times a crashed or timed-out task runs again.
    pub retries: u32,
    /// Stop handing out tasks once this many have failed.
    pub max_fail: Option<u64>,
    /// `--start-timeout`, when given.
    pub start_timeout: Option<Duration>,
    /// `--heartbeat-timeout`, when given (zero: none).
    pub heartbeat_timeout: Option<Duration>,
    /// Whether tasks may be cut into parts.
    pub split: SplitPolicy,
    /// The role asked for with `--as`.
    pub role: Option<Role>,
    /// What stdout shows.
    pub format: Format,
    /// Where `--json` writes the report, made before the run.
    pub report: Option<ReportTarget>,
    /// What `--trace` and `--html` draw, their files made before the run.
    pub pictures: Pictures,
    /// How workers start when they may run elsewhere (`--launcher`, `--slurm`).
    pub launch: Option<Launch>,
    /// `--worker-program`.
    pub worker_program: Option<PathBuf>,
    /// How the table looks.
    pub table: TableRequest,
    /// `--joblog` and `--junit`, opened before the run.
    pub logs: LogFiles,
    /// `--dry-run`: show the plan, run nothing.
    pub dry_run: bool,
    /// The options given that only a Workload takes, by their flags (an Animal refuses them).
    pub workload_options: Vec<&'static str>,
    /// `--sandbox`: the policy (its paths absolute) and what this machine enforces of it.
    pub sandbox: Option<(Policy, InForce)>,
}

/// Where a Workload's tasks come from.
pub enum TaskSpec {
    /// `--task`, each one JSON or a bare word.
    Given(Vec<String>),
    /// `--input FILE` (`-`: stdin) in its format, after the `--task` values given beside it.
    File(PathBuf, InputFormat, Vec<String>),
    /// The plugin's default input.
    Default,
}

impl RunPlan {
    /// Checks `args` and resolves them, before any plugin code runs.
    pub fn resolve(args: RunArgs) -> Result<Self, HostError> {
        if args.timeout.is_some() && args.mode == ModeArg::Inline {
            return Err(HostError::Usage("--timeout cannot be kept in inline mode, which cannot stop a running task; use --mode thread or --mode process".to_owned()));
        }
        if args.isolate && matches!(args.mode, ModeArg::Inline | ModeArg::Thread) {
            return Err(HostError::Usage(
                "--isolate runs the plugin in worker processes, so it goes with --mode process (or no --mode)"
                    .to_owned(),
            ));
        }
        if args.sandbox.sandbox.is_some() && matches!(args.mode, ModeArg::Inline | ModeArg::Thread)
        {
            return Err(HostError::Usage(
                "--sandbox runs the plugin in worker processes, so it goes with --mode process (or no --mode)"
                    .to_owned(),
            ));
        }
        let sandbox = match args.sandbox.policy() {
            None => None,
            Some(policy) => Some(sandbox_policy(policy)?),
        };
        let launch = Launch::from_args(
            launcher_words(args.launcher.as_deref())?,
            args.slurm,
            args.slurm_args.as_deref(),
        )?;
        if launch.is_some() && !matches!(args.mode, ModeArg::Auto | ModeArg::Process) {
            return Err(HostError::Usage(
                "--launcher and --slurm start worker processes, so they go with --mode process (or no --mode)"
                    .to_owned(),
            ));
        }
        let config = config_object(args.config.as_deref(), &args.sets)?;
        let logs = log_files(&args)?;
        let report = report_target(&args)?;
        let pictures = Pictures::resolve(
            args.trace.as_deref(),
            args.html.as_deref(),
            args.json.as_deref(),
        )?;
        let scalar_sets = args
            .sets
            .iter()
            .filter(|(key, value)| {
                matches!(value, Value::Number(_) | Value::Bool(_) | Value::Null)
                    && config.get(key) == Some(value)
            })
            .cloned()
            .collect();
        let workload_options = [
            ("--task", !args.tasks.is_empty()),
            ("--input", args.input.is_some()),
            ("--mode", args.mode != ModeArg::Auto),
            (args.workers_flag.as_str(), args.workers.is_some()),
            ("--isolate", args.isolate),
            ("--timeout", args.timeout.is_some()),
            ("--retries", args.retries > 0),
            ("--max-fail", args.max_fail.is_some()),
            ("--no-split", args.no_split),
            ("--launcher", args.launcher.is_some()),
            ("--slurm", args.slurm),
            ("--worker-program", args.worker_program.is_some()),
            ("--sandbox", sandbox.is_some()),
            ("--trace", args.trace.is_some()),
            ("--html", args.html.is_some()),
            ("--joblog", args.joblog.is_some()),
            ("--junit", args.junit.is_some()),
            ("--dry-run", args.dry_run),
            ("--slow-after", args.slow_after.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        let tasks = match (args.tasks, args.input) {
            (tasks, Some(path)) => {
                let format = args.input_format.for_path(&path);
                TaskSpec::File(path, format, tasks)
            }
            (tasks, None) if !tasks.is_empty() => TaskSpec::Given(tasks),
            _ => TaskSpec::Default,
        };
        Ok(RunPlan {
            plugin: args.plugin,
            tasks,
            config,
            scalar_sets,
            mode: args.mode.requested(),
            workers: args.workers,
            workers_flag: args.workers_flag,
            isolate: args.isolate,
            timeout: args.timeout,
            retries: args.retries,
            max_fail: args.max_fail,
            start_timeout: args.start_timeout,
            heartbeat_timeout: args.heartbeat_timeout,
            split: if args.no_split {
                SplitPolicy::Never
            } else {
                SplitPolicy::Auto
            },
            role: args.role.map(|role| role.role()),
            format: args.format,
            report,
            pictures,
            launch,
            worker_program: args.worker_program,
            table: TableRequest {
                width: args.width,
                keep_order: args.keep_order,
                retries: args.retries,
            },
            workload_options,
            sandbox,
            logs,
            dry_run: args.dry_run,
        })
    }

    /// Whether no plugin code may run in the host: `--isolate`, `--sandbox`, or workers through a
    /// launcher.
    pub fn isolated(&self) -> bool {
        self.isolate || self.launch.is_some() || self.sandbox.is_some()
    }

    /// Whether the tasks come from stdin (`--input -`).
    pub fn reads_stdin(&self) -> bool {
        matches!(&self.tasks, TaskSpec::File(path, ..) if path.as_os_str() == "-")
    }

    /// The limits of every task.
    pub fn limits(&self) -> Limits {
        Limits {
            timeout: self.timeout,
            retries: self.retries,
            max_fail: self.max_fail,
            start_timeout: crate::cli::launch::start_timeout(
                self.start_timeout,
                self.launch.as_ref(),
            ),
            lost_after: match self.heartbeat_timeout {
                None => Some(crate::runner::DEFAULT_LOST_AFTER),
                Some(span) if span.is_zero() => None,
                Some(span) => Some(span),
            },
        }
    }

    /// The tasks to run: those given, those of the input file, or the plugin's default input.
    pub fn task_input(&self, plugin: &PluginInfo) -> Result<TaskInput, HostError> {
        Ok(match &self.tasks {
            TaskSpec::Given(tasks) => {
                TaskInput::from_json(tasks.iter().map(|task| lenient_task(task)).collect())?
            }
            TaskSpec::File(path, format, given) => read_input(path, *format)?
                .after_given(given.iter().map(|task| lenient_task(task)).collect()),
            TaskSpec::Default => TaskInput::from_values(plugin.description.default_input.clone())?,
        })
    }

    /// The error of a run that failed, as the command says it: when the plugin refused its
    /// configuration and a `--set` value was read as a number, a boolean or null, the sentence
    /// says how to pass it as text instead (the plugin's description gives no types to go by).
    pub fn run_failed(&self, error: RunError) -> HostError {
        let refused = matches!(
            &error,
            RunError::Instance(refusal) if refusal.kind == quack_core::ErrorKind::InvalidInput
        );
        match self.scalar_sets.first() {
            Some((key, value)) if refused => {
                let kind = match value {
                    Value::Number(_) => "the number",
                    Value::Bool(_) => "the boolean",
                    _ => "JSON",
                };
                HostError::ConfigRefused {
                    error,
                    hint: format!(
                        "--set {key}={value} passes {kind} {value}; for the text, write --set '{key}=\"{value}\"'"
                    ),
                }
            }
            _ => error.into(),
        }
    }

    /// An Animal speaks once: the options about tasks, workers and limits mean nothing for it,
    /// and are refused rather than ignored.
    pub fn refuse_workload_options(&self, plugin: &PluginInfo) -> Result<(), HostError> {
        match self.workload_options.first() {
            Some(flag) => Err(HostError::Usage(format!(
                "{flag} means nothing for an Animal: {} speaks once, with no tasks or workers; leave it out",
                plugin.description.name
            ))),
            None => Ok(()),
        }
    }
}

/// `policy` with its paths made absolute (workers start in a directory of their own), checked
/// against what this machine can enforce before anything runs.
fn sandbox_policy(mut policy: Policy) -> Result<(Policy, InForce), HostError> {
    let absolute = |paths: &mut Vec<PathBuf>, flag: &str| -> Result<(), HostError> {
        for path in paths.iter_mut() {
            *path = std::fs::canonicalize(&*path).map_err(|error| {
                SandboxError::Grant(format!(
                    "{flag} {} cannot be granted: {error}; give a file or directory that exists",
                    path.display()
                ))
            })?;
        }
        Ok(())
    };
    absolute(&mut policy.read, "--allow-read")?;
    absolute(&mut policy.write, "--allow-write")?;
    let in_force = crate::sandbox::survey(&policy)?;
    Ok((policy, in_force))
}

/// The words of `--launcher`, split as a shell would.
fn launcher_words(text: Option<&str>) -> Result<Option<Vec<OsString>>, HostError> {
    let Some(text) = text else {
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
fn config_object(
    text: Option<&str>,
    sets: &[(String, Value)],
) -> Result<Map<String, Value>, HostError> {
    let mut config = match text {
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
    for (key, value) in sets {
        config.insert(key.clone(), value.clone());
    }
    Ok(config)
}

/// Where the report goes, checked and (for a file) made now, before anything runs.
fn report_target(args: &RunArgs) -> Result<Option<ReportTarget>, HostError> {
    Ok(match &args.json {
        None => None,
        Some(path) if path.as_os_str() == "-" => {
            if args.format == Format::Jsonl {
                return Err(HostError::Usage(
                    "--json - prints the report on stdout, where --format jsonl prints its lines too; use --format json, or give --json a file".to_owned(),
                ));
            }
            Some(ReportTarget::Stdout)
        }
        Some(path) => {
            // The report replaces its file: never the plugin's, never the tasks'.
            let same = |other: &Path| {
                let (Ok(a), Ok(b)) = (std::fs::canonicalize(path), std::fs::canonicalize(other))
                else {
                    return false;
                };
                a == b
            };
            for (other, what) in [
                (Some(args.plugin.as_path()), "the plugin"),
                (args.input.as_deref(), "the --input file"),
            ] {
                if other.is_some_and(same) {
                    return Err(HostError::Usage(format!(
                        "--json {} is {what} itself, which the report would replace; give the report another path",
                        path.display()
                    )));
                }
            }
            Some(ReportTarget::File(crate::report::file::ReportFile::create(
                path,
            )?))
        }
    })
}

/// Whether `path` and `other` name the same existing file.
fn same_file(path: &Path, other: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(other)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `--joblog` and `--junit`, checked and opened now: neither may be the plugin, the input, the
/// report or the other one, which it would overwrite.
fn log_files(args: &RunArgs) -> Result<LogFiles, HostError> {
    let others = [
        (Some(args.plugin.as_path()), "the plugin"),
        (args.input.as_deref(), "the --input file"),
        (args.json.as_deref(), "the --json report"),
    ];
    let check = |flag: &str, path: &Path, also: Option<(&Path, &str)>| {
        for (other, what) in others
            .iter()
            .copied()
            .chain(also.map(|(p, w)| (Some(p), w)))
        {
            if other.is_some_and(|other| other == path || same_file(path, other)) {
                return Err(HostError::Usage(format!(
                    "{flag} {} is {what} itself, which it would overwrite; give it another path",
                    path.display()
                )));
            }
        }
        Ok(())
    };
    let joblog = match &args.joblog {
        None => None,
        Some(path) => {
            check("--joblog", path, None)?;
            let file = std::fs::File::create(path).map_err(|source| HostError::LogFile {
                flag: "--joblog",
                path: path.clone(),
                source,
            })?;
            Some((path.clone(), file))
        }
    };
    let junit = match &args.junit {
        None => None,
        Some(path) => {
            check(
                "--junit",
                path,
                args.joblog
                    .as_deref()
                    .map(|joblog| (joblog, "the --joblog file")),
            )?;
            Some(JunitFile::create(path)?)
        }
    };
    Ok(LogFiles {
        joblog,
        junit,
        slow_after: args.slow_after,
    })
}
