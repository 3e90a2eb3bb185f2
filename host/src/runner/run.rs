//! [`Run`]: the runner's one entry point. Plugin, configuration, mode (auto or forced), workers,
//! limits, split policy and how workers start go in; a stream of [`Event`]s comes out, and a
//! [`RunOutcome`] with the summary at the end.
//!
//! A run goes: choose (mode, workers, why) -> split (for a Splittable plugin, when it pays) ->
//! execute -> report every task that never started, with the reason -> summary. Every task handed
//! to a run ends with exactly one final record whatever happens: when the run itself fails (a
//! worker that cannot be replaced, a plugin that will not start), the tasks left get the status
//! `not-run` and the reason, and `RunFinished` still comes last.
//!
//! An Animal's speech is a run too ([`Run::speak`]): one task, inline, whose call asks `name` and
//! `sound` instead of `run`.

use std::{
    cell::RefCell,
    fmt, io,
    sync::{Arc, OnceLock, atomic::AtomicBool, atomic::Ordering},
    time::{Duration, Instant},
};

use serde_json::{Map, Value};

use super::{
    Choice, Event, EventKind, Executor, Limits, Mode, NodeName, Request, RunContext, RunEnd,
    RunError, Summary, Task, TaskRecord, WorkerCommand,
    choose::{WorkersFlag, choose},
    inline::InlineExecutor,
    outbox::{Outbox, Stop, TICK},
    process::ProcessExecutor,
    source::{Fed, Incoming, Polled, TaskFeed, TaskSource, wait_ready},
    speech::SPEECH_REASON,
    split::{SplitState, Splitter, worth_splitting},
    sys::cores,
    thread::ThreadExecutor,
};
use crate::{
    interfaces::{self, Interface},
    plugin::Plugin,
};

/// Whether tasks of a Splittable plugin may be cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SplitPolicy {
    /// When it pays: more than one worker and few tasks per worker.
    #[default]
    Auto,
    /// Never.
    Never,
}

/// Receives a run's events, in order; the CLI's reporters implement it, and so does any
/// `FnMut(&Event)` returning `()` (never stops) or a [`Flow`].
pub trait Reporter {
    /// Handles one event, and says whether the run should go on. After a [`Flow::Stop`] the run
    /// hands out no more tasks and stops its workers as a signal does; the events of the tasks it
    /// stops, and `RunFinished`, still come (and may be dropped).
    fn report(&mut self, event: &Event) -> Flow;

    /// Whether this reporter looks at [`EventKind::TaskStarted`], asked once when the run
    /// starts. One per task costs a run of trivial tasks real time, so a reporter that ignores
    /// them says so and the run does not make them. The default is yes.
    fn wants_task_started(&self) -> bool {
        true
    }
}

impl<F, R> Reporter for F
where
    F: FnMut(&Event) -> R,
    R: Into<Flow>,
{
    fn report(&mut self, event: &Event) -> Flow {
        self(event).into()
    }
}

/// What a [`Reporter`] says after each event: go on, or stop the run (as ripgrep's `Sink`
/// returns whether to keep searching).
#[must_use = "a reporter's Stop must reach the run"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop the run, for this reason: the tasks not finished are `cancelled`, and the run ends
    /// with [`RunEnd::Stopped`].
    Stop(Quit),
}

impl From<()> for Flow {
    fn from((): ()) -> Self {
        Flow::Continue
    }
}

impl Flow {
    /// The flow of a reporter whose writing failed with `failure` (if it did): a reader that
    /// went away (`EPIPE`) stops the run; any other error goes on (the reporter says so at the
    /// end).
    pub fn after_write(failure: Option<&io::Error>) -> Flow {
        match failure {
            Some(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                Flow::Stop(Quit::OutputClosed)
            }
            _ => Flow::Continue,
        }
    }

    /// The first stop of `self` and `other`: for a reporter made of several.
    pub fn and(self, other: Flow) -> Flow {
        match self {
            Flow::Continue => other,
            stop => stop,
        }
    }
}

/// Why a reporter stopped a run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quit {
    /// The reader of the output went away (`host run ... | head -1`: a closed pipe). The CLI
    /// ends quietly then, as a shell tool ends on SIGPIPE.
    OutputClosed,
}

impl fmt::Display for Quit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quit::OutputClosed => f.write_str("its output was closed (the reader went away)"),
        }
    }
}

/// Stops a run from another thread as a reporter's [`Flow::Stop`] does: e.g. a watcher that sees
/// the output's reader go away while every worker is busy with a long task. It sets the same
/// cancel flag as a signal; whichever comes first says how the run ended.
#[derive(Debug, Clone)]
pub struct Stopper {
    cancel: Arc<AtomicBool>,
    quit: Arc<OnceLock<Quit>>,
}

impl Stopper {
    /// Asks the run to stop for `quit`.
    pub fn stop(&self, quit: Quit) {
        if !self.cancel.load(Ordering::SeqCst) {
            let _ = self.quit.set(quit);
        }
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// How a run went: what it chose, what it counted, how it ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// The mode, workers and reason.
    pub choice: Choice,
    /// Counts and times.
    pub summary: Summary,
    /// How it ended.
    pub end: RunEnd,
    /// Why it could not go on, when it could not.
    pub error: Option<RunError>,
}

/// What the tasks of a run are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    /// Each task is one call of `run`.
    Tasks,
    /// One task, an Animal's speech: a call of `name` and of `sound`.
    Speech,
}

/// One run of a plugin's tasks. Build it, then [`execute`](Run::execute) it (or, for an Animal,
/// [`speak`](Run::speak)).
#[derive(Debug, Clone)]
pub struct Run {
    plugin: Plugin,
    job: Job,
    config: Map<String, Value>,
    mode: Option<Mode>,
    workers: Option<usize>,
    workers_flag: WorkersFlag,
    isolate: bool,
    limits: Limits,
    split: SplitPolicy,
    worker_command: Option<WorkerCommand>,
    cancel: Arc<AtomicBool>,
    /// Why a reporter or a [`Stopper`] stopped the run, when one did.
    quit: Arc<OnceLock<Quit>>,
}

impl Run {
    /// A run of `plugin` (loaded here, or known from a probe) with an empty configuration, the
    /// mode chosen automatically.
    pub fn new(plugin: impl Into<Plugin>) -> Self {
        Run {
            plugin: plugin.into(),
            job: Job::Tasks,
            config: Map::new(),
            mode: None,
            workers: None,
            workers_flag: WorkersFlag::default(),
            isolate: false,
            limits: Limits::default(),
            split: SplitPolicy::Auto,
            worker_command: None,
            cancel: Arc::new(AtomicBool::new(false)),
            quit: Arc::default(),
        }
    }

    /// The plugin's configuration (a JSON object).
    pub fn config(mut self, config: Map<String, Value>) -> Self {
        self.config = config;
        self
    }

    /// The mode; `None` lets the run choose.
    pub fn mode(mut self, mode: Option<Mode>) -> Self {
        self.mode = mode;
        self
    }

    /// How many workers; `None` lets the run choose.
    pub fn workers(mut self, workers: Option<usize>) -> Self {
        self.workers = workers;
        self
    }

    /// How the number of workers was asked for (`--workers`, `-j`, `--jobs`), for the reason.
    pub fn workers_flag(mut self, flag: WorkersFlag) -> Self {
        self.workers_flag = flag;
        self
    }

    /// Whether the user asked for worker processes (`--isolate`).
    pub fn isolate(mut self, isolate: bool) -> Self {
        self.isolate = isolate;
        self
    }

    /// Time limit and retries.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether tasks may be cut into parts.
    pub fn split(mut self, split: SplitPolicy) -> Self {
        self.split = split;
        self
    }

    /// How worker processes start; needed for process mode.
    pub fn worker_command(mut self, command: WorkerCommand) -> Self {
        self.worker_command = Some(command);
        self
    }

    /// The flag that stops the run when set (e.g. by Ctrl-C).
    pub fn cancel_flag(mut self, cancel: Arc<AtomicBool>) -> Self {
        self.cancel = cancel;
        self
    }

    /// A handle that stops this run from another thread (take it after
    /// [`cancel_flag`](Run::cancel_flag), whose flag it sets).
    pub fn stopper(&self) -> Stopper {
        Stopper {
            cancel: Arc::clone(&self.cancel),
            quit: Arc::clone(&self.quit),
        }
    }

    /// What the run will do with `tasks` tasks (if known): the mode, workers and reason, and
    /// whether tasks are cut into parts.
    pub fn plan(&self, tasks: Option<usize>) -> (Choice, bool) {
        if self.job == Job::Speech {
            let choice = Choice {
                mode: Mode::Inline,
                workers: 1,
                reason: SPEECH_REASON.to_owned(),
                launcher: None,
            };
            return (choice, false);
        }
        let splittable = interfaces::check_one(Interface::Splittable, &self.plugin.info().methods);
        let may_split = self.split == SplitPolicy::Auto && splittable.satisfied();
        let request = Request {
            mode: self.mode,
            workers: self.workers,
            workers_flag: self.workers_flag,
            isolate: self.isolate,
            sandbox: self
                .worker_command
                .as_ref()
                .is_some_and(|command| command.sandbox().is_some()),
            plugin_isolates: self.plugin.info().description.isolate,
            plugin_runtime: self.plugin.info().description.runtime.clone(),
            program: self.plugin.info().is_program(),
            timeout: self.limits.timeout.is_some(),
            launcher: self
                .worker_command
                .as_ref()
                .is_some_and(WorkerCommand::has_launcher),
            splittable: may_split,
        };
        let mut choice = choose(request, self.plugin.info().description.hint, tasks, cores());
        let split = worth_splitting(may_split, choice.workers, tasks);
        if split {
            // Said before any task is split, so it promises nothing: a `split` may return one part.
            let which = if tasks == Some(1) { "the" } else { "a" };
            choice.reason.push_str(&format!(
                "; the plugin is Splittable: {which} task is spread over the workers when its `split` makes several parts"
            ));
        } else if self.split == SplitPolicy::Auto && looks_splittable(&self.plugin.info().methods) {
            if let Some(why) = not_splittable_because(&splittable) {
                choice.reason.push_str(&format!(
                    "; tasks are not cut into parts: the plugin has `split` and `merge`, but {why}"
                ));
            }
        }
        if choice.mode == Mode::Process {
            if let Some(command) = &self.worker_command {
                if let Some(place) = command.place() {
                    choice.reason.push_str(&format!("; workers run {place}"));
                }
                if let Some(sandbox) = command.sandbox() {
                    choice
                        .reason
                        .push_str(&format!("; each worker is sandboxed: {}", sandbox.in_force));
                }
                choice.launcher = command.launcher_display();
            }
        }
        (choice, split)
    }

    /// Makes the plugin, an Animal, speak once: a run of one task, inline, whose result is a
    /// [`Speech`](super::Speech) (task 0, input `null`), with the events, the record and the
    /// summary of any run. A configuration the plugin refuses fails the run as it fails any other.
    pub fn speak(mut self, reporter: &mut dyn Reporter) -> RunOutcome {
        self.job = Job::Speech;
        let mut speech = std::iter::once(Task::new(0, Value::Null));
        self.execute(&mut speech, reporter)
    }

    /// Runs every task of `tasks`, sending each event to `reporter`, from `RunStarted` to
    /// `RunFinished`.
    pub fn execute(self, tasks: &mut dyn TaskSource, reporter: &mut dyn Reporter) -> RunOutcome {
        let origin = Instant::now();
        let (choice, split) = self.plan(tasks.len_hint());
        let halt = Arc::new(std::sync::OnceLock::new());
        let task_started = reporter.wants_task_started();
        let emitter = RefCell::new(Emitter {
            task_started,
            reporter,
            summary: Summary::default(),
            origin,
            max_fail: self.limits.max_fail,
            halt: Arc::clone(&halt),
            stopper: self.stopper(),
        });
        emitter.borrow_mut().emit(EventKind::RunStarted {
            choice: choice.clone(),
            tasks: tasks.len_hint(),
            split,
        });
        let context = RunContext {
            plugin: self.plugin.clone(),
            config: Value::Object(self.config.clone()).to_string(),
            origin,
            cancel: Arc::clone(&self.cancel),
            quit: Arc::clone(&self.quit),
            halt: Arc::clone(&halt),
            thread_failures: Arc::default(),
            limits: self.limits,
        };
        let mut feed = Checked {
            source: tasks,
            emitter: &emitter,
        };
        let split_state = RefCell::new(SplitState::new(choice.workers));
        let result = self.execute_with(&choice, split, &context, &mut feed, &split_state);
        // No process a task started outlives the run.
        super::orphans::reap();
        let end = match &result {
            Err(error) => RunEnd::Failed(error.to_string()),
            Ok(()) if self.cancel.load(Ordering::Relaxed) => match self.quit.get() {
                Some(quit) => RunEnd::Stopped(quit.clone()),
                None => RunEnd::Interrupted,
            },
            Ok(()) if halt.get().is_some() => {
                RunEnd::Halted(halt.get().cloned().unwrap_or_default())
            }
            Ok(()) => RunEnd::Completed,
        };
        // What never started: tasks still in the input, and split tasks with parts not run.
        if let Some(stop) = match &end {
            RunEnd::Completed => None,
            RunEnd::Interrupted => Some(Stop::Interrupted),
            RunEnd::Stopped(quit) => Some(Stop::Stopped(quit.to_string())),
            RunEnd::Failed(reason) | RunEnd::Halted(reason) => Some(Stop::Failed(reason.clone())),
        } {
            for record in split_state.borrow_mut().unfinished(&stop, origin) {
                emitter.borrow_mut().finished(record);
            }
            feed.drain(&stop, &self.cancel);
        }
        let mut emitter = emitter.into_inner();
        let mut summary = std::mem::take(&mut emitter.summary);
        summary.finish(origin.elapsed());
        emitter.emit(EventKind::RunFinished {
            summary: summary.clone(),
            end: end.clone(),
        });
        RunOutcome {
            choice,
            summary,
            end,
            error: result.err(),
        }
    }

    /// Makes the executor (and the splitter) and runs the tasks of `feed`.
    fn execute_with(
        &self,
        choice: &Choice,
        split: bool,
        context: &RunContext,
        feed: &mut Checked<'_, '_, '_>,
        split_state: &RefCell<SplitState>,
    ) -> Result<(), RunError> {
        let mut executor: Box<dyn Executor> = match choice.mode {
            Mode::Inline if self.job == Job::Speech => {
                Box::new(InlineExecutor::speaking(context.clone())?)
            }
            Mode::Inline => Box::new(InlineExecutor::new(context.clone())?),
            Mode::Thread => Box::new(ThreadExecutor::new(context.clone(), choice.workers)),
            Mode::Process => {
                let command = self
                    .worker_command
                    .clone()
                    .ok_or(RunError::NoWorkerCommand)?;
                Box::new(ProcessExecutor::new(
                    context.clone(),
                    choice.workers,
                    command,
                ))
            }
        };
        let emitter = feed.emitter;
        let task_started = emitter.borrow().task_started;
        // Worker processes say their node when they start; threads and inline run here.
        let local_node = (choice.mode != Mode::Process)
            .then(super::sys::host_name)
            .flatten()
            .map(|name| NodeName::new(&name));
        if !split {
            let mut sink = |event: Event| emitter.borrow_mut().forward(event);
            let mut outbox =
                Outbox::new(context.origin, &mut sink, task_started).local_node(local_node);
            return executor.execute(feed, &mut outbox);
        }
        let splitter = match Splitter::new(context, self.worker_command.as_ref()) {
            Ok(splitter) => RefCell::new(splitter),
            // Stopped while its worker started: the run ends with every task not run.
            Err(_) if context.stop_requested().is_some() => return Ok(()),
            Err(error) => return Err(error),
        };
        let unsplit = |record| emitter.borrow_mut().finished(record);
        let mut parts = splitter
            .borrow()
            .parts(feed, split_state, &splitter, &unsplit);
        let mut sink = |event: Event| {
            if let Some(event) = split_state.borrow_mut().pass(event, &splitter) {
                emitter.borrow_mut().forward(event);
            }
        };
        let mut outbox =
            Outbox::new(context.origin, &mut sink, task_started).local_node(local_node);
        executor.execute(&mut parts, &mut outbox)
    }
}

/// Whether the plugin has methods named like a Splittable's, whatever their signatures.
fn looks_splittable(methods: &[crate::interfaces::Signature]) -> bool {
    ["split", "merge"]
        .iter()
        .all(|name| methods.iter().any(|method| method.name == *name))
}

/// What a plugin that looks Splittable lacks, in words: `None` when it lacks nothing.
fn not_splittable_because(check: &interfaces::InterfaceCheck) -> Option<String> {
    (!check.satisfied()).then(|| format!("Splittable needs {}", check.missing.join(" and ")))
}

/// Where a run's events go: the reporter, after the summary has counted them.
struct Emitter<'r> {
    reporter: &'r mut dyn Reporter,
    /// Whether the reporter wants `TaskStarted` events.
    task_started: bool,
    summary: Summary,
    origin: Instant,
    /// `--max-fail`: how many failed tasks stop the run.
    max_fail: Option<u64>,
    /// Set with the reason when they have.
    halt: Arc<std::sync::OnceLock<String>>,
    /// What a reporter's [`Flow::Stop`] goes through.
    stopper: Stopper,
}

impl Emitter<'_> {
    fn emit(&mut self, kind: EventKind) {
        let event = Event {
            elapsed: self.origin.elapsed(),
            kind,
        };
        self.forward(event);
    }

    fn forward(&mut self, event: Event) {
        if let EventKind::TaskFinished(record) = &event.kind {
            self.summary.count(record.status);
            if let Some(most) = self.max_fail {
                let failed = self.summary.failed() - self.summary.not_run - self.summary.cancelled;
                if failed >= most && self.halt.get().is_none() {
                    let _ = self.halt.set(super::max_fail_reason(failed, most));
                }
            }
        }
        if let Flow::Stop(quit) = self.reporter.report(&event) {
            self.stopper.stop(quit);
        }
    }

    fn finished(&mut self, record: TaskRecord) {
        self.emit(EventKind::TaskFinished(record));
    }
}

/// The run's view of the task source: entries that are not tasks are reported as failed tasks
/// of their own, so the executors only see tasks to run.
struct Checked<'s, 'e, 'r> {
    source: &'s mut dyn TaskSource,
    emitter: &'e RefCell<Emitter<'r>>,
}

impl Checked<'_, '_, '_> {
    /// Reports every task the source still has as never started (an interrupted run only does
    /// so for input already in memory: it does not read on).
    fn drain(&mut self, stop: &Stop, cancel: &AtomicBool) {
        let origin = self.emitter.borrow().origin;
        let interrupted = matches!(stop, Stop::Interrupted | Stop::Stopped(_));
        if interrupted && self.source.len_hint().is_none() {
            return;
        }
        loop {
            match self.source.poll_task() {
                Polled::Ready(task) => {
                    let record = stop.record(task, 0, None, origin);
                    self.emitter.borrow_mut().finished(record);
                }
                Polled::Invalid(task, error) => self.invalid(task, error),
                Polled::Done => return,
                Polled::NotYet => {
                    // A failed run reads its input to the end, so that every task in it is
                    // reported; a signal stops that too.
                    if interrupted || cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    wait_ready::<()>(&[], self.source.readiness(), TICK);
                }
            }
        }
    }

    fn invalid(&mut self, task: Task, error: String) {
        let origin = self.emitter.borrow().origin;
        let record = TaskRecord::failed(
            task,
            super::Status::Error,
            error,
            0,
            origin.elapsed(),
            Duration::ZERO,
        );
        self.emitter.borrow_mut().finished(record);
    }
}

impl TaskFeed for Checked<'_, '_, '_> {
    fn next_task(&mut self) -> Fed {
        loop {
            return match self.source.poll_task() {
                Polled::Ready(task) => Fed::Ready(task),
                Polled::Invalid(task, error) => {
                    self.invalid(task, error);
                    continue;
                }
                Polled::NotYet => Fed::NotYet,
                Polled::Done => Fed::Done,
            };
        }
    }

    fn readiness(&self) -> Option<&crossbeam_channel::Receiver<Incoming>> {
        self.source.readiness()
    }
}
