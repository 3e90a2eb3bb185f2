//! [`ProcessExecutor`]: worker processes, each the `host` binary re-run with the hidden `worker`
//! subcommand, speaking the framed protocol of `protocol.rs` over its stdin and stdout.
//!
//! The main thread hands out tasks and keeps several in flight per worker (a cross-process
//! wake-up costs tens of microseconds; a queued message about one). The window adapts to how long
//! tasks take, so long tasks are still scheduled one at a time. A worker answers in the order it
//! was given tasks, so the oldest unanswered task is the one it is running: when a worker dies,
//! that task alone is `crashed` (or `timeout`, if the host stopped it); the tasks queued behind it
//! go to another worker. The dead worker is replaced and the run goes on.
//!
//! Per worker, one thread reads its result frames (sending them to the main thread in batches)
//! and reaps it when its stdout closes, and one thread forwards its stderr line by line.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, BufWriter, Write},
    os::unix::process::{CommandExt, ExitStatusExt},
    path::PathBuf,
    process::{ChildStdin, Command, ExitStatus, Stdio},
    sync::atomic::Ordering,
    thread,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use serde_json::value::{RawValue, to_raw_value};

use super::{
    CallOutcome, Event, EventKind, Executor, INPUT_POLL, Retry, RunContext, RunError, Status, Task,
    TaskRecord, TaskSource,
    pending::Pending,
    protocol::{FromWorker, PROTOCOL_VERSION, ToWorker, read_frame, write_frame},
};

/// How long a stopped worker gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);
/// How long a new worker may take to say hello.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(30);
/// How often the main loop looks at the cancel flag when nothing else wakes it.
const TICK: Duration = Duration::from_millis(50);
/// The work queued ahead on each worker, measured in time; the window follows from it.
const QUEUED_WORK: Duration = Duration::from_millis(2);
/// Bounds on the number of tasks in flight per worker.
const MIN_WINDOW: usize = 2;
const MAX_WINDOW: usize = 256;
/// Workers that die before saying hello this many times in a row end the run.
const MAX_FAILED_STARTS: usize = 3;

/// Runs tasks in worker processes.
pub struct ProcessExecutor {
    context: RunContext,
    workers: usize,
}

impl ProcessExecutor {
    /// An executor with `workers` processes; they start when the run does.
    pub fn new(context: RunContext, workers: usize) -> Self {
        ProcessExecutor {
            context,
            workers: workers.max(1),
        }
    }
}

/// What a worker's reader threads tell the main thread.
enum Message {
    Hello { protocol: u32 },
    Fatal { error: String },
    Done(Vec<Done>),
    Output(String),
    ProtocolError(String),
    Exited(ExitStatus),
}

struct Done {
    id: u64,
    ok: Option<Box<RawValue>>,
    error: Option<String>,
    nanos: u64,
}

/// A message with the worker slot and process generation it came from.
struct WorkerEvent {
    slot: usize,
    generation: u64,
    message: Message,
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
    Broken,
}

struct Stopping {
    reason: StopReason,
    since: Instant,
    killed: bool,
}

/// One worker place; its process is replaced when it dies.
struct Slot {
    generation: u64,
    pid: u32,
    stdin: Option<BufWriter<ChildStdin>>,
    ready: bool,
    alive: bool,
    in_flight: VecDeque<InFlight>,
    /// When the oldest task in flight started running (or was sent, if the worker was idle).
    running_since: Instant,
    stopping: Option<Stopping>,
    unflushed: bool,
}

impl Slot {
    fn signal(&self, signal: i32) {
        if self.alive {
            // SAFETY: kill has no memory effects; the pid is our own child, not yet reaped
            // (`alive` turns false when its reader thread reports the exit).
            unsafe { libc::kill(self.pid as libc::pid_t, signal) };
        }
    }

    fn stop(&mut self, reason: StopReason) {
        if self.stopping.is_none() && self.alive {
            self.signal(libc::SIGTERM);
            self.stopping = Some(Stopping {
                reason,
                since: Instant::now(),
                killed: false,
            });
        }
    }
}

/// The state of one run in process mode.
struct Run<'a> {
    context: &'a RunContext,
    exe: PathBuf,
    plugin_path: PathBuf,
    slots: Vec<Slot>,
    events: Sender<WorkerEvent>,
    next_dispatch: u64,
    /// Average task duration (exponentially weighted), for the window.
    average: Duration,
    failed_starts: usize,
}

impl Executor for ProcessExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn TaskSource,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let (sender, receiver) = unbounded();
        let exe =
            std::env::current_exe().map_err(|source| RunError::Spawn { worker: 0, source })?;
        let plugin_path = std::path::absolute(&self.context.plugin.path)
            .unwrap_or_else(|_| self.context.plugin.path.clone());
        let mut run = Run {
            context: &self.context,
            exe,
            plugin_path,
            slots: Vec::with_capacity(self.workers),
            events: sender,
            next_dispatch: 0,
            average: Duration::ZERO,
            failed_starts: 0,
        };
        for slot in 0..self.workers {
            let fresh = run.spawn(slot, 0)?;
            run.slots.push(fresh);
        }
        run.await_handshakes(&receiver, on_event)?;
        let mut pending = Pending::new(tasks);
        let outcome = run.main_loop(&mut pending, &receiver, on_event);
        run.shut_down(&receiver, &mut pending, on_event);
        outcome
    }
}

impl Run<'_> {
    fn spawn(&self, slot: usize, generation: u64) -> Result<Slot, RunError> {
        let mut command = Command::new(&self.exe);
        command
            .arg("worker")
            .arg(&self.plugin_path)
            .arg("--config")
            .arg(&self.context.config)
            .arg("--worker")
            .arg(slot.to_string())
            .arg("--host-pid")
            .arg(std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C in the terminal reaches the host only, which then
            // stops the workers itself.
            .process_group(0);
        let mut child = command.spawn().map_err(|source| RunError::Spawn {
            worker: slot,
            source,
        })?;
        let pid = child.id();
        let (stdin, stdout, stderr) =
            match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                (Some(stdin), Some(stdout), Some(stderr)) => (stdin, stdout, stderr),
                _ => {
                    return Err(RunError::WorkerFailed {
                        worker: slot,
                        reason: "its pipes could not be set up".to_owned(),
                    });
                }
            };
        let send = {
            let events = self.events.clone();
            move |message| {
                let _ = events.send(WorkerEvent {
                    slot,
                    generation,
                    message,
                });
            }
        };
        let send_output = send.clone();
        let stderr_thread = thread::Builder::new()
            .name(format!("quack-stderr-{slot}"))
            .spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    match line {
                        Ok(line) => send_output(Message::Output(line)),
                        Err(_) => break,
                    }
                }
            })
            .map_err(|source| RunError::Spawn {
                worker: slot,
                source,
            })?;
        thread::Builder::new()
            .name(format!("quack-results-{slot}"))
            .spawn(move || {
                read_results(stdout, &send);
                // Reap the worker only after its stderr is drained, so its last words come first.
                let _ = stderr_thread.join();
                if let Ok(status) = child.wait() {
                    send(Message::Exited(status));
                }
            })
            .map_err(|source| RunError::Spawn {
                worker: slot,
                source,
            })?;
        Ok(Slot {
            generation,
            pid,
            stdin: Some(BufWriter::with_capacity(1 << 16, stdin)),
            ready: false,
            alive: true,
            in_flight: VecDeque::new(),
            running_since: Instant::now(),
            stopping: None,
            unflushed: false,
        })
    }

    /// Waits until the first worker has said hello (the others get tasks as they become ready);
    /// a worker that cannot load the plugin or make its instance ends the run with what it said.
    fn await_handshakes(
        &mut self,
        receiver: &Receiver<WorkerEvent>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let deadline = Instant::now() + HANDSHAKE_LIMIT;
        while !self.slots.iter().any(|slot| slot.ready) {
            let event = receiver
                .recv_deadline(deadline)
                .map_err(|_| RunError::WorkerFailed {
                    worker: self.slots.iter().position(|slot| !slot.ready).unwrap_or(0),
                    reason: format!("it did not answer within {}s", HANDSHAKE_LIMIT.as_secs()),
                })?;
            let slot = event.slot;
            match event.message {
                Message::Hello { protocol } => self.greet(slot, protocol)?,
                Message::Fatal { error } => return Err(fatal(slot, error)),
                Message::Output(line) => self.forward_output(slot, line, on_event),
                Message::ProtocolError(reason) => {
                    return Err(RunError::WorkerFailed {
                        worker: slot,
                        reason,
                    });
                }
                Message::Exited(status) => {
                    return Err(RunError::WorkerFailed {
                        worker: slot,
                        reason: format!("it died before the handshake ({})", describe_exit(status)),
                    });
                }
                Message::Done(_) => {}
            }
        }
        Ok(())
    }

    fn greet(&mut self, slot: usize, protocol: u32) -> Result<(), RunError> {
        if protocol != PROTOCOL_VERSION {
            return Err(RunError::WorkerFailed {
                worker: slot,
                reason: format!(
                    "it speaks worker protocol {protocol}, this host {PROTOCOL_VERSION}"
                ),
            });
        }
        self.slots[slot].ready = true;
        self.failed_starts = 0;
        Ok(())
    }

    fn main_loop(
        &mut self,
        pending: &mut Pending<'_>,
        receiver: &Receiver<WorkerEvent>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        loop {
            if self.context.cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            self.dispatch(pending);
            if pending.is_exhausted() && self.slots.iter().all(|slot| slot.in_flight.is_empty()) {
                return Ok(());
            }
            let wait = self.next_deadline().map_or(TICK, |at| {
                at.saturating_duration_since(Instant::now()).min(TICK)
            });
            let wait = if pending.waiting_for_input() {
                wait.min(INPUT_POLL)
            } else {
                wait
            };

            on_event(Event {
                elapsed: self.context.origin.elapsed(),
                kind: EventKind::Idle,
            });
            match receiver.recv_timeout(wait) {
                Ok(event) => {
                    self.handle(event, pending, on_event)?;
                    while let Ok(event) = receiver.try_recv() {
                        self.handle(event, pending, on_event)?;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            self.enforce_deadlines();
        }
    }

    /// The number of tasks to keep in flight per worker: enough to cover about QUEUED_WORK.
    fn window(&self) -> usize {
        let average = self.average.as_nanos().max(1);
        let window = QUEUED_WORK.as_nanos() / average + 1;
        usize::try_from(window)
            .unwrap_or(MAX_WINDOW)
            .clamp(MIN_WINDOW, MAX_WINDOW)
    }

    /// Fills every ready worker's window and flushes what was written.
    fn dispatch(&mut self, pending: &mut Pending<'_>) {
        let window = if self.average.is_zero() {
            MIN_WINDOW
        } else {
            self.window()
        };
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
                // A Value always serializes; the fallback only keeps this free of panics.
                let input = to_raw_value(&task.input).unwrap_or_else(|_| RawValue::NULL.to_owned());
                let written = match slot.stdin.as_mut() {
                    Some(stdin) => write_frame(
                        stdin,
                        &ToWorker::Task {
                            id: dispatch,
                            input,
                        },
                    )
                    .is_ok(),
                    None => false,
                };
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
                if let Some(stdin) = slot.stdin.as_mut() {
                    if stdin.flush().is_err() {
                        slot.stop(StopReason::Broken);
                    }
                }
            }
        }
    }

    fn handle(
        &mut self,
        event: WorkerEvent,
        pending: &mut Pending<'_>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let index = event.slot;
        if self.slots[index].generation != event.generation {
            // A late word from a worker that was already replaced.
            if let Message::Output(line) = event.message {
                self.forward_output(index, line, on_event);
            }
            return Ok(());
        }
        match event.message {
            Message::Done(batch) => {
                for done in batch {
                    self.finish(index, done, on_event);
                }
            }
            Message::Output(line) => self.forward_output(index, line, on_event),
            Message::Hello { protocol } => self.greet(index, protocol)?,
            Message::Fatal { error } => return Err(fatal(index, error)),
            Message::ProtocolError(reason) => {
                self.forward_output(index, format!("protocol error: {reason}"), on_event);
                self.slots[index].stop(StopReason::Broken);
            }
            Message::Exited(status) => self.bury(index, status, pending, on_event)?,
        }
        Ok(())
    }

    /// Records one answered task.
    fn finish(&mut self, index: usize, done: Done, on_event: &mut dyn FnMut(Event)) {
        let origin = self.context.origin;
        let slot = &mut self.slots[index];
        let Some(front) = slot.in_flight.front() else {
            return;
        };
        if front.dispatch != done.id {
            slot.stop(StopReason::Broken);
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
        let result = match (&done.ok, done.error) {
            (Some(raw), _) => Ok(raw.get()),
            (None, error) => Err(error.unwrap_or_else(|| "no result".to_owned())),
        };
        // Weight recent tasks more: 1/8 of each new duration.
        self.average = if self.average.is_zero() {
            duration
        } else {
            (self.average * 7 + duration) / 8
        };
        let record = CallOutcome::new(result, start, duration).into_record(task, index, origin);
        on_event(Event {
            elapsed: origin.elapsed(),
            kind: EventKind::TaskFinished(record),
        });
    }

    /// A worker exited: its running task fails (or runs again), the tasks queued behind it go
    /// back to the others, and a new worker takes its place if there is work left.
    fn bury(
        &mut self,
        index: usize,
        status: ExitStatus,
        pending: &mut Pending<'_>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let origin = self.context.origin;
        let limits = self.context.limits;
        let slot = &mut self.slots[index];
        slot.alive = false;
        slot.stdin = None;
        let was_ready = slot.ready;
        let stop = slot.stopping.take().map(|stopping| stopping.reason);
        let running_since = slot.running_since;
        let mut in_flight: VecDeque<InFlight> = std::mem::take(&mut slot.in_flight);
        let how = describe_exit(status);
        let (task_status, error) = match stop {
            Some(StopReason::Timeout) => {
                let limit = limits
                    .timeout
                    .map_or_else(String::new, |t| format!(" of {}", human_duration(t)));
                (
                    Status::Timeout,
                    format!("ran past the time limit{limit}; worker {index} was stopped"),
                )
            }
            Some(StopReason::Cancel) => (Status::Cancelled, "the run was interrupted".to_owned()),
            Some(StopReason::Broken) | None => {
                (Status::Crashed, format!("worker {index} died: {how}"))
            }
        };
        if let Some(InFlight { task, .. }) = in_flight.pop_front() {
            let now = Instant::now();
            let record = TaskRecord::failed(
                task,
                task_status,
                error.clone(),
                index,
                running_since.saturating_duration_since(origin),
                now.saturating_duration_since(running_since),
            );
            match record.retry(limits.retries) {
                Retry::RunAgain(again) => pending.put_back(std::iter::once(again)),
                Retry::Report(record) => on_event(Event {
                    elapsed: origin.elapsed(),
                    kind: EventKind::TaskFinished(record),
                }),
            }
        }
        // The tasks behind the running one never started: another worker takes them.
        pending.put_back(in_flight.into_iter().map(|flight| flight.task));

        if stop == Some(StopReason::Cancel) || self.context.cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        if !was_ready {
            self.failed_starts += 1;
            if self.failed_starts >= MAX_FAILED_STARTS {
                return Err(RunError::WorkerFailed {
                    worker: index,
                    reason: format!(
                        "{MAX_FAILED_STARTS} new workers in a row died before their handshake (the last: {how})"
                    ),
                });
            }
        }
        if pending.is_exhausted() && self.slots.iter().all(|slot| slot.in_flight.is_empty()) {
            return Ok(());
        }
        let generation = self.slots[index].generation + 1;
        self.slots[index] = self.spawn(index, generation)?;
        on_event(Event {
            elapsed: origin.elapsed(),
            kind: EventKind::WorkerReplaced {
                worker: index,
                reason: error,
            },
        });
        Ok(())
    }

    fn forward_output(&self, worker: usize, line: String, on_event: &mut dyn FnMut(Event)) {
        on_event(Event {
            elapsed: self.context.origin.elapsed(),
            kind: EventKind::WorkerOutput { worker, line },
        });
    }

    /// The earliest moment something must be checked: a task's time limit or a kill's grace.
    fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.context.limits.timeout;
        self.slots
            .iter()
            .filter_map(|slot| match &slot.stopping {
                Some(stopping) if !stopping.killed => Some(stopping.since + GRACE),
                Some(_) => None,
                None if slot.in_flight.is_empty() => None,
                None => timeout.map(|limit| slot.running_since + limit),
            })
            .min()
    }

    /// Stops workers whose running task is past its limit, and kills those past their grace.
    fn enforce_deadlines(&mut self) {
        let now = Instant::now();
        let timeout = self.context.limits.timeout;
        for slot in &mut self.slots {
            match &mut slot.stopping {
                Some(stopping) if !stopping.killed && now >= stopping.since + GRACE => {
                    stopping.killed = true;
                    slot.signal(libc::SIGKILL);
                }
                Some(_) => {}
                None => {
                    if let Some(limit) = timeout {
                        if !slot.in_flight.is_empty() && now >= slot.running_since + limit {
                            slot.stop(StopReason::Timeout);
                        }
                    }
                }
            }
        }
    }

    /// Ends the run: on cancel, stops every worker and reports what they had as `cancelled`;
    /// otherwise closes their stdin so they exit, and waits for them.
    fn shut_down(
        &mut self,
        receiver: &Receiver<WorkerEvent>,
        pending: &mut Pending<'_>,
        on_event: &mut dyn FnMut(Event),
    ) {
        let cancelled = self.context.cancel.load(Ordering::Relaxed);
        for slot in &mut self.slots {
            slot.stdin = None;
            if cancelled {
                slot.stop(StopReason::Cancel);
            }
        }
        let origin = self.context.origin;
        if cancelled {
            let now = Instant::now();
            for (index, slot) in self.slots.iter_mut().enumerate() {
                for (position, flight) in slot.in_flight.drain(..).enumerate() {
                    // Only the oldest task was running; the ones behind it never started.
                    let started = if position == 0 {
                        slot.running_since
                    } else {
                        now
                    };
                    let record = TaskRecord::failed(
                        flight.task,
                        Status::Cancelled,
                        "the run was interrupted".to_owned(),
                        index,
                        started.saturating_duration_since(origin),
                        now.saturating_duration_since(started),
                    );
                    on_event(Event {
                        elapsed: origin.elapsed(),
                        kind: EventKind::TaskFinished(record),
                    });
                }
            }
            for task in pending.take_again() {
                let record = TaskRecord::failed(
                    task,
                    Status::Cancelled,
                    "the run was interrupted".to_owned(),
                    0,
                    now.saturating_duration_since(origin),
                    Duration::ZERO,
                );
                on_event(Event {
                    elapsed: origin.elapsed(),
                    kind: EventKind::TaskFinished(record),
                });
            }
        }
        let deadline = Instant::now() + GRACE * 2;
        while self.slots.iter().any(|slot| slot.alive) {
            let Ok(event) = receiver.recv_deadline(deadline) else {
                for slot in &self.slots {
                    slot.signal(libc::SIGKILL);
                }
                break;
            };
            let slot = event.slot;
            if self.slots[slot].generation != event.generation {
                continue;
            }
            match event.message {
                Message::Exited(_) => self.slots[slot].alive = false,
                Message::Output(line) => self.forward_output(slot, line, on_event),
                _ => {}
            }
        }
    }
}

/// Reads result frames until the worker's stdout closes, sending them in batches: every frame
/// already buffered goes in one message, so a busy host wakes once per batch, not per task.
fn read_results(stdout: impl std::io::Read, send: &impl Fn(Message)) {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut frame = Vec::new();
    let mut batch = Vec::new();
    loop {
        match read_frame(&mut reader, &mut frame) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                send(Message::ProtocolError(format!("unreadable frame: {error}")));
                break;
            }
        }
        match serde_json::from_slice::<FromWorker>(&frame) {
            Ok(FromWorker::Done {
                id,
                ok,
                error,
                nanos,
            }) => batch.push(Done {
                id,
                ok,
                error,
                nanos,
            }),
            Ok(FromWorker::Hello { protocol, .. }) => send(Message::Hello { protocol }),
            Ok(FromWorker::Fatal { error }) => send(Message::Fatal { error }),
            Err(error) => {
                send(Message::ProtocolError(format!(
                    "a message that is not the protocol's: {error}"
                )));
                break;
            }
        }
        if !batch.is_empty() && (reader.buffer().is_empty() || batch.len() >= 1024) {
            send(Message::Done(std::mem::take(&mut batch)));
        }
    }
    if !batch.is_empty() {
        send(Message::Done(batch));
    }
}

fn fatal(worker: usize, error: String) -> RunError {
    match error.strip_prefix(super::worker::INSTANCE_REFUSED) {
        Some(reason) => RunError::Instance(quack_core::PluginError::new(
            quack_core::ErrorKind::Failed,
            reason.to_owned(),
        )),
        None => RunError::WorkerFailed {
            worker,
            reason: error,
        },
    }
}

/// How a process ended, for people: `SIGSEGV`, `exit code 3`.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(signal) = status.signal() {
        let name = match signal {
            libc::SIGSEGV => "SIGSEGV (segmentation fault)",
            libc::SIGABRT => "SIGABRT (aborted)",
            libc::SIGKILL => "SIGKILL",
            libc::SIGTERM => "SIGTERM",
            libc::SIGBUS => "SIGBUS (bus error)",
            libc::SIGILL => "SIGILL (illegal instruction)",
            libc::SIGFPE => "SIGFPE (arithmetic error)",
            libc::SIGPIPE => "SIGPIPE (broken pipe)",
            libc::SIGINT => "SIGINT",
            other => return format!("signal {other}"),
        };
        return name.to_owned();
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => "an unknown cause".to_owned(),
    }
}

/// A limit for people: `500ms`, `2s`.
pub(super) fn human_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
