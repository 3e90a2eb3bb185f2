//! [`ProcessExecutor`]: worker processes, each started by the run's [`WorkerCommand`] (the `host`
//! binary's hidden `worker` subcommand, maybe behind a launcher), speaking the framed protocol of
//! `protocol.rs` over its stdin and stdout.
//!
//! The main thread hands out tasks and keeps several in flight per worker (a cross-process
//! wake-up costs tens of microseconds; a queued message about one). The window adapts to how long
//! tasks take, so long tasks are still scheduled one at a time. A worker answers in the order it
//! was given tasks, so the oldest unanswered task is the one it is running: when a worker dies,
//! that task alone is `crashed` (or `timeout`, if the host stopped it); the tasks queued behind it
//! go to another worker. The dead worker is replaced and the run goes on.
//!
//! A worker without a file of the plugin's content at the host's path asks for it
//! (`NeedPlugin`), and the host sends the bytes it loaded from (checked against the hash it
//! announced). When workers start through a launcher (`ssh`, `srun`), the launcher's failures are
//! worker failures: its last words on stderr go into the reason.
//!
//! Per worker, one thread reads its result frames (sending them to the main thread in batches)
//! and reaps it when its stdout closes, and one thread forwards its stderr line by line.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, BufWriter, Write},
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::{ChildStdin, ExitStatus},
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, unbounded};
use serde_json::value::RawValue;

use super::{
    EventKind, Executor, RunContext, RunError, Status, Task, TaskRecord, WorkerCommand,
    outbox::{Outbox, Stop, wait_time},
    pending::Pending,
    protocol::{
        FatalStage, FileStamp, FromWorker, Hello, MAX_FRAME, PLUGIN_CHUNK, PROTOCOL_VERSION,
        TaskFrame, ToWorker, read_frame, write_frame, write_frame_in, write_raw_frame,
    },
    record::CallOutcome,
    source::{TaskFeed, wait_ready},
};

/// How long a stopped worker gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);
/// How long a dead worker's pipes may stay open (held by a process it started that left its
/// process group) before it counts as gone all the same.
const PIPE_LINGER: Duration = Duration::from_millis(500);
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
/// The stderr lines kept per worker, for the reason when it fails (a launcher's message).
const RECENT_LINES: usize = 4;

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

/// What a worker's reader threads tell the main thread.
enum Message {
    Hello(Hello),
    Fatal {
        stage: FatalStage,
        error: String,
    },
    NeedPlugin(String),
    /// The plugin was sent to the worker (its stdin comes back), or could not be (`None`).
    Shipped(Option<BufWriter<ChildStdin>>),
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
    /// When its process was started.
    spawned: Instant,
    /// Its last lines on stderr.
    recent: VecDeque<String>,
}

impl Slot {
    /// Sends `signal` to the worker's whole process group (it leads one of its own), so that
    /// the processes a task started go with it.
    fn signal(&self, signal: i32) {
        if self.alive {
            // SAFETY: kill has no memory effects; the pid is our own child, not yet reaped
            // (`alive` turns false when its reader thread reports the exit), and the leader of
            // its own process group.
            unsafe { libc::kill(-(self.pid as libc::pid_t), signal) };
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
struct Pool<'a> {
    context: &'a RunContext,
    command: &'a WorkerCommand,
    plugin_path: PathBuf,
    /// The plugin file's SHA-256, which every worker must have loaded: hashed at the start when
    /// workers may run elsewhere (a launcher), else only once a worker asks for the plugin.
    sha256: Option<String>,
    /// The plugin file's identity here, so local workers need not hash it again.
    stamp: Option<FileStamp>,
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
    /// The plugin file, opened when the run starts: a file renamed over it later does not
    /// change what is sent to workers.
    plugin_file: Option<std::fs::File>,
    /// The plugin's bytes, read when a worker first asks for them.
    plugin_bytes: Option<Arc<Vec<u8>>>,
}

impl Executor for ProcessExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn TaskFeed,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let (sender, receiver) = unbounded();
        let plugin_path = std::path::absolute(&self.context.plugin.path)
            .unwrap_or_else(|_| self.context.plugin.path.clone());
        let mut pool = Pool {
            context: &self.context,
            command: &self.command,
            plugin_path,
            sha256: None,
            frame_body: Vec::new(),
            stamp: None,
            slots: Vec::with_capacity(self.workers),
            events: sender,
            next_dispatch: 0,
            average: Duration::ZERO,
            failed_starts: 0,
            crashes_in_a_row: 0,
            plugin_file: None,
            plugin_bytes: None,
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
        // The stamp first: a file changed between the two is then hashed by the workers. A local
        // worker finds the very file by its stamp, so the file is hashed (a millisecond or two
        // for a plugin of a megabyte) only for workers that may run elsewhere, or when a worker
        // asks for the plugin.
        self.stamp = FileStamp::of(&self.plugin_path);
        if self.command.has_launcher() {
            self.sha256 = Some(self.context.plugin.content().sha256.clone());
        }
        self.plugin_file = std::fs::File::open(&self.plugin_path).ok();
        raise_file_limit(workers);
        // A first wave of one worker per core: more at once would only compete for the cores
        // with the first worker's start. The rest start once the first tasks are out. Through a
        // launcher, every worker starts at once: a scheduler's latency, not this machine's
        // cores, is what a start waits for.
        let first_wave = if self.command.has_launcher() {
            workers
        } else {
            workers.min(crate::report::cores()).max(1)
        };
        for slot in 0..first_wave {
            let fresh = self.spawn(slot, 0)?;
            self.slots.push(fresh);
        }
        self.await_handshakes(receiver, outbox)?;
        self.main_loop(pending, receiver, outbox, workers)
    }

    /// Starts the workers after the first wave, once tasks are out to the first.
    fn spawn_the_rest(&mut self, workers: usize) -> Result<(), RunError> {
        for slot in self.slots.len()..workers {
            let fresh = self.spawn(slot, 0)?;
            self.slots.push(fresh);
        }
        Ok(())
    }

    fn spawn(&self, slot: usize, generation: u64) -> Result<Slot, RunError> {
        let mut child = self.command.command().spawn().map_err(|source| {
            match self.command.launcher().first() {
                Some(launcher) => RunError::LauncherMissing {
                    launcher: launcher.to_string_lossy().into_owned(),
                    source,
                },
                None => RunError::Spawn {
                    worker: slot,
                    program: self.command.display(),
                    source,
                },
            }
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
        let spawn_failed = |source| RunError::Spawn {
            worker: slot,
            program: "a reader thread".to_owned(),
            source,
        };
        let stderr_thread = thread::Builder::new()
            .name(format!("quack-stderr-{slot}"))
            .spawn(move || {
                let mut reader = BufReader::new(stderr);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let text = String::from_utf8_lossy(&line);
                            let text = text.strip_suffix('\n').unwrap_or(&text);
                            send_output(Message::Output(text.to_owned()));
                        }
                    }
                }
            })
            .map_err(spawn_failed)?;
        let send_results = send.clone();
        let results_thread = thread::Builder::new()
            .name(format!("quack-results-{slot}"))
            .spawn(move || read_results(stdout, &send_results))
            .map_err(spawn_failed)?;
        thread::Builder::new()
            .name(format!("quack-reaper-{slot}"))
            .spawn(move || {
                // A worker is dead when its process is reaped, whoever still holds its pipes.
                let status = child.wait();
                // What it started goes with it (it leads its own process group)...
                // SAFETY: kill has no memory effects; the group is the worker's own.
                unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
                // ...and its last words and answers come before the news of its death, unless a
                // process that left its group keeps the pipes open: then not for long.
                let deadline = Instant::now() + PIPE_LINGER;
                for reader in [results_thread, stderr_thread] {
                    while !reader.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
                if let Ok(status) = status {
                    send(Message::Exited(status));
                }
            })
            .map_err(spawn_failed)?;
        let mut stdin = BufWriter::with_capacity(1 << 16, stdin);
        let start = ToWorker::Start {
            protocol: PROTOCOL_VERSION,
            worker: slot,
            plugin: self.plugin_path.clone(),
            sha256: self.sha256.clone(),
            stamp: self.stamp,
            config: self.context.config.clone(),
        };
        // A worker that died at once shows as its exit; the frame is lost with it.
        let _ = write_frame(&mut stdin, &start).and_then(|()| stdin.flush());
        Ok(Slot {
            generation,
            pid,
            stdin: Some(stdin),
            ready: false,
            alive: true,
            in_flight: VecDeque::new(),
            running_since: Instant::now(),
            stopping: None,
            unflushed: false,
            spawned: Instant::now(),
            recent: VecDeque::new(),
        })
    }

    /// Waits until the first worker has said hello (the others get tasks as they become ready);
    /// a worker that cannot load the plugin or make its instance ends the run with what it said.
    fn await_handshakes(
        &mut self,
        receiver: &Receiver<WorkerEvent>,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let limit = self.context.limits.start_timeout;
        let deadline = Instant::now() + limit;
        while !self.slots.iter().any(|slot| slot.ready) {
            let event = receiver.recv_deadline(deadline).map_err(|_| {
                let worker = self.slots.iter().position(|slot| !slot.ready).unwrap_or(0);
                let said = self.said(worker);
                self.start_failed_with(
                    worker,
                    format!("it did not start within {}{said}", human_duration(limit)),
                    "raise --start-timeout if it only waits its turn, or ask for less",
                )
            })?;
            let slot = event.slot;
            match event.message {
                Message::Hello(hello) => self.greet(slot, hello, outbox)?,
                Message::Fatal { stage, error } => return Err(fatal(slot, stage, error)),
                Message::NeedPlugin(reason) => self.ship(slot, &reason, outbox)?,
                Message::Shipped(stdin) => self.shipped(slot, stdin),
                Message::Output(line) => self.output(slot, line, outbox),
                Message::ProtocolError(reason) => {
                    return Err(self.start_failed(slot, reason));
                }
                Message::Exited(status) => {
                    self.slots[slot].alive = false;
                    let said = self.said(slot);
                    return Err(self.start_failed(
                        slot,
                        format!(
                            "it died before the handshake ({}){said}",
                            describe_exit(status)
                        ),
                    ));
                }
                Message::Done(_) => {}
            }
        }
        Ok(())
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

    /// The worker's last stderr lines, as the end of a reason: `, saying: ...`; nothing if it
    /// said nothing.
    fn said(&self, index: usize) -> String {
        let Some(slot) = self.slots.get(index) else {
            return String::new();
        };
        if slot.recent.is_empty() {
            return String::new();
        }
        let lines: Vec<&str> = slot.recent.iter().map(String::as_str).collect();
        format!(", saying: {}", lines.join(" / "))
    }

    /// A line a worker wrote on stderr: reported, and kept for a reason.
    fn output(&mut self, index: usize, line: String, outbox: &mut Outbox<'_>) {
        let recent = &mut self.slots[index].recent;
        if recent.len() == RECENT_LINES {
            recent.pop_front();
        }
        recent.push_back(line.clone());
        outbox.output(index, line);
    }

    /// Sends the plugin's bytes to a worker that asked for them: the very file the host loaded
    /// (a file changed since is refused, not sent).
    fn ship(
        &mut self,
        index: usize,
        reason: &str,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let bytes = match &self.plugin_bytes {
            Some(bytes) => Arc::clone(bytes),
            None => {
                let changed = |reason: String| RunError::PluginChanged {
                    path: self.plugin_path.clone(),
                    reason,
                };
                let mut bytes = Vec::new();
                let read = match &mut self.plugin_file {
                    Some(file) => std::io::Read::read_to_end(file, &mut bytes).map(|_| ()),
                    None => std::fs::read(&self.plugin_path).map(|read| bytes = read),
                };
                read.map_err(|error| changed(format!("it cannot be read ({error})")))?;
                let hash = crate::loader::sha256_hex(&bytes);
                match &self.sha256 {
                    Some(announced) if *announced != hash => {
                        return Err(changed("its content is not what was loaded".to_owned()));
                    }
                    Some(_) => {}
                    None => {
                        // Hashed only now: the bytes must be those of the file stamped at the
                        // start (the file opened then, unchanged since).
                        let now = self
                            .plugin_file
                            .as_ref()
                            .and_then(|file| file.metadata().ok())
                            .map(|metadata| FileStamp::of_metadata(&metadata));
                        let unchanged = match (now, self.stamp) {
                            (Some(now), Some(then)) => now.same_content(&then),
                            _ => false,
                        };
                        if !unchanged {
                            return Err(changed("it changed since the run started".to_owned()));
                        }
                        self.sha256 = Some(hash);
                    }
                }
                let bytes = Arc::new(bytes);
                self.plugin_bytes = Some(Arc::clone(&bytes));
                bytes
            }
        };
        outbox.output(
            index,
            format!(
                "{reason}: the host sends the plugin ({} bytes)",
                bytes.len()
            ),
        );
        // Sent from a thread of its own: the main thread goes on with the other workers (and
        // their deadlines), and many workers get the plugin at once. Until the worker has said
        // hello it gets no tasks, so nothing else writes to its stdin meanwhile.
        let Some(mut stdin) = self.slots[index].stdin.take() else {
            return Ok(());
        };
        let events = self.events.clone();
        let generation = self.slots[index].generation;
        let sha256 = self.sha256.clone().unwrap_or_default();
        thread::Builder::new()
            .name(format!("quack-ship-{index}"))
            .spawn(move || {
                let size = bytes.len() as u64;
                let sent = write_frame(&mut stdin, &ToWorker::Plugin { size, sha256 })
                    .and_then(|()| {
                        bytes
                            .chunks(PLUGIN_CHUNK)
                            .try_for_each(|chunk| write_raw_frame(&mut stdin, chunk))
                    })
                    .and_then(|()| stdin.flush());
                let _ = events.send(WorkerEvent {
                    slot: index,
                    generation,
                    message: Message::Shipped(sent.is_ok().then_some(stdin)),
                });
            })
            .map_err(|source| RunError::Spawn {
                worker: index,
                program: "a thread to send the plugin".to_owned(),
                source,
            })?;
        Ok(())
    }

    /// The plugin went to a worker: its stdin is the runner's again; if it could not be sent,
    /// the worker is gone or going, and its exit says how.
    fn shipped(&mut self, index: usize, stdin: Option<BufWriter<ChildStdin>>) {
        let slot = &mut self.slots[index];
        match stdin {
            Some(stdin) => slot.stdin = Some(stdin),
            None => slot.stop(StopReason::Broken),
        }
    }

    /// Takes a worker's hello: it must speak this protocol and have loaded the very plugin the
    /// host loaded (name, version and the file's content).
    fn greet(
        &mut self,
        slot: usize,
        hello: Hello,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        if hello.protocol != PROTOCOL_VERSION {
            return Err(RunError::WorkerFailed {
                worker: slot,
                reason: format!(
                    "it speaks worker protocol {}, this host {PROTOCOL_VERSION}",
                    hello.protocol
                ),
            });
        }
        let description = &self.context.plugin.description;
        // A worker that loaded the very file the host stamped has no hash to tell; one that
        // checked a hash tells it, and it must be the host's (hashed now if it was not yet).
        let hashes = match &hello.sha256 {
            Some(theirs) => {
                let ours = self
                    .sha256
                    .get_or_insert_with(|| self.context.plugin.content().sha256.clone());
                Some((theirs.clone(), ours.clone()))
            }
            None => None,
        };
        let identity = |name: &str, version: &str, hash: Option<&String>| match hash {
            Some(hash) => format!("{name} {version} (sha256 {hash})"),
            None => format!("{name} {version}"),
        };
        let theirs = identity(
            &hello.name,
            &hello.version,
            hashes.as_ref().map(|(theirs, _)| theirs),
        );
        let ours = identity(
            &description.name,
            &description.version,
            hashes.as_ref().map(|(_, ours)| ours),
        );
        if theirs != ours {
            return Err(RunError::WrongPlugin {
                worker: slot,
                node: hello.node,
                theirs,
                ours,
            });
        }
        self.slots[slot].ready = true;
        self.failed_starts = 0;
        outbox.emit(EventKind::WorkerStarted {
            worker: slot,
            pid: hello.pid,
            node: hello.node,
        });
        Ok(())
    }

    /// Hands out tasks and handles what workers say until every task is done (`None`) or the
    /// run is interrupted (`Some`).
    fn main_loop(
        &mut self,
        pending: &mut Pending<'_>,
        receiver: &Receiver<WorkerEvent>,
        outbox: &mut Outbox<'_>,
        workers: usize,
    ) -> Result<Option<Stop>, RunError> {
        loop {
            if let Some(stop) = self.context.stop_requested() {
                return Ok(Some(stop));
            }
            self.dispatch(pending, outbox);
            if self.slots.len() < workers {
                self.spawn_the_rest(workers)?;
            }
            if pending.is_exhausted() && self.slots.iter().all(|slot| slot.in_flight.is_empty()) {
                return Ok(None);
            }
            outbox.idle();
            let wait = wait_time(self.next_deadline());
            if wait_ready(&[receiver], pending.input_readiness(), wait).is_some() {
                while let Ok(event) = receiver.try_recv() {
                    self.handle(event, pending, outbox)?;
                }
            }
            self.enforce_deadlines();
        }
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
                let written = match slot.stdin.as_mut() {
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
                if let Some(stdin) = slot.stdin.as_mut() {
                    if stdin.flush().is_err() {
                        slot.stop(StopReason::Broken);
                    }
                }
            }
        }
        outbox.thaw();
    }

    fn handle(
        &mut self,
        event: WorkerEvent,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let index = event.slot;
        if self.slots[index].generation != event.generation {
            // A late word from a worker that was already replaced.
            if let Message::Output(line) = event.message {
                outbox.output(index, line);
            }
            return Ok(());
        }
        match event.message {
            Message::Done(batch) => {
                // One clock read for the batch's events.
                outbox.freeze();
                for done in batch {
                    self.finish(index, done, outbox);
                }
                outbox.thaw();
            }
            Message::Output(line) => self.output(index, line, outbox),
            Message::NeedPlugin(reason) => self.ship(index, &reason, outbox)?,
            Message::Shipped(stdin) => self.shipped(index, stdin),
            Message::Hello(hello) => self.greet(index, hello, outbox)?,
            Message::Fatal { stage, error } if self.slots[index].generation == 0 => {
                return Err(fatal(index, stage, error));
            }
            Message::Fatal { error, .. } => {
                return Err(RunError::Replacement {
                    worker: index,
                    reason: error,
                });
            }
            Message::ProtocolError(reason) => {
                outbox.output(index, format!("protocol error: {reason}"));
                self.slots[index].stop(StopReason::Broken);
            }
            Message::Exited(status) => self.bury(index, status, pending, outbox)?,
        }
        Ok(())
    }

    /// Records one answered task.
    fn finish(&mut self, index: usize, done: Done, outbox: &mut Outbox<'_>) {
        let origin = outbox.origin();
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
        // Through a launcher, its last words say what happened (`srun: error: ...: Killed`).
        let said = if self.command.has_launcher() {
            self.said(index)
        } else {
            String::new()
        };
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
            Some(StopReason::Slow) => (
                Status::Crashed,
                format!(
                    "worker {index} did not start within {}{said}",
                    human_duration(limits.start_timeout)
                ),
            ),
            Some(StopReason::Broken) | None => {
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
        let generation = self.slots[index].generation + 1;
        self.slots[index] =
            self.spawn(index, generation)
                .map_err(|error| RunError::Replacement {
                    worker: index,
                    reason: error.to_string(),
                })?;
        outbox.replaced(index, error);
        Ok(())
    }

    /// The earliest moment something must be checked: a task's time limit or a kill's grace.
    fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.context.limits.timeout;
        self.slots
            .iter()
            .filter_map(|slot| match &slot.stopping {
                Some(stopping) if !stopping.killed => Some(stopping.since + GRACE),
                Some(_) => None,
                None if !slot.ready && slot.alive => {
                    slot.spawned.checked_add(self.context.limits.start_timeout)
                }
                None if slot.in_flight.is_empty() => None,
                None => timeout.and_then(|limit| slot.running_since.checked_add(limit)),
            })
            .min()
    }

    /// Stops workers whose running task is past its limit, and kills those past their grace.
    fn enforce_deadlines(&mut self) {
        let now = Instant::now();
        let timeout = self.context.limits.timeout;
        let start_timeout = self.context.limits.start_timeout;
        let past =
            |since: Instant, limit: Duration| since.checked_add(limit).is_some_and(|at| now >= at);
        for slot in &mut self.slots {
            match &mut slot.stopping {
                Some(stopping) if !stopping.killed && now >= stopping.since + GRACE => {
                    stopping.killed = true;
                    slot.signal(libc::SIGKILL);
                }
                Some(_) => {}
                None if !slot.ready => {
                    if slot.alive && past(slot.spawned, start_timeout) {
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
        for slot in &mut self.slots {
            slot.stdin = None;
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
                Message::Output(line) => outbox.output(slot, line),
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
            Ok(FromWorker::Hello(hello)) => send(Message::Hello(hello)),
            Ok(FromWorker::Fatal { stage, error }) => send(Message::Fatal { stage, error }),
            Ok(FromWorker::NeedPlugin { reason }) => send(Message::NeedPlugin(reason)),
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

fn fatal(worker: usize, stage: FatalStage, error: String) -> RunError {
    match stage {
        FatalStage::Config => RunError::Instance(quack_core::PluginError::new(
            quack_core::ErrorKind::InvalidInput,
            error,
        )),
        FatalStage::Instance => RunError::Instance(quack_core::PluginError::new(
            quack_core::ErrorKind::Failed,
            error,
        )),
        FatalStage::Start | FatalStage::Load => RunError::WorkerFailed {
            worker,
            reason: error,
        },
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
