//! `host run`'s command line as clap parses it: [`RunArgs`] and the values of its options. It
//! only parses; `plan.rs` turns it into what the run needs.

use std::{num::NonZeroUsize, path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::{
    cli::duration::{parse_duration, parse_span},
    input::{InputFormat, lenient_json},
    interfaces::Role,
    runner::{Mode, WorkersFlag},
};

const RUN_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so
  host run plugins/libfactorize.so --task 600851475143 --set method=sqrt
  host run plugins/libfactorize.so --mode process --workers 2 --json report.json
  host run plugins/libfactorize.so --workers 2 --trace run.trace.json   (Perfetto, chrome://tracing)
  host run plugins/libfactorize.so --workers 2 --html run.html          (one file, any browser)
  host run plugins/libslow_io.so --input tasks.jsonl --format jsonl
  find . -name '*.txt' | host run ./libcount_words.so --input - --input-format lines
  host run plugins/libfactorize.so --no-split --input parts.csv (a header row: n,from,to)
  host run plugins/libfactorize.so --task 12 --input more.jsonl  (12 runs first, as task 0)
  host run plugins/libfactorize.so --isolate --timeout 2s --retries 1
  host run plugins/libslow_io.so --task 5 --slow-after 2s       (SLOW [> 2s] task 0 ...)
  host run plugins/libfactorize.so --joblog run.log --junit junit.xml   (tail -f run.log)
  host run plugins/libfactorize.so --slurm --workers 4 --dry-run
  host run plugins/libfactorize.so --launcher 'ssh node1' --workers 4
  host run plugins/libfactorize.so --slurm --workers 2 --slurm-args '-p debug -t 10'
  host run plugins/libduck.so --set name=Donald
  host run plugins/libfactorize.so --sandbox --memory 512M     (docs/sandbox.md)
  host run plugins/libslow_io.so --sandbox --allow-read data --allow-write out --allow-net
  host run plugins/python/factorize.py                (a program plugin: docs/program-plugins.md)
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
protocol's); what a plugin prints there reaches stderr as `[worker N] line`. A program plugin
(a file starting with #!) is started by the host and spoken to on its file descriptors 3 and 4;
auto mode runs one in each worker process.

Sandbox (--sandbox, process mode): each worker restricts itself before it loads the plugin (a
program plugin: before the program starts), for good. By default a sandboxed plugin may read
the system's libraries and programs (/usr, /lib*, /bin), its own file and the host binary, and
write only its private scratch directory (its current directory, HOME and TMPDIR, removed at
the end), so ~ is not readable; no network, no child processes, no signals to anything outside
its worker, no ptrace, no raising its own limits, no memory limit. --allow-read,
--allow-write, --allow-net, --max-procs and --memory widen or bound that. A machine that cannot
enforce it all (no Landlock, no seccomp, no pids cgroup for --max-procs) is refused with exit
code 24 naming what is missing, unless --sandbox=best-effort, which runs with what it can
enforce and says what it left out; a grant of a path that does not exist is exit code 25. The
runner's line (and the report's runner.reason) says which restrictions were in force.";

/// The most workers `--workers` accepts: far more than any machine has cores, and a ceiling on
/// threads and processes a typing mistake could otherwise start.
pub const MAX_WORKERS: usize = 1024;

/// Run a plugin: a Workload's tasks, or make an Animal speak.
#[derive(Debug, Args)]
#[command(after_help = RUN_EXAMPLES)]
pub struct RunArgs {
    /// The plugin: a library (plugins/libfactorize.so) or a program starting with #!
    /// (plugins/python/factorize.py)
    pub plugin: PathBuf,

    /// Read tasks from FILE ('-' for standard input), written as --input-format says. Without
    /// --input or --task, the plugin's default input runs.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// How --input's tasks are written. json: one JSON value per line, each a task (streamed; a
    /// line `[1, 2]` is one task), or one JSON array of tasks that goes on past its first line
    /// (as `jq .` writes it). lines: each line one task, a string (its line ending left out).
    /// csv: a header row of column names, then each row one task, an object of those names (a
    /// value is JSON when it reads as JSON, as with --set: 12, true, null; else text). In every
    /// format blank lines are skipped, and a line or row that cannot be a task is a failed task
    /// of its own. auto goes by the file's name alone: NAME.csv is csv, NAME.txt is lines,
    /// anything else (standard input too) json.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InputFormatArg::Auto, requires = "input")]
    pub input_format: InputFormatArg,

    /// One task as JSON (a bare word is taken as a string); repeat for more tasks. Beside
    /// --input, these run first (ids from 0), then the input's tasks.
    #[arg(long = "task", value_name = "JSON", allow_hyphen_values = true)]
    pub tasks: Vec<String>,

    /// Set one configuration key (VALUE is JSON, or a string); repeat for more. Applied after
    /// --config.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub sets: Vec<(String, Value)>,

    /// The plugin's configuration as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub config: Option<String>,

    /// How to run the tasks. auto picks from the plugin's hint, its wish for isolation and the
    /// number of tasks, and says why on stderr.
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    pub mode: ModeArg,

    /// How many workers (threads or processes), 1 to 1024; by default chosen with the mode.
    /// -j and --jobs are the same option, as in make, cargo, xargs and parallel.
    #[arg(short = 'j', long, visible_alias = "jobs", value_name = "N", value_parser = parse_workers)]
    pub workers: Option<NonZeroUsize>,

    /// How the user spelled --workers (set from the raw command line, see [`workers_flag`]).
    #[arg(skip)]
    pub workers_flag: WorkersFlag,

    /// Run the plugin in worker processes only, so that a crash fails only the task that caused
    /// it: no plugin code runs in the host, not even its loading (split and merge run in a worker
    /// too). Without it, a segfault or stack overflow in thread or inline mode ends the host.
    #[arg(long)]
    pub isolate: bool,

    /// Time limit per task attempt, e.g. 500ms, 2s, 1m (at most a year). In process mode the worker is stopped
    /// (SIGTERM, then SIGKILL) and replaced; a thread cannot be stopped, so in thread mode the
    /// task is reported `timeout`, its thread is abandoned and a new one takes its place.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Print one line on stderr for each attempt still running after DURATION, e.g. 10s or 1m
    /// (as nextest's SLOW does): `SLOW [> 10s] task 3 (attempt 1, worker 0) is still running`.
    /// The task goes on (--timeout stops it).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub slow_after: Option<Duration>,

    /// Run a task that crashed or timed out again, up to N more times; the report keeps every
    /// attempt.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,

    /// What to print on stdout: a table, the JSON report at the end, or one JSON object per task
    /// as it finishes and a summary (JSON Lines; memory stays flat however many tasks run).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Stop handing out tasks once N tasks have failed (like nextest's --max-fail); the tasks
    /// left are reported `not-run`. Worker processes then take one task at a time.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_fail: Option<u64>,

    /// Never cut tasks into parts, even for a Splittable plugin.
    #[arg(long)]
    pub no_split: bool,

    /// Run a plugin that is several things as this one (a plugin with `run` and with `name` and
    /// `sound` is a Workload and an Animal; without --as it runs as a Workload, and says so).
    #[arg(long = "as", value_enum, value_name = "INTERFACE")]
    pub role: Option<RoleArg>,

    /// Also write the full JSON report to PATH (checked before the run; written whole or not at
    /// all, renamed into place at the end; a symbolic link is written through; '-' means
    /// standard output).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Also write the run as a Chrome trace-event file to FILE, drawn from its report (open it in
    /// https://ui.perfetto.dev or chrome://tracing; `host report --help` says what it holds).
    /// Checked before the run; the report is kept in memory until the end to draw it.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Also write the run as one self-contained HTML page to FILE, drawn from its report: the
    /// summary and the mode's reason, the workers' timeline, busy shares, task times with the
    /// slow tail, the failed tasks (`host report --help` says more). Checked before the run.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write a line for each attempt to FILE as it finishes, flushed at once, so `tail -f FILE`
    /// follows the run: tab-separated with a header, GNU parallel's --joblog columns (Seq, Host,
    /// Starttime, JobRuntime, Send, Receive, Exitval, Signal, Command) and then Quack's (Task,
    /// Attempt, Worker, Status, Error). Tabs, newlines and control characters in a field are
    /// written as escapes (\t, \n, \u{1b}), so a line is always one attempt.
    #[arg(long, value_name = "FILE")]
    pub joblog: Option<PathBuf>,

    /// Write the run as JUnit XML to FILE when it ends, for CI systems: a testcase per task
    /// (named `task ID: INPUT`), a failure for `error`, an error for `crashed` and `timeout`,
    /// skipped for `cancelled` and `not-run`, each with its reason.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Show what the run would do and run nothing: the mode and why, the workers and how they
    /// would start (the worker command, through --launcher or srun), whether tasks would be cut
    /// into parts, and the first tasks. The plugin is loaded (or, isolated, probed) to know what
    /// it is; no task, split or merge runs and no worker starts.
    #[arg(long, conflicts_with_all = ["json", "joblog", "junit", "trace", "html"])]
    pub dry_run: bool,

    /// Start every worker process through this launcher: its words go before the worker command
    /// (`host worker`), e.g. 'ssh node1'. COMMAND is split as a shell splits words: quote a word
    /// with spaces inside COMMAND ('ssh -o "ProxyJump gw" node1'); no variables, globs or pipes
    /// are expanded. The plugin is sent to workers that do not have it. Implies process mode.
    #[arg(long, value_name = "COMMAND", allow_hyphen_values = true)]
    pub launcher: Option<String>,

    /// Start every worker as a Slurm job step (srun, one task each). Inside an allocation
    /// (sbatch, salloc) the steps use it and --workers defaults to its task count; outside one,
    /// each srun asks for a job. Implies process mode.
    #[arg(long, conflicts_with = "launcher")]
    pub slurm: bool,

    /// More srun flags for --slurm, as shell words, e.g. '-p debug -t 60 -A myproject'.
    #[arg(
        long,
        value_name = "ARGS",
        requires = "slurm",
        allow_hyphen_values = true
    )]
    pub slurm_args: Option<String>,

    /// How long each worker may take to start, e.g. 30s or 10m: to load the plugin and say hello.
    /// Default 30s, and 300s with --launcher or --slurm, where a batch queue may be slow.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub start_timeout: Option<Duration>,

    /// How long a worker process may send nothing before it is lost, e.g. 10s (0: never).
    /// Workers say they are alive several times in that span from a thread of their own, however
    /// busy their task; a lost worker (its node died or was cut off, its process stopped) is
    /// stopped and its task crashed, to run again with --retries. Default 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_heartbeat_timeout)]
    pub heartbeat_timeout: Option<Duration>,

    /// The program workers run (default: this host binary); it must be a Quack host of the same
    /// version. Useful with --launcher when the host lives elsewhere on the other machine.
    #[arg(long, value_name = "PATH")]
    pub worker_program: Option<PathBuf>,

    // --sandbox and its grants and limits (cli/sandbox.rs).
    #[command(flatten)]
    pub sandbox: crate::cli::sandbox::SandboxArgs,

    // The table's look (logic in report/human.rs and cli/verbosity.rs).
    /// Print the table in task order (as GNU parallel -k does), not as tasks finish.
    #[arg(long)]
    pub keep_order: bool,

    /// Cut table lines to N columns (0: never). By default: the terminal's width (or COLUMNS)
    /// when stdout is a terminal, else never.
    #[arg(long, value_name = "N", hide = true)]
    pub width: Option<usize>,
}

/// The values of `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Let the runner choose from the plugin's hint and the tasks.
    Auto,
    /// One task after another on the main thread.
    Inline,
    /// A pool of threads, one plugin instance each.
    Thread,
    /// Worker processes (the host re-run), one plugin instance each; crashes stay contained.
    Process,
}

/// The values of `--input-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    /// By the file's name: .csv is csv, .txt is lines, anything else json.
    Auto,
    /// JSON Lines, or one JSON array of tasks.
    Json,
    /// Each line a string task.
    Lines,
    /// A header row, then each row an object task.
    Csv,
}

impl InputFormatArg {
    /// The format `path` is read in.
    pub fn for_path(self, path: &std::path::Path) -> InputFormat {
        match self {
            InputFormatArg::Auto => InputFormat::by_name(path),
            InputFormatArg::Json => InputFormat::Json,
            InputFormatArg::Lines => InputFormat::Lines,
            InputFormatArg::Csv => InputFormat::Csv,
        }
    }
}

/// The values of `--as`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
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
    /// The mode asked for; `None` lets the runner choose.
    pub fn requested(self) -> Option<Mode> {
        match self {
            ModeArg::Auto => None,
            ModeArg::Inline => Some(Mode::Inline),
            ModeArg::Thread => Some(Mode::Thread),
            ModeArg::Process => Some(Mode::Process),
        }
    }
}

impl RoleArg {
    /// The role asked for.
    pub fn role(self) -> Role {
        match self {
            RoleArg::Workload => Role::Workload,
            RoleArg::Animal => Role::Animal,
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

/// `--heartbeat-timeout`: a duration of at least 100 ms, or 0 for none.
fn parse_heartbeat_timeout(text: &str) -> Result<Duration, String> {
    match parse_span(text)? {
        span if span.is_zero() => Ok(span),
        span if span < Duration::from_millis(100) => Err(format!(
            "`{text}` is too short for workers to say they are alive; give 100ms or more, or 0 for no limit"
        )),
        _ => parse_duration(text),
    }
}

/// How the last `--workers` of `argv` (the whole command line, program name first) was spelled:
/// `--workers`, `--jobs` or `-j`. The words are read as clap reads them, by `command`'s own
/// definition (the top-level command and its `run` subcommand), so a value that merely looks like
/// a flag (`--task -j`) is skipped as the value it is.
pub fn workers_flag(command: &clap::Command, argv: &[std::ffi::OsString]) -> WorkersFlag {
    let run = command.find_subcommand("run");
    let args = || {
        command
            .get_arguments()
            .chain(run.into_iter().flat_map(clap::Command::get_arguments))
    };
    let by_long = |name: &str| {
        args().find(|arg| {
            arg.get_long() == Some(name)
                || arg
                    .get_all_aliases()
                    .is_some_and(|aliases| aliases.contains(&name))
        })
    };
    let by_short = |letter: char| args().find(|arg| arg.get_short() == Some(letter));
    let mut typed = WorkersFlag::default();
    let mut words = argv.iter().skip(1).filter_map(|word| word.to_str());
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            let Some(arg) = by_long(name) else { continue };
            if arg.get_id() == "workers" {
                typed = if name == "jobs" {
                    WorkersFlag::Jobs
                } else {
                    WorkersFlag::Workers
                };
            }
            if arg.get_action().takes_values() && !attached {
                words.next();
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|shorts| !shorts.is_empty()) {
            for (at, letter) in shorts.char_indices() {
                let Some(arg) = by_short(letter) else { break };
                if arg.get_id() == "workers" {
                    typed = WorkersFlag::J;
                }
                if arg.get_action().takes_values() {
                    // The rest of the word is the value, or else the next word is.
                    if at + letter.len_utf8() == shorts.len() {
                        words.next();
                    }
                    break;
                }
            }
        }
    }
    typed
}
