//! `host run --dry-run`: what the run would do, printed on stdout, and nothing run: the mode and
//! why, the workers and how they would start, whether tasks would be cut into parts, the limits,
//! and the first tasks of the input. The plugin was loaded (or probed) to know what it is; no
//! task, `split` or `merge` runs, and no worker starts.

use std::{fs::File, io::Write, time::Duration};

use crate::{
    cli::{Outcome, error::HostError, signals::TICK, stdio},
    input::TaskInput,
    plugin::PluginInfo,
    runner::{Choice, Mode, Polled, TaskSource, WorkerCommand, sys::human_duration},
    safe::Safe,
};

/// How many of the input's tasks a dry run shows.
const SHOWN_TASKS: usize = 5;

/// The longest stretch of a task's input shown.
const SHOWN_INPUT_CHARS: usize = 120;

/// What the run would do, as `host run` resolved it.
pub struct Plan<'a> {
    /// The plugin.
    pub plugin: &'a PluginInfo,
    /// The mode, workers and why.
    pub choice: &'a Choice,
    /// Whether tasks would be cut into parts.
    pub split: bool,
    /// How each worker process would start.
    pub workers_start: &'a WorkerCommand,
    /// `--retries`.
    pub retries: u32,
    /// `--timeout`.
    pub timeout: Option<Duration>,
}

/// Prints `plan` and the first tasks of `input` on `quack_stdout`.
pub fn show(
    plan: &Plan<'_>,
    input: &mut TaskInput,
    quack_stdout: &File,
) -> Result<Outcome, HostError> {
    let mut text = String::new();
    let choice = plan.choice;
    text.push_str(&format!(
        "dry run of {} ({}): nothing is run\n",
        Safe(&plan.plugin.description.name),
        Safe(&plan.plugin.path.display().to_string())
    ));
    text.push_str(&format!("mode:    {}\n", Safe(&choice.reason)));
    let start = match choice.mode {
        Mode::Inline => "the host's main thread, one plugin instance".to_owned(),
        Mode::Thread => "threads of the host, one plugin instance each".to_owned(),
        Mode::Process if plan.workers_start.has_launcher() => format!(
            "processes started through the launcher, each as: {}",
            Safe(&plan.workers_start.display())
        ),
        Mode::Process => format!(
            "processes on this machine, each started as: {}",
            Safe(&plan.workers_start.display())
        ),
    };
    text.push_str(&format!("workers: {start}\n"));
    text.push_str(&format!(
        "split:   {}\n",
        if plan.split {
            "yes: each task is cut by the plugin's split into parts spread over the workers, then merged (how many parts, only split says)"
        } else {
            "no: each task runs whole on one worker"
        }
    ));
    let timeout = plan.timeout.map_or_else(
        || "no time limit".to_owned(),
        |limit| format!("{} per attempt", human_duration(limit)),
    );
    text.push_str(&format!(
        "limits:  {timeout}, {} retr{} of a crashed or timed-out task\n",
        plan.retries,
        if plan.retries == 1 { "y" } else { "ies" }
    ));
    let (shown, more) = first_tasks(input);
    let count = match (input.count, more) {
        (Some(count), _) => format!("{count}"),
        (None, false) => format!("{}", shown.len()),
        (None, true) => "more than shown (a stream, counted as it runs)".to_owned(),
    };
    text.push_str(&format!("tasks:   {count}"));
    if !shown.is_empty() {
        text.push_str(&format!(", the first {}:\n", shown.len()));
    } else {
        text.push('\n');
    }
    for (id, input) in &shown {
        text.push_str(&format!("  {id:>4}  {}\n", Safe(input)));
    }
    let mut out = quack_stdout;
    stdio::ignore_closed(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
        .map_err(HostError::Output)?;
    Ok(Outcome::Success)
}

/// The ids and inputs of the first [`SHOWN_TASKS`] tasks (a failed line shows its reason), and
/// whether the input holds more. A stream is read only that far; a stopping signal ends the wait.
fn first_tasks(input: &mut TaskInput) -> (Vec<(u64, String)>, bool) {
    let mut shown = Vec::new();
    loop {
        if crate::cli::signals::cancelled().is_some() {
            return (shown, false);
        }
        match input.poll_task() {
            Polled::Ready(task) if shown.len() < SHOWN_TASKS => {
                shown.push((task.id, cut(task.input.as_str())));
            }
            Polled::Invalid(task, error) if shown.len() < SHOWN_TASKS => {
                shown.push((task.id, format!("(not a task: {error})")));
            }
            Polled::Ready(_) | Polled::Invalid(..) => return (shown, true),
            Polled::NotYet => std::thread::sleep(TICK),
            Polled::Done => return (shown, false),
        }
    }
}

/// `text` cut to [`SHOWN_INPUT_CHARS`], with `…` when it was.
fn cut(text: &str) -> String {
    let mut chars = text.chars();
    let kept: String = chars.by_ref().take(SHOWN_INPUT_CHARS).collect();
    if chars.next().is_some() {
        format!("{kept}…")
    } else {
        kept
    }
}
