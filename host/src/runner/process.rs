//! [`ProcessExecutor`]: worker processes, each started by the run's [`WorkerCommand`] (the `host`
//! binary's hidden `worker` subcommand, maybe behind a launcher) and driven through a
//! [`WorkerClient`]; this file is the pool's policy over them: which task goes where, time
//! limits, and what a worker's death means.
//!
//! The main thread hands out tasks and keeps several in flight per worker (a cross-process
//! wake-up costs tens of microseconds; a queued message about one). The window adapts to how long
//! tasks take, so long tasks are still scheduled one at a time. A worker answers in the order it
//! was given tasks, so the oldest unanswered task is the one it is running: when a worker dies,
//! that task alone is `crashed` (or `timeout`, if the host stopped it); the tasks queued behind it
//! go to another worker. The dead worker is replaced and the run goes on. A worker that breaks the
//! protocol after its hello (a second hello, a fatal message, a request for the plugin, an answer
//! for a task it was not running) is stopped and replaced the same way: it costs its running task,
//! never the run and never another task's result.
//!
//! Until the first worker has said hello, a worker that fails ends the run with what it said
//! (through a launcher, the launcher's last words): the plugin cannot load, or the launcher cannot
//! start workers. A signal or a reporter's stop is heard at every stage, while workers start too.

use std::{
    collections::VecDeque,
    io::Write,
    process::ExitStatus,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::{
    EventKind, Executor, RunContext, RunError, Status, Task, TaskRecord, WorkerCommand,
    client::{
        Done, Expected, Message, Stderr, WorkerClient, WorkerEvent, check_hello, fatal_error,
    },
    outbox::{Outbox, Stop, wait_time},
    pending::Pending,
    protocol::{Hello, MAX_FRAME, TaskFrame, write_frame_in},
    record::CallOutcome,
    ship::PluginSource,
    source::{TaskFeed, wait_ready},
    sys::{cores, describe_exit, human_duration},
};

/// How long a stopped worker gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);
/// The work queued ahead on each worker, measured in time; the window follows from it.
const QUEUED_WORK: Duration = Duration::from_millis(2);
/// Bounds on the number of tasks in flight per worker. One, while tasks are long (or their length
/// is not known yet): a second task queued behind a long one would wait there while another
/// worker may sit idle.
const MIN_WINDOW: usize = 1;
const MAX_WINDOW: usize = 256;
/// The same through a launcher: a frame's round trip through `srun` or `ssh` takes a relay or
/// two (hundreds of microseconds to milliseconds, not tens), so more must be in flight to keep
/// a worker busy with trivial tasks.
const LAUNCHER_QUEUED_WORK: Duration = Duration::from_millis(20);
const LAUNCHER_MAX_WINDOW: usize = 4096;
/// Workers that die before saying hello this many times in a row end the run.
const MAX_FAILED_STARTS: usize = 3;
/// Workers that crash this many times in a row (at least) without any task finishing in
/// between end the run: the plugin crashes at every turn, and respawning is no use.
const MIN_CRASH_LOOP: usize = 8;
/// What to do when a launcher could not start a worker.
const CHECK_LAUNCHER: &str = "check the launcher and its arguments (--launcher, --slurm-args)";

/// Runs tasks in worker processes.
pub(crate) struct ProcessExecutor {
    context: RunContext,
    workers: usize,
    command: WorkerCommand,
}

impl ProcessExecutor {
    /// An executor with `workers` processes started by `command`; they start when the run does.
    pub(crate) fn new(context: RunContext, workers: usize, command: WorkerCommand) -> Self {
        ProcessExecutor {
            context,
            workers: workers.max(1),
            command,
        }
    }
}

/// A task sent to a worker and not yet answered.
struct InFlight {
    dispatch: u64,
    task: Task,
}

/// Why the host is stopping a worker.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Timeout,
    Cancel,
    /// Its pipe broke, or it broke the protocol (the slot's `broken` says how).
    Broken,
    /// It did not say hello within the start limit.
    Slow,
}

struct Stopping {
    reason: StopReason,
    since: Instant,
    killed: bool,
}

/// One worker place; its process is replaced when it dies.
struct Slot {
    client: WorkerClient,
    /// Whether it said hello (and so takes tasks).
    ready: bool,
    in_flight: VecDeque<InFlight>,
    /// When the oldest task in flight started running (or was sent, if the worker was idle).
    running_since: Instant,
    stopping: Option<Stopping>,
    /// How it broke the protocol, when it did.
    broken: Option<String>,
    unflushed: bool,
}

impl Slot {
    fn new(client: WorkerClient) -> Self {
        Slot {
            client,
            ready: false,
            in_flight: VecDeque::new(),
            running_since: Instant::now(),
            stopping: None,
            broken: None,
            unflushed: false,
        }
    }

    fn stop(&mut self, reason: StopReason) {
        if self.stopping.is_none() && self.client.is_alive() {
            self.client.signal(libc::SIGTERM);
            self.stopping = Some(Stopping {
                reason,
                since: Instant::now(),
                killed: false,
            });
        }
    }
}

/// The state of one run in process mode.
struct Pool<'a> {
    context: &'a RunContext,
    command: &'a WorkerCommand,
    /// The plugin file as the workers get it.
    source: PluginSource,
    /// Where each task's frame is made (kept: a frame per task allocates nothing).
    frame_body: Vec<u8>,
    slots: Vec<Slot>,
    events: Sender<WorkerEvent>,
    next_dispatch: u64,
    /// Average task duration (exponentially weighted), for the window.
    average: Duration,
    failed_starts: usize,
    /// Workers that crashed since a task last finished.
    crashes_in_a_row: usize,
    /// Whether a worker has said hello: until one has, a worker's failure ends the run.
    started: bool,
    /// Whether the run is over and the pool only waits for its workers to exit.
    closing: bool,
}

impl Executor for ProcessExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn TaskFeed,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let (sender, receiver) = unbounded();
        let mut pool = Pool {
            context: &self.context,
            command: &self.command,
            source: PluginSource::open(&self.context.plugin, self.command.has_launcher()),
            frame_body: Vec::new(),
            slots: Vec::with_capacity(self.workers),
            events: sender,
            next_dispatch: 0,
            average: Duration::ZERO,
            failed_starts: 0,
            crashes_in_a_row: 0,
            started: false,
            closing: false,
        };
        let mut pending = Pending::new(tasks);
        let outcome = pool.run(self.workers, &mut pending, &receiver, outbox);
        let stop = match &outcome {
            Ok(stop) => stop.clone(),
            Err(error) => Some(Stop::Failed(error.to_string())),
        };
        pool.shut_down(stop.as_ref(), &receiver, &mut pending, outbox);
        outcome.map(|_| ())
    }
}

impl Pool<'_> {
    /// Starts the workers and runs the tasks; `Some(stop)` when the run was interrupted.
    fn run(
        &mut self,
        workers: usize,
        pending: &mut Pending<'_>,
        receiver: &Receiver<WorkerEvent>,
        outbox: &mut Outbox<'_>,
    ) -> Result<Option<Stop>, RunError> {
        raise_file_limit(workers);
        // A first wave of one worker per core: more at once would only compete for the cores
        // with the first worker's start. The rest start once the first tasks are out. Through a
        // launcher, every worker starts at once: a scheduler's latency, not this machine's
        // cores, is what a start waits for.
        let first_wave = if self.command.has_launcher() {
            workers
        } else {
            workers.min(cores()).max(1)
        };
        for slot in 0..first_wave {
            let fresh = self.spawn(slot, 0)?;
            self.slots.push(fresh);
        }
        loop {
            if let Some(stop) = self.context.stop_requested() {
                return Ok(Some(stop));
            }
            if self.started {
                self.dispatch(pending, outbox);
                for slot in self.slots.len()..workers {
                    let fresh = self.spawn(slot, 0)?;
                    self.slots.push(fresh);
                }
                if pending.is_exhausted() && self.slots.iter().all(|slot| slot.in_flight.is_empty())
                {
                    return Ok(None);
                }
            }
            outbox.idle();
            let wait = wait_time(self.next_deadline());
            // Input is read only once a worker can take it.
            let input = if self.started {
                pending.input_readiness()
            } else {
                None
            };
            if wait_ready(&[receiver], input, wait).is_some() {
                while let Ok(event) = receiver.try_recv() {
                    self.handle(event, pending, outbox)?;
                }
            }
            self.enforce_deadlines()?;
        }
    }

    fn spawn(&self, slot: usize, generation: u64) -> Result<Slot, RunError> {
        let start = self.source.start(&self.context.config);
        let client = WorkerClient::spawn(
            self.command,
            slot,
            generation,
            &start,
            Stderr::Relay,
            &self.events,
        )?;
        Ok(Slot::new(client))
    }

    /// A worker that could not start: through a launcher, the launcher's failure.
    fn start_failed(&self, worker: usize, reason: String) -> RunError {
        self.start_failed_with(worker, reason, CHECK_LAUNCHER)
    }

    /// [`start_failed`](Self::start_failed) with the advice for people.
    fn start_failed_with(&self, worker: usize, reason: String, advice: &'static str) -> RunError {
        match self.command.launcher().first() {
            Some(launcher) => RunError::Launcher {
                worker,
                launcher: launcher.to_string_lossy().into_owned(),
                reason,
                advice,
            },
            None => RunError::WorkerFailed { worker, reason },
        }
    }

    /// Handles one thing a worker said or one news of it: the one place where a worker's
    /// messages are read, at every stage of the run.
    fn handle(
        &mut self,
        event: WorkerEvent,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let index = event.slot;
        let Some(slot) = self.slots.get_mut(index) else {
            return Ok(());
        };
        if slot.client.generation() != event.generation {
            // A late word from a worker that was already replaced.
            if let Message::Output(line) = event.message {
                outbox.output(index, line);
            }
            return Ok(());
        }
        let ready = slot.ready;
        match event.message {
            Message::Output(line) => {
                slot.client.heard(&line);
                outbox.output(index, line);
            }
            Message::Exited(_) if self.closing => slot.client.exited(),
            Message::Exited(status) if !self.started => {
                slot.client.exited();
                let said = slot.client.said();
                return Err(self.start_failed(
                    index,
                    format!(
                        "it died before the handshake ({}){said}",
                        describe_exit(status)
                    ),
                ));
            }
            Message::Exited(status) => self.bury(index, status, pending, outbox)?,
            // Once the run is over, what a worker says no longer matters.
            _ if self.closing => {}
            Message::Shipped(stdin) => {
                if !slot.client.shipped(stdin) {
                    slot.stop(StopReason::Broken);
                }
            }
            Message::ProtocolError(reason) if !self.started => {
                return Err(self.start_failed(index, reason));
            }
            Message::ProtocolError(reason) => self.broke_protocol(index, reason, outbox),
            Message::Hello(hello) if !ready => self.greet(index, hello, outbox)?,
            Message::NeedPlugin(reason) if !ready => self.ship(index, &reason, outbox)?,
            Message::Fatal { stage, error } if !ready => {
                return Err(if slot.client.generation() == 0 {
                    fatal_error(index, stage, error)
                } else {
                    RunError::Replacement {
                        worker: index,
                        reason: error,
                    }
                });
            }
            Message::Done(_) if !ready => {
                self.broke_protocol(index, "it answered before its hello".to_owned(), outbox);
            }
            Message::Done(batch) => {
                // One clock read for the batch's events.
                outbox.freeze();
                for done in batch {
                    self.finish(index, done, outbox);
                }
                outbox.thaw();
            }
            Message::Hello(_) => {
                self.broke_protocol(index, "it said hello a second time".to_owned(), outbox);
            }
            Message::NeedPlugin(_) => self.broke_protocol(
                index,
                "it asked for the plugin after loading it".to_owned(),
                outbox,
            ),
            Message::Fatal { error, .. } => self.broke_protocol(
                index,
                format!("it sent a fatal error after its hello ({error})"),
                outbox,
            ),
        }
        Ok(())
    }

    /// A worker said something the protocol does not allow: it is stopped (its running task
    /// crashed, the tasks behind it go to others) and replaced; nothing else it says counts.
    fn broke_protocol(&mut self, index: usize, reason: String, outbox: &mut Outbox<'_>) {
        outbox.output(index, format!("protocol error: {reason}"));
        let slot = &mut self.slots[index];
        slot.broken.get_or_insert(reason);
        slot.stop(StopReason::Broken);
    }

    /// Sends the plugin's bytes to a worker that asked for them: the very file the host loaded
    /// (a file changed since is refused, not sent).
    fn ship(
        &mut self,
        index: usize,
        reason: &str,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let (bytes, sha256) = self.source.bytes()?;
        outbox.output(
            index,
            format!(
                "{reason}: the host sends the plugin ({} bytes)",
                bytes.len()
            ),
        );
        self.slots[index].client.ship(bytes, sha256, &self.events)
    }

    /// Takes a worker's hello (see [`check_hello`]): the worker is ready for tasks.
    fn greet(
        &mut self,
        index: usize,
        hello: Hello,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let expected = Expected {
            plugin: &self.context.plugin,
            sha256: self.source.sha256_mut(),
        };
        check_hello(index, &hello, expected)?;
        self.slots[index].ready = true;
        self.started = true;
        self.failed_starts = 0;
        outbox.emit(EventKind::WorkerStarted {
            worker: index,
            pid: hello.pid,
            node: hello.node,
        });
        Ok(())
    }

    /// The number of tasks to keep in flight per worker: enough to cover about QUEUED_WORK.
    fn window(&self) -> usize {
        // With --max-fail, no task goes out before the results of those before it are in: a
        // task queued behind a failure would run after the run should have stopped.
        if self.average.is_zero() || self.context.limits.max_fail.is_some() {
            return MIN_WINDOW;
        }
        let average = self.average.as_nanos().max(1);
        let (queued, max) = if self.command.has_launcher() {
            (LAUNCHER_QUEUED_WORK, LAUNCHER_MAX_WINDOW)
        } else {
            (QUEUED_WORK, MAX_WINDOW)
        };
        let window = queued.as_nanos() / average + 1;
        usize::try_from(window)
            .unwrap_or(max)
            .clamp(MIN_WINDOW, max)
    }

    /// Fills every ready worker's window and flushes what was written.
    fn dispatch(&mut self, pending: &mut Pending<'_>, outbox: &mut Outbox<'_>) {
        outbox.freeze();
        let window = self.window();
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            if !slot.ready || slot.stopping.is_some() {
                continue;
            }
            while slot.in_flight.len() < window {
                let Some(task) = pending.next_task() else {
                    break;
                };
                let dispatch = self.next_dispatch;
                self.next_dispatch += 1;
                if slot.in_flight.is_empty() {
                    slot.running_since = Instant::now();
                }
                let size = task.input.as_str().len();
                if size > MAX_FRAME - 64 {
                    // It cannot travel: the task fails, the worker is untouched.
                    let error = format!(
                        "its input is {} bytes of JSON, more than a worker can be sent ({MAX_FRAME}); give it a path to read instead",
                        size
                    );
                    let record = TaskRecord::failed(
                        task,
                        Status::Error,
                        error,
                        index,
                        outbox.origin().elapsed(),
                        Duration::ZERO,
                    );
                    outbox.finished(record);
                    continue;
                }
                let written = match slot.client.stdin() {
                    Some(stdin) => write_frame_in(
                        stdin,
                        &TaskFrame::Task {
                            id: dispatch,
                            method: None,
                            input: task.input.as_raw(),
                        },
                        &mut self.frame_body,
                    )
                    .is_ok(),
                    None => false,
                };
                outbox.started(&task, Some(index));
                slot.in_flight.push_back(InFlight { dispatch, task });
                if !written {
                    // The pipe is gone: the worker is dying; its exit puts the tasks back.
                    slot.stop(StopReason::Broken);
                    break;
                }
                slot.unflushed = true;
            }
            if slot.unflushed {
                slot.unflushed = false;
                if let Some(stdin) = slot.client.stdin() {
                    if stdin.flush().is_err() {
                        slot.stop(StopReason::Broken);
                    }
                }
            }
        }
        outbox.thaw();
    }

    /// Records one answered task: the worker's oldest in flight, which it must be.
    fn finish(&mut self, index: usize, done: Done, outbox: &mut Outbox<'_>) {
        let origin = outbox.origin();
        let slot = &mut self.slots[index];
        if slot.broken.is_some() {
            return;
        }
        let front = slot.in_flight.front().map(|flight| flight.dispatch);
        if front != Some(done.id) {
            let reason = match front {
                Some(_) => format!("an answer for task {}, which it was not running", done.id),
                None => format!("an answer for task {} while it had no task", done.id),
            };
            self.broke_protocol(index, reason, outbox);
            return;
        }
        let Some(InFlight { task, .. }) = slot.in_flight.pop_front() else {
            return;
        };
        let now = Instant::now();
        let duration = Duration::from_nanos(done.nanos);
        let start = now
            .checked_sub(duration)
            .unwrap_or(slot.running_since)
            .max(slot.running_since);
        slot.running_since = now;
        let result = match (done.ok, done.error) {
            (Some(raw), _) => super::Json::from_raw(raw)
                .map_err(|error| format!("the plugin returned invalid JSON: {error}")),
            (None, error) => Err(error.unwrap_or_else(|| "no result".to_owned())),
        };
        // Weight recent tasks more: 1/8 of each new duration.
        self.average = if self.average.is_zero() {
            duration.max(Duration::from_nanos(1))
        } else {
            (self.average * 7 + duration) / 8
        };
        self.crashes_in_a_row = 0;
        let record = CallOutcome::of_json(result, start, duration).into_record(task, index, origin);
        outbox.finished(record);
    }

    /// A worker exited: its running task fails (or runs again), the tasks queued behind it go
    /// back to the others, and a new worker takes its place if there is work left.
    fn bury(
        &mut self,
        index: usize,
        status: ExitStatus,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let origin = outbox.origin();
        let limits = self.context.limits;
        let has_launcher = self.command.has_launcher();
        let slot = &mut self.slots[index];
        slot.client.exited();
        // What its tasks started and left behind (a daemon of its own session) goes with it.
        super::orphans::reap();
        // Through a launcher, its last words say what happened (`srun: error: ...: Killed`).
        let said = if has_launcher {
            slot.client.said()
        } else {
            String::new()
        };
        let was_ready = slot.ready;
        let stop = slot.stopping.take().map(|stopping| stopping.reason);
        let running_since = slot.running_since;
        let mut in_flight: VecDeque<InFlight> = std::mem::take(&mut slot.in_flight);
        let how = describe_exit(status);
        let (task_status, error) = match (stop, slot.broken.take()) {
            (Some(StopReason::Timeout), _) => {
                let limit = limits
                    .timeout
                    .map_or_else(String::new, |t| format!(" of {}", human_duration(t)));
                (
                    Status::Timeout,
                    format!("ran past the time limit{limit}; worker {index} was stopped"),
                )
            }
            (Some(StopReason::Cancel), _) => {
                (Status::Cancelled, "the run was interrupted".to_owned())
            }
            (Some(StopReason::Slow), _) => (
                Status::Crashed,
                format!(
                    "worker {index} did not start within {}{said}",
                    human_duration(limits.start_timeout)
                ),
            ),
            (_, Some(broken)) => (
                Status::Crashed,
                format!("worker {index} broke the protocol ({broken}) and was stopped"),
            ),
            (Some(StopReason::Broken) | None, None) => {
                (Status::Crashed, format!("worker {index} died: {how}{said}"))
            }
        };
        if task_status == Status::Crashed {
            self.crashes_in_a_row += 1;
        }
        if let Some(InFlight { task, .. }) = in_flight.pop_front() {
            let record = TaskRecord::failed(
                task,
                task_status,
                error.clone(),
                index,
                running_since.saturating_duration_since(origin),
                Instant::now().saturating_duration_since(running_since),
            );
            outbox.attempt_failed(record, limits.retries, pending);
        }
        // The tasks behind the running one never started: another worker takes them.
        pending.put_back(in_flight.into_iter().map(|flight| flight.task));

        if stop == Some(StopReason::Cancel) || self.context.stop_requested().is_some() {
            return Ok(());
        }
        if !was_ready {
            self.failed_starts += 1;
            if self.failed_starts >= MAX_FAILED_STARTS {
                return Err(RunError::Replacement {
                    worker: index,
                    reason: format!(
                        "{MAX_FAILED_STARTS} new workers in a row did not start (the last: {error})"
                    ),
                });
            }
        }
        let crash_loop = MIN_CRASH_LOOP.max(2 * self.slots.len());
        if self.crashes_in_a_row >= crash_loop {
            return Err(RunError::Replacement {
                worker: index,
                reason: format!(
                    "{crash_loop} workers in a row crashed before any task finished (the last: {error}); the plugin crashes at every turn, so the run stops respawning"
                ),
            });
        }
        if pending.is_exhausted() && self.slots.iter().all(|slot| slot.in_flight.is_empty()) {
            return Ok(());
        }
        let generation = self.slots[index].client.generation() + 1;
        self.slots[index] =
            self.spawn(index, generation)
                .map_err(|error| RunError::Replacement {
                    worker: index,
                    reason: error.to_string(),
                })?;
        outbox.replaced(index, error);
        Ok(())
    }

    /// The earliest moment something must be checked: a task's time limit, a start's limit or a
    /// kill's grace.
    fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.context.limits.timeout;
        self.slots
            .iter()
            .filter_map(|slot| match &slot.stopping {
                Some(stopping) if !stopping.killed => Some(stopping.since + GRACE),
                Some(_) => None,
                None if !slot.ready && slot.client.is_alive() => slot
                    .client
                    .spawned()
                    .checked_add(self.context.limits.start_timeout),
                None if slot.in_flight.is_empty() => None,
                None => timeout.and_then(|limit| slot.running_since.checked_add(limit)),
            })
            .min()
    }

    /// Stops workers whose running task is past its limit, and kills those past their grace. A
    /// worker that does not start in time ends the run while no worker has started, and is
    /// replaced after.
    fn enforce_deadlines(&mut self) -> Result<(), RunError> {
        let now = Instant::now();
        let timeout = self.context.limits.timeout;
        let start_timeout = self.context.limits.start_timeout;
        let past =
            |since: Instant, limit: Duration| since.checked_add(limit).is_some_and(|at| now >= at);
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            match &mut slot.stopping {
                Some(stopping) if !stopping.killed && now >= stopping.since + GRACE => {
                    stopping.killed = true;
                    slot.client.signal(libc::SIGKILL);
                }
                Some(_) => {}
                None if !slot.ready => {
                    if slot.client.is_alive() && past(slot.client.spawned(), start_timeout) {
                        if !self.started {
                            let said = slot.client.said();
                            return Err(self.start_failed_with(
                                index,
                                format!(
                                    "it did not start within {}{said}",
                                    human_duration(start_timeout)
                                ),
                                "raise --start-timeout if it only waits its turn, or ask for less",
                            ));
                        }
                        slot.stop(StopReason::Slow);
                    }
                }
                None => {
                    if let Some(limit) = timeout {
                        if !slot.in_flight.is_empty() && past(slot.running_since, limit) {
                            slot.stop(StopReason::Timeout);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends the run. Stopped early (`stop`): stops every worker and reports what they had and
    /// what waited to run again as stopped; otherwise closes their stdin so they exit. Then waits
    /// for them (killing what is left after a grace).
    fn shut_down(
        &mut self,
        stop: Option<&Stop>,
        receiver: &Receiver<WorkerEvent>,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) {
        self.closing = true;
        for slot in &mut self.slots {
            slot.client.close();
            if stop.is_some() {
                slot.stop(StopReason::Cancel);
            }
        }
        if let Some(stop) = stop {
            for (index, slot) in self.slots.iter_mut().enumerate() {
                let running_since = slot.running_since;
                for (position, flight) in slot.in_flight.drain(..).enumerate() {
                    // Only the oldest task was running; the ones behind it never started.
                    let started = (position == 0).then_some(running_since);
                    outbox.stopped(stop, flight.task, index, started);
                }
            }
            outbox.drain_pending(stop, pending);
        }
        let deadline = Instant::now() + GRACE * 2;
        while self.slots.iter().any(|slot| slot.client.is_alive()) {
            let Ok(event) = receiver.recv_deadline(deadline) else {
                for slot in &self.slots {
                    slot.client.signal(libc::SIGKILL);
                }
                break;
            };
            // While closing, handling a message cannot fail.
            let _ = self.handle(event, pending, outbox);
        }
    }
}

/// Raises this process's soft limit on open files towards its hard limit when `workers` need more
/// than it allows (three pipes each, plus what a launcher such as srun keeps): the common soft
/// limit of 1,024 would otherwise stop a run at about 300 workers.
fn raise_file_limit(workers: usize) {
    let needed = libc::rlim_t::try_from(workers.saturating_mul(4).saturating_add(64))
        .unwrap_or(libc::rlim_t::MAX);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < needed {
            limit.rlim_cur = needed.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
